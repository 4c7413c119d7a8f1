package devserver_test

import (
	"context"
	"strings"
	"testing"
)

// POST /me/usage marks the caller used, once: the summary counts them, and
// repeated or concurrent calls change nothing more.
func TestMarkUsed(t *testing.T) {
	e := newEnv(t)
	e.createUser("user@example.com", "member", nil)
	tok := e.login("user@example.com", "pw for user@example.com")
	before := e.must(200, e.do("GET", "/summary", e.admin, nil)).num("used")
	rs := parallel(e, 5, func(w *env, _ int) response { return w.do("POST", "/me/usage", tok, nil) })
	if got := statuses(rs); got[204] != 5 {
		t.Fatalf("statuses %v", got)
	}
	e.must(204, e.do("POST", "/me/usage", tok, nil))
	if u := e.must(200, e.do("GET", "/me", tok, nil)); u.str("usage") != "used" {
		t.Fatalf("usage %q", u.str("usage"))
	}
	if after := e.must(200, e.do("GET", "/summary", e.admin, nil)).num("used"); after != before+1 {
		t.Fatalf("used %d, want %d", after, before+1)
	}
	if n := strings.Count(e.scanTable(), `"action":"user.used"`); n != 1 {
		t.Fatalf("%d user.used events, want 1", n)
	}
	e.problem(403, "forbidden", e.do("POST", "/me/usage", e.systemKey("admin", "", 0), nil))

	// A change of the user between the read and the write: read again,
	// applied once.
	other := e.createUser("other@example.com", "member", nil)
	otherTok := e.login("other@example.com", "pw for other@example.com")
	e.hooks.Before("mark-used", "TransactWriteItems", func(context.Context) {
		e.must(200, e.do("PATCH", "/users/"+other, e.admin, map[string]any{"given_name": "Changed"}))
	})
	e.must(204, e.do("POST", "/me/usage", otherTok, nil))
	if e.hooks.Pending() != 0 {
		t.Fatal("the change between read and write never happened")
	}
	if u := e.must(200, e.do("GET", "/users/"+other, e.admin, nil)); u.str("usage") != "used" || u.str("given_name") != "Changed" {
		t.Fatalf("after a concurrent change: %s", u.raw)
	}
	e.must(200, e.do("GET", "/users?usage=used", e.admin, nil))
}
