package runtimeapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/email/emailtest"
	"github.com/usermgmt/ums/pkg/runtimeapi"
	"github.com/usermgmt/ums/pkg/users"
)

// functionEnv is the environment of a job's function against the local
// stack's table.
func functionEnv(tb testing.TB, name, table string, more ...string) []string {
	return append([]string{
		"AWS_LAMBDA_RUNTIME_API=", // set by startJob
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		"TABLE_NAME=" + table,
		"DYNAMODB_ENDPOINT=" + dynamotest.Endpoint(tb),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	}, more...)
}

// startJob builds and starts the named function against a Runtime API.
func startJob(tb testing.TB, name string, env []string) (*runtimeapi.Server, *function) {
	tb.Helper()
	bin := buildFunction(tb, root(tb), name)
	srv := newServer(tb, runtimeapi.WithFunctionName(name), runtimeapi.WithTimeout(2*time.Minute))
	env[0] = "AWS_LAMBDA_RUNTIME_API=" + srv.Addr()
	return srv, startFunction(tb, bin, env)
}

// TestSendMailIsAStreamFunction proves the send-mail binary takes a
// DynamoDB stream event (events/send-mail.json's shape) and sends the mail
// a record queues, once: the same record again (Lambda delivers a record
// at least once) sends nothing more.
func TestSendMailIsAStreamFunction(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root(t), "events", "send-mail.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) != 1 || ev.Records[0].EventName != "INSERT" {
		t.Fatalf("events/send-mail.json is not a stream event of one insertion: %v", err)
	}
	client, table := dynamotest.NewTable(t)
	store := users.NewService(dynamo.New(client, table))
	addr := emailtest.Address("stream", "example.com")
	now := time.Now().UTC()
	ctx := access.WithRequest(context.Background(), access.Request{ID: "test", Now: now})
	if _, err := store.SeedAdmin(ctx, addr, "a long enough passphrase"); err != nil {
		t.Fatal(err)
	}
	page, err := store.List(access.WithActor(ctx, access.Actor{Type: access.ActorSystem, Role: access.Admin}), users.ListQuery{Limit: 1})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("the seeded user: %v", err)
	}
	// The sample's message, queued now for that user.
	img := ev.Records[0].Change.NewImage
	img["user_id"] = events.NewStringAttribute(page.Items[0].ID)
	img["at"] = events.NewStringAttribute(now.Format("2006-01-02T15:04:05.000000000Z"))
	item := map[string]types.AttributeValue{}
	for k, v := range img {
		if v.DataType() == events.DataTypeNumber {
			item[k] = &types.AttributeValueMemberN{Value: v.Number()}
		} else {
			item[k] = &types.AttributeValueMemberS{Value: v.String()}
		}
	}
	if _, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	event, _ := json.Marshal(ev)

	srv, fn := startJob(t, "send-mail", functionEnv(t, "send-mail", table, "SES_ENDPOINT="+emailtest.Endpoint(t)))
	for _, round := range []string{"first", "again"} {
		resp, err := srv.Invoke(fn.ctx, event)
		if err != nil {
			t.Fatalf("%s: invoke: %v\n%s", round, err, fn.output())
		}
		var out events.DynamoDBEventResponse
		if err := json.Unmarshal(resp, &out); err != nil || len(out.BatchItemFailures) != 0 {
			t.Fatalf("%s: response %s (%v), want no failures", round, resp, err)
		}
		if ms := emailtest.To(t, emailtest.Endpoint(t), addr); len(ms) != 1 || ms[0].Subject != "Reset your password" {
			t.Fatalf("%s: mails %+v, want one reset link", round, ms)
		}
	}
}

// TestPrepareTableIsACustomResource proves the prepare-table binary takes a
// CloudFormation custom resource event (events/prepare-table.json), puts
// the cursor key in a table that has none, keeps one that exists, and
// answers CloudFormation at the event's URL.
func TestPrepareTableIsACustomResource(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root(t), "events", "prepare-table.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev cfn.Event
	if err := json.Unmarshal(raw, &ev); err != nil || ev.RequestType != cfn.RequestCreate {
		t.Fatalf("events/prepare-table.json is not a custom resource's Create: %v", err)
	}
	answers := make(chan cfn.Response, 4)
	cf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var resp cfn.Response
		if r.Method != http.MethodPut || json.Unmarshal(b, &resp) != nil {
			t.Errorf("CloudFormation got %s %s", r.Method, b)
		}
		answers <- resp
	}))
	defer cf.Close()
	ev.ResponseURL = cf.URL + "/response"

	client, table := dynamotest.NewTable(t)
	meta := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "META"}, "sk": &types.AttributeValueMemberS{Value: "META"}}
	keyOf := func() []byte {
		out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: meta, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if b, ok := out.Item["cursor_key"].(*types.AttributeValueMemberB); ok {
			return b.Value
		}
		return nil
	}
	// A table made before the key existed: none.
	if _, err := client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: meta,
		UpdateExpression: aws.String("REMOVE cursor_key")}); err != nil {
		t.Fatal(err)
	}
	event, _ := json.Marshal(ev)
	srv, fn := startJob(t, "prepare-table", functionEnv(t, "prepare-table", table))
	var first []byte
	for _, round := range []string{"first", "again"} {
		if _, err := srv.Invoke(fn.ctx, event); err != nil {
			t.Fatalf("%s: invoke: %v\n%s", round, err, fn.output())
		}
		select {
		case a := <-answers:
			if a.Status != cfn.StatusSuccess || a.PhysicalResourceID != "prepare-table" || a.RequestID != ev.RequestID {
				t.Fatalf("%s: CloudFormation was answered %+v", round, a)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: CloudFormation was not answered", round)
		}
		key := keyOf()
		if len(key) != 32 || (first != nil && string(key) != string(first)) {
			t.Fatalf("%s: cursor key of %d bytes (changed: %v)", round, len(key), first != nil && string(key) != string(first))
		}
		first = key
	}
	if strings.Contains(fn.output(), string(first)) {
		t.Fatal("the key reached the function's log")
	}
}
