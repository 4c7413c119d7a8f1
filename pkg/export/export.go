// Package export writes everything stored about a user as one JSON
// document: the data-subject export an admin hands over on request. The
// document is written as it is read, a page of DynamoDB at a time, so a user
// with thousands of records exports in bounded memory.
//
// It imports the domain packages whose records it writes.
package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/invitations"
	"github.com/usermgmt/ums/pkg/users"
)

// Store reads what is stored about a user, calling fn for each record in
// turn, newest first where the record has a time. The partition read
// (the user's sessions and keys) is strongly consistent; the others come
// from indexes.
type Store interface {
	// EachHeld calls the functions with the user's sessions and personal
	// keys, from one query of their partition.
	EachHeld(ctx context.Context, userID string, session func(*auth.Session) error, key func(*auth.APIKey) error) error
	// EachInvitation calls fn with the invitations to the email trace and
	// those the user sent.
	EachInvitation(ctx context.Context, userID, emailTrace string, fn func(*invitations.Invitation) error) error
	// EachAttempt calls fn with the sign-in attempts that named the user.
	EachAttempt(ctx context.Context, userID string, fn func(*auth.Attempt) error) error
	// EachAuditEvent calls fn with the events the user acted in (by) or
	// that are about them (about).
	EachAuditEvent(ctx context.Context, userID string, by bool, fn func(audit.Event) error) error
}

// Service writes exports.
type Service struct{ store Store }

// NewService returns a Service over store.
func NewService(store Store) *Service { return &Service{store: store} }

// Check decides, before anything is written, whether the caller may export
// the user: admins only, a user that exists. Errors: forbidden, not_found.
func (s *Service) Check(ctx context.Context, id string) (*users.User, error) {
	if a, ok := access.ActorFrom(ctx); !ok || a.Role != access.Admin {
		return nil, apperr.ErrForbidden
	}
	if !ids.Valid("usr", id) {
		return nil, users.ErrNotFound
	}
	r, _ := users.ReadFrom(ctx)
	u := r.Users[id]
	if u == nil {
		return nil, users.ErrNotFound
	}
	return u, nil
}

// Write writes the export of u to w:
//
//	{"exported_at", "user", "sessions": [...], "api_keys": [...],
//	 "invitations": [...], "login_attempts": [...],
//	 "audit_events": {"by_user": [...], "about_user": [...]},
//	 "complete": true}
//
// Each record is written as it is read. "complete" comes last: a document
// without it was cut short (the read failed after the answer had begun),
// and its error is returned for the log.
func (s *Service) Write(ctx context.Context, w io.Writer, u *users.User) error {
	x := &writer{w: w}
	x.raw(`{"exported_at":`)
	x.value(access.RequestFrom(ctx).Now.Format(time.RFC3339Nano))
	x.raw(`,"user":`)
	x.value(u)

	var sessions, keys []byte
	err := s.store.EachHeld(ctx, u.ID,
		func(s *auth.Session) error { return appendJSON(&sessions, s) },
		func(k *auth.APIKey) error { return appendJSON(&keys, k) })
	if err != nil {
		return fmt.Errorf("export %s: %w", u.ID, err)
	}
	// Sessions and keys are the user's partition, bounded by what one user
	// holds (keys at most 50); they are buffered to come out as two lists.
	x.raw(`,"sessions":[`)
	x.raw(string(sessions))
	x.raw(`],"api_keys":[`)
	x.raw(string(keys))
	x.raw(`],"invitations":`)
	if err := x.list(func(emit func(any) error) error {
		return s.store.EachInvitation(ctx, u.ID, users.EmailTrace(u.Email), func(inv *invitations.Invitation) error { return emit(inv) })
	}); err != nil {
		return fmt.Errorf("export %s: %w", u.ID, err)
	}
	x.raw(`,"login_attempts":`)
	if err := x.list(func(emit func(any) error) error {
		return s.store.EachAttempt(ctx, u.ID, func(a *auth.Attempt) error { return emit(a) })
	}); err != nil {
		return fmt.Errorf("export %s: %w", u.ID, err)
	}
	for i, by := range []bool{true, false} {
		x.raw([]string{`,"audit_events":{"by_user":`, `,"about_user":`}[i])
		if err := x.list(func(emit func(any) error) error {
			return s.store.EachAuditEvent(ctx, u.ID, by, func(ev audit.Event) error { return emit(ev) })
		}); err != nil {
			return fmt.Errorf("export %s: %w", u.ID, err)
		}
	}
	x.raw(`},"complete":true}`)
	return x.err
}

// writer writes JSON to w, remembering the first error.
type writer struct {
	w   io.Writer
	err error
}

func (x *writer) raw(s string) {
	if x.err == nil {
		_, x.err = io.WriteString(x.w, s)
	}
}

func (x *writer) value(v any) {
	if x.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		x.err = err
		return
	}
	_, x.err = x.w.Write(b)
}

// list writes a JSON array of what each emits, as it emits it.
func (x *writer) list(each func(emit func(any) error) error) error {
	x.raw("[")
	n := 0
	err := each(func(v any) error {
		if n > 0 {
			x.raw(",")
		}
		n++
		x.value(v)
		return x.err
	})
	x.raw("]")
	if err != nil {
		return err
	}
	return x.err
}

func appendJSON(dst *[]byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(*dst) > 0 {
		*dst = append(*dst, ',')
	}
	*dst = append(*dst, b...)
	return nil
}
