package devserver_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestEveryResponseCarriesTheHeaders(t *testing.T) {
	e := newEnv(t)
	for _, r := range []response{
		e.do("GET", "/me", e.admin, nil),
		e.do("GET", "/me", "", nil),
		e.do("POST", "/auth/login", "", "{"),
		e.do("GET", "/nowhere", "", nil),
		e.do("DELETE", "/me", e.admin, nil),
	} {
		if r.header.Get("X-Request-Id") == "" || r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%d response headers %v", r.status, r.header)
		}
	}
	e.problem(404, "not_found", e.do("GET", "/nowhere", "", nil))
	r := e.problem(405, "method_not_allowed", e.do("DELETE", "/me", e.admin, nil))
	if r.header.Get("Allow") != "GET, PATCH" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
}

func TestTheClientCannotChooseTheRequestID(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.url+"/me", nil)
	req.Header.Set("X-Request-Id", "chosen-by-the-client")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if id := res.Header.Get("X-Request-Id"); id == "" || id == "chosen-by-the-client" {
		t.Fatalf("request id %q", id)
	}
}

func TestBodies(t *testing.T) {
	e := newEnv(t)
	e.problem(400, "malformed_json", e.do("PATCH", "/me", e.admin, "{not json"))
	e.problem(400, "malformed_json", e.do("PATCH", "/me", e.admin, `{"given_name":"A"} {"x":1}`))
	e.problem(400, "malformed_json", e.do("PATCH", "/me", e.admin, `[1,2]`))
	e.problem(400, "malformed_json", e.do("PATCH", "/me", e.admin, ""))
	r := e.problem(400, "validation_failed", e.do("PATCH", "/me", e.admin, `{"given_name":"A","given_name":"B"}`))
	if r.get("errors").([]any)[0].(map[string]any)["field"] != "given_name" {
		t.Fatalf("duplicate key: %s", r.raw)
	}
	e.problem(413, "payload_too_large", e.do("PATCH", "/me", e.admin, `{"given_name":"`+strings.Repeat("a", 65<<10)+`"}`))
	req, _ := http.NewRequest("PATCH", e.url+"/me", strings.NewReader(`{"given_name":"A"}`))
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 415 {
		t.Fatalf("text/plain body: %d", res.StatusCode)
	}
	if e.must(200, e.do("GET", "/me", e.admin, nil)).str("given_name") != "Admin" {
		t.Fatal("a refused body changed the user")
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ origin, want string }{{"https://admin.example.com", "https://admin.example.com"}, {"https://evil.example", ""}} {
		req, _ := http.NewRequest("OPTIONS", e.url+"/users", nil)
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != c.want {
			t.Errorf("origin %s: Allow-Origin %q, want %q", c.origin, got, c.want)
		}
	}
}
