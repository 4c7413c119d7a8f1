package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/users"
)

// Size is the table at one of the sizes the bench measures every route
// and job at.
type Size struct {
	Users       int     `json:"users"`
	Seeded      int     `json:"seeded"`
	SeedSeconds float64 `json:"seed_seconds"`
	// Samples are the requests of each case at this size (fewer for the
	// cases that hash); none at the first size, whose rows are the
	// report's Routes, measured with the full count.
	Samples     int   `json:"samples,omitempty"`
	HashSamples int   `json:"hash_samples,omitempty"`
	Rows        []Row `json:"rows,omitempty"`
}

// growth is how much a request's capacity units may grow between the
// first table size and a larger one before the bench calls it a cost that
// grows with the table: item sizes vary a little (longer ids and counters),
// a page's reads do not.
const growth = 1.25

// growthSlack is the units a request may gain on top of growth: a page of
// an index reads in 4 KB steps (0.5 RCU, eventually consistent).
const growthSlack = 1.0

// key matches a row with the same case measured at another size. A job's
// case says how much it did, which differs: a job has one row.
func (r Row) key() string {
	if r.Method == "JOB" {
		return r.Route
	}
	return r.Route + "\x00" + r.Case
}

// atSizes fills the table to each further size and measures every route
// case and both jobs again there, with fewer samples: what a request costs
// must not grow with the table.
func (b *bench) atSizes(ctx context.Context, sizes []int, n, nHash, workers int) error {
	for pass, size := range sizes[1:] {
		start := time.Now()
		seeded, err := b.seed(ctx, size, workers)
		if err != nil {
			return err
		}
		s := Size{Users: size, Seeded: seeded, SeedSeconds: time.Since(start).Seconds(), Samples: n, HashSamples: nHash}
		b.pass = pass + 1
		// A member of this size's own: the first size's cases change the
		// member's role and password, which end its sessions.
		email := b.email("bench-member")
		if _, err := b.cheapUser(b.asAdmin(ctx), users.CreateInput{Email: email, Password: password, GivenName: "Bench", FamilyName: "Member", Role: "member"}); err != nil {
			return err
		}
		res, err := b.send("POST", "/auth/login", "", loginBody(email), 200)
		if err != nil {
			return fmt.Errorf("member sign-in at %d users: %w", size, err)
		}
		b.member = res.str("token")
		cases := append(b.listCases(n), b.routeCases(n, nHash)...)
		for _, c := range cases {
			row, err := b.measure(c)
			if err != nil {
				return fmt.Errorf("at %d users: %w", size, err)
			}
			s.Rows = append(s.Rows, row)
		}
		if err := b.unlimitedSeats(); err != nil {
			return err
		}
		job, err := b.expiryJob(n)
		if err != nil {
			return fmt.Errorf("at %d users: %w", size, err)
		}
		purge, err := b.purgeJob(min(n, 20))
		if err != nil {
			return fmt.Errorf("at %d users: %w", size, err)
		}
		s.Rows = append(s.Rows, job, purge)
		b.rep.Sizes = append(b.rep.Sizes, s)
		fmt.Fprintf(os.Stderr, "bench: at %d users (%d seeded in %.1f s) took %.1f s\n", size, seeded, s.SeedSeconds, time.Since(start).Seconds())
	}
	b.pass = 0
	return nil
}

// tag makes the names and emails of a pass's fixtures its own: the cases
// run once per table size, and a second creation of the same email or
// team name would be refused.
func (b *bench) tag() string {
	if b.pass == 0 {
		return ""
	}
	return fmt.Sprintf(".p%d", b.pass)
}

// email is local@example.com, tagged with the pass.
func (b *bench) email(local string) string {
	return local + b.tag() + "@example.com"
}

// judgeSizes compares each row at a larger size with the same case at the
// first: within its budget, no Scan, no more calls, and capacity units
// within growth.
func (r *Report) judgeSizes() {
	base := map[string]Row{}
	for _, row := range r.Routes {
		base[row.key()] = row
	}
	for i := 1; i < len(r.Sizes); i++ {
		s := &r.Sizes[i]
		where := fmt.Sprintf(" at %d users", s.Users)
		for j := range s.Rows {
			row := &s.Rows[j]
			r.verdict(row, where)
			first, ok := base[row.key()]
			if !ok || row.Verdict != "PASS" {
				continue
			}
			var grew []string
			if row.Calls > first.Calls {
				grew = append(grew, fmt.Sprintf("%d DynamoDB calls at %d users, %d at %d", row.Calls, s.Users, first.Calls, r.FirstUsers))
			}
			// A job's units grow with what it did, which differs; a
			// windowed filter's up to its window.
			if row.Method != "JOB" && row.Window == "" {
				if row.RCU > first.RCU*growth+growthSlack {
					grew = append(grew, fmt.Sprintf("%.1f RCU at %d users, %.1f at %d", row.RCU, s.Users, first.RCU, r.FirstUsers))
				}
				if row.WCU > first.WCU*growth+growthSlack {
					grew = append(grew, fmt.Sprintf("%.1f WCU at %d users, %.1f at %d", row.WCU, s.Users, first.WCU, r.FirstUsers))
				}
			}
			if len(grew) > 0 {
				row.Verdict = "GROWS"
				r.Failures = append(r.Failures, fmt.Sprintf("%s %s (%s): GROWS: %s", row.Method, row.Path, row.Case, strings.Join(grew, "; ")))
			}
		}
	}
}

// sizesOf is the row of each size for the case of first: nil where a size
// did not measure it.
func (r *Report) sizesOf(first Row) []*Row {
	out := []*Row{&first}
	// The first size's rows are Routes.
	for i := 1; i < len(r.Sizes); i++ {
		var found *Row
		for j := range r.Sizes[i].Rows {
			if r.Sizes[i].Rows[j].key() == first.key() {
				found = &r.Sizes[i].Rows[j]
				break
			}
		}
		out = append(out, found)
	}
	return out
}
