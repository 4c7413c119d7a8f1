package runtimeloop_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/usermgmt/ums/pkg/runtimeapi"
	"github.com/usermgmt/ums/pkg/runtimeloop"
)

// serve runs the loop on h against a local Runtime API; the channel gets
// what Serve returns.
func serve(t *testing.T, h runtimeloop.Handler, opts ...runtimeapi.Option) (*runtimeapi.Server, <-chan error) {
	t.Helper()
	s, err := runtimeapi.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	done := make(chan error, 1)
	go func() { done <- runtimeloop.Serve(context.Background(), s.Addr(), h) }()
	return s, done
}

// hang bounds the waits of these tests for what must happen: only a loop
// that hangs reaches it, however slow the machine.
const hang = time.Minute

// invoke invokes the function; the invocation's deadline is the server's
// timeout, or hang if that is sooner.
func invoke(t *testing.T, s *runtimeapi.Server, event string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	return s.Invoke(ctx, []byte(event))
}

// Each invocation reaches the handler with its event, its request id and
// its deadline, and its answer reaches the Runtime API; a hundred of them
// in turn, on the one connection the loop keeps.
func TestServeAnswersEachInvocation(t *testing.T) {
	type in struct {
		N int `json:"n"`
	}
	type out struct {
		N         int    `json:"n"`
		RequestID string `json:"request_id"`
		Left      bool   `json:"left"`
		HTML      string `json:"html"`
	}
	s, _ := serve(t, runtimeloop.JSON(func(ctx context.Context, e in) (out, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, ok := ctx.Deadline()
		return out{N: e.N * 2, RequestID: lc.AwsRequestID, Left: ok && time.Until(deadline) > 0, HTML: "<p>&</p>"}, nil
	}), runtimeapi.WithTimeout(time.Hour))
	ids := map[string]bool{}
	for i := range 100 {
		payload, err := invoke(t, s, fmt.Sprintf(`{"n":%d}`, i))
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		if !strings.Contains(string(payload), `"html":"<p>&</p>"`) {
			t.Fatalf("answer %s: HTML escaped, which aws-lambda-go does not do", payload)
		}
		var o out
		if err := json.Unmarshal(payload, &o); err != nil {
			t.Fatalf("answer %q: %v", payload, err)
		}
		if o.N != 2*i || o.RequestID == "" || !o.Left || ids[o.RequestID] {
			t.Fatalf("invocation %d answered %+v: want n %d, a new request id and a deadline ahead", i, o, 2*i)
		}
		ids[o.RequestID] = true
	}
}

// A handler's error is the invocation's error, named by its type as
// aws-lambda-go names it, and the loop goes on to the next invocation; an
// event that does not decode is an error too.
func TestServeReportsErrors(t *testing.T) {
	s, _ := serve(t, runtimeloop.JSON(func(_ context.Context, e struct{ Fail bool }) (string, error) {
		if e.Fail {
			return "", errors.New("boom")
		}
		return "fine", nil
	}))
	var fe *runtimeapi.FunctionError
	if _, err := invoke(t, s, `{"Fail":true}`); !errors.As(err, &fe) || fe.Type != "errorString" || fe.Message != "boom" {
		t.Fatalf("a failing handler: %v, want the function error errorString: boom", err)
	}
	if _, err := invoke(t, s, `{"Fail":`); !errors.As(err, &fe) || fe.Type != "SyntaxError" {
		t.Fatalf("an event that is not JSON: %v, want the function error SyntaxError", err)
	}
	if payload, err := invoke(t, s, `{}`); err != nil || string(payload) != `"fine"` {
		t.Fatalf("after the errors: %s %v, want \"fine\"", payload, err)
	}
}

// A panic is reported as the invocation's error and stops the loop, as the
// process must then be replaced.
func TestServeStopsAfterAPanic(t *testing.T) {
	s, done := serve(t, func(context.Context, []byte) ([]byte, error) { panic("lost") })
	var fe *runtimeapi.FunctionError
	if _, err := invoke(t, s, `{}`); !errors.As(err, &fe) || fe.Message != "lost" {
		t.Fatalf("a panicking handler: %v, want the function error lost", err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "panicked") {
			t.Fatalf("Serve returned %v, want the panic", err)
		}
	case <-time.After(hang):
		t.Fatal("Serve went on after a panic")
	}
}

// The loop's context is the invocation's: it ends at the deadline the
// Runtime API gives, and a handler that outlives it is timed out.
func TestServeDeadline(t *testing.T) {
	type seen struct {
		deadline, start time.Time
		ok              bool
		err             error
	}
	handled := make(chan seen, 1)
	s, _ := serve(t, func(ctx context.Context, _ []byte) ([]byte, error) {
		v := seen{start: time.Now()}
		v.deadline, v.ok = ctx.Deadline()
		select {
		case <-ctx.Done():
			v.err = ctx.Err()
		case <-time.After(hang):
			// A context that never ends: reported below.
		}
		handled <- v
		return []byte(`"` + fmt.Sprint(v.err) + `"`), nil
	}, runtimeapi.WithTimeout(300*time.Millisecond))
	start := time.Now()
	payload, err := invoke(t, s, `{}`)
	var fe *runtimeapi.FunctionError
	switch {
	case err == nil && string(payload) == `"context deadline exceeded"`:
	case errors.As(err, &fe) && fe.Type == "Sandbox.Timedout":
		// The server's timer and the handler's context end at the same
		// moment; either may be first.
	default:
		t.Fatalf("a handler waiting on its context: %s %v", payload, err)
	}
	// Whichever came first, the handler's context ended at the deadline:
	// 300 ms after the Runtime API delivered the invocation (between the
	// start of Invoke and the start of the handler), in whole
	// milliseconds as the header carries it.
	var v seen
	select {
	case v = <-handled:
	case <-time.After(2 * hang):
		t.Fatal("the handler never ran, or never returned")
	}
	if !v.ok || !errors.Is(v.err, context.DeadlineExceeded) {
		t.Fatalf("the handler's context: deadline %v (%v), ended with %v; want it to end at the deadline", v.deadline, v.ok, v.err)
	}
	if lo, hi := start.Add(300*time.Millisecond).Truncate(time.Millisecond), v.start.Add(300*time.Millisecond); v.deadline.Before(lo) || v.deadline.After(hi) {
		t.Fatalf("the handler's deadline %v, want 300 ms after delivery: within [%v, %v]", v.deadline, lo, hi)
	}
}

// A Runtime API that closes the connection after each answer costs the loop
// nothing: it dials again for the next request.
func TestServeReconnects(t *testing.T) {
	var dials, answered atomic.Int32
	mux := http.NewServeMux()
	invocations := make(chan string, 3)
	for i := range 3 {
		invocations <- fmt.Sprint(i)
	}
	close(invocations)
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		id, ok := <-invocations
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "no more")
			return
		}
		w.Header().Set("Connection", "close")
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req"+id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		_, _ = io.WriteString(w, `"`+id+`"`)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.PathValue("id") != "req"+strings.Trim(string(body), `"`) {
			t.Errorf("answer %s posted for %s", body, r.PathValue("id"))
		}
		answered.Add(1)
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusAccepted)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			dials.Add(1)
		}
	}}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	err = runtimeloop.Serve(context.Background(), ln.Addr().String(), func(_ context.Context, e []byte) ([]byte, error) { return e, nil })
	if err == nil || !strings.Contains(err.Error(), "status 500: no more") {
		t.Fatalf("Serve returned %v, want the Runtime API's refusal", err)
	}
	if answered.Load() != 3 || dials.Load() != 7 {
		t.Fatalf("%d answered over %d connections, want 3 over 7 (each request on its own)", answered.Load(), dials.Load())
	}
}
