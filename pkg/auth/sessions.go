package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// SessionStore is what listing and ending sessions and reading sign-in
// attempts need from storage.
type SessionStore interface {
	// UserSessions reads the user and their sessions in one strongly
	// consistent query of their partition. Errors: users.ErrNotFound.
	UserSessions(ctx context.Context, userID string) (*users.User, []*Session, error)
	// ListSessions returns a page of sessions, newest first: every one, or
	// those of a team's users (TeamID).
	ListSessions(ctx context.Context, q SessionQuery) (paging.Page[*Session], error)
	// SessionByID finds a session by its id alone. Errors: ErrNoSession.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// ListAttempts returns a page of sign-in attempts, newest first.
	ListAttempts(ctx context.Context, q AttemptQuery) (paging.Page[*Attempt], error)
}

// ErrNoSession answers a session that does not exist, has ended, or is not
// the caller's to see.
var ErrNoSession = apperr.NotFound("not_found", "No such session.")

// SessionQuery selects a page of sessions.
type SessionQuery struct {
	UserID, TeamID string
	Limit          int
	Cursor         string
}

// live keeps the sessions usable at now for a user at generation gen, or
// for any generation when gen is negative (a list across users, whose
// ended sessions are deleted when they end).
func live(ss []*Session, gen int, now time.Time, st settings.Settings) []*Session {
	idle := time.Duration(st.SessionIdleHours) * time.Hour
	out := make([]*Session, 0, len(ss))
	for _, s := range ss {
		g := gen
		if g < 0 {
			g = s.Gen
		}
		if s.Ref().Active(g, now, idle) {
			out = append(out, s)
		}
	}
	return out
}

// mark sets Current on the caller's own session.
func mark(ss []*Session, a access.Actor) []*Session {
	for _, s := range ss {
		s.Current = s.ID == a.SessionID && a.SessionID != ""
	}
	return ss
}

// sessionsOf is every usable session of a user, newest first, in one page.
func (s *Service) sessionsOf(ctx context.Context, a access.Actor, id string, visible func(*users.User) error) (paging.Page[*Session], error) {
	u, ss, err := s.store.UserSessions(ctx, id)
	if errors.Is(err, users.ErrNotFound) {
		return paging.Page[*Session]{}, users.ErrNotFound
	}
	if err != nil {
		return paging.Page[*Session]{}, fmt.Errorf("sessions of %s: %w", id, err)
	}
	if err := visible(u); err != nil {
		return paging.Page[*Session]{}, err
	}
	st, _ := settings.FromContext(ctx)
	return paging.Page[*Session]{Items: mark(live(ss, u.SessionGen, access.RequestFrom(ctx).Now, st), a)}, nil
}

// MySessions lists the caller's own usable sessions, theirs marked
// current. Errors: unauthorized.
func (s *Service) MySessions(ctx context.Context) (paging.Page[*Session], error) {
	a, ok := access.ActorFrom(ctx)
	if !ok || a.UserID == "" {
		return paging.Page[*Session]{}, apperr.ErrUnauthorized
	}
	return s.sessionsOf(ctx, a, a.UserID, func(*users.User) error { return nil })
}

// EndMySession ends one of the caller's own sessions (their current one
// too, like a sign-out). Another user's session is not_found: its key
// follows from the caller, so it is never even read.
func (s *Service) EndMySession(ctx context.Context, id string) error {
	a, ok := access.ActorFrom(ctx)
	if !ok || a.UserID == "" {
		return apperr.ErrUnauthorized
	}
	if !ids.Valid("ses", id) {
		return ErrNoSession
	}
	return s.end(ctx, a.UserID, id, "revoked_by_user")
}

// end deletes a session with its event.
func (s *Service) end(ctx context.Context, userID, id, reason string) error {
	ev := audit.New(ctx, "session.ended", "session", id, map[string]any{"user_id": userID, "reason": reason})
	err := s.store.DeleteSession(ctx, userID, id, ev)
	if errors.Is(err, apperr.ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("end session %s: %w", id, err)
	}
	return nil
}

// UserSessions lists a user's usable sessions, for admins and the
// managers of the user's team. Errors: not_found.
func (s *Service) UserSessions(ctx context.Context, id string) (paging.Page[*Session], error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return paging.Page[*Session]{}, apperr.ErrUnauthorized
	}
	if !ids.Valid("usr", id) {
		return paging.Page[*Session]{}, users.ErrNotFound
	}
	return s.sessionsOf(ctx, a, id, func(u *users.User) error {
		if !a.Sees(u.Team(), u.Role) {
			return users.ErrNotFound
		}
		return nil
	})
}

// ErrOtherTeam refuses a manager's filter on what is not their team's.
var ErrOtherTeam = access.ErrOtherTeam

// ListSessions lists sessions newest first: every one for admins, those of
// their team's users for managers; with user_id, that user's (all of them,
// in one page). Errors: validation_failed, forbidden.
func (s *Service) ListSessions(ctx context.Context, q SessionQuery) (paging.Page[*Session], error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return paging.Page[*Session]{}, apperr.ErrUnauthorized
	}
	if q.UserID != "" {
		if !ids.Valid("usr", q.UserID) {
			return paging.Page[*Session]{}, apperr.Validation(apperr.FieldError{Field: "user_id", Message: "no such user"})
		}
		if q.Cursor != "" {
			// One user's sessions are one page: a cursor is none of its.
			return paging.Page[*Session]{}, paging.ErrBadCursor
		}
		p, err := s.sessionsOf(ctx, a, q.UserID, func(u *users.User) error {
			if !a.Sees(u.Team(), u.Role) {
				return ErrOtherTeam
			}
			return nil
		})
		switch {
		case errors.Is(err, users.ErrNotFound) && a.Role != access.Admin:
			// To a manager, a user who does not exist is one who is not in
			// their team: the answer tells nothing more.
			return paging.Page[*Session]{}, ErrOtherTeam
		case errors.Is(err, users.ErrNotFound):
			return paging.Page[*Session]{Items: []*Session{}}, nil
		}
		return p, err
	}
	switch a.Role {
	case access.Admin:
	case access.Manager:
		if a.TeamID == "" {
			return paging.Page[*Session]{Items: []*Session{}}, nil
		}
		q.TeamID = a.TeamID
	default:
		return paging.Page[*Session]{}, apperr.ErrForbidden
	}
	p, err := s.store.ListSessions(ctx, q)
	if err != nil {
		return paging.Page[*Session]{}, fmt.Errorf("list sessions: %w", err)
	}
	st, _ := settings.FromContext(ctx)
	p.Items = mark(live(p.Items, -1, access.RequestFrom(ctx).Now, st), a)
	return p, nil
}

// EndSession ends a session by its id, for admins and for the managers of
// its user's team (not an admin's). Errors: not_found, forbidden.
func (s *Service) EndSession(ctx context.Context, id string) error {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return apperr.ErrUnauthorized
	}
	if !ids.Valid("ses", id) {
		return ErrNoSession
	}
	sess, err := s.store.SessionByID(ctx, id)
	if err != nil {
		return err
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if errors.Is(err, users.ErrNotFound) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("end session %s: %w", id, err)
	}
	switch {
	case !a.Sees(u.Team(), u.Role):
		return ErrNoSession
	}
	return s.end(ctx, u.ID, id, "revoked")
}

// AttemptQuery selects a page of sign-in attempts.
type AttemptQuery struct {
	UserID  string
	Success *bool
	// Since keeps the attempts at or after it.
	Since  time.Time
	Limit  int
	Cursor string
}

// AttemptRetention is how long sign-in attempts are kept (and shown: an
// older one is never listed, even before the table's TTL removes it).
const AttemptRetention = 90 * 24 * time.Hour

// ListAttempts lists sign-in attempts newest first, for admins, over the
// last 90 days. Errors: validation_failed, forbidden.
func (s *Service) ListAttempts(ctx context.Context, q AttemptQuery) (paging.Page[*Attempt], error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return paging.Page[*Attempt]{}, apperr.ErrUnauthorized
	}
	if a.Role != access.Admin {
		return paging.Page[*Attempt]{}, apperr.ErrForbidden
	}
	if q.UserID != "" && !ids.Valid("usr", q.UserID) {
		return paging.Page[*Attempt]{}, apperr.Validation(apperr.FieldError{Field: "user_id", Message: "no such user"})
	}
	if oldest := access.RequestFrom(ctx).Now.Add(-AttemptRetention); q.Since.Before(oldest) {
		q.Since = oldest
	}
	p, err := s.store.ListAttempts(ctx, q)
	if err != nil {
		return paging.Page[*Attempt]{}, fmt.Errorf("list attempts: %w", err)
	}
	return p, nil
}
