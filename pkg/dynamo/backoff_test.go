package dynamo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/apperr"
)

// The tests of this file run the Store's own retries (a transaction that
// met another, items DynamoDB left unprocessed) against canned answers,
// without DynamoDB Local, and without waiting: the Store's sleep only
// notes the pauses it is asked for.

// cannedDynamo answers each call with answer(operation, n), n counting the
// calls of that operation from 1: a status and a JSON body.
type cannedDynamo struct {
	answer func(op string, n int) (int, string)

	mu    sync.Mutex
	calls map[string]int
}

func (c *cannedDynamo) Do(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
	n := c.calls[op]
	c.mu.Unlock()
	status, body := c.answer(op, n)
	return &http.Response{
		StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"canned"}},
		Body:          io.NopCloser(bytes.NewReader([]byte(body))),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

func (c *cannedDynamo) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// pauses is a sleep that waits for nothing and notes what it was asked to
// wait; err, if set, is what it returns instead (a context that ended
// during the pause).
type pauses struct {
	mu    sync.Mutex
	slept []time.Duration
	err   error
}

func (p *pauses) sleep(ctx context.Context, d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.slept = append(p.slept, d)
	return nil
}

func (p *pauses) all() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.slept...)
}

// cannedStore is a Store over the table "t" whose client gets c's answers,
// without the SDK's own retries, and whose pauses p notes.
func cannedStore(c *cannedDynamo) (*Store, *pauses) {
	client := dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		Credentials:                     credentials.NewStaticCredentialsProvider("id", "secret", ""),
		BaseEndpoint:                    aws.String("http://dynamodb.test"),
		HTTPClient:                      c,
		Retryer:                         aws.NopRetryer{},
		DisableValidateResponseChecksum: true,
	})
	p := &pauses{}
	s := New(client, "t")
	s.sleep = p.sleep
	return s, p
}

// conflict is DynamoDB's answer to a transaction that met another on its
// second item.
const conflict = `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",` +
	`"message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]",` +
	`"CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}`

// checkBackoff checks pauses doubling from first up to most, each jittered
// within half of it either way.
func checkBackoff(t *testing.T, slept []time.Duration, first, most time.Duration) {
	t.Helper()
	b := first
	for i, d := range slept {
		if d < b/2 || d >= b/2+b {
			t.Errorf("pause %d is %v, want within [%v, %v)", i+1, d, b/2, b/2+b)
		}
		b = min(2*b, most)
	}
}

func twoItems(s *Store) *txn {
	t := s.txn()
	t.putNew(key{"A", "x"}.av(), errors.New("A exists"))
	t.putNew(key{"B", "x"}.av(), errors.New("B exists"))
	return t
}

// A transaction cancelled only because another held one of its items is
// sent again after a growing, jittered pause, until it commits.
func TestTransactionConflictsAreRetried(t *testing.T) {
	c := &cannedDynamo{answer: func(_ string, n int) (int, string) {
		if n <= 3 {
			return 400, conflict
		}
		return 200, `{}`
	}}
	s, p := cannedStore(c)
	if err := twoItems(s).run(context.Background(), s.client); err != nil {
		t.Fatalf("after 3 conflicts: %v", err)
	}
	slept := p.all()
	if n := c.Calls("TransactWriteItems"); n != 4 || len(slept) != 3 {
		t.Fatalf("%d calls and %d pauses, want 4 and 3", n, len(slept))
	}
	checkBackoff(t, slept, 10*time.Millisecond, 400*time.Millisecond)
}

// Conflicts that never end give up after conflictRetries retries, as
// unavailable (retryable by the client); the pauses stop growing at 400 ms.
func TestEndlessTransactionConflictsGiveUp(t *testing.T) {
	c := &cannedDynamo{answer: func(string, int) (int, string) { return 400, conflict }}
	s, p := cannedStore(c)
	err := twoItems(s).run(context.Background(), s.client)
	if apperr.KindOf(err) != apperr.KindUnavailable {
		t.Fatalf("endless conflicts: %v, want unavailable", err)
	}
	slept := p.all()
	if n := c.Calls("TransactWriteItems"); n != conflictRetries+1 || len(slept) != conflictRetries {
		t.Fatalf("%d calls and %d pauses, want %d and %d", n, len(slept), conflictRetries+1, conflictRetries)
	}
	checkBackoff(t, slept, 10*time.Millisecond, 400*time.Millisecond)
}

// A deadline that passes during the pause ends the transaction there, as
// unavailable, without another call.
func TestTransactionStopsAtItsDeadline(t *testing.T) {
	c := &cannedDynamo{answer: func(string, int) (int, string) { return 400, conflict }}
	s, p := cannedStore(c)
	p.err = context.DeadlineExceeded
	err := twoItems(s).run(context.Background(), s.client)
	if apperr.KindOf(err) != apperr.KindUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a deadline during the pause: %v, want unavailable", err)
	}
	if n := c.Calls("TransactWriteItems"); n != 1 {
		t.Fatalf("%d calls after the deadline passed, want 1", n)
	}
}

// Keys BatchGetItem leaves unprocessed are asked for again, after a pause
// that doubles, until every one is read.
func TestBatchGetRetriesUnprocessedKeys(t *testing.T) {
	item := func(pk string) string { return `{"pk":{"S":"` + pk + `"},"sk":{"S":"x"}}` }
	c := &cannedDynamo{answer: func(_ string, n int) (int, string) {
		switch n {
		case 1:
			return 200, `{"Responses":{"t":[` + item("A") + `]},"UnprocessedKeys":{"t":{"Keys":[` + item("B") + `,` + item("C") + `],"ConsistentRead":true}}}`
		case 2:
			return 200, `{"Responses":{"t":[` + item("B") + `]},"UnprocessedKeys":{"t":{"Keys":[` + item("C") + `],"ConsistentRead":true}}}`
		default:
			return 200, `{"Responses":{"t":[` + item("C") + `]}}`
		}
	}}
	s, p := cannedStore(c)
	found, err := s.batchGet(context.Background(), key{"A", "x"}, key{"B", "x"}, key{"C", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 3 || found["A|x"] == nil || found["B|x"] == nil || found["C|x"] == nil {
		t.Fatalf("found %d of the 3 items", len(found))
	}
	slept := p.all()
	if n := c.Calls("BatchGetItem"); n != 3 || len(slept) != 2 || slept[0] != 10*time.Millisecond || slept[1] != 20*time.Millisecond {
		t.Fatalf("%d calls, pauses %v; want 3 calls with pauses of 10ms and 20ms", n, slept)
	}
}

// Items BatchWriteItem leaves unprocessed are written again, after a
// pause that doubles up to a second.
func TestPutBatchRetriesUnprocessedItems(t *testing.T) {
	const unprocessed = 8
	c := &cannedDynamo{answer: func(_ string, n int) (int, string) {
		if n <= unprocessed {
			return 200, `{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"A"},"sk":{"S":"x"}}}}]}}`
		}
		return 200, `{"UnprocessedItems":{}}`
	}}
	s, p := cannedStore(c)
	if err := s.putBatch(context.Background(), []map[string]types.AttributeValue{key{"A", "x"}.av(), key{"B", "x"}.av()}); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{10, 20, 40, 80, 160, 320, 640, 1000}
	slept := p.all()
	if n := c.Calls("BatchWriteItem"); n != unprocessed+1 || len(slept) != len(want) {
		t.Fatalf("%d calls, pauses %v; want %d calls", n, slept, unprocessed+1)
	}
	for i, d := range slept {
		if d != want[i]*time.Millisecond {
			t.Fatalf("pauses %v, want %v ms", slept, want)
		}
	}
}
