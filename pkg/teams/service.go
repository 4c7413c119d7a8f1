package teams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/retry"
)

// Store is what the teams service needs from storage.
type Store interface {
	// ListTeams returns a page of the teams that are not being deleted, by
	// name ignoring case. Errors: paging.ErrBadCursor.
	ListTeams(ctx context.Context, q ListQuery) (Page, error)
	// ReadTeam reads a team, strongly consistent, one being deleted
	// included (Deleting). Errors: ErrNotFound.
	ReadTeam(ctx context.Context, id string) (Team, error)
	// CreateTeam writes a new team, the uniqueness of its name and ev in
	// one transaction. Errors: ErrNameTaken.
	CreateTeam(ctx context.Context, t Team, ev audit.Event) error
	// UpdateTeam writes after if before's version is still current and the
	// team is not being deleted, moving the uniqueness of its name when
	// the name changes other than in case, with ev, in one transaction.
	// Errors: ErrChanged, ErrNotFound, ErrNameTaken.
	UpdateTeam(ctx context.Context, before, after Team, ev audit.Event) error
	// DeleteTeam deletes t: with ev, it first marks the team deleting (if
	// it is still at t's version) and frees its name, with ev, in one
	// transaction; without ev (t is already deleting) it resumes. Then it
	// unassigns the team's users (stamped now), their sessions and the
	// team's invitations, the member count moving with each batch of
	// users, and removes the team once none is left. Errors: ErrChanged,
	// ErrNotFound, unavailable when the team's users could not all be
	// found in time (the team stays deleting: deleting again resumes).
	DeleteTeam(ctx context.Context, t Team, ev *audit.Event, now time.Time) error
}

// Service holds the rules of the teams concept.
type Service struct {
	store Store
}

// NewService returns a Service over store.
func NewService(store Store) *Service { return &Service{store: store} }

func actorOf(ctx context.Context) (access.Actor, error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return access.Actor{}, apperr.ErrUnauthorized
	}
	return a, nil
}

// admin returns the actor if it is an admin.
func admin(ctx context.Context) (access.Actor, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return a, err
	}
	if a.Role != access.Admin {
		return a, apperr.ErrForbidden
	}
	return a, nil
}

// matches reports whether a revision satisfies a client's If-Match: nil
// accepts any.
func matches(ifMatch []string, revision string) bool {
	return ifMatch == nil || slices.Contains(ifMatch, revision)
}

// List returns a page of teams by name: every team for admins; a manager's
// own team only (none without one). Errors: forbidden, validation_failed
// (a cursor the list did not issue).
func (s *Service) List(ctx context.Context, q ListQuery) (Page, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return Page{}, err
	}
	switch a.Role {
	case access.Admin:
		return s.store.ListTeams(ctx, q)
	case access.Manager:
	default:
		return Page{}, apperr.ErrForbidden
	}
	// A manager's list is one page of at most one team: it issues no
	// cursor, so none is one of its own.
	if q.Cursor != "" {
		return Page{}, paging.ErrBadCursor
	}
	empty := Page{Items: []Team{}}
	if a.TeamID == "" {
		return empty, nil
	}
	t, err := s.store.ReadTeam(ctx, a.TeamID)
	switch {
	case errors.Is(err, ErrNotFound):
		return empty, nil
	case err != nil:
		return Page{}, err
	case t.Deleting:
		return empty, nil
	}
	return Page{Items: []Team{t}}, nil
}

// Create makes a team. Admins only.
// Errors: forbidden, validation_failed, team_name_taken.
func (s *Service) Create(ctx context.Context, in Input) (Team, error) {
	if _, err := admin(ctx); err != nil {
		return Team{}, err
	}
	name, bad := in.name()
	if err := bad.Err(); err != nil {
		return Team{}, err
	}
	t := Team{ID: ids.New("team"), Name: name, CreatedAt: access.RequestFrom(ctx).Now, Version: 1}
	ev := audit.New(ctx, "team.created", "team", t.ID, map[string]any{"name": name})
	if err := s.store.CreateTeam(ctx, t, ev); err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	return t, nil
}

// Update renames a team. Admins only. With ifMatch (the revisions the
// client accepts, from If-Match) the change applies only to a team still at
// one of them. A name that changes nothing writes nothing.
// Errors: forbidden, not_found, validation_failed, team_name_taken,
// precondition_failed.
func (s *Service) Update(ctx context.Context, id string, in Input, ifMatch []string) (Team, error) {
	if _, err := admin(ctx); err != nil {
		return Team{}, err
	}
	if !ids.Valid("team", id) {
		return Team{}, ErrNotFound
	}
	name, bad := in.name()
	if err := bad.Err(); err != nil {
		return Team{}, err
	}
	var out Team
	err := retry.Optimistic(ctx, ErrChanged, func() error {
		t, err := s.store.ReadTeam(ctx, id)
		if err != nil {
			return err
		}
		if t.Deleting {
			return ErrNotFound
		}
		if !matches(ifMatch, t.Revision()) {
			return apperr.ErrPrecondition
		}
		if t.Name == name {
			out = t
			return nil
		}
		next := t
		next.Name, next.Version = name, t.Version+1
		ev := audit.New(ctx, "team.updated", "team", id, map[string]any{"name": map[string]any{"from": t.Name, "to": name}})
		if err := s.store.UpdateTeam(ctx, t, next, ev); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return Team{}, fmt.Errorf("update team %s: %w", id, err)
	}
	return out, nil
}

// Delete removes a team, unassigning its users first (their sessions and
// the team's invitations lose it too). Admins only. Deleting a team whose
// deletion was interrupted finishes it. Errors: forbidden, not_found,
// unavailable.
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := admin(ctx); err != nil {
		return err
	}
	if !ids.Valid("team", id) {
		return ErrNotFound
	}
	now := access.RequestFrom(ctx).Now
	err := retry.Optimistic(ctx, ErrChanged, func() error {
		t, err := s.store.ReadTeam(ctx, id)
		if err != nil {
			return err
		}
		var ev *audit.Event
		if !t.Deleting {
			e := audit.New(ctx, "team.deleted", "team", id, map[string]any{"name": t.Name, "member_count": t.MemberCount})
			ev = &e
		}
		return s.store.DeleteTeam(ctx, t, ev, now)
	})
	if err != nil {
		return fmt.Errorf("delete team %s: %w", id, err)
	}
	return nil
}
