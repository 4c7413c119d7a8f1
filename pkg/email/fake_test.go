package email

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// fakeSES stands in for SES's HTTP endpoint. answer returns the status and
// the error code (X-Amzn-ErrorType, "" for success) of the n-th call,
// counting from 1; a nil answer fails the test at the first call, to prove
// that nothing reached SES.
type fakeSES struct {
	t      *testing.T
	answer func(n int) (status int, code string)

	mu     sync.Mutex
	calls  int
	bodies []sendEmailBody
	// deadlines are the deadlines of the calls' contexts (zero for none).
	deadlines []time.Time
}

// sendEmailBody is the part of SendEmail's JSON request the tests look at.
type sendEmailBody struct {
	FromEmailAddress     string
	ConfigurationSetName string
	Destination          struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Content              struct {
		Simple struct {
			Subject struct{ Data, Charset string }
			Body    struct {
				Html, Text struct{ Data, Charset string }
			}
		}
	}
}

func (f *fakeSES) Do(r *http.Request) (*http.Response, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls++
	n := f.calls
	var b sendEmailBody
	if err := json.Unmarshal(raw, &b); err != nil {
		f.t.Errorf("request body: %v: %s", err, raw)
	}
	f.bodies = append(f.bodies, b)
	dl, _ := r.Context().Deadline()
	f.deadlines = append(f.deadlines, dl)
	f.mu.Unlock()
	if f.answer == nil {
		f.t.Errorf("SES was called (%s %s) though the message should have been refused first", r.Method, r.URL.Path)
		return respond(r, http.StatusInternalServerError, "InternalServiceErrorException"), nil
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
		f.t.Errorf("request %s %s, want POST /v2/email/outbound-emails", r.Method, r.URL.Path)
	}
	status, code := f.answer(n)
	return respond(r, status, code), nil
}

func respond(r *http.Request, status int, code string) *http.Response {
	body := `{"MessageId":"fake-` + strconv.Itoa(status) + `"}`
	h := http.Header{"Content-Type": {"application/json"}, "X-Amzn-Requestid": {"req-1"}}
	if code != "" {
		body = `{"message":"` + code + ` from the fake"}`
		h.Set("X-Amzn-ErrorType", code)
	}
	return &http.Response{
		StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Header: h, Body: io.NopCloser(bytes.NewReader([]byte(body))), ContentLength: int64(len(body)),
		Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
}

func (f *fakeSES) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeSES) Deadlines() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.deadlines...)
}

func (f *fakeSES) Bodies() []sendEmailBody {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendEmailBody(nil), f.bodies...)
}

// fakeClient is a client built as NewClient builds it (the same retryer),
// talking to f.
func fakeClient(f *fakeSES) *sesv2.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("id", "secret", "")}
	return newClient(cfg, "https://email.test", func(o *sesv2.Options) { o.HTTPClient = f })
}

func fakeSender(t *testing.T, f *fakeSES, cfg Config) *SES {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Acme <no-reply@acme.com>"
	}
	s, err := NewSES(fakeClient(f), cfg)
	if err != nil {
		t.Fatalf("NewSES: %v", err)
	}
	return s
}

// fakeSenderClock is fakeSender on a fakeClock.
func fakeSenderClock(t *testing.T, f *fakeSES, cfg Config) (*SES, *fakeClock) {
	t.Helper()
	s := fakeSender(t, f, cfg)
	c := newFakeClock()
	s.Now, s.Sleep = c.Now, c.Sleep
	return s, c
}

// fakeClock is a sender's clock that moves only when the sender pauses,
// at once, so that its retries take no time. It starts an hour ahead of
// the real clock: a deadline set on it (context) is then an hour away for
// the real one, which no test waits for.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
	// onSleep, if set, is called before the n-th pause (counting from 1),
	// before the pause looks at its context.
	onSleep func(n int)
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().Add(time.Hour)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	n, hook := len(c.slept)+1, c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

// Slept returns the pauses taken so far.
func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// context returns a context whose deadline is d ahead on the clock.
func (c *fakeClock) context(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), c.Now().Add(d))
}

// always answers every call the same.
func always(status int, code string) func(int) (int, string) {
	return func(int) (int, string) { return status, code }
}

// failFirst answers the first n calls with status and code, then succeeds.
func failFirst(n, status int, code string) func(int) (int, string) {
	return func(call int) (int, string) {
		if call <= n {
			return status, code
		}
		return http.StatusOK, ""
	}
}
