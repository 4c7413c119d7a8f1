// Package runtimeloop is the function side of the AWS Lambda Runtime API:
// the loop that takes each invocation (GET .../invocation/next) and posts
// its answer (.../response) or its error (.../error), as aws-lambda-go's
// lambda.Start does.
//
// It exists for the CPU an invocation costs, which on Lambda is latency and
// the bill. aws-lambda-go sends both requests through net/http's Transport,
// whose reader and writer goroutines hand every request and response
// between them, and posts each answer chunked, with trailers; that was
// about 0.2 ms of CPU per invocation here, most of what a request that
// reads nothing costs. This loop keeps one HTTP/1.1 connection, writes each
// request on the calling goroutine with its Content-Length, and reads the
// answer there.
//
// What it keeps of aws-lambda-go's loop: the invocation's deadline on the
// context; lambdacontext's request id and function ARN; the X-Ray trace id
// in _X_AMZN_TRACE_ID (which the AWS SDK forwards on its calls); an error
// reported with its type's name, as aws-lambda-go names it; a panic
// reported and the process stopped. What it leaves out, as nothing behind
// an HTTP API or a schedule sends them: the Cognito identity and client
// context of mobile invocations, and response streaming.
package runtimeloop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Handler answers one invocation's event with its response payload.
type Handler func(ctx context.Context, event []byte) ([]byte, error)

// JSON is the Handler of a function of typed input and output: the event
// decoded into In, the result encoded as JSON without HTML escaping (as
// aws-lambda-go encodes it).
func JSON[In, Out any](h func(context.Context, In) (Out, error)) Handler {
	return func(ctx context.Context, event []byte) ([]byte, error) {
		var in In
		if err := json.Unmarshal(event, &in); err != nil {
			return nil, err
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
	}
}

// Start serves h as a Lambda function: it takes invocations from the
// Runtime API named by AWS_LAMBDA_RUNTIME_API, one loop per invocation the
// function may run at once (AWS_LAMBDA_MAX_CONCURRENCY, 1 on standard
// Lambda). It never returns: the process stops when the Runtime API fails
// or the handler panics, and Lambda starts another.
func Start(h Handler) {
	addr := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if addr == "" {
		log.Fatal("runtimeloop: AWS_LAMBDA_RUNTIME_API is not set: this is a Lambda function's bootstrap, to be run by Lambda or against a local Runtime API (scripts/invoke)")
	}
	loops := max(1, lambdacontext.MaxConcurrency())
	errs := make(chan error, loops)
	for range loops {
		go func() { errs <- Serve(context.Background(), addr, h) }()
	}
	log.Fatal(<-errs)
}

// Serve runs one loop against the Runtime API at addr (host:port) until it
// fails or h panics; it always returns an error.
func Serve(base context.Context, addr string, h Handler) error {
	c := &client{addr: addr}
	for {
		inv, err := c.next()
		if err != nil {
			return err
		}
		out, failure, panicked := inv.call(base, h)
		if failure != nil {
			err = c.fail(inv.id, failure)
		} else {
			err = c.post(inv.id+"/response", "", out)
		}
		if err != nil {
			return err
		}
		if panicked {
			return fmt.Errorf("runtimeloop: the handler panicked: %s", failure.Message)
		}
	}
}

// invocation is what the Runtime API says of one invocation.
type invocation struct {
	id, arn, trace string
	deadline       time.Time
	event          []byte
}

// failure is an invocation's error, as the Runtime API takes it.
type failure struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// call runs h on the invocation, turning an error or a panic into its
// failure.
func (inv *invocation) call(base context.Context, h Handler) (out []byte, f *failure, panicked bool) {
	if inv.deadline.IsZero() {
		return nil, &failure{Message: "runtimeloop: the invocation has no deadline", Type: "Runtime.InvalidDeadline"}, false
	}
	ctx, cancel := context.WithDeadline(base, inv.deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: inv.id, InvokedFunctionArn: inv.arn})
	if lambdacontext.MaxConcurrency() <= 1 {
		_ = os.Setenv("_X_AMZN_TRACE_ID", inv.trace)
	}
	defer func() {
		if v := recover(); v != nil {
			log.Printf("runtimeloop: panic: %v\n%s", v, debug.Stack())
			out, f, panicked = nil, &failure{Message: fmt.Sprint(v), Type: typeName(v)}, true
		}
	}()
	out, err := h(ctx, inv.event)
	if err != nil {
		return nil, &failure{Message: err.Error(), Type: typeName(err)}, false
	}
	return out, nil, false
}

// typeName names an error as aws-lambda-go does: its type's name, without
// the pointer.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// client is one keep-alive HTTP/1.1 connection to the Runtime API.
type client struct {
	addr  string
	nc    net.Conn
	r     *bufio.Reader
	out   []byte // the request being sent, head and body: one write
	event bytes.Buffer
}

const apiPath = "/2018-06-01/runtime/invocation/"

// next waits for the next invocation. Its event is valid until next is
// called again.
func (c *client) next() (*invocation, error) {
	res, err := c.do("GET", apiPath+"next", "", nil)
	if err != nil {
		return nil, fmt.Errorf("runtimeloop: next invocation: %w", err)
	}
	c.event.Reset()
	_, err = c.event.ReadFrom(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.drop()
		return nil, fmt.Errorf("runtimeloop: next invocation: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("runtimeloop: next invocation: status %d: %s", res.StatusCode, bytes.TrimSpace(c.event.Bytes()))
	}
	inv := &invocation{
		id:    res.Header.Get("Lambda-Runtime-Aws-Request-Id"),
		arn:   res.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
		trace: res.Header.Get("Lambda-Runtime-Trace-Id"),
		event: c.event.Bytes(),
	}
	if inv.id == "" {
		return nil, errors.New("runtimeloop: next invocation: no Lambda-Runtime-Aws-Request-Id")
	}
	if ms, err := strconv.ParseInt(res.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err == nil {
		inv.deadline = time.UnixMilli(ms)
	}
	return inv, nil
}

// fail reports an invocation's failure.
func (c *client) fail(id string, f *failure) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return c.post(id+"/error", f.Type, body)
}

// post sends an invocation's response or error, which the Runtime API
// accepts with 202.
func (c *client) post(path, errorType string, body []byte) error {
	res, err := c.do("POST", apiPath+path, errorType, body)
	if err != nil {
		return fmt.Errorf("runtimeloop: post %s: %w", path, err)
	}
	msg, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.drop()
		return fmt.Errorf("runtimeloop: post %s: %w", path, err)
	}
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtimeloop: post %s: status %d: %s", path, res.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// do sends one request and reads its answer's head. A kept connection that
// fails is replaced and the request sent once more: the Runtime API reads
// nothing of a request it has not wholly received.
func (c *client) do(method, path, errorType string, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		kept := c.nc != nil
		if !kept {
			nc, err := net.Dial("tcp", c.addr)
			if err != nil {
				return nil, err
			}
			c.nc, c.r = nc, bufio.NewReaderSize(nc, 64<<10)
		}
		res, err := c.roundTrip(method, path, errorType, body)
		if err == nil {
			return res, nil
		}
		c.drop()
		if !kept || attempt > 0 {
			return nil, err
		}
	}
}

func (c *client) roundTrip(method, path, errorType string, body []byte) (*http.Response, error) {
	b := append(c.out[:0], method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.addr...)
	b = append(b, "\r\nUser-Agent: ums-runtimeloop\r\n"...)
	if method == "POST" {
		b = append(b, "Content-Type: application/json\r\n"...)
		if errorType != "" {
			b = append(b, "Lambda-Runtime-Function-Error-Type: "...)
			b = append(b, headerSafe(errorType)...)
			b = append(b, "\r\n"...)
		}
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, body...)
	c.out = b
	if _, err := c.nc.Write(b); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return nil, err
	}
	if res.Close {
		// The server closes the connection after this answer: the body
		// is read to its end before the next request dials again.
		res.Body = &closing{ReadCloser: res.Body, c: c}
	}
	return res, nil
}

// closing drops the connection once its answer's body is closed.
type closing struct {
	io.ReadCloser
	c *client
}

func (b *closing) Close() error {
	err := b.ReadCloser.Close()
	b.c.drop()
	return err
}

func (c *client) drop() {
	if c.nc != nil {
		_ = c.nc.Close()
		c.nc = nil
	}
}

// headerSafe is s without the bytes a header value cannot hold.
func headerSafe(s string) string {
	return string(bytes.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, []byte(s)))
}
