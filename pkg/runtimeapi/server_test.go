package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/runtimeapi"
)

// These tests play the function's side: they call the Runtime API over HTTP
// the way aws-lambda-go does, and check what Invoke returns to the caller.
// bootstrap_test.go runs a real function binary against the same server.

func newServer(tb testing.TB, opts ...runtimeapi.Option) *runtimeapi.Server {
	tb.Helper()
	s, err := runtimeapi.New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// hang bounds every wait of these tests for what must happen: only a
// server that hangs reaches it, however slow the machine.
const hang = time.Minute

// invokeAsync runs Invoke in the background; the test plays the function
// meanwhile.
func invokeAsync(ctx context.Context, s *runtimeapi.Server, event string) <-chan invokeResult {
	ch := make(chan invokeResult, 1)
	go func() {
		b, err := s.Invoke(ctx, []byte(event))
		ch <- invokeResult{b, err}
	}()
	return ch
}

type invokeResult struct {
	payload []byte
	err     error
}

func wait(tb testing.TB, ch <-chan invokeResult) invokeResult {
	tb.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(hang):
		tb.Fatal("Invoke did not return")
		return invokeResult{}
	}
}

type nextResult struct {
	header http.Header
	body   string
	err    error
}

// next is GET /invocation/next, in the background because it blocks.
func next(s *runtimeapi.Server) <-chan nextResult {
	ch := make(chan nextResult, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/2018-06-01/runtime/invocation/next")
		if err != nil {
			ch <- nextResult{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = errors.New("next: " + resp.Status + ": " + string(b))
		}
		ch <- nextResult{resp.Header, string(b), err}
	}()
	return ch
}

func mustNext(tb testing.TB, s *runtimeapi.Server) nextResult {
	tb.Helper()
	select {
	case n := <-next(s):
		if n.err != nil {
			tb.Fatal(n.err)
		}
		return n
	case <-time.After(hang):
		tb.Fatal("next did not return")
		return nextResult{}
	}
}

// post sends body to a Runtime API path and returns the status code.
func post(tb testing.TB, s *runtimeapi.Server, path, body string, header http.Header) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/2018-06-01/runtime"+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// waitFor returns once the server has the given Invoke calls and /next
// requests waiting: the moment a test must act at, reached on the server's
// own count rather than after a guessed sleep.
func waitFor(tb testing.TB, s *runtimeapi.Server, invokes, nexts int) {
	tb.Helper()
	deadline := time.Now().Add(hang)
	for {
		i, n := s.Waiting()
		if i == invokes && n == nexts {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting: %d invokes and %d nexts, want %d and %d", i, n, invokes, nexts)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestInvokeReturnsTheFunctionsResponse(t *testing.T) {
	// A timeout no slow machine reaches before the test answers.
	const timeout = 10 * time.Minute
	s := newServer(t, runtimeapi.WithFunctionName("get-me"), runtimeapi.WithTimeout(timeout))
	done := invokeAsync(context.Background(), s, `{"rawPath":"/me"}`)

	before := time.Now()
	n := mustNext(t, s)
	after := time.Now()
	if n.body != `{"rawPath":"/me"}` {
		t.Errorf("event %q, want the one invoked", n.body)
	}
	id := n.header.Get("Lambda-Runtime-Aws-Request-Id")
	if !uuidRE.MatchString(id) {
		t.Errorf("request id %q is not a UUID", id)
	}
	if arn := n.header.Get("Lambda-Runtime-Invoked-Function-Arn"); !regexp.MustCompile(`^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:get-me$`).MatchString(arn) {
		t.Errorf("function ARN %q", arn)
	}
	if tr := n.header.Get("Lambda-Runtime-Trace-Id"); !strings.HasPrefix(tr, "Root=1-") {
		t.Errorf("trace id %q", tr)
	}
	deadline, err := strconv.ParseInt(n.header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi := before.Add(timeout).UnixMilli(), after.Add(timeout).UnixMilli(); deadline < lo || deadline > hi {
		t.Errorf("deadline %d, want the timeout after delivery: in [%d, %d]", deadline, lo, hi)
	}

	if code := post(t, s, "/invocation/"+id+"/response", `{"statusCode":200}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST response: %d, want 202", code)
	}
	r := wait(t, done)
	if r.err != nil || string(r.payload) != `{"statusCode":200}` {
		t.Fatalf("Invoke = %q, %v", r.payload, r.err)
	}

	// An invocation is answered once; aws-lambda-go exits on a non-202.
	if code := post(t, s, "/invocation/"+id+"/response", `{}`, nil); code != http.StatusBadRequest {
		t.Errorf("second POST response: %d, want 400", code)
	}
	if code := post(t, s, "/invocation/"+"00000000-0000-4000-8000-000000000000/response", `{}`, nil); code != http.StatusBadRequest {
		t.Errorf("POST response for an unknown id: %d, want 400", code)
	}
}

func TestNextWaitsForAnInvocation(t *testing.T) {
	s := newServer(t)
	pending := next(s)
	// The request has reached the server, which holds it. It must still
	// be held a while later: a slow machine only makes that while longer
	// in effect, so it can only let the test pass, never fail it.
	waitFor(t, s, 0, 1)
	select {
	case n := <-pending:
		t.Fatalf("next returned with nothing invoked: %+v", n)
	case <-time.After(200 * time.Millisecond):
	}
	done := invokeAsync(context.Background(), s, `"ping"`)
	var n nextResult
	select {
	case n = <-pending:
	case <-time.After(hang):
		t.Fatal("next did not return once an invocation came")
	}
	if n.err != nil || n.body != `"ping"` {
		t.Fatalf("next = %q, %v", n.body, n.err)
	}
	post(t, s, "/invocation/"+n.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", `"pong"`, nil)
	if r := wait(t, done); string(r.payload) != `"pong"` {
		t.Fatalf("Invoke = %q, %v", r.payload, r.err)
	}
}

func TestConcurrentInvocationsGetTheirOwnAnswers(t *testing.T) {
	s := newServer(t)
	a := invokeAsync(context.Background(), s, `"a"`)
	b := invokeAsync(context.Background(), s, `"b"`)
	// Answer in the reverse order of delivery.
	n1, n2 := mustNext(t, s), mustNext(t, s)
	post(t, s, "/invocation/"+n2.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", strings.ToUpper(n2.body), nil)
	post(t, s, "/invocation/"+n1.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", strings.ToUpper(n1.body), nil)
	if r := wait(t, a); string(r.payload) != `"A"` {
		t.Errorf("a = %q, %v", r.payload, r.err)
	}
	if r := wait(t, b); string(r.payload) != `"B"` {
		t.Errorf("b = %q, %v", r.payload, r.err)
	}
}

func TestFunctionErrorComesBackWithItsPayload(t *testing.T) {
	s := newServer(t)
	done := invokeAsync(context.Background(), s, `{}`)
	n := mustNext(t, s)
	payload := `{"errorMessage":"boom","errorType":"errorString"}`
	code := post(t, s, "/invocation/"+n.header.Get("Lambda-Runtime-Aws-Request-Id")+"/error", payload,
		http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.Unhandled"}})
	if code != http.StatusAccepted {
		t.Fatalf("POST error: %d, want 202", code)
	}
	r := wait(t, done)
	var fe *runtimeapi.FunctionError
	if !errors.As(r.err, &fe) {
		t.Fatalf("Invoke error %v, want a *FunctionError", r.err)
	}
	if fe.Init || fe.Type != "Runtime.Unhandled" || fe.Message != "boom" || string(fe.Payload) != payload {
		t.Errorf("FunctionError %+v", fe)
	}
	if r.payload != nil {
		t.Errorf("payload %q with an error", r.payload)
	}
	if !strings.Contains(r.err.Error(), "boom") {
		t.Errorf("error text %q lacks the message", r.err)
	}
}

func TestStreamedResponseErrorInTrailers(t *testing.T) {
	// aws-lambda-go reports a failure while reading a streamed response in
	// trailers of the response POST, not on the error endpoint.
	s := newServer(t)
	done := invokeAsync(context.Background(), s, `{}`)
	n := mustNext(t, s)
	errBody := `{"errorMessage":"read failed","errorType":"ioError"}`
	req, err := http.NewRequest(http.MethodPost,
		"http://"+s.Addr()+"/2018-06-01/runtime/invocation/"+n.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response",
		// MultiReader hides the length, so the body is chunked and can carry trailers.
		io.MultiReader(strings.NewReader("partial")))
	if err != nil {
		t.Fatal(err)
	}
	req.Trailer = http.Header{
		"Lambda-Runtime-Function-Error-Type": {"ioError"},
		"Lambda-Runtime-Function-Error-Body": {base64.StdEncoding.EncodeToString([]byte(errBody))},
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := wait(t, done)
	var fe *runtimeapi.FunctionError
	if !errors.As(r.err, &fe) || fe.Type != "ioError" || fe.Message != "read failed" {
		t.Fatalf("Invoke = %q, %v; want the trailer's error", r.payload, r.err)
	}
}

func TestResponseOverTheLimitFails(t *testing.T) {
	s := newServer(t)
	done := invokeAsync(context.Background(), s, `{}`)
	n := mustNext(t, s)
	big := `"` + strings.Repeat("x", 6<<20) + `"`
	if code := post(t, s, "/invocation/"+n.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", big, nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST response of %d bytes: %d, want 413", len(big), code)
	}
	var fe *runtimeapi.FunctionError
	if r := wait(t, done); !errors.As(r.err, &fe) || fe.Type != "Function.ResponseSizeTooLarge" {
		t.Fatalf("Invoke = %d bytes, %v", len(r.payload), r.err)
	}
}

func TestInitErrorFailsPendingAndLaterInvocations(t *testing.T) {
	s := newServer(t)
	pending := invokeAsync(context.Background(), s, `{}`)
	waitFor(t, s, 1, 0)
	payload := `{"errorMessage":"config: TABLE_NAME is required","errorType":"errorString"}`
	if code := post(t, s, "/init/error", payload, http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.ExitError"}}); code != http.StatusAccepted {
		t.Fatalf("POST init/error: %d, want 202", code)
	}
	for _, r := range []invokeResult{wait(t, pending), wait(t, invokeAsync(context.Background(), s, `{}`))} {
		var fe *runtimeapi.FunctionError
		if !errors.As(r.err, &fe) || !fe.Init || fe.Type != "Runtime.ExitError" || !bytes.Equal(fe.Payload, []byte(payload)) {
			t.Errorf("Invoke error %v, want the init error", r.err)
		}
	}
}

func TestDeadlineIsTheContextsWhenSooner(t *testing.T) {
	s := newServer(t, runtimeapi.WithTimeout(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	want, _ := ctx.Deadline()
	done := invokeAsync(ctx, s, `{}`)
	n := mustNext(t, s)
	if got := n.header.Get("Lambda-Runtime-Deadline-Ms"); got != strconv.FormatInt(want.UnixMilli(), 10) {
		t.Errorf("deadline %s, want the context's %d", got, want.UnixMilli())
	}
	post(t, s, "/invocation/"+n.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", `1`, nil)
	if r := wait(t, done); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestFunctionThatOverrunsItsTimeoutTimesOut(t *testing.T) {
	s := newServer(t, runtimeapi.WithTimeout(300*time.Millisecond))
	began := time.Now()
	done := invokeAsync(context.Background(), s, `{}`)
	n := mustNext(t, s)
	r := wait(t, done) // within hang: it does time out
	var fe *runtimeapi.FunctionError
	if !errors.As(r.err, &fe) || fe.Type != "Sandbox.Timedout" || fe.Message != "Task timed out after 0.30 seconds" {
		t.Fatalf("Invoke error %v, want a timeout after 0.30 seconds", r.err)
	}
	// Not before the timeout; how long after depends on the machine.
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("timed out after %s, before the 300ms timeout", d)
	}
	// The late answer is refused, so the runtime client exits.
	if code := post(t, s, "/invocation/"+n.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", `1`, nil); code != http.StatusBadRequest {
		t.Errorf("late POST response: %d, want 400", code)
	}
}

func TestAbandonedInvocationIsNeverDelivered(t *testing.T) {
	s := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	gone := invokeAsync(ctx, s, `"abandoned"`)
	waitFor(t, s, 1, 0)
	cancel()
	if r := wait(t, gone); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Invoke error %v, want context.Canceled", r.err)
	}
	done := invokeAsync(context.Background(), s, `"wanted"`)
	n := mustNext(t, s)
	if n.body != `"wanted"` {
		t.Fatalf("next delivered %q, want the live invocation", n.body)
	}
	post(t, s, "/invocation/"+n.header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", `1`, nil)
	wait(t, done)
}

func TestCloseReleasesWaiters(t *testing.T) {
	s, err := runtimeapi.New()
	if err != nil {
		t.Fatal(err)
	}
	pending := invokeAsync(context.Background(), s, `{}`)
	waitFor(t, s, 1, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, pending); !errors.Is(r.err, runtimeapi.ErrClosed) {
		t.Errorf("pending Invoke: %v, want ErrClosed", r.err)
	}
	if _, err := s.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, runtimeapi.ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseEndsAWaitingNext(t *testing.T) {
	s, err := runtimeapi.New()
	if err != nil {
		t.Fatal(err)
	}
	pending := next(s)
	waitFor(t, s, 0, 1)
	_ = s.Close()
	select {
	case n := <-pending:
		if n.err == nil {
			t.Errorf("next after Close returned an event: %q", n.body)
		}
	case <-time.After(hang):
		t.Fatal("next still blocked after Close")
	}
}
