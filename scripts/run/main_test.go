package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/passwords"
)

// make run prints a sign-in line that works: for an admin that already
// exists it shows a password only once it has proven it is the admin's, and
// otherwise says plainly that the existing password was kept.
func TestTheSignInLineWorks(t *testing.T) {
	client, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{config.EnvTableName: table, config.EnvDynamoDBEndpoint: dynamotest.Endpoint(t)}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fast := passwords.Params{MemoryKiB: 64, Time: 1, Threads: 1}
	a.Users.Params, a.Auth.Params = fast, fast
	ctx := context.Background()

	t.Setenv("ADMIN_PASSWORD", "the first password of the admin")
	pw, note, err := seedAdmin(ctx, a, "admin@example.com", true)
	if err != nil || pw != "the first password of the admin" || !strings.Contains(note, "new admin") {
		t.Fatalf("first run: %q %q %v", pw, note, err)
	}
	t.Setenv("ADMIN_PASSWORD", "another password entirely")
	pw, note, err = seedAdmin(ctx, a, "admin@example.com", true)
	if err != nil || pw == "another password entirely" || !strings.Contains(note, "ADMIN_PASSWORD is not it") {
		t.Fatalf("a different ADMIN_PASSWORD: %q %q %v", pw, note, err)
	}
	t.Setenv("ADMIN_PASSWORD", "the first password of the admin")
	pw, note, err = seedAdmin(ctx, a, "admin@example.com", true)
	if err != nil || pw != "the first password of the admin" || !strings.Contains(note, "already existed") {
		t.Fatalf("the right ADMIN_PASSWORD: %q %q %v", pw, note, err)
	}

	// The seeded admin's times have at most milliseconds, as stored.
	out, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "USERS"}},
	})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("%v %d", err, len(out.Items))
	}
	ms := regexp.MustCompile(`\.\d{3}000000Z$`)
	for _, attr := range []string{"created_at", "updated_at"} {
		v := out.Items[0][attr].(*types.AttributeValueMemberS).Value
		if !ms.MatchString(v) {
			t.Errorf("%s = %s: more than milliseconds", attr, v)
		}
	}
}
