package localstream_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/localstream"
	"github.com/usermgmt/ums/pkg/routes"
)

// A job sees exactly the records its stream matches (insertions under its
// prefix), each once, in the order they were written, including those
// written just before the drain; a record it fails comes back first at the
// next poll, with those after it.
func TestDrainHandsEachMatchedRecordOnceInOrder(t *testing.T) {
	client, table := dynamotest.NewTableWithStream(t)
	ctx := context.Background()
	var seen []string
	failOn := ""
	job := &localstream.Job{Name: "test", Stream: routes.Stream{KeyPrefix: "OUTBOX#"},
		Handle: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			for _, rec := range ev.Records {
				pk := rec.Change.Keys["pk"].String()
				if pk == failOn {
					failOn = ""
					return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}}, nil
				}
				seen = append(seen, pk+"="+rec.Change.NewImage["v"].String())
			}
			return events.DynamoDBEventResponse{}, nil
		}}
	r, err := localstream.Open(ctx, os.Getenv(config.EnvDynamoDBEndpoint), "us-east-1", table, job)
	if err != nil {
		t.Fatal(err)
	}
	put := func(pk, v string) {
		t.Helper()
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "X"},
			"v": &types.AttributeValueMemberS{Value: v},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 25 {
		put(fmt.Sprintf("OUTBOX#%02d", i), "1")
		put(fmt.Sprintf("OTHER#%02d", i), "1")
	}
	put("OUTBOX#03", "2") // a change, not an insertion
	failOn = "OUTBOX#12"
	if err := r.Drain(ctx); err == nil {
		t.Fatal("a failed record was not reported")
	}
	if len(seen) != 12 {
		t.Fatalf("before the failure: %d records, want 12: %v", len(seen), seen)
	}
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 25 {
		t.Fatalf("%d records, want 25: %v", len(seen), seen)
	}
	for i, s := range seen {
		if want := fmt.Sprintf("OUTBOX#%02d=1", i); s != want {
			t.Fatalf("record %d is %s, want %s", i, s, want)
		}
	}
	put("OUTBOX#99", "1")
	if err := r.Drain(ctx); err != nil || len(seen) != 26 || seen[25] != "OUTBOX#99=1" {
		t.Fatalf("a record written after a drain: %v, %v", err, seen[len(seen)-1])
	}
	if err := r.Drain(ctx); err != nil || len(seen) != 26 {
		t.Fatalf("a drain with nothing new handed on %d", len(seen)-26)
	}
}
