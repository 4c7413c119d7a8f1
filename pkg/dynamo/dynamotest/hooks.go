package dynamotest

import (
	"context"
	"sync"

	"github.com/aws/smithy-go/middleware"

	"github.com/usermgmt/ums/pkg/access"
)

// Hooks make a race happen at a chosen moment, deterministically: a hook
// runs once, just before the next DynamoDB call of one operation made for
// one function, and the call waits for it. A test can so make another
// request land between a route's read and its write, or refuse one call
// with an error as a throttled or failing DynamoDB would.
type Hooks struct {
	mu   sync.Mutex
	list []*hook
}

type hook struct {
	function, op string
	run          func(ctx context.Context) error
}

// Before runs fn once, before the next call of op (an operation name,
// "TransactWriteItems", or "" for any) made for function (a route or job
// name).
func (h *Hooks) Before(function, op string, fn func(ctx context.Context)) {
	h.add(&hook{function, op, func(ctx context.Context) error { fn(ctx); return nil }})
}

// Fail makes the next call of op made for function fail with err, without
// reaching DynamoDB.
func (h *Hooks) Fail(function, op string, err error) {
	h.add(&hook{function, op, func(context.Context) error { return err }})
}

// Pending reports how many hooks have not run yet.
func (h *Hooks) Pending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.list)
}

func (h *Hooks) add(k *hook) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.list = append(h.list, k)
}

// take removes and returns the first hook for the call, if any: a hook runs
// once, so a request its own code makes does not run it again.
func (h *Hooks) take(function, op string) *hook {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, k := range h.list {
		if k.function == function && (k.op == op || k.op == "") {
			h.list = append(h.list[:i], h.list[i+1:]...)
			return k
		}
	}
	return nil
}

// Middleware runs the hooks; add it to dynamodb.Options.APIOptions.
func (h *Hooks) Middleware(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("TestHooks",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if fn := access.RequestFrom(ctx).Route; fn != "" {
				if k := h.take(fn, middleware.GetOperationName(ctx)); k != nil {
					if err := k.run(ctx); err != nil {
						return middleware.InitializeOutput{}, middleware.Metadata{}, err
					}
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}
