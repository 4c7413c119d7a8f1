package devserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func (e *env) doKey(method, path, token, key string, body any) response {
	e.t.Helper()
	return e.send(method, path, token, body, http.Header{"Idempotency-Key": {key}})
}

func (e *env) userCount() int {
	e.t.Helper()
	return len(e.must(200, e.do("GET", "/users?limit=100", e.admin, nil)).get("items").([]any))
}

func (e *env) auditCount() int {
	e.t.Helper()
	ev, err := e.app.Store.RecentAuditEvents(e.systemCtx(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ev)
}

func TestIdempotentCreate(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"email": "once@example.com", "password": "pw for the retry", "given_name": "O", "family_name": "N", "role": "member"}
	events := e.auditCount()
	first := e.must(201, e.doKey("POST", "/users", e.admin, "key-1", body))
	again := e.must(201, e.doKey("POST", "/users", e.admin, "key-1", body))
	if again.raw != first.raw || again.header.Get("Location") != first.header.Get("Location") || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.raw, again.raw)
	}
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("the first response is marked replayed")
	}
	if e.userCount() != 2 || e.auditCount() != events+1 {
		t.Fatal("the retry applied twice")
	}
	other := body
	other["email"] = "twice@example.com"
	e.problem(409, "idempotency_conflict", e.doKey("POST", "/users", e.admin, "key-1", other))
	// Without the key, the same body is a new request: email_taken.
	body["email"] = "once@example.com"
	e.problem(409, "email_taken", e.do("POST", "/users", e.admin, body))
}

func TestIdempotentRetriesRacing(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"email": "race@example.com", "password": "pw for the race", "given_name": "R", "family_name": "A", "role": "member"}
	rs := parallel(e, 6, func(w *env, _ int) response { return w.doKey("POST", "/users", e.admin, "racing-key", body) })
	id := ""
	for _, r := range rs {
		switch {
		case r.status == 201:
			if id != "" && r.str("id") != id {
				t.Fatalf("two users created: %s and %s", id, r.str("id"))
			}
			id = r.str("id")
		case r.status == 409 && r.str("code") == "idempotency_conflict":
		default:
			t.Fatalf("a racing retry got %d: %s", r.status, r.raw)
		}
	}
	if id == "" || e.userCount() != 2 {
		t.Fatalf("users: %d", e.userCount())
	}
	// Once settled, every retry gets the first answer.
	if r := e.must(201, e.doKey("POST", "/users", e.admin, "racing-key", body)); r.str("id") != id {
		t.Fatalf("replayed %s, created %s", r.str("id"), id)
	}
}

func TestAFailedRequestDoesNotSpendTheKey(t *testing.T) {
	e := newEnv(t)
	bad := map[string]any{"email": "not-an-email", "password": "pw for the fix", "given_name": "F", "family_name": "X", "role": "member"}
	e.problem(400, "validation_failed", e.doKey("POST", "/users", e.admin, "fix-and-retry", bad))
	bad["email"] = "fixed@example.com"
	e.must(201, e.doKey("POST", "/users", e.admin, "fix-and-retry", bad))
}

func TestKeysAreScopedToTheCaller(t *testing.T) {
	e := newEnv(t)
	other := e.login(adminEmail, adminPassword)
	e.must(201, e.doKey("POST", "/users", e.admin, "shared", map[string]any{"email": "a1@example.com", "password": "pw for scope", "given_name": "A", "family_name": "B", "role": "member"}))
	// Another session of the same admin shares the scope (the actor is the user).
	e.problem(409, "idempotency_conflict", e.doKey("POST", "/users", other, "shared", map[string]any{"email": "a2@example.com", "password": "pw for scope", "given_name": "A", "family_name": "B", "role": "member"}))
	e.createUser("m@example.com", "admin", nil)
	m := e.login("m@example.com", "pw for m@example.com")
	e.must(201, e.doKey("POST", "/users", m, "shared", map[string]any{"email": "a3@example.com", "password": "pw for scope", "given_name": "A", "family_name": "B", "role": "member"}))
}

// A response that carries a secret (a session token) is never stored: a
// retry with the same key signs in no second time and gets 409
// idempotency_conflict saying the first succeeded, never the token again.
func TestSecretResponsesAreNeverStored(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"login": adminEmail, "password": adminPassword}
	first := e.must(200, e.doKey("POST", "/auth/login", "", "login-key", body))
	again := e.problem(409, "idempotency_conflict", e.doKey("POST", "/auth/login", "", "login-key", body))
	if strings.Contains(again.raw, first.str("token")) || !strings.Contains(again.str("detail"), "secret") {
		t.Fatalf("retry: %s", again.raw)
	}
	// One sign-in, not two: the harness's session and this one.
	if n := e.must(200, e.do("GET", "/me", first.str("token"), nil)).num("stats", "active_sessions"); n != 2 {
		t.Fatalf("%d sessions after a retried sign-in", n)
	}
	// The table never held the token, nor the response that carried it.
	raw := e.scanTable()
	_, secret, _ := strings.Cut(first.str("token"), ".")
	if strings.Contains(raw, secret) || strings.Contains(raw, first.str("token")) {
		t.Fatal("the token is stored")
	}
	// A failed sign-in does not spend the key.
	bad := map[string]any{"login": adminEmail, "password": "not the password at all"}
	e.problem(401, "invalid_credentials", e.doKey("POST", "/auth/login", "", "fresh-key", bad))
	e.must(200, e.doKey("POST", "/auth/login", "", "fresh-key", body))
}

func TestBadKeys(t *testing.T) {
	e := newEnv(t)
	for _, key := range []string{strings.Repeat("k", 256), "ключ"} {
		r := e.problem(400, "validation_failed", e.doKey("POST", "/users", e.admin, key, map[string]any{}))
		if r.get("errors").([]any)[0].(map[string]any)["field"] != "Idempotency-Key" {
			t.Fatalf("errors %s", r.raw)
		}
	}
}

// The key's record is written by the transaction that commits the change,
// not by the first one tried: here the sign-in's first transaction fails
// (another sign-in of the user landed after its read: the hook) and its
// retry commits. A repeat of the request then applies nothing: no third
// session, and 409 rather than the token again.
func TestAnIdempotentPostThroughAnOptimisticRetryAppliesOnce(t *testing.T) {
	e := newEnv(t)
	e.createUser("retry@example.com", "member", nil)
	body := map[string]any{"login": "retry@example.com", "password": "pw for retry@example.com"}
	e.hooks.Before("login", "TransactWriteItems", func(context.Context) { e.login("retry@example.com", "pw for retry@example.com") })
	first := e.must(200, e.doKey("POST", "/auth/login", "", "retried-key", body))
	if e.hooks.Pending() != 0 {
		t.Fatal("the hook never ran")
	}
	e.problem(409, "idempotency_conflict", e.doKey("POST", "/auth/login", "", "retried-key", body))
	if n := e.must(200, e.do("GET", "/me", first.str("token"), nil)).num("stats", "active_sessions"); n != 2 {
		t.Fatalf("%d sessions: the repeat applied again", n)
	}
}
