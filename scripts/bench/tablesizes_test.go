package main

import (
	"strings"
	"testing"
)

// TestJudgeSizes: a case that makes more calls, or uses more capacity
// than growth allows, at a larger table fails the bench; one within it,
// and a job that did more, pass; a case a size did not measure shows "?".
func TestJudgeSizes(t *testing.T) {
	row := func(route, c string, calls int, rcu, wcu float64) Row {
		return Row{Route: route, Case: c, Method: "GET", Path: "/" + route, Calls: calls, MinCalls: calls, Budget: 3, RCU: rcu, WCU: wcu}
	}
	job := Row{Route: "purge-deleted-users", Case: "job: 20 due", Method: "JOB", Calls: 5, Budget: 99, RCU: 10, WCU: 40}
	r := &Report{FirstUsers: 1000, Routes: []Row{
		row("get-me", "", 2, 4, 0),
		row("list-users", "no filter", 2, 4.5, 0),
		row("list-users", "search=seed", 3, 10, 0),
		row("update-me", "", 3, 2, 10),
		row("get-user", "", 2, 5, 0),
		job,
		{Route: "list-users", Case: "windowed", Method: "GET", Calls: 2, MinCalls: 2, Budget: 3, RCU: 5, Window: "w"},
	}}
	bigJob := job
	bigJob.Case, bigJob.RCU, bigJob.WCU = "job: 40 due", 20, 80
	r.Sizes = []Size{{Users: 1000}, {Users: 10000, Rows: []Row{
		row("get-me", "", 2, 4*growth+growthSlack, 0), // at the bound: passes
		row("list-users", "no filter", 3, 4.5, 0),     // one more call
		row("list-users", "search=seed", 3, 10*growth+growthSlack+0.5, 0),
		row("update-me", "", 3, 2, 10*growth+growthSlack+0.5),
		bigJob, // did twice the work: its units may be twice
		{Route: "list-users", Case: "windowed", Method: "GET", Calls: 2, MinCalls: 2, Budget: 3, RCU: 50, Window: "w"},
	}}}
	for i := range r.Routes {
		r.verdict(&r.Routes[i], "")
	}
	r.judgeSizes()
	r.Passed = len(r.Failures) == 0

	grows := map[string]bool{}
	for _, s := range r.Sizes[1].Rows {
		grows[s.key()] = s.Verdict == "GROWS"
	}
	for key, want := range map[string]bool{
		"get-me\x00": false, "list-users\x00no filter": true, "list-users\x00search=seed": true,
		"update-me\x00": true, "purge-deleted-users": false, "list-users\x00windowed": false,
	} {
		if grows[key] != want {
			t.Errorf("%q: GROWS %v, want %v", key, grows[key], want)
		}
	}
	if len(r.Failures) != 3 || r.Passed {
		t.Errorf("failures %q, passed %v: want 3", r.Failures, r.Passed)
	}
	for _, f := range r.Failures {
		if !strings.Contains(f, "at 10000 users") || !strings.Contains(f, "at 1000") {
			t.Errorf("failure %q does not say both sizes", f)
		}
	}

	cells := r.sizeCells(r.Routes[4]) // get-user: not measured at 10,000
	if cells[0] != "2 / ?" || cells[1] != "5.0 / ?" || cells[5] != "PASS" {
		t.Errorf("get-user across sizes: %q", cells)
	}
	if cells := r.sizeCells(r.Routes[1]); cells[0] != "2 / 3" || cells[5] != "GROWS" {
		t.Errorf("list-users across sizes: %q", cells)
	}
}
