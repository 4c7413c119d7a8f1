package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/usermgmt/ums/pkg/dynamo/capacity"
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
			capacity.Ask(in.Parameters)
			out, md, err := next.HandleInitialize(ctx, in)
			k.end = time.Now()
			if err == nil {
				k.rcu, k.wcu = capacity.Consumed(k.op, out.Result)
			}
			c.mu.Lock()
			c.list = append(c.list, k)
			c.mu.Unlock()
			return out, md, err
		}), middleware.Before)
}

// unitsOf sums the units of calls.
func unitsOf(l []call) (rcu, wcu float64) {
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
	// from, when set, is the source address every request comes from, in
	// place of the loopback one, as the gateway would set it.
	from atomic.Pointer[string]
	// cases counts the addresses caseAddress has given out.
	cases atomic.Uint32
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Add runs before the response is written, so before the client's Wait.
	s.running.Add(1)
	defer s.running.Done()
	if from := s.from.Load(); from != nil {
		r.RemoteAddr = *from
	}
	s.h.ServeHTTP(w, r)
}

// caseAddress makes the requests that follow come from an address no
// earlier case used, until the returned func restores the loopback one.
// Every failed sign-in or token use counts toward its source address's
// limit of auth.IPFailureLimit in a fixed window of auth.IPWindow; from one
// address, the failures of every case and table size would add up, and
// whether they reach the limit would depend on where the run falls in the
// window.
func (s *server) caseAddress() (restore func()) {
	n := s.cases.Add(1)
	from := net.JoinHostPort(fmt.Sprintf("10.%d.%d.%d", n>>16&0xff, n>>8&0xff, n&0xff), "0")
	s.from.Store(&from)
	return func() { s.from.Store(nil) }
}

func countOps(ops []string) map[string]int {
	m := map[string]int{}
	for _, op := range ops {
		m[op]++
	}
	return m
}
