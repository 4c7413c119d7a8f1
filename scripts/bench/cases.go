package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/users"
)

// A case's budget is its route's, from the routes table (routes.Route.Budget,
// authentication included); a case may add a stated allowance on top: the
// session touch, one write at most every 5 minutes of a session's life.
const touch = 1

// authOnly is the budget of a request refused right after authentication.
const authOnly = routes.Auth

// request is one case of a route to count and time.
type request struct {
	route string // its name in routes.All
	label string // what varies, if anything
	// path replaces {id} (or {file}) in the route's path and may add a query.
	id, query string
	// idOf, if set, gives each request its own {id} (a case that uses up
	// what it acts on: cancellations).
	idOf func(i int) string
	// queryOf, if set, gives each request its query instead of query.
	queryOf func(i int) string
	token   func(i int) string
	body    func(i int) any
	status  int
	// extra is allowed on top of the route's budget (touch, or what
	// extraNote says), and budget, if set, replaces it (a case that stops
	// early: authOnly).
	extra, budget int
	extraNote     string
	samples       int
	// cpu asks for the case's CPU and allocations per request (cpuOf): one
	// case of each route.
	cpu bool
	// window, if set, says why the case's reads grow with the table up to
	// a bound (a filter no index serves reads at most dynamo.FilterWindow
	// entries): its units may grow between sizes, its calls may not.
	window string
	// before, if set, runs before the first request, e.g. to move the clock.
	before func()
	// seen, if set, gets every response, e.g. to keep the tokens of sign-ins.
	seen func(response)
	// made says that token, idOf and body give what they make (a user, a
	// session) once per request index, and may be called at once from
	// several goroutines: prefetch makes them ahead of the requests.
	made bool
}

// routes measures every route's cases at the first table size, and keeps
// those whose CPU is measured.
func (b *bench) routes(n, nHash int) error {
	if err := b.measureFirst(b.routeCases(n, nHash)); err != nil {
		return err
	}
	return b.unlimitedSeats()
}

// measureFirst measures cases at the first table size into the report's
// rows, and keeps those whose CPU is measured.
func (b *bench) measureFirst(cases []request) error {
	for _, c := range cases {
		row, err := b.measure(c)
		if err != nil {
			return err
		}
		b.rep.Routes = append(b.rep.Routes, row)
		if c.cpu {
			b.cpuCases = append(b.cpuCases, cpuCase{c, len(b.rep.Routes) - 1})
		}
	}
	return nil
}

// seats is the license count the i-th update-settings request sets: each
// a new value (an unchanged one writes nothing), and enough for twice the
// largest table size, so the cases after it can still invite and create.
func (b *bench) seats(i int) int { return 2*b.largest + i%passIndexes }

// unlimitedSeats sets the licenses back to unlimited, which update-settings
// changes, for the seeding.
func (b *bench) unlimitedSeats() error {
	_, err := b.send("PATCH", "/settings", b.admin, map[string]any{"license_count": 0}, 200)
	return err
}

// routeCases are the cases of every route but the list's: built anew for
// each table size, as they make what they use up.
func (b *bench) routeCases(n, nHash int) []request {
	admin := func(int) string { return b.admin }
	var tokens []string        // of the sign-ins timed, for the sign-outs
	var fresh onceEach[string] // more, made by index
	newUser := func(i int) any {
		return map[string]any{"email": b.email(fmt.Sprint("created", i)), "password": password,
			"given_name": "Created", "family_name": fmt.Sprint(i), "role": "member"}
	}
	cases := []request{
		{route: "login", label: "success", body: func(int) any { return loginBody(signInEmail) }, status: 200, samples: nHash, cpu: true,
			seen: func(r response) { tokens = append(tokens, r.str("token")) }},
		{route: "login", label: "wrong password", body: func(int) any { return map[string]any{"login": signInEmail, "password": "not it at all"} },
			status: 401, samples: 1},
		{route: "login", label: "unknown login", body: func(int) any { return map[string]any{"login": "nobody@example.com", "password": "not it at all"} },
			status: 401, samples: 1},
		{route: "logout", made: true, token: func(i int) string {
			if i < len(tokens) {
				return tokens[i]
			}
			return fresh.get(fmt.Sprint(i), b.freshToken)
		}, status: 204, samples: nHash, cpu: true},
		{route: "get-settings", label: "as a member: 403, authentication alone", token: func(int) string { return b.member }, status: 403, budget: authOnly, samples: n},
		{route: "get-me", token: admin, status: 200, samples: n, cpu: true},
		{route: "get-me", label: "again, session written <5 min ago", token: admin, status: 200, samples: 1},
		{route: "get-me", label: "clock +6 min: writes the session touch", token: admin, status: 200, extra: touch, samples: 1,
			before: func() { b.clock.Advance(6 * time.Minute) }},
		{route: "get-me", label: "right after the touch", token: admin, status: 200, samples: 1},
		{route: "update-me", token: admin, body: func(i int) any { return map[string]any{"display_name": fmt.Sprint("Admin ", i)} },
			status: 200, samples: n, cpu: true},
		{route: "create-user", token: admin, body: newUser, status: 201, samples: nHash, cpu: true},
		{route: "get-user", id: b.targetID, token: admin, status: 200, samples: n, cpu: true},
		{route: "update-user", label: "name", id: b.targetID, token: admin,
			body: func(i int) any { return map[string]any{"given_name": fmt.Sprint("Name", i)} }, status: 200, samples: n, cpu: true},
		{route: "update-user", label: "role", id: b.targetID, token: admin,
			body: func(i int) any { return map[string]any{"role": []string{"manager", "member"}[i%2]} }, status: 200, samples: n},
		{route: "get-settings", token: admin, status: 200, samples: n, cpu: true},
		{route: "update-settings", token: admin, body: func(i int) any { return map[string]any{"license_count": b.seats(i)} },
			status: 200, samples: n, cpu: true},
		{route: "get-summary", token: admin, status: 200, samples: n, cpu: true},
	}
	cases = append(cases, b.invitationCases(n, nHash)...)
	cases = append(cases, b.lifecycleCases(n, nHash)...)
	cases = append(cases, b.teamCases(n)...)
	cases = append(cases, b.keyCases(n)...)
	return append(cases, b.recordCases(n)...)
}

// listCases are the GET /users first pages measured at every table size,
// in pages of 10 so that only the table's size differs between them.
func (b *bench) listCases(n int) []request {
	admin := func(int) string { return b.admin }
	c := func(label, query string) request {
		return request{route: "list-users", label: label, query: query, token: admin, status: 200, samples: n}
	}
	// A search reads its page's users after the query of its partition.
	search := func(label, query string) request {
		r := c(label, query)
		r.extra, r.extraNote = 1, "a search: the page's users, in one BatchGetItem"
		return r
	}
	first := c("no filter", "?limit=10")
	first.cpu = true
	return []request{
		first,
		c("status=active", "?limit=10&status=active"),
		c("role=member", "?limit=10&role=member"),
		windowed(c("status=active&role=member", "?limit=10&status=active&role=member")),
		// Few users are deactivated (the lifecycle cases'): the filter keeps
		// almost nothing, the worst case of a filter the index does not
		// serve.
		windowed(c("status=deactivated&role=member (rare)", "?limit=10&status=deactivated&role=member")),
		search("search=seed (one word)", "?limit=10&search=seed"),
		// Words that match users of every table size, from seed1
		// to seed10: a page that matches none makes no second call.
		search("search=seed10 (six letters)", "?limit=10&search=seed10"),
		windowed(search("search=seed10@ (longer than a prefix)", "?limit=10&search=seed10%40")),
		windowed(search("search=seed&role=member", "?limit=10&search=seed&role=member")),
	}
}

// listUsers measures the list cases at the first table size.
func (b *bench) listUsers(n int) error { return b.measureFirst(b.listCases(n)) }

// seed creates users through the users service, with cheap hashes, until
// the table holds total active users, and returns how many it created.
func (b *bench) seed(ctx context.Context, total, workers int) (int, error) {
	res, err := b.send("GET", "/summary", b.admin, nil, 200)
	if err != nil {
		return 0, err
	}
	have := res.num("by_status", "active")
	// One hash for all: each can sign in with the bench's password.
	hash := passwords.Hash(password, seedParams)
	now := b.clock.Now()
	var us []*users.User
	// Numbered on from the last seeded: the cases deactivate and delete
	// users, so the active count is no guide to the emails already taken.
	for range max(0, total-have) {
		b.seeded++
		i := b.seeded
		u := &users.User{
			ID: ids.New("usr"), Email: fmt.Sprintf("seed%d@example.com", i), GivenName: "Seed", FamilyName: fmt.Sprint(i),
			DisplayName: fmt.Sprintf("Seed %d", i), Role: []access.Role{access.Member, access.Manager}[i%2], Status: users.StatusActive,
			CreatedAt: now, UpdatedAt: now, PasswordHash: hash, Version: 1, SessionGen: 1,
		}
		registered := users.UsageRegistered
		u.Usage = &registered
		us = append(us, u)
	}
	// Through the client that asks for no capacity: a batch write that
	// reports its units costs DynamoDB Local a sixth more, and seeding is
	// most of a run with 100,000 users. No request's count includes it.
	if err := dynamo.New(b.client, b.table).SeedUsers(ctx, us, workers); err != nil {
		return 0, err
	}
	b.calls.take() // the summary's, not any case's
	return len(us), nil
}

// asAdmin is ctx as a request of the bench's admin, outside HTTP.
func (b *bench) asAdmin(ctx context.Context) context.Context {
	ctx = access.WithRequest(ctx, access.Request{ID: "bench", Now: b.clock.Now()})
	return access.WithActor(ctx, access.Actor{Type: access.ActorUser, ID: b.adminID, UserID: b.adminID, Role: access.Admin})
}

// cheapUser creates a user as createUser does, with the seeding's cheap
// hash: a fixture whose sign-ins are not what is measured.
func (b *bench) cheapUser(ctx context.Context, in users.CreateInput) (*users.User, error) {
	return b.createWith(ctx, b.cheapUsers, in)
}

// createUser creates a user outside HTTP, retrying while concurrent
// fixtures contend for the counters every creation updates.
func (b *bench) createUser(ctx context.Context, in users.CreateInput) (*users.User, error) {
	return b.createWith(ctx, b.app.Users, in)
}

func (b *bench) createWith(ctx context.Context, svc *users.Service, in users.CreateInput) (*users.User, error) {
	var u *users.User
	err := b.whileBusy(func() (err error) { u, err = svc.Create(ctx, in); return err })
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", in.Email, err)
	}
	return u, nil
}

// measure sends c.samples requests one at a time, counting the DynamoDB calls
// of each and timing them. The row's count is the most any sample made.
func (b *bench) measure(c request) (Row, error) {
	route, ok := routes.ByName(c.route)
	if !ok {
		return Row{}, fmt.Errorf("no route %q in routes.All", c.route)
	}
	// Each table size's requests have indexes of their own: those that
	// make something (an email, a team's name) must not meet another
	// size's.
	base := b.pass * passIndexes
	path := c.path(route, base)
	row := Row{Route: c.route, Case: c.label, Method: route.Method, Path: path, Window: c.window,
		Budget: route.MaxCalls() + c.extra, BudgetExpr: budgetExpr(route, c)}
	if c.budget != 0 {
		row.Budget = c.budget
	}
	if row.Case == "" {
		row.Case = route.Method + " " + route.Path
	}
	defer b.srv.caseAddress()()
	if c.before != nil {
		c.before()
	}
	var took []float64
	var waveCounts []int
	prefetch(c, base, base+c.samples)
	b.calls.take() // not this request's
	for i := range c.samples {
		k := base + i
		var token string
		if c.token != nil {
			token = c.token(k)
		}
		var body any
		if c.body != nil {
			body = c.body(k)
		}
		path := c.path(route, k)
		b.calls.take() // not this request's: what preparing its input made
		start := time.Now()
		res, err := b.send(route.Method, path, token, body, c.status)
		if err != nil {
			return row, fmt.Errorf("%s (%s): %w", c.route, row.Case, err)
		}
		took = append(took, ms(time.Since(start)))
		b.srv.running.Wait()
		made := b.calls.take()
		ops := ops(made)
		if i == 0 || len(ops) > row.Calls {
			row.Calls, row.ByOperation = len(ops), countOps(ops)
		}
		if i == 0 || len(ops) < row.MinCalls {
			row.MinCalls = len(ops)
		}
		waveCounts = append(waveCounts, waves(made))
		if r, w := unitsOf(made); r+w > row.RCU+row.WCU {
			row.RCU, row.WCU = r, w
		}
		row.Scanned = row.Scanned || slices.Contains(ops, "Scan")
		if c.seen != nil {
			c.seen(res)
		}
		if i == 0 {
			row.Items = len(res.list("items"))
		}
	}
	row.Waves = medianWaves(waveCounts)
	if len(took) > 1 {
		row.Latency = latencyOf(took)
	}
	return row, nil
}

// path is the path of the case's request i.
func (c request) path(r routes.Route, i int) string {
	id := c.id
	if c.idOf != nil {
		id = c.idOf(i)
	}
	q := c.query
	if c.queryOf != nil {
		q = c.queryOf(i)
	}
	return strings.NewReplacer("{id}", id, "{file}", id).Replace(r.Path) + q
}

func routeIndex(name string) int {
	return slices.IndexFunc(routes.All, func(r routes.Route) bool { return r.Name == name })
}

// budgetExpr says what a case's budget is made of: "auth+1 (one query ...)".
func budgetExpr(r routes.Route, c request) string {
	if c.budget != 0 {
		return "auth (refused after it)"
	}
	e := fmt.Sprint(r.Budget.Calls)
	if r.Access != routes.Public {
		e = fmt.Sprintf("auth+%d", r.Budget.Calls)
	}
	switch {
	case c.extra > 0 && c.extraNote != "":
		e += "+" + c.extraNote
	case c.extra > 0:
		e += "+touch"
	}
	return e + ": " + r.Budget.Note
}

// cpuCase is a case whose CPU is measured, and its row.
type cpuCase struct {
	c   request
	row int
}

// measureCPU measures the CPU cases, in the real binaries of their routes.
func (b *bench) measureCPU(ctx context.Context, n, nHash int) error {
	bins, err := buildHost()
	if err != nil {
		return err
	}
	defer os.RemoveAll(bins)
	b.clock.CatchUp() // the functions run on the wall clock
	for _, cc := range b.cpuCases {
		route, _ := routes.ByName(cc.c.route)
		k := n
		if route.Hashes {
			k = nHash
		}
		cpu, err := b.cpuOf(ctx, bins, cc.c, k)
		if err != nil {
			return fmt.Errorf("cpu of %s: %w", cc.c.route, err)
		}
		row := &b.rep.Routes[cc.row]
		row.CPU = cpu
		predict(row)
	}
	return nil
}

// freshToken is a new session of the bench's CPU user, whose password hash
// is cheap: for cases that spend a session per request (sign-outs).
func (b *bench) freshToken() string {
	ctx := access.WithRequest(context.Background(), access.Request{ID: "bench", IP: "198.51.100.8", Now: b.clock.Now()})
	var res *auth.LoginResult
	err := b.whileBusy(func() (err error) {
		res, err = b.cheapAuth.Login(ctx, auth.LoginInput{Login: cpuEmail, Password: password})
		return err
	})
	if err != nil {
		panic(fmt.Sprintf("bench: a session for the CPU cases: %v", err))
	}
	return res.Token
}

// windowed marks a case whose filter no index serves: it reads up to
// dynamo.FilterWindow entries, more as the table grows, never more calls.
func windowed(c request) request {
	c.window = fmt.Sprintf("a filter no index serves: at most %d entries read", dynamo.FilterWindow)
	return c
}

// medianWaves is the round trips of the median sample (the lower of two):
// calls the code issues together overlap in nearly every sample, and one
// whose goroutine this busy machine started after the other call had
// answered does not make the request two round trips long.
func medianWaves(counts []int) int {
	if len(counts) == 0 {
		return 0
	}
	counts = slices.Clone(counts)
	slices.Sort(counts)
	return counts[(len(counts)-1)/2]
}
