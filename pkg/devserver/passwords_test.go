package devserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/email/emailtest"
)

// resetToken is the token of a reset link.
func (e *env) resetToken(link string) string {
	e.t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Query().Get("token"), "umr_usr_") {
		e.fatalf("reset link %q", link)
	}
	want := e.app.Config.PublicBaseURL.String() + "/pages/reset-password?token="
	if !strings.HasPrefix(link, want) {
		e.fatalf("reset link %q, want %s...", link, want)
	}
	return u.Query().Get("token")
}

func resetLookup(token string) string { return "/auth/password/reset?token=" + url.QueryEscape(token) }

// An admin sets a password: the rules apply, sessions end unless told
// otherwise, a lockout clears, and the user is told.
func TestSetPassword(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("setpw", "example.com")
	id := e.createUser(addr, "member", nil)
	tok := e.login(addr, pw(addr))
	e.problem(400, "validation_failed", e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": "password"}))
	e.problem(400, "validation_failed", e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": addr}))
	e.must(204, e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": "the first new passphrase", "end_sessions": false}))
	e.must(200, e.do("GET", "/me", tok, nil))
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": pw(addr)}))
	for range 5 {
		e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": "wrong guess again"})
	}
	e.problem(429, "throttled", e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": "the first new passphrase"}))
	e.must(204, e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": "the second new passphrase"}))
	e.problem(401, "unauthorized", e.do("GET", "/me", tok, nil))
	e.login(addr, "the second new passphrase") // the lockout is gone
	ms := e.mails(addr)
	if len(ms) != 2 || ms[1].Subject != "Your password was changed" {
		t.Fatalf("mails %+v", ms)
	}
}

// A reset link to copy or to email: single use, even under concurrent
// uses; it expires; a newer one voids the older; using it ends every
// session, clears a lockout, tells the user, and signs no one in.
func TestResetLinks(t *testing.T) {
	e := newStreamEnv(t, nil)
	addr := emailtest.Address("reset", "example.com")
	id := e.createUser(addr, "member", map[string]any{"username": "resetme"})
	tok := e.login(addr, pw(addr))
	first := e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{}))
	if first.get("email_sent") != false || len(e.mails(addr)) != 0 {
		t.Fatalf("a link to copy was mailed: %s", first.raw)
	}
	old := e.resetToken(first.str("reset_url"))
	second := e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{"send_email": true}))
	if second.get("email_sent") != true {
		t.Fatalf("send_email: %s", second.raw)
	}
	mailed := e.resetToken(e.mails(addr)[0].Link(t))
	if mailed != e.resetToken(second.str("reset_url")) || strings.Contains(e.logs.String(), mailed) || strings.Contains(e.scanTable(), mailed[strings.IndexByte(mailed, '.')+1:]) {
		t.Fatal("the mailed link is not the answer's, or its token was logged or stored")
	}
	e.problem(400, "token_invalid", e.do("GET", resetLookup(old), "", nil)) // voided by the newer
	view := e.must(200, e.do("GET", resetLookup(mailed), "", nil))
	if view.str("email") != addr || view.num("password_min_length") != 8 {
		t.Fatalf("lookup %s", view.raw)
	}
	e.problem(400, "validation_failed", e.do("POST", "/auth/password/reset", "", map[string]any{"token": mailed, "password": "resetme"}))

	// Locked out, then reset: the lock goes with the old password.
	for range 5 {
		e.do("POST", "/auth/login", "", map[string]any{"login": addr, "password": "wrong guess again"})
	}
	rs := parallel(e, 5, func(w *env, i int) response {
		return w.do("POST", "/auth/password/reset", "", map[string]any{"token": mailed, "password": "a fresh passphrase " + string(rune('a'+i))})
	})
	if got := statuses(rs); got[204] != 1 || got[400] != 4 {
		t.Fatalf("concurrent resets with one token: %v", got)
	}
	var won string
	for i, r := range rs {
		if r.status == 204 {
			won = "a fresh passphrase " + string(rune('a'+i))
			if r.raw != "" {
				t.Fatalf("a reset answered %s: it signs no one in", r.raw)
			}
		} else if r.str("code") != "token_invalid" {
			t.Fatalf("loser %s", r.raw)
		}
	}
	e.problem(401, "unauthorized", e.do("GET", "/me", tok, nil))
	e.login(addr, won)
	e.problem(400, "token_invalid", e.do("POST", "/auth/password/reset", "", map[string]any{"token": mailed, "password": "yet another passphrase"}))
	if ms := e.mails(addr); ms[len(ms)-1].Subject != "Your password was changed" {
		t.Fatalf("last mail %q", ms[len(ms)-1].Subject)
	}

	// Expiry is checked at use.
	late := e.resetToken(e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{})).str("reset_url"))
	e.clock.Advance(61 * time.Minute)
	e.problem(410, "token_expired", e.do("GET", resetLookup(late), "", nil))
	e.problem(410, "token_expired", e.do("POST", "/auth/password/reset", "", map[string]any{"token": late, "password": "yet another passphrase"}))
	e.admin = e.login(adminEmail, adminPassword)
	e.problem(400, "token_invalid", e.do("GET", resetLookup("umr_nonsense"), "", nil))
	e.problem(400, "validation_failed", e.do("GET", "/auth/password/reset", "", nil))

	// Only active users get a link.
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	e.problem(409, "invalid_state", e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{}))
}

// Forgot answers alike for every email; only an active account gets mail,
// at most three an hour.
func TestForgotPassword(t *testing.T) {
	e := newStreamEnv(t, nil)
	known, gone, unknown := emailtest.Address("known", "example.com"), emailtest.Address("gone", "example.com"), emailtest.Address("nobody", "example.com")
	e.createUser(known, "member", nil)
	goneID := e.createUser(gone, "member", nil)
	e.must(200, e.do("POST", "/users/"+goneID+"/deactivate", e.admin, nil))
	var bodies []string
	for _, addr := range []string{known, gone, unknown} {
		start := time.Now()
		r := e.must(202, e.do("POST", "/auth/password/forgot", "", map[string]any{"email": addr}))
		if took := time.Since(start); took < 300*time.Millisecond {
			t.Fatalf("forgot for %s answered in %s, before its floor", addr, took)
		}
		bodies = append(bodies, r.raw)
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Fatalf("answers differ: %q", bodies)
	}
	if len(e.mails(known)) != 1 || len(e.mails(gone)) != 0 || len(e.mails(unknown)) != 0 {
		t.Fatal("mail went to other than the active account")
	}
	e.must(204, e.do("POST", "/auth/password/reset", "", map[string]any{"token": e.resetToken(e.mails(known)[0].Link(t)), "password": "remembered at last"}))
	e.login(known, "remembered at last")
	for range 4 {
		e.must(202, e.do("POST", "/auth/password/forgot", "", map[string]any{"email": known}))
	}
	links := 0
	for _, m := range e.mails(known) {
		if m.Subject == "Reset your password" {
			links++
		}
	}
	if links != 3 {
		t.Fatalf("%d reset mails within the hour, want 3", links)
	}
	e.problem(400, "validation_failed", e.do("POST", "/auth/password/forgot", "", map[string]any{"email": "not an email"}))
}

// Changing one's own password needs the current one (a wrong one counts
// as a failed sign-in) and ends the other sessions, not this one.
func TestChangeOwnPassword(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("change", "example.com")
	e.createUser(addr, "member", nil)
	this, other := e.login(addr, pw(addr)), e.login(addr, pw(addr))
	r := e.problem(400, "validation_failed", e.do("POST", "/me/password", this, map[string]any{"current_password": "not it", "new_password": "a brand new passphrase"}))
	if !strings.Contains(r.raw, "current_password") {
		t.Fatalf("wrong current password: %s", r.raw)
	}
	e.problem(400, "validation_failed", e.do("POST", "/me/password", this, map[string]any{"current_password": pw(addr), "new_password": "password"}))
	e.must(204, e.do("POST", "/me/password", this, map[string]any{"current_password": pw(addr), "new_password": "a brand new passphrase"}))
	e.must(200, e.do("GET", "/me", this, nil))
	e.problem(401, "unauthorized", e.do("GET", "/me", other, nil))
	if s := e.must(200, e.do("GET", "/me/sessions", this, nil)); len(s.list("items")) != 1 {
		t.Fatalf("sessions after the change %s", s.raw)
	}
	e.login(addr, "a brand new passphrase")
	if ms := e.mails(addr); len(ms) != 1 || ms[0].Subject != "Your password was changed" {
		t.Fatalf("mails %+v", ms)
	}
	// The change cleared the earlier failure: five more lock the account.
	for range 5 {
		e.problem(400, "validation_failed", e.do("POST", "/me/password", this, map[string]any{"current_password": "still not it", "new_password": "another new passphrase"}))
	}
	r = e.problem(429, "throttled", e.do("POST", "/me/password", this, map[string]any{"current_password": "a brand new passphrase", "new_password": "another new passphrase"}))
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// Sessions: the caller's own, marked current; another user's is not
// found; a manager sees their team's; revocation bites on the next request.
func TestSessions(t *testing.T) {
	e := newEnv(t)
	red, blue := e.team("Red"), e.team("Blue")
	e.createUser("mgr@example.com", "manager", map[string]any{"team_id": red})
	mgr := e.login("mgr@example.com", pw("mgr@example.com"))
	redID := e.createUser("red@example.com", "member", map[string]any{"team_id": red})
	blueID := e.createUser("blue@example.com", "member", map[string]any{"team_id": blue})
	redAdminID := e.createUser("redadmin@example.com", "admin", map[string]any{"team_id": red})
	redTok := e.from("127.0.0.31").login("red@example.com", pw("red@example.com"))
	e.from("127.0.0.31").login("red@example.com", pw("red@example.com"))
	blueTok := e.login("blue@example.com", pw("blue@example.com"))
	e.login("redadmin@example.com", pw("redadmin@example.com"))

	mine := e.must(200, e.do("GET", "/me/sessions", redTok, nil))
	current := 0
	for _, it := range mine.list("items") {
		m := it.(map[string]any)
		if m["current"] == true {
			current++
		}
		if m["ip"] != "127.0.0.31" || m["device"] != "Firefox on Windows" || m["user_display_name"] != "Given Family" {
			t.Fatalf("session %v", m)
		}
	}
	if len(mine.list("items")) != 2 || current != 1 {
		t.Fatalf("my sessions %s", mine.raw)
	}
	blueSessions := e.must(200, e.do("GET", "/users/"+blueID+"/sessions", e.admin, nil)).list("items")
	blueSession := blueSessions[0].(map[string]any)["id"].(string)
	e.problem(404, "not_found", e.do("DELETE", "/me/sessions/"+blueSession, redTok, nil))
	e.must(200, e.do("GET", "/me", blueTok, nil))

	// The manager: their team's sessions only, and not an admin's to end.
	list := e.must(200, e.do("GET", "/sessions", mgr, nil))
	for _, it := range list.list("items") {
		if uid := it.(map[string]any)["user_id"]; uid == blueID {
			t.Fatalf("a manager sees another team's session: %s", list.raw)
		}
	}
	if n := len(list.list("items")); n != 3 { // their own, red's two; not the red admin's
		t.Fatalf("manager's sessions: %d %s", n, list.raw)
	}
	e.problem(403, "forbidden", e.do("GET", "/sessions?user_id="+blueID, mgr, nil))
	e.problem(404, "not_found", e.do("GET", "/users/"+blueID+"/sessions", mgr, nil))
	e.problem(404, "not_found", e.do("DELETE", "/sessions/"+blueSession, mgr, nil))
	adminSession := e.must(200, e.do("GET", "/sessions?user_id="+redAdminID, e.admin, nil)).list("items")[0].(map[string]any)["id"].(string)
	e.problem(404, "not_found", e.do("DELETE", "/sessions/"+adminSession, mgr, nil))
	if all := e.must(200, e.do("GET", "/sessions?limit=2", e.admin, nil)); len(all.list("items")) != 2 || all.str("next_cursor") == "" {
		t.Fatalf("admin's first page %s", all.raw)
	}

	// A user moved to Blue: their sessions move with them.
	e.must(200, e.do("PATCH", "/users/"+redID, e.admin, map[string]any{"team_id": blue, "display_name": "Moved Person"}))
	if n := len(e.must(200, e.do("GET", "/sessions", mgr, nil)).list("items")); n != 1 { // their own
		t.Fatalf("after the move the manager sees %d sessions", n)
	}
	if s := e.must(200, e.do("GET", "/me/sessions", redTok, nil)); s.list("items")[0].(map[string]any)["user_display_name"] != "Moved Person" {
		t.Fatalf("sessions keep the old name: %s", s.raw)
	}

	// Ending one, then all.
	e.must(204, e.do("DELETE", "/sessions/"+blueSession, e.admin, nil))
	e.problem(401, "unauthorized", e.do("GET", "/me", blueTok, nil))
	e.problem(404, "not_found", e.do("DELETE", "/sessions/"+blueSession, e.admin, nil))
	e.must(204, e.do("DELETE", "/users/"+redID+"/sessions", e.admin, nil))
	e.problem(401, "unauthorized", e.do("GET", "/me", redTok, nil))
	own := e.login("red@example.com", pw("red@example.com"))
	ownID := e.must(200, e.do("GET", "/me/sessions", own, nil)).list("items")[0].(map[string]any)["id"].(string)
	e.must(204, e.do("DELETE", "/me/sessions/"+ownID, own, nil))
	e.problem(401, "unauthorized", e.do("GET", "/me", own, nil))
	e.problem(400, "validation_failed", e.do("GET", "/me/sessions?limit=5", e.admin, nil))
}

// Sign-in attempts: every one listed, newest first, by user, by outcome,
// since a time; never older than 90 days.
func TestLoginAttempts(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("att@example.com", "member", nil)
	e.login("att@example.com", pw("att@example.com"))
	e.problem(401, "invalid_credentials", e.send("POST", "/auth/login", "", map[string]any{"login": "ATT@example.com", "password": "wrong"},
		http.Header{"User-Agent": {"curl/8.5.0"}}))
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": "nobody@example.com", "password": "wrong"}))
	mine := e.must(200, e.do("GET", "/login-attempts?user_id="+id, e.admin, nil))
	items := mine.list("items")
	if len(items) != 2 || items[0].(map[string]any)["success"] != false || items[0].(map[string]any)["user_agent"] != "curl/8.5.0" ||
		items[0].(map[string]any)["reason"] != "invalid_credentials" || items[1].(map[string]any)["success"] != true {
		t.Fatalf("attempts of the user %s", mine.raw)
	}
	failed := e.must(200, e.do("GET", "/login-attempts?success=false", e.admin, nil))
	for _, it := range failed.list("items") {
		if it.(map[string]any)["success"] != false {
			t.Fatalf("success=false listed %v", it)
		}
	}
	if n := len(failed.list("items")); n != 2 {
		t.Fatalf("%d failed attempts", n)
	}
	since := e.clock.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	if r := e.must(200, e.do("GET", "/login-attempts?since="+since, e.admin, nil)); len(r.list("items")) != 0 {
		t.Fatalf("since the future %s", r.raw)
	}
	e.problem(400, "validation_failed", e.do("GET", "/login-attempts?success=maybe&since=yesterday", e.admin, nil))
	page := e.must(200, e.do("GET", "/login-attempts?limit=1", e.admin, nil))
	if page.str("next_cursor") == "" {
		t.Fatalf("first page %s", page.raw)
	}
	e.must(200, e.do("GET", "/login-attempts?limit=1&cursor="+url.QueryEscape(page.str("next_cursor")), e.admin, nil))
	e.clock.Advance(91 * 24 * time.Hour)
	admin := e.login(adminEmail, adminPassword)
	if r := e.must(200, e.do("GET", "/login-attempts?user_id="+id, admin, nil)); len(r.list("items")) != 0 {
		t.Fatalf("attempts past 90 days are shown: %s", r.raw)
	}
}

// The answers that only a misuse of the conventions brings: a reused
// Idempotency-Key, a bad one, an unknown query parameter, a throttled
// source, a user that does not exist.
func TestLifecycleRoutesRefuseMisuse(t *testing.T) {
	e := newEnv(t)
	addr := emailtest.Address("misuse", "example.com")
	id := e.createUser(addr, "member", nil)
	tok := e.login(addr, pw(addr))
	reuse := func(path, token string, first, second map[string]any) {
		t.Helper()
		key := http.Header{"Idempotency-Key": {"reuse-" + path}}
		e.send("POST", path, token, first, key)
		e.problem(409, "idempotency_conflict", e.send("POST", path, token, second, key))
	}
	reuse("/auth/password/forgot", "", map[string]any{"email": addr}, map[string]any{"email": "other@example.com"})
	// A key is spent by a success only.
	reuse("/me/password", tok, map[string]any{"current_password": pw(addr), "new_password": "a new passphrase here"},
		map[string]any{"current_password": "a new passphrase here", "new_password": "another passphrase"})
	link := e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{})).str("reset_url")
	reuse("/auth/password/reset", "", map[string]any{"token": e.resetToken(link), "password": "one passphrase here"},
		map[string]any{"token": e.resetToken(link), "password": "two passphrase here"})
	long := http.Header{"Idempotency-Key": {strings.Repeat("k", 256)}}
	for _, act := range []string{"deactivate", "activate", "restore", "anonymize"} {
		e.problem(400, "validation_failed", e.send("POST", "/users/"+id+"/"+act, e.admin, nil, long))
	}
	e.problem(404, "not_found", e.do("PUT", "/users/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa/password", e.admin, map[string]any{"password": "a new passphrase here"}))
	e.problem(400, "validation_failed", e.do("GET", "/users/"+id+"/sessions?limit=5", e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/sessions?limit=0", e.admin, nil))

	g := e.from("127.0.0.45")
	for range 30 {
		g.problem(400, "token_invalid", g.do("GET", resetLookup("umr_garbage"), "", nil))
	}
	g.problem(429, "throttled", g.do("GET", resetLookup("umr_garbage"), "", nil))
	g.problem(429, "throttled", g.do("POST", "/auth/password/reset", "", map[string]any{"token": "umr_garbage", "password": "one passphrase here"}))
	// Forgot answers alike even then.
	g.must(202, g.do("POST", "/auth/password/forgot", "", map[string]any{"email": addr}))
}
