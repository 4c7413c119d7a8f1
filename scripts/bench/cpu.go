package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/routes"
)

// roundTripMs is the DynamoDB round trip the Lambda prediction assumes: a
// typical in-region call. DynamoDB Local on loopback says nothing about it.
const roundTripMs = 5.0

// cpuWarmUp requests run before the counted ones, in each process.
const cpuWarmUp = 20

// buildHost builds every function for this machine (as make build does for
// Lambda) into one directory: one go build, which links them in parallel.
func buildHost() (string, error) {
	root, err := localstack.ModuleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "bench-functions")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir+"/", "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the functions: %w\n%s", err, out)
	}
	return dir, nil
}

// event is the API Gateway v2 event of one request of a case.
func event(r routes.Route, path, id, token string, body any) ([]byte, error) {
	u, err := url.Parse(path)
	if err != nil {
		return nil, err
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: r.Key(), RawPath: u.Path, RawQueryString: u.RawQuery,
		Headers: map[string]string{"user-agent": "Mozilla/5.0 (X11; Linux x86_64) bench", "accept": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: r.Key(), Stage: "$default", RequestID: strings.TrimPrefix(ids.New("req"), "req_"),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: u.Path, Protocol: "HTTP/1.1", SourceIP: "198.51.100.7", UserAgent: "bench",
			},
		},
	}
	if id != "" {
		// The route's one path parameter: {id}, or the console's {file}.
		name := "id"
		if strings.Contains(r.Path, "{file}") {
			name = "file"
		}
		ev.PathParameters = map[string]string{name: id}
	}
	if token != "" {
		ev.Headers["authorization"] = "Bearer " + token
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		ev.Body = string(b)
		ev.Headers["content-type"] = "application/json"
	}
	return json.Marshal(ev)
}

// cpuRounds is how many times each CPU figure is measured; the median is
// kept, as this machine is shared and noisy.
const cpuRounds = 3

// cpuOf measures what one request of the case costs its function:
// allocations and CPU in-process, through the same handler and adapter the
// function runs; then CPU time in the function's own process, the real
// binary with the route's memory settings, as Lambda would bill it. Each is
// measured cpuRounds times, in turn, over n requests.
func (b *bench) cpuOf(ctx context.Context, bins string, c request, n int) (*CPU, error) {
	route, _ := routes.ByName(c.route)
	// Inputs never used before: creations need new emails, sign-outs new
	// sessions. Indexes start past those of the HTTP samples.
	next := 100_000
	eventsFor := func(k int) ([][]byte, error) {
		prefetch(c, next+1, next+1+k)
		evs := make([][]byte, k)
		for i := range evs {
			next++
			var token string
			if c.token != nil {
				token = c.token(next)
			}
			var body any
			if c.body != nil {
				body = c.body(next)
			}
			id := c.id
			if c.idOf != nil {
				id = c.idOf(next)
			}
			ev, err := event(route, c.path(route, next), id, token, body)
			if err != nil {
				return nil, err
			}
			evs[i] = ev
		}
		return evs, nil
	}

	h, err := b.app.Handler(route.Name)
	if err != nil {
		return nil, err
	}
	serve := apigw.Handler(h)
	one := func(raw []byte) error { return c.serveWith(ctx, serve, raw) }
	p, err := b.startFunction(ctx, route.Name, filepath.Join(bins, route.Name), functionEnv(route.MemoryMB())...)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	warm, err := eventsFor(2 * cpuWarmUp)
	if err != nil {
		return nil, err
	}
	for i, raw := range warm {
		if i%2 == 0 {
			err = one(raw)
		} else {
			err = p.invoke(raw, c.status)
		}
		if err != nil {
			return nil, err
		}
	}

	var inProcess, inBinary, allocs, bytes, logged []float64
	for range cpuRounds {
		evs, err := eventsFor(n)
		if err != nil {
			return nil, err
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c0 := processCPU()
		for _, raw := range evs {
			if err := one(raw); err != nil {
				return nil, err
			}
		}
		c1 := processCPU()
		runtime.ReadMemStats(&after)
		inProcess = append(inProcess, float64(c1-c0)/float64(time.Millisecond)/float64(n))
		allocs = append(allocs, float64(after.Mallocs-before.Mallocs)/float64(n))
		bytes = append(bytes, float64(after.TotalAlloc-before.TotalAlloc)/float64(n))

		if evs, err = eventsFor(n); err != nil {
			return nil, err
		}
		t0, err := p.cpu()
		if err != nil {
			return nil, err
		}
		l0 := p.logged.n.Load()
		for _, raw := range evs {
			if err := p.invoke(raw, c.status); err != nil {
				return nil, err
			}
		}
		t1, err := p.cpu()
		if err != nil {
			return nil, err
		}
		inBinary = append(inBinary, float64(t1-t0)/float64(time.Millisecond)/float64(n))
		logged = append(logged, float64(p.logged.n.Load()-l0)/float64(n))
	}
	b.calls.take()
	cpu := &CPU{Requests: n * cpuRounds, MemoryMB: route.MemoryMB(),
		Ms: median(inBinary), InProcessMs: median(inProcess), Allocs: median(allocs), Bytes: median(bytes), LogBytes: median(logged)}
	if route.Method == http.MethodGet {
		evs, err := eventsFor(1)
		if err != nil {
			return nil, err
		}
		if cpu.OffNetworkMs, err = b.offNetwork(ctx, c, route, evs[0], n); err != nil {
			return nil, err
		}
	}
	return cpu, nil
}

// offNetwork is the CPU per request of one read repeated in-process with
// DynamoDB's answers replayed from memory (the first request fills the
// replay): the median of cpuRounds rounds of n.
func (b *bench) offNetwork(ctx context.Context, c request, route routes.Route, raw []byte, n int) (float64, error) {
	h, err := b.replayed.Handler(route.Name)
	if err != nil {
		return 0, err
	}
	serve := apigw.Handler(h)
	for range cpuWarmUp {
		if err := c.serveWith(ctx, serve, raw); err != nil {
			return 0, err
		}
	}
	var ms []float64
	for range cpuRounds {
		c0 := processCPU()
		for range n {
			if err := c.serveWith(ctx, serve, raw); err != nil {
				return 0, err
			}
		}
		ms = append(ms, float64(processCPU()-c0)/float64(time.Millisecond)/float64(n))
	}
	return median(ms), nil
}

// serveWith serves one event of the case in-process as a function does:
// the event decoded, the handler, the answer encoded.
func (c request) serveWith(ctx context.Context, serve func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), raw []byte) error {
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	res, err := serve(ctx, e)
	if err != nil {
		return err
	}
	if res.StatusCode != c.status {
		return fmt.Errorf("%s: status %d, want %d: %s", c.route, res.StatusCode, c.status, res.Body)
	}
	_, err = json.Marshal(res)
	return err
}

// predict fills in the Lambda duration the row's measurements predict.
func predict(row *Row) {
	if row.CPU == nil {
		return
	}
	share := max(1, float64(routes.VCPUMemory)/float64(row.CPU.MemoryMB))
	row.CPU.LambdaMs = row.CPU.Ms*share + float64(row.Waves)*roundTripMs
}

// functionEnv is the Go runtime settings the stack gives a function of
// that memory.
func functionEnv(memoryMB int) []string {
	if v, ok := os.LookupEnv("BENCH_GOENV"); ok {
		return strings.Fields(v)
	}
	var env []string
	for k, v := range routes.GoEnv(memoryMB) {
		env = append(env, k+"="+v)
	}
	return env
}

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
