package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/settings"
)

// The sample events' placeholder token and id are replaced, so that an
// event invokes as a real caller on a real user.
func TestRewrite(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "get-user.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), placeholder) {
		t.Fatal("the sample event no longer carries the placeholder token")
	}
	out, err := rewrite(raw, "ums_real", "usr_realrealrealrealrealrealre")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		RawPath        string            `json:"rawPath"`
		Headers        map[string]string `json:"headers"`
		PathParameters map[string]string `json:"pathParameters"`
		RequestContext struct {
			HTTP struct {
				Path string `json:"path"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	want := "/users/usr_realrealrealrealrealrealre"
	if ev.Headers["authorization"] != "Bearer ums_real" || ev.PathParameters["id"] != "usr_realrealrealrealrealrealre" ||
		ev.RawPath != want || ev.RequestContext.HTTP.Path != want {
		t.Fatalf("rewritten event %s", out)
	}
}

// A scheduled job's sample event runs ahead of now, far enough for what
// was made today to be due under the default settings; -at moves it, and
// "event" (or an event of another file) keeps the event's own time.
func TestScheduleAt(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 30, 15, 500, time.UTC)
	st := settings.Defaults()
	scheduled := 0
	for _, j := range routes.Jobs {
		if j.Schedule == "" {
			continue
		}
		scheduled++
		ahead, ok := jobAhead[j.Name]
		if !ok {
			t.Errorf("the job %s has no default -at", j.Name)
		}
		if ahead <= time.Duration(st.InvitationTTLHours)*time.Hour && j.Name == "expire-invitations" ||
			ahead <= time.Duration(st.DeletionGraceDays)*24*time.Hour && j.Name == "purge-deleted-users" {
			t.Errorf("%s runs %s ahead: what was made today would not be due", j.Name, ahead)
		}
	}
	if scheduled != len(jobAhead) {
		t.Errorf("%d scheduled jobs, %d defaults of -at", scheduled, len(jobAhead))
	}
	timeOf := func(fn, at string, sample bool) string {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", fn+".json"))
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := scheduleAt(fn, at, sample, raw, now)
		if err != nil {
			t.Fatalf("%s -at %q: %v", fn, at, err)
		}
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(out, &ev); err != nil || ev.DetailType != "Scheduled Event" || ev.Time.IsZero() {
			t.Fatalf("%s -at %q: not a scheduled event: %v %s", fn, at, err, out)
		}
		return ev.Time.Format(time.RFC3339)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "expire-invitations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample events.EventBridgeEvent
	if err := json.Unmarshal(raw, &sample); err != nil {
		t.Fatal(err)
	}
	own := sample.Time.Format(time.RFC3339)
	for _, c := range []struct {
		fn, at string
		sample bool
		want   string
	}{
		{"expire-invitations", "", true, "2026-03-09T10:30:15Z"},
		{"purge-deleted-users", "", true, "2026-04-01T10:30:15Z"},
		{"expire-invitations", "+8d", true, "2026-03-09T10:30:15Z"},
		{"expire-invitations", "+1d12h", true, "2026-03-02T22:30:15Z"},
		{"expire-invitations", "-90m", false, "2026-03-01T09:00:15Z"},
		{"expire-invitations", "now", true, "2026-03-01T10:30:15Z"},
		{"expire-invitations", "2027-05-06T07:08:09Z", true, "2027-05-06T07:08:09Z"},
		{"expire-invitations", "event", true, own},
		{"expire-invitations", "", false, own},
	} {
		if got := timeOf(c.fn, c.at, c.sample); got != c.want {
			t.Errorf("%s -at %q (sample %v): %s, want %s", c.fn, c.at, c.sample, got, c.want)
		}
	}
	for _, at := range []string{"8d", "+8", "+d", "+-8d", "tomorrow", "+8days", "+1h-30m"} {
		if _, _, err := scheduleAt("expire-invitations", at, true, raw, now); err == nil {
			t.Errorf("-at %q is accepted", at)
		}
	}
	get, err := os.ReadFile(filepath.Join("..", "..", "events", "get-me.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := scheduleAt("get-me", "+8d", true, get, now); err == nil {
		t.Error("-at is accepted for a route")
	}
	if out, _, err := scheduleAt("get-me", "", true, get, now); err != nil || string(out) != string(get) {
		t.Errorf("a route's event is changed: %v", err)
	}
}
