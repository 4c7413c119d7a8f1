package users

import (
	"context"
	"slices"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
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
	// GetUserWithStats reads a user and its stats in one query; sessions idle
	// longer than idle or past expiry at now are not counted.
	// Errors: ErrNotFound.
	GetUserWithStats(ctx context.Context, id string, now time.Time, idle time.Duration) (*User, error)
	// UpdateUser replaces before with after if before's version is still
	// current: it moves the uniqueness items, applies the counters' delta
	// (checking seats and the last admin), moves team member counts, and
	// writes ev, all in one transaction. Errors: ErrChanged, ErrEmailTaken,
	// ErrUsernameTaken, ErrLastAdmin, ErrNoSeats, ErrTeamNotFound.
	UpdateUser(ctx context.Context, before, after *User, ev audit.Event) error
	// ListUsers returns a page of users, newest first. Errors: ErrBadCursor.
	ListUsers(ctx context.Context, q ListQuery) (Page, error)
	// GetSettings returns the settings and their version.
	GetSettings(ctx context.Context) (settings.Settings, int, error)
	// GetCounts returns the settings and the counters, in one read.
	GetCounts(ctx context.Context) (settings.Settings, Counts, error)
}

// Service holds the rules of the users concept.
type Service struct {
	store Store
	// Params are argon2id's parameters for new hashes.
	Params passwords.Params
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, Params: passwords.DefaultParams}
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
