package users

import (
	"slices"
	"strconv"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
)

// Status is where a user is in their life cycle.
type Status string

const (
	StatusInvited     Status = "invited"
	StatusActive      Status = "active"
	StatusDeactivated Status = "deactivated"
	StatusInDeletion  Status = "in_deletion"
	StatusAnonymized  Status = "anonymized"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusInvited, StatusActive, StatusDeactivated, StatusInDeletion, StatusAnonymized:
		return true
	}
	return false
}

// Usage is how far an active user has come: registered (never signed in),
// connected (signed in), used (the product reported use).
type Usage string

const (
	UsageRegistered Usage = "registered"
	UsageConnected  Usage = "connected"
	UsageUsed       Usage = "used"
)

// Valid reports whether u is a known usage.
func (u Usage) Valid() bool { return u == UsageRegistered || u == UsageConnected || u == UsageUsed }

// User is an account. Secrets and bookkeeping are not serialized.
type User struct {
	ID          string      `json:"id"`
	Email       string      `json:"email"`
	Username    *string     `json:"username"`
	GivenName   string      `json:"given_name"`
	FamilyName  string      `json:"family_name"`
	DisplayName string      `json:"display_name"`
	Role        access.Role `json:"role"`
	TeamID      *string     `json:"team_id"`
	Status      Status      `json:"status"`
	Usage       *Usage      `json:"usage"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	LastLoginAt *time.Time  `json:"last_login_at"`
	LastSeenAt  *time.Time  `json:"last_seen_at"`
	PurgeAfter  *time.Time  `json:"purge_after"`
	// InvitationID is the pending invitation of an invited user (the one to
	// resend or cancel); null otherwise.
	InvitationID *string `json:"invitation_id"`
	// Stats is filled by the routes that promise it (GET /me, GET /users/{id}).
	Stats *Stats `json:"stats,omitempty"`

	// PasswordHash is the argon2id hash; empty while invited.
	PasswordHash string `json:"-"`
	// Version increases with every change and guards against lost updates.
	Version int `json:"-"`
	// SessionGen is bumped to end every session of the user at once: a
	// session is valid only while it carries the user's current generation.
	SessionGen int `json:"-"`
	// FailedLogins counts consecutive failed sign-ins; LastFailedAt is the
	// latest. Together they decide the throttle (see auth).
	FailedLogins int       `json:"-"`
	LastFailedAt time.Time `json:"-"`
	// StatusBefore is, while in deletion, the status a restore brings back.
	StatusBefore Status `json:"-"`
	// Forget, on an anonymized user, are the traces (see Traces) of what
	// identified them, kept until their data has been removed from
	// everywhere else it was stored (see Store.Forget).
	Forget []string `json:"-"`
}

// Stats are counts about a user, exact at read time.
type Stats struct {
	ActiveSessions int `json:"active_sessions"`
	APIKeys        int `json:"api_keys"`
}

// SessionRef is what deciding whether a session is usable takes.
type SessionRef struct {
	ID           string
	ExpiresAt    time.Time
	LastActiveAt time.Time
	// Gen is the user's session generation when the session began.
	Gen int
}

// Active reports whether the session is usable at now for a user at
// generation gen: of that generation, before its absolute expiry and not
// idle longer than idle. Expiry is decided here, at read time; the table's
// TTL only cleans up.
func (s SessionRef) Active(gen int, now time.Time, idle time.Duration) bool {
	return s.Gen == gen && now.Before(s.ExpiresAt) && now.Before(s.LastActiveAt.Add(idle))
}

// KeyRef is what deciding whether a personal API key works takes.
type KeyRef struct {
	ID string
	// ExpiresAt is nil for a key that never expires.
	ExpiresAt *time.Time
	// Gen is the user's session generation when the key was made.
	Gen int
}

// Live reports whether the key works at now for a user at generation gen:
// of that generation and not expired.
func (k KeyRef) Live(gen int, now time.Time) bool {
	return k.Gen == gen && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// Live is what a user holds: its sessions and its personal API keys, as
// the stats count them.
type Live struct {
	Sessions []SessionRef
	Keys     []KeyRef
}

// StatsAt counts the user's sessions and keys usable at now.
func (u *User) StatsAt(l Live, now time.Time, idle time.Duration) *Stats {
	st := &Stats{}
	for _, s := range l.Sessions {
		if s.Active(u.SessionGen, now, idle) {
			st.ActiveSessions++
		}
	}
	for _, k := range l.Keys {
		if k.Live(u.SessionGen, now) {
			st.APIKeys++
		}
	}
	return st
}

// Revision identifies the user's version: the ETag of its representation,
// which If-Match names to make a change apply only to what the client read.
// Activity (last_seen_at) does not change it.
func (u *User) Revision() string { return strconv.Itoa(u.Version) }

// Team returns the team id, or "" when the user has none.
func (u *User) Team() string {
	if u.TeamID == nil {
		return ""
	}
	return *u.TeamID
}

// Clone returns a deep copy, so an update can be computed beside the original.
func (u *User) Clone() *User {
	c := *u
	c.Username = clonePtr(u.Username)
	c.TeamID = clonePtr(u.TeamID)
	c.Usage = clonePtr(u.Usage)
	c.LastLoginAt = clonePtr(u.LastLoginAt)
	c.LastSeenAt = clonePtr(u.LastSeenAt)
	c.PurgeAfter = clonePtr(u.PurgeAfter)
	c.InvitationID = clonePtr(u.InvitationID)
	c.Forget = slices.Clone(u.Forget)
	c.Stats = nil
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Errors of the users concept.
var (
	ErrEmailTaken    = apperr.Conflict("email_taken", "A user with this email already exists.")
	ErrUsernameTaken = apperr.Conflict("username_taken", "A user with this username already exists.")
	ErrLastAdmin     = apperr.Conflict("last_admin", "At least one active admin must remain.")
	ErrNoSeats       = apperr.Conflict("no_seats", "All licenses are in use.")
	ErrInvalidState  = apperr.Conflict("invalid_state", "The user's status does not allow this.")
	ErrNotFound      = apperr.NotFound("not_found", "No such user.")
	ErrTeamNotFound  = apperr.Validation(apperr.FieldError{Field: "team_id", Message: "no such team"})
	// ErrChanged reports that the user changed between read and write; the
	// service retries on it, so clients only see it under heavy contention.
	ErrChanged = apperr.Contended("The user")
)
