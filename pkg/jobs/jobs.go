// Package jobs runs the scheduled functions: the EventBridge adapter that
// turns a scheduled event into one run of a job. A run takes "now" from the
// event's time (so a sample event with a future time exercises it locally),
// stops with time to spare before the function's deadline, and reports what
// it did; a job that left work says so, and its next run continues where it
// stopped, because a job only ever looks at what is due.
//
// It imports the standard library, aws-lambda-go's events, pkg/access and
// pkg/runtimeloop (Start's invocation loop).
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/runtimeloop"
)

// Report is what one run did: Lambda's result, and the run's log line.
type Report struct {
	Job string    `json:"job"`
	Now time.Time `json:"now"`
	// Done counts what the run changed (invitations expired, users purged).
	Done int `json:"done"`
	// More is set when the run stopped before its deadline with work left.
	More bool `json:"more"`
}

// Runner does what is due at access.RequestFrom(ctx).Now and stops before
// ctx's deadline; it fills in Done and More.
type Runner func(ctx context.Context, r *Report) error

// Margin is how long before the function's deadline a run stops: enough to
// finish the item in hand and report.
const Margin = 15 * time.Second

// Handler returns the Lambda handler of a job.
func Handler(name string, run Runner, log *slog.Logger, clock func() time.Time) func(context.Context, events.EventBridgeEvent) (Report, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (Report, error) {
		now := ev.Time
		if now.IsZero() {
			now = clock()
		}
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-min(Margin, time.Until(dl)/5)))
			defer cancel()
		}
		id := ev.ID
		if id == "" {
			id = fmt.Sprintf("%s-%d", name, now.UnixMilli())
		}
		ctx = access.WithRequest(ctx, access.Request{ID: id, Route: name, Now: now})
		rep := Report{Job: name, Now: access.RequestFrom(ctx).Now}
		began := time.Now()
		err := run(ctx, &rep)
		attrs := []any{slog.String("job", name), slog.String("request_id", id), slog.Time("now", rep.Now),
			slog.Int("done", rep.Done), slog.Bool("more", rep.More), slog.Int64("duration_ms", time.Since(began).Milliseconds())}
		if err != nil {
			log.Error("job failed", append(attrs, slog.String("error", err.Error()))...)
			return rep, fmt.Errorf("%s: %w", name, err)
		}
		log.Info("job", attrs...)
		return rep, nil
	}
}

// Start serves a job's handler as a Lambda function; it never returns.
func Start(h func(context.Context, events.EventBridgeEvent) (Report, error)) {
	runtimeloop.Start(runtimeloop.JSON(h))
}
