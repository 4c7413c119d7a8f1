package dynamotest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/access"
)

// Fault is what a faulty DynamoDB does to one HTTP exchange.
type Fault int

const (
	// Throttled answers 400 ThrottlingException, as on-demand capacity
	// scaling up does.
	Throttled Fault = iota
	// OverThroughput answers 400 ProvisionedThroughputExceededException,
	// as a hot partition does.
	OverThroughput
	// ServerError answers 500 InternalServerError.
	ServerError
	// Unavailable answers 503 ServiceUnavailable.
	Unavailable
	// Hang never answers: the call waits until its context ends (a
	// request's deadline, a Lambda's timeout).
	Hang
	// LostAnswer lets the request reach DynamoDB, which applies it, and
	// then breaks the connection before its answer arrives.
	LostAnswer
)

// Faults sit between the DynamoDB client and DynamoDB Local, below the
// SDK's retries, and spoil chosen exchanges on the wire: the SDK's retry,
// error decoding and the store's translation all see what a failing
// DynamoDB would send. Install with Wrap; a fault applies to calls of one
// operation made for one function (a route or job name), counted from the
// moment it is injected.
type Faults struct {
	mu   sync.Mutex
	list []*fault
}

type fault struct {
	function, op string
	// skip is how many matching calls pass before the fault starts;
	// times how many it spoils then (-1: all).
	skip, times int
	kind        Fault
	hit         int
}

// Inject spoils times calls (every call from then on when times is -1) of
// op ("TransactWriteItems", or "" for any) made for function, after letting
// skip of them pass. A call retried by the SDK counts again.
func (f *Faults) Inject(function, op string, kind Fault, skip, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, &fault{function: function, op: op, kind: kind, skip: skip, times: times})
}

// Clear removes every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = nil
}

// Hits reports how many calls the faults have spoiled.
func (f *Faults) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, k := range f.list {
		n += k.hit
	}
	return n
}

// Wrap installs the faults on a client's options: use it in the function
// given to app.WithDynamoDBOptions, after any other HTTP client is set.
func (f *Faults) Wrap(o *dynamodb.Options) {
	o.HTTPClient = &faultyClient{next: o.HTTPClient, f: f}
}

func (f *Faults) take(function, op string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.list {
		if k.function != function || (k.op != "" && k.op != op) {
			continue
		}
		if k.skip > 0 {
			k.skip--
			continue
		}
		if k.times == 0 {
			continue
		}
		if k.times > 0 {
			k.times--
		}
		k.hit++
		return k.kind, true
	}
	return 0, false
}

type faultyClient struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	f *Faults
}

func (c *faultyClient) Do(req *http.Request) (*http.Response, error) {
	fn := access.RequestFrom(req.Context()).Route
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	kind, spoil := Fault(0), false
	if fn != "" {
		kind, spoil = c.f.take(fn, op)
	}
	if !spoil {
		return c.next.Do(req)
	}
	switch kind {
	case Throttled:
		return errorResponse(req, 400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."), nil
	case OverThroughput:
		return errorResponse(req, 400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded."), nil
	case ServerError:
		return errorResponse(req, 500, "InternalServerError", "Internal server error"), nil
	case Unavailable:
		return errorResponse(req, 503, "ServiceUnavailable", "Service unavailable"), nil
	case Hang:
		<-req.Context().Done()
		return nil, req.Context().Err()
	case LostAnswer:
		res, err := c.next.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return nil, &lostAnswer{}
	}
	return nil, fmt.Errorf("dynamotest: unknown fault %d", kind)
}

// lostAnswer is the error of a connection reset while reading an answer:
// the SDK retries it as a broken connection.
type lostAnswer struct{}

func (*lostAnswer) Error() string {
	return "read tcp: connection reset by peer (injected: the answer was lost)"
}
func (*lostAnswer) Temporary() bool { return true }
func (*lostAnswer) Timeout() bool   { return false }
func (*lostAnswer) Unwrap() error   { return errors.New("connection reset by peer") }

// errorResponse is DynamoDB's JSON error answer.
func errorResponse(req *http.Request, status int, code, message string) *http.Response {
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, message)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "INJECTEDFAULT")
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader([]byte(body))), ContentLength: int64(len(body)), Request: req,
	}
}
