// Command bench is `make bench`: it measures every route against its budget,
// on the local stack that scripts/withstack starts (it needs
// DYNAMODB_ENDPOINT).
//
// The budgets are DynamoDB round trips per request, not milliseconds, and
// they live in the routes table (routes.Route.Budget): authenticating a
// request costs routes.Auth (one BatchGetItem), and each route states what
// it may add and why. A count is exact and the same on every machine, and in
// AWS each round trip is a few milliseconds whatever this machine does, so
// counts are what can pass or fail. Timings against DynamoDB Local on
// loopback say little about AWS: they are reported, never judged.
//
// The files: main.go runs it all; count.go counts calls; cases.go is the
// requests measured; coldstart.go builds a function and times its cold
// start; report.go judges and prints.
//
// What it does, in order:
//
//   - Counts every DynamoDB call of every request of every route in
//     routes.All (and a few variants: login failures, list filters, the
//     session touch that GET /me writes when the session was last written 5
//     minutes or more ago), by operation, through SDK middleware on the
//     app's client. Requests run one at a time and the counter is read once
//     the server's handler has returned, so each call belongs to exactly one
//     request. SDK retries are the same call and are not counted again.
//   - Times the same requests (p50/p95/p99) over real HTTP: an
//     httptest.NewServer serving devserver.New(app) on loopback, with
//     http.DefaultClient, so the mux, the middleware and JSON are included.
//   - Does all that at the first of -sizes (1,000 users by default), then
//     fills the table to each further size (10,000 and 100,000 by default)
//     through batch writes and measures every route's cases and both jobs
//     again, with -n-at-size requests each: calls, capacity units and
//     latency per size.
//   - Times argon2id with the production parameters, which is most of a
//     sign-in and of a user's creation.
//   - Builds every function for Lambda (its size) and for this machine, and
//     times each one's process start to its first poll and first response
//     through a local Lambda Runtime API (pkg/runtimeapi).
//
// It prints a table, writes the same as JSON to .local/bench.json, and exits
// 1 if a request is over its budget, anything scanned, a request made more
// calls or used more capacity (past growth) at a larger size than at the
// first, or a route of the table was not measured.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/devserver"
	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/email"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/users"
)

const (
	adminEmail  = "bench-admin@example.com"
	memberEmail = "bench-member@example.com"
	// cpuEmail signs in cheaply, for the sessions the CPU cases spend.
	cpuEmail = "bench-cpu@example.com"
	// signInEmail is the user the sign-in cases sign in, with the
	// production hash: not the admin, whose sessions would pile up by the
	// thousand and weigh on every case that reads what the admin holds.
	signInEmail = "bench-signin@example.com"
	password    = "a bench user's long passphrase"

	// coldStartRuns is how many cold starts of each function are timed.
	coldStartRuns = 3
)

// seedParams make seeding thousands of users take seconds. A stored hash
// carries its parameters, so signing in as a seeded user still works (and
// rehashes with the production parameters).
var seedParams = passwords.Params{MemoryKiB: 64, Time: 1, Threads: 1}

func main() {
	n := flag.Int("n", 200, "requests per route for the latency percentiles")
	nHash := flag.Int("n-hash", 30, "requests for the routes that run argon2id with the production parameters (login, logout after it, create-user)")
	sizeList := flag.String("sizes", "1000,10000,100000", "the table sizes, in users, every route and job is measured at, smallest first (seeded through batch writes); the first gets the full samples and the CPU")
	nCPU := flag.Int("n-cpu", 60, "requests per round of each CPU measurement (3 rounds in the function, 3 in-process; -n-hash/3 for the cases that hash)")
	nAt := flag.Int("n-at-size", 20, "requests per case at each further size (-n-hash/10, at least 2, for the cases that hash)")
	workers := flag.Int("seed-workers", 16, "goroutines seeding users")
	from := flag.String("from", "", "print the markdown report of a saved run (a bench.json) and exit, measuring nothing")
	flag.Parse()

	if *from != "" {
		raw, err := os.ReadFile(*from)
		var rep Report
		if err == nil {
			err = json.Unmarshal(raw, &rep)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Print(rep.markdown())
		return
	}

	began := time.Now()
	sizes, err := parseSizes(*sizeList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	rep, err := run(*n, *nHash, *nCPU, *nAt, sizes, *workers)
	if rep != nil {
		rep.Seconds = time.Since(began).Seconds()
		rep.print(os.Stdout)
		fmt.Print("\n" + costMarkdown(rep, StandardWorkload, USEast1, CostMAUs))
		if path, werr := rep.write(); werr != nil {
			fmt.Fprintln(os.Stderr, "bench:", werr)
		} else {
			fmt.Printf("\nThe same as JSON: %s\n", path)
		}
		if werr := rep.writeMarkdown(); werr != nil {
			fmt.Fprintln(os.Stderr, "bench:", werr)
		} else {
			fmt.Printf("The whole report as markdown: %s\n", MarkdownPath)
		}
	}
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	case !rep.Passed:
		fmt.Fprintf(os.Stderr, "bench: %d failures (listed above)\n", len(rep.Failures))
		os.Exit(1)
	}
}

// run measures everything. It returns what it measured so far even when it
// fails, so that a failure shows its context.
func run(n, nHash, nCPU, nAt int, sizes []int, workers int) (*Report, error) {
	endpoint := os.Getenv(config.EnvDynamoDBEndpoint)
	if endpoint == "" {
		return nil, errors.New("DYNAMODB_ENDPOINT is not set: run it with `make bench`, which starts the local stack")
	}
	ctx := context.Background()
	b, cleanup, err := newBench(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	b.largest = sizes[len(sizes)-1]
	rep := b.rep
	rep.FirstUsers = sizes[0]

	phases := []struct {
		name string
		run  func() error
	}{
		{"argon2id", func() error { rep.Argon2id = timeArgon2id(); return nil }},
		{"set-up", func() error { return b.setUp(ctx) }},
		{fmt.Sprintf("seeding to %d users", sizes[0]), func() error {
			start := time.Now()
			seeded, err := b.seed(ctx, sizes[0], workers)
			rep.Sizes = append(rep.Sizes, Size{Users: sizes[0], Seeded: seeded, SeedSeconds: time.Since(start).Seconds()})
			return err
		}},
		{"warm-up", func() error { return b.warmUp(n) }},
		{"list cases", func() error { return b.listUsers(n) }},
		{"routes", func() error { return b.routes(n, nHash) }},
		{"cpu", func() error { return b.measureCPU(ctx, nCPU, max(2, nHash/3)) }},
		// After the CPU cases, which still use the invitations it expires.
		{"expiry job", func() error {
			job, err := b.expiryJob(2 * n)
			if err == nil {
				b.rep.Routes = append(b.rep.Routes, job)
			}
			return err
		}},
		{"purge job", func() error {
			purge, err := b.purgeJob(20)
			if err == nil {
				b.rep.Routes = append(b.rep.Routes, purge)
			}
			return err
		}},
		{"send-mail job", func() error {
			mail, err := b.sendMailJob(20)
			if err == nil {
				b.rep.Routes = append(b.rep.Routes, mail)
			}
			return err
		}},
		// What the table holds by now, for the cost model's storage: every
		// kind the routes and jobs write, before the further sizes add
		// users alike to those seeded, whose scan would take minutes at
		// 100,000.
		{"item sizes", func() (err error) { rep.Items, err = b.itemSizes(ctx); return err }},
		{"further sizes", func() error { return b.atSizes(ctx, sizes, nAt, max(2, nHash/10), workers) }},
		{"binaries and cold starts", func() error { return b.lambda(ctx) }},
	}
	for _, p := range phases {
		start := time.Now()
		if err := p.run(); err != nil {
			return rep, err
		}
		took := time.Since(start).Seconds()
		rep.Phases = append(rep.Phases, Phase{Name: p.name, Seconds: took})
		fmt.Fprintf(os.Stderr, "bench: %s took %.1f s\n", p.name, took)
	}
	// In the order of the API reference.
	slices.SortStableFunc(rep.Routes, func(x, y Row) int {
		return routeIndex(x.Route) - routeIndex(y.Route)
	})
	rep.judge()
	return rep, nil
}

// clock is the app's clock. It stands still unless moved, so that no count
// depends on how long the bench has run: a session last written 5 minutes
// ago or more costs a write on its next request, and the bench wants that
// write exactly where it moves the clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// CatchUp moves the clock to the wall clock if it is behind, for the
// function processes, which run on the wall clock.
func (c *clock) CatchUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now().UTC(); now.After(c.now) {
		c.now = now
	}
}

type bench struct {
	app *app.App
	// largest is the largest table size, in users, the run reaches.
	largest int
	// replayed is the same app with DynamoDB's answers replayed from
	// memory, for the CPU of a read without the sockets.
	replayed *app.App
	client   *dynamodb.Client
	table    string
	url      string
	srv      *server
	calls    *calls
	clock    *clock
	rep      *Report

	// cheapUsers and cheapAuth are the app's services with the seeding's
	// cheap hash: for fixtures, whose sign-ins are not what is measured,
	// without a rehash to the production parameters on each sign-in.
	cheapUsers *users.Service
	cheapAuth  *auth.Service

	admin, member string // tokens
	cpuCases      []cpuCase
	adminID       string
	targetID      string // the user GET and PATCH /users/{id} read and change
	retries       atomic.Int64
	// pass is the table size being measured, by its index in the sizes.
	pass int
	// seeded is the number of the last seeded user (seed<n>@example.com).
	seeded int
}

// passIndexes is how many request indexes each table size has to itself.
const passIndexes = 1_000_000

// parseSizes reads -sizes: table sizes, smallest first.
func parseSizes(list string) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 || (len(sizes) > 0 && n <= sizes[len(sizes)-1]) {
			return nil, fmt.Errorf("-sizes %q: want table sizes of 100 users or more, smallest first", list)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// newBench creates a fresh table and serves the app over it.
func newBench(ctx context.Context, endpoint string) (*bench, func(), error) {
	client, err := dynamo.NewClient(ctx, localstack.Region, endpoint)
	if err != nil {
		return nil, nil, err
	}
	table := "bench-" + strings.ToLower(strings.TrimPrefix(ids.New("t"), "t_"))
	// No stream: the bench measures routes (the outbox's writes included),
	// not the send-mail job, and DynamoDB Local's writes slow down with
	// every stream record it keeps: seeding 100,000 users would crawl.
	if err := dynamo.EnsureTable(ctx, client, table, false); err != nil {
		return nil, nil, err
	}
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{config.EnvTableName: table, config.EnvDynamoDBEndpoint: endpoint,
			config.EnvSESEndpoint: os.Getenv(config.EnvSESEndpoint)}[k]
	})
	if err != nil {
		return nil, nil, err
	}
	c := &calls{}
	a, err := app.New(ctx, cfg, app.WithDynamoDBOptions(func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, c.middleware)
	}), app.WithSender(email.FromConfig))
	if err != nil {
		return nil, nil, err
	}
	replayed, err := app.New(ctx, cfg, app.WithDynamoDBOptions(new(dynamotest.Replay).Wrap))
	if err != nil {
		return nil, nil, err
	}
	clk := &clock{now: time.Now().UTC()}
	a.Now = clk.Now
	replayed.Now = clk.Now
	replayed.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	// Only errors: a 500's cause, which the answer never tells.
	a.Log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	h, err := devserver.New(a)
	if err != nil {
		return nil, nil, err
	}
	srv := &server{h: h}
	hs := httptest.NewServer(srv)
	cheapUsers, cheapAuth := *a.Users, *a.Auth
	cheapUsers.Params, cheapAuth.Params = seedParams, seedParams
	b := &bench{
		app: a, replayed: replayed, client: client, table: table, url: hs.URL, srv: srv, calls: c, clock: clk,
		cheapUsers: &cheapUsers, cheapAuth: &cheapAuth,
		rep: &Report{
			StartedAt: time.Now().UTC(), DynamoDBEndpoint: endpoint, Table: table,
			Served: "HTTP over loopback: net/http/httptest.NewServer(devserver.New(app)), http.DefaultClient; DynamoDB Local on loopback, not AWS",
		},
	}
	cleanup := func() {
		hs.Close()
		// The stack of make bench is thrown away, but a shared DynamoDB Local
		// should not keep the bench's thousands of users.
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	}
	return b, cleanup, nil
}

// setUp seeds the admin and the users the cases act on, and signs in.
func (b *bench) setUp(ctx context.Context) error {
	sys := access.WithRequest(ctx, access.Request{ID: "bench", Now: b.clock.Now()})
	if _, err := b.app.Users.SeedAdmin(sys, adminEmail, password); err != nil {
		return err
	}
	res, err := b.send("POST", "/auth/login", "", loginBody(adminEmail), 200)
	if err != nil {
		return fmt.Errorf("admin sign-in: %w", err)
	}
	b.admin = res.str("token")
	b.adminID = res.str("user", "id")
	member, err := b.createUser(b.asAdmin(ctx), users.CreateInput{Email: memberEmail, Password: password, GivenName: "Bench", FamilyName: "Member", Role: "member"})
	if err != nil {
		return err
	}
	b.targetID = member.ID
	if _, err := b.createUser(b.asAdmin(ctx), users.CreateInput{Email: signInEmail, Password: password, GivenName: "Bench", FamilyName: "Sign-in", Role: "member"}); err != nil {
		return err
	}
	// The CPU user's hash is cheap, and so is verifying it: sign-ins that
	// only mint a session to spend.
	if _, err = b.cheapUser(b.asAdmin(ctx), users.CreateInput{Email: cpuEmail, Password: password, GivenName: "Bench", FamilyName: "CPU", Role: "member"}); err != nil {
		return err
	}
	if res, err = b.send("POST", "/auth/login", "", loginBody(memberEmail), 200); err != nil {
		return fmt.Errorf("member sign-in: %w", err)
	}
	b.member = res.str("token")
	return nil
}

// warmUp sends untimed requests first: DynamoDB Local runs on the JVM, whose
// JIT would otherwise make whatever is measured first look slow.
func (b *bench) warmUp(n int) error {
	for i := range n {
		path := []string{"/me", "/users", "/users?role=member&status=active", "/summary"}[i%4]
		if _, err := b.send("GET", path, b.admin, nil, 200); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := b.send("PATCH", "/me", b.admin, map[string]any{"display_name": fmt.Sprint("Warm ", i)}, 200); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	return nil
}

// response is a decoded JSON response.
type response map[string]any

func (r response) get(path ...string) any {
	var v any = map[string]any(r)
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func (r response) str(path ...string) string { s, _ := r.get(path...).(string); return s }

func (r response) num(path ...string) int { f, _ := r.get(path...).(float64); return int(f) }

func (r response) list(path ...string) []any { l, _ := r.get(path...).([]any); return l }

func loginBody(login string) map[string]any {
	return map[string]any{"login": login, "password": password}
}

// statusError is a response with another status than the one wanted.
type statusError struct {
	method, path string
	got, want    int
	body         []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d, want %d: %s", e.method, e.path, e.got, e.want, e.body)
}

// send makes one request and checks its status. It reads the whole body, so
// the connection is reused and the timing includes the response.
func (b *bench) send(method, path, token string, body any, want int) (response, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, &statusError{method: method, path: path, got: res.StatusCode, want: want, body: raw}
	}
	var out response
	// Only JSON is read: the pages and the console's files are not.
	if ct := res.Header.Get("Content-Type"); len(raw) > 0 && (strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/problem+json")) {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return out, nil
}
