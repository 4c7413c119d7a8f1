package devserver_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/usermgmt/ums/pkg/reference"
	"github.com/usermgmt/ums/pkg/routes"
)

// The tests in this file are generated from the routes table: a route added
// to routes.All is covered by them without a line written for it.

// probePath is a route's path with its parameters filled in with ids that
// are well formed and match nothing.
func probePath(r routes.Route) string {
	p := r.Path
	for collection, id := range map[string]string{
		"/users/{id}":       "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/invitations/{id}": "inv_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/sessions/{id}":    "ses_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/teams/{id}":       "team_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"/api-keys/{id}":    "key_aaaaaaaaaaaaaaaaaaaaaaaaaa",
	} {
		p = strings.ReplaceAll(p, collection, strings.Replace(collection, "{id}", id, 1))
	}
	// A required query parameter gets a well-formed value that matches
	// nothing too.
	var query []string
	if op, _ := probeDoc.Operation(r); op != nil {
		for _, prm := range op.Parameters {
			if v := prm.Value; v != nil && v.In == "query" && v.Required {
				query = append(query, v.Name+"="+probeValues[v.Name])
			}
		}
	}
	if len(query) > 0 {
		p += "?" + strings.Join(query, "&")
	}
	return p
}

// probeValues are the well-formed values of required query parameters.
var probeValues = map[string]string{
	"token": "umi_inv_aaaaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
}

var probeDoc = func() *reference.Doc {
	doc, err := reference.Load("../..")
	if err != nil {
		panic(err)
	}
	return doc
}()

// takesBody reports whether the reference gives the route a request body.
func takesBody(t *testing.T, r routes.Route) bool {
	t.Helper()
	doc, err := reference.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	op, _ := doc.Operation(r)
	if op == nil {
		t.Fatalf("%s: no operation in openapi.yaml", r.Name)
	}
	return op.RequestBody != nil
}

// exampleBody is the request body the reference gives as the route's
// example: a request the route accepts.
func exampleBody(t *testing.T, r routes.Route) any {
	t.Helper()
	doc, _ := reference.Load("../..")
	op, _ := doc.Operation(r)
	if op == nil || op.RequestBody == nil {
		return nil
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil {
		t.Fatalf("%s: the request body is not application/json", r.Name)
	}
	if mt.Example != nil {
		return mt.Example
	}
	for _, ex := range mt.Examples {
		return ex.Value.Value
	}
	t.Fatalf("%s: the reference has no example of the request body", r.Name)
	return nil
}

// probe sends the route a harmless request: a well-formed id that matches
// nothing, an empty object for a body.
func (e *env) probe(r routes.Route, token string, withBody bool) response {
	e.t.Helper()
	var body any
	if withBody {
		body = map[string]any{}
	}
	return e.do(r.Method, probePath(r), token, body)
}

// The authorization matrix: every route called by every kind of caller —
// anonymous, a revoked session, a deactivated user's token, an expired key,
// a member, a manager and an admin signed in, a personal key of each role
// and a system key of each role. Who is refused, and how, follows from the
// route's Access and the rules on keys alone; everyone else gets past the
// gate (whatever the service then says about the probe's empty request).
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	team := e.team("Matrix")
	for _, u := range []struct{ email, role string }{
		{"member@example.com", "member"}, {"manager@example.com", "manager"}, {"admin2@example.com", "admin"}, {"leaving@example.com", "member"},
	} {
		extra := map[string]any(nil)
		if u.role == "manager" {
			extra = map[string]any{"team_id": team}
		}
		e.createUser(u.email, u.role, extra)
	}
	// Open, so that registration's own gate (a setting) is not mistaken
	// for the access level's.
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"allow_registration": true}))
	login := func(email string) string { return e.login(email, "pw for "+email) }
	// Keys are made once: no probe ends them (a key cannot sign out).
	expired := e.systemKey("admin", "", 1)
	deactivated := login("leaving@example.com")
	e.must(200, e.do("POST", "/users/"+e.userByEmail("leaving@example.com").ID+"/deactivate", e.admin, nil))
	keys := map[string]string{
		"personal-key-member":  e.must(201, e.do("POST", "/me/api-keys", login("member@example.com"), map[string]any{"name": "m"})).str("key"),
		"personal-key-manager": e.must(201, e.do("POST", "/me/api-keys", login("manager@example.com"), map[string]any{"name": "m"})).str("key"),
		"personal-key-admin":   e.must(201, e.do("POST", "/me/api-keys", login("admin2@example.com"), map[string]any{"name": "m"})).str("key"),
		"system-key-member":    e.systemKey("member", "", 0),
		"system-key-manager":   e.systemKey("manager", team, 0),
		"system-key-admin":     e.systemKey("admin", "", 0),
	}
	e.clock.Advance(25 * time.Hour)
	sign := map[string]func() string{
		"anonymous": func() string { return "" },
		"revoked": func() string {
			tok := login("member@example.com")
			e.must(204, e.do("POST", "/auth/logout", tok, nil))
			return tok
		},
		"deactivated": func() string { return deactivated },
		"expired-key": func() string { return expired },
		"member":      func() string { return login("member@example.com") },
		"manager":     func() string { return login("manager@example.com") },
		"admin":       func() string { return login("admin2@example.com") },
	}
	for name, key := range keys {
		sign[name] = func() string { return key }
	}
	roleOf := func(caller string) string {
		for _, role := range []string{"member", "manager", "admin"} {
			if strings.HasSuffix(caller, role) {
				return role
			}
		}
		return ""
	}
	refused := func(r routes.Route, caller string) (int, string) {
		role := roleOf(caller)
		switch {
		case r.Access == routes.Public:
			return 0, ""
		case role == "":
			return 401, "unauthorized"
		case r.Access == routes.Manager && role == "member",
			r.Access == routes.Admin && role != "admin":
			return 403, "forbidden"
		// A system key has no account: no /me, no session to end.
		case strings.HasPrefix(caller, "system-key") && (r.Path == "/me" || strings.HasPrefix(r.Path, "/me/")):
			return 403, "forbidden"
		// No key signs out or changes its owner's password.
		case strings.Contains(caller, "key") && (r.Name == "logout" || r.Name == "change-password"):
			return 403, "forbidden"
		}
		return 0, ""
	}
	callers := []string{"anonymous", "revoked", "deactivated", "expired-key", "member", "manager", "admin",
		"personal-key-member", "personal-key-manager", "personal-key-admin", "system-key-member", "system-key-manager", "system-key-admin"}
	for _, r := range routes.All {
		body := takesBody(t, r)
		for _, caller := range callers {
			t.Run(r.Name+"/"+caller, func(t *testing.T) {
				e := e.in(t)
				got := e.probe(r, sign[caller](), body)
				if status, code := refused(r, caller); status != 0 {
					if got.status != status || got.str("code") != code {
						t.Fatalf("%s as %s: %d %s, want %d %s", r.Pattern(), caller, got.status, got.str("code"), status, code)
					}
					return
				}
				if got.status == 401 || got.status == 403 {
					t.Fatalf("%s as %s was refused at the gate: %d %s", r.Pattern(), caller, got.status, got.raw)
				}
				if got.status >= 500 {
					t.Fatalf("%s as %s: %d %s", r.Pattern(), caller, got.status, got.raw)
				}
			})
		}
	}
}

// admitted returns a token the route lets through its gate ("" for public).
func (e *env) admitted(r routes.Route) string {
	if r.Access == routes.Public {
		return ""
	}
	return e.login(adminEmail, adminPassword)
}

// Every route that takes a body decodes it the same strict way, and changes
// nothing when it refuses it.
func TestEveryBodyIsDecodedStrictly(t *testing.T) {
	e := newEnv(t)
	for _, r := range routes.All {
		if !takesBody(t, r) {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			e := e.in(t)
			tok := e.admitted(r)
			path := probePath(r)
			e.problem(413, "payload_too_large", e.do(r.Method, path, tok, `{"x":"`+strings.Repeat("a", 65<<10)+`"}`))
			e.problem(415, "unsupported_media_type", e.send(r.Method, path, tok, `{}`, http.Header{"Content-Type": {"text/plain"}}))
			for _, bad := range []string{`null`, `[]`, `"text"`, `{} {}`, `{"a":`, "", "{\"a\":\"\xff\"}"} {
				e.problem(400, "malformed_json", e.do(r.Method, path, tok, bad))
			}
			// Keys match exactly: Go's decoder alone would take "ROLE" for
			// role, or "Login" for login.
			got := e.problem(400, "validation_failed", e.do(r.Method, path, tok, `{"NotAField":1,"dup":1,"dup":2}`))
			fields := map[string]bool{}
			for _, f := range got.list("errors") {
				fields[f.(map[string]any)["field"].(string)] = true
			}
			if !fields["NotAField"] || !fields["dup"] {
				t.Fatalf("errors %s", got.raw)
			}
		})
	}
}

// A DynamoDB that throttles or fails never grants access or half-applies
// anything: every route answers 503 unavailable with Retry-After when
// DynamoDB throttles, and 500 internal without a word of the cause when it
// fails, which the log keeps with the request id.
func TestEveryRouteFailsClosed(t *testing.T) {
	e := newEnv(t)
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate of requests exceeds the allowed throughput."}
	broken := errors.New("injected fault: connection reset by peer")
	for _, r := range routes.All {
		if r.Kind == routes.Page {
			continue // it calls nothing: its function may not (the grants test)
		}
		t.Run(r.Name, func(t *testing.T) {
			e := e.in(t)
			tok := e.admitted(r)
			body := exampleBody(t, r)
			path := probePath(r)
			e.hooks.Fail(r.Name, "", throttled)
			got := e.problem(503, "unavailable", e.do(r.Method, path, tok, body))
			if got.header.Get("Retry-After") == "" {
				t.Fatalf("503 without Retry-After")
			}
			e.hooks.Fail(r.Name, "", broken)
			got = e.problem(500, "internal", e.do(r.Method, path, tok, body))
			if strings.Contains(got.raw, "injected") || strings.Contains(got.raw, "dynamo") {
				t.Fatalf("a 500 tells its cause: %s", got.raw)
			}
			id := got.header.Get("X-Request-Id")
			if !strings.Contains(e.logs.String(), fmt.Sprintf(`"request_id":"%s"`, id)) || !strings.Contains(e.logs.String(), "injected fault") {
				t.Fatalf("the cause is not in the log with request id %s", id)
			}
			if e.hooks.Pending() != 0 {
				t.Fatalf("%d injected faults were never reached", e.hooks.Pending())
			}
		})
	}
}
