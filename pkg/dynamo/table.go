package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/schema"
)

// CreateTableInput is the table of pkg/schema as a CreateTable request: the
// same definition the CDK stack deploys, on-demand, every index projecting all
// attributes, with a stream of new images (what the stream jobs read).
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	var defs []types.AttributeDefinition
	for _, a := range schema.KeyAttributes() {
		defs = append(defs, types.AttributeDefinition{AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS})
	}
	var gsis []types.GlobalSecondaryIndex
	for _, ix := range schema.Indexes {
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: defs,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(schema.PK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(schema.SK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: gsis,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(schema.StreamView),
		},
	}
}

// EnsureTable creates the table if it does not exist, waits until it is
// active, turns on its TTL and prepares it (PrepareTable). With stream, the
// table has the stream the stack deploys, which the stream jobs read: make
// run's does. Without, it has none: DynamoDB Local's writes slow down with
// every stream record it keeps (across all its tables, for a day: measured,
// three times slower after a few thousand), so a table whose stream no one
// reads (the bench's, most tests') goes without. An existing table keeps
// its data; its stream is turned on if stream is set and it has none, and
// it is prepared if it was not.
func EnsureTable(ctx context.Context, client *dynamodb.Client, name string, stream bool) error {
	in := CreateTableInput(name)
	if !stream {
		in.StreamSpecification = nil
	}
	_, err := client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		if stream {
			if err := ensureStream(ctx, client, name); err != nil {
				return err
			}
		}
		return PrepareTable(ctx, client, name)
	case err != nil:
		return fmt.Errorf("dynamo: create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("dynamo: wait for table %s: %w", name, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(schema.TTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamo: enable ttl on %s: %w", name, err)
	}
	return PrepareTable(ctx, client, name)
}

// ensureStream turns on the stream of an existing table that has none.
func ensureStream(ctx context.Context, client *dynamodb.Client, name string) error {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("dynamo: describe table %s: %w", name, err)
	}
	if sp := out.Table.StreamSpecification; sp != nil && aws.ToBool(sp.StreamEnabled) {
		return nil
	}
	_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), StreamSpecification: CreateTableInput(name).StreamSpecification})
	if err != nil {
		return fmt.Errorf("dynamo: turn on the stream of %s: %w", name, err)
	}
	return nil
}
