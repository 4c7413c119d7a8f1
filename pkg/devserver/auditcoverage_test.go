package devserver_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/routes"
)

// auditCall is one successful request of a mutating route, and the event it
// must write: who acted and on what. A function of the response gives what
// only the response knows (a new id).
type auditCall struct {
	method, path, token string
	body                any
	status              int
	actorType           string
	actor, target       func(res response) string
	// secrets must appear in no event.
	secrets []string
}

func fixed(s string) func(response) string { return func(response) string { return s } }

// auditCalls give every mutating route of the table a request that
// succeeds. A route added to routes.All that writes, without an entry here,
// fails the test.
func auditCalls(e *env, adminID string) map[string]func() auditCall {
	n := 0
	fresh := func(role string, extra map[string]any) (id, email, tok string) {
		n++
		email = fmt.Sprintf("audit%d@example.com", n)
		id = e.createUser(email, role, extra)
		return id, email, e.login(email, "pw for "+email)
	}
	admin := func(method, path string, body any, status int, target func(response) string) auditCall {
		return auditCall{method: method, path: path, token: e.admin, body: body, status: status, actorType: "user", actor: fixed(adminID), target: target}
	}
	id := func(res response) string { return res.str("id") }
	onUser := func(method, suffix string, status int, prepare func(id string)) func() auditCall {
		return func() auditCall {
			uid, _, _ := fresh("member", nil)
			if prepare != nil {
				prepare(uid)
			}
			return admin(method, "/users/"+uid+suffix, nil, status, fixed(uid))
		}
	}
	invited := func() (invID, token string) {
		n++
		addr := fmt.Sprintf("audit-invite%d@example.com", n)
		inv := e.invite(addr, nil)
		return inv.str("id"), e.tokenIn(addr)
	}
	pwd := "an audited long passphrase"
	return map[string]func() auditCall{
		"login": func() auditCall {
			uid, email, _ := fresh("member", nil)
			return auditCall{method: "POST", path: "/auth/login", body: map[string]any{"login": email, "password": "pw for " + email},
				status: 200, actorType: "user", actor: fixed(uid), target: func(r response) string { return r.str("session", "id") },
				secrets: []string{"pw for " + email}}
		},
		"register": func() auditCall {
			e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"allow_registration": true}))
			return auditCall{method: "POST", path: "/auth/register", status: 201, actorType: "user",
				body:  map[string]any{"email": "audit-registered@example.com", "password": pwd, "given_name": "R", "family_name": "G"},
				actor: func(r response) string { return r.str("user", "id") }, target: func(r response) string { return r.str("user", "id") },
				secrets: []string{pwd}}
		},
		"logout": func() auditCall {
			uid, _, tok := fresh("member", nil)
			sid := e.must(200, e.do("GET", "/me/sessions", tok, nil)).str("items", "0", "id")
			return auditCall{method: "POST", path: "/auth/logout", token: tok, status: 204, actorType: "user", actor: fixed(uid), target: fixed(sid)}
		},
		"accept-invitation": func() auditCall {
			invID, token := invited()
			return auditCall{method: "POST", path: "/invitations/accept", body: acceptBody(token), status: 201, actorType: "user",
				actor: func(r response) string { return r.str("user", "id") }, target: fixed(invID), secrets: []string{token}}
		},
		"decline-invitation": func() auditCall {
			invID, token := invited()
			return auditCall{method: "POST", path: "/invitations/decline", body: map[string]any{"token": token}, status: 204,
				actorType: "system", actor: fixed("system"), target: fixed(invID), secrets: []string{token}}
		},
		"forgot-password": func() auditCall {
			uid, email, _ := fresh("member", nil)
			return auditCall{method: "POST", path: "/auth/password/forgot", body: map[string]any{"email": email}, status: 202,
				actorType: "system", actor: fixed("system"), target: fixed(uid)}
		},
		"reset-password": func() auditCall {
			uid, _, _ := fresh("member", nil)
			token := e.resetToken(e.must(201, e.do("POST", "/users/"+uid+"/password-reset", e.admin, map[string]any{})).str("reset_url"))
			return auditCall{method: "POST", path: "/auth/password/reset", body: map[string]any{"token": token, "password": pwd}, status: 204,
				actorType: "user", actor: fixed(uid), target: fixed(uid), secrets: []string{token, pwd}}
		},
		"update-me": func() auditCall {
			uid, _, tok := fresh("member", nil)
			return auditCall{method: "PATCH", path: "/me", token: tok, body: map[string]any{"given_name": "New"}, status: 200,
				actorType: "user", actor: fixed(uid), target: fixed(uid)}
		},
		"change-password": func() auditCall {
			uid, email, tok := fresh("member", nil)
			return auditCall{method: "POST", path: "/me/password", token: tok, status: 204, actorType: "user", actor: fixed(uid), target: fixed(uid),
				body: map[string]any{"current_password": "pw for " + email, "new_password": pwd}, secrets: []string{"pw for " + email, pwd}}
		},
		"delete-my-session": func() auditCall {
			uid, email, tok := fresh("member", nil)
			other := e.login(email, "pw for "+email)
			sid := sessionIDOf(e, other, tok)
			return auditCall{method: "DELETE", path: "/me/sessions/" + sid, token: tok, status: 204, actorType: "user", actor: fixed(uid), target: fixed(sid)}
		},
		"mark-used": func() auditCall {
			uid, _, tok := fresh("member", nil)
			return auditCall{method: "POST", path: "/me/usage", token: tok, status: 204, actorType: "user", actor: fixed(uid), target: fixed(uid)}
		},
		"create-my-api-key": func() auditCall {
			uid, _, tok := fresh("member", nil)
			return auditCall{method: "POST", path: "/me/api-keys", token: tok, body: map[string]any{"name": "k"}, status: 201,
				actorType: "user", actor: fixed(uid), target: id}
		},
		"delete-my-api-key": func() auditCall {
			uid, _, tok := fresh("member", nil)
			kid := e.must(201, e.do("POST", "/me/api-keys", tok, map[string]any{"name": "k"})).str("id")
			return auditCall{method: "DELETE", path: "/me/api-keys/" + kid, token: tok, status: 204, actorType: "user", actor: fixed(uid), target: fixed(kid)}
		},
		"create-user": func() auditCall {
			return admin("POST", "/users", map[string]any{"email": "audit-created@example.com", "password": pwd, "given_name": "C",
				"family_name": "U", "role": "member"}, 201, id)
		},
		"update-user": func() auditCall {
			c := onUser("PATCH", "", 200, nil)()
			c.body = map[string]any{"family_name": "Renamed"}
			return c
		},
		"delete-user":     onUser("DELETE", "", 202, nil),
		"restore-user":    onUser("POST", "/restore", 200, func(id string) { e.must(202, e.do("DELETE", "/users/"+id, e.admin, nil)) }),
		"deactivate-user": onUser("POST", "/deactivate", 200, nil),
		"activate-user":   onUser("POST", "/activate", 200, func(id string) { e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil)) }),
		"anonymize-user":  onUser("POST", "/anonymize", 200, func(id string) { e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil)) }),
		"set-password": func() auditCall {
			c := onUser("PUT", "/password", 204, nil)()
			c.body, c.secrets = map[string]any{"password": pwd}, []string{pwd}
			return c
		},
		"create-password-reset": func() auditCall {
			c := onUser("POST", "/password-reset", 201, nil)()
			c.body = map[string]any{}
			return c
		},
		"end-user-sessions": onUser("DELETE", "/sessions", 204, func(id string) {}),
		"create-invitation": func() auditCall {
			return admin("POST", "/invitations", map[string]any{"email": "audit-invited@example.com", "role": "member"}, 201, id)
		},
		"resend-invitation": func() auditCall {
			invID, _ := invited()
			return admin("POST", "/invitations/"+invID+"/resend", nil, 200, fixed(invID))
		},
		"cancel-invitation": func() auditCall {
			invID, _ := invited()
			return admin("DELETE", "/invitations/"+invID, nil, 204, fixed(invID))
		},
		"delete-session": func() auditCall {
			_, _, tok := fresh("member", nil)
			sid := e.must(200, e.do("GET", "/me/sessions", tok, nil)).str("items", "0", "id")
			return admin("DELETE", "/sessions/"+sid, nil, 204, fixed(sid))
		},
		"update-settings": func() auditCall {
			return admin("PATCH", "/settings", map[string]any{"license_count": 0, "invitation_ttl_hours": 100}, 200, fixed("settings"))
		},
		"create-team": func() auditCall { return admin("POST", "/teams", map[string]any{"name": "Audited"}, 201, id) },
		"update-team": func() auditCall {
			tid := e.team(fmt.Sprint("To rename ", n))
			n++
			return admin("PATCH", "/teams/"+tid, map[string]any{"name": fmt.Sprint("Renamed ", n)}, 200, fixed(tid))
		},
		"delete-team": func() auditCall {
			n++
			tid := e.team(fmt.Sprint("To delete ", n))
			return admin("DELETE", "/teams/"+tid, nil, 204, fixed(tid))
		},
		"create-api-key": func() auditCall {
			return admin("POST", "/api-keys", map[string]any{"name": "k", "role": "admin"}, 201, id)
		},
		"delete-api-key": func() auditCall {
			kid := e.must(201, e.do("POST", "/api-keys", e.admin, map[string]any{"name": "k", "role": "member"})).str("id")
			return admin("DELETE", "/api-keys/"+kid, nil, 204, fixed(kid))
		},
	}
}

// sessionIDOf is the id of the session of token other, as the session of
// tok lists it.
func sessionIDOf(e *env, other, tok string) string {
	for _, s := range e.must(200, e.do("GET", "/me/sessions", other, nil)).list("items") {
		if s := s.(map[string]any); s["current"] == true {
			return s["id"].(string)
		}
	}
	e.fatalf("no current session")
	return ""
}

// eventsOf returns the audit events the table holds for a request id.
func (e *env) eventsOf(requestID string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(e.scanTable(), "\n") {
		if !strings.Contains(line, `"request_id":"`+requestID+`"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err == nil && strings.HasPrefix(m["pk"].(string), "AUDIT#") {
			out = append(out, m)
		}
	}
	return out
}

// Rule 8 on every route: each mutating route of the table, performed once,
// writes exactly one audit event, with the request's actor, target, source
// IP and request id, and no secret; as a system key, the actor is the key.
// The jobs write one per change, acted by the system. And no secret any
// of them was sent or answered (passwords, tokens, keys, reset links), nor
// a hash, reaches a log line.
func TestEveryChangeWritesOneAuditEvent(t *testing.T) {
	e := newStreamEnv(t, nil)
	adminID := e.must(200, e.do("GET", "/me", e.admin, nil)).str("id")
	calls := auditCalls(e, adminID)
	// Every secret sent or answered, to look for in the logs at the end.
	secrets := []string{adminPassword, secretOf(e.admin)}
	for _, r := range routes.All {
		if !r.Writes() || r.Kind == routes.Page {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			e := e.in(t)
			prepare, ok := calls[r.Name]
			if !ok {
				t.Fatalf("%s changes the table but has no audit case here", r.Name)
			}
			c := prepare()
			res := e.do(c.method, c.path, c.token, c.body)
			if res.status != c.status {
				t.Fatalf("%s %s: %d %s", c.method, c.path, res.status, res.raw)
			}
			evs := e.eventsOf(res.header.Get("X-Request-Id"))
			if len(evs) != 1 {
				t.Fatalf("%d audit events for one %s, want 1: %v", len(evs), r.Name, evs)
			}
			checkEvent(t, evs[0], c, res, e.ip)
			secrets = append(secrets, c.secrets...)
			secrets = append(secrets, secretOf(c.token))
			for _, f := range []string{"token", "key", "reset_url"} {
				secrets = append(secrets, secretOf(res.str(f)))
			}
		})
	}

	// As a system key, the key is the actor.
	key := e.must(201, e.do("POST", "/api-keys", e.admin, map[string]any{"name": "auditor", "role": "admin"}))
	uid := e.createUser("by-key@example.com", "member", nil)
	res := e.do("POST", "/users/"+uid+"/deactivate", key.str("key"), nil)
	evs := e.eventsOf(res.header.Get("X-Request-Id"))
	if res.status != 200 || len(evs) != 1 {
		t.Fatalf("%d, %d events", res.status, len(evs))
	}
	checkEvent(t, evs[0], auditCall{actorType: "api_key", actor: fixed(key.str("id")), target: fixed(uid)}, res, e.ip)

	// The jobs: one event per change, by the system.
	e.invite("audit-expiring@example.com", nil)
	gone := e.createUser("audit-purged@example.com", "member", nil)
	e.must(202, e.do("DELETE", "/users/"+gone, e.admin, nil))
	at := e.clock.Now().Add(40 * 24 * time.Hour)
	for job, action := range map[string]string{"expire-invitations": "invitation.expired", "purge-deleted-users": "user.purged"} {
		rep := e.runJob(job, at)
		evs := e.eventsOf(fmt.Sprintf("evt-%d", at.UnixNano()))
		n := 0
		for _, ev := range evs {
			if ev["action"] == action {
				n++
				if ev["actor_type"] != "system" || ev["actor_id"] != "system" {
					t.Fatalf("%s: event by %v %v", job, ev["actor_type"], ev["actor_id"])
				}
			}
		}
		if n == 0 || n != rep.Done {
			t.Fatalf("%s: %d %s events for %d done", job, n, action, rep.Done)
		}
	}

	// No secret reached a log line, on any of these routes.
	logs := e.logs.String()
	for _, s := range append(secrets, "$argon2", "password_hash") {
		if s != "" && strings.Contains(logs, s) {
			t.Fatalf("the logs hold a secret: %q", s)
		}
	}
}

// secretOf is the part of a token, key or link that is secret: an API
// key's before its owner ("umk_<secret>.<owner>"), a token's after its id
// ("<id>.<secret>"), also in a link's query.
func secretOf(s string) string {
	if _, q, ok := strings.Cut(s, "token="); ok {
		s = q
	}
	if key, ok := strings.CutPrefix(s, "umk_"); ok {
		secret, _, _ := strings.Cut(key, ".")
		return secret
	}
	if _, secret, ok := strings.Cut(s, "."); ok && len(secret) >= 16 {
		return secret
	}
	if len(s) >= 16 {
		return s
	}
	return ""
}

func checkEvent(t *testing.T, ev map[string]any, c auditCall, res response, ip string) {
	t.Helper()
	if ev["actor_type"] != c.actorType || ev["actor_id"] != c.actor(res) {
		t.Fatalf("actor %v %v, want %s %s", ev["actor_type"], ev["actor_id"], c.actorType, c.actor(res))
	}
	if want := c.target(res); ev["target_id"] != want || want == "" {
		t.Fatalf("target %v, want %q", ev["target_id"], want)
	}
	if ev["ip"] != ip || ev["action"] == "" || !strings.Contains(ev["action"].(string), ".") {
		t.Fatalf("ip %v action %v", ev["ip"], ev["action"])
	}
	raw, _ := json.Marshal(ev["details"])
	for _, s := range append(c.secrets, "ums_", "umk_", "umi_", "umr_", "$argon2", "password_hash") {
		if strings.Contains(string(raw), s) {
			t.Fatalf("details hold %q: %s", s, raw)
		}
	}
}
