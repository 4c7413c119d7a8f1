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

// The pauses between tries: the first about firstPause, each about twice
// the one before, jittered within the upper half of the pause.
func checkPauses(t *testing.T, slept []time.Duration) {
	t.Helper()
	pause := firstPause
	for i, d := range slept {
		if d < pause/2 || d > pause {
			t.Errorf("pause %d is %v, want within [%v, %v]", i+1, d, pause/2, pause)
		}
		pause = min(2*pause, maxPause)
	}
}

// nextPause is the most the pause after these could have been.
func nextPause(slept []time.Duration) time.Duration {
	pause := firstPause
	for range slept {
		pause = min(2*pause, maxPause)
	}
	return pause
}

func TestSendRetriesThrottling(t *testing.T) {
	for _, code := range []string{"TooManyRequestsException", "ThrottlingException"} {
		f := &fakeSES{t: t, answer: failFirst(2, http.StatusTooManyRequests, code)}
		s, clock := fakeSenderClock(t, f, Config{})
		ctx, cancel := clock.context(10 * time.Second)
		id, err := s.Send(ctx, invitation())
		cancel()
		if err != nil || id != "fake-200" {
			t.Errorf("%s twice: Send = %q, %v; want success after retrying", code, id, err)
		}
		if n, slept := f.Calls(), clock.Slept(); n != 3 || len(slept) != 2 {
			t.Errorf("%s twice: %d calls after %d pauses, want 3 after 2", code, n, len(slept))
		}
		checkPauses(t, clock.Slept())
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
		s, clock := fakeSenderClock(t, f, Config{})
		ctx, cancel := clock.context(10 * time.Second)
		_, err := s.Send(ctx, notices.PasswordChanged{To: "a@x.com", At: expiresAt})
		cancel()
		if err != nil || f.Calls() != 3 || len(clock.Slept()) != 2 {
			t.Errorf("%d %s twice: %v after %d calls and %d pauses", tc.status, tc.code, err, f.Calls(), len(clock.Slept()))
		}
	}
}

// Under endless throttling, Send retries for as long as the caller's
// deadline allows, less a margin to answer in (500 ms, or a quarter of the
// time left when that is less), then says the failure is for now. (On the
// fake clock, which only the pauses move: a try takes no time.)
func TestSendGivesUpBeforeTheDeadline(t *testing.T) {
	for _, tc := range []struct{ budget, margin time.Duration }{{2 * time.Second, maxMargin}, {time.Second, time.Second / 4}} {
		f := &fakeSES{t: t, answer: always(http.StatusTooManyRequests, "TooManyRequestsException")}
		s, clock := fakeSenderClock(t, f, Config{})
		ctx, cancel := clock.context(tc.budget)
		deadline, _ := ctx.Deadline()
		_, err := s.Send(ctx, invitation())
		cancel()
		// Every try is bounded by the deadline less the margin.
		for i, d := range f.Deadlines() {
			if !d.Equal(deadline.Add(-tc.margin)) {
				t.Errorf("%v: try %d had until %v before the deadline, want %v", tc.budget, i+1, deadline.Sub(d), tc.margin)
			}
		}
		slept := clock.Slept()
		left := deadline.Sub(clock.Now())
		if left < tc.margin {
			t.Errorf("%v: Send gave up %v before the deadline, want at least %v to answer in", tc.budget, left, tc.margin)
		}
		if spare := left - tc.margin; spare >= nextPause(slept) {
			t.Errorf("%v: Send gave up with %v to spare, time for another pause (at most %v) and try", tc.budget, spare, nextPause(slept))
		}
		e := apperr.As(err)
		if e.Kind != apperr.KindUnavailable || e.RetryAfter < time.Second {
			t.Errorf("%v: Send: %v (kind %d, retry after %v), want unavailable with a retry-after", tc.budget, err, e.Kind, e.RetryAfter)
		}
		if n := f.Calls(); n < 3 || n != len(slept)+1 {
			t.Errorf("%v: %d calls after %d pauses, want it to have retried after each pause", tc.budget, n, len(slept))
		}
		checkPauses(t, slept)
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("the error shows the token: %v", err)
		}
		t.Logf("%v: gave up with %v left after %d calls: %v", tc.budget, left, f.Calls(), err)
	}
}

// A context without a deadline does not retry forever: noDeadlineBudget
// bounds it.
func TestSendWithoutDeadlineIsBounded(t *testing.T) {
	if noDeadlineBudget > 30*time.Second {
		t.Errorf("noDeadlineBudget %v: a request without a deadline would hang that long", noDeadlineBudget)
	}
	f := &fakeSES{t: t, answer: always(http.StatusTooManyRequests, "TooManyRequestsException")}
	s, clock := fakeSenderClock(t, f, Config{})
	if s.budget != noDeadlineBudget {
		t.Errorf("budget %v, want noDeadlineBudget", s.budget)
	}
	began := clock.Now()
	_, err := s.Send(context.Background(), notices.PasswordChanged{To: "a@x.com", At: expiresAt})
	took := clock.Now().Sub(began)
	if took > s.budget || s.budget-took >= nextPause(clock.Slept()) || f.Calls() < 2 || apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("Send without a deadline: %v after %v and %d calls, want unavailable once the budget of %v is spent", err, took, f.Calls(), s.budget)
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

// A caller that gives up (its context canceled) ends Send at once, during
// a pause or during a try, with no further try.
func TestSendCanceled(t *testing.T) {
	t.Run("during a pause", func(t *testing.T) {
		f := &fakeSES{t: t, answer: always(http.StatusTooManyRequests, "TooManyRequestsException")}
		s, clock := fakeSenderClock(t, f, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clock.onSleep = func(n int) {
			if n == 2 {
				cancel()
			}
		}
		_, err := s.Send(ctx, notices.PasswordChanged{To: "a@x.com", At: expiresAt})
		if apperr.KindOf(err) != apperr.KindUnavailable || f.Calls() != 2 {
			t.Errorf("Send canceled in its second pause: %v after %d calls, want unavailable after 2", err, f.Calls())
		}
	})
	t.Run("during a try", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := &fakeSES{t: t, answer: func(n int) (int, string) {
			if n == 2 {
				cancel()
			}
			return http.StatusTooManyRequests, "TooManyRequestsException"
		}}
		s, _ := fakeSenderClock(t, f, Config{})
		_, err := s.Send(ctx, notices.PasswordChanged{To: "a@x.com", At: expiresAt})
		if apperr.KindOf(err) != apperr.KindUnavailable || f.Calls() != 2 {
			t.Errorf("Send canceled in its second try: %v after %d calls, want unavailable after 2", err, f.Calls())
		}
	})
}

func TestRetryAfter(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{0: time.Second, 100 * time.Millisecond: time.Second, 1500 * time.Millisecond: 2 * time.Second, 2 * time.Second: 2 * time.Second} {
		if got := retryAfter(in); got != want {
			t.Errorf("retryAfter(%v) = %v, want %v", in, got, want)
		}
	}
}
