package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/access"
)

// A scheduled event as EventBridge sends it.
const scheduled = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
"source":"aws.events","account":"123456789012","time":"2030-05-01T12:00:00Z","region":"us-east-1",
"resources":["arn:aws:events:us-east-1:123456789012:rule/ExpireInvitations"],"detail":{}}`

func TestARunTakesNowFromTheEvent(t *testing.T) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal([]byte(scheduled), &ev); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var seen access.Request
	var runDeadline time.Time
	h := Handler("a-job", func(ctx context.Context, r *Report) error {
		seen = access.RequestFrom(ctx)
		runDeadline, _ = ctx.Deadline()
		r.Done, r.More = 3, true
		return nil
	}, slog.New(slog.NewJSONHandler(&logs, nil)), time.Now)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rep, err := h(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	if !seen.Now.Equal(want) || seen.Route != "a-job" || seen.ID != ev.ID {
		t.Fatalf("the run saw %+v", seen)
	}
	if rep.Job != "a-job" || !rep.Now.Equal(want) || rep.Done != 3 || !rep.More {
		t.Fatalf("report %+v", rep)
	}
	// It stops before the function's deadline, with a margin (a fifth of
	// the time left when that is less: not so with 5 minutes).
	if !runDeadline.Equal(deadline.Add(-Margin)) {
		t.Fatalf("the run's deadline is %v before the function's, want %v", deadline.Sub(runDeadline), Margin)
	}
	if !strings.Contains(logs.String(), `"done":3`) || !strings.Contains(logs.String(), `"more":true`) {
		t.Fatalf("log %s", logs.String())
	}
}

func TestAFailedRunFailsTheInvocation(t *testing.T) {
	var logs bytes.Buffer
	h := Handler("a-job", func(context.Context, *Report) error { return errors.New("table gone") },
		slog.New(slog.NewJSONHandler(&logs, nil)), time.Now)
	if _, err := h(context.Background(), events.EventBridgeEvent{}); err == nil || !strings.Contains(err.Error(), "table gone") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(logs.String(), "job failed") {
		t.Fatalf("log %s", logs.String())
	}
}

// Without a time (an event written by hand), now is the clock's.
func TestAnEventWithoutATimeRunsNow(t *testing.T) {
	at := time.Date(2031, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	var seen time.Time
	h := Handler("a-job", func(ctx context.Context, _ *Report) error { seen = access.RequestFrom(ctx).Now; return nil },
		slog.New(slog.DiscardHandler), func() time.Time { return at })
	if _, err := h(context.Background(), events.EventBridgeEvent{}); err != nil {
		t.Fatal(err)
	}
	if !seen.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("now = %v", seen)
	}
}
