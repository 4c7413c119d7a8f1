package devserver_test

import (
	"fmt"
	"github.com/usermgmt/ums/pkg/auth"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/users"
)

// mintKey makes a personal key with token and returns its secret and id.
func (e *env) mintKey(token string, body map[string]any) (key, id string) {
	e.t.Helper()
	if body == nil {
		body = map[string]any{"name": "a script"}
	}
	r := e.must(201, e.do("POST", "/me/api-keys", token, body))
	return r.str("key"), r.str("id")
}

// systemKey makes a system key of the role (and team) as the admin.
func (e *env) systemKey(role, team string, days int) string {
	e.t.Helper()
	body := map[string]any{"name": "system " + role, "role": role}
	if team != "" {
		body["team_id"] = team
	}
	if days > 0 {
		body["expires_in_days"] = days
	}
	return e.must(201, e.do("POST", "/api-keys", e.admin, body)).str("key")
}

func TestPersonalKeysActAsTheirOwner(t *testing.T) {
	e := newEnv(t)
	team := e.team("Keys")
	id := e.createUser("owner@example.com", "manager", map[string]any{"team_id": team})
	tok := e.login("owner@example.com", "pw for owner@example.com")
	r := e.must(201, e.do("POST", "/me/api-keys", tok, map[string]any{"name": "  deploys  "}))
	key := r.str("key")
	if !strings.HasPrefix(key, "umk_") || len(key) < 4+43 || r.str("prefix") != key[:12] || r.str("name") != "deploys" ||
		r.str("owner_user_id") != id || r.get("role") != nil || r.get("expires_at") != nil {
		t.Fatalf("new key %s", r.raw)
	}
	if loc := r.header.Get("Location"); loc != "/me/api-keys/"+r.str("id") {
		t.Fatalf("Location %q", loc)
	}
	// The key is the user: same role, team and account.
	me := e.must(200, e.do("GET", "/me", key, nil))
	if me.str("id") != id || me.num("stats", "api_keys") != 1 {
		t.Fatalf("me with a key: %s", me.raw)
	}
	e.must(200, e.do("GET", "/users?team_id="+team, key, nil))
	e.problem(403, "forbidden", e.do("GET", "/settings", key, nil))
	e.problem(400, "validation_failed", e.do("GET", "/me/api-keys?limit=5", tok, nil))
	// The secret is never listed again, and never stored.
	l := e.must(200, e.do("GET", "/me/api-keys", tok, nil))
	if n := len(l.list("items")); n != 1 || strings.Contains(l.raw, key) || l.get("items", "0", "key") != nil {
		t.Fatalf("list %s", l.raw)
	}
	secret := strings.TrimSuffix(strings.TrimPrefix(key, "umk_"), "."+id)
	if dump := e.scanTable(); strings.Contains(dump, secret) {
		t.Fatal("the table holds a key's secret")
	}

	// Narrowed on the next request when the owner's role changes.
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"role": "member"}))
	e.problem(403, "forbidden", e.do("GET", "/users", key, nil))
	e.must(200, e.do("GET", "/me", key, nil))

	// A key cannot change its owner's password, nor sign out.
	e.problem(403, "forbidden", e.do("POST", "/me/password", key, map[string]any{
		"current_password": "pw for owner@example.com", "new_password": "a brand new passphrase"}))
	e.problem(403, "forbidden", e.do("POST", "/auth/logout", key, nil))

	// Deleting it stops it at once.
	e.must(204, e.do("DELETE", "/me/api-keys/"+r.str("id"), tok, nil))
	e.problem(401, "unauthorized", e.do("GET", "/me", key, nil))
	e.problem(404, "not_found", e.do("DELETE", "/me/api-keys/"+r.str("id"), tok, nil))
}

// Whatever ends all of the owner's sessions ends their keys, on the next
// request, and deletes them.
func TestPersonalKeysEndWithTheOwnersSessions(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name string
		end  func(e *env, id, email, tok string)
	}{
		{"deactivate", func(e *env, id, _, _ string) { e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil)) }},
		{"delete", func(e *env, id, _, _ string) { e.must(202, e.do("DELETE", "/users/"+id, e.admin, nil)) }},
		{"end-sessions", func(e *env, id, _, _ string) { e.must(204, e.do("DELETE", "/users/"+id+"/sessions", e.admin, nil)) }},
		{"set-password", func(e *env, id, _, _ string) {
			e.must(204, e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": "an admin-set passphrase"}))
		}},
		{"change-own-password", func(e *env, _, email, tok string) {
			e.must(204, e.do("POST", "/me/password", tok, map[string]any{
				"current_password": "pw for " + email, "new_password": "a brand new passphrase"}))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e.in(t)
			email := c.name + "@example.com"
			id := e.createUser(email, "member", nil)
			tok := e.login(email, "pw for "+email)
			key, kid := e.mintKey(tok, nil)
			e.must(200, e.do("GET", "/me", key, nil))
			c.end(e, id, email, tok)
			e.problem(401, "unauthorized", e.do("GET", "/me", key, nil))
			if c.name == "deactivate" {
				// Activating the user does not bring the key back.
				e.must(200, e.do("POST", "/users/"+id+"/activate", e.admin, nil))
				e.problem(401, "unauthorized", e.do("GET", "/me", key, nil))
			}
			if strings.Contains(e.scanTable(), `"sk":"APIKEY#`+kid) {
				t.Fatal("the ended key is still stored")
			}
		})
	}
}

func TestSystemKeys(t *testing.T) {
	e := newEnv(t)
	teamA, teamB := e.team("A"), e.team("B")
	inA := e.createUser("in-a@example.com", "member", map[string]any{"team_id": teamA})
	inB := e.createUser("in-b@example.com", "member", map[string]any{"team_id": teamB})

	admin := e.systemKey("admin", "", 0)
	// It acts as itself: the audit log names the key.
	r := e.must(201, e.do("POST", "/users", admin, map[string]any{"email": "made-by-key@example.com",
		"password": "a key-made passphrase", "given_name": "K", "family_name": "Ey", "role": "member"}))
	if r.str("id") == "" {
		t.Fatal(r.raw)
	}
	if !strings.Contains(e.scanTable(), `"actor_type":"api_key"`) {
		t.Fatal("no audit event acted by the key")
	}
	// It has no account of its own.
	e.problem(403, "forbidden", e.do("GET", "/me", admin, nil))
	e.problem(403, "forbidden", e.do("POST", "/me/api-keys", admin, map[string]any{"name": "x"}))

	// A manager-role key is scoped to its team; others' users do not exist.
	mgr := e.systemKey("manager", teamA, 0)
	e.must(200, e.do("GET", "/users/"+inA, mgr, nil))
	e.problem(404, "not_found", e.do("GET", "/users/"+inB, mgr, nil))
	e.problem(403, "forbidden", e.do("GET", "/api-keys", mgr, nil))
	e.problem(400, "validation_failed", e.do("POST", "/api-keys", e.admin, map[string]any{"name": "no team", "role": "manager"}))
	e.problem(400, "validation_failed", e.do("POST", "/api-keys", e.admin, map[string]any{"name": "x", "role": "member", "team_id": teamA}))
	e.problem(400, "validation_failed", e.do("POST", "/api-keys", e.admin, map[string]any{"name": "x", "role": "owner"}))
	e.problem(400, "validation_failed", e.do("POST", "/api-keys", e.admin, map[string]any{"name": "x", "role": "admin", "expires_in_days": 0}))
	e.problem(400, "validation_failed", e.do("POST", "/api-keys", e.admin, map[string]any{"name": "x", "role": "manager",
		"team_id": "team_aaaaaaaaaaaaaaaaaaaaaaaaaa"}))

	e.problem(400, "validation_failed", e.do("GET", "/api-keys?limit=0", e.admin, nil))
	// Listed without secrets, newest first; deleted, refused at once.
	l := e.must(200, e.do("GET", "/api-keys?limit=1", e.admin, nil))
	if len(l.list("items")) != 1 || l.str("items", "0", "role") != "manager" || l.get("next_cursor") == nil || strings.Contains(l.raw, `"key"`) {
		t.Fatalf("list %s", l.raw)
	}
	id := l.str("items", "0", "id")
	e.must(204, e.do("DELETE", "/api-keys/"+id, e.admin, nil))
	e.problem(401, "unauthorized", e.do("GET", "/users/"+inA, mgr, nil))
	e.problem(404, "not_found", e.do("DELETE", "/api-keys/"+id, e.admin, nil))

	// Deleting a team ends its manager-role keys, which would see no one.
	teamC := e.team("C")
	mgrC := e.systemKey("manager", teamC, 0)
	e.must(200, e.do("GET", "/users", mgrC, nil))
	e.must(204, e.do("DELETE", "/teams/"+teamC, e.admin, nil))
	e.problem(401, "unauthorized", e.do("GET", "/users", mgrC, nil))
}

func TestKeysExpireAndRecordUse(t *testing.T) {
	e := newEnv(t)
	key := e.systemKey("admin", "", 1)
	if first := e.must(200, e.do("GET", "/settings", key, nil)); first.status != 200 {
		t.Fatal(first.raw)
	}
	used := func() string {
		l := e.must(200, e.do("GET", "/api-keys", e.admin, nil))
		return l.str("items", "0", "last_used_at")
	}
	at := used()
	if at == "" {
		t.Fatal("last_used_at not recorded")
	}
	// Within a few minutes, use is not written again.
	e.clock.Advance(time.Minute)
	e.must(200, e.do("GET", "/settings", key, nil))
	if used() != at {
		t.Fatal("last_used_at written again within a minute")
	}
	e.clock.Advance(6 * time.Minute)
	e.must(200, e.do("GET", "/settings", key, nil))
	if used() == at {
		t.Fatal("last_used_at not written after six minutes")
	}
	e.clock.Advance(24 * time.Hour)
	e.problem(401, "unauthorized", e.do("GET", "/settings", key, nil))
}

// A key mints no key with more power than its own: none outliving it.
func TestKeysMintNoMorePowerThanTheirOwn(t *testing.T) {
	e := newEnv(t)
	short := e.systemKey("admin", "", 2)
	e.problem(400, "validation_failed", e.do("POST", "/api-keys", short, map[string]any{"name": "longer", "role": "admin", "expires_in_days": 30}))
	r := e.must(201, e.do("POST", "/api-keys", short, map[string]any{"name": "as long", "role": "member"}))
	if r.get("expires_at") == nil {
		t.Fatalf("a key made with an expiring key never expires: %s", r.raw)
	}
	tok := e.login(adminEmail, adminPassword)
	personal, _ := e.mintKey(tok, map[string]any{"name": "short", "expires_in_days": 1})
	e.problem(400, "validation_failed", e.do("POST", "/me/api-keys", personal, map[string]any{"name": "longer", "expires_in_days": 5}))
	child := e.must(201, e.do("POST", "/me/api-keys", personal, map[string]any{"name": "child"}))
	if child.get("expires_at") == nil {
		t.Fatalf("child key never expires: %s", child.raw)
	}
	e.problem(400, "validation_failed", e.do("POST", "/me/api-keys", tok, map[string]any{"name": "x", "role": "admin"}))
}

// A credential in the URL is refused, even with a good Authorization
// header: the URL may be logged anywhere.
func TestCredentialsInTheQueryAreRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.login(adminEmail, adminPassword)
	key, _ := e.mintKey(tok, nil)
	for _, path := range []string{"/me?api_key=" + key, "/me?access_token=" + tok, "/users?cursor=" + key,
		"/invitations/lookup?token=" + tok} {
		e.problem(401, "unauthorized", e.do("GET", path, tok, nil))
	}
	if strings.Contains(e.logs.String(), strings.TrimPrefix(key, "umk_")[:20]) {
		t.Fatal("a key reached the logs")
	}
}

// The 201 with the secret is never kept for an Idempotency-Key retry.
func TestKeySecretsAreNotKeptForRetries(t *testing.T) {
	e := newEnv(t)
	h := http.Header{"Idempotency-Key": {"key-retry-1"}}
	first := e.must(201, e.send("POST", "/api-keys", e.admin, map[string]any{"name": "retry", "role": "admin"}, h))
	again := e.send("POST", "/api-keys", e.admin, map[string]any{"name": "retry", "role": "admin"}, h)
	if strings.Contains(again.raw, first.str("key")) {
		t.Fatalf("a retry got the secret again: %s", again.raw)
	}
	if strings.Contains(e.scanTable(), first.str("key")[4:30]) {
		t.Fatal("the secret is stored")
	}
	l := e.must(200, e.do("GET", "/api-keys", e.admin, nil))
	if n := len(l.list("items")); n != 1 {
		t.Fatalf("%d keys after a retry, want 1", n)
	}
}

func TestPersonalKeysAreBounded(t *testing.T) {
	e := newEnv(t)
	tok := e.login(adminEmail, adminPassword)
	// Past the keys a caller may make in a window, the next window.
	nextWindow := func(i int) {
		if i > 0 && i%auth.KeysPerWindow == 0 {
			e.clock.Advance(auth.KeyWindow)
		}
	}
	for i := range 50 {
		nextWindow(i)
		e.mintKey(tok, map[string]any{"name": fmt.Sprint("k", i)})
	}
	e.problem(409, "invalid_state", e.do("POST", "/me/api-keys", tok, map[string]any{"name": "one too many"}))

	// Expired keys, which are no longer listed, no longer count.
	other := e.login(e.createUserEmail("bounded@example.com"), "pw for bounded@example.com")
	for i := range 50 {
		nextWindow(i)
		e.mintKey(other, map[string]any{"name": fmt.Sprint("k", i), "expires_in_days": 1})
	}
	e.problem(409, "invalid_state", e.do("POST", "/me/api-keys", other, map[string]any{"name": "one too many"}))
	e.clock.Advance(25 * time.Hour)
	other = e.login("bounded@example.com", "pw for bounded@example.com")
	if n := len(e.must(200, e.do("GET", "/me/api-keys", other, nil)).list("items")); n != 0 {
		t.Fatalf("%d expired keys listed", n)
	}
	e.mintKey(other, nil)
}

// createUserEmail creates a member and returns their email.
func (e *env) createUserEmail(email string) string {
	e.t.Helper()
	e.createUser(email, "member", nil)
	return email
}

// A personal key is refused once its owner's session generation moved on,
// even if the key's item were left behind (one made at the very moment
// the owner's sessions ended): the generation, not the deletion, is what
// ends it. The generation is moved here without deleting anything.
func TestPersonalKeysEndWithTheSessionGeneration(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("gen@example.com", "member", nil)
	key, kid := e.mintKey(e.login("gen@example.com", "pw for gen@example.com"), nil)
	e.must(200, e.do("GET", "/me", key, nil))
	ctx := e.systemCtx()
	u, err := e.app.Store.GetUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	next := u.Clone()
	next.SessionGen, next.Version = u.SessionGen+1, u.Version+1
	if err := e.app.Store.UpdateUser(ctx, users.Change{Before: u, After: next, Event: audit.New(ctx, "user.sessions_ended", "user", id, nil)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.scanTable(), `"sk":"APIKEY#`+kid) {
		t.Fatal("the key's item is gone: the test proves nothing")
	}
	e.problem(401, "unauthorized", e.do("GET", "/me", key, nil))
}
