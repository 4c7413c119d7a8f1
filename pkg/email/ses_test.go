package email

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/notices"
)

func TestSendRequest(t *testing.T) {
	f := &fakeSES{t: t, answer: always(http.StatusOK, "")}
	s := fakeSender(t, f, Config{ConfigurationSet: "transactional", Product: "Acme Portal"})
	n := invitation()
	n.InviterName = "Eve\r\nBcc: evil@x.com"
	id, err := s.Send(context.Background(), n)
	if err != nil || id != "fake-200" {
		t.Fatalf("Send: %q, %v", id, err)
	}
	want, _ := Render(n, "Acme Portal")
	b := f.Bodies()[0]
	if b.FromEmailAddress != `"Acme" <no-reply@acme.com>` || b.ConfigurationSetName != "transactional" {
		t.Errorf("from %q, configuration set %q", b.FromEmailAddress, b.ConfigurationSetName)
	}
	if d := b.Destination; len(d.ToAddresses) != 1 || d.ToAddresses[0] != n.To || d.CcAddresses != nil || d.BccAddresses != nil {
		t.Errorf("destination %+v, want only %s", d, n.To)
	}
	c := b.Content.Simple
	if c.Subject.Data != "Eve Bcc: evil@x.com invited you to Acme Portal" || strings.ContainsAny(c.Subject.Data, "\r\n") {
		t.Errorf("subject %q", c.Subject.Data)
	}
	if c.Body.Html.Data != want.HTML || c.Body.Text.Data != want.Text {
		t.Error("the bodies sent are not the rendered ones")
	}
	for part, cs := range map[string]string{"subject": c.Subject.Charset, "html": c.Body.Html.Charset, "text": c.Body.Text.Charset} {
		if cs != "UTF-8" {
			t.Errorf("%s charset %q, want UTF-8", part, cs)
		}
	}

	// Without a configuration set, none is sent.
	f = &fakeSES{t: t, answer: always(http.StatusOK, "")}
	if _, err := fakeSender(t, f, Config{}).Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if cs := f.Bodies()[0].ConfigurationSetName; cs != "" {
		t.Errorf("configuration set %q sent though none is configured", cs)
	}
}

func TestSendRetriesThrottling(t *testing.T) {
	for _, code := range []string{"TooManyRequestsException", "ThrottlingException"} {
		f := &fakeSES{t: t, answer: failFirst(2, http.StatusTooManyRequests, code)}
		s := fakeSender(t, f, Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		id, err := s.Send(ctx, invitation())
		cancel()
		if err != nil || id != "fake-200" {
			t.Errorf("%s twice: Send = %q, %v; want success after retrying", code, id, err)
		}
		if n := f.Calls(); n != 3 {
			t.Errorf("%s twice: %d calls, want 3", code, n)
		}
	}
}

func TestSendRetriesServerErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
	}{{500, "InternalServiceErrorException"}, {503, "ServiceUnavailable"}, {502, ""}} {
		answer := failFirst(2, tc.status, tc.code)
		if tc.code == "" {
			// A 502 from a proxy, without an error type.
			answer = func(n int) (int, string) {
				if n <= 2 {
					return tc.status, "Unknown"
				}
				return http.StatusOK, ""
			}
		}
		f := &fakeSES{t: t, answer: answer}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := fakeSender(t, f, Config{}).Send(ctx, notices.PasswordChanged{To: "a@x.com", At: expiresAt})
		cancel()
		if err != nil || f.Calls() != 3 {
			t.Errorf("%d %s twice: %v after %d calls", tc.status, tc.code, err, f.Calls())
		}
	}
}

// Under endless throttling, Send gives up before the caller's deadline
// (with time to spare) and says the failure is for now.
func TestSendGivesUpBeforeTheDeadline(t *testing.T) {
	f := &fakeSES{t: t, answer: always(http.StatusTooManyRequests, "TooManyRequestsException")}
	s := fakeSender(t, f, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_, err := s.Send(ctx, invitation())
	left := time.Until(deadline)
	if left <= 0 || ctx.Err() != nil {
		t.Errorf("Send returned %v after the deadline", -left)
	}
	e := apperr.As(err)
	if e.Kind != apperr.KindUnavailable || e.RetryAfter < time.Second {
		t.Errorf("Send: %v (kind %d, retry after %v), want unavailable with a retry-after", err, e.Kind, e.RetryAfter)
	}
	if n := f.Calls(); n < 3 {
		t.Errorf("%d calls in 2 s, want it to have retried", n)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("the error shows the token: %v", err)
	}
	t.Logf("gave up with %v left after %d calls: %v", left.Round(time.Millisecond), f.Calls(), err)
}

// A context without a deadline does not retry forever.
func TestSendWithoutDeadlineIsBounded(t *testing.T) {
	if noDeadlineBudget > 30*time.Second {
		t.Errorf("noDeadlineBudget %v: a request without a deadline would hang that long", noDeadlineBudget)
	}
	f := &fakeSES{t: t, answer: always(http.StatusTooManyRequests, "TooManyRequestsException")}
	s := fakeSender(t, f, Config{})
	if s.budget != noDeadlineBudget {
		t.Errorf("budget %v, want noDeadlineBudget", s.budget)
	}
	s.budget = time.Second
	began := time.Now()
	_, err := s.Send(context.Background(), notices.PasswordChanged{To: "a@x.com", At: expiresAt})
	if took := time.Since(began); took > s.budget || f.Calls() < 2 || apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("Send without a deadline: %v after %v", err, took)
	}
}

func TestSendPermanentErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		kind   apperr.Kind
		is     error
	}{
		{400, "MessageRejected", apperr.KindInvalid, ErrRejected},
		{400, "BadRequestException", apperr.KindInvalid, ErrRejected},
		{400, "MailFromDomainNotVerifiedException", apperr.KindInternal, nil},
		{400, "AccountSuspendedException", apperr.KindInternal, nil},
		{400, "SendingPausedException", apperr.KindInternal, nil},
		{404, "NotFoundException", apperr.KindInternal, nil},
		{403, "AccessDeniedException", apperr.KindInternal, nil},
	} {
		f := &fakeSES{t: t, answer: always(tc.status, tc.code)}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := fakeSender(t, f, Config{}).Send(ctx, notices.PasswordReset{To: "a@x.com", Link: testLink, ExpiresAt: expiresAt})
		cancel()
		if n := f.Calls(); n != 1 {
			t.Errorf("%s: %d calls, want 1 (no retry)", tc.code, n)
		}
		if k := apperr.KindOf(err); k != tc.kind || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: %v (kind %d), want kind %d", tc.code, err, k, tc.kind)
		}
		if err == nil || !strings.Contains(err.Error(), tc.code) || !strings.HasPrefix(err.Error(), "email: send ") && apperr.As(err).Err == nil {
			t.Errorf("%s: the error %v does not carry its cause", tc.code, err)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: the error shows the token: %v", tc.code, err)
		}
	}
}

// Over the daily quota, retrying within the request is pointless: the
// caller is told to come back later instead.
func TestSendQuota(t *testing.T) {
	f := &fakeSES{t: t, answer: always(400, "LimitExceededException")}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := fakeSender(t, f, Config{}).Send(ctx, notices.PasswordChanged{To: "a@x.com", At: expiresAt})
	if e := apperr.As(err); e.Kind != apperr.KindUnavailable || e.RetryAfter != quotaRetryAfter {
		t.Errorf("Send: %v, want unavailable for %v", err, quotaRetryAfter)
	}
	if n := f.Calls(); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestSendCanceled(t *testing.T) {
	f := &fakeSES{t: t, answer: always(http.StatusTooManyRequests, "TooManyRequestsException")}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	began := time.Now()
	_, err := fakeSender(t, f, Config{}).Send(ctx, notices.PasswordChanged{To: "a@x.com", At: expiresAt})
	if took := time.Since(began); took > time.Second || apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("Send on a canceled context: %v after %v", err, took)
	}
}

func TestRetryAfter(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{0: time.Second, 100 * time.Millisecond: time.Second, 1500 * time.Millisecond: 2 * time.Second, 2 * time.Second: 2 * time.Second} {
		if got := retryAfter(in); got != want {
			t.Errorf("retryAfter(%v) = %v, want %v", in, got, want)
		}
	}
}
