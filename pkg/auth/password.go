package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/outbox"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// Reset is a user's password-reset link: one per user, so that a newer
// link voids the older one. Its token is "umr_<user id>.<secret>", 256
// random bits stored only as a hash: the token names the user, and one
// read checks it.
type Reset struct {
	UserID    string
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
	// ByAdmin is set when an admin or a manager made it.
	ByAdmin bool
	// Gen is the user's session generation it was made under: it is saved
	// only if the user is still active at that generation.
	Gen int
}

// ResetPrefix starts every reset token, so that secret scanners spot one.
const ResetPrefix = "umr_"

func newResetToken(userID string) (token, hash string) {
	secret := ids.Secret()
	return ResetPrefix + userID + "." + secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// parseResetToken returns the user a token names and its secret's hash.
func parseResetToken(token string) (userID, hash string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), ResetPrefix)
	if !ok {
		return "", "", false
	}
	userID, secret, ok := strings.Cut(rest, ".")
	if !ok || !ids.Valid("usr", userID) || len(secret) != 43 {
		return "", "", false
	}
	return userID, hashSecret(secret), true
}

// matches reports, in constant time, whether hash is the reset's.
func (r *Reset) matches(hash string) bool {
	return r != nil && r.TokenHash != "" && subtle.ConstantTimeCompare([]byte(r.TokenHash), []byte(hash)) == 1
}

// Limits of forgotten-password mails: per account, ForgotPerAccount in
// ForgotWindow; per source IP, ForgotPerIP in the IP window. Past them the
// answer is the same, and nothing is sent.
const (
	ForgotPerAccount = 3
	ForgotWindow     = time.Hour
	ForgotPerIP      = 20
)

// ForgotFloor is the least time a forgotten-password request takes, known
// email or not: the mail to a known one is sent within it, so the answer's
// timing says nothing about whether the account exists.
const ForgotFloor = 300 * time.Millisecond

// Errors of resets.
var (
	ErrResetInvalid = apperr.Invalid("token_invalid", "This link is not valid: it was used or replaced by a newer one.")
	ErrResetExpired = apperr.New(apperr.KindGone, "token_expired", "This link has expired: ask for a new one.")
	// ErrResetUsed reports, from the store, that the reset changed since it
	// was read: used, or replaced.
	ErrResetUsed = errors.New("auth: the reset changed since it was read")
)

// ResetLookup is what using a reset token reads first, in one round trip.
type ResetLookup struct {
	User       *users.User
	Reset      *Reset
	Settings   settings.Settings
	IPFailures int
}

// PasswordChange is a new password to write: the user's hash, a new
// session generation (every session ends but Keep, which moves to it), the
// lockout cleared, the sessions deleted, and the event, in one transaction
// (more for sessions past what one holds); with Reset, only if that reset
// is still the one read, which it removes (a token works once); with
// Notify, the message that tells the user, queued in the same transaction.
type PasswordChange struct {
	Before, After *users.User
	EndSessions   []string
	Keep          *Session
	Reset         *Reset
	Notify        *outbox.Message
	Event         audit.Event
}

// PasswordStore is what passwords need from storage, beside Store.
type PasswordStore interface {
	// SaveReset writes r over the user's previous reset, with ev when set,
	// if the user is still active at r's session generation.
	// Errors: users.ErrInvalidState.
	SaveReset(ctx context.Context, r *Reset, ev *audit.Event) error
	// QueueReset queues m, the mail of a new reset link, with ev, if the
	// user is still active at m's session generation and both the account's and the source IP's
	// counts of reset mails are below their limits, which it raises.
	// Errors: users.ErrInvalidState, ErrIPLimited, ErrAccountLimited.
	QueueReset(ctx context.Context, m outbox.Message, ev audit.Event, limit ForgotLimit) error
	// Queued reads whether m is still queued (not sent by an earlier
	// delivery of the same stream record), the user it names (nil if
	// gone) and the settings, in one round trip.
	Queued(ctx context.Context, m outbox.Message) (bool, *users.User, settings.Settings, error)
	// Dequeue removes a message once it is sent, or dropped.
	Dequeue(ctx context.Context, id string) error
	// LookupReset reads the user, their reset, the settings and the source
	// IP's failures, in one round trip.
	LookupReset(ctx context.Context, userID, ip string, window time.Time) (ResetLookup, error)
	// ChangePassword writes c. Errors: users.ErrChanged, ErrResetUsed.
	ChangePassword(ctx context.Context, c PasswordChange) error
	// HeldBy returns the ids of the user's sessions and personal keys.
	HeldBy(ctx context.Context, id string) ([]string, error)
}

// ForgotLimit is what a forgotten-password request may not exceed.
type ForgotLimit struct {
	IP                string
	IPWindow, Account time.Time
}

// ErrAccountLimited reports an account over its limit of reset mails.
var ErrAccountLimited = errors.New("auth: the account is over its limit of reset mails")

// ResetLink is the answer to POST /users/{id}/password-reset.
type ResetLink struct {
	ResetURL  string    `json:"reset_url"`
	ExpiresAt time.Time `json:"expires_at"`
	// EmailSent says whether the link was mailed (send_email), and
	// EmailError why not when it failed (an extension).
	EmailSent  bool    `json:"email_sent"`
	EmailError *string `json:"email_error"`
}

// CreateResetInput is the body of POST /users/{id}/password-reset.
type CreateResetInput struct {
	SendEmail *bool `json:"send_email"`
}

// CreateReset makes a password-reset link for a user the actor manages:
// a link to copy (shown once, in this answer), and mailed to the user with
// send_email. It voids the user's previous link. A failed mail does not
// fail the link. No one makes one for their own account (self_action).
// Errors: not_found, forbidden, self_action, invalid_state (the user is
// not active).
func (s *Service) CreateReset(ctx context.Context, id string, in CreateResetInput) (ResetLink, error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return ResetLink{}, apperr.ErrUnauthorized
	}
	if id == a.UserID {
		// One's own link goes to one's own mail through the forgotten
		// password page: a key or a session alone must not mint one.
		return ResetLink{}, users.ErrSelfAction
	}
	u, err := s.target(ctx, a, id)
	if err != nil {
		return ResetLink{}, err
	}
	if u.Status != users.StatusActive {
		return ResetLink{}, users.ErrInvalidState
	}
	st, _ := settings.FromContext(ctx)
	now := access.RequestFrom(ctx).Now
	token, hash := newResetToken(u.ID)
	r := &Reset{UserID: u.ID, TokenHash: hash, CreatedAt: now, ByAdmin: true, Gen: u.SessionGen,
		ExpiresAt: now.Add(time.Duration(st.PasswordResetTTLMinutes) * time.Minute)}
	send := in.SendEmail != nil && *in.SendEmail
	ev := audit.New(ctx, "user.password_reset_created", "user", u.ID, map[string]any{"send_email": send, "expires_at": r.ExpiresAt})
	if err := s.store.SaveReset(ctx, r, &ev); err != nil {
		return ResetLink{}, fmt.Errorf("password reset of %s: %w", u.ID, err)
	}
	out := ResetLink{ResetURL: s.ResetLink(token), ExpiresAt: r.ExpiresAt}
	if send {
		err := s.mail(ctx, notices.PasswordReset{To: u.Email, Name: u.GivenName, Link: out.ResetURL, ExpiresAt: r.ExpiresAt, ByAdmin: true})
		if err != nil {
			msg := "The email could not be sent; copy the link instead."
			out.EmailError = &msg
		} else {
			out.EmailSent = true
		}
	}
	return out, nil
}

// target is the user read with the request's authentication, if the
// actor may act on them: not_found for users they may not see, forbidden
// for admins (to a manager).
func (s *Service) target(ctx context.Context, a access.Actor, id string) (*users.User, error) {
	if !ids.Valid("usr", id) {
		return nil, users.ErrNotFound
	}
	var u *users.User
	looked := false
	if r, ok := users.ReadFrom(ctx); ok {
		u, looked = r.Users[id]
	}
	if looked && u == nil {
		return nil, users.ErrNotFound
	}
	if u == nil {
		var err error
		if u, err = s.store.GetUser(ctx, id); err != nil {
			return nil, err
		}
	}
	switch {
	case !a.Sees(u.Team(), u.Role):
		return nil, users.ErrNotFound
	}
	return u, nil
}

// mail sends a notice, logging (never with its link) when it cannot.
func (s *Service) mail(ctx context.Context, n notices.Notice) error {
	err := errors.New("no mail sender configured")
	if s.Mail != nil {
		_, err = s.Mail.Send(ctx, n)
	}
	if err != nil {
		s.Log.Warn("notice not sent", slog.String("notice", fmt.Sprintf("%T", n)),
			slog.String("request_id", access.RequestFrom(ctx).ID), slog.String("error", err.Error()))
	}
	return err
}

// ForgotInput is the body of POST /auth/password/forgot.
type ForgotInput struct {
	Email string `json:"email"`
}

// Check names the input's bad fields (see api.Checker).
func (in ForgotInput) Check(context.Context) apperr.Fields {
	var bad apperr.Fields
	if msg := users.CheckEmail(strings.TrimSpace(in.Email)); msg != "" {
		bad.Add("email", msg)
	}
	return bad
}

// Forgot queues a reset link for the active account of an email.
// Whatever the email (unknown, inactive, over a limit), it answers alike,
// with the same DynamoDB calls, no sooner than ForgotFloor, and without
// waiting on the mail service: the link is made and mailed by the send-mail
// job (SendQueued) once this has answered. An unknown email counts as a
// failure toward the source IP's limit, like a wrong sign-in.
// Errors: validation_failed only; a failure of the store is unavailable or
// internal, as anywhere.
func (s *Service) Forgot(ctx context.Context, in ForgotInput) error {
	if err := in.Check(ctx).Err(); err != nil {
		return err
	}
	start := time.Now()
	defer func() { time.Sleep(time.Until(start.Add(s.ForgotFloor))) }()
	req := access.RequestFrom(ctx)
	window := ipWindow(req.Now)
	norm := users.NormalizeEmail(in.Email)
	look, err := s.store.LookupLogin(ctx, "email", norm, "", req.IP, window)
	if err != nil {
		return fmt.Errorf("forgot: %w", err)
	}
	if look.IPFailures >= IPFailureLimit {
		return nil
	}
	// An unknown email reads a user that is no one's, as a known one
	// reads theirs: the same work either way.
	id := look.UserID
	if id == "" {
		id = ids.FromHash("usr", "forgot:"+norm)
	}
	u, err := s.store.GetUser(ctx, id)
	switch {
	case errors.Is(err, users.ErrNotFound) || (err == nil && u.Status != users.StatusActive):
		if err := s.store.CountFailure(ctx, req.IP, window, IPFailureLimit); err != nil && !errors.Is(err, ErrIPLimited) {
			return fmt.Errorf("forgot: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("forgot: %w", err)
	}
	m := outbox.New(outbox.ResetLink, u.ID, u.SessionGen, req.Now, req.ID)
	limit := ForgotLimit{IP: req.IP, IPWindow: window, Account: req.Now.Truncate(ForgotWindow)}
	ev := audit.New(ctx, "user.password_reset_requested", "user", u.ID, map[string]any{"message_id": m.ID})
	switch err := s.store.QueueReset(ctx, m, ev, limit); {
	case errors.Is(err, ErrIPLimited), errors.Is(err, ErrAccountLimited), errors.Is(err, users.ErrInvalidState):
		return nil
	case err != nil:
		return fmt.Errorf("forgot: %w", err)
	}
	return nil
}

// SendQueued sends the queued message m (as its stream record holds it), made from the user as
// they are now: a reset link is made here (a user no longer active gets
// none), so no secret ever waits in the table. A message sent already, or
// past its kind's MaxAge, is done with; a failed send is an error, for the
// stream to deliver the message again (a reset link is then made anew,
// which voids the one that may not have arrived). The message is removed
// once sent or dropped.
func (s *Service) SendQueued(ctx context.Context, m outbox.Message) error {
	id := m.ID
	queued, u, st, err := s.store.Queued(ctx, m)
	switch {
	case err != nil:
		return fmt.Errorf("send %s: %w", id, err)
	case !queued:
		return nil
	}
	now := access.RequestFrom(ctx).Now
	var n notices.Notice
	switch {
	case u == nil || u.Email == "" || m.Expired(now) || !m.Kind.Valid():
		// Gone, anonymized, waited too long, or of a kind this code no
		// longer sends: dropped.
	case m.Kind == outbox.PasswordChanged:
		n = notices.PasswordChanged{To: u.Email, Name: u.GivenName, At: m.At}
	case m.Kind == outbox.ResetLink && u.Status == users.StatusActive && u.SessionGen == m.UserGen:
		token, hash := newResetToken(u.ID)
		r := &Reset{UserID: u.ID, TokenHash: hash, CreatedAt: now, Gen: m.UserGen,
			ExpiresAt: now.Add(time.Duration(st.PasswordResetTTLMinutes) * time.Minute)}
		switch err := s.store.SaveReset(ctx, r, nil); {
		case errors.Is(err, users.ErrInvalidState):
			// Deactivated since it read the user: no link.
		case err != nil:
			return fmt.Errorf("send %s: %w", id, err)
		default:
			n = notices.PasswordReset{To: u.Email, Name: u.GivenName, Link: s.ResetLink(token), ExpiresAt: r.ExpiresAt}
		}
	}
	if n != nil {
		if err := s.mail(ctx, n); err != nil {
			return fmt.Errorf("send %s: %w", id, err)
		}
	}
	if err := s.store.Dequeue(ctx, id); err != nil {
		return fmt.Errorf("send %s: %w", id, err)
	}
	return nil
}

// ResetView is what the reset page shows of the reset a token names.
type ResetView struct {
	Email             string    `json:"email"`
	ExpiresAt         time.Time `json:"expires_at"`
	PasswordMinLength int       `json:"password_min_length"`
}

// useReset reads the reset a token names and checks it: an unknown, used
// or replaced token is token_invalid, an expired one token_expired (checked
// here, whatever TTL has removed), and each failure counts toward the
// source IP's limit.
func (s *Service) useReset(ctx context.Context, token string) (ResetLookup, error) {
	req := access.RequestFrom(ctx)
	window := ipWindow(req.Now)
	refuse := func(e error) (ResetLookup, error) {
		switch err := s.store.CountFailure(ctx, req.IP, window, IPFailureLimit); {
		case errors.Is(err, ErrIPLimited):
			return ResetLookup{}, ThrottledUntil(window, req.Now)
		case err != nil:
			return ResetLookup{}, fmt.Errorf("reset: %w", err)
		}
		return ResetLookup{}, e
	}
	id, hash, ok := parseResetToken(token)
	if !ok {
		return refuse(ErrResetInvalid)
	}
	look, err := s.store.LookupReset(ctx, id, req.IP, window)
	if err != nil {
		return ResetLookup{}, fmt.Errorf("reset: %w", err)
	}
	switch {
	case look.IPFailures >= IPFailureLimit:
		return ResetLookup{}, ThrottledUntil(window, req.Now)
	case look.User == nil || !look.Reset.matches(hash) || look.User.Status != users.StatusActive:
		return refuse(ErrResetInvalid)
	case !req.Now.Before(look.Reset.ExpiresAt):
		return refuse(ErrResetExpired)
	}
	return look, nil
}

// LookupReset returns what the reset page shows. Errors: token_invalid,
// token_expired, throttled.
func (s *Service) LookupReset(ctx context.Context, token string) (ResetView, error) {
	look, err := s.useReset(ctx, token)
	if err != nil {
		return ResetView{}, err
	}
	return ResetView{Email: look.User.Email, ExpiresAt: look.Reset.ExpiresAt, PasswordMinLength: look.Settings.PasswordMinLength}, nil
}

// ResetInput is the body of POST /auth/password/reset.
type ResetInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// Check names the input's bad fields that need no user (see api.Checker).
func (in ResetInput) Check(context.Context) apperr.Fields {
	var bad apperr.Fields
	if strings.TrimSpace(in.Token) == "" {
		bad.Add("token", "is required")
	}
	if in.Password == "" {
		bad.Add("password", "is required")
	}
	if utf8.RuneCountInString(in.Password) > 4*passwords.MaxLength {
		bad.Add("password", "is too long")
	}
	return bad
}

// Reset sets a new password with a reset token: once (of concurrent uses
// exactly one succeeds), before it expires. It ends every session of the
// user, clears a sign-in lockout, and queues the mail that tells the user
// (sent after the answer); it signs no one in. Errors: validation_failed, token_invalid, token_expired, throttled.
func (s *Service) Reset(ctx context.Context, in ResetInput) error {
	if err := in.Check(ctx).Err(); err != nil {
		return err
	}
	look, err := s.useReset(ctx, in.Token)
	if err != nil {
		return err
	}
	u := look.User
	pol := passwords.Policy{MinLength: look.Settings.PasswordMinLength, Email: u.Email, Username: deref(u.Username), Words: s.Words}
	if err := pol.Check("password", in.Password); err != nil {
		return err
	}
	now := access.RequestFrom(ctx).Now
	hash := passwords.Hash(in.Password, s.Params)
	for try := 1; ; try++ {
		next := u.Clone()
		next.PasswordHash = hash
		next.SessionGen, next.Version, next.UpdatedAt = u.SessionGen+1, u.Version+1, now
		next.FailedLogins, next.LastFailedAt = 0, time.Time{}
		sessions, err := s.store.HeldBy(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		ev := audit.New(ctx, "user.password_reset", "user", u.ID, map[string]any{"sessions_ended": len(sessions)}).ByUser(u.ID)
		// The user is told after the answer: whoever holds the link does
		// not wait on the mail service.
		notify := outbox.New(outbox.PasswordChanged, u.ID, next.SessionGen, now, access.RequestFrom(ctx).ID)
		err = s.store.ChangePassword(ctx, PasswordChange{Before: u, After: next, EndSessions: sessions, Reset: look.Reset, Notify: &notify, Event: ev})
		switch {
		case errors.Is(err, ErrResetUsed):
			// Another use of the token (or a newer link) won.
			return ErrResetInvalid
		case errors.Is(err, users.ErrChanged) && try < 3:
			// The user changed meanwhile (a sign-in, an edit): the token
			// may still be good; check it again on the user as it now is.
			if look, err = s.useReset(ctx, in.Token); err != nil {
				return err
			}
			u = look.User
			continue
		case err != nil:
			return fmt.Errorf("reset: %w", err)
		}
		break
	}
	return nil
}

// ChangeInput is the body of POST /me/password.
type ChangeInput struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// Check names the input's bad fields that need no user (see api.Checker).
func (in ChangeInput) Check(context.Context) apperr.Fields {
	var bad apperr.Fields
	if in.CurrentPassword == "" {
		bad.Add("current_password", "is required")
	}
	if in.NewPassword == "" {
		bad.Add("new_password", "is required")
	}
	for name, p := range map[string]string{"current_password": in.CurrentPassword, "new_password": in.NewPassword} {
		if utf8.RuneCountInString(p) > 4*passwords.MaxLength {
			bad.Add(name, "is too long")
		}
	}
	return bad
}

// ErrWrongPassword answers a wrong current password.
var ErrWrongPassword = apperr.Validation(apperr.FieldError{Field: "current_password", Message: "is not your current password"})

// ChangePassword changes the caller's own password, given the current
// one: a wrong one counts as a failed sign-in (toward the lockout and the
// source IP's limit), and a locked account is throttled. It ends the
// caller's other sessions (and personal keys) and keeps this one, and
// tells them by mail. A caller signed in with an API key may not.
// Errors: validation_failed, throttled, forbidden.
func (s *Service) ChangePassword(ctx context.Context, in ChangeInput) error {
	a, ok := access.ActorFrom(ctx)
	switch {
	case !ok:
		return apperr.ErrUnauthorized
	case a.ByKey():
		// A leaked key must not be a way to take the account over.
		return ErrKeyForbidden
	}
	if err := in.Check(ctx).Err(); err != nil {
		return err
	}
	r, _ := users.ReadFrom(ctx)
	u := r.Users[a.UserID]
	if u == nil {
		return apperr.ErrUnauthorized
	}
	st, _ := settings.FromContext(ctx)
	req := access.RequestFrom(ctx)
	window := ipWindow(req.Now)
	attempt := Attempt{ID: ids.New("att"), At: req.Now, Login: Truncate(u.Email, 254), LoginKey: users.LoginKey("email", users.NormalizeEmail(u.Email)),
		UserID: &u.ID, IP: req.IP, UserAgent: Truncate(req.UserAgent, 512)}
	if until := LockedUntil(u.FailedLogins, u.LastFailedAt); req.Now.Before(until) {
		return s.throttled(ctx, attempt, u.ID, until.Sub(req.Now))
	}
	ok, _, err := passwords.Verify(in.CurrentPassword, u.PasswordHash, s.Params)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		err := s.failed(ctx, attempt, ReasonInvalidCredentials, Failure{UserID: u.ID, Count: true, IPWindow: window, IPLimit: IPFailureLimit})
		if errors.Is(err, ErrInvalidCredentials) {
			return ErrWrongPassword
		}
		return err
	}
	pol := passwords.Policy{MinLength: st.PasswordMinLength, Email: u.Email, Username: deref(u.Username), Words: s.Words}
	if err := pol.Check("new_password", in.NewPassword); err != nil {
		return err
	}
	var keep *Session
	var others []string
	for _, ref := range r.Live[u.ID].Sessions {
		if ref.ID == a.SessionID {
			keep = &Session{ID: ref.ID, UserID: u.ID}
		} else {
			others = append(others, ref.ID)
		}
	}
	for _, k := range r.Live[u.ID].Keys {
		others = append(others, k.ID)
	}
	next := u.Clone()
	next.PasswordHash = passwords.Hash(in.NewPassword, s.Params)
	next.SessionGen, next.Version, next.UpdatedAt = u.SessionGen+1, u.Version+1, req.Now
	next.FailedLogins, next.LastFailedAt = 0, time.Time{}
	ev := audit.New(ctx, "user.password_changed", "user", u.ID, map[string]any{"sessions_ended": len(others)})
	if err := s.store.ChangePassword(ctx, PasswordChange{Before: u, After: next, EndSessions: others, Keep: keep, Event: ev}); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	_ = s.mail(ctx, notices.PasswordChanged{To: u.Email, Name: u.GivenName, At: req.Now})
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
