package access

import (
	"context"
	"time"
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
}

// Request is what the api layer knows of a request that the domain records:
// where it came from and its id. It is set on every request, signed in or not.
type Request struct {
	ID        string
	IP        string
	UserAgent string
	// Now is when the request arrived; services use it as "now" so that one
	// request sees one time.
	Now time.Time
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

// WithRequest returns ctx carrying the request's facts.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request's facts; outside a request (jobs, tools) it
// returns a Request stamped with the current time.
func RequestFrom(ctx context.Context) Request {
	if r, ok := ctx.Value(requestKey{}).(Request); ok {
		return r
	}
	return Request{Now: time.Now().UTC()}
}
