package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/outbox"
	"github.com/usermgmt/ums/pkg/routes"
)

// sendMailJob measures the send-mail job over n queued reset links, each
// of a user of its own, handed to the job in the stream's batches: its
// calls against its budget (per message, the read of the message, its
// user and the settings; the link's transaction; the message's removal),
// and what it consumed per message, for the cost model. The bench's table
// has no stream (see dynamo.EnsureTable): the records are made from the
// messages, as the stream would carry them.
func (b *bench) sendMailJob(n int) (Row, error) {
	fx := &userFixtures{b: b}
	job, err := b.app.StreamJob("send-mail")
	if err != nil {
		return Row{}, err
	}
	now := b.clock.Now()
	recs := make([]events.DynamoDBEventRecord, n)
	for i := range recs {
		id := fx.get("mail", i, nil)
		u, err := b.app.Store.GetUser(context.Background(), id)
		if err != nil {
			return Row{}, err
		}
		ctx := access.WithRequest(context.Background(), access.Request{ID: "bench-mail", IP: fmt.Sprintf("198.51.100.%d", 10+i%200), Now: now})
		m := outbox.New(outbox.ResetLink, id, u.SessionGen, now, "bench-mail")
		limit := auth.ForgotLimit{IP: fmt.Sprintf("198.51.100.%d", 10+i%200), IPWindow: now.Truncate(auth.IPWindow), Account: now.Truncate(auth.ForgotWindow)}
		ev := audit.New(ctx, "user.password_reset_requested", "user", id, map[string]any{"message_id": m.ID})
		if err := b.whileBusy(func() error { return b.app.Store.QueueReset(ctx, m, ev, limit) }); err != nil {
			return Row{}, fmt.Errorf("bench: a message to send: %w", err)
		}
		recs[i] = events.DynamoDBEventRecord{EventID: m.ID, EventName: "INSERT", EventSource: "aws:dynamodb",
			Change: events.DynamoDBStreamRecord{Keys: map[string]events.DynamoDBAttributeValue{"pk": dynamo.Image(m)["pk"], "sk": dynamo.Image(m)["sk"]},
				NewImage: dynamo.Image(m), SequenceNumber: fmt.Sprintf("%024d", i+1), StreamViewType: "NEW_IMAGE"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.calls.take()
	start := time.Now()
	for from := 0; from < n; from += routes.StreamBatch {
		resp, err := job(ctx, events.DynamoDBEvent{Records: recs[from:min(n, from+routes.StreamBatch)]})
		if err != nil {
			return Row{}, err
		}
		if len(resp.BatchItemFailures) > 0 {
			return Row{}, fmt.Errorf("send-mail failed the record %s", resp.BatchItemFailures[0].ItemIdentifier)
		}
	}
	took := time.Since(start)
	made := b.calls.take()
	ops := ops(made)
	const perMessage = 3
	row := Row{Route: "send-mail", Case: fmt.Sprintf("job: %d messages in batches of %d, in %.0f ms", n, routes.StreamBatch, ms(took)),
		Method: "JOB", Path: "stream", Calls: len(ops), MinCalls: len(ops), ByOperation: countOps(ops), Waves: waves(made),
		Budget:     n * perMessage,
		BudgetExpr: "proportional to the messages: per message, one read (it, its user, the settings), the link's transaction, its removal"}
	row.RCU, row.WCU = jobUnits(made)
	row.Items, row.Latency = n, latencyOf([]float64{ms(took)})
	return row, nil
}
