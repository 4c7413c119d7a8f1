package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/console"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/users"
)

// userFixtures makes the users the lifecycle cases act on, one per request
// index and purpose, outside the measured calls: a case that deactivates
// needs an active user each time, one that activates a deactivated one.
// It is safe for concurrent use (prefetch).
type userFixtures struct {
	b    *bench
	made onceEach[string]
}

// get returns the user of purpose and index i, made (and brought to the
// purpose's starting state by prepare) once.
func (f *userFixtures) get(purpose string, i int, prepare func(ctx context.Context, id string) error) string {
	return f.made.get(fmt.Sprint(purpose, i), func() string {
		b := f.b
		ctx := b.asAdmin(context.Background())
		u, err := b.cheapUser(ctx, users.CreateInput{Email: b.email(fmt.Sprintf("life-%s%d", purpose, i)), Password: password,
			GivenName: "Life", FamilyName: "Cycle", Role: "member"})
		if err != nil {
			panic(fmt.Sprintf("bench: a user to %s: %v", purpose, err))
		}
		if prepare != nil {
			if err := b.whileBusy(func() error { return prepare(ctx, u.ID) }); err != nil {
				panic(fmt.Sprintf("bench: a user to %s: %v", purpose, err))
			}
		}
		return u.ID
	})
}

// sessionOf is the session id a session token names.
func sessionOf(token string) string {
	_, secret, _ := strings.Cut(token, ".")
	return ids.FromHash("ses", secret)
}

// lifecycleCases are the cases of the lifecycle, password, session and
// sign-in record routes.
func (b *bench) lifecycleCases(n, nHash int) []request {
	admin := func(int) string { return b.admin }
	fx := &userFixtures{b: b}
	deactivated := func(ctx context.Context, id string) error { _, err := b.app.Users.Deactivate(ctx, id); return err }
	deleted := func(ctx context.Context, id string) error { _, err := b.app.Users.Delete(ctx, id); return err }
	resetFor := func(id string) string {
		res, err := b.sendFixture("POST", "/users/"+id+"/password-reset", b.admin, map[string]any{}, 201)
		if err != nil {
			panic(err)
		}
		u, _ := url.Parse(res.str("reset_url"))
		return u.Query().Get("token")
	}
	var lookedUp string
	var resets onceEach[string]
	resetToken := func(i int) string {
		return resets.get(fmt.Sprint(i), func() string { return resetFor(fx.get("reset", i, nil)) })
	}
	var mu sync.Mutex
	// The change-password user's password, as it becomes: each request
	// changes it from the last.
	fx.get("changer", 0, nil)
	current := password
	changerToken := ""
	changeBody := func(i int) any {
		mu.Lock()
		defer mu.Unlock()
		next := fmt.Sprintf("the changer's passphrase %d", i)
		body := map[string]any{"current_password": current, "new_password": next}
		current = next
		return body
	}
	// A session per request index: its token, for the case that ends it
	// with it, and its id, for the admin's.
	var sessions, othersSessions onceEach[string]
	freshSession := func(i int) string { return sessions.get(fmt.Sprint(i), b.freshToken) }
	fresh := func(i int) string { return othersSessions.get(fmt.Sprint(i), b.freshToken) }
	return []request{
		// No CPU case: every answer waits out auth.ForgotFloor, which the
		// CPU rounds' thousand requests would spend in sleep.
		{route: "forgot-password", label: "an active account", status: 202, samples: 10,
			body: func(int) any { return map[string]any{"email": memberEmail} }},
		{route: "forgot-password", label: "an unknown email: the same calls", status: 202, samples: 10,
			body: func(int) any { return map[string]any{"email": "nobody-at-all@example.com"} }},
		{route: "lookup-password-reset", status: 200, samples: n, cpu: true,
			before:  func() { lookedUp = resetFor(fx.get("lookup", 0, nil)) },
			queryOf: func(int) string { return "?token=" + url.QueryEscape(lookedUp) }},
		{route: "reset-password", made: true, status: 204, samples: nHash, cpu: true,
			body: func(i int) any { return map[string]any{"token": resetToken(i), "password": "a reset bench passphrase"} }},
		{route: "reset-password-page", query: "?token=umr_x", status: 200, samples: n, cpu: true},
		{route: "console", status: 200, samples: n, cpu: true},
		{route: "console-file", label: "the largest module", id: largestConsoleFile(), status: 200, samples: n, cpu: true},
		{route: "change-password", status: 204, samples: nHash, cpu: true, body: changeBody,
			before: func() {
				res, err := b.send("POST", "/auth/login", "", map[string]any{"login": b.email("life-changer0"), "password": password}, 200)
				if err != nil {
					panic(err)
				}
				changerToken = res.str("token")
			},
			token: func(int) string { return changerToken }},
		{route: "list-my-sessions", token: admin, status: 200, samples: n, cpu: true},
		{route: "delete-my-session", made: true, token: freshSession, idOf: func(i int) string { return sessionOf(freshSession(i)) }, status: 204, samples: n, cpu: true},
		{route: "list-sessions", token: admin, query: "?limit=20", status: 200, samples: n, cpu: true},
		{route: "list-sessions", label: "user_id", token: admin, query: "?user_id=" + b.targetID, status: 200, samples: n},
		{route: "delete-session", made: true, token: admin, idOf: func(i int) string { return sessionOf(fresh(i)) }, status: 204, samples: n, cpu: true},
		{route: "list-user-sessions", id: b.targetID, token: admin, status: 200, samples: n, cpu: true},
		{route: "end-user-sessions", id: b.targetID, token: admin, status: 204, samples: n, cpu: true},
		{route: "list-login-attempts", token: admin, query: "?limit=20", status: 200, samples: n, cpu: true},
		windowed(request{route: "list-login-attempts", label: "success=false", token: admin, query: "?limit=20&success=false", status: 200, samples: n}),
		{route: "deactivate-user", made: true, token: admin, idOf: func(i int) string { return fx.get("deactivate", i, nil) }, status: 200, samples: n, cpu: true},
		{route: "activate-user", made: true, token: admin, idOf: func(i int) string { return fx.get("activate", i, deactivated) }, status: 200, samples: n, cpu: true},
		{route: "delete-user", made: true, token: admin, idOf: func(i int) string { return fx.get("delete", i, nil) }, status: 202, samples: n, cpu: true},
		{route: "restore-user", made: true, token: admin, idOf: func(i int) string { return fx.get("restore", i, deleted) }, status: 200, samples: n, cpu: true},
		{route: "anonymize-user", made: true, token: admin, idOf: func(i int) string { return fx.get("anonymize", i, deactivated) }, status: 200, samples: n, cpu: true},
		{route: "set-password", id: b.targetID, token: admin, status: 204, samples: nHash, cpu: true,
			body: func(i int) any { return map[string]any{"password": fmt.Sprintf("a set bench passphrase %d", i)} }},
		{route: "create-password-reset", id: b.targetID, token: admin, status: 201, samples: n, cpu: true,
			body: func(int) any { return map[string]any{} }},
	}
}

// purgeJob measures the purge-deleted-users job over users deleted and
// past their grace period: its calls against its budget (one read of the
// index per 25 due; per user, the queries that find what is theirs, a
// read, one transaction, one more per 100 items found).
func (b *bench) purgeJob(due int) (Row, error) {
	fx := &userFixtures{b: b}
	ctx := b.asAdmin(context.Background())
	deleted := func(ctx context.Context, id string) error { _, err := b.app.Users.Delete(ctx, id); return err }
	prefetch(request{made: true, idOf: func(i int) string { return fx.get("purge", i, deleted) }}, 0, due)
	st, err := b.app.Settings.Get(ctx)
	if err != nil {
		return Row{}, err
	}
	job, err := b.app.Job("purge-deleted-users")
	if err != nil {
		return Row{}, err
	}
	at := b.clock.Now().Add(time.Duration(st.DeletionGraceDays)*24*time.Hour + time.Hour)
	run, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.calls.take()
	start := time.Now()
	rep, err := job(run, events.EventBridgeEvent{ID: "bench-purge", DetailType: "Scheduled Event", Time: at})
	took := time.Since(start)
	if err != nil {
		return Row{}, err
	}
	made := b.calls.take()
	ops := ops(made)
	// Per user: its partition, attempts by it and by its email's login,
	// invitations to its email and from it, audit events by it, about it
	// and about its invitations, kept answers (9 queries); its read; its
	// transaction (one more per 100 items of theirs).
	const perUser = 11
	row := Row{Route: "purge-deleted-users", Case: fmt.Sprintf("job: %d due, %d purged, in %.0f ms", due, rep.Done, ms(took)),
		Method: "JOB", Path: "rate(1 day)", Calls: len(ops), MinCalls: len(ops), ByOperation: countOps(ops), Waves: waves(made),
		Budget:     rep.Done*perUser + rep.Done/25 + 1,
		BudgetExpr: "proportional to what is due: per user 9 queries, a read and a transaction (one more per 100 items), one index read per 25"}
	// What the run consumed, and for how many: the cost model's per-item figures.
	row.RCU, row.WCU = jobUnits(made)
	row.Items, row.Latency = rep.Done, latencyOf([]float64{ms(took)})
	if rep.Done < due {
		return row, fmt.Errorf("the purge removed %d of %d due users", rep.Done, due)
	}
	return row, nil
}

// largestConsoleFile is the hashed name of the console's largest file: the
// one whose answer costs most to copy out.
func largestConsoleFile() string {
	var name string
	for n, f := range console.Console.Files {
		if name == "" || len(f.Body) > len(console.Console.Files[name].Body) {
			name = n
		}
	}
	return name
}
