package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/retry"
)

// Store satisfies every domain package's store interface over one table.
type Store struct {
	client *dynamodb.Client
	table  string
	// sleep waits out the pause before a retry (a transaction that met
	// another, items DynamoDB left unprocessed, a team deletion's next
	// round): retry.Sleep, which tests replace to retry without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a Store over the table, using client (built by pkg/app).
func New(client *dynamodb.Client, table string) *Store {
	return &Store{client: client, table: table, sleep: retry.Sleep}
}

// pause waits d before a retry, or until ctx ends: then it returns ctx's
// error at once.
func (s *Store) pause(ctx context.Context, d time.Duration) error {
	if s.sleep == nil {
		return retry.Sleep(ctx, d)
	}
	return s.sleep(ctx, d)
}

// get reads one item, strongly consistent; nil when it does not exist.
func (s *Store) get(ctx context.Context, k key) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: k.av(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err)
	}
	return out.Item, nil
}

// batchGet reads up to 100 items in one round trip, strongly consistent,
// retrying what DynamoDB left unprocessed. Missing items are absent from the
// result, which is keyed by pk+"|"+sk.
func (s *Store) batchGet(ctx context.Context, keys ...key) (map[string]map[string]types.AttributeValue, error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = k.av()
	}
	found := map[string]map[string]types.AttributeValue{}
	backoff := 10 * time.Millisecond
	for len(req) > 0 {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: req, ConsistentRead: aws.Bool(true)}},
		})
		if err != nil {
			return nil, translate(err)
		}
		for _, item := range out.Responses[s.table] {
			found[itemKey(item)] = item
		}
		req = out.UnprocessedKeys[s.table].Keys
		if len(req) > 0 {
			// A context that ended meanwhile fails the next call.
			_ = s.pause(ctx, backoff)
			backoff *= 2
		}
	}
	return found, nil
}

func itemKey(item map[string]types.AttributeValue) string {
	return stringAttr(item, "pk") + "|" + stringAttr(item, "sk")
}

func (k key) id() string { return k.pk + "|" + k.sk }

func marshal(v any) map[string]types.AttributeValue {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		// Our item structs always marshal; a failure is a programming error.
		panic(fmt.Sprintf("dynamo: marshal %T: %v", v, err))
	}
	return m
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	if err := attributevalue.UnmarshalMap(item, v); err != nil {
		return fmt.Errorf("dynamo: unmarshal %T: %w", v, err)
	}
	return nil
}

// parseTime reads a stored time; the zero time for "".
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func timePtr(s string) *time.Time {
	if s == "" {
		return nil
	}
	t := parseTime(s)
	return &t
}

// fmtTimeZero writes a time that may be zero ("never") as "".
func fmtTimeZero(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtTime(t)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

func derefStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
