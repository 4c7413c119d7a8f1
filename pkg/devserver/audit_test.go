package devserver_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	e := newEnv(t)
	rootID := e.must(200, e.do("GET", "/me", e.admin, nil)).str("id")
	id := e.createUser("audited@example.com", "member", nil)
	e.clock.Advance(time.Minute)
	mark := e.clock.Now()
	// The test clock stands still between moves: each step its own second.
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	e.clock.Advance(time.Second)
	e.must(200, e.do("POST", "/users/"+id+"/activate", e.admin, nil))
	e.clock.Advance(time.Second)
	key := e.systemKey("admin", "", 0)
	e.must(200, e.do("POST", "/users/"+id+"/deactivate", key, nil))

	all := e.must(200, e.do("GET", "/audit-events?target_id="+id, e.admin, nil))
	var actions []string
	for _, it := range all.list("items") {
		actions = append(actions, it.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, " "); got != "user.deactivated user.activated user.deactivated user.created" {
		t.Fatalf("events about the user, newest first: %s", got)
	}
	newest := all.get("items", "0").(map[string]any)
	if newest["actor_type"] != "api_key" || !strings.HasPrefix(newest["actor_id"].(string), "key_") ||
		newest["target_type"] != "user" || newest["request_id"] == "" || newest["ip"] == "" {
		t.Fatalf("the key's event: %v", newest)
	}

	count := func(query string) int {
		return len(e.must(200, e.do("GET", "/audit-events?"+query, e.admin, nil)).list("items"))
	}
	if n := count("target_id=" + id + "&action=user.deactivated"); n != 2 {
		t.Fatalf("%d deactivations of the user", n)
	}
	if n := count("actor_id=" + rootID + "&target_id=" + id + "&action=user.deactivated"); n != 1 {
		t.Fatalf("%d deactivations by the admin", n)
	}
	if n := count("target_id=" + id + "&since=" + url.QueryEscape(mark.Format(time.RFC3339Nano))); n != 3 {
		t.Fatalf("%d events since the mark", n)
	}
	if n := count("action=user.created&actor_id=" + rootID); n < 1 {
		t.Fatal("no creation by the admin")
	}

	// Paging: two pages of two, then the rest, without repeats.
	seen := map[string]bool{}
	cursor := ""
	for range 10 {
		q := "target_id=" + id + "&limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p := e.must(200, e.do("GET", "/audit-events?"+q, e.admin, nil))
		for _, it := range p.list("items") {
			evID := it.(map[string]any)["id"].(string)
			if seen[evID] {
				t.Fatalf("event %s twice", evID)
			}
			seen[evID] = true
		}
		if cursor = p.str("next_cursor"); cursor == "" {
			break
		}
	}
	if len(seen) != 4 {
		t.Fatalf("%d events over the pages, want 4", len(seen))
	}

	e.problem(400, "validation_failed", e.do("GET", "/audit-events?action=DROP%20TABLE", e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/audit-events?since=yesterday", e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/audit-events?cursor=bm90IGEgY3Vyc29y", e.admin, nil))
	e.problem(400, "validation_failed", e.do("GET", "/audit-events?actor_id=a%23b", e.admin, nil))

	// No secret ever reaches an event.
	e.must(200, e.do("POST", "/users/"+id+"/activate", e.admin, nil))
	e.must(204, e.do("PUT", "/users/"+id+"/password", e.admin, map[string]any{"password": "an admin-set passphrase"}))
	e.must(201, e.do("POST", "/users/"+id+"/password-reset", e.admin, map[string]any{}))
	e.login("audited@example.com", "an admin-set passphrase")
	dump := e.must(200, e.do("GET", "/audit-events?limit=100", e.admin, nil)).raw
	for _, secret := range []string{"ums_", "umk_", "umi_", "umr_", "passphrase", "pw for", "password_hash", "$argon2"} {
		if strings.Contains(dump, secret) {
			t.Fatalf("an audit event holds %q", secret)
		}
	}
}
