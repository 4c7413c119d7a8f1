package devserver_test

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Only the exact field names are fields: Go's decoder alone matches keys
// case-insensitively, so {"role":"member","ROLE":"admin"} made an admin.
func TestKeysMatchExactly(t *testing.T) {
	e := newEnv(t)
	r := e.problem(400, "validation_failed", e.do("POST", "/users", e.admin,
		`{"email":"case@example.com","password":"a long passphrase","given_name":"A","family_name":"B","role":"member","ROLE":"admin"}`))
	if got := r.list("errors"); len(got) != 1 || got[0].(map[string]any)["field"] != "ROLE" {
		t.Fatalf("errors %s", r.raw)
	}
	e.problem(400, "validation_failed", e.do("PATCH", "/me", e.admin, `{"Given_Name":"A"}`))
	if e.userCount() != 1 || e.must(200, e.do("GET", "/me", e.admin, nil)).str("given_name") != "Admin" {
		t.Fatal("a refused body changed something")
	}
}

// Every cursor this list did not issue is refused with 400, whatever it
// holds; none reaches DynamoDB as an invalid key.
func TestForgedCursorsAreRefused(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		e.createUser(strings.Repeat("c", 1+len(e.must(200, e.do("GET", "/users", e.admin, nil)).list("items")))+"@example.com", "member", nil)
	}
	real := e.must(200, e.do("GET", "/users?limit=1", e.admin, nil)).str("next_cursor")
	if real == "" {
		t.Fatal("no cursor")
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []string{
		enc(`{"s":"","i":"usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"}`),
		enc(`{"s":"","p":"","k":""}`),
		enc(`{"s":"2026-01-01T00:00:00.000000000Z#usr_x","p":"USER#usr_aaaaaaaaaaaaaaaaaaaaaaaaaa","k":"PROFILE"}`[:40]),
		enc(`{"s":"not a time#usr_aaaaaaaaaaaaaaaaaaaaaaaaaa","p":"USER#usr_aaaaaaaaaaaaaaaaaaaaaaaaaa","k":"PROFILE"}`),
		enc(`{"s":"2026-01-01T00:00:00.000000000Z#usr_aaaaaaaaaaaaaaaaaaaaaaaaaa","p":"META","k":"META"}`),
		enc(`{"s":"2026-01-01T00:00:00.000000000Z#usr_aaaaaaaaaaaaaaaaaaaaaaaaaa","p":"USER#usr_aaaaaaaaaaaaaaaaaaaaaaaaaa","k":"SESSION#x"}`),
		enc(`[]`), enc(`null`), "%%%", real + "x", strings.Repeat("A", 5000),
	} {
		e.problem(400, "validation_failed", e.do("GET", "/users?cursor="+c, e.admin, nil))
	}
	e.must(200, e.do("GET", "/users?limit=1&cursor="+real, e.admin, nil))
}

// Text is text: no invalid UTF-8 anywhere (the decoder would store it as
// U+FFFD), no name without a visible character, no characters that reorder
// what is around them, and null is no body.
func TestTextThatIsNotText(t *testing.T) {
	e := newEnv(t)
	e.problem(400, "malformed_json", e.do("PATCH", "/me", e.admin, []byte("{\"given_name\":\"Ad\xffa\"}")))
	for _, name := range []string{"\u200b", "\u200b \u200b", "Ada\u202eevol", "\u2066Ada\u2069", "a\x07"} {
		r := e.problem(400, "validation_failed", e.do("PATCH", "/me", e.admin, map[string]any{"given_name": name}))
		if r.list("errors")[0].(map[string]any)["field"] != "given_name" {
			t.Fatalf("errors %s", r.raw)
		}
	}
	e.problem(400, "malformed_json", e.do("PATCH", "/me", e.admin, `null`))
	e.problem(400, "validation_failed", e.do("GET", "/users?status=\xff", e.admin, nil))
	e.must(200, e.do("PATCH", "/me", e.admin, map[string]any{"given_name": "Zoë", "family_name": "Skłodowska"}))
	if got := e.must(200, e.do("GET", "/me", e.admin, nil)); got.str("given_name") != "Zoë" || got.str("display_name") != "Zoë Skłodowska" {
		t.Fatalf("me %s", got.raw)
	}
}

// Every bad field of a body is reported at once, those the decoder cannot
// even read (a string for a number) with those out of range.
func TestEveryBadFieldAtOnce(t *testing.T) {
	e := newEnv(t)
	r := e.problem(400, "validation_failed", e.do("PATCH", "/settings", e.admin,
		`{"license_count":"five","password_min_length":200,"session_ttl_hours":1}`))
	got := map[string]string{}
	for _, f := range r.list("errors") {
		m := f.(map[string]any)
		got[m["field"].(string)] = m["message"].(string)
	}
	if len(got) != 2 || got["license_count"] != "must be a whole number" || !strings.Contains(got["password_min_length"], "between") {
		t.Fatalf("errors %s", r.raw)
	}
	r = e.problem(400, "validation_failed", e.do("POST", "/users", e.admin,
		`{"email":"not an email","password":12,"given_name":"A","family_name":"B","role":"owner"}`))
	if n := len(r.list("errors")); n != 3 {
		t.Fatalf("%d errors, want email, password and role: %s", n, r.raw)
	}
	if e.must(200, e.do("GET", "/settings", e.admin, nil)).num("session_ttl_hours") != 720 {
		t.Fatal("a refused patch changed a setting")
	}
}

// A stale update is refused: users and the settings carry an ETag, and a
// PATCH with an If-Match that no longer matches gets 412 and changes
// nothing. Without If-Match, PATCH applies as it always did.
func TestStaleUpdatesAreRefused(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("etag@example.com", "member", nil)
	got := e.must(200, e.do("GET", "/users/"+id, e.admin, nil))
	tag := got.header.Get("ETag")
	if !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `"`) {
		t.Fatalf("ETag %q", tag)
	}
	ifMatch := func(tag string) http.Header { return http.Header{"If-Match": {tag}} }
	first := e.must(200, e.send("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "First"}, ifMatch(tag)))
	if first.header.Get("ETag") == tag || first.header.Get("ETag") == "" {
		t.Fatalf("the ETag did not change: %q", first.header.Get("ETag"))
	}
	// A second editor still holding the first version loses, and says so.
	e.problem(412, "precondition_failed", e.send("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Second"}, ifMatch(tag)))
	e.problem(412, "precondition_failed", e.send("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Second"}, ifMatch("W/"+first.header.Get("ETag"))))
	if e.must(200, e.do("GET", "/users/"+id, e.admin, nil)).str("given_name") != "First" {
		t.Fatal("a stale update was applied")
	}
	e.must(200, e.send("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Third"}, ifMatch(`"0", `+first.header.Get("ETag"))))
	e.must(200, e.send("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Any"}, ifMatch("*")))
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Unconditional"}))

	me := e.must(200, e.do("GET", "/me", e.admin, nil))
	e.problem(412, "precondition_failed", e.send("PATCH", "/me", e.admin, map[string]any{"display_name": "X"}, ifMatch(`"999"`)))
	e.must(200, e.send("PATCH", "/me", e.admin, map[string]any{"display_name": "X"}, ifMatch(me.header.Get("ETag"))))

	st := e.must(200, e.do("GET", "/settings", e.admin, nil))
	stTag := st.header.Get("ETag")
	next := e.must(200, e.send("PATCH", "/settings", e.admin, map[string]any{"license_count": 7}, ifMatch(stTag)))
	e.problem(412, "precondition_failed", e.send("PATCH", "/settings", e.admin, map[string]any{"license_count": 9}, ifMatch(stTag)))
	if got := e.must(200, e.do("GET", "/settings", e.admin, nil)); got.num("license_count") != 7 || got.header.Get("ETag") != next.header.Get("ETag") {
		t.Fatalf("settings %s (ETag %s)", got.raw, got.header.Get("ETag"))
	}
}

// The dev server answers a body shorter than its Content-Length instead of
// waiting for it, and gives every response the security headers, a path
// that is not clean ("//me") included.
func TestTheServerNeverHangsAndAlwaysSetsTheHeaders(t *testing.T) {
	e := newEnv(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("PATCH /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + e.admin +
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"given_name\":"))
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil && n == 0 {
		t.Fatalf("no answer to a short body: %v", err)
	}
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 400") {
		t.Fatalf("answer %q", buf[:n])
	}
	for _, path := range []string{"//me", "/users/../me", "/me/", "/nowhere"} {
		r := e.do("GET", path, e.admin, nil)
		if r.status != 404 || r.header.Get("Location") != "" {
			t.Fatalf("%s: %d %v", path, r.status, r.header)
		}
		for _, h := range []string{"X-Request-Id", "Cache-Control", "X-Content-Type-Options", "Content-Security-Policy", "Referrer-Policy", "Strict-Transport-Security"} {
			if r.header.Get(h) == "" {
				t.Errorf("%s: no %s", path, h)
			}
		}
	}
}

// A change that lands between a PATCH's read and its write is not lost:
// the PATCH's transaction fails on the version it read, and it is decided
// again on what is there now (the hook makes the other change land then).
func TestConcurrentEditsAreNotLost(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("both@example.com", "member", nil)
	e.hooks.Before("update-user", "TransactWriteItems", func(context.Context) {
		e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"family_name": "Other"}))
	})
	e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Mine"}))
	if got := e.must(200, e.do("GET", "/users/"+id, e.admin, nil)); got.str("given_name") != "Mine" || got.str("family_name") != "Other" {
		t.Fatalf("user %s", got.raw)
	}
	e.hooks.Before("update-me", "TransactWriteItems", func(context.Context) {
		e.must(200, e.do("PATCH", "/me", e.admin, map[string]any{"family_name": "Racer"}))
	})
	e.must(200, e.do("PATCH", "/me", e.admin, map[string]any{"given_name": "First"}))
	if got := e.must(200, e.do("GET", "/me", e.admin, nil)); got.str("given_name") != "First" || got.str("family_name") != "Racer" {
		t.Fatalf("me %s", got.raw)
	}
	e.hooks.Before("update-settings", "TransactWriteItems", func(context.Context) {
		e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"license_count": 40}))
	})
	e.must(200, e.do("PATCH", "/settings", e.admin, map[string]any{"deletion_grace_days": 9}))
	if got := e.must(200, e.do("GET", "/settings", e.admin, nil)); got.num("license_count") != 40 || got.num("deletion_grace_days") != 9 {
		t.Fatalf("settings %s", got.raw)
	}
	// With If-Match, the change that landed meanwhile is reported instead.
	tag := e.must(200, e.do("GET", "/users/"+id, e.admin, nil)).header.Get("ETag")
	e.hooks.Before("update-user", "TransactWriteItems", func(context.Context) {
		e.must(200, e.do("PATCH", "/users/"+id, e.admin, map[string]any{"family_name": "Again"}))
	})
	e.problem(412, "precondition_failed", e.send("PATCH", "/users/"+id, e.admin, map[string]any{"given_name": "Stale"}, http.Header{"If-Match": {tag}}))
	if e.hooks.Pending() != 0 {
		t.Fatal("a hook never ran")
	}
}
