package users

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/settings"
)

// Store is what the users service needs from storage.
type Store interface {
	// CreateUser writes a new user with its email and username uniqueness
	// items, the counters' delta (checking seats), the team's member count
	// and ev, all in one transaction.
	// Errors: ErrEmailTaken, ErrUsernameTaken, ErrNoSeats, ErrTeamNotFound.
	CreateUser(ctx context.Context, u *User, ev audit.Event) error
	// GetUser reads a user, strongly consistent. Errors: ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetLive reads what the user holds (sessions, keys), strongly
	// consistent.
	GetLive(ctx context.Context, id string) (Live, error)
	// UpdateUser writes the change c if c.Before's version is still
	// current: it moves the uniqueness items, applies the counters' delta
	// (checking seats and the last admin), moves team member counts, ends
	// and rewrites the sessions c names, and writes the event, in one
	// transaction; sessions past what one transaction holds are deleted by
	// more transactions after it. Errors: ErrChanged, ErrEmailTaken,
	// ErrUsernameTaken, ErrLastAdmin, ErrNoSeats, ErrTeamNotFound.
	UpdateUser(ctx context.Context, c Change) error
	// SessionsOf returns the ids of the user's sessions.
	SessionsOf(ctx context.Context, id string) ([]string, error)
	// HeldBy returns the ids of the user's sessions and personal keys:
	// what ending all their sessions deletes.
	HeldBy(ctx context.Context, id string) ([]string, error)
	// Forget removes what identifies the user from everywhere but their
	// own item: their sessions, keys and reset link; the IPs, user agents
	// and logins of sign-in attempts by them or under the traces (see
	// Traces) of their email and username, and those throttles; the IPs of
	// the audit events they acted in; closed invitations to their email
	// (and their name on those they sent); answers kept for retries that
	// showed them. It ends by clearing Forget on the user. Every step may
	// run again.
	Forget(ctx context.Context, id string, traces []string) error
	// DueForPurge returns up to limit users in deletion whose purge date
	// is at or before now, and anonymized users still to Forget.
	DueForPurge(ctx context.Context, now time.Time, limit int) ([]*User, error)
	// Purge forgets the user and then removes them (their item, uniqueness
	// items, counters, team count) with ev, if they are still in deletion
	// past their purge date at now and unchanged since it read them.
	// Errors: ErrInvalidState, ErrChanged.
	Purge(ctx context.Context, u *User, now time.Time, ev audit.Event) error
	// ListUsers returns a page of users, newest first. Errors: paging.ErrBadCursor.
	ListUsers(ctx context.Context, q ListQuery) (Page, error)
	// GetSettings returns the settings and their version.
	GetSettings(ctx context.Context) (settings.Settings, int, error)
	// GetCounts returns the settings and the counters, in one read.
	GetCounts(ctx context.Context) (settings.Settings, Counts, error)
}

// Change is a change of a user to write.
type Change struct {
	Before, After *User
	// EndSessions are the sessions and personal keys the change ends
	// (their ids): deleted with it. The session generation ends them
	// already; deleting them keeps the lists true.
	EndSessions []string
	// Carry are the sessions that carry the user's display name and team:
	// rewritten to After's.
	Carry []string
	// ClearLockout clears the sign-in failure count (a new password).
	ClearLockout bool
	// VoidReset removes the user's password-reset link, if any.
	VoidReset bool
	Event     audit.Event
}

// Service holds the rules of the users concept.
type Service struct {
	store Store
	// Params are argon2id's parameters for new hashes.
	Params passwords.Params
	// Words are what no password may be (passwords.ServiceWords).
	Words []string
	// Mail sends the notices of changes (the old address is told of a new
	// one); nil in functions that send none. Log receives failed sends.
	Mail notices.Sender
	Log  *slog.Logger
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, Params: passwords.DefaultParams, Log: slog.Default()}
}

func actorOf(ctx context.Context) (access.Actor, error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return access.Actor{}, apperr.ErrUnauthorized
	}
	return a, nil
}

// settingsFor returns the settings read while authenticating, or reads them.
func (s *Service) settingsFor(ctx context.Context) (settings.Settings, error) {
	if st, ok := settings.FromContext(ctx); ok {
		return st, nil
	}
	st, _, err := s.store.GetSettings(ctx)
	return st, err
}

// Matches reports whether a revision satisfies a client's If-Match: nil
// accepts any.
func Matches(ifMatch []string, revision string) bool {
	return ifMatch == nil || slices.Contains(ifMatch, revision)
}

type readKey struct{}

// Read is what a request's authentication read along, strongly consistent,
// in its one round trip: the users it looked up (the caller, the user a
// route's path names; nil for one that does not exist), what some of them
// hold (for their stats), and the counters.
type Read struct {
	Users  map[string]*User
	Live   map[string]Live
	Counts Counts
}

// WithRead returns ctx carrying what the authentication read, so that the
// route need not read it again.
func WithRead(ctx context.Context, r Read) context.Context {
	return context.WithValue(ctx, readKey{}, r)
}

// ReadFrom returns what the request's authentication read along, if it did.
func ReadFrom(ctx context.Context) (Read, bool) {
	r, ok := ctx.Value(readKey{}).(Read)
	return r, ok
}

// read returns the user: a copy of the one read with the request's
// authentication when it looked the user up and fresh is false, else a
// strongly consistent read. Errors: ErrNotFound.
func (s *Service) read(ctx context.Context, id string, fresh bool) (*User, error) {
	if r, ok := ReadFrom(ctx); ok && !fresh {
		if u, looked := r.Users[id]; looked {
			if u == nil {
				return nil, ErrNotFound
			}
			return u.Clone(), nil
		}
	}
	return s.store.GetUser(ctx, id)
}
