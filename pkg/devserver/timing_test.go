package devserver_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/passwords"
)

// A failed sign-in tells nothing about the account, not even by its time:
// an unknown email or username, a wrong password, and the right password of
// an account that may not sign in (deactivated, in deletion) answer the same
// 401 with the same body, after the same work: the same DynamoDB calls (as
// each request's log line counts them) and one argon2id verification with
// the production parameters (against a dummy hash for an unknown login).
//
// The verification is what timing would show, so it is measured: in each
// round every kind runs once, in a rotating order, with one verification
// of the test's own among them, and each kind's cost is compared with a
// wrong password's of the same round. The median of those differences over
// 25 rounds must not be more than half of one verification below zero,
// what an attacker would see if a kind skipped it. The cost is the CPU
// time of this process (the server's work and the client's), not the wall
// time: on a busy machine the wall time of a request is mostly waiting for
// a CPU and for DynamoDB Local, and grows unevenly; its CPU time does not.
// (DynamoDB's part is held by the call counts. The wall times are logged;
// make bench measures every kind alone.)
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
	calls := make([]map[float64]bool, len(kinds))
	ids := map[string]int{}
	var body string
	// cpu is the CPU time this process has used, on every thread.
	cpu := func() time.Duration {
		var r syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
			t.Fatal(err)
		}
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	var verify []time.Duration
	wall := make([][]time.Duration, len(kinds))
	for round := range rounds {
		// Past any lockout the failures so far have earned.
		e.clock.Advance(16 * time.Minute)
		for j := range len(kinds) + 1 {
			k := (round + j) % (len(kinds) + 1) // a different order each round
			if k == len(kinds) {
				start := cpu()
				passwords.VerifyDummy("a password")
				verify = append(verify, cpu()-start)
				continue
			}
			w := e.from(fmt.Sprintf("127.0.%d.%d", round+1, k+1))
			start, startCPU := time.Now(), cpu()
			r := w.do("POST", "/auth/login", "", map[string]any{"login": kinds[k].login, "password": kinds[k].password})
			took[k] = append(took[k], cpu()-startCPU)
			wall[k] = append(wall[k], time.Since(start))
			if r.status != 401 {
				t.Fatalf("round %d, %s: %d %s", round, kinds[k].name, r.status, r.raw)
			}
			w.problem(401, "invalid_credentials", r)
			ids[r.header.Get("X-Request-Id")] = k
			b := strings.ReplaceAll(r.raw, r.header.Get("X-Request-Id"), "")
			if body == "" {
				body = b
			} else if b != body {
				t.Fatalf("%s: body %s, want %s", kinds[k].name, b, body)
			}
		}
	}

	// The same DynamoDB calls, every time.
	for line := range strings.Lines(e.logs.String()) {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["msg"] != "request" {
			continue
		}
		if k, ok := ids[fmt.Sprint(l["request_id"])]; ok {
			if calls[k] == nil {
				calls[k] = map[float64]bool{}
			}
			calls[k][l["dynamodb_calls"].(float64)] = true
		}
	}
	for k, kind := range kinds {
		if len(calls[k]) != 1 || !maps.Equal(calls[k], calls[0]) {
			t.Errorf("%s: DynamoDB calls %v, a wrong password's %v", kind.name, slices.Collect(maps.Keys(calls[k])), slices.Collect(maps.Keys(calls[0])))
		}
	}

	median := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	bound := median(verify) / 2
	var report strings.Builder
	for k, kind := range kinds {
		diffs := make([]time.Duration, rounds)
		for i := range rounds {
			diffs[i] = took[k][i] - took[0][i]
		}
		d := median(diffs)
		wallDiffs := make([]time.Duration, rounds)
		for i := range rounds {
			wallDiffs[i] = wall[k][i] - wall[0][i]
		}
		fmt.Fprintf(&report, "%-30s CPU median %6.1f ms, %+6.1f ms from a wrong password's in the same round (wall %6.1f ms, %+6.1f ms)\n",
			kind.name, float64(median(took[k]))/1e6, float64(d)/1e6, float64(median(wall[k]))/1e6, float64(median(wallDiffs))/1e6)
		if d < -bound {
			t.Errorf("%s: %v faster than a wrong password, more than half a verification (%v): it skips work", kind.name, -d, bound)
		}
	}
	t.Logf("failed sign-ins, %d rounds (one argon2id verification: %v of CPU):\n%s", rounds, median(verify), report.String())
}
