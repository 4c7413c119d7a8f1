package devserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/auth"
)

func TestLoginMeLogout(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": "ROOT@example.com", "password": adminPassword}))
	token := r.str("token")
	if !strings.HasPrefix(token, auth.SessionPrefix) || len(token) < 70 {
		t.Fatalf("token %q", token)
	}
	if r.str("session", "device") != "Firefox on Windows" || r.get("session", "current") != true || r.str("session", "ip") != "127.0.0.1" {
		t.Fatalf("session %v", r.get("session"))
	}
	if r.str("user", "email") != adminEmail || r.str("user", "usage") != "connected" || r.get("user", "last_login_at") == nil {
		t.Fatalf("user %v", r.get("user"))
	}
	if strings.Contains(r.raw, "password_hash") || strings.Contains(r.raw, "argon2") {
		t.Fatal("the login response leaks the password hash")
	}

	me := e.must(200, e.do("GET", "/me", token, nil))
	// Two sessions: the harness's and this one.
	if me.num("stats", "active_sessions") != 2 || me.get("stats", "api_keys") != float64(0) {
		t.Fatalf("stats %v", me.get("stats"))
	}
	e.must(204, e.do("POST", "/auth/logout", token, nil))
	e.problem(401, "unauthorized", e.do("GET", "/me", token, nil))
	e.problem(401, "unauthorized", e.do("POST", "/auth/logout", token, nil))
	// The other session is untouched.
	if e.must(200, e.do("GET", "/me", e.admin, nil)).num("stats", "active_sessions") != 1 {
		t.Fatal("logout ended another session")
	}
}

func TestLoginByUsername(t *testing.T) {
	e := newEnv(t)
	e.createUser("ada@example.com", "member", map[string]any{"username": "Ada.L"})
	e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": "ada.l", "password": "pw for ada@example.com"}))
}

func TestBadCredentialsLookAlike(t *testing.T) {
	e := newEnv(t)
	unknown := e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": "nobody@example.com", "password": "whatever it is"}))
	wrong := e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": "not the password"}))
	if unknown.raw != wrong.raw {
		t.Fatalf("bodies differ:\n%s\n%s", unknown.raw, wrong.raw)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Retry-After"} {
		if unknown.header.Get(h) != wrong.header.Get(h) {
			t.Fatalf("header %s differs", h)
		}
	}
}

func TestMalformedTokensAreUnauthorized(t *testing.T) {
	e := newEnv(t)
	uid := e.must(200, e.do("GET", "/me", e.admin, nil)).str("id")
	for _, tok := range []string{"", "garbage", "ums_", "ums_" + uid, "ums_" + uid + ".short", "umk_" + uid + "." + strings.Repeat("A", 43),
		"ums_" + uid + "." + strings.Repeat("A", 43), e.admin + "x", strings.Replace(e.admin, uid, "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", 1)} {
		e.problem(401, "unauthorized", e.do("GET", "/me", tok, nil))
	}
}

func TestThrottleAfterFiveFailures(t *testing.T) {
	e := newEnv(t)
	bad := map[string]any{"login": adminEmail, "password": "wrong guess"}
	good := map[string]any{"login": adminEmail, "password": adminPassword}
	for range auth.FreeFailures {
		e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", bad))
	}
	r := e.problem(429, "throttled", e.do("POST", "/auth/login", "", good))
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	e.clock.Advance(auth.FirstLock + time.Second)
	// After the lock, the right password works and resets the count.
	e.must(200, e.do("POST", "/auth/login", "", good))
	for range auth.FreeFailures - 1 {
		e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", bad))
	}
	e.must(200, e.do("POST", "/auth/login", "", good))
}

func TestThrottleDoublesAndCaps(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		failures int
		wait     time.Duration
	}{{4, 0}, {5, time.Minute}, {6, 2 * time.Minute}, {7, 4 * time.Minute}, {8, 8 * time.Minute}, {9, 15 * time.Minute}, {100, 15 * time.Minute}}
	for _, c := range cases {
		got := auth.LockedUntil(c.failures, base)
		if c.wait == 0 && !got.IsZero() || c.wait != 0 && got.Sub(base) != c.wait {
			t.Errorf("LockedUntil(%d) = %v, want +%v", c.failures, got, c.wait)
		}
	}
}

func TestUnknownLoginsAreThrottledAlike(t *testing.T) {
	e := newEnv(t)
	bad := map[string]any{"login": "ghost@example.com", "password": "wrong guess"}
	for range auth.FreeFailures {
		e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", bad))
	}
	e.problem(429, "throttled", e.do("POST", "/auth/login", "", bad))
}

// Parallel guesses are all counted (an atomic ADD): every guess that was
// checked (401) raised the count by exactly one; those that arrived after the
// lock were refused unchecked (429). None slips past: the right password is
// refused afterwards.
func TestParallelGuessesAreCountedExactly(t *testing.T) {
	e := newEnv(t)
	const n = 24
	rs := parallel(e, n, func(w *env, _ int) response {
		return w.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": "parallel wrong guess"})
	})
	got := statuses(rs)
	if got[401]+got[429] != n || got[401] < auth.FreeFailures {
		t.Fatalf("statuses %v", got)
	}
	uid := e.must(200, e.do("GET", "/me", e.admin, nil)).str("id")
	u, err := e.app.Store.GetUser(e.systemCtx(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if u.FailedLogins != got[401] {
		t.Fatalf("failed_logins = %d, want exactly the %d checked guesses", u.FailedLogins, got[401])
	}
	e.problem(429, "throttled", e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
}

// A right password checked before a burst of wrong guesses locked the
// account, and written after, is refused: the success is conditioned on the
// failure count it read. The hook makes that interleaving happen every time:
// five wrong guesses land between the right one's read and its write.
func TestARightPasswordCannotSlipPastALock(t *testing.T) {
	e := newEnv(t)
	e.hooks.Before("login", "TransactWriteItems", func(context.Context) {
		for range auth.FreeFailures {
			e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": "burst wrong guess"}))
		}
	})
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
	if e.hooks.Pending() != 0 {
		t.Fatal("the hook never ran")
	}
	// The account is locked: the right password waits like any other.
	e.problem(429, "throttled", e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
}

// Anything else that changes the user between a sign-in's read and write (a
// sign-in on another device, a profile edit, ending all sessions) does not
// refuse a right password: the sign-in is decided again and succeeds.
func TestASignInSurvivesOtherChanges(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("busy@example.com", "member", nil)
	pw := "pw for busy@example.com"
	for _, change := range []func(){
		func() { e.login("busy@example.com", pw) }, // the first sign-in also moves usage to connected
		func() { e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Edited"})) },
		func() { e.login("busy@example.com", pw) },
	} {
		e.hooks.Before("login", "TransactWriteItems", func(context.Context) { change() })
		r := e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": "busy@example.com", "password": pw}))
		e.must(200, e.do("GET", "/me", r.str("token"), nil))
		if e.hooks.Pending() != 0 {
			t.Fatal("the hook never ran")
		}
	}
	s := e.must(200, e.do("GET", "/summary", e.admin, nil))
	if s.num("connected_not_used") != 2 || s.num("registered_not_connected") != 0 {
		t.Fatalf("counters after overlapping sign-ins: %s", s.raw)
	}
}

// Overlapping sign-ins of one user all succeed (two devices, a double
// click), while parallel wrong guesses are still counted exactly.
func TestOverlappingSignIns(t *testing.T) {
	e := newEnv(t)
	e.createUser("multi@example.com", "member", nil)
	rs := parallel(e, 20, func(w *env, _ int) response {
		return w.do("POST", "/auth/login", "", map[string]any{"login": "multi@example.com", "password": "pw for multi@example.com"})
	})
	if got := statuses(rs); got[200] != 20 {
		t.Fatalf("20 correct sign-ins: %v", got)
	}
	s := e.must(200, e.do("GET", "/summary", e.admin, nil))
	if s.num("connected_not_used") != 2 || s.num("registered_not_connected") != 0 {
		t.Fatalf("counters: %s", s.raw)
	}
	e.createUser("guessed@example.com", "member", nil)
	bad := e.from("127.0.0.2")
	rs = parallel(bad, 50, func(w *env, _ int) response {
		return w.do("POST", "/auth/login", "", map[string]any{"login": "guessed@example.com", "password": "a wrong guess"})
	})
	got := statuses(rs)
	u := e.userByEmail("guessed@example.com")
	if u.FailedLogins != got[401] || got[401]+got[429] != 50 || got[401] < auth.FreeFailures {
		t.Fatalf("failed_logins %d after %v", u.FailedLogins, got)
	}
	e.problem(429, "throttled", e.do("POST", "/auth/login", "", map[string]any{"login": "guessed@example.com", "password": "pw for guessed@example.com"}))
}

// The per-IP limit is one conditional write: of N parallel failures from one
// address with k left below the limit, exactly k are checked and counted
// (401) and the rest refused (429), across any number of accounts.
func TestThePerIPLimitHoldsUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(0) // one window
	spray := e.from("127.0.0.3")
	rs := parallel(spray, 80, func(w *env, i int) response {
		return w.do("POST", "/auth/login", "", map[string]any{"login": fmt.Sprintf("spray%d@example.com", i), "password": "spray guess"})
	})
	if got := statuses(rs); got[401] != auth.IPFailureLimit || got[429] != 80-auth.IPFailureLimit {
		t.Fatalf("80 parallel failures against a limit of %d: %v", auth.IPFailureLimit, got)
	}
	for _, r := range rs {
		if r.status == 429 && r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	// Another address is not limited by this one.
	e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
}

func TestLoginValidation(t *testing.T) {
	e := newEnv(t)
	r := e.problem(400, "validation_failed", e.do("POST", "/auth/login", "", map[string]any{}))
	if len(r.get("errors").([]any)) != 2 {
		t.Fatalf("errors %v", r.get("errors"))
	}
}

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	// Defaults: idle 168 h, absolute 720 h.
	e.clock.Advance(167 * time.Hour)
	e.must(200, e.do("GET", "/me", e.admin, nil)) // activity: written, as it is stale
	e.clock.Advance(167 * time.Hour)
	e.must(200, e.do("GET", "/me", e.admin, nil))
	e.clock.Advance(168*time.Hour + time.Second)
	e.problem(401, "unauthorized", e.do("GET", "/me", e.admin, nil))

	token := e.login(adminEmail, adminPassword)
	for range 4 {
		e.clock.Advance(167 * time.Hour)
		e.must(200, e.do("GET", "/me", token, nil))
	}
	e.clock.Advance(720*time.Hour - 4*167*time.Hour - time.Second)
	e.must(200, e.do("GET", "/me", token, nil))
	e.clock.Advance(2 * time.Second)
	e.problem(401, "unauthorized", e.do("GET", "/me", token, nil))
}

func TestRoleChangeBitesOnTheNextRequest(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("mgr@example.com", "admin", nil)
	tok := e.login("mgr@example.com", "pw for mgr@example.com")
	e.must(200, e.do("GET", "/settings", tok, nil))
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"role": "member"}))
	e.problem(403, "forbidden", e.do("GET", "/settings", tok, nil))
	e.problem(403, "forbidden", e.do("GET", "/users", tok, nil))
	e.must(200, e.do("GET", "/me", tok, nil))
}

func TestNoSecretInLogs(t *testing.T) {
	e := newEnv(t)
	e.createUser("leak@example.com", "member", nil)
	tok := e.login("leak@example.com", "pw for leak@example.com")
	e.do("POST", "/auth/login", "", map[string]any{"login": "leak@example.com", "password": "a wrong secret guess"})
	r := e.do("GET", "/me?token="+tok, tok, nil)
	logs := e.logs.String()
	// The response's request id is the one in that request's log line.
	if id := r.header.Get("X-Request-Id"); id == "" || !strings.Contains(logs, `"request_id":"`+id+`"`) {
		t.Fatalf("request id %q is not in the logs", id)
	}
	_, secret, _ := strings.Cut(tok, ".")
	for _, s := range []string{"pw for leak@example.com", "a wrong secret guess", adminPassword, secret, "argon2id"} {
		if strings.Contains(logs, s) {
			t.Fatalf("the logs contain a secret: %q", s)
		}
	}

	// Every request's line says what it was, how it ended, how long it
	// took and how many DynamoDB calls it made: a GET /me, two (the
	// authentication, the query of its stats); the refused one, none.
	me := e.must(200, e.do("GET", "/me", tok, nil))
	calls := map[string]float64{}
	for line := range strings.Lines(e.logs.String()) {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("a log line that is not JSON: %q", line)
		}
		if l["msg"] != "request" {
			continue
		}
		for _, k := range []string{"request_id", "route", "method", "path", "status", "duration_ms", "ip", "dynamodb_calls"} {
			if _, ok := l[k]; !ok {
				t.Fatalf("a request line without %s: %q", k, line)
			}
		}
		calls[l["request_id"].(string)] = l["dynamodb_calls"].(float64)
	}
	if got := calls[me.header.Get("X-Request-Id")]; got != 2 {
		t.Errorf("GET /me logged %v DynamoDB calls, want 2", got)
	}
	if got, ok := calls[r.header.Get("X-Request-Id")]; !ok || got != 0 {
		t.Errorf("the refused request logged %v DynamoDB calls, want 0", got)
	}
}

// Spraying many accounts from one address: each account stays under its own
// limit, but the address is locked out for the rest of the window, even for a
// right password; another window lets it try again.
func TestOneSourceIPIsLimitedAcrossAccounts(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(0) // freeze the clock inside one window
	for i := range auth.IPFailureLimit {
		login := map[string]any{"login": fmt.Sprintf("spray%d@example.com", i%10), "password": "spray guess"}
		e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", login))
	}
	r := e.problem(429, "throttled", e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	e.clock.Advance(auth.IPWindow)
	e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
}

// Two logouts with one token, both past authentication before either ends
// the session (the hook holds the first until the second is done): both get
// 204, the session is ended either way.
func TestRacingLogoutsBothSucceed(t *testing.T) {
	e := newEnv(t)
	tok := e.login(adminEmail, adminPassword)
	var second response
	e.hooks.Before("logout", "TransactWriteItems", func(context.Context) {
		second = e.do("POST", "/auth/logout", tok, nil)
	})
	e.must(204, e.do("POST", "/auth/logout", tok, nil))
	e.must(204, second)
	e.problem(401, "unauthorized", e.do("GET", "/me", tok, nil))
}

// Times carry at most milliseconds, which every RFC 3339 parser reads.
func TestTimesHaveAtMostMilliseconds(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword}))
	precise := regexp.MustCompile(`\.\d{4,}Z`)
	for _, v := range []string{r.str("session", "created_at"), r.str("session", "expires_at"), r.str("user", "last_login_at")} {
		if _, err := time.Parse(time.RFC3339, v); err != nil || precise.MatchString(v) || !strings.HasSuffix(v, "Z") {
			t.Fatalf("time %q", v)
		}
	}
}
