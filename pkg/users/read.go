package users

import (
	"context"
	"fmt"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/settings"
)

// Get returns a user with stats, if the caller may see them.
// Errors: not_found (also for users the caller may not see).
func (s *Service) Get(ctx context.Context, id string) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Valid("usr", id) {
		return nil, ErrNotFound
	}
	u, err := s.withStats(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.Sees(u.Team(), u.Role) {
		return nil, ErrNotFound
	}
	return u, nil
}

// Me returns the caller's own user with stats. Errors: not_found for an
// actor that is no user (a system API key).
func (s *Service) Me(ctx context.Context) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if a.UserID == "" {
		return nil, ErrNotFound
	}
	return s.withStats(ctx, a.UserID)
}

// withStats reads the user and counts its stats. A route that answers with
// stats has both read with its authentication, at the same time, in one
// round trip of latency.
func (s *Service) withStats(ctx context.Context, id string) (*User, error) {
	st, err := s.settingsFor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.read(ctx, id, false)
	if err != nil {
		return nil, err
	}
	r, _ := ReadFrom(ctx)
	live, ok := r.Live[id]
	if !ok {
		if live, err = s.store.GetLive(ctx, id); err != nil {
			return nil, err
		}
	}
	u.Stats = u.StatsAt(live, access.RequestFrom(ctx).Now, time.Duration(st.SessionIdleHours)*time.Hour)
	return u, nil
}

// ListQuery selects a page of users.
type ListQuery struct {
	Status Status
	Role   access.Role
	TeamID string
	Usage  Usage
	// Search is the search parameter as given; List parses it into Words.
	Search string
	Words  Search
	// Hide leaves the users of this role out: a manager's list has no
	// admins.
	Hide   access.Role
	Limit  int
	Cursor string
}

// Admits reports whether the user passes the query's filters other than
// the search.
func (q ListQuery) Admits(u *User) bool {
	switch {
	case q.Status != "" && u.Status != q.Status,
		q.Role != "" && u.Role != q.Role,
		q.TeamID != "" && u.Team() != q.TeamID,
		q.Usage != "" && (u.Usage == nil || *u.Usage != q.Usage),
		q.Hide != "" && u.Role == q.Hide:
		return false
	}
	return true
}

// Page is one page of users.
type Page = paging.Page[*User]

// List returns a page of users, newest first. A manager sees the non-admin
// users of their own team only. Errors: validation_failed, forbidden.
func (s *Service) List(ctx context.Context, q ListQuery) (Page, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return Page{}, err
	}
	var bad apperr.Fields
	if q.Status != "" && !q.Status.Valid() {
		bad.Add("status", "must be one of invited, active, deactivated, in_deletion, anonymized")
	}
	if q.Role != "" && !q.Role.Valid() {
		bad.Add("role", "must be one of admin, manager, member")
	}
	if q.Usage != "" && !q.Usage.Valid() {
		bad.Add("usage", "must be one of registered, connected, used")
	}
	if q.TeamID != "" && !ids.Valid("team", q.TeamID) {
		bad.Add("team_id", "no such team")
	}
	var msg string
	if q.Words, msg = ParseSearch(q.Search); msg != "" {
		bad.Add("search", msg)
	}
	if err := bad.Err(); err != nil {
		return Page{}, err
	}
	scope, err := a.ListScope(q.TeamID)
	switch {
	case err != nil:
		return Page{}, err
	case scope.None:
		return Page{Items: []*User{}}, nil
	}
	q.TeamID, q.Hide = scope.TeamID, scope.Hide
	page, err := s.store.ListUsers(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list users: %w", err)
	}
	return page, nil
}

// Summary returns the usage summary, exact. Errors: forbidden.
func (s *Service) Summary(ctx context.Context) (Summary, error) {
	if a, err := actorOf(ctx); err != nil || a.Role != access.Admin {
		return Summary{}, apperr.ErrForbidden
	}
	// The authentication read the counters with the settings, moments ago.
	if r, ok := ReadFrom(ctx); ok {
		if st, ok := settings.FromContext(ctx); ok {
			return SummaryOf(r.Counts, st.LicenseCount), nil
		}
	}
	st, c, err := s.store.GetCounts(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("summary: %w", err)
	}
	return SummaryOf(c, st.LicenseCount), nil
}
