package email

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/retry"
)

// Config is what the sender needs besides its client.
type Config struct {
	// From is the sender: "no-reply@acme.com" or "Acme <no-reply@acme.com>";
	// SES must have verified its address or domain.
	From string
	// ConfigurationSet is the SES configuration set every mail is sent
	// with (event publishing, a dedicated IP pool); "" for none.
	ConfigurationSet string
	// Product names the product in subjects and footers; "" means
	// DefaultProduct.
	Product string
}

// SES sends notices through Amazon SES v2. It implements notices.Sender.
type SES struct {
	client    *sesv2.Client
	from      string
	configSet string
	product   string
	// budget bounds the retries under a context without a deadline.
	budget time.Duration

	// Now and Sleep are the clock Send's retries read and wait on: nil
	// means time.Now and retry.Sleep. Tests set a clock that moves only
	// when Sleep is called, to retry without waiting.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ notices.Sender = (*SES)(nil)

// NewSES returns a sender on client. It refuses a configuration that could
// put a line break into a header (From, Product) or that is not one address
// (From), so that a bad deployment fails at start, not at the first mail.
func NewSES(client *sesv2.Client, cfg Config) (*SES, error) {
	if client == nil {
		return nil, errors.New("email: no SES client")
	}
	// Checked before any trimming: a trailing line break is a sign of a
	// value built wrongly, not white space to forgive.
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	if hasControl(cfg.Product) {
		return nil, fmt.Errorf("email: product %q: %w", cfg.Product, ErrBadHeader)
	}
	product := strings.TrimSpace(cfg.Product)
	if product == "" {
		product = DefaultProduct
	}
	if cs := cfg.ConfigurationSet; cs != "" && !validConfigSet(cs) {
		return nil, fmt.Errorf("email: configuration set %q: only letters, digits, - and _, at most 64", cs)
	}
	return &SES{client: client, from: from, configSet: cfg.ConfigurationSet, product: product, budget: noDeadlineBudget}, nil
}

// validConfigSet is SES's rule for configuration set names.
func validConfigSet(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Send renders n, checks its headers and sends it, retrying throttling and
// SES's own failures for as long as ctx's deadline allows. It returns SES's
// message id. A message refused before sending (ErrBadAddress,
// ErrBadHeader) or by SES for good (ErrRejected) is of kind Invalid; one
// still throttled or failing when time runs out, or over the account's
// sending quota, is of kind Unavailable; anything else (the sender not
// verified, the account suspended) is internal, for an operator to fix.
// Errors never include the notice's link: it carries a token.
func (s *SES) Send(ctx context.Context, n notices.Notice) (string, error) {
	msg, err := Render(n, s.product)
	if err != nil {
		return "", err
	}
	return s.deliver(ctx, strings.TrimPrefix(fmt.Sprintf("%T", n), "*"), msg)
}

// deliver checks a rendered message's headers, then sends it; what names
// the notice in errors.
func (s *SES) deliver(ctx context.Context, what string, m Message) (string, error) {
	if err := checkMessage(m); err != nil {
		return "", err
	}
	return s.send(ctx, what, s.input(m))
}

// charset is the charset of every part: SES then encodes the subject and the
// bodies for SMTP itself.
var charset = aws.String("UTF-8")

func (s *SES) input(m Message) *sesv2.SendEmailInput {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: charset},
			Body: &types.Body{
				Html: &types.Content{Data: aws.String(m.HTML), Charset: charset},
				Text: &types.Content{Data: aws.String(m.Text), Charset: charset},
			},
		}},
	}
	if s.configSet != "" {
		in.ConfigurationSetName = aws.String(s.configSet)
	}
	return in
}

// The retry policy of Send.
const (
	// maxMargin is the time Send leaves its caller before ctx's deadline
	// to answer once it gives up (a quarter of what remains when that is
	// less): a Lambda function that runs into its deadline is killed, and
	// its caller learns nothing.
	maxMargin = 500 * time.Millisecond
	// noDeadlineBudget bounds the retries under a context without one.
	noDeadlineBudget = 10 * time.Second
	// firstPause and maxPause bound the exponential backoff. SES's sending
	// rate is per second, so pauses beyond a couple of seconds only waste
	// the request's time.
	firstPause = 100 * time.Millisecond
	maxPause   = 2 * time.Second
	// quotaRetryAfter is what a caller is told to wait once the account's
	// sending quota is spent: retrying within the request cannot help.
	quotaRetryAfter = time.Minute
)

// send calls SendEmail until it succeeds, fails for good, or the next try
// would not end before the deadline less the margin. Each pause is the
// backoff with jitter, so that senders throttled together do not come back
// together. A try that timed out may have been delivered: a retry can then
// send the mail twice, which is better for these notices than never.
func (s *SES) send(ctx context.Context, what string, in *sesv2.SendEmailInput) (string, error) {
	now, sleep := s.Now, s.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = retry.Sleep
	}
	start := now()
	stop := start.Add(s.budget)
	if d, ok := ctx.Deadline(); ok {
		stop = d.Add(-min(maxMargin, d.Sub(start)/4))
	}
	tries, cancel := context.WithDeadline(ctx, stop)
	defer cancel()
	pause := firstPause
	for attempt := 1; ; attempt++ {
		began := now()
		out, err := s.client.SendEmail(tries, in)
		if err == nil {
			return aws.ToString(out.MessageId), nil
		}
		giveUp := func() (string, error) {
			return "", apperr.Unavailable(fmt.Errorf("email: send %s: gave up after %d attempts: %w", what, attempt, err), retryAfter(pause))
		}
		// Out of time (or canceled by the caller), whatever the error says.
		if tries.Err() != nil {
			return giveUp()
		}
		if !transient(err) {
			return "", permanent(what, err)
		}
		// The next try must fit before stop: the pause, then as long as
		// this try took.
		wait := pause/2 + rand.N(pause/2+1)
		if t := now(); t.Add(wait + t.Sub(began)).After(stop) {
			return giveUp()
		}
		if sleep(tries, wait) != nil {
			return giveUp()
		}
		pause = min(2*pause, maxPause)
	}
}

// retryAfter is the pause a caller should take, in whole seconds (what
// Retry-After carries), at least one.
func retryAfter(pause time.Duration) time.Duration {
	return max(time.Second, (pause+time.Second-1)/time.Second*time.Second)
}

// transientCodes are error codes of SES (or of AWS's front end, which does
// not always use SES's modeled types) that pass.
var transientCodes = map[string]bool{
	"TooManyRequestsException":      true,
	"Throttling":                    true,
	"ThrottlingException":           true,
	"InternalServiceErrorException": true,
	"InternalFailure":               true,
	"ServiceUnavailable":            true,
	"RequestTimeout":                true,
	"RequestTimeoutException":       true,
}

// transient reports an error that may pass: throttling, SES failing (5xx),
// a timeout, a connection that broke.
func transient(err error) bool {
	var (
		tooMany  *types.TooManyRequestsException
		internal *types.InternalServiceErrorException
		resp     *awshttp.ResponseError
		api      smithy.APIError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &tooMany), errors.As(err, &internal):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &resp) && (resp.HTTPStatusCode() >= 500 || resp.HTTPStatusCode() == 429):
		return true
	case errors.As(err, &api):
		// An answer from SES: only the codes above pass.
		return transientCodes[api.ErrorCode()]
	case errors.As(err, &netErr) && netErr.Timeout():
		return true
	}
	return awsretry.RetryableConnectionError{}.IsErrorRetryable(err) == aws.TrueTernary
}

// permanent translates an error that retrying now cannot fix.
func permanent(what string, err error) error {
	var (
		rejected *types.MessageRejected
		bad      *types.BadRequestException
		quota    *types.LimitExceededException
	)
	switch {
	case errors.As(err, &quota):
		// SendEmail's rate limit is TooManyRequestsException; what
		// LimitExceededException leaves (SES documents it only as "too
		// many instances of the resource") is a quota, the daily one: it
		// passes, but not within a request.
		return apperr.Unavailable(fmt.Errorf("email: send %s: sending quota reached: %w", what, err), quotaRetryAfter)
	case errors.As(err, &rejected), errors.As(err, &bad):
		// MessageRejected is about the content; BadRequest, once our own
		// checks passed, about an address SES will not send to.
		return fmt.Errorf("email: send %s: %w: %w", what, ErrRejected, err)
	default:
		// MailFromDomainNotVerifiedException, AccountSuspendedException,
		// SendingPausedException, NotFoundException (the configuration
		// set), a response that does not parse: an operator's to fix.
		return fmt.Errorf("email: send %s: %w", what, err)
	}
}
