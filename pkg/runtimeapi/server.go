package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime API headers and paths, as documented at
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html.
const (
	prefix = "/2018-06-01/runtime"

	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	// aws-lambda-go reports an error met while streaming a response body in
	// these trailers rather than on the error endpoint.
	trailerErrorType = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody = "Lambda-Runtime-Function-Error-Body"
)

// maxPayload is Lambda's limit on a synchronous invocation's event and
// response, kept so that a function that would fail in AWS fails here too.
const maxPayload = 6 << 20

// ErrClosed is returned by Invoke once the server is closed.
var ErrClosed = errors.New("runtimeapi: server closed")

// FunctionError is a failed invocation as the function, or Lambda on its
// behalf, reported it.
type FunctionError struct {
	// Init is true for an error posted to /runtime/init/error: the function
	// failed before it could take any invocation.
	Init bool
	// Type and Message are errorType and errorMessage from the payload, e.g.
	// "errorString" and "boom", or "Sandbox.Timedout" for a timeout.
	Type    string
	Message string
	// Payload is the error document as posted.
	Payload []byte
}

func (e *FunctionError) Error() string {
	what := "function error"
	if e.Init {
		what = "function init error"
	}
	msg := e.Message
	if msg == "" {
		msg = string(e.Payload)
	}
	if e.Type == "" {
		return fmt.Sprintf("runtimeapi: %s: %s", what, msg)
	}
	return fmt.Sprintf("runtimeapi: %s: %s: %s", what, e.Type, msg)
}

// Option configures a Server.
type Option func(*Server)

// WithFunctionName sets the name in the invoked function ARN. The default is
// "function".
func WithFunctionName(name string) Option {
	return func(s *Server) { s.functionName = name }
}

// WithTimeout sets the function's timeout: each invocation's deadline is this
// long after the function receives it. The default is 30 s, API Gateway's
// limit.
func WithTimeout(d time.Duration) Option {
	return func(s *Server) { s.timeout = d }
}

// Server is a Runtime API for one function process, listening on 127.0.0.1.
type Server struct {
	functionName string
	timeout      time.Duration

	ln  net.Listener
	srv *http.Server

	// queue hands an invocation from Invoke to a waiting /next. Unbuffered:
	// an event is taken only by a runtime that asked for it, so an Invoke
	// given up before then leaves nothing behind.
	queue chan *invocation

	mu       sync.Mutex
	running  map[string]*invocation // delivered, not yet answered
	initErr  *FunctionError
	initFail chan struct{} // closed once initErr is set

	closeOnce sync.Once
	closed    chan struct{}

	// invokes and nexts count the Invoke calls waiting for the function to
	// take their event and the /next requests waiting for one (Waiting).
	invokes, nexts atomic.Int32
}

type invocation struct {
	id       string
	event    []byte
	started  time.Time     // when /next delivered it; set before taken is closed
	deadline time.Time     // set before taken is closed
	limit    time.Time     // the Invoke context's deadline, if any
	taken    chan struct{} // closed by /next once deadline is set
	result   chan result   // buffered: the answer never waits for Invoke
}

type result struct {
	payload []byte
	err     error
}

// New starts a Runtime API on a free port of 127.0.0.1.
func New(opts ...Option) (*Server, error) {
	s := &Server{
		functionName: "function",
		timeout:      30 * time.Second,
		queue:        make(chan *invocation),
		running:      map[string]*invocation{},
		initFail:     make(chan struct{}),
		closed:       make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", s.handleNext)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", s.handleResponse)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", s.handleError)
	mux.HandleFunc("POST "+prefix+"/init/error", s.handleInitError)
	s.ln = ln
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Waiting reports how many Invoke calls are waiting for the function to ask
// for their event, and how many /next requests are waiting for an event, so
// that a test can act once one is waiting instead of sleeping.
func (s *Server) Waiting() (invokes, nexts int) {
	return int(s.invokes.Load()), int(s.nexts.Load())
}

// Addr is the host:port to give the function as AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Invoke queues event for the function and waits for its answer. It waits for
// as long as ctx allows for the function to ask for the event (a cold start
// included); once it has, the function has until its deadline (the timeout,
// or ctx's deadline if sooner) to answer.
//
// It returns the response payload, or a *FunctionError if the function
// reported an error, failed its init, or timed out ("Sandbox.Timedout"),
// ErrClosed if the server is closed, or ctx's error.
func (s *Server) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	if len(event) > maxPayload {
		return nil, fmt.Errorf("runtimeapi: event is %d bytes, over Lambda's %d-byte limit", len(event), maxPayload)
	}
	if err := s.initFailure(); err != nil {
		return nil, err
	}
	inv := &invocation{
		id:     newRequestID(),
		event:  event,
		taken:  make(chan struct{}),
		result: make(chan result, 1),
	}
	inv.limit, _ = ctx.Deadline()
	s.invokes.Add(1)
	err := func() error {
		defer s.invokes.Add(-1)
		select {
		case s.queue <- inv:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("runtimeapi: the function did not ask for the invocation: %w", context.Cause(ctx))
		case <-s.initFail:
			return s.initFailure()
		case <-s.closed:
			return ErrClosed
		}
	}()
	if err != nil {
		return nil, err
	}
	<-inv.taken
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r := <-inv.result:
		return r.payload, r.err
	case <-timer.C:
		// A late answer then gets a 400, which makes the function's loop exit, much
		// as Lambda would stop a function that ran out of time.
		s.forget(inv.id)
		return nil, &FunctionError{
			Type:    "Sandbox.Timedout",
			Message: fmt.Sprintf("Task timed out after %.2f seconds", inv.deadline.Sub(inv.started).Seconds()),
		}
	case <-ctx.Done():
		s.forget(inv.id)
		return nil, fmt.Errorf("runtimeapi: invocation %s: %w", inv.id, context.Cause(ctx))
	case <-s.closed:
		return nil, ErrClosed
	}
}

// Close stops the server. Pending Invoke calls return ErrClosed, and a
// function waiting for its next invocation gets an error.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		err = s.srv.Close()
	})
	return err
}

func (s *Server) initFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initErr == nil {
		return nil // a typed nil would not compare equal to nil
	}
	return s.initErr
}

func (s *Server) forget(id string) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
}

// handleNext hands the function the next event, waiting until there is one.
func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	s.nexts.Add(1)
	defer s.nexts.Add(-1)
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	case <-s.closed:
		writeStatus(w, http.StatusInternalServerError, "ServiceException", "runtime API closed")
		return
	}
	inv.started = time.Now()
	inv.deadline = inv.started.Add(s.timeout)
	if !inv.limit.IsZero() && inv.limit.Before(inv.deadline) {
		inv.deadline = inv.limit
	}
	s.mu.Lock()
	s.running[inv.id] = inv
	s.mu.Unlock()
	close(inv.taken)

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, "arn:aws:lambda:us-east-1:000000000000:function:"+s.functionName)
	h.Set(headerTraceID, newTraceID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.event)
}

// handleResponse takes the function's answer to one invocation.
func (s *Server) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		fe := &FunctionError{Type: "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("response is over Lambda's %d-byte limit", maxPayload)}
		if s.complete(r.PathValue("id"), result{err: fe}) {
			writeStatus(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fe.Message)
		} else {
			writeStatus(w, http.StatusBadRequest, "InvalidRequestID", "unknown or already answered request id")
		}
		return
	case err != nil:
		writeStatus(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	res := result{payload: body}
	// Trailers are read with the body: they say the body was cut short by
	// an error while streaming it.
	if typ := r.Trailer.Get(trailerErrorType); typ != "" {
		payload, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		fe := parseError(payload)
		if fe.Type == "" {
			fe.Type = typ
		}
		res = result{err: fe}
	}
	s.answer(w, r.PathValue("id"), res)
}

// handleError takes the function's error for one invocation.
func (s *Server) handleError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	fe := parseError(body)
	if typ := r.Header.Get(headerErrorType); typ != "" {
		fe.Type = typ
	}
	s.answer(w, r.PathValue("id"), result{err: fe})
}

// handleInitError takes an error the function met before its first
// invocation. The process exits after posting it, so every invocation, pending
// or to come, fails with it.
func (s *Server) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	fe := parseError(body)
	fe.Init = true
	if typ := r.Header.Get(headerErrorType); typ != "" {
		fe.Type = typ
	}
	s.mu.Lock()
	if s.initErr != nil {
		s.mu.Unlock()
		writeStatus(w, http.StatusForbidden, "InvalidStateTransition", "init error already reported")
		return
	}
	s.initErr = fe
	running := s.running
	s.running = map[string]*invocation{}
	s.mu.Unlock()
	close(s.initFail)
	for _, inv := range running {
		inv.result <- result{err: fe}
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// answer completes an invocation and tells the function whether that worked.
func (s *Server) answer(w http.ResponseWriter, id string, res result) {
	if !s.complete(id, res) {
		writeStatus(w, http.StatusBadRequest, "InvalidRequestID", "unknown or already answered request id "+id)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// complete delivers res to the Invoke waiting on id; it reports false if no
// invocation with that id is running.
func (s *Server) complete(id string, res result) bool {
	s.mu.Lock()
	inv, ok := s.running[id]
	delete(s.running, id)
	s.mu.Unlock()
	if ok {
		inv.result <- res
	}
	return ok
}

// parseError reads Lambda's error document, {"errorMessage": ..., "errorType":
// ...}; a payload in another shape is kept whole in Payload.
func parseError(payload []byte) *FunctionError {
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	_ = json.Unmarshal(payload, &doc)
	return &FunctionError{Type: doc.Type, Message: doc.Message, Payload: payload}
}

func writeStatus(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

// newRequestID returns a random UUID, the shape of Lambda's request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID returns an X-Ray trace header, not sampled.
func newTraceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), h[:24], h[24:40])
}
