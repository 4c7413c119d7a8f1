package devserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/email/emailtest"
)

// A user changes their own account only through /me: neither a session
// nor a personal key of a manager or an admin sets its own password, makes
// its own reset link or changes its own email, username, role or team
// through /users/{id} (self_action), and the account is unchanged after.
// Its names stay editable there, as through /me.
func TestOwnAccountOnlyThroughMe(t *testing.T) {
	e := newEnv(t)
	team := e.team("Self")
	for _, role := range []string{"admin", "manager"} {
		addr := emailtest.Address("self-"+role, "example.com")
		id := e.createUser(addr, role, map[string]any{"team_id": team, "username": "self" + role})
		session := e.login(addr, pw(addr))
		key := e.must(201, e.do("POST", "/me/api-keys", session, map[string]any{"name": "leaked"})).str("key")
		for cred, tok := range map[string]string{"session": session, "personal key": key} {
			t.Run(role+" "+cred, func(t *testing.T) {
				e := e.in(t)
				e.problem(403, "self_action", e.do("PUT", "/users/"+id+"/password", tok, map[string]any{"password": "taken over at last"}))
				e.problem(403, "self_action", e.do("PUT", "/users/"+id+"/password", tok, map[string]any{"password": "taken over at last", "end_sessions": false}))
				e.problem(403, "self_action", e.do("POST", "/users/"+id+"/password-reset", tok, map[string]any{}))
				e.problem(403, "self_action", e.do("POST", "/users/"+id+"/password-reset", tok, map[string]any{"send_email": true}))
				for field, v := range map[string]any{"email": "attacker@example.net", "username": "attacker", "role": "member", "team_id": nil} {
					e.problem(403, "self_action", e.do("PATCH", "/users/"+id, tok, map[string]any{field: v}))
				}
				// Names are not credentials.
				e.must(200, e.do("PATCH", "/users/"+id, tok, map[string]any{"display_name": "Still " + role}))
				// A key never changes its owner's password through /me either.
				if cred == "personal key" {
					e.problem(403, "forbidden", e.do("POST", "/me/password", tok, map[string]any{"current_password": pw(addr), "new_password": "taken over at last"}))
				}
			})
		}
		me := e.must(200, e.do("GET", "/me", session, nil))
		if me.str("email") != addr || me.str("username") != "self"+role || me.str("role") != role || me.str("team_id") != team {
			t.Fatalf("%s: the account changed: %s", role, me.raw)
		}
		e.login(addr, pw(addr))
		e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": "taken over at last"}))
		if len(e.mails(addr)) != 0 {
			t.Fatalf("%s: a reset link was mailed", role)
		}
		// Another admin still may.
		e.must(204, e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": "set by the admin, not by me"}))
	}
}

// Deactivation, deletion and anonymization void a user's reset link for
// good: activating or restoring the user later does not revive it, and a
// link being made when the deactivation lands is not made.
func TestStoppingAUserVoidsTheirResetLink(t *testing.T) {
	e := newStreamEnv(t, nil)
	for _, way := range []struct{ stop, back string }{{"deactivate", "activate"}, {"delete", "restore"}} {
		t.Run(way.stop, func(t *testing.T) {
			e := e.in(t)
			addr := emailtest.Address("void-"+way.stop, "example.com")
			id := e.createUser(addr, "member", nil)
			link := e.resetToken(e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{})).str("reset_url"))
			e.must(200, e.do("GET", resetLookup(link), "", nil))
			if way.stop == "delete" {
				e.must(202, e.do("DELETE", "/users/"+id, e.admin, nil))
			} else {
				e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
			}
			e.must(200, e.do("POST", "/users/"+id+"/"+way.back, e.admin, nil))
			e.problem(400, "token_invalid", e.do("GET", resetLookup(link), "", nil))
			e.problem(400, "token_invalid", e.do("POST", "/auth/password/reset", "", map[string]any{"token": link, "password": "revived link passphrase"}))
			e.login(addr, pw(addr))
		})
	}
	// A forgotten-password link asked for before a deactivation is not
	// made after it.
	addr := emailtest.Address("void-queued", "example.com")
	id := e.createUser(addr, "member", nil)
	e.must(202, e.do("POST", "/auth/password/forgot", "", map[string]any{"email": addr}))
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	e.must(200, e.do("POST", "/users/"+id+"/activate", e.admin, nil))
	if ms := e.mails(addr); len(ms) != 0 {
		t.Fatalf("a link queued before a deactivation was sent after it: %q", ms[0].Subject)
	}
	// The store refuses a link for a user no longer active, or no longer
	// at the session generation whoever made the link read a moment before.
	ctx := e.systemCtx()
	u, err := e.app.Store.GetUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	save := func(gen int) error {
		return e.app.Store.SaveReset(ctx, &auth.Reset{UserID: id, TokenHash: strings.Repeat("0", 64), CreatedAt: e.clock.Now(),
			ExpiresAt: e.clock.Now().Add(time.Hour), Gen: gen}, nil)
	}
	if err := save(u.SessionGen - 1); err == nil {
		t.Fatal("a reset link was saved for a user at an older session generation")
	}
	if err := save(u.SessionGen); err != nil {
		t.Fatalf("a reset link for an active user at their generation: %v", err)
	}
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	if err := save(u.SessionGen + 1); err == nil {
		t.Fatal("a reset link was saved for a deactivated user")
	}
}

// Anonymizing a person removes their IPs and user agents from every event
// about them: those they acted in, those about their account, and those
// about their invitations, including one they declined before they had an
// account.
func TestAnonymizeForgetsTheEventsAboutThePerson(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("declined-once", "example.com")
	ua := "Mozilla/5.0 DeclinerBrowser/1.2"
	declineIP, acceptIP, loginIP := "127.0.0.61", "127.0.0.62", "127.0.0.63"
	hdr := http.Header{"User-Agent": {ua}}
	e.invite(addr, nil)
	d := e.from(declineIP)
	d.must(204, d.send("POST", "/invitations/decline", "", map[string]any{"token": e.tokenIn(addr)}, hdr))
	e.invite(addr, nil)
	a := e.from(acceptIP)
	tok := a.must(201, a.send("POST", "/invitations/accept", "", map[string]any{"token": e.tokenIn(addr), "password": "accepted the second time",
		"given_name": "Once", "family_name": "Declined"}, hdr)).str("token")
	id := e.must(200, e.do("GET", "/me", tok, nil)).str("id")
	l := e.from(loginIP)
	l.must(200, l.send("POST", "/auth/login", "", map[string]any{"login": addr, "password": "accepted the second time"}, hdr))
	l.must(202, l.send("POST", "/auth/password/forgot", "", map[string]any{"email": addr}, hdr))
	if dump := e.scanTable(); !strings.Contains(dump, declineIP) || !strings.Contains(dump, acceptIP) || !strings.Contains(dump, loginIP) {
		t.Fatal("the events do not hold the IPs this test expects to see removed")
	}
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	e.must(200, e.do("POST", "/users/"+id+"/anonymize", e.admin, nil))
	dump := e.scanTable()
	for _, trace := range []string{declineIP, acceptIP, loginIP, ua, "DeclinerBrowser"} {
		if strings.Contains(dump, trace) {
			t.Errorf("the table still holds %q after anonymizing", trace)
		}
	}
	// The events themselves stay, with their ids.
	ev := e.must(200, e.do("GET", "/audit-events?action=invitation.declined", e.admin, nil))
	if len(ev.list("items")) != 1 {
		t.Fatalf("the declined invitation's event is gone: %s", ev.raw)
	}
}

// A list's cursor is good only for the list, the filters and the caller it
// was issued to: an altered, forged or foreign one gets 400
// validation_failed.
func TestCursorsAreAuthenticated(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.createUser(emailtest.Address("cursor"+string(rune('a'+i)), "example.com"), "member", nil)
	}
	first := e.must(200, e.do("GET", "/users?limit=1", e.admin, nil))
	cur := first.str("next_cursor")
	if cur == "" {
		t.Fatal("no next cursor")
	}
	e.must(200, e.do("GET", "/users?limit=1&cursor="+url.QueryEscape(cur), e.admin, nil))
	// Any other limit is the same list.
	e.must(200, e.do("GET", "/users?limit=2&cursor="+url.QueryEscape(cur), e.admin, nil))
	position, _, _ := strings.Cut(cur, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	otherAddr := emailtest.Address("cursor-admin", "example.com")
	e.createUser(otherAddr, "admin", nil)
	otherAdmin := e.login(otherAddr, pw(otherAddr))
	bad := map[string]string{
		"the position alone (unsigned)": "/users?limit=1&cursor=" + url.QueryEscape(position),
		"an altered position":           "/users?limit=1&cursor=" + url.QueryEscape(flip(cur, 2)),
		"an altered tag":                "/users?limit=1&cursor=" + url.QueryEscape(flip(cur, len(cur)-3)),
		"other filters":                 "/users?limit=1&status=active&cursor=" + url.QueryEscape(cur),
		"another list":                  "/audit-events?limit=1&cursor=" + url.QueryEscape(cur),
		"garbage":                       "/users?cursor=not-a-cursor.AAAA",
	}
	for name, path := range bad {
		r := e.problem(400, "validation_failed", e.do("GET", path, e.admin, nil))
		if !strings.Contains(r.raw, `"cursor"`) {
			t.Errorf("%s: %s", name, r.raw)
		}
	}
	// Another caller, even an admin who would see the same page.
	e.problem(400, "validation_failed", e.do("GET", "/users?limit=1&cursor="+url.QueryEscape(cur), otherAdmin, nil))
	// Every list with cursors seals them.
	for _, path := range []string{"/audit-events?limit=1", "/login-attempts?limit=1", "/sessions?limit=1"} {
		r := e.must(200, e.do("GET", path, e.admin, nil))
		c := r.str("next_cursor")
		if c == "" {
			t.Fatalf("%s: no next cursor", path)
		}
		e.must(200, e.do("GET", path+"&cursor="+url.QueryEscape(c), e.admin, nil))
		p, _, _ := strings.Cut(c, ".")
		e.problem(400, "validation_failed", e.do("GET", path+"&cursor="+url.QueryEscape(p), e.admin, nil))
	}
}

// Names that show as nothing are refused wherever a name is set.
func TestInvisibleNamesAreRefused(t *testing.T) {
	e := newEnv(t)
	me := e.login(adminEmail, adminPassword)
	for _, name := range []string{"\u3164", "\u2800", "\u3164\u3164 \u2800", "\u115f\u1160", "\uffa0", "\u200b\u2060", "\U000e0041"} {
		r := e.problem(400, "validation_failed", e.do("POST", "/users", e.admin, map[string]any{"email": emailtest.Address("blank", "example.com"),
			"password": "a fine long passphrase", "given_name": name, "family_name": "Visible", "role": "member"}))
		if !strings.Contains(r.raw, "given_name") {
			t.Errorf("%q: %s", name, r.raw)
		}
		e.problem(400, "validation_failed", e.do("PATCH", "/me", me, map[string]any{"display_name": name}))
		e.problem(400, "validation_failed", e.do("POST", "/teams", e.admin, map[string]any{"name": name}))
		e.problem(400, "validation_failed", e.do("POST", "/me/api-keys", me, map[string]any{"name": name}))
		e.problem(400, "validation_failed", e.do("POST", "/api-keys", e.admin, map[string]any{"name": name, "role": "member"}))
	}
	e.problem(400, "validation_failed", e.do("POST", "/me/api-keys", me, map[string]any{"name": "evil\u202egnp.exe"}))
}

// No password may be the product's name or the service's own, in any
// disguise a guesser tries first, on every route that sets one (SECURITY
// item 5, with the common passwords and the account's own words).
func TestPasswordsAreNotTheServicesName(t *testing.T) {
	e := newEnvWith(t, map[string]string{config.EnvProductName: "Acme Cloud"})
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"allow_registration": true}))
	addr := emailtest.Address("words", "example.com")
	id := e.createUser(addr, "member", nil)
	tok := e.login(addr, pw(addr))
	local, _, _ := strings.Cut(addr, "@")
	bad := []string{"Acme Cloud", "acmecloud", "AcmeCloud2026!", "user management", "UserManagement1", "password1", local + "1"}
	for _, p := range bad {
		routes := map[string]func() response{
			"create": func() response {
				return e.do("POST", "/users", e.admin, map[string]any{"email": addr, "password": p, "given_name": "G", "family_name": "F", "role": "member"})
			},
			"register": func() response {
				return e.do("POST", "/auth/register", "", map[string]any{"email": addr, "password": p, "given_name": "G", "family_name": "F"})
			},
			"set": func() response { return e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": p}) },
			"change": func() response {
				return e.do("POST", "/me/password", tok, map[string]any{"current_password": pw(addr), "new_password": p})
			},
			"reset": func() response {
				link := e.resetToken(e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{})).str("reset_url"))
				return e.do("POST", "/auth/password/reset", "", map[string]any{"token": link, "password": p})
			},
			"accept": func() response {
				inv := emailtest.Address("words-invited", "example.com")
				e.invite(inv, nil)
				return e.do("POST", "/invitations/accept", "", map[string]any{"token": e.tokenIn(inv), "password": p, "given_name": "G", "family_name": "F"})
			},
		}
		for name, call := range routes {
			if name == "accept" && p == local+"1" {
				continue // another person's email
			}
			r := call()
			if r.status != 400 || !strings.Contains(r.raw, "password") {
				t.Errorf("%s with %q: %d %s", name, p, r.status, r.raw)
			}
		}
	}
	e.login(addr, pw(addr))
}

// Making API keys is limited per caller: past KeysPerWindow in the window,
// 429 throttled with Retry-After, counted exactly under concurrency; the
// next window allows more (SECURITY item 48 for key creation).
func TestKeyCreationIsRateLimited(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("keymaker", "example.com")
	e.createUser(addr, "admin", nil)
	tok := e.login(addr, pw(addr))
	rs := parallel(e, auth.KeysPerWindow+10, func(w *env, i int) response {
		return w.do("POST", "/me/api-keys", tok, map[string]any{"name": "burst"})
	})
	made, limited := 0, 0
	for _, r := range rs {
		switch {
		case r.status == 201:
			made++
		case r.status == 429 && r.str("code") == "throttled" && r.header.Get("Retry-After") != "":
			limited++
		default:
			t.Fatalf("%d %s", r.status, r.raw)
		}
	}
	if made != auth.KeysPerWindow || limited != 10 {
		t.Fatalf("%d made and %d refused, want %d and 10", made, limited, auth.KeysPerWindow)
	}
	// System keys count toward the same caller.
	e.problem(429, "throttled", e.do("POST", "/api-keys", tok, map[string]any{"name": "sys", "role": "member"}))
	// Another caller has a count of their own.
	e.must(201, e.do("POST", "/api-keys", e.admin, map[string]any{"name": "sys", "role": "member"}))
	e.clock.Advance(auth.KeyWindow)
	e.admin = e.login(adminEmail, adminPassword)
	tok = e.login(addr, pw(addr))
	e.must(201, e.do("POST", "/api-keys", tok, map[string]any{"name": "next hour", "role": "member"}))
}

// A forgotten password is answered without waiting on the mail service:
// the request does not call it at all, and the link is sent from the
// outbox once the service answers again, at least once and then no more.
func TestForgotDoesNotWaitOnMail(t *testing.T) {
	var down atomic.Bool
	var calls atomic.Int32
	ses, err := url.Parse(emailtest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(ses)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if down.Load() {
			http.Error(w, `{"message":"down"}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	e := newStreamEnv(t, map[string]string{config.EnvSESEndpoint: front.URL})
	addr := emailtest.Address("forgot-outbox", "example.com")
	e.createUser(addr, "member", nil)
	down.Store(true)
	before := calls.Load()
	unknown := e.must(202, e.do("POST", "/auth/password/forgot", "", map[string]any{"email": emailtest.Address("nobody-here", "example.com")}))
	known := e.must(202, e.do("POST", "/auth/password/forgot", "", map[string]any{"email": addr}))
	if calls.Load() != before {
		t.Fatal("forgot-password called the mail service while the caller waited")
	}
	if known.raw != unknown.raw {
		t.Fatalf("answers differ: %q %q", known.raw, unknown.raw)
	}
	// The mail service is down: the message stays queued.
	if err := e.stream.Drain(context.Background()); err == nil {
		t.Fatal("a send that failed was not reported")
	}
	down.Store(false)
	ms := e.mails(addr)
	if len(ms) != 1 || ms[0].Subject != "Reset your password" {
		t.Fatalf("mails %+v, want one reset link", ms)
	}
	e.must(204, e.do("POST", "/auth/password/reset", "", map[string]any{"token": e.resetToken(ms[0].Link(t)), "password": "sent late but sent"}))
	if ms := e.mails(addr); len(ms) != 2 || ms[1].Subject != "Your password was changed" {
		t.Fatalf("after the reset: %d mails", len(ms))
	}
}

// The prepare-table job gives a table without a cursor key one (as the
// stack's deployment runs it), and keeps the key of one that has it: the
// cursors in flight stay good. Lists fail closed without a key.
func TestPrepareTableGivesTheCursorKey(t *testing.T) {
	e := newEnv(t)
	e.createUser(emailtest.Address("prep", "example.com"), "member", nil)
	cur := e.must(200, e.do("GET", "/users?limit=1", e.admin, nil)).str("next_cursor")
	meta := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "META"}, "sk": &types.AttributeValueMemberS{Value: "META"}}
	if _, err := e.ddb.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: meta,
		UpdateExpression: aws.String("REMOVE cursor_key")}); err != nil {
		t.Fatal(err)
	}
	e.problem(500, "internal", e.do("GET", "/users?limit=1", e.admin, nil))
	if !strings.Contains(e.logs.String(), "prepare-table") {
		t.Error("the log does not say what to run")
	}
	run, err := e.app.DeployJob("prepare-table")
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan cfn.Response, 2)
	cf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var resp cfn.Response
		_ = json.NewDecoder(r.Body).Decode(&resp)
		answered <- resp
	}))
	defer cf.Close()
	for round := range 2 {
		if _, err := run(context.Background(), cfn.Event{RequestType: cfn.RequestCreate, RequestID: "r", ResponseURL: cf.URL}); err != nil {
			t.Fatal(err)
		}
		if a := <-answered; a.Status != cfn.StatusSuccess {
			t.Fatalf("CloudFormation was answered %+v", a)
		}
		next := e.must(200, e.do("GET", "/users?limit=1", e.admin, nil)).str("next_cursor")
		e.must(200, e.do("GET", "/users?limit=1&cursor="+url.QueryEscape(next), e.admin, nil))
		// A new key seals the same position anew; a kept one alike.
		if (next == cur) != (round == 1) {
			t.Fatalf("round %d: the cursor key %s", round, map[bool]string{true: "did not change", false: "changed"}[next == cur])
		}
		cur = next
	}
}
