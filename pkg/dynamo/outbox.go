package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/outbox"
	"github.com/usermgmt/ums/pkg/schema"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// outboxItem is a mail queued to be sent after its request has answered:
// the table's stream hands its insertion to the send-mail job. It names a
// user, never an address; it goes when sent, or with its TTL a day after
// the stream stopped offering it.
type outboxItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Kind      string `dynamodbav:"kind"`
	UserID    string `dynamodbav:"user_id"`
	UserGen   int    `dynamodbav:"user_gen"`
	At        string `dynamodbav:"at"`
	RequestID string `dynamodbav:"request_id"`
	TTL       int64  `dynamodbav:"ttl"`
}

// queue adds the message to the transaction.
func (t *txn) queue(m outbox.Message) {
	k := outboxKey(m.ID)
	t.put(marshal(outboxItem{PK: k.pk, SK: k.sk, Kind: string(m.Kind), UserID: m.UserID, UserGen: m.UserGen, At: fmtTime(m.At),
		RequestID: m.RequestID, TTL: m.At.Add(48 * time.Hour).Unix()}), "", onFail{})
}

// Message returns the message a stream record's new image holds, or false
// for an image of any other item.
func Message(image map[string]events.DynamoDBAttributeValue) (outbox.Message, bool) {
	attr := func(name string) string {
		if v, ok := image[name]; ok && v.DataType() == events.DataTypeString {
			return v.String()
		}
		return ""
	}
	gen := 0
	if v, ok := image["user_gen"]; ok && v.DataType() == events.DataTypeNumber {
		n, _ := v.Integer()
		gen = int(n)
	}
	id, ok := strings.CutPrefix(attr("pk"), schema.OutboxPartition)
	if !ok || id == "" || attr("sk") != outboxKey(id).sk {
		return outbox.Message{}, false
	}
	return outbox.Message{ID: id, Kind: outbox.Kind(attr("kind")), UserID: attr("user_id"), UserGen: gen, At: parseTime(attr("at")),
		RequestID: attr("request_id")}, true
}

// Image is the stream record's new image of the message's item, as the
// table's stream carries it: what Message reads back (for the bench and
// tests, which hand a stream job records without a stream).
func Image(m outbox.Message) map[string]events.DynamoDBAttributeValue {
	k := outboxKey(m.ID)
	return map[string]events.DynamoDBAttributeValue{
		"pk": events.NewStringAttribute(k.pk), "sk": events.NewStringAttribute(k.sk),
		"kind": events.NewStringAttribute(string(m.Kind)), "user_id": events.NewStringAttribute(m.UserID),
		"user_gen": events.NewNumberAttribute(fmt.Sprint(m.UserGen)), "at": events.NewStringAttribute(fmtTime(m.At)),
		"request_id": events.NewStringAttribute(m.RequestID),
	}
}

// Queued reads, in one round trip, whether the message is still queued,
// the user it names (nil if gone) and the settings.
func (s *Store) Queued(ctx context.Context, m outbox.Message) (bool, *users.User, settings.Settings, error) {
	mk, uk := outboxKey(m.ID), userKey(m.UserID)
	found, err := s.batchGet(ctx, mk, uk, metaKey())
	if err != nil {
		return false, nil, settings.Settings{}, err
	}
	st, _, _, err := decodeMeta(found[metaKey().id()])
	if err != nil {
		return false, nil, settings.Settings{}, err
	}
	var u *users.User
	if item := found[uk.id()]; item != nil {
		if u, err = decodeUser(item); err != nil {
			return false, nil, settings.Settings{}, err
		}
	}
	return found[mk.id()] != nil, u, st, nil
}

// Dequeue removes a message.
func (s *Store) Dequeue(ctx context.Context, id string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: outboxKey(id).av()})
	return translate(err)
}
