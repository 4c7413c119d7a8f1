package devserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/email/emailtest"
	"github.com/usermgmt/ums/pkg/jobs"
)

// invite invites addr as the admin and returns the invitation.
func (e *env) invite(addr string, extra map[string]any) response {
	e.t.Helper()
	body := map[string]any{"email": addr, "role": "member"}
	for k, v := range extra {
		body[k] = v
	}
	return e.must(201, e.do("POST", "/invitations", e.admin, body))
}

// mails returns the mails the emulator received for addr.
func (e *env) mails(addr string) []emailtest.Mail {
	e.t.Helper()
	e.drain()
	return emailtest.To(e.t, emailtest.Endpoint(e.t), addr)
}

// tokenIn returns the token of the link in the latest mail to addr, after
// checking the link points at the accept page under PUBLIC_BASE_URL.
func (e *env) tokenIn(addr string) string {
	e.t.Helper()
	ms := e.mails(addr)
	if len(ms) == 0 {
		e.fatalf("no mail to %s", addr)
	}
	link := ms[len(ms)-1].Link(e.t)
	u, err := url.Parse(link)
	if err != nil {
		e.fatalf("link %q: %v", link, err)
	}
	want := e.app.Config.PublicBaseURL.String() + "/pages/accept-invitation?token="
	if !strings.HasPrefix(link, want) || !strings.HasPrefix(u.Query().Get("token"), "umi_inv_") {
		e.fatalf("link %q, want %s<umi_ token>", link, want)
	}
	return u.Query().Get("token")
}

func lookup(token string) string { return "/invitations/lookup?token=" + url.QueryEscape(token) }

func acceptBody(token string) map[string]any {
	return map[string]any{"token": token, "password": "a long and unusual passphrase", "given_name": "Ada", "family_name": "Lovelace"}
}

// The whole path a person takes: the admin invites with a role, a team
// and a message; the mail names them and links to the page; the page's
// lookup shows the invitation; accepting sets the password and names and
// signs the person in, once.
func TestInvitationFromMailToSignedIn(t *testing.T) {
	e := newEnv(t)
	team := e.team("Compilers")
	addr := emailtest.Address("ada", "example.com")
	inv := e.invite(addr, map[string]any{"team_id": team, "message": "Welcome <b>aboard</b>!\nSee you Monday."})
	id := inv.str("id")
	if inv.str("status") != "pending" || inv.num("sent_count") != 1 ||
		inv.get("last_send_error") != nil || inv.str("team_id") != team || inv.str("invited_by") == "" {
		t.Fatalf("invitation %s", inv.raw)
	}

	// The invited user exists, listed and counted, their email reserved.
	u := e.userByEmail(addr)
	if u.Status != "invited" || u.Usage != nil || u.ID != inv.str("user_id") {
		t.Fatalf("invited user %+v", u)
	}
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.num("invited_not_registered") != 1 || s.num("by_status", "invited") != 1 {
		t.Fatalf("summary %s", s.raw)
	}
	e.problem(409, "email_taken", e.do("POST", "/users", e.admin, map[string]any{
		"email": strings.ToUpper(addr), "password": "pw for the taken email", "given_name": "A", "family_name": "B", "role": "member",
	}))
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": "anything at all"}))

	// The mail: who invited, to what, the message escaped, the expiry, the link.
	ms := e.mails(addr)
	if len(ms) != 1 {
		t.Fatalf("%d mails to %s", len(ms), addr)
	}
	m := ms[0]
	for _, want := range []string{"Compilers", "member", "Welcome &lt;b&gt;aboard&lt;/b&gt;!"} {
		if !strings.Contains(m.Body.HTML, want) {
			t.Errorf("mail HTML lacks %q", want)
		}
	}
	if !strings.Contains(m.Body.Text, "Welcome <b>aboard</b>!") || strings.Contains(m.Body.HTML, "<b>aboard") {
		t.Errorf("the message is not in the text as written, or not escaped in the HTML")
	}
	token := e.tokenIn(addr)
	if strings.Contains(e.logs.String(), token) || strings.Contains(e.scanTable(), token[strings.IndexByte(token, '.')+1:]) {
		t.Fatal("the invitation token reached a log line or the table")
	}

	// The page the link opens, then what its script reads.
	link, _ := url.Parse(e.tokenLink(addr))
	page := e.do("GET", link.RequestURI(), "", nil)
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "script-src 'sha256-") ||
		page.header.Get("Referrer-Policy") != "no-referrer" || strings.Contains(page.raw, token) {
		t.Fatalf("page: %d %v", page.status, page.header)
	}
	view := e.must(200, e.do("GET", lookup(token), "", nil))
	if view.str("email") != addr || view.str("role") != "member" || view.str("team_id") != team || view.str("team_name") != "Compilers" ||
		view.str("inviter_name") == "" || !strings.HasPrefix(view.str("message"), "Welcome") || view.num("password_min_length") != 8 {
		t.Fatalf("lookup %s", view.raw)
	}

	// Rule 6 applies to the password chosen here.
	bad := acceptBody(token)
	bad["password"] = "password"
	e.problem(400, "validation_failed", e.do("POST", "/invitations/accept", "", bad))
	e.problem(400, "validation_failed", e.do("POST", "/invitations/accept", "", map[string]any{"token": token}))

	// A username another user has is refused, and the token still works.
	e.createUser(emailtest.Address("grace", "example.com"), "member", map[string]any{"username": "grace"})
	taken := acceptBody(token)
	taken["username"] = "Grace"
	e.problem(409, "username_taken", e.do("POST", "/invitations/accept", "", taken))

	key := http.Header{"Idempotency-Key": {"accept-" + id}}
	res := e.must(201, e.send("POST", "/invitations/accept", "", acceptBody(token), key))
	// Its answer held a session token, which is never kept: a retry gets
	// told so, and starts no second session.
	e.problem(409, "idempotency_conflict", e.send("POST", "/invitations/accept", "", acceptBody(token), key))
	if res.header.Get("Location") != "/me" || res.str("user", "status") != "active" || res.str("user", "usage") != "connected" ||
		res.str("user", "display_name") != "Ada Lovelace" || res.str("user", "team_id") != team || res.str("session", "user_id") != u.ID ||
		res.get("session", "current") != true {
		t.Fatalf("accept %s", res.raw)
	}
	me := e.must(200, e.do("GET", "/me", res.str("token"), nil))
	if me.str("id") != u.ID || me.num("stats", "active_sessions") != 1 {
		t.Fatalf("me %s", me.raw)
	}
	ev, err := e.app.Store.RecentAuditEvents(e.systemCtx(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if ev[0].Action != "invitation.accepted" || ev[0].ActorID != u.ID || ev[0].TargetID != id {
		t.Fatalf("audit %+v", ev[0])
	}
	e.login(addr, "a long and unusual passphrase")

	// Single use: the token is spent, for every use.
	e.problem(400, "token_invalid", e.do("POST", "/invitations/accept", "", acceptBody(token)))
	e.problem(400, "token_invalid", e.do("GET", lookup(token), "", nil))
	e.problem(400, "token_invalid", e.do("POST", "/invitations/decline", "", map[string]any{"token": token}))
	e.problem(409, "invalid_state", e.do("POST", "/invitations/"+id+"/resend", e.admin, nil))
	e.problem(409, "invalid_state", e.do("DELETE", "/invitations/"+id, e.admin, nil))

	list := e.must(200, e.do("GET", "/invitations?status=accepted", e.admin, nil))
	if len(list.list("items")) != 1 || list.str("next_cursor") != "" {
		t.Fatalf("accepted invitations %s", list.raw)
	}
	acc := list.list("items")[0].(map[string]any)
	if acc["id"] != id || acc["status"] != "accepted" || acc["accepted_at"] == nil {
		t.Fatalf("accepted invitation %v", acc)
	}
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.num("invited_not_registered") != 0 || s.num("by_status", "active") != 3 { // the admin, grace and ada
		t.Fatalf("summary after accept %s", s.raw)
	}
}

// tokenLink is the link of the latest mail to addr.
func (e *env) tokenLink(addr string) string {
	e.t.Helper()
	ms := e.mails(addr)
	return ms[len(ms)-1].Link(e.t)
}

func TestInvitationRules(t *testing.T) {
	e := newEnv(t)
	team, other := e.team("Ops"), e.team("Sales")
	taken := e.createUser(emailtest.Address("taken", "example.com"), "member", nil)
	takenEmail := e.must(200, e.do("GET", "/users/"+taken, e.admin, nil)).str("email")

	e.problem(409, "email_taken", e.do("POST", "/invitations", e.admin, map[string]any{"email": strings.ToUpper(takenEmail), "role": "member"}))
	addr := emailtest.Address("twice", "example.com")
	e.invite(addr, nil)
	e.problem(409, "invitation_pending", e.do("POST", "/invitations", e.admin, map[string]any{"email": " " + strings.ToUpper(addr), "role": "admin"}))
	r := e.problem(400, "validation_failed", e.do("POST", "/invitations", e.admin, map[string]any{
		"email": "not an email", "role": "owner", "team_id": "team_nope", "message": strings.Repeat("x", 1001)}))
	if n := len(r.list("errors")); n != 4 {
		t.Fatalf("%d field errors, want 4: %s", n, r.raw)
	}
	e.problem(400, "validation_failed", e.do("POST", "/invitations", e.admin, map[string]any{
		"email": emailtest.Address("x", "example.com"), "role": "member", "team_id": "team_aaaaaaaaaaaaaaaaaaaaaaaaaa"}))

	// Managers invite members into their own team only.
	mgrEmail := emailtest.Address("mgr", "example.com")
	e.createUser(mgrEmail, "manager", map[string]any{"team_id": team})
	mgr := e.login(mgrEmail, "pw for "+mgrEmail)
	inv := e.must(201, e.do("POST", "/invitations", mgr, map[string]any{"email": emailtest.Address("m1", "example.com"), "role": "member"}))
	if inv.str("team_id") != team {
		t.Fatalf("a manager's invitation is not in their team: %s", inv.raw)
	}
	e.problem(403, "forbidden", e.do("POST", "/invitations", mgr, map[string]any{"email": emailtest.Address("m2", "example.com"), "role": "manager"}))
	e.problem(403, "forbidden", e.do("POST", "/invitations", mgr, map[string]any{"email": emailtest.Address("m3", "example.com"), "role": "member", "team_id": other}))
	lonely := emailtest.Address("lonely", "example.com")
	e.createUser(lonely, "manager", nil)
	lonelyTok := e.login(lonely, "pw for "+lonely)
	e.problem(403, "forbidden", e.do("POST", "/invitations", lonelyTok, map[string]any{"email": emailtest.Address("m4", "example.com"), "role": "member"}))
	if l := e.must(200, e.do("GET", "/invitations", lonelyTok, nil)); len(l.list("items")) != 0 {
		t.Fatalf("a manager without a team sees %s", l.raw)
	}
	memberEmail := emailtest.Address("member", "example.com")
	e.createUser(memberEmail, "member", map[string]any{"team_id": team})
	member := e.login(memberEmail, "pw for "+memberEmail)
	e.problem(403, "forbidden", e.do("POST", "/invitations", member, map[string]any{"email": emailtest.Address("m5", "example.com"), "role": "member"}))
	e.problem(403, "forbidden", e.do("GET", "/invitations", member, nil))

	// The manager sees and acts on their team's invitations only.
	admins := e.invite(emailtest.Address("other", "example.com"), map[string]any{"team_id": other})
	l := e.must(200, e.do("GET", "/invitations", mgr, nil))
	if len(l.list("items")) != 1 || l.list("items")[0].(map[string]any)["id"] != inv.str("id") {
		t.Fatalf("manager's list %s", l.raw)
	}
	e.problem(403, "forbidden", e.do("GET", "/invitations?team_id="+other, mgr, nil))
	e.problem(404, "not_found", e.do("POST", "/invitations/"+admins.str("id")+"/resend", mgr, nil))
	e.problem(404, "not_found", e.do("DELETE", "/invitations/"+admins.str("id"), mgr, nil))
	e.problem(404, "not_found", e.do("DELETE", "/invitations/inv_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.admin, nil))
	e.problem(404, "not_found", e.do("POST", "/invitations/nope/resend", e.admin, nil))
	e.must(200, e.do("POST", "/invitations/"+inv.str("id")+"/resend", mgr, nil))
	e.must(204, e.do("DELETE", "/invitations/"+inv.str("id"), mgr, nil))
	// An admin's invitation of a manager into the team is the admin's to
	// resend or cancel: the manager sees it, and may not act on it.
	peer := e.invite(emailtest.Address("peer", "example.com"), map[string]any{"team_id": team, "role": "manager"})
	e.problem(403, "forbidden", e.do("POST", "/invitations/"+peer.str("id")+"/resend", mgr, nil))
	e.problem(403, "forbidden", e.do("DELETE", "/invitations/"+peer.str("id"), mgr, nil))
	e.must(204, e.do("DELETE", "/invitations/"+peer.str("id"), e.admin, nil))
	e.problem(400, "validation_failed", e.send("POST", "/invitations/"+peer.str("id")+"/resend", e.admin, nil,
		http.Header{"Idempotency-Key": {strings.Repeat("k", 256)}}))

	// The admin's list: newest first, by status, in pages.
	all := e.must(200, e.do("GET", "/invitations?limit=2", e.admin, nil))
	items := all.list("items")
	if len(items) != 2 || all.str("next_cursor") == "" || items[0].(map[string]any)["id"] != peer.str("id") ||
		items[1].(map[string]any)["id"] != admins.str("id") {
		t.Fatalf("first page %s", all.raw)
	}
	rest := e.must(200, e.do("GET", "/invitations?limit=2&cursor="+url.QueryEscape(all.str("next_cursor")), e.admin, nil))
	if len(rest.list("items")) != 2 || rest.get("next_cursor") != nil {
		t.Fatalf("second page %s", rest.raw)
	}
	if c := e.must(200, e.do("GET", "/invitations?status=cancelled", e.admin, nil)); len(c.list("items")) != 2 {
		t.Fatalf("cancelled %s", c.raw)
	}
	if p := e.must(200, e.do("GET", "/invitations?status=pending&team_id="+other, e.admin, nil)); len(p.list("items")) != 1 {
		t.Fatalf("pending in %s: %s", other, p.raw)
	}
	e.problem(400, "validation_failed", e.do("GET", "/invitations?status=lost", e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/invitations?cursor=forged", e.admin, nil))
}

// Resend issues a new token (the old one is void at once), restarts the
// expiry and counts the send.
func TestResendVoidsTheOldToken(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("resend", "example.com")
	inv := e.invite(addr, nil)
	old := e.tokenIn(addr)
	e.clock.Advance(24 * time.Hour)
	again := e.must(200, e.do("POST", "/invitations/"+inv.str("id")+"/resend", e.admin, nil))
	if again.num("sent_count") != 2 || again.str("expires_at") == inv.str("expires_at") || again.str("last_sent_at") == inv.str("last_sent_at") {
		t.Fatalf("resent %s, first %s", again.raw, inv.raw)
	}
	if n := len(e.mails(addr)); n != 2 {
		t.Fatalf("%d mails after a resend", n)
	}
	fresh := e.tokenIn(addr)
	if fresh == old {
		t.Fatal("resend sent the same token")
	}
	e.problem(400, "token_invalid", e.do("GET", lookup(old), "", nil))
	e.problem(400, "token_invalid", e.do("POST", "/invitations/accept", "", acceptBody(old)))
	e.must(200, e.do("GET", lookup(fresh), "", nil))
	// The first expiry has passed; the restarted one has not.
	e.clock.Advance(168*time.Hour - 12*time.Hour)
	e.must(201, e.do("POST", "/invitations/accept", "", acceptBody(fresh)))
}

// Cancel and decline end the invitation and remove the invited user,
// freeing the email and the seat, in the same transaction.
func TestCancelAndDeclineFreeTheEmailAndTheSeat(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 2}))
	a, b := emailtest.Address("a", "example.com"), emailtest.Address("b", "example.com")
	invA := e.invite(a, nil)
	e.problem(409, "no_seats", e.do("POST", "/invitations", e.admin, map[string]any{"email": b, "role": "member"}))
	tokenA := e.tokenIn(a)
	e.must(204, e.do("DELETE", "/invitations/"+invA.str("id"), e.admin, nil))
	e.problem(400, "token_invalid", e.do("GET", lookup(tokenA), "", nil))
	e.problem(409, "invalid_state", e.do("DELETE", "/invitations/"+invA.str("id"), e.admin, nil))
	e.problem(404, "not_found", e.do("GET", "/users/"+invA.str("user_id"), e.admin, nil))

	e.invite(b, nil)
	tokenB := e.tokenIn(b)
	e.problem(400, "validation_failed", e.do("POST", "/invitations/decline", "", map[string]any{"token": ""}))
	key := http.Header{"Idempotency-Key": {"decline-" + tokenB[:12]}}
	e.must(204, e.send("POST", "/invitations/decline", "", map[string]any{"token": tokenB}, key))
	if r := e.must(204, e.send("POST", "/invitations/decline", "", map[string]any{"token": tokenB}, key)); r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a repeated decline was not replayed")
	}
	e.problem(409, "idempotency_conflict", e.send("POST", "/invitations/decline", "", map[string]any{"token": tokenA}, key))
	e.problem(400, "token_invalid", e.do("POST", "/invitations/decline", "", map[string]any{"token": tokenB}))
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.num("by_status", "invited") != 0 || s.num("invited_not_registered") != 0 {
		t.Fatalf("summary %s", s.raw)
	}
	for _, status := range []string{"cancelled", "declined"} {
		if l := e.must(200, e.do("GET", "/invitations?status="+status, e.admin, nil)); len(l.list("items")) != 1 {
			t.Fatalf("%s: %s", status, l.raw)
		}
	}
	// Both emails are free, and the seat too.
	e.createUser(b, "member", nil)
	e.problem(409, "no_seats", e.do("POST", "/invitations", e.admin, map[string]any{"email": a, "role": "member"}))
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 0}))
	e.invite(a, nil)
}

// Expiry is checked when a token is used, whether or not the job has run;
// the job then removes what expired, once, however often it runs.
func TestExpiryAndTheJob(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"invitation_ttl_hours": 1}))
	var addrs []string
	for i := range 5 {
		addrs = append(addrs, emailtest.Address(fmt.Sprintf("exp%d", i), "example.com"))
		e.invite(addrs[i], nil)
	}
	tok := e.tokenIn(addrs[0])
	e.clock.Advance(30 * time.Minute)
	e.invite(emailtest.Address("later", "example.com"), nil) // expires half an hour after the others
	e.clock.Advance(30 * time.Minute)
	e.problem(410, "token_expired", e.do("GET", lookup(tok), "", nil))
	e.problem(410, "token_expired", e.do("POST", "/invitations/accept", "", acceptBody(tok)))
	e.problem(410, "token_expired", e.do("POST", "/invitations/decline", "", map[string]any{"token": tok}))
	if u := e.userByEmail(addrs[0]); u.Status != "invited" {
		t.Fatalf("the job has not run, yet %+v", u)
	}

	job, err := e.app.Job("expire-invitations")
	if err != nil {
		t.Fatal(err)
	}
	run := func(at time.Time) jobs.Report {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		rep, err := job(ctx, events.EventBridgeEvent{ID: "evt-" + at.Format(time.RFC3339Nano), DetailType: "Scheduled Event", Time: at})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// A run at a time before the expiry changes nothing.
	if rep := run(e.clock.Now().Add(-2 * time.Minute)); rep.Done != 0 || rep.More {
		t.Fatalf("early run %+v", rep)
	}
	// Two runs at once: each invitation expires exactly once.
	now := e.clock.Now()
	var reps [2]jobs.Report
	var wg sync.WaitGroup
	for i := range reps {
		wg.Go(func() { reps[i] = run(now) })
	}
	wg.Wait()
	if reps[0].Done+reps[1].Done != 5 || reps[0].More || reps[1].More || reps[0].Now.Sub(now).Abs() >= time.Millisecond {
		t.Fatalf("overlapping runs %+v", reps)
	}
	if rep := run(now); rep.Done != 0 {
		t.Fatalf("a third run expired %d", rep.Done)
	}
	expired := e.must(200, e.do("GET", "/invitations?status=expired", e.admin, nil))
	if len(expired.list("items")) != 5 {
		t.Fatalf("expired %s", expired.raw)
	}
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.num("by_status", "invited") != 1 {
		t.Fatalf("summary %s", s.raw)
	}
	ev, _ := e.app.Store.RecentAuditEvents(e.systemCtx(), 20)
	n := 0
	for _, x := range ev {
		if x.Action == "invitation.expired" {
			n++
			if x.ActorType != "system" || x.ActorID != "system" {
				t.Fatalf("expiry event by %s %s", x.ActorType, x.ActorID)
			}
		}
	}
	if n != 5 {
		t.Fatalf("%d expiry events", n)
	}
	e.problem(410, "token_expired", e.do("GET", lookup(tok), "", nil)) // still told apart from a used one
	e.createUser(addrs[0], "member", nil)                              // the email is free

	// A run that has no time left stops before starting, and says so.
	e.clock.Advance(2 * time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rep, err := job(ctx, events.EventBridgeEvent{Time: e.clock.Now()})
	if err != nil || rep.Done != 0 || !rep.More {
		t.Fatalf("a run out of time: %+v %v", rep, err)
	}
	if rep := run(e.clock.Now()); rep.Done != 1 {
		t.Fatalf("the next run continued with %+v", rep)
	}
}

// Of concurrent accepts with one token exactly one wins; the others are
// told the token is spent.
func TestConcurrentAcceptsOfOneToken(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("race", "example.com")
	e.invite(addr, nil)
	token := e.tokenIn(addr)
	rs := parallel(e, 6, func(w *env, i int) response {
		return w.do("POST", "/invitations/accept", "", acceptBody(token))
	})
	if got := statuses(rs); got[201] != 1 || got[400] != 5 {
		t.Fatalf("statuses %v", got)
	}
	for _, r := range rs {
		if r.status == 400 && r.str("code") != "token_invalid" {
			t.Fatalf("loser got %s", r.raw)
		}
	}
	u := e.userByEmail(addr)
	if u.Status != "active" {
		t.Fatalf("user %+v", u)
	}
	if me := e.must(200, e.do("GET", "/users/"+u.ID, e.admin, nil)); me.num("stats", "active_sessions") != 1 {
		t.Fatalf("sessions after the race: %s", me.raw)
	}
}

// With k seats left, N concurrent invitations give exactly k.
func TestConcurrentInvitationsAgainstSeats(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 4})) // the admin holds one
	rs := parallel(e, 8, func(w *env, i int) response {
		return w.do("POST", "/invitations", e.admin, map[string]any{"email": emailtest.Address(fmt.Sprintf("seat%d", i), "example.com"), "role": "member"})
	})
	if got := statuses(rs); got[201] != 3 || got[409] != 5 {
		t.Fatalf("statuses %v", got)
	}
	for _, r := range rs {
		if r.status == 409 && r.str("code") != "no_seats" {
			t.Fatalf("code %s", r.raw)
		}
	}
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.num("by_status", "invited") != 3 {
		t.Fatalf("summary %s", s.raw)
	}
}

// Failed uses of tokens count toward the source IP's limit, shared with
// sign-in: a guesser is locked out, whatever route it guesses through.
func TestBadTokensCountTowardTheIPLimit(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("ip", "example.com")
	e.invite(addr, nil)
	good := e.tokenIn(addr)
	g := e.from("127.0.0.23")
	bad := "umi_inv_aaaaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for i := range 30 {
		switch i % 3 {
		case 0:
			g.problem(400, "token_invalid", g.do("GET", lookup(bad), "", nil))
		case 1:
			g.problem(400, "token_invalid", g.do("POST", "/invitations/accept", "", acceptBody("garbage")))
		default:
			g.problem(400, "token_invalid", g.do("POST", "/invitations/decline", "", map[string]any{"token": bad}))
		}
	}
	r := g.problem(429, "throttled", g.do("GET", lookup(good), "", nil))
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	g.problem(429, "throttled", g.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
	g.problem(429, "throttled", g.do("POST", "/invitations/accept", "", acceptBody(good)))
	g.problem(429, "throttled", g.do("POST", "/invitations/decline", "", map[string]any{"token": good}))
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"allow_registration": true}))
	g.problem(429, "throttled", g.do("POST", "/auth/register", "", map[string]any{"email": emailtest.Address("reg", "example.com"),
		"password": "a long and unusual passphrase", "given_name": "R", "family_name": "G"}))
	// Another source is not affected, and the real token still works.
	e.from("127.0.0.24").must(200, e.from("127.0.0.24").do("GET", lookup(good), "", nil))
}

// A mail that cannot be sent loses nothing: the invitation says why, the
// send is not counted, and resend tries again.
func TestFailedSendIsRecordedAndResendRetries(t *testing.T) {
	var fail sync.Map // "all" → true: SES refuses every mail
	proxy := sesProxy(t, func() (sesFault, bool) {
		_, refuse := fail.Load("all")
		return sesFault{400, "MessageRejected", "Email address is not verified."}, refuse
	})
	e := newEnvWith(t, map[string]string{config.EnvSESEndpoint: proxy})
	addr := emailtest.Address("unsent", "example.com")
	fail.Store("all", true)
	inv := e.invite(addr, nil)
	if inv.num("sent_count") != 0 || inv.get("last_sent_at") != nil || !strings.Contains(inv.str("last_send_error"), "could not be sent") {
		t.Fatalf("invitation after a failed send %s", inv.raw)
	}
	if l := e.must(200, e.do("GET", "/invitations", e.admin, nil)); l.list("items")[0].(map[string]any)["last_send_error"] == nil {
		t.Fatalf("the failure is not recorded: %s", l.raw)
	}
	if len(e.mails(addr)) != 0 {
		t.Fatal("a mail was sent")
	}
	fail.Delete("all")
	again := e.must(200, e.do("POST", "/invitations/"+inv.str("id")+"/resend", e.admin, nil))
	if again.num("sent_count") != 1 || again.get("last_send_error") != nil {
		t.Fatalf("resend %s", again.raw)
	}
	if l := e.must(200, e.do("GET", "/invitations", e.admin, nil)); l.list("items")[0].(map[string]any)["last_send_error"] != nil {
		t.Fatalf("the failure outlived the send that succeeded: %s", l.raw)
	}
	e.must(200, e.do("GET", lookup(e.tokenIn(addr)), "", nil))
}

func TestRegister(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("self", "example.com")
	body := map[string]any{"email": addr, "password": "a long and unusual passphrase", "given_name": "Self", "family_name": "Made"}
	e.problem(403, "registration_disabled", e.do("POST", "/auth/register", "", body))
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"allow_registration": true, "license_count": 2}))
	e.problem(400, "validation_failed", e.do("POST", "/auth/register", "", map[string]any{"email": addr, "password": "short", "given_name": "", "family_name": "X"}))
	e.problem(400, "validation_failed", e.do("POST", "/auth/register", "", map[string]any{"email": addr, "password": "a long and unusual passphrase", "given_name": "A", "family_name": "B", "role": "admin"}))
	r := e.must(201, e.do("POST", "/auth/register", "", body))
	if r.str("user", "role") != "member" || r.str("user", "status") != "active" || r.str("user", "usage") != "connected" || r.header.Get("Location") != "/me" {
		t.Fatalf("register %s", r.raw)
	}
	e.must(200, e.do("GET", "/me", r.str("token"), nil))
	e.problem(409, "email_taken", e.do("POST", "/auth/register", "", body))
	e.problem(409, "no_seats", e.do("POST", "/auth/register", "", map[string]any{"email": emailtest.Address("full", "example.com"),
		"password": "a long and unusual passphrase", "given_name": "No", "family_name": "Seat"}))
}

// When an admin changes a user's email, the old address is told (someone
// who took over the account cannot quietly move it away), and the new
// one is where mail goes from then on.
func TestEmailChangeTellsTheOldAddress(t *testing.T) {
	e := newEnv(t)
	old, next := emailtest.Address("old", "example.com"), emailtest.Address("new", "example.com")
	id := e.createUser(old, "member", nil)
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Renamed"}))
	if n := len(e.mails(old)); n != 0 {
		t.Fatalf("%d mails for a change of name", n)
	}
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"email": strings.ToUpper(old)}))
	if n := len(e.mails(old)); n != 0 {
		t.Fatalf("%d mails for a change of case", n)
	}
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"email": next}))
	ms := e.mails(old)
	if len(ms) != 1 || ms[0].Subject != "Your email address was changed" || !strings.Contains(ms[0].Body.Text, next) ||
		!strings.Contains(ms[0].Body.Text, "Renamed") {
		t.Fatalf("mails to the old address: %+v", ms)
	}
	if n := len(e.mails(next)); n != 0 {
		t.Fatalf("%d mails to the new address", n)
	}
}

// sesFault is an SES error answer.
type sesFault struct {
	status           int
	errType, message string
}

// sesProxy is the SES emulator behind a proxy that answers the fault
// instead while fault says so; it returns the proxy's URL, for the env's
// SES endpoint.
func sesProxy(t *testing.T, fault func() (sesFault, bool)) string {
	target, _ := url.Parse(emailtest.Endpoint(t))
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, on := fault(); on {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Errortype", f.errType)
			w.WriteHeader(f.status)
			fmt.Fprintf(w, `{"message":%q}`, f.message)
			return
		}
		r.URL.Scheme, r.URL.Host, r.RequestURI = target.Scheme, target.Host, ""
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}
