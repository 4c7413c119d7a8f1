package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/email"
	"github.com/usermgmt/ums/pkg/email/emailtest"
	"github.com/usermgmt/ums/pkg/routes"
)

// The tests of this file spoil DynamoDB's and SES's answers on the wire,
// below the SDK's retries (dynamotest.Faults, and a proxy in front of the
// SES emulator), so that what a failing AWS sends goes through the same
// retries, decoding and translation as in production.

// writeOps are the DynamoDB operations that change the table.
var writeOps = []string{"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}

// failWrites makes every write of function fail with kind until cleared;
// its reads still work, so the request fails at its commit.
func (e *env) failWrites(function string, kind dynamotest.Fault) {
	for _, op := range writeOps {
		e.faults.Inject(function, op, kind, 0, -1)
	}
}

// A DynamoDB that keeps throttling, refusing throughput or failing at the
// moment a change commits gets 503 unavailable with Retry-After, after
// the SDK's retries, and nothing of the change is written; once DynamoDB
// is back, the same request succeeds.
func TestFaultsAtTheCommitAnswerUnavailable(t *testing.T) {
	e := newEnv(t)
	kinds := []dynamotest.Fault{dynamotest.Throttled, dynamotest.OverThroughput, dynamotest.ServerError, dynamotest.Unavailable}
	member := e.createUser("faulty.member@example.com", "member", nil)
	other := e.createUser("faulty.other@example.com", "member", nil)
	cases := []struct {
		route, method, path string
		body                any
		status              int
	}{
		{"create-user", "POST", "/users", map[string]any{"email": "faulty.new@example.com", "password": "pw for a new one", "given_name": "N", "family_name": "U", "role": "member"}, 201},
		{"update-user", "PATCH", "/users/" + member, map[string]any{"given_name": "Changed"}, 200},
		{"deactivate-user", "POST", "/users/" + member + "/deactivate", nil, 200},
		{"delete-user", "DELETE", "/users/" + other, nil, 202},
		{"create-invitation", "POST", "/invitations", map[string]any{"email": emailtest.Address("faulty.invite", "example.com"), "role": "member"}, 201},
		{"create-team", "POST", "/teams", map[string]any{"name": "Faulty"}, 201},
		{"update-settings", "PATCH", "/settings", map[string]any{"license_count": 50}, 200},
		{"create-api-key", "POST", "/api-keys", map[string]any{"name": "ci", "role": "member"}, 201},
	}
	for i, c := range cases {
		kind := kinds[i%len(kinds)]
		t.Run(fmt.Sprintf("%s/%d", c.route, kind), func(t *testing.T) {
			e := e.in(t)
			before := e.scanTable()
			e.failWrites(c.route, kind)
			r := e.problem(503, "unavailable", e.do(c.method, c.path, e.admin, c.body))
			if r.header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
			hits := e.faults.Hits()
			e.faults.Clear()
			if hits < 2 {
				t.Fatalf("%d exchanges spoiled: the SDK did not retry", hits)
			}
			if after := e.scanTable(); after != before {
				t.Fatalf("a failed %s wrote something:\n%s", c.route, diffLines(before, after))
			}
			e.must(c.status, e.do(c.method, c.path, e.admin, c.body))
		})
	}
}

// diffLines lists the lines only one of two scans has.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// A fault that passes (one throttle, one failure, an answer lost after
// DynamoDB applied the transaction) is absorbed by the SDK's retries: the
// request succeeds, and applies once. A lost answer is the hard case: the
// retry resends a transaction that has committed, whose conditions
// (the email not taken) now fail; the SDK's ClientRequestToken makes
// DynamoDB answer the retry as the first.
func TestPassingFaultsApplyOnce(t *testing.T) {
	e := newEnv(t)
	for i, kind := range []dynamotest.Fault{dynamotest.Throttled, dynamotest.ServerError, dynamotest.LostAnswer} {
		addr := fmt.Sprintf("passing%d@example.com", i)
		users, evs := e.userCount(), e.auditCount()
		e.faults.Inject("create-user", "TransactWriteItems", kind, 0, 1)
		r := e.must(201, e.do("POST", "/users", e.admin, map[string]any{"email": addr, "password": pw(addr), "given_name": "P", "family_name": "F", "role": "member"}))
		if e.faults.Hits() != 1 {
			t.Fatalf("fault %d: %d exchanges spoiled", kind, e.faults.Hits())
		}
		e.faults.Clear()
		if e.userCount() != users+1 || e.auditCount() != evs+1 {
			t.Fatalf("fault %d: %d users (was %d), %d evs (was %d)", kind, e.userCount(), users, e.auditCount(), evs)
		}
		e.must(200, e.do("GET", "/users/"+r.str("id"), e.admin, nil))
		e.login(addr, pw(addr))
	}
}

// A client that got 503 and retries with its Idempotency-Key applies the
// change once: the failed attempt spent nothing, the retry applies it, a
// third gets the second's answer again.
func TestAnIdempotentRetryAfterAFaultAppliesOnce(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"email": "retried@example.com", "password": "pw for the retried", "given_name": "R", "family_name": "T", "role": "member"}
	users, evs := e.userCount(), e.auditCount()
	before := e.scanTable()
	e.failWrites("create-user", dynamotest.Throttled)
	e.problem(503, "unavailable", e.doKey("POST", "/users", e.admin, "retry-after-503", body))
	e.faults.Clear()
	if after := e.scanTable(); after != before {
		t.Fatalf("the failed attempt wrote:\n%s", diffLines(before, after))
	}
	first := e.must(201, e.doKey("POST", "/users", e.admin, "retry-after-503", body))
	again := e.must(201, e.doKey("POST", "/users", e.admin, "retry-after-503", body))
	if again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the third attempt was not the second's answer:\n%s\n%s", first.raw, again.raw)
	}
	if e.userCount() != users+1 || e.auditCount() != evs+1 {
		t.Fatal("the retries applied twice")
	}
}

// The change commits but every answer to it is lost (the SDK retries
// until it gives up) and the client is told 503: its retry with the
// Idempotency-Key must not apply the change again, whatever it is told.
func TestACommittedChangeWhoseAnswersAreLostIsNotAppliedAgain(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"email": "lost@example.com", "password": "pw for the lost one", "given_name": "L", "family_name": "A", "role": "member"}
	users, evs := e.userCount(), e.auditCount()
	e.faults.Inject("create-user", "TransactWriteItems", dynamotest.LostAnswer, 0, -1)
	e.problem(503, "unavailable", e.doKey("POST", "/users", e.admin, "all-answers-lost", body))
	e.faults.Clear()
	if e.userCount() != users+1 || e.auditCount() != evs+1 {
		t.Fatalf("the lost commit: %d users (was %d), %d evs (was %d)", e.userCount(), users, e.auditCount(), evs)
	}
	r := e.doKey("POST", "/users", e.admin, "all-answers-lost", body)
	if r.status == 201 && r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry applied the change again: %s", r.raw)
	}
	if e.userCount() != users+1 || e.auditCount() != evs+1 {
		t.Fatal("the retry applied twice")
	}
}

// A deadline that passes in the middle of a request (a Lambda's timeout,
// the request's own) leaves nothing half done, wherever it falls: at
// every DynamoDB call of the route in turn, the call hangs until the
// deadline, which passes then; the answer is 503 and the table is as
// before, or the request got past its commit and the change is whole.
//
// The deadline is the request's context's (a Lambda's, as the API Gateway
// adapter passes it on), and it passes when the hung call is reached,
// however long the calls before took: a wall-clock deadline short enough
// for the test could pass before that call on a busy machine.
func TestADeadlineAnywhereLeavesNothingHalfDone(t *testing.T) {
	e := newEnv(t)
	invite := func(addr string) string {
		e.invite(addr, nil)
		return e.tokenIn(addr)
	}
	cases := []struct {
		route  string
		status int
		// request makes the n-th request of the case.
		request func(n int) (method, path, token string, body any)
		// done checks the change of a request that succeeded.
		done func(n int)
	}{
		{"create-user", 201, func(n int) (string, string, string, any) {
			addr := fmt.Sprintf("deadline%d@example.com", n)
			return "POST", "/users", e.admin, map[string]any{"email": addr, "password": pw(addr), "given_name": "D", "family_name": "L", "role": "member"}
		}, func(n int) {
			e.login(fmt.Sprintf("deadline%d@example.com", n), pw(fmt.Sprintf("deadline%d@example.com", n)))
		}},
		{"delete-user", 202, func(n int) (string, string, string, any) {
			return "DELETE", "/users/" + e.createUser(fmt.Sprintf("doomed%d@example.com", n), "member", nil), e.admin, nil
		}, nil},
		{"accept-invitation", 201, func(n int) (string, string, string, any) {
			return "POST", "/invitations/accept", "", acceptBody(invite(emailtest.Address(fmt.Sprintf("deadline%d", n), "example.com")))
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.route, func(t *testing.T) {
			e := e.in(t)
			route, _ := routes.ByName(c.route)
			fn, err := e.app.Handler(c.route)
			if err != nil {
				t.Fatal(err)
			}
			h := http.NewServeMux()
			h.Handle(route.Pattern(), fn)
			hung := 0
			for n := 0; ; n++ {
				if n > 20 {
					t.Fatal("the route never got past its calls")
				}
				method, path, token, body := c.request(n)
				before := e.scanTable()
				e.faults.Inject(c.route, "", dynamotest.Hang, n, 1)
				ctx := passAt(func() bool { return e.faults.Hits() > 0 })
				status, raw := serve(ctx, h, method, path, token, body)
				ctx.stop()
				spoiled := e.faults.Hits() > 0
				e.faults.Clear()
				if !spoiled {
					// Past its last call: the route ran through.
					if status != c.status {
						t.Fatalf("without a fault: %d %s", status, raw)
					}
					break
				}
				hung++
				after := e.scanTable()
				switch {
				case status == 503:
					if after != before {
						t.Fatalf("a deadline at call %d of %s answered 503 and left:\n%s", n+1, c.route, diffLines(before, after))
					}
				case status == c.status:
					// The deadline fell after the commit, on a best-effort
					// call: the change must be whole.
					if c.done != nil {
						c.done(n)
					}
				default:
					t.Fatalf("a deadline at call %d of %s: %d %s", n+1, c.route, status, raw)
				}
			}
			if hung == 0 {
				t.Fatal("no call was made to hang")
			}
		})
	}
}

// passing is a request's context whose deadline passes when the test
// says: Err is then context.DeadlineExceeded, as for a deadline reached.
type passing struct {
	context.Context // for Value
	deadline        time.Time
	done, stopped   chan struct{}
	stopOnce        sync.Once
}

// passAt returns a context whose deadline passes as soon as reached
// reports true (polled until stop is called).
func passAt(reached func() bool) *passing {
	c := &passing{Context: context.Background(), deadline: time.Now().Add(time.Hour),
		done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		for !reached() {
			select {
			case <-c.stopped:
				return
			case <-time.After(time.Millisecond):
			}
		}
		close(c.done)
	}()
	return c
}

func (c *passing) stop()                       { c.stopOnce.Do(func() { close(c.stopped) }) }
func (c *passing) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *passing) Done() <-chan struct{}       { return c.done }
func (c *passing) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// serve sends one request straight to a route's handler, as the Lambda
// adapter would, with ctx (the invocation's) as the request's context.
func serve(ctx context.Context, h http.Handler, method, path, token string, body any) (int, string) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(raw))
	req.RemoteAddr = "198.51.100.20:0"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

// The expire-invitations job, failing at the wire in the middle of a
// batch, reports the failure and leaves what it did done; the next run
// finishes exactly the rest, and a third finds nothing.
func TestExpiryResumesAfterAFaultInTheMiddle(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"invitation_ttl_hours": 1}))
	var addrs []string
	for i := range 4 {
		addr := emailtest.Address(fmt.Sprintf("expiring%d", i), "example.com")
		addrs = append(addrs, addr)
		e.invite(addr, nil)
	}
	at := e.clock.Now().Add(2 * time.Hour)
	evs := e.auditCount()
	// The first expiry commits; the second fails, after the SDK's retries.
	e.faults.Inject("expire-invitations", "TransactWriteItems", dynamotest.ServerError, 1, -1)
	job, _ := e.app.Job("expire-invitations")
	if _, err := job(context.Background(), events.EventBridgeEvent{Time: at}); err == nil {
		t.Fatal("the run with a failure reported none")
	}
	e.faults.Clear()
	if got := e.auditCount(); got != evs+1 {
		t.Fatalf("the failed run left %d expiries, want 1", got-evs)
	}
	if rep := e.runJob("expire-invitations", at); rep.Done != 3 {
		t.Fatalf("the run after the failure expired %d, want 3", rep.Done)
	}
	if rep := e.runJob("expire-invitations", at); rep.Done != 0 {
		t.Fatalf("a run with nothing left expired %d", rep.Done)
	}
	if got := e.auditCount(); got != evs+4 {
		t.Fatalf("%d expiry evs, want 4", got-evs)
	}
	s := e.must(200, e.do("GET", "/summary", e.admin, nil))
	if s.num("by_status", "invited") != 0 {
		t.Fatalf("invited users left: %s", s.raw)
	}
	// Every email is free again.
	for _, addr := range addrs {
		e.invite(addr, nil)
	}
}

// The purge job, meeting a lost answer (applied, then retried by the SDK)
// and then a DynamoDB that fails for good in the middle of a run, purges
// each user once, and the next run finishes the rest.
func TestPurgeResumesAfterAFaultInTheMiddle(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 3 {
		addr := fmt.Sprintf("purged%d@example.com", i)
		id := e.createUser(addr, "member", nil)
		e.login(addr, pw(addr))
		e.must(202, e.do("DELETE", "/users/"+id, e.admin, nil))
		ids = append(ids, id)
	}
	at := e.clock.Now().Add(31 * 24 * time.Hour)
	e.faults.Inject("purge-deleted-users", "TransactWriteItems", dynamotest.LostAnswer, 0, 1)
	e.faults.Inject("purge-deleted-users", "TransactWriteItems", dynamotest.Throttled, 2, -1)
	job, _ := e.app.Job("purge-deleted-users")
	if _, err := job(context.Background(), events.EventBridgeEvent{Time: at}); err == nil {
		t.Fatal("the run with a failure reported none")
	}
	e.faults.Clear()
	e.runJob("purge-deleted-users", at)
	if rep := e.runJob("purge-deleted-users", at); rep.Done != 0 {
		t.Fatalf("a run with nothing left purged %d", rep.Done)
	}
	dump := e.scanTable()
	for _, id := range ids {
		e.problem(404, "not_found", e.do("GET", "/users/"+id, e.admin, nil))
		if strings.Contains(dump, id+`"`) && strings.Contains(dump, `"pk":"USER#`+id) {
			t.Fatalf("%s is still stored", id)
		}
	}
	purged := 0
	ev, _ := e.app.Store.RecentAuditEvents(e.systemCtx(), 100)
	for _, x := range ev {
		if x.Action == "user.purged" {
			purged++
		}
	}
	if purged != 3 {
		t.Fatalf("%d purge evs, want 3", purged)
	}
}

// fastClock is a clock for the mail sender's retries that moves on at
// once when the sender pauses, instead of waiting: retries until a
// request's deadline then take no time, and leave the request all of its
// time for what it does after them.
type fastClock struct{ ahead atomic.Int64 }

func (c *fastClock) Now() time.Time { return time.Now().Add(time.Duration(c.ahead.Load())) }

func (c *fastClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.ahead.Add(int64(d))
	return nil
}

// SES throttling or failing when an invitation is sent loses nothing and
// writes nothing twice: the invitation is made, says why its mail is not
// sent, and its resend, once SES is back, sends exactly one mail.
func TestSESFaultsLoseNoInvitation(t *testing.T) {
	var mode atomic.Int32 // 0: pass; else the status SES answers
	proxy := sesProxy(t, func() (sesFault, bool) {
		switch mode.Load() {
		case 429:
			return sesFault{429, "TooManyRequestsException", "Maximum sending rate exceeded."}, true
		case 500:
			return sesFault{500, "InternalFailure", "Internal failure."}, true
		}
		return sesFault{}, false
	})
	e := newEnvWith(t, map[string]string{config.EnvSESEndpoint: proxy})
	// The sender retries until the request's deadline is near, each pause
	// on the fast clock.
	sender, ok := e.app.Mail.(*email.SES)
	if !ok {
		t.Fatalf("the app's sender is a %T, not SES", e.app.Mail)
	}
	clock := &fastClock{}
	sender.Now, sender.Sleep = clock.Now, clock.Sleep
	for _, status := range []int32{429, 500} {
		addr := emailtest.Address(fmt.Sprintf("ses%d", status), "example.com")
		evs := e.auditCount()
		mode.Store(status)
		inv := e.invite(addr, nil)
		if inv.num("sent_count") != 0 || inv.str("last_send_error") == "" {
			t.Fatalf("SES %d: the invitation %s", status, inv.raw)
		}
		if e.auditCount() != evs+1 {
			t.Fatalf("SES %d: %d events", status, e.auditCount()-evs)
		}
		mode.Store(0)
		if len(e.mails(addr)) != 0 {
			t.Fatalf("SES %d: a mail went out", status)
		}
		e.must(200, e.do("POST", "/invitations/"+inv.str("id")+"/resend", e.admin, nil))
		if n := len(e.mails(addr)); n != 1 {
			t.Fatalf("SES %d: %d mails after the resend", status, n)
		}
		e.must(200, e.do("GET", lookup(e.tokenIn(addr)), "", nil))
	}
}
