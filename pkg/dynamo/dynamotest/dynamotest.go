// Package dynamotest gives tests a fresh, real table in DynamoDB Local.
//
// Tests that touch storage run against DynamoDB Local because conditions and
// transactions are exactly what must be tested. The endpoint comes from
// DYNAMODB_ENDPOINT, which `make test` sets after starting DynamoDB Local; a
// test run without it fails rather than skips, so a green run always means
// the storage tests ran.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/dynamo"
)

var (
	clientOnce sync.Once
	client     *dynamodb.Client
	clientErr  error
)

// Endpoint returns DYNAMODB_ENDPOINT or fails the test.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv(config.EnvDynamoDBEndpoint)
	if ep == "" {
		tb.Fatalf("%s is not set: run the tests with `make test`, which starts DynamoDB Local, "+
			"or start it yourself and export %s", config.EnvDynamoDBEndpoint, config.EnvDynamoDBEndpoint)
	}
	return ep
}

// Client returns a client for DynamoDB Local, shared by the tests of a package.
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	ep := Endpoint(tb)
	clientOnce.Do(func() {
		client, clientErr = dynamo.NewClient(context.Background(), "us-east-1", ep)
	})
	if clientErr != nil {
		tb.Fatalf("dynamotest: %v", clientErr)
	}
	return client
}

// NewTable creates a fresh table with the production schema but no stream
// (see dynamo.EnsureTable: streams slow DynamoDB Local down) and deletes it
// when the test ends. It returns the client and the table's name.
func NewTable(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	return newTable(tb, false)
}

// NewTableWithStream is NewTable with the table's stream, for the tests
// whose stream jobs run (pkg/localstream reads it).
func NewTableWithStream(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	return newTable(tb, true)
}

func newTable(tb testing.TB, stream bool) (*dynamodb.Client, string) {
	tb.Helper()
	c := Client(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamo.EnsureTable(ctx, c, name, stream); err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return c, name
}
