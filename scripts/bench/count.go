package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// call is one DynamoDB call: its operation, when it ran, and the read and
// write capacity units it consumed (as DynamoDB reports them when asked
// with ReturnConsumedCapacity).
type call struct {
	op         string
	start, end time.Time
	rcu, wcu   float64
}

// calls records every DynamoDB call.
type calls struct {
	mu   sync.Mutex
	list []call
}

// middleware adds the recording step first in the Initialize phase, which
// runs once per call: retries happen later, in Finalize, and are part of
// the call's time. It asks every call for the capacity it consumes.
func (c *calls) middleware(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			k := call{op: middleware.GetOperationName(ctx), start: time.Now()}
			askCapacity(in.Parameters)
			out, md, err := next.HandleInitialize(ctx, in)
			k.end = time.Now()
			if err == nil {
				k.rcu, k.wcu = consumed(k.op, out.Result)
			}
			c.mu.Lock()
			c.list = append(c.list, k)
			c.mu.Unlock()
			return out, md, err
		}), middleware.Before)
}

// askCapacity sets ReturnConsumedCapacity on a DynamoDB input.
func askCapacity(params any) {
	total := types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	}
}

// consumed is the read and write units a call's output reports: a read's
// units are read units, a write's write units, except where DynamoDB
// splits them (a transaction's condition checks read).
func consumed(op string, result any) (rcu, wcu float64) {
	var cs []types.ConsumedCapacity
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		cs = out.ConsumedCapacity
	case *dynamodb.QueryOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		cs = one(out.ConsumedCapacity)
	case *dynamodb.TransactWriteItemsOutput:
		cs = out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		cs = out.ConsumedCapacity
	}
	read := slices.Contains([]string{"GetItem", "BatchGetItem", "Query", "Scan"}, op)
	for _, c := range cs {
		r, w := aws.ToFloat64(c.ReadCapacityUnits), aws.ToFloat64(c.WriteCapacityUnits)
		switch {
		case r+w > 0:
			rcu, wcu = rcu+r, wcu+w
		case read:
			rcu += aws.ToFloat64(c.CapacityUnits)
		default:
			wcu += aws.ToFloat64(c.CapacityUnits)
		}
	}
	return rcu, wcu
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

// capacity sums the units of calls.
func capacity(l []call) (rcu, wcu float64) {
	for _, k := range l {
		rcu, wcu = rcu+k.rcu, wcu+k.wcu
	}
	return rcu, wcu
}

// take returns the calls recorded since the last take.
func (c *calls) take() []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.list
	c.list = nil
	return l
}

func ops(l []call) []string {
	out := make([]string, len(l))
	for i, k := range l {
		out[i] = k.op
	}
	return out
}

// waves is the number of round trips a request waited for one after the
// other: calls that overlap in time (issued together) count once. It is
// the request's latency in round trips.
func waves(l []call) int {
	l = slices.Clone(l)
	slices.SortFunc(l, func(a, b call) int { return a.start.Compare(b.start) })
	n := 0
	var end time.Time
	for _, k := range l {
		if n == 0 || !k.start.Before(end) {
			n++
			end = k.end
		} else if k.end.After(end) {
			end = k.end
		}
	}
	return n
}

// server is the dev server with a count of the requests it is handling, so
// that the bench can wait for a handler to return before reading its calls:
// a client has the whole response before the handler is done logging.
type server struct {
	h       http.Handler
	running sync.WaitGroup
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Add runs before the response is written, so before the client's Wait.
	s.running.Add(1)
	defer s.running.Done()
	s.h.ServeHTTP(w, r)
}

func countOps(ops []string) map[string]int {
	m := map[string]int{}
	for _, op := range ops {
		m[op]++
	}
	return m
}
