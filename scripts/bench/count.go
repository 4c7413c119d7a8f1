package main

import (
	"context"
	"net/http"
	"sync"

	"github.com/aws/smithy-go/middleware"
)

// calls records the operation name of every DynamoDB call.
type calls struct {
	mu  sync.Mutex
	ops []string
}

// middleware adds the recording step first in the Initialize phase, which
// runs once per call: retries happen later, in Finalize.
func (c *calls) middleware(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.ops = append(c.ops, middleware.GetOperationName(ctx))
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// take returns the calls recorded since the last take.
func (c *calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return ops
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
