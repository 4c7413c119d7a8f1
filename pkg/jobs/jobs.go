// Package jobs runs the functions no route calls: the EventBridge adapter
// that turns a scheduled event into one run of a job, the stream adapter
// that hands a batch of the table's stream records to a job one by one, and
// the run of a job at deployment. A scheduled run takes "now" from the
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

	"github.com/aws/aws-lambda-go/cfn"
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

// StreamHandler returns the Lambda handler of a stream job: each record of
// the batch, in order, is handed to do, at the clock's time. The first
// record do fails is reported as the batch's failure (Lambda's
// ReportBatchItemFailures), and the records after it are not tried: Lambda
// delivers the batch again from that record, so the records of a shard are
// done in order, each at least once (do must take a record twice).
func StreamHandler(name string, do func(context.Context, events.DynamoDBEventRecord) error, log *slog.Logger,
	clock func() time.Time) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		began := time.Now()
		done := 0
		for _, rec := range ev.Records {
			rctx := access.WithRequest(ctx, access.Request{ID: rec.EventID, Route: name, Now: clock()})
			if err := do(rctx, rec); err != nil {
				log.Error("stream record failed", slog.String("job", name), slog.String("request_id", rec.EventID),
					slog.String("sequence_number", rec.Change.SequenceNumber), slog.String("error", err.Error()))
				resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
				break
			}
			done++
		}
		log.Info("job", slog.String("job", name), slog.Int("records", len(ev.Records)), slog.Int("done", done),
			slog.Bool("failed", len(resp.BatchItemFailures) > 0), slog.Int64("duration_ms", time.Since(began).Milliseconds()))
		return resp, nil
	}
}

// StartStream serves a stream job's handler as a Lambda function; it never
// returns.
func StartStream(h func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)) {
	runtimeloop.Start(runtimeloop.JSON(h))
}

// DeployHandler returns the Lambda handler of a job run when the stack is
// deployed: the function behind a CloudFormation custom resource, which
// runs the job at its creation (and at an update, should its properties
// ever change), and answers
// CloudFormation (at the event's pre-signed URL) whether it succeeded: a
// failed run fails the deployment. Deleting the resource (deleting the
// stack) runs nothing: the table outlives the stack.
func DeployHandler(name string, run Runner, log *slog.Logger, clock func() time.Time) func(context.Context, cfn.Event) (string, error) {
	h := Handler(name, run, log, clock)
	return cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		if ev.RequestType != cfn.RequestDelete {
			if _, err := h(ctx, events.EventBridgeEvent{ID: ev.RequestID}); err != nil {
				return name, nil, err
			}
		}
		return name, nil, nil
	})
}

// StartOnDeploy serves a deploy job's handler as a Lambda function; it
// never returns.
func StartOnDeploy(h func(context.Context, cfn.Event) (string, error)) {
	runtimeloop.Start(runtimeloop.JSON(h))
}
