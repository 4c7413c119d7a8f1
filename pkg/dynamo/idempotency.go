package dynamo

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/idempotency"
)

type idempotencyItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	BodyHash string `dynamodbav:"body_hash"`
	Done     bool   `dynamodbav:"done"`
	Secret   bool   `dynamodbav:"secret,omitempty"`
	Status   int    `dynamodbav:"status,omitempty"`
	Header   string `dynamodbav:"header,omitempty"`
	Body     []byte `dynamodbav:"body,omitempty"`
	TTL      int64  `dynamodbav:"ttl"`
	// GSI5PK lists the answer under the user it shows (KEPT#USER#<id>),
	// so that forgetting the user removes it.
	GSI5PK string `dynamodbav:"gsi5pk,omitempty"`
	GSI5SK string `dynamodbav:"gsi5sk,omitempty"`
}

// GetIdempotency returns the record of a key, or nil.
func (s *Store) GetIdempotency(ctx context.Context, key string) (*idempotency.Record, error) {
	item, err := s.get(ctx, idempotencyKey(key))
	if err != nil || item == nil {
		return nil, err
	}
	var it idempotencyItem
	if err := unmarshal(item, &it); err != nil {
		return nil, err
	}
	rec := &idempotency.Record{BodyHash: it.BodyHash, Done: it.Done, Secret: it.Secret, Status: it.Status, Body: it.Body, Header: http.Header{}}
	if it.Header != "" {
		_ = json.Unmarshal([]byte(it.Header), &rec.Header)
	}
	return rec, nil
}

// SaveIdempotency attaches the response to a key: to the record the request's
// transaction wrote, or, for a request that changed nothing, a new one. A
// secret response keeps only its status.
func (s *Store) SaveIdempotency(ctx context.Context, c *idempotency.Claim, status int, header http.Header, body []byte, secret bool, subject string) error {
	h, _ := json.Marshal(header)
	if secret {
		h, body = nil, nil
	}
	t := s.txn()
	k := idempotencyKey(c.Key)
	if c.Committed() {
		e := newExpr()
		e.set("done", &types.AttributeValueMemberBOOL{Value: true}).set("status", num(status))
		if secret {
			e.set("secret", &types.AttributeValueMemberBOOL{Value: true})
		} else {
			e.set("header", str(string(h)))
			if subject != "" {
				e.set("gsi5pk", str(gsiKeptFor(subject))).set("gsi5sk", str(k.pk))
			}
			// A 204 has no body, and DynamoDB takes no empty value.
			if len(body) > 0 {
				e.set("body", &types.AttributeValueMemberB{Value: body})
			}
		}
		e.where("attribute_exists(pk)")
		t.update(k, e.build(), failWith(idempotency.ErrInFlight))
	} else {
		t.putNew(marshal(idempotencyItem{
			PK: k.pk, SK: k.sk, BodyHash: c.BodyHash, Done: true, Secret: secret, Status: status,
			Header: string(h), Body: body, TTL: c.At.Add(idempotency.TTL).Unix(), GSI5PK: kept(subject), GSI5SK: keptSort(subject, k),
		}), idempotency.ErrInFlight)
	}
	return t.run(ctx, s.client)
}

// claim adds the request's idempotency record to a transaction that
// changes something (it has an audit event), unless an earlier transaction
// of the request committed it; it returns the claim, for run to mark
// committed once the transaction is. The record goes first: when a racing
// retry committed the same change, the key's failed condition is the one
// reported (and the retry gets the first response), not the conditions of
// the change itself (email_taken, ...).
func (t *txn) claim(ctx context.Context) *idempotency.Claim {
	c := idempotency.ClaimFrom(ctx)
	if c == nil || !t.changes || c.Committed() {
		return nil
	}
	k := idempotencyKey(c.Key)
	t.putNew(marshal(idempotencyItem{
		PK: k.pk, SK: k.sk, BodyHash: c.BodyHash, TTL: c.At.Add(idempotency.TTL).Unix(),
	}), idempotency.ErrInFlight)
	last := len(t.items) - 1
	t.items = append([]types.TransactWriteItem{t.items[last]}, t.items[:last]...)
	t.fails = append([]onFail{t.fails[last]}, t.fails[:last]...)
	return c
}

// kept and keptSort are the index keys of an answer that shows subject (a
// user id), or none.
func kept(subject string) string {
	if subject == "" {
		return ""
	}
	return gsiKeptFor(subject)
}

func keptSort(subject string, k key) string {
	if subject == "" {
		return ""
	}
	return k.pk
}
