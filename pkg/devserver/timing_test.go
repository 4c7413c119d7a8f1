package devserver_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/passwords"
)

// A failed sign-in tells nothing about the account, not even by its time:
// an unknown email or username, a wrong password, and the right password of
// an account that may not sign in (deactivated, in deletion) answer the same
// 401, the same body, and take as long, with the production argon2id
// parameters (an unknown login verifies against a dummy hash and reads a
// user like a known one).
//
// The bound: every kind's median, over 25 interleaved samples, is within
// 20% (or 5 ms, whichever is larger) of a wrong password's. Skipping the
// dummy hash makes an unknown login faster by a whole argon2id verify,
// several times the bound.
func TestFailedSignInsTakeAlike(t *testing.T) {
	e := newEnv(t)
	e.app.Users.Params, e.app.Auth.Params = passwords.DefaultParams, passwords.DefaultParams
	// One account per kind: a kind's failures must not lock another's
	// account within a round.
	e.createUser("timing-active@example.com", "member", nil)
	e.createUser("timing-byname@example.com", "member", map[string]any{"username": "timingbyname"})
	for _, email := range []string{"timing-deact@example.com", "timing-deact2@example.com"} {
		id := e.createUser(email, "member", nil)
		e.must(200, e.do("POST", "/users/"+id+"/deactivate", e.admin, nil))
	}
	deleted := e.createUser("timing-deleted@example.com", "member", nil)
	e.must(202, e.do("DELETE", "/users/"+deleted, e.admin, nil))

	kinds := []struct{ name, login, password string }{
		{"wrong password", "timing-active@example.com", "not the password"},
		{"unknown email", "nobody-at-all@example.com", "not the password"},
		{"unknown username", "nobodyatall", "not the password"},
		{"wrong password by username", "timingbyname", "not the password"},
		{"deactivated, right password", "timing-deact@example.com", pw("timing-deact@example.com")},
		{"deactivated, wrong password", "timing-deact2@example.com", "not the password"},
		{"in deletion, right password", "timing-deleted@example.com", pw("timing-deleted@example.com")},
	}
	const rounds = 25
	took := make([][]time.Duration, len(kinds))
	var body string
	for round := range rounds {
		// Past any lockout the failures so far have earned.
		e.clock.Advance(16 * time.Minute)
		for j := range kinds {
			k := (round + j) % len(kinds) // a different order each round
			w := e.from(fmt.Sprintf("127.0.%d.%d", round+1, k+1))
			start := time.Now()
			r := w.do("POST", "/auth/login", "", map[string]any{"login": kinds[k].login, "password": kinds[k].password})
			took[k] = append(took[k], time.Since(start))
			if r.status != 401 {
				t.Fatalf("round %d, %s: %d %s", round, kinds[k].name, r.status, r.raw)
			}
			w.problem(401, "invalid_credentials", r)
			b := strings.ReplaceAll(r.raw, r.header.Get("X-Request-Id"), "")
			if body == "" {
				body = b
			} else if b != body {
				t.Fatalf("%s: body %s, want %s", kinds[k].name, b, body)
			}
		}
	}
	median := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	ref := median(took[0])
	bound := max(5*time.Millisecond, ref/5)
	var report strings.Builder
	for k, kind := range kinds {
		m := median(took[k])
		fmt.Fprintf(&report, "%-30s median %6.1f ms\n", kind.name, float64(m)/float64(time.Millisecond))
		if d := m - ref; d > bound || -d > bound {
			t.Errorf("%s: median %v, a wrong password's %v: more than %v apart", kind.name, m, ref, bound)
		}
	}
	t.Logf("failed sign-ins, %d samples each (bound %v):\n%s", rounds, bound, report.String())
}
