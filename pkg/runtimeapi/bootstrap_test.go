package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/runtimeapi"
)

// TestGetMeIsALambdaFunction proves a function binary is a genuine Lambda
// function: built the way `make build` builds it (for the host rather than
// linux/arm64), it finds the Runtime API from AWS_LAMBDA_RUNTIME_API, takes
// an API Gateway v2 event and answers with a proxy response, then takes a
// second event in the same process, as on a warm start.
//
// The event's bearer token matches no session in a fresh table, so the answer
// is a 401 problem document: that exercises configuration, the DynamoDB
// client, the authenticator and the error path without seeding anything.
func TestGetMeIsALambdaFunction(t *testing.T) {
	dir := root(t)
	for _, f := range []string{"functions/get-me/main.go", "events/get-me.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s is missing: every route has its function and its sample event", f)
		}
	}
	event, err := os.ReadFile(filepath.Join(dir, "events", "get-me.json"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildFunction(t, dir, "get-me")
	_, table := dynamotest.NewTable(t)

	// The function's timeout only bounds a function that hangs: a cold
	// start on a busy machine takes its time.
	srv := newServer(t, runtimeapi.WithFunctionName("get-me"), runtimeapi.WithTimeout(2*time.Minute))
	fn := startFunction(t, bin, []string{
		"AWS_LAMBDA_RUNTIME_API=" + srv.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=get-me",
		"TABLE_NAME=" + table,
		"DYNAMODB_ENDPOINT=" + dynamotest.Endpoint(t),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	})

	for _, start := range []string{"cold", "warm"} {
		t.Run(start, func(t *testing.T) {
			began := time.Now()
			resp, err := srv.Invoke(fn.ctx, event)
			if err != nil {
				t.Fatalf("invoke: %v\nfunction output:\n%s", err, fn.output())
			}
			t.Logf("%s start: answered in %s", start, time.Since(began).Round(time.Millisecond))
			checkUnauthorized(t, resp)
		})
		select {
		case <-fn.ctx.Done():
			t.Fatalf("the function exited after a %s start: %v\n%s", start, context.Cause(fn.ctx), fn.output())
		default:
		}
	}
}

// TestExpireInvitationsIsALambdaFunction proves a job's binary is a
// genuine scheduled function: it takes the EventBridge event of
// events/expire-invitations.json, runs at the event's time (not the
// clock's), and answers its report. A fresh table has nothing due.
func TestExpireInvitationsIsALambdaFunction(t *testing.T) {
	dir := root(t)
	event, err := os.ReadFile(filepath.Join(dir, "events", "expire-invitations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(event, &ev); err != nil || ev.DetailType != "Scheduled Event" || ev.Time.IsZero() {
		t.Fatalf("events/expire-invitations.json is not a scheduled event: %v %+v", err, ev)
	}
	bin := buildFunction(t, dir, "expire-invitations")
	_, table := dynamotest.NewTable(t)
	// Long enough that the run, which stops when its deadline is near
	// (reporting more to do), never starts near it on a busy machine.
	srv := newServer(t, runtimeapi.WithFunctionName("expire-invitations"), runtimeapi.WithTimeout(5*time.Minute))
	fn := startFunction(t, bin, []string{
		"AWS_LAMBDA_RUNTIME_API=" + srv.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=expire-invitations",
		"TABLE_NAME=" + table,
		"DYNAMODB_ENDPOINT=" + dynamotest.Endpoint(t),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
	})
	resp, err := srv.Invoke(fn.ctx, event)
	if err != nil {
		t.Fatalf("invoke: %v\nfunction output:\n%s", err, fn.output())
	}
	var rep struct {
		Job  string    `json:"job"`
		Now  time.Time `json:"now"`
		Done int       `json:"done"`
		More bool      `json:"more"`
	}
	if err := json.Unmarshal(resp, &rep); err != nil || rep.Job != "expire-invitations" || !rep.Now.Equal(ev.Time) || rep.Done != 0 || rep.More {
		t.Fatalf("report %s (%v), want the job at %s with nothing done", resp, err, ev.Time)
	}
}

// checkUnauthorized checks resp is an API Gateway v2 proxy response carrying
// the API's 401 problem document.
func checkUnauthorized(tb testing.TB, resp []byte) {
	tb.Helper()
	var r events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		tb.Fatalf("response is not an API Gateway v2 proxy response: %v\n%s", err, resp)
	}
	if r.StatusCode != http.StatusUnauthorized {
		tb.Errorf("statusCode %d, want 401\n%s", r.StatusCode, resp)
	}
	// Header names are case-insensitive; the adapter may send either map.
	h := http.Header{}
	for k, v := range r.Headers {
		h.Add(k, v)
	}
	for k, vs := range r.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/problem+json" {
		tb.Errorf("content-type %q, want application/problem+json", h.Get("Content-Type"))
	}
	if h.Get("X-Request-Id") == "" {
		tb.Errorf("no x-request-id header in %v", h)
	}
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
			tb.Fatalf("body: %v", err)
		}
	}
	var problem struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(body, &problem); err != nil || problem.Code != "unauthorized" {
		tb.Errorf("body %s, want a problem document with code \"unauthorized\" (%v)", body, err)
	}
}

// buildFunction builds ./functions/<name> as `make build` does, but for the
// host, so that the test can run it.
func buildFunction(tb testing.TB, root, name string) string {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Fatal("go is not on PATH")
	}
	out := filepath.Join(tb.TempDir(), "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
		"-o", out, "./functions/"+name)
	cmd.Dir = root
	// GOOS and GOARCH are set explicitly in case the caller's environment
	// cross-compiles for Lambda.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build ./functions/%s: %v\n%s", name, err, b)
	}
	return out
}

// function is a running function process. Its ctx ends when the process
// exits, so that an Invoke waiting on a crashed function returns at once.
type function struct {
	ctx context.Context
	mu  sync.Mutex
	out bytes.Buffer
}

func (f *function) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}

func (f *function) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// startFunction runs bin with only env, as Lambda gives a function only its
// own environment, and kills it when the test ends.
func startFunction(tb testing.TB, bin string, env []string) *function {
	tb.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	f := &function{ctx: ctx}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout = f
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		if err == nil {
			err = errors.New("exit status 0")
		}
		cancel(fmt.Errorf("function exited: %w", err))
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if out := f.output(); out != "" {
			tb.Logf("function output:\n%s", out)
		}
	})
	return f
}

// root is the repository root, where .tools and functions/ are.
func root(tb testing.TB) string {
	tb.Helper()
	dir, err := localstack.ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}
