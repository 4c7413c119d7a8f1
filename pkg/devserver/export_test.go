package devserver_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// The export holds everything stored about the user, and no secret.
func TestExportUser(t *testing.T) {
	e := newEnv(t)
	team := e.team("Export")
	id := e.createUser("exported@example.com", "manager", map[string]any{"team_id": team})
	tok := e.login("exported@example.com", "pw for exported@example.com")
	e.problem(401, "invalid_credentials", e.do("POST", "/auth/login", "", map[string]any{"login": "exported@example.com", "password": "wrong guess"}))
	key := e.must(201, e.do("POST", "/me/api-keys", tok, map[string]any{"name": "export me"})).str("key")
	e.must(201, e.do("POST", "/invitations", tok, map[string]any{"email": "invited-by-them@example.com", "role": "member"}))
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Renamed"}))

	r := e.do("GET", "/users/"+id+"/export", e.admin, nil)
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v %s", r.status, r.header, r.raw)
	}
	var doc struct {
		User          map[string]any   `json:"user"`
		Sessions      []map[string]any `json:"sessions"`
		APIKeys       []map[string]any `json:"api_keys"`
		Invitations   []map[string]any `json:"invitations"`
		LoginAttempts []map[string]any `json:"login_attempts"`
		AuditEvents   struct {
			ByUser    []map[string]any `json:"by_user"`
			AboutUser []map[string]any `json:"about_user"`
		} `json:"audit_events"`
		Complete bool `json:"complete"`
	}
	if err := json.Unmarshal([]byte(r.raw), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.raw)
	}
	if doc.User["id"] != id || doc.User["given_name"] != "Renamed" || len(doc.Sessions) != 1 || len(doc.APIKeys) != 1 ||
		len(doc.Invitations) != 1 || len(doc.LoginAttempts) != 2 || !doc.Complete {
		t.Fatalf("export: %s", r.raw)
	}
	byActions, aboutActions := actionsOf(doc.AuditEvents.ByUser), actionsOf(doc.AuditEvents.AboutUser)
	if !strings.Contains(byActions, "api_key.created") || !strings.Contains(byActions, "invitation.created") ||
		!strings.Contains(aboutActions, "user.created") || !strings.Contains(aboutActions, "user.updated") {
		t.Fatalf("audit events by %s; about %s", byActions, aboutActions)
	}
	for _, secret := range []string{key, strings.TrimPrefix(tok, "ums_"), "password_hash", "$argon2", "pw for"} {
		if strings.Contains(r.raw, secret) {
			t.Fatalf("the export holds %q", secret)
		}
	}
	e.problem(404, "not_found", e.do("GET", "/users/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa/export", e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/users/"+id+"/export?full=1", e.admin, nil))
	e.problem(403, "forbidden", e.do("GET", "/users/"+id+"/export", tok, nil))
}

func actionsOf(events []map[string]any) string {
	var out []string
	for _, ev := range events {
		out = append(out, ev["action"].(string))
	}
	return strings.Join(out, " ")
}
