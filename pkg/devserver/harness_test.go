package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/devserver"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/teams"
)

// fastHash keeps tests quick; the production parameters are tested in
// pkg/passwords. Stored hashes carry their parameters, so verification is
// unaffected.
var fastHash = passwords.Params{MemoryKiB: 64, Time: 1, Threads: 1}

const adminEmail, adminPassword = "root@example.com", "the first admin's long passphrase"

// env is the whole service over a fresh table in DynamoDB Local, served over
// real HTTP by the dev server's mux.
type env struct {
	t     testing.TB
	app   *app.App
	url   string
	logs  *syncBuffer
	clock *clock
	admin string // the seeded admin's token
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
	_, table := dynamotest.NewTable(t)
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{
			config.EnvTableName:        table,
			config.EnvDynamoDBEndpoint: dynamotest.Endpoint(t),
			config.EnvCORSOrigins:      "https://admin.example.com",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, app: a, logs: &syncBuffer{}, clock: &clock{}}
	a.Log = slog.New(slog.NewJSONHandler(e.logs, nil))
	a.Now = e.clock.Now
	a.Users.Params, a.Auth.Params = fastHash, fastHash
	h, err := devserver.New(a)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	if created, err := a.Users.SeedAdmin(e.systemCtx(), adminEmail, adminPassword); err != nil || !created {
		t.Fatalf("seed admin: %v %v", created, err)
	}
	e.admin = e.login(adminEmail, adminPassword)
	return e
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
		e.t.Fatal(err)
	}
	return id
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

func (r response) get(path ...string) any {
	var v any = r.body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
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

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return e.send(method, path, token, body, nil)
}

// send is do with extra request headers.
func (e *env) send(method, path, token string, body any, header http.Header) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// must checks the status and returns the response.
func (e *env) must(status int, r response) response {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// problem checks a problem+json answer with its code.
func (e *env) problem(status int, code string, r response) response {
	e.t.Helper()
	e.must(status, r)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		e.t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	if got := r.str("code"); got != code {
		e.t.Fatalf("code %q, want %q: %s", got, code, r.raw)
	}
	if r.num("status") != status {
		e.t.Fatalf("problem status %d, want %d", r.num("status"), status)
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

// parallel runs n calls of fn at once and returns their results.
func parallel[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
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
