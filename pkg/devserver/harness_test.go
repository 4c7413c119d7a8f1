package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/devserver"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/email"
	"github.com/usermgmt/ums/pkg/email/emailtest"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/localstream"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/reference"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/teams"
	"github.com/usermgmt/ums/pkg/users"
)

// fastHash keeps tests quick; the production parameters are tested in
// pkg/passwords. Stored hashes carry their parameters, so verification is
// unaffected.
var fastHash = passwords.Params{MemoryKiB: 64, Time: 1, Threads: 1}

const adminEmail, adminPassword = "root@example.com", "the first admin's long passphrase"

// What every test of this package adds to, checked once they have all run
// (TestMain): every DynamoDB call each route made, against the grants the
// stack gives its function; every response, against the API reference.
var (
	calls     = dynamotest.NewCalls()
	exchanges = &exchangeLog{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	// Only a run of the whole package exercises every route; a run of
	// chosen tests (-run) checks what they check.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		problems := calls.CheckGrants(routes.All, routes.Jobs)
		problems = append(problems, exchanges.check()...)
		if len(problems) > 0 {
			fmt.Fprintf(os.Stderr, "--- FAIL: the whole package: %d problems\n", len(problems))
			for _, p := range problems {
				fmt.Fprintln(os.Stderr, "    "+strings.ReplaceAll(p, "\n", "\n    "))
			}
			code = 1
		}
	}
	os.Exit(code)
}

// exchangeLog keeps every request a test made to a route and its response.
type exchangeLog struct {
	mu  sync.Mutex
	all []reference.Exchange
}

func (l *exchangeLog) add(x reference.Exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, x)
}

// check validates every response against openapi.yaml and requires that
// every status the reference documents for a route was seen.
func (l *exchangeLog) check() []string {
	doc, err := reference.Load("../..")
	if err != nil {
		return []string{err.Error()}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var problems []string
	seen := map[string]map[int]bool{}
	reported := map[string]bool{}
	for _, x := range l.all {
		if seen[x.Route.Name] == nil {
			seen[x.Route.Name] = map[int]bool{}
		}
		seen[x.Route.Name][x.Status] = true
		if err := doc.Check(x); err != nil {
			key := fmt.Sprintf("%s %d", x.Route.Name, x.Status)
			if !reported[key] {
				reported[key] = true
				problems = append(problems, "openapi.yaml does not describe this response: "+err.Error())
			}
		}
	}
	for _, r := range routes.All {
		var missing []int
		for _, status := range doc.Statuses(r) {
			if !seen[r.Name][status] {
				missing = append(missing, status)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s: openapi.yaml documents statuses %v that no test produced (seen: %v)",
				r.Name, missing, slices.Sorted(maps.Keys(seen[r.Name]))))
		}
	}
	return problems
}

// env is the whole service over a fresh table in DynamoDB Local, served over
// real HTTP by the dev server.
type env struct {
	t     testing.TB
	app   *app.App
	url   string
	logs  *syncBuffer
	clock *clock
	hooks *dynamotest.Hooks
	// faults spoil chosen DynamoDB exchanges on the wire (faults_test.go).
	faults *dynamotest.Faults
	admin  string // the seeded admin's token
	// ddb and table are the table itself, for what tests read directly.
	ddb   *dynamodb.Client
	table string
	// client sends the requests, from ip (a loopback address).
	client *http.Client
	ip     string
	// worker is set on the copies parallel hands its goroutines: a failure
	// there ends the goroutine, not the test.
	worker bool
	// stream hands the table's stream to the stream jobs (the mail the
	// routes queue): drained before a test looks at the mail. Only a
	// newStreamEnv has one; queued is set once a route may have queued
	// mail, which an env without a stream would never deliver.
	stream *localstream.Reader
	queued *atomic.Bool
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now().UTC()
	}
	return c.now
}

// Advance moves the clock; from then on it stands still until moved again.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		c.now = time.Now().UTC()
	}
	c.now = c.now.Add(d)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOf(t, nil, false)
}

// newEnvWith is newEnv with some configuration (environment variables)
// replaced.
func newEnvWith(t testing.TB, vars map[string]string) *env {
	t.Helper()
	return newEnvOf(t, vars, false)
}

// newStreamEnv is newEnv whose table has its stream, which the stream jobs
// read: the env of a test that follows the mail routes queue (a forgotten
// password's link, the notice of a reset). Only those have one: DynamoDB
// Local slows down with every stream record it keeps.
func newStreamEnv(t testing.TB, vars map[string]string) *env {
	t.Helper()
	return newEnvOf(t, vars, true)
}

func newEnvOf(t testing.TB, vars map[string]string, stream bool) *env {
	t.Helper()
	var ddb *dynamodb.Client
	var table string
	if stream {
		ddb, table = dynamotest.NewTableWithStream(t)
	} else {
		ddb, table = dynamotest.NewTable(t)
	}
	// The server's address is known before the app is built, so that the
	// links in emails point at this very server, as they would in AWS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{
		config.EnvPublicBaseURL:    "http://" + ln.Addr().String(),
		config.EnvTableName:        table,
		config.EnvDynamoDBEndpoint: dynamotest.Endpoint(t),
		config.EnvSESEndpoint:      emailtest.Endpoint(t),
		config.EnvCORSOrigins:      "https://admin.example.com",
	}
	maps.Copy(environ, vars)
	cfg, err := config.FromEnv(func(k string) string { return environ[k] })
	if err != nil {
		t.Fatal(err)
	}
	hooks, faults := &dynamotest.Hooks{}, &dynamotest.Faults{}
	a, err := app.New(context.Background(), cfg, app.WithDynamoDBOptions(func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, calls.Middleware, hooks.Middleware)
		faults.Wrap(o)
	}), app.WithSender(email.FromConfig))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, app: a, logs: &syncBuffer{}, clock: &clock{}, hooks: hooks, faults: faults, ddb: ddb, table: table, queued: &atomic.Bool{}}
	a.Log = slog.New(slog.NewJSONHandler(e.logs, nil))
	a.Invitations.Log, a.Users.Log, a.Auth.Log = a.Log, a.Log, a.Log
	a.Now = e.clock.Now
	a.Users.Params, a.Auth.Params, a.Invitations.Params = fastHash, fastHash, fastHash
	h, err := devserver.New(a)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config = devserver.Server("", h)
	srv.Config.ReadTimeout = 3 * time.Second // so that a stalled body is cut off soon
	srv.Start()
	t.Cleanup(srv.Close)
	e.url = srv.URL
	e.client, e.ip = clientFrom("127.0.0.1"), "127.0.0.1"
	if stream {
		if e.stream, err = devserver.Streams(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if created, err := a.Users.SeedAdmin(e.systemCtx(), adminEmail, adminPassword); err != nil || !created {
		t.Fatalf("seed admin: %v %v", created, err)
	}
	e.admin = e.login(adminEmail, adminPassword)
	return e
}

// drain hands the stream jobs what the table's stream holds: the mail
// queued so far is sent when it returns.
func (e *env) drain() {
	e.t.Helper()
	if e.stream == nil {
		if e.queued.Load() {
			e.fatalf("a route queued mail, which only a table with a stream delivers: make this test's env with newStreamEnv")
		}
		return
	}
	if err := e.stream.Drain(context.Background()); err != nil {
		e.fatalf("stream jobs: %v", err)
	}
}

// clientFrom returns a client whose connections come from ip, a loopback
// address (all of 127.0.0.0/8 is local on Linux): the server sees it as the
// client's address, as API Gateway's sourceIp.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}
}

// from returns the env sending from another source IP.
func (e *env) from(ip string) *env {
	c := *e
	c.client, c.ip = clientFrom(ip), ip
	return &c
}

// in returns the env reporting to t (a subtest).
func (e *env) in(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// fatalf fails the test; in a goroutine of parallel it ends that goroutine
// only (FailNow may not be called there).
func (e *env) fatalf(format string, args ...any) {
	e.t.Helper()
	if e.worker {
		e.t.Errorf(format, args...)
		runtime.Goexit()
	}
	e.t.Fatalf(format, args...)
}

// systemCtx is a context for calls made outside a request.
func (e *env) systemCtx() context.Context {
	return access.WithRequest(context.Background(), access.Request{ID: "test", Now: e.clock.Now()})
}

// team creates a team through the store.
func (e *env) team(name string) string {
	e.t.Helper()
	id := ids.New("team")
	ctx := e.systemCtx()
	err := e.app.Store.CreateTeam(ctx, teams.Team{ID: id, Name: name, CreatedAt: e.clock.Now()}, audit.New(ctx, "team.created", "team", id, nil))
	if err != nil {
		e.fatalf("%v", err)
	}
	return id
}

// scanTable returns every item of the table as JSON, one per line: what a
// dump of the table would show (tests read it for what must not be stored).
func (e *env) scanTable() string {
	e.t.Helper()
	var b strings.Builder
	p := dynamodb.NewScanPaginator(e.ddb, &dynamodb.ScanInput{TableName: &e.table})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			e.fatalf("scan: %v", err)
		}
		for _, item := range out.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				e.fatalf("scan: %v", err)
			}
			j, _ := json.Marshal(m)
			b.Write(j)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// response is a decoded response.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(path ...string) string {
	v := r.get(path...)
	s, _ := v.(string)
	return s
}

// get follows path through the body: object keys, and indexes of arrays
// ("items", "0", "id").
func (r response) get(path ...string) any {
	var v any = r.body
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (r response) list(path ...string) []any {
	l, _ := r.get(path...).([]any)
	return l
}

func (r response) num(path ...string) int {
	f, _ := r.get(path...).(float64)
	return int(f)
}

// do sends a request; body may be nil, a string (sent as is), []byte (sent
// as is) or a value (sent as JSON).
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return e.send(method, path, token, body, nil)
}

// routeMux finds the route a request is for, to check its response against
// the reference.
var routeMux = func() *http.ServeMux {
	mux := http.NewServeMux()
	for _, r := range routes.All {
		mux.Handle(r.Pattern(), http.NotFoundHandler())
	}
	return mux
}()

func routeOf(req *http.Request) (routes.Route, bool) {
	if p := req.URL.Path; path.Clean(p) != p {
		return routes.Route{}, false // the dev server's own 404
	}
	_, pattern := routeMux.Handler(req)
	for _, r := range routes.All {
		if r.Pattern() == pattern {
			return r, true
		}
	}
	return routes.Route{}, false
}

// send is do with extra request headers.
func (e *env) send(method, path, token string, body any, header http.Header) response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(raw))
	if err != nil {
		e.fatalf("%v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode < 300 && method == http.MethodPost && (path == "/auth/password/forgot" || path == "/auth/password/reset") {
		e.queued.Store(true)
	}
	out := response{status: res.StatusCode, header: res.Header, raw: string(got)}
	_ = json.Unmarshal(got, &out.body)
	if r, ok := routeOf(req); ok {
		req.Body = io.NopCloser(bytes.NewReader(raw))
		exchanges.add(reference.Exchange{Route: r, Request: req, Status: res.StatusCode, Header: res.Header, Body: got})
	}
	return out
}

// must checks the status and returns the response.
func (e *env) must(status int, r response) response {
	e.t.Helper()
	if r.status != status {
		e.fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// problem checks a problem+json answer with its code.
func (e *env) problem(status int, code string, r response) response {
	e.t.Helper()
	e.must(status, r)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		e.fatalf("Content-Type %q, want application/problem+json", ct)
	}
	if got := r.str("code"); got != code {
		e.fatalf("code %q, want %q: %s", got, code, r.raw)
	}
	if r.num("status") != status {
		e.fatalf("problem status %d, want %d", r.num("status"), status)
	}
	// Every refusal for going over a budget (sign-in, reset, accept, key
	// creation, ...) says when to come back, in whole seconds.
	if status == http.StatusTooManyRequests {
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
			e.fatalf("429 with Retry-After %q, want a number of seconds", r.header.Get("Retry-After"))
		}
	}
	return r
}

func (e *env) login(login, password string) string {
	e.t.Helper()
	r := e.must(200, e.do("POST", "/auth/login", "", map[string]any{"login": login, "password": password}))
	return r.str("token")
}

// createUser creates a user through the API as the admin and returns its id.
func (e *env) createUser(email, role string, extra map[string]any) string {
	e.t.Helper()
	body := map[string]any{"email": email, "password": "pw for " + email, "given_name": "Given", "family_name": "Family", "role": role}
	for k, v := range extra {
		body[k] = v
	}
	return e.must(201, e.do("POST", "/users", e.admin, body)).str("id")
}

// userByEmail reads a user, as stored, through the admin's list.
func (e *env) userByEmail(email string) *users.User {
	e.t.Helper()
	for _, it := range e.must(200, e.do("GET", "/users?limit=100", e.admin, nil)).list("items") {
		m := it.(map[string]any)
		if strings.EqualFold(m["email"].(string), email) {
			u, err := e.app.Store.GetUser(e.systemCtx(), m["id"].(string))
			if err != nil {
				e.fatalf("%v", err)
			}
			return u
		}
	}
	e.fatalf("no user %s", email)
	return nil
}

// parallel runs n calls of fn at once and returns their results. Each call
// gets its own copy of e, on which a failure ends only that call.
func parallel[T any](e *env, n int, fn func(w *env, i int) T) []T {
	out := make([]T, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		w := *e
		w.worker = true
		wg.Go(func() {
			<-start
			out[i] = fn(&w, i)
		})
	}
	close(start)
	wg.Wait()
	if e.t.Failed() {
		e.t.FailNow()
	}
	return out
}

// statuses counts responses by status.
func statuses(rs []response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}
