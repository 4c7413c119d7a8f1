package audit

import (
	"context"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/ids"
)

// Event is one audit log entry. Details never hold a password, a token or a
// hash; they name what changed.
type Event struct {
	ID         string           `json:"id"`
	At         time.Time        `json:"at"`
	ActorType  access.ActorType `json:"actor_type"`
	ActorID    string           `json:"actor_id"`
	Action     string           `json:"action"`
	TargetType string           `json:"target_type"`
	TargetID   string           `json:"target_id"`
	IP         string           `json:"ip"`
	RequestID  string           `json:"request_id"`
	Details    map[string]any   `json:"details"`
	// Person is the email trace (users.EmailTrace) of the person an event
	// about an invitation concerns, who may not be a user yet or any more:
	// anonymizing them finds the event by it. Never answered.
	Person string `json:"-"`
}

// New returns the event for an action on a target by the request's actor. A
// request without an authenticated actor (sign-in, jobs) is acted by the
// system unless the caller sets ActorType and ActorID itself.
func New(ctx context.Context, action, targetType, targetID string, details map[string]any) Event {
	req := access.RequestFrom(ctx)
	ev := Event{
		ID:         ids.New("evt"),
		At:         req.Now,
		ActorType:  access.ActorSystem,
		ActorID:    "system",
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		IP:         req.IP,
		RequestID:  req.ID,
		Details:    details,
	}
	if a, ok := access.ActorFrom(ctx); ok {
		ev.ActorType, ev.ActorID = a.Type, a.ID
	}
	if ev.Details == nil {
		ev.Details = map[string]any{}
	}
	return ev
}

// About returns ev concerning the person whose email has that trace (see
// Person).
func (ev Event) About(person string) Event {
	ev.Person = person
	return ev
}

// ByUser returns ev acted by the user with that id: sign-in and sign-out,
// where the actor is not yet (or no longer) in the context.
func (ev Event) ByUser(userID string) Event {
	ev.ActorType, ev.ActorID = access.ActorUser, userID
	return ev
}
