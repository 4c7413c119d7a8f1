package devserver_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestCreateUser(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, e.do("POST", "/users", e.admin, map[string]any{
		"email": "  Grace@Example.com ", "password": "a long and unusual passphrase", "given_name": " Grace ",
		"family_name": "Hopper", "username": "grace", "role": "member",
	}))
	id := r.str("id")
	if !strings.HasPrefix(id, "usr_") || r.header.Get("Location") != "/users/"+id {
		t.Fatalf("id %q location %q", id, r.header.Get("Location"))
	}
	if r.str("email") != "Grace@Example.com" || r.str("given_name") != "Grace" || r.str("display_name") != "Grace Hopper" ||
		r.str("status") != "active" || r.str("usage") != "registered" || r.get("team_id") != nil || r.get("last_login_at") != nil {
		t.Fatalf("user %s", r.raw)
	}
	if strings.Contains(r.raw, "password") || strings.Contains(r.raw, "version") {
		t.Fatalf("the user leaks internals: %s", r.raw)
	}
	got := e.must(200, e.do("GET", "/users/"+id, e.admin, nil))
	if got.str("email") != "Grace@Example.com" || got.num("stats", "active_sessions") != 0 {
		t.Fatalf("get %s", got.raw)
	}
	// Can sign in at once, by email in any case or by username.
	e.login("grace@example.com", "a long and unusual passphrase")
	e.login("GRACE", "a long and unusual passphrase")
	ev, err := e.app.Store.RecentAuditEvents(e.systemCtx(), 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range ev {
		if x.Action == "user.created" && x.TargetID == id {
			found = true
			if x.ActorType != "user" || x.IP != "127.0.0.1" || x.RequestID == "" {
				t.Fatalf("audit event %+v", x)
			}
		}
	}
	if !found {
		t.Fatal("no user.created audit event")
	}
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"all missing", map[string]any{}, []string{"email", "given_name", "family_name", "role", "password"}},
		{"bad email", map[string]any{"email": "a@x.com\r\nBcc: e@x.com", "password": "long enough passphrase", "given_name": "A", "family_name": "B", "role": "member"}, []string{"email"}},
		{"bad role", map[string]any{"email": "a@x.com", "password": "long enough passphrase", "given_name": "A", "family_name": "B", "role": "owner"}, []string{"role"}},
		{"short password", map[string]any{"email": "a@x.com", "password": "short", "given_name": "A", "family_name": "B", "role": "member"}, []string{"password"}},
		{"common password", map[string]any{"email": "a@x.com", "password": "iloveyou123", "given_name": "A", "family_name": "B", "role": "member"}, []string{"password"}},
		{"password is the email", map[string]any{"email": "abcdefgh@x.com", "password": "ABCDEFGH@x.com", "given_name": "A", "family_name": "B", "role": "member"}, []string{"password"}},
		{"bad username", map[string]any{"email": "a@x.com", "password": "long enough passphrase", "given_name": "A", "family_name": "B", "role": "member", "username": "a@b"}, []string{"username"}},
		{"unknown team", map[string]any{"email": "a@x.com", "password": "long enough passphrase", "given_name": "A", "family_name": "B", "role": "member", "team_id": "nope"}, []string{"team_id"}},
		{"mass assignment", map[string]any{"email": "a@x.com", "password": "long enough passphrase", "given_name": "A", "family_name": "B", "role": "member", "status": "active"}, []string{"status"}},
		{"wrong type", map[string]any{"email": 5, "password": "long enough passphrase", "given_name": "A", "family_name": "B", "role": "member"}, []string{"email"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.problem(400, "validation_failed", e.do("POST", "/users", e.admin, c.body))
			var got []string
			for _, f := range r.get("errors").([]any) {
				got = append(got, f.(map[string]any)["field"].(string))
			}
			if strings.Join(got, ",") != strings.Join(c.fields, ",") {
				t.Fatalf("fields %v, want %v", got, c.fields)
			}
		})
	}
	// Nothing was written: only the seeded admin exists.
	if n := len(e.must(200, e.do("GET", "/users", e.admin, nil)).get("items").([]any)); n != 1 {
		t.Fatalf("%d users after refused creates", n)
	}
}

func TestConcurrentCreatesOfOneEmail(t *testing.T) {
	e := newEnv(t)
	rs := parallel(e, 8, func(w *env, i int) response {
		return w.do("POST", "/users", e.admin, map[string]any{
			"email": fmt.Sprintf("Same@Example.com%s", strings.Repeat(" ", i%2)), "password": "pw for the race",
			"given_name": "A", "family_name": "B", "role": "member", "username": fmt.Sprintf("racer%d", i),
		})
	})
	if got := statuses(rs); got[201] != 1 || got[409] != 7 {
		t.Fatalf("statuses %v", got)
	}
	for _, r := range rs {
		if r.status == 409 && r.str("code") != "email_taken" {
			t.Fatalf("code %q", r.str("code"))
		}
	}
	// The losers left no username behind.
	for i := range 8 {
		if rs[i].status == 409 {
			e.must(201, e.do("POST", "/users", e.admin, map[string]any{
				"email": fmt.Sprintf("racer%d@example.com", i), "password": "pw for the race", "given_name": "A",
				"family_name": "B", "role": "member", "username": fmt.Sprintf("racer%d", i),
			}))
		}
	}
}

func TestConcurrentCreatesOfOneUsername(t *testing.T) {
	e := newEnv(t)
	rs := parallel(e, 6, func(w *env, i int) response {
		return w.do("POST", "/users", e.admin, map[string]any{
			"email": fmt.Sprintf("u%d@example.com", i), "password": "pw for the race", "given_name": "A",
			"family_name": "B", "role": "member", "username": []string{"Taken", "taken"}[i%2],
		})
	})
	if got := statuses(rs); got[201] != 1 || got[409] != 5 {
		t.Fatalf("statuses %v", got)
	}
	for _, r := range rs {
		if r.status == 409 && r.str("code") != "username_taken" {
			t.Fatalf("code %q", r.str("code"))
		}
	}
}

// Two admins demoting each other at the same moment leave one admin.
func TestLastAdminUnderConcurrentDemotion(t *testing.T) {
	e := newEnv(t)
	bID := e.createUser("b@example.com", "admin", nil)
	aID := e.must(200, e.do("GET", "/me", e.admin, nil)).str("id")
	bTok := e.login("b@example.com", "pw for b@example.com")
	for round := range 3 {
		rs := parallel(e, 2, func(w *env, i int) response {
			if i == 0 {
				return w.do("PATCH", "/users/"+bID, e.admin, map[string]any{"role": "member"})
			}
			return w.do("PATCH", "/users/"+aID, bTok, map[string]any{"role": "manager"})
		})
		// The loser is refused as last_admin, or, when the other demotion
		// landed first, because a manager does not see an admin (404).
		got := statuses(rs)
		if got[200] != 1 || got[409] != 1 && got[404] != 1 {
			t.Fatalf("round %d: statuses %v (%s | %s)", round, got, rs[0].raw, rs[1].raw)
		}
		s := e.must(200, e.do("GET", "/users?role=admin&status=active", e.tokenOfRemainingAdmin(aID, bTok), nil))
		if n := len(s.get("items").([]any)); n != 1 {
			t.Fatalf("round %d: %d active admins", round, n)
		}
		// Restore both as admins for the next round.
		admin := e.tokenOfRemainingAdmin(aID, bTok)
		e.must(200, e.do("PATCH", "/users/"+aID, admin, map[string]any{"role": "admin"}))
		e.must(200, e.do("PATCH", "/users/"+bID, admin, map[string]any{"role": "admin"}))
	}
}

// tokenOfRemainingAdmin returns the token of whichever of the two is admin.
func (e *env) tokenOfRemainingAdmin(aID, bTok string) string {
	if e.do("GET", "/settings", e.admin, nil).status == 200 {
		return e.admin
	}
	return bTok
}

// No one demotes themselves, and an admin-role system key cannot demote
// the last admin.
func TestTheLastAdminCannotBeDemoted(t *testing.T) {
	e := newEnv(t)
	id := e.must(200, e.do("GET", "/me", e.admin, nil)).str("id")
	e.problem(403, "self_action", e.do("PATCH", "/users/"+id, e.admin, map[string]any{"role": "member"}))
	sys := e.must(201, e.do("POST", "/api-keys", e.admin, map[string]any{"name": "ops", "role": "admin"})).str("key")
	e.problem(409, "last_admin", e.do("PATCH", "/users/"+id, sys, map[string]any{"role": "member"}))
	if e.must(200, e.do("GET", "/summary", e.admin, nil)).num("by_status", "active") != 1 {
		t.Fatal("summary changed by a refused demotion")
	}
}

func TestSeats(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 3}))
	e.createUser("s1@example.com", "member", nil)
	// One seat left, four racing for it.
	rs := parallel(e, 4, func(w *env, i int) response {
		return w.do("POST", "/users", e.admin, map[string]any{
			"email": fmt.Sprintf("race%d@example.com", i), "password": "pw for the seat race", "given_name": "A", "family_name": "B", "role": "member",
		})
	})
	if got := statuses(rs); got[201] != 1 || got[409] != 3 {
		t.Fatalf("statuses %v", got)
	}
	for _, r := range rs {
		if r.status == 409 && r.str("code") != "no_seats" {
			t.Fatalf("code %q", r.str("code"))
		}
	}
	s := e.must(200, e.do("GET", "/summary", e.admin, nil))
	if s.num("licenses") != 3 || s.num("registered") != 3 || s.get("registered_pct") != float64(100) {
		t.Fatalf("summary %s", s.raw)
	}
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 0}))
	e.createUser("unlimited@example.com", "member", nil)
}

func TestSummaryIsExact(t *testing.T) {
	e := newEnv(t)
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 10}))
	for i := range 3 {
		e.createUser(fmt.Sprintf("m%d@example.com", i), "member", nil)
	}
	e.login("m0@example.com", "pw for m0@example.com")
	s := e.must(200, e.do("GET", "/summary", e.admin, nil))
	want := map[string]int{"licenses": 10, "registered": 4, "used": 0, "invited_not_registered": 0, "registered_not_connected": 2, "connected_not_used": 2}
	for k, v := range want {
		if s.num(k) != v {
			t.Errorf("%s = %d, want %d (%s)", k, s.num(k), v, s.raw)
		}
	}
	if s.get("registered_pct") != float64(40) || s.get("used_pct") != float64(0) || s.num("by_status", "active") != 4 {
		t.Fatalf("summary %s", s.raw)
	}
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 0}))
	if s := e.must(200, e.do("GET", "/summary", e.admin, nil)); s.get("registered_pct") != nil {
		t.Fatalf("percentages of unlimited licenses: %s", s.raw)
	}
}

func TestPatchUser(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("old@example.com", "member", map[string]any{"username": "olduser"})
	r := e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{
		"email": "new@example.com", "username": nil, "given_name": "Ada", "family_name": "Lovelace",
	}))
	if r.str("email") != "new@example.com" || r.get("username") != nil || r.str("display_name") != "Ada Lovelace" || r.get("stats") != nil {
		t.Fatalf("patched %s", r.raw)
	}
	// The old email and username are free again; the new email is taken.
	other := e.createUser("old@example.com", "member", map[string]any{"username": "olduser"})
	e.problem(409, "email_taken", e.do("POST", "/users", e.admin, map[string]any{
		"email": "NEW@example.com", "password": "pw for someone", "given_name": "A", "family_name": "B", "role": "member",
	}))
	e.problem(409, "username_taken", e.do("PATCH", "/users/"+id, e.admin, map[string]any{"username": "OldUser"}))
	e.login("new@example.com", "pw for old@example.com")
	// "olduser" now signs in the other user.
	if got := e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": "olduser", "password": "pw for old@example.com"})).str("user", "id"); got != other {
		t.Fatalf("olduser signed in %s, want %s", got, other)
	}

	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"display_name": "Countess"}))
	if r := e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"display_name": nil})); r.str("display_name") != "Ada Lovelace" {
		t.Fatalf("display_name reset: %s", r.raw)
	}
	e.problem(400, "validation_failed", e.do("PATCH", "/users/"+id, e.admin, map[string]any{"email": nil}))
	e.problem(400, "validation_failed", e.do("PATCH", "/users/"+id, e.admin, map[string]any{"status": "deactivated"}))
	e.problem(404, "not_found", e.do("PATCH", "/users/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.admin, map[string]any{"given_name": "X"}))
	e.problem(404, "not_found", e.do("GET", "/users/not-an-id", e.admin, nil))
}

func TestUpdateMe(t *testing.T) {
	e := newEnv(t)
	e.createUser("me@example.com", "member", nil)
	tok := e.login("me@example.com", "pw for me@example.com")
	r := e.must(200, e.do("PATCH", "/me", tok, map[string]any{"display_name": "Just Me"}))
	if r.str("display_name") != "Just Me" || r.str("role") != "member" {
		t.Fatalf("me %s", r.raw)
	}
	for _, field := range []string{"role", "email", "status", "team_id"} {
		e.problem(400, "validation_failed", e.do("PATCH", "/me", tok, map[string]any{field: "admin"}))
	}
	if e.must(200, e.do("GET", "/me", tok, nil)).str("role") != "member" {
		t.Fatal("a member changed their own role")
	}
}

func TestManagerScope(t *testing.T) {
	e := newEnv(t)
	red, blue := e.team("Red"), e.team("Blue")
	e.createUser("mgr@example.com", "manager", map[string]any{"team_id": red})
	inRed := e.createUser("r1@example.com", "member", map[string]any{"team_id": red})
	inBlue := e.createUser("b1@example.com", "member", map[string]any{"team_id": blue})
	redAdmin := e.createUser("ra@example.com", "admin", map[string]any{"team_id": red})
	mgr := e.login("mgr@example.com", "pw for mgr@example.com")

	list := e.must(200, e.do("GET", "/users", mgr, nil))
	// Team Red but for its admin, whom a manager does not see.
	if n := len(list.get("items").([]any)); n != 2 {
		t.Fatalf("manager sees %d users, want the 2 non-admins of team Red: %s", n, list.raw)
	}
	e.problem(403, "forbidden", e.do("GET", "/users?team_id="+blue, mgr, nil))
	// A cursor from the admin's list of everyone is not the manager's to
	// use: it was issued to another caller.
	all := e.must(200, e.do("GET", "/users?limit=1", e.admin, nil)) // newest first: redAdmin
	if c, _ := all.get("next_cursor").(string); c != "" {
		e.problem(400, "validation_failed", e.do("GET", "/users?cursor="+url.QueryEscape(c), mgr, nil))
	} else {
		t.Fatal("the admin's first page has no cursor")
	}
	e.must(200, e.do("GET", "/users/"+inRed, mgr, nil))
	e.problem(404, "not_found", e.do("GET", "/users/"+inBlue, mgr, nil))
	e.must(200, e.do("PATCH", "/users/"+inRed, mgr, map[string]any{"given_name": "Renamed"}))
	e.problem(404, "not_found", e.do("PATCH", "/users/"+inBlue, mgr, map[string]any{"given_name": "Renamed"}))
	e.problem(404, "not_found", e.do("PATCH", "/users/"+redAdmin, mgr, map[string]any{"given_name": "Renamed"}))
	e.problem(403, "forbidden", e.do("PATCH", "/users/"+inRed, mgr, map[string]any{"role": "manager"}))
	e.problem(403, "forbidden", e.do("PATCH", "/users/"+inRed, mgr, map[string]any{"team_id": blue}))

	created := e.must(201, e.do("POST", "/users", mgr, map[string]any{
		"email": "new@example.com", "password": "pw for new member", "given_name": "N", "family_name": "M", "role": "member",
	}))
	if created.str("team_id") != red {
		t.Fatalf("a manager's user went to team %q", created.str("team_id"))
	}
	e.problem(403, "forbidden", e.do("POST", "/users", mgr, map[string]any{
		"email": "boss@example.com", "password": "pw for new member", "given_name": "N", "family_name": "M", "role": "admin",
	}))
	e.problem(403, "forbidden", e.do("POST", "/users", mgr, map[string]any{
		"email": "blue@example.com", "password": "pw for new member", "given_name": "N", "family_name": "M", "role": "member", "team_id": blue,
	}))
	for _, path := range []string{"/settings", "/summary"} {
		e.problem(403, "forbidden", e.do("GET", path, mgr, nil))
	}
	// Team moves by an admin carry the member counts and the scope along.
	e.must(200, e.do("PATCH", "/users/"+inBlue, e.admin, map[string]any{"team_id": red}))
	e.must(200, e.do("GET", "/users/"+inBlue, mgr, nil))
	e.problem(400, "validation_failed", e.do("PATCH", "/users/"+inBlue, e.admin, map[string]any{"team_id": "team_aaaaaaaaaaaaaaaaaaaaaaaaaa"}))
}

func TestRoleMatrix(t *testing.T) {
	e := newEnv(t)
	e.createUser("member@example.com", "member", nil)
	member := e.login("member@example.com", "pw for member@example.com")
	cases := []struct {
		method, path     string
		anon, mem, admin int
	}{
		{"GET", "/me", 401, 200, 200},
		{"GET", "/users", 401, 403, 200},
		{"GET", "/users/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa", 401, 403, 404},
		{"GET", "/settings", 401, 403, 200},
		{"GET", "/summary", 401, 403, 200},
		{"PATCH", "/settings", 401, 403, 200},
		{"POST", "/users", 401, 403, 400},
	}
	for _, c := range cases {
		for _, who := range []struct {
			token string
			want  int
		}{{"", c.anon}, {member, c.mem}, {e.admin, c.admin}} {
			var body any
			if c.method != "GET" {
				body = map[string]any{}
			}
			if r := e.do(c.method, c.path, who.token, body); r.status != who.want {
				t.Errorf("%s %s as %.8q: %d, want %d", c.method, c.path, who.token, r.status, who.want)
			}
		}
	}
}

func TestListUsers(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.createUser(fmt.Sprintf("l%d@example.com", i), []string{"member", "manager"}[i%2], nil))
	}
	// Newest first, paged with a cursor.
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		path := "/users?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.must(200, e.do("GET", path, e.admin, nil))
		for _, it := range r.get("items").([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		c, _ := r.get("next_cursor").(string)
		if c == "" {
			break
		}
		cursor = c
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 6 {
		t.Fatalf("saw %d users, want 6", len(seen))
	}
	for i := range 5 {
		if seen[i] != ids[4-i] {
			t.Fatalf("order %v, want newest first %v", seen, ids)
		}
	}
	if n := len(e.must(200, e.do("GET", "/users?role=manager", e.admin, nil)).get("items").([]any)); n != 2 {
		t.Fatalf("role=manager: %d", n)
	}
	if n := len(e.must(200, e.do("GET", "/users?role=member&status=active&usage=registered", e.admin, nil)).get("items").([]any)); n != 3 {
		t.Fatalf("member+active+registered: %d", n)
	}
	if r := e.must(200, e.do("GET", "/users?status=deactivated", e.admin, nil)); len(r.get("items").([]any)) != 0 || r.get("next_cursor") != nil {
		t.Fatalf("deactivated: %s", r.raw)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "status=gone", "role=owner", "cursor=forged", "colour=red", "limit=1&limit=2"} {
		e.problem(400, "validation_failed", e.do("GET", "/users?"+q, e.admin, nil))
	}
}

func TestSettings(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, e.do("GET", "/settings", e.admin, nil))
	want := map[string]any{"allow_registration": false, "license_count": 0.0, "invitation_ttl_hours": 168.0, "password_reset_ttl_minutes": 60.0,
		"deletion_grace_days": 30.0, "session_ttl_hours": 720.0, "session_idle_hours": 168.0, "password_min_length": 8.0}
	for k, v := range want {
		if r.get(k) != v {
			t.Errorf("%s = %v, want %v", k, r.get(k), v)
		}
	}
	r = e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"password_min_length": 15, "allow_registration": true}))
	if r.get("password_min_length") != 15.0 || r.get("allow_registration") != true || r.get("session_ttl_hours") != 720.0 {
		t.Fatalf("patched %s", r.raw)
	}
	e.problem(400, "validation_failed", e.do("POST", "/users", e.admin, map[string]any{
		"email": "x@example.com", "password": "fourteen chars", "given_name": "A", "family_name": "B", "role": "member",
	}))
	for _, bad := range []map[string]any{{"password_min_length": 7}, {"password_min_length": 65}, {"license_count": -1},
		{"session_idle_hours": 1000}, {"allow_registration": nil}, {"unknown": 1}, {"license_count": "5"}} {
		e.problem(400, "validation_failed", e.do("PATCH", "/settings", e.admin, bad))
	}
	if e.must(200, e.do("GET", "/settings", e.admin, nil)).get("password_min_length") != 15.0 {
		t.Fatal("a refused patch changed the settings")
	}
}

// Concurrent patches of different settings all land: each re-reads and
// retries on the settings' version instead of overwriting the others.
func TestConcurrentSettingsPatchesAllLand(t *testing.T) {
	e := newEnv(t)
	fields := []string{"license_count", "invitation_ttl_hours", "deletion_grace_days", "session_ttl_hours", "password_reset_ttl_minutes"}
	value := func(i int) int { return 200 + i }
	rs := parallel(e, len(fields), func(w *env, i int) response {
		return w.do("PATCH", "/settings", e.admin, map[string]any{fields[i]: value(i)})
	})
	if got := statuses(rs); got[200] != len(fields) {
		t.Fatalf("statuses %v", got)
	}
	r := e.must(200, e.do("GET", "/settings", e.admin, nil))
	for i, f := range fields {
		if r.num(f) != value(i) {
			t.Errorf("%s = %d, want %d: a concurrent patch was lost", f, r.num(f), value(i))
		}
	}
}

// Rule 8: one change, one event; a refused change, none.
func TestAuditEventsMatchChanges(t *testing.T) {
	e := newEnv(t)
	count := func() int {
		ev, err := e.app.Store.RecentAuditEvents(e.systemCtx(), 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	before := count()
	id := e.createUser("audited@example.com", "member", nil)
	e.problem(409, "email_taken", e.do("POST", "/users", e.admin, map[string]any{
		"email": "audited@example.com", "password": "pw for the dup", "given_name": "A", "family_name": "B", "role": "member",
	}))
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Changed"}))
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Changed"})) // no change, no event
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 5}))
	e.problem(400, "validation_failed", e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": -5}))
	if got := count() - before; got != 3 {
		t.Fatalf("%d audit events for 3 changes", got)
	}
	ev, _ := e.app.Store.RecentAuditEvents(e.systemCtx(), 1)
	if ev[0].Action != "settings.updated" || fmt.Sprint(ev[0].Details["license_count"]) != "map[from:0 to:5]" {
		t.Fatalf("event %+v", ev[0])
	}
}
