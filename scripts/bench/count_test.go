package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Each case's requests come from an address of its own, and between cases
// from the loopback one, so no case's failures count toward another's limit.
func TestCaseAddressIsEachCasesOwn(t *testing.T) {
	srv := &server{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		io.WriteString(w, host)
	})}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	from := func() string {
		t.Helper()
		res, err := http.Get(hs.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if got := from(); got != "127.0.0.1" {
		t.Fatalf("before any case: from %s, want 127.0.0.1", got)
	}
	seen := map[string]bool{}
	for range 300 {
		restore := srv.caseAddress()
		a, b := from(), from()
		if a != b {
			t.Fatalf("one case's requests came from %s and %s", a, b)
		}
		if net.ParseIP(a) == nil || seen[a] {
			t.Fatalf("case address %q: not an address, or an earlier case's", a)
		}
		seen[a] = true
		restore()
		if got := from(); got != "127.0.0.1" {
			t.Fatalf("after a case: from %s, want 127.0.0.1", got)
		}
	}
}
