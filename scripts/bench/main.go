// Command bench is `make bench`: it measures what the issues budget, against
// the local stack that scripts/withstack starts.
//
// The budgets are DynamoDB round trips per operation, not milliseconds: a
// round trip costs the same few milliseconds in every region, while local
// timings say little about AWS. So the bench counts every call the DynamoDB
// client makes for each request (by operation, through SDK middleware) and
// fails if a route exceeds its budget or anything scans. It also reports
// latency percentiles through the real HTTP stack (DynamoDB Local on
// loopback: relative, not absolute), the cost of the argon2id hash, the first
// page of GET /users at a few users and at thousands, the size of one Lambda
// binary, and a function's cold start through a local Lambda Runtime API.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/devserver"
	"github.com/usermgmt/ums/pkg/dynamo"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/runtimeapi"
	"github.com/usermgmt/ums/pkg/users"
)

// calls counts DynamoDB calls by operation while a request runs.
type calls struct {
	mu  sync.Mutex
	ops []string
}

func (c *calls) reset() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return ops
}

func (c *calls) middleware(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("CountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.ops = append(c.ops, middleware.GetOperationName(ctx))
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// clock is the app's clock, moved to cross the session-touch interval.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Result is one measured operation.
type Result struct {
	Name    string         `json:"name"`
	Calls   int            `json:"dynamodb_calls"`
	ByOp    map[string]int `json:"by_operation"`
	Budget  int            `json:"budget"`
	Within  bool           `json:"within_budget"`
	Scan    bool           `json:"scanned"`
	Samples int            `json:"samples,omitempty"`
	P50     float64        `json:"p50_ms,omitempty"`
	P95     float64        `json:"p95_ms,omitempty"`
	P99     float64        `json:"p99_ms,omitempty"`
}

// Report is everything the bench measured.
type Report struct {
	Operations     []Result `json:"operations"`
	HashMs         float64  `json:"argon2id_hash_ms"`
	VerifyMs       float64  `json:"argon2id_verify_ms"`
	BinaryBytes    int64    `json:"lambda_binary_bytes"`
	ColdStartMs    float64  `json:"cold_start_ms"`
	WarmInvokeMs   float64  `json:"warm_invoke_ms"`
	TableUsers     int      `json:"table_users"`
	Passed         bool     `json:"passed"`
	DynamoEndpoint string   `json:"dynamodb_endpoint"`
}

type bench struct {
	table  string
	url    string
	calls  *calls
	clock  *clock
	report *Report
}

const adminEmail, adminPassword = "bench-admin@example.com", "the bench admin's long passphrase"

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	n := flag.Int("n", 200, "requests per route for the latency percentiles")
	size := flag.Int("users", 2000, "users in the table for the at-size measurements")
	flag.Parse()
	endpoint := os.Getenv(config.EnvDynamoDBEndpoint)
	if endpoint == "" {
		log.Fatal("DYNAMODB_ENDPOINT is not set: run it as make bench")
	}
	ctx := context.Background()
	table := "bench-" + strings.TrimPrefix(ids.New("t"), "t_")[:10]
	client, err := dynamo.NewClient(ctx, localstack.Region, endpoint)
	if err != nil {
		log.Fatal(err)
	}
	if err := dynamo.EnsureTable(ctx, client, table); err != nil {
		log.Fatal(err)
	}
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{config.EnvTableName: table, config.EnvDynamoDBEndpoint: endpoint}[k]
	})
	if err != nil {
		log.Fatal(err)
	}
	c, clk := &calls{}, &clock{}
	a, err := app.New(ctx, cfg, app.WithDynamoDBOptions(func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, c.middleware)
	}))
	if err != nil {
		log.Fatal(err)
	}
	a.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	a.Now = clk.now
	h, err := devserver.New(a)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	b := &bench{table: table, url: srv.URL, calls: c, clock: clk, report: &Report{DynamoEndpoint: endpoint}}

	sys := access.WithRequest(ctx, access.Request{ID: "bench", Now: time.Now().UTC()})
	if _, err := a.Users.SeedAdmin(sys, adminEmail, adminPassword); err != nil {
		log.Fatal(err)
	}
	b.measureHash()
	b.routes(*n)
	b.atSize(a, *size)
	b.binary()

	b.report.Passed = true
	for _, r := range b.report.Operations {
		b.report.Passed = b.report.Passed && r.Within && !r.Scan
	}
	b.print()
	if err := os.MkdirAll(".local", 0o755); err == nil {
		j, _ := json.MarshalIndent(b.report, "", "  ")
		_ = os.WriteFile(filepath.Join(".local", "bench.json"), j, 0o644)
	}
	if !b.report.Passed {
		log.Fatal("a route is over its DynamoDB budget or scanned")
	}
}

// do sends one request and returns the status and decoded body.
func (b *bench) do(method, path, token string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// op is one operation to measure.
type op struct {
	name         string
	method, path string
	token        string
	body         func(i int) any
	want         int
	budget       int
	samples      int
}

// measure counts the DynamoDB calls of one request, then times samples more.
func (b *bench) measure(o op) {
	body := func(i int) any {
		if o.body == nil {
			return nil
		}
		return o.body(i)
	}
	b.calls.reset()
	status, res := b.do(o.method, o.path, o.token, body(0))
	if status != o.want {
		log.Fatalf("%s: status %d, want %d: %v", o.name, status, o.want, res)
	}
	ops := b.calls.reset()
	r := Result{Name: o.name, Calls: len(ops), ByOp: map[string]int{}, Budget: o.budget, Within: len(ops) <= o.budget}
	for _, name := range ops {
		r.ByOp[name]++
		r.Scan = r.Scan || name == "Scan"
	}
	var ms []float64
	for i := 1; i <= o.samples; i++ {
		start := time.Now()
		if status, res := b.do(o.method, o.path, o.token, body(i)); status != o.want {
			log.Fatalf("%s: status %d, want %d: %v", o.name, status, o.want, res)
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	if len(ms) > 0 {
		sort.Float64s(ms)
		r.Samples = len(ms)
		r.P50, r.P95, r.P99 = pct(ms, 50), pct(ms, 95), pct(ms, 99)
	}
	b.report.Operations = append(b.report.Operations, r)
}

func pct(sorted []float64, p int) float64 {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

func (b *bench) login() string {
	_, res := b.do("POST", "/auth/login", "", map[string]any{"login": adminEmail, "password": adminPassword})
	tok, _ := res["token"].(string)
	if tok == "" {
		log.Fatalf("login failed: %v", res)
	}
	return tok
}

// auth is one round trip; the routes' budgets are written as auth + n.
const auth = 1

func (b *bench) routes(n int) {
	admin := b.login()
	newUser := func(i int) any {
		return map[string]any{"email": fmt.Sprintf("u%d-%d@example.com", i, time.Now().UnixNano()), "password": "a bench user's passphrase",
			"given_name": "Bench", "family_name": fmt.Sprint(i), "role": "member"}
	}
	_, created := b.do("POST", "/users", admin, newUser(-1))
	uid, _ := created["id"].(string)
	logins := max(n/10, 10)

	b.measure(op{name: "POST /auth/login", method: "POST", path: "/auth/login", want: 200, budget: 3, samples: logins,
		body: func(int) any { return map[string]any{"login": adminEmail, "password": adminPassword} }})
	b.measure(op{name: "POST /auth/login (wrong password)", method: "POST", path: "/auth/login", want: 401, budget: 3,
		body: func(int) any { return map[string]any{"login": adminEmail, "password": "not it"} }})
	b.measure(op{name: "POST /auth/login (unknown login)", method: "POST", path: "/auth/login", want: 401, budget: 3,
		body: func(int) any { return map[string]any{"login": "nobody@example.com", "password": "not it"} }})
	b.login() // a success clears the failures just made

	b.measure(op{name: "authenticate (GET /me)", method: "GET", path: "/me", token: admin, want: 200, budget: auth + 1, samples: n})
	b.clock.offset.Add(int64(6 * time.Minute))
	b.measure(op{name: "GET /me, session stale >5 min (touch)", method: "GET", path: "/me", token: admin, want: 200, budget: auth + 2})
	b.measure(op{name: "PATCH /me", method: "PATCH", path: "/me", token: admin, want: 200, budget: auth + 2, samples: n,
		body: func(i int) any { return map[string]any{"display_name": fmt.Sprint("Admin ", i)} }})
	b.measure(op{name: "GET /users", method: "GET", path: "/users", token: admin, want: 200, budget: auth + 1, samples: n})
	b.measure(op{name: "GET /users?status=active", method: "GET", path: "/users?status=active", token: admin, want: 200, budget: auth + 1, samples: n})
	b.measure(op{name: "GET /users?role=member", method: "GET", path: "/users?role=member", token: admin, want: 200, budget: auth + 1, samples: n})
	b.measure(op{name: "GET /users?status=active&role=member", method: "GET", path: "/users?status=active&role=member", token: admin, want: 200, budget: auth + 1, samples: n})
	b.measure(op{name: "POST /users", method: "POST", path: "/users", token: admin, want: 201, budget: auth + 2, samples: max(n/4, 10), body: newUser})
	b.measure(op{name: "GET /users/{id}", method: "GET", path: "/users/" + uid, token: admin, want: 200, budget: auth + 1, samples: n})
	b.measure(op{name: "PATCH /users/{id} (names)", method: "PATCH", path: "/users/" + uid, token: admin, want: 200, budget: auth + 2, samples: n,
		body: func(i int) any { return map[string]any{"given_name": fmt.Sprint("Name", i)} }})
	b.measure(op{name: "PATCH /users/{id} (role)", method: "PATCH", path: "/users/" + uid, token: admin, want: 200, budget: auth + 2, samples: n,
		body: func(i int) any { return map[string]any{"role": []string{"manager", "member"}[i%2]} }})
	b.measure(op{name: "GET /settings", method: "GET", path: "/settings", token: admin, want: 200, budget: auth + 1, samples: n})
	b.measure(op{name: "PATCH /settings", method: "PATCH", path: "/settings", token: admin, want: 200, budget: auth + 2, samples: n,
		body: func(i int) any { return map[string]any{"license_count": 1000 + i} }})
	b.measure(op{name: "GET /summary", method: "GET", path: "/summary", token: admin, want: 200, budget: auth + 1, samples: n})
	tok := b.login()
	b.measure(op{name: "POST /auth/logout", method: "POST", path: "/auth/logout", token: tok, want: 204, budget: auth + 1})
}

// atSize fills the table and measures the first page of GET /users again.
func (b *bench) atSize(a *app.App, size int) {
	a.Users.Params = passwords.Params{MemoryKiB: 64, Time: 1, Threads: 1} // seeding only
	defer func() { a.Users.Params = passwords.DefaultParams }()
	admin := b.login()
	_, me := b.do("GET", "/me", admin, nil)
	ctx := access.WithActor(access.WithRequest(context.Background(), access.Request{ID: "seed", Now: time.Now().UTC()}),
		access.Actor{Type: access.ActorUser, ID: me["id"].(string), UserID: me["id"].(string), Role: access.Admin})
	_, _ = b.do("PATCH", "/settings", admin, map[string]any{"license_count": 0})
	var next atomic.Int64
	var wg sync.WaitGroup
	// A few writers: every user creation updates the one META item, so more
	// only trade throughput for transaction conflicts.
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(size) {
					return
				}
				_, err := a.Users.Create(ctx, users.CreateInput{Email: fmt.Sprintf("fill%d@example.com", i), Password: "a filler user's passphrase",
					GivenName: "Fill", FamilyName: fmt.Sprint(i), Role: []string{"member", "manager"}[i%2]})
				if err != nil {
					log.Fatalf("seed: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	b.calls.reset()
	_, s := b.do("GET", "/summary", admin, nil)
	b.report.TableUsers = int(s["by_status"].(map[string]any)["active"].(float64))
	b.measure(op{name: fmt.Sprintf("GET /users at %d users", b.report.TableUsers), method: "GET", path: "/users", token: admin, want: 200, budget: auth + 1, samples: 100})
	b.measure(op{name: fmt.Sprintf("GET /users?role=manager at %d users", b.report.TableUsers), method: "GET", path: "/users?role=manager", token: admin, want: 200, budget: auth + 1, samples: 100})
	b.measure(op{name: fmt.Sprintf("GET /summary at %d users", b.report.TableUsers), method: "GET", path: "/summary", token: admin, want: 200, budget: auth + 1, samples: 100})
}

func (b *bench) measureHash() {
	const rounds = 5
	start := time.Now()
	var h string
	for range rounds {
		h = passwords.Hash("a password of ordinary length", passwords.DefaultParams)
	}
	b.report.HashMs = float64(time.Since(start).Microseconds()) / 1000 / rounds
	start = time.Now()
	for range rounds {
		_, _, _ = passwords.Verify("a password of ordinary length", h, passwords.DefaultParams)
	}
	b.report.VerifyMs = float64(time.Since(start).Microseconds()) / 1000 / rounds
}

// binary builds get-me for Lambda (its size) and for this machine (its cold
// start through a local Runtime API, against the bench's DynamoDB).
func (b *bench) binary() {
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	build := func(out, goos, goarch string) {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/get-me")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
		if o, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("build: %v\n%s", err, o)
		}
	}
	lambdaBin, hostBin := filepath.Join(dir, "lambda"), filepath.Join(dir, "host")
	build(lambdaBin, "linux", "arm64")
	build(hostBin, runtime.GOOS, runtime.GOARCH)
	if st, err := os.Stat(lambdaBin); err == nil {
		b.report.BinaryBytes = st.Size()
	}
	event, err := os.ReadFile(filepath.Join("events", "get-me.json"))
	if err != nil {
		log.Fatal(err)
	}
	var cold, warm []float64
	for range 5 {
		srv, err := runtimeapi.New(runtimeapi.WithFunctionName("get-me"))
		if err != nil {
			log.Fatal(err)
		}
		cmd := exec.Command(hostBin)
		cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + srv.Addr(), "TABLE_NAME=" + b.table, "AWS_REGION=" + localstack.Region,
			"DYNAMODB_ENDPOINT=" + b.report.DynamoEndpoint, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_LAMBDA_FUNCTION_NAME=get-me"}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			log.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := srv.Invoke(ctx, event); err != nil {
			log.Fatalf("cold invoke: %v", err)
		}
		cold = append(cold, float64(time.Since(start).Microseconds())/1000)
		start = time.Now()
		if _, err := srv.Invoke(ctx, event); err != nil {
			log.Fatalf("warm invoke: %v", err)
		}
		warm = append(warm, float64(time.Since(start).Microseconds())/1000)
		cancel()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = srv.Close()
	}
	slices.Sort(cold)
	slices.Sort(warm)
	b.report.ColdStartMs, b.report.WarmInvokeMs = cold[len(cold)/2], warm[len(warm)/2]
}

func (b *bench) print() {
	fmt.Printf("\nDynamoDB round trips per request (budget in brackets) and latency through HTTP against DynamoDB Local\n\n")
	fmt.Printf("%-46s %6s %6s  %-40s %8s %8s %8s\n", "operation", "calls", "budget", "by operation", "p50 ms", "p95 ms", "p99 ms")
	for _, r := range b.report.Operations {
		var parts []string
		for name, n := range r.ByOp {
			parts = append(parts, fmt.Sprintf("%s %d", name, n))
		}
		slices.Sort(parts)
		verdict := "ok"
		if !r.Within || r.Scan {
			verdict = "OVER"
		}
		lat := func(v float64) string {
			if r.Samples == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f", v)
		}
		fmt.Printf("%-46s %6d %6d  %-40s %8s %8s %8s  %s\n", r.Name, r.Calls, r.Budget, strings.Join(parts, ", "), lat(r.P50), lat(r.P95), lat(r.P99), verdict)
	}
	fmt.Printf("\nargon2id (19 MiB, t=2, p=1) on this machine: hash %.1f ms, verify %.1f ms\n", b.report.HashMs, b.report.VerifyMs)
	fmt.Printf("Lambda binary (get-me, linux/arm64, stripped): %.1f MiB\n", float64(b.report.BinaryBytes)/(1<<20))
	fmt.Printf("Cold start to first response (get-me, host build, local Runtime API, median of 5): %.0f ms; warm invoke %.1f ms\n",
		b.report.ColdStartMs, b.report.WarmInvokeMs)
	fmt.Printf("Table size for the at-size rows: %d active users\n", b.report.TableUsers)
	if b.report.Passed {
		fmt.Println("\nEvery operation is within its DynamoDB budget; nothing scanned.")
	}
}
