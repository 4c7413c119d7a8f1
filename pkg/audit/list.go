package audit

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/paging"
)

// Query selects a page of audit events: every filter set narrows it.
type Query struct {
	ActorID, TargetID, Action string
	// Since keeps the events at or after it.
	Since  time.Time
	Limit  int
	Cursor string
}

// Page is one page of audit events, newest first.
type Page = paging.Page[Event]

// Store is what listing the audit log needs from storage.
type Store interface {
	// ListAuditEvents returns a page of events, newest first, from the
	// index of the most selective filter. Errors: paging.ErrBadCursor.
	ListAuditEvents(ctx context.Context, q Query) (Page, error)
}

// Service lists the audit log.
type Service struct{ store Store }

// NewService returns a Service over store.
func NewService(store Store) *Service { return &Service{store: store} }

// idPattern is what an actor or target id looks like: "usr_...", "key_...",
// "system".
var idPattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// actionPattern is what an action looks like: "user.deactivated".
var actionPattern = regexp.MustCompile(`^[a-z_]{1,40}\.[a-z_]{1,40}$`)

// List returns a page of audit events, newest first, for admins.
// Errors: validation_failed, forbidden.
func (s *Service) List(ctx context.Context, q Query) (Page, error) {
	if a, ok := access.ActorFrom(ctx); !ok || a.Role != access.Admin {
		return Page{}, apperr.ErrForbidden
	}
	var bad apperr.Fields
	if q.ActorID != "" && !idPattern.MatchString(q.ActorID) {
		bad.Add("actor_id", "is not an id")
	}
	if q.TargetID != "" && !idPattern.MatchString(q.TargetID) {
		bad.Add("target_id", "is not an id")
	}
	if q.Action != "" && !actionPattern.MatchString(q.Action) {
		bad.Add("action", `is not an action, such as "user.deactivated"`)
	}
	if err := bad.Err(); err != nil {
		return Page{}, err
	}
	p, err := s.store.ListAuditEvents(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list audit events: %w", err)
	}
	return p, nil
}
