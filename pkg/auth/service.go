package auth

import (
	"context"
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
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// Session is a signed-in device of a user. Its token is never stored.
type Session struct {
	ID              string    `json:"id"`
	UserID          string    `json:"user_id"`
	UserDisplayName string    `json:"user_display_name"`
	IP              string    `json:"ip"`
	UserAgent       string    `json:"user_agent"`
	Device          string    `json:"device"`
	CreatedAt       time.Time `json:"created_at"`
	LastActiveAt    time.Time `json:"last_active_at"`
	ExpiresAt       time.Time `json:"expires_at"`
	Current         bool      `json:"current"`
	// Gen is the user's session generation when the session began.
	Gen int `json:"-"`
	// TeamID and Role are the user's, kept on the session for the lists of
	// a team's sessions, which its managers see but for admins' (rewritten
	// when the user's team or role changes).
	TeamID string      `json:"-"`
	Role   access.Role `json:"-"`
}

// Ref is what deciding whether the session is usable takes.
func (s *Session) Ref() users.SessionRef {
	return users.SessionRef{ID: s.ID, ExpiresAt: s.ExpiresAt, LastActiveAt: s.LastActiveAt, Gen: s.Gen}
}

// Along is what a request's authentication reads along, in its round trip:
// users a route is about (their ids), and whose stats it answers with.
type Along struct {
	Users []string
	// StatsOfSelf and StatsOfUsers read what the caller, or the users, hold
	// (sessions, keys) at the same time.
	StatsOfSelf, StatsOfUsers bool
}

// Attempt is one sign-in attempt, kept 90 days.
type Attempt struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Login  string    `json:"login"`
	UserID *string   `json:"user_id"`
	// LoginKey names the login typed (users.LoginKey), for forgetting it.
	LoginKey  string  `json:"-"`
	IP        string  `json:"ip"`
	UserAgent string  `json:"user_agent"`
	Success   bool    `json:"success"`
	Reason    *string `json:"reason"`
}

// Reasons an attempt failed.
const (
	ReasonInvalidCredentials = "invalid_credentials"
	ReasonUnknownUser        = "unknown_user"
	ReasonThrottled          = "throttled"
	ReasonNotActive          = "not_active"
)

// LoginLookup is what the first read of a sign-in finds.
type LoginLookup struct {
	// UserID is the user the login names, or "".
	UserID   string
	Settings settings.Settings
	// IPFailures counts failed sign-ins from the source IP in this window.
	IPFailures int
	// Failures and LastFailure throttle a login that names no user, so
	// that unknown and known logins are throttled alike.
	Failures    int
	LastFailure time.Time
}

// Failure describes a failed sign-in to record.
type Failure struct {
	Attempt Attempt
	// UserID is set when the login named a user; its count rises. Otherwise
	// the count of LoginKey rises.
	UserID   string
	LoginKey string
	// Count is false for attempts refused without a check (throttled) and
	// right passwords of accounts that may not sign in.
	Count bool
	// IPWindow is the window of the source IP's failure count; a counted
	// failure raises it only while it is below IPLimit.
	IPWindow time.Time
	IPLimit  int
}

// SignIn is a successful sign-in to write.
type SignIn struct {
	// User is the user as read and verified. The write is conditioned on
	// what the sign-in depends on: the user is active, its password and
	// session generation are those read, and no failure was counted since.
	User *users.User
	// Usage is the user's usage after the sign-in.
	Usage users.Usage
	// PasswordHash, if set, replaces a hash made with weaker parameters.
	PasswordHash string
	Session      *Session
	Attempt      Attempt
	Event        audit.Event
	// The source IP's failure count must still be below IPLimit.
	IPWindow time.Time
	IPLimit  int
}

// Store is what the auth service needs from storage.
type Store interface {
	// LookupLogin resolves a login ("email" or "username" kind, normalized)
	// and reads the settings and throttle counters, in one round trip.
	LookupLogin(ctx context.Context, kind, login, loginKey, ip string, window time.Time) (LoginLookup, error)
	// GetUser reads a user, strongly consistent. Errors: users.ErrNotFound.
	GetUser(ctx context.Context, id string) (*users.User, error)
	// LoginSucceeded writes a sign-in: the session, the user's sign-in
	// (last_login_at, usage, a rehash; the failure count cleared), the
	// counters, the attempt and the event, in one transaction.
	// Errors: ErrFailureCounted, ErrIPLimited, users.ErrNotFound, and a
	// *UserChanged carrying the user as it now is.
	LoginSucceeded(ctx context.Context, in SignIn) error
	// LoginFailed records a failed attempt and raises the counters, atomically.
	// Errors: ErrIPLimited (nothing written).
	LoginFailed(ctx context.Context, f Failure) error
	// RecordAttempt records an attempt alone.
	RecordAttempt(ctx context.Context, a Attempt) error
	// Authenticate reads the user, the session, the settings with the
	// counters, and what along asks for, strongly consistent, in one round
	// trip of latency. A missing user or session is apperr.ErrUnauthorized;
	// a missing other user is nil in the Read.
	Authenticate(ctx context.Context, userID, sessionID string, along Along) (*users.User, *Session, settings.Snapshot, users.Read, error)
	// TouchSession records activity on the session and the user;
	// apperr.ErrUnauthorized if the session has ended meanwhile.
	TouchSession(ctx context.Context, userID, sessionID string, at time.Time) error
	// DeleteSession removes a session with ev. Errors: apperr.ErrNotFound.
	DeleteSession(ctx context.Context, userID, sessionID string, ev audit.Event) error
	// Register writes a new user signed in: the user, its uniqueness items,
	// the counters (checking seats), the session, the attempt and ev, in one
	// transaction. Errors: users.ErrEmailTaken, users.ErrUsernameTaken,
	// users.ErrNoSeats.
	Register(ctx context.Context, u *users.User, s *Session, a Attempt, ev audit.Event) error
	// CountFailure counts a failure toward the source IP's limit.
	// Errors: ErrIPLimited.
	CountFailure(ctx context.Context, ip string, window time.Time, limit int) error

	PasswordStore
	SessionStore
	KeyStore
}

// Errors the store reports about a sign-in.
var (
	// ErrFailureCounted: a failed attempt was counted between the read and
	// the write, so a parallel guess may have locked the account.
	ErrFailureCounted = errors.New("auth: a failure was counted since the user was read")
	// ErrIPLimited: the source IP reached its limit of failures.
	ErrIPLimited = errors.New("auth: the source IP is over its failure limit")
)

// UserChanged reports that the user changed between the read and the write
// of a sign-in in a way that may not refuse it (another sign-in, a new
// password, sessions ended): the sign-in is decided again on Current.
type UserChanged struct{ Current *users.User }

func (e *UserChanged) Error() string { return "auth: the user changed since it was read" }

// ErrInvalidCredentials is the one answer to an unknown login, a wrong
// password and an account that may not sign in.
var ErrInvalidCredentials = apperr.New(apperr.KindUnauthorized, "invalid_credentials", "The login or password is wrong.")

// TouchEvery is how stale a session's last-active time may get before a
// request writes it again: activity costs a write at most this often.
const TouchEvery = 5 * time.Minute

// unknownUserID is the user an unknown login reads: no user has it (ids
// are base32, lower case).
const unknownUserID = "usr_UNKNOWN"

// signInTries bounds how often one sign-in is decided again because the
// user changed meanwhile: each retry follows a write that landed.
const signInTries = 10

// Service signs users in and out and authenticates requests.
type Service struct {
	store  Store
	Params passwords.Params
	// Words are what no password may be (passwords.ServiceWords).
	Words []string
	// Mail sends reset links and the notices of password changes; nil in
	// functions that send none. Log receives failed sends.
	Mail notices.Sender
	Log  *slog.Logger
	// ResetLink is where a reset email points: the page that sets a new
	// password, with the token.
	ResetLink func(token string) string
	// ForgotFloor is the least time a forgotten-password request takes.
	ForgotFloor time.Duration
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, Params: passwords.DefaultParams, Log: slog.Default(), ForgotFloor: ForgotFloor,
		ResetLink: func(token string) string { return "/pages/reset-password?token=" + token }}
}

// LoginInput is the body of POST /auth/login.
type LoginInput struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// LoginResult is the answer to a sign-in.
type LoginResult struct {
	Token   string      `json:"token"`
	Session *Session    `json:"session"`
	User    *users.User `json:"user"`
}

// Login signs a user in with an email or username and a password. Unknown
// logins, wrong passwords and accounts that may not sign in all get
// invalid_credentials after the same work. Every attempt is recorded.
// Sign-ins of one user that overlap (two devices, a double click) all
// succeed: only a failure counted since the user was read refuses one.
// Errors: validation_failed, invalid_credentials, throttled.
func (s *Service) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	var bad apperr.Fields
	login := strings.TrimSpace(in.Login)
	if login == "" {
		bad.Add("login", "is required")
	}
	if in.Password == "" {
		bad.Add("password", "is required")
	}
	if utf8.RuneCountInString(in.Password) > 4*passwords.MaxLength {
		// Never hash megabytes: no valid password is this long.
		bad.Add("password", "is too long")
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	req := access.RequestFrom(ctx)
	now := req.Now
	kind, norm := "username", users.NormalizeUsername(login)
	if strings.Contains(login, "@") {
		kind, norm = "email", users.NormalizeEmail(login)
	}
	loginKey := users.LoginKey(kind, norm)
	window := ipWindow(now)
	attempt := Attempt{ID: ids.New("att"), At: now, Login: Truncate(login, 254), LoginKey: loginKey, IP: req.IP, UserAgent: Truncate(req.UserAgent, 512)}
	counted := Failure{Count: true, IPWindow: window, IPLimit: IPFailureLimit}

	look, err := s.store.LookupLogin(ctx, kind, norm, loginKey, req.IP, window)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if look.IPFailures >= IPFailureLimit {
		return nil, s.throttled(ctx, attempt, look.UserID, window.Add(IPWindow).Sub(now))
	}
	unknown := func(read bool) error {
		if !read {
			// The read a known login makes of its user: an unknown login
			// takes as many round trips as a wrong password, and as long.
			_, _ = s.store.GetUser(ctx, unknownUserID)
		}
		passwords.VerifyDummy(in.Password)
		f := counted
		f.LoginKey = loginKey
		return s.failed(ctx, attempt, ReasonUnknownUser, f)
	}
	if look.UserID == "" {
		if until := LockedUntil(look.Failures, look.LastFailure); now.Before(until) {
			return nil, s.throttled(ctx, attempt, "", until.Sub(now))
		}
		return nil, unknown(false)
	}
	u, err := s.store.GetUser(ctx, look.UserID)
	if errors.Is(err, users.ErrNotFound) {
		// The uniqueness item outlived its user for a moment (a purge in
		// flight): the login is unknown.
		return nil, unknown(true)
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	verified, rehash := "", false // the hash the password was verified against
	for try := 1; ; try++ {
		if until := LockedUntil(u.FailedLogins, u.LastFailedAt); now.Before(until) {
			return nil, s.throttled(ctx, attempt, u.ID, until.Sub(now))
		}
		attempt.UserID = &u.ID
		if u.PasswordHash == "" {
			passwords.VerifyDummy(in.Password)
			f := counted
			f.UserID = u.ID
			return nil, s.failed(ctx, attempt, ReasonInvalidCredentials, f)
		}
		if u.PasswordHash != verified {
			ok := false
			if ok, rehash, err = passwords.Verify(in.Password, u.PasswordHash, s.Params); err != nil {
				return nil, fmt.Errorf("login: verify user %s: %w", u.ID, err)
			}
			if !ok {
				f := counted
				f.UserID = u.ID
				return nil, s.failed(ctx, attempt, ReasonInvalidCredentials, f)
			}
			verified = u.PasswordHash
		}
		if u.Status != users.StatusActive {
			// The right password for an account that may not sign in: refused
			// alike, recorded with the real reason, not counted as a guess.
			reason := ReasonNotActive
			if u.Status == users.StatusDeactivated || u.Status == users.StatusInDeletion {
				reason = string(u.Status)
			}
			return nil, s.failed(ctx, attempt, reason, Failure{UserID: u.ID, IPWindow: window})
		}
		res, err := s.signIn(ctx, u, look.Settings, attempt, window, rehash, in.Password)
		var changed *UserChanged
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, ErrFailureCounted):
			// A parallel guess was counted after our read and may have
			// locked the account: this attempt must not slip past it. It
			// fails like a wrong password (uncounted; it was not wrong).
			return nil, s.failed(ctx, attempt, ReasonThrottled, Failure{UserID: u.ID, IPWindow: window})
		case errors.Is(err, ErrIPLimited):
			return nil, s.throttled(ctx, attempt, u.ID, window.Add(IPWindow).Sub(now))
		case errors.Is(err, users.ErrNotFound):
			return nil, unknown(true)
		case errors.As(err, &changed) && try < signInTries:
			// Another sign-in or change landed between our read and write:
			// decide again on the user as it now is.
			u = changed.Current
		default:
			return nil, fmt.Errorf("login: %w", err)
		}
	}
}

// signIn writes a verified sign-in of u and returns the answer to it.
func (s *Service) signIn(ctx context.Context, u *users.User, st settings.Settings, attempt Attempt, window time.Time, rehash bool, password string) (*LoginResult, error) {
	now := access.RequestFrom(ctx).Now
	usage := users.UsageConnected
	if u.Usage != nil && *u.Usage == users.UsageUsed {
		usage = users.UsageUsed
	}
	in := SignIn{User: u, Usage: usage, IPWindow: window, IPLimit: IPFailureLimit}
	if rehash {
		in.PasswordHash = passwords.Hash(password, s.Params)
	}
	token, sess := s.Mint(ctx, u, st)
	attempt.Success = true
	in.Session, in.Attempt = sess, attempt
	in.Event = audit.New(ctx, "session.created", "session", sess.ID, map[string]any{"user_id": u.ID, "device": sess.Device}).ByUser(u.ID)
	if err := s.store.LoginSucceeded(ctx, in); err != nil {
		return nil, err
	}
	after := u.Clone()
	after.LastLoginAt = &now
	after.Usage = &usage
	after.Version = u.Version + 1
	after.FailedLogins, after.LastFailedAt = 0, time.Time{}
	return &LoginResult{Token: token, Session: sess, User: after}, nil
}

// Mint makes a session of u that starts now, and its token: the one path by
// which every sign-in (a password, a registration, an accepted invitation)
// starts a session. The caller writes it with the sign-in.
func (s *Service) Mint(ctx context.Context, u *users.User, st settings.Settings) (string, *Session) {
	req := access.RequestFrom(ctx)
	token, sid := newSessionToken(u.ID)
	return token, &Session{
		ID: sid, UserID: u.ID, UserDisplayName: u.DisplayName,
		IP: req.IP, UserAgent: Truncate(req.UserAgent, 512), Device: Device(req.UserAgent),
		CreatedAt: req.Now, LastActiveAt: req.Now,
		ExpiresAt: req.Now.Add(time.Duration(st.SessionTTLHours) * time.Hour),
		Current:   true, Gen: u.SessionGen, TeamID: u.Team(), Role: u.Role,
	}
}

// failed records a failed attempt and returns invalid_credentials, or
// throttled when the source IP reached its limit meanwhile: of N parallel
// failures with k left below the limit, exactly k are counted.
func (s *Service) failed(ctx context.Context, a Attempt, reason string, f Failure) error {
	a.Success = false
	a.Reason = &reason
	f.Attempt = a
	err := s.store.LoginFailed(ctx, f)
	if errors.Is(err, ErrIPLimited) {
		return s.throttled(ctx, a, f.UserID, f.IPWindow.Add(IPWindow).Sub(a.At))
	}
	if err != nil {
		return fmt.Errorf("login: record failure: %w", err)
	}
	return ErrInvalidCredentials
}

// throttled records a refused attempt and returns throttled.
func (s *Service) throttled(ctx context.Context, a Attempt, userID string, wait time.Duration) error {
	reason := ReasonThrottled
	a.Success = false
	a.Reason = &reason
	if userID != "" {
		a.UserID = &userID
	}
	if err := s.store.RecordAttempt(ctx, a); err != nil {
		return fmt.Errorf("login: record attempt: %w", err)
	}
	return apperr.Throttled("Too many failed sign-ins; try again later.", wait.Round(time.Second)+time.Second)
}

// ThrottledUntil is the answer to a source IP over its limit of failures in
// the window that started at window.
func ThrottledUntil(window, now time.Time) error {
	return apperr.Throttled("Too many failed attempts from this address; try again later.", window.Add(IPWindow).Sub(now).Round(time.Second)+time.Second)
}

// Authenticate turns a bearer token (a session token or an API key) into
// the request's actor and the settings, reading along what along asks for
// in the same round trip; the Read returned holds the caller's own user
// too. It refuses (unauthorized) a token that is malformed, unknown, ended,
// expired, idle too long, or whose user is not active.
func (s *Service) Authenticate(ctx context.Context, token string, along Along) (access.Actor, settings.Snapshot, users.Read, error) {
	fail := func(err error) (access.Actor, settings.Snapshot, users.Read, error) {
		return access.Actor{}, settings.Snapshot{}, users.Read{}, err
	}
	if strings.HasPrefix(token, KeyPrefix) {
		return s.authenticateKey(ctx, token, along)
	}
	userID, sid, ok := parseSessionToken(token)
	if !ok {
		return fail(apperr.ErrUnauthorized)
	}
	u, sess, st, read, err := s.store.Authenticate(ctx, userID, sid, along)
	if err != nil {
		return fail(err)
	}
	now := access.RequestFrom(ctx).Now
	if !sess.Ref().Active(u.SessionGen, now, time.Duration(st.SessionIdleHours)*time.Hour) || u.Status != users.StatusActive {
		return fail(apperr.ErrUnauthorized)
	}
	if now.Sub(sess.LastActiveAt) >= TouchEvery {
		// Best effort: a failed touch must not fail the request.
		if err := s.store.TouchSession(ctx, userID, sid, now); err == nil {
			u.LastSeenAt = &now
			if l, ok := read.Live[u.ID]; ok {
				for i, r := range l.Sessions {
					if r == sess.Ref() {
						l.Sessions[i].LastActiveAt = now
					}
				}
			}
		}
	}
	read.Users[u.ID] = u
	return access.Actor{
		Type: access.ActorUser, ID: u.ID, UserID: u.ID,
		Role: u.Role, TeamID: u.Team(), SessionID: sid,
	}, st, read, nil
}

// Logout ends the caller's session. Errors: unauthorized.
func (s *Service) Logout(ctx context.Context) error {
	a, ok := access.ActorFrom(ctx)
	switch {
	case !ok:
		return apperr.ErrUnauthorized
	case a.ByKey():
		return apperr.Forbidden("forbidden", "Signing out ends a session; an API key is deleted instead.")
	}
	ev := audit.New(ctx, "session.ended", "session", a.SessionID, map[string]any{"user_id": a.UserID, "reason": "logout"})
	err := s.store.DeleteSession(ctx, a.UserID, a.SessionID, ev)
	if errors.Is(err, apperr.ErrNotFound) {
		// A concurrent logout of the same session won: it is ended either way.
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Truncate cuts s to at most n bytes, on a character boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Knows reports whether password is the current password of the account a
// login names, and changes nothing: no attempt is recorded and no failure
// counted. It is for tools (make run tells whether it knows the seeded
// admin's password), never for a route.
func (s *Service) Knows(ctx context.Context, login, password string) (bool, error) {
	kind, norm := "username", users.NormalizeUsername(login)
	if strings.Contains(login, "@") {
		kind, norm = "email", users.NormalizeEmail(login)
	}
	look, err := s.store.LookupLogin(ctx, kind, norm, "", "", time.Time{})
	if err != nil || look.UserID == "" {
		return false, err
	}
	u, err := s.store.GetUser(ctx, look.UserID)
	if err != nil || u.PasswordHash == "" {
		return false, err
	}
	ok, _, err := passwords.Verify(password, u.PasswordHash, s.Params)
	return ok, err
}

// ErrRegistrationDisabled answers a registration while the settings do not
// allow it.
var ErrRegistrationDisabled = apperr.Forbidden("registration_disabled", "Registration is not open: ask for an invitation.")

// RegisterInput is the body of POST /auth/register.
type RegisterInput struct {
	Email      string  `json:"email"`
	Password   string  `json:"password"`
	GivenName  string  `json:"given_name"`
	FamilyName string  `json:"family_name"`
	Username   *string `json:"username"`
}

func (in RegisterInput) user() users.CreateInput {
	return users.CreateInput{Email: in.Email, Password: in.Password, GivenName: in.GivenName, FamilyName: in.FamilyName,
		Username: in.Username, Role: string(access.Member)}
}

// Check names the input's bad fields (see api.Checker).
func (in RegisterInput) Check(ctx context.Context) apperr.Fields {
	st, _ := settings.FromContext(ctx)
	if st.PasswordMinLength == 0 {
		st = settings.Defaults()
	}
	_, bad := in.user().Prepare(st, passwords.Params{}, nil)
	return bad
}

// Register creates an active member and signs them in, when the settings
// allow registration. An email or username already taken counts toward the
// source IP's limit of failures, so registration cannot be used to list
// who has an account.
// Errors: registration_disabled, validation_failed, email_taken,
// username_taken, no_seats, throttled.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*LoginResult, error) {
	req := access.RequestFrom(ctx)
	window := ipWindow(req.Now)
	look, err := s.store.LookupLogin(ctx, "email", users.NormalizeEmail(in.Email), "", req.IP, window)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	if !look.Settings.AllowRegistration {
		return nil, ErrRegistrationDisabled
	}
	if look.IPFailures >= IPFailureLimit {
		return nil, ThrottledUntil(window, req.Now)
	}
	u, bad := in.user().Prepare(look.Settings, s.Params, s.Words)
	if err := bad.Err(); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = req.Now, req.Now, &req.Now
	connected := users.UsageConnected
	u.Usage = &connected
	token, sess := s.Mint(ctx, u, look.Settings)
	attempt := Attempt{ID: ids.New("att"), At: req.Now, Login: Truncate(strings.TrimSpace(in.Email), 254), UserID: &u.ID,
		LoginKey: users.LoginKey("email", users.NormalizeEmail(in.Email)),
		IP:       req.IP, UserAgent: Truncate(req.UserAgent, 512), Success: true}
	ev := audit.New(ctx, "user.registered", "user", u.ID, map[string]any{"role": u.Role, "session_id": sess.ID}).ByUser(u.ID)
	err = s.store.Register(ctx, u, sess, attempt, ev)
	if errors.Is(err, users.ErrEmailTaken) || errors.Is(err, users.ErrUsernameTaken) {
		switch cerr := s.store.CountFailure(ctx, req.IP, window, IPFailureLimit); {
		case errors.Is(cerr, ErrIPLimited):
			return nil, ThrottledUntil(window, req.Now)
		case cerr != nil:
			// Uncounted, the failure must not be answered: that would let a
			// guesser probe past the limit while counting fails.
			return nil, fmt.Errorf("register: %w", cerr)
		}
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return &LoginResult{Token: token, Session: sess, User: u}, nil
}
