package access

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
)

// Role is a user's or a system API key's role.
type Role string

const (
	Admin   Role = "admin"
	Manager Role = "manager"
	Member  Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Admin || r == Manager || r == Member }

// rank orders roles so that AtLeast can compare them.
func (r Role) rank() int {
	switch r {
	case Admin:
		return 3
	case Manager:
		return 2
	case Member:
		return 1
	}
	return 0
}

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

// ActorType is what acted: a signed-in user, an API key or the system (jobs).
type ActorType string

const (
	ActorUser   ActorType = "user"
	ActorAPIKey ActorType = "api_key"
	ActorSystem ActorType = "system"
)

// Actor is the authenticated caller of one request.
type Actor struct {
	Type ActorType
	// ID is the user's id for a session, the key's id for an API key.
	ID string
	// UserID is the user acted for: the session's user, or a personal key's
	// owner. Empty for system keys and jobs.
	UserID string
	Role   Role
	// TeamID is the user's team ("" when none), which scopes a manager.
	TeamID string
	// SessionID is the session used, if any.
	SessionID string
	// KeyID is the API key used, if any: a personal key (Type is user,
	// acting as its owner) or a system key (Type is api_key, ID the key).
	KeyID string
	// KeyExpiresAt is when that key expires; nil for never. A key mints no
	// key that outlives it.
	KeyExpiresAt *time.Time
}

// HasAccount reports whether the actor acts as a user of its own: a
// session, or a personal key. A system key (and a job) has no account, so
// no /me.
func (a Actor) HasAccount() bool { return a.UserID != "" }

// ByKey reports whether the actor authenticated with an API key.
func (a Actor) ByKey() bool { return a.KeyID != "" }

// Request is what the api layer knows of a request that the domain records:
// where it came from and its id. It is set on every request, signed in or
// not, and on every run of a job.
type Request struct {
	ID        string
	IP        string
	UserAgent string
	// Route is the name of the route (or job) being served.
	Route string
	// Now is when the request arrived; services use it as "now" so that one
	// request sees one time. It has at most millisecond precision, like
	// every time the service stores or returns.
	Now time.Time
	// Calls, if set, counts the DynamoDB requests made for the request
	// (pkg/dynamo's transport adds to it): its log line reports them.
	Calls *atomic.Int32
}

type actorKey struct{}
type requestKey struct{}

// WithActor returns ctx carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the request's actor, if one was authenticated.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// WithRequest returns ctx carrying the request's facts, its time truncated
// to the millisecond and in UTC.
func WithRequest(ctx context.Context, r Request) context.Context {
	r.Now = Millis(r.Now)
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request's facts; outside a request (tools) it
// returns a Request stamped with the current time.
func RequestFrom(ctx context.Context) Request {
	if r, ok := ctx.Value(requestKey{}).(Request); ok {
		return r
	}
	return Request{Now: Millis(time.Now())}
}

// Millis is t in UTC with at most millisecond precision: the precision of
// every time the service stores and returns, which every RFC 3339 parser
// reads.
func Millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// Sees reports whether the actor may see a user of the given team and role
// (or what belongs to one: an invitation, a session): admins see everyone,
// managers the non-admin users of their own team, and a manager without a
// team no one. What an actor does not see does not exist for it: routes
// answer not_found, so ids of other teams do not leak.
func (a Actor) Sees(team string, role Role) bool {
	switch a.Role {
	case Admin:
		return true
	case Manager:
		return a.TeamID != "" && team == a.TeamID && role != Admin
	}
	return false
}

// Manages reports whether the actor may act on a user of the given team and
// role: admins on anyone, managers on the non-admin users of their team
// (those they see).
func (a Actor) Manages(team string, role Role) bool { return a.Sees(team, role) }

// Scope is what a list shows an actor: the team it is narrowed to ("" for
// every team), the role it leaves out ("" for none), or nothing at all.
type Scope struct {
	TeamID string
	Hide   Role
	None   bool
}

// ErrOtherTeam refuses a manager's filter on a team that is not theirs.
var ErrOtherTeam = apperr.Forbidden("forbidden", "Managers see their own team only.")

// ListScope narrows a list of users (or of what belongs to them), filtered
// by team or not (""), to what the actor sees: an admin what they ask; a
// manager the non-admins of their own team, another team being
// ErrOtherTeam and no team nothing; anyone else is forbidden.
func (a Actor) ListScope(team string) (Scope, error) {
	switch a.Role {
	case Admin:
		return Scope{TeamID: team}, nil
	case Manager:
		switch {
		case team != "" && team != a.TeamID:
			return Scope{}, ErrOtherTeam
		case a.TeamID == "":
			return Scope{None: true}, nil
		}
		return Scope{TeamID: a.TeamID, Hide: Admin}, nil
	}
	return Scope{}, apperr.ErrForbidden
}
