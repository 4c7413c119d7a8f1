package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/opt"
	"github.com/usermgmt/ums/pkg/retry"
)

// Patch is the body of PATCH /users/{id}. Absent fields stay as they are;
// null clears username and team_id and resets display_name.
type Patch struct {
	GivenName   opt.Field[string] `json:"given_name"`
	FamilyName  opt.Field[string] `json:"family_name"`
	DisplayName opt.Field[string] `json:"display_name"`
	Email       opt.Field[string] `json:"email"`
	Username    opt.Field[string] `json:"username"`
	Role        opt.Field[string] `json:"role"`
	TeamID      opt.Field[string] `json:"team_id"`
}

// Check names the patch's bad fields (see api.Checker).
func (p Patch) Check(context.Context) apperr.Fields {
	_, _, bad := apply(&User{}, p)
	return bad
}

// MePatch is the body of PATCH /me: the caller may change their names only.
type MePatch struct {
	GivenName   opt.Field[string] `json:"given_name"`
	FamilyName  opt.Field[string] `json:"family_name"`
	DisplayName opt.Field[string] `json:"display_name"`
}

func (p MePatch) patch() Patch {
	return Patch{GivenName: p.GivenName, FamilyName: p.FamilyName, DisplayName: p.DisplayName}
}

// Check names the patch's bad fields (see api.Checker).
func (p MePatch) Check(ctx context.Context) apperr.Fields { return p.patch().Check(ctx) }

// ownOnlyFields are what no one changes of their own account through
// PATCH /users/{id} (self_action): a leaked key or an unattended session
// must not be a way to move the account's sign-in or privileges.
var ownOnlyFields = []string{"email", "username", "role", "team_id"}

// Update changes a user. Managers may change the names, email and username of
// the non-admin users of their team; role and team are for admins. No one
// changes their own email, username, role or team here (self_action). With
// ifMatch (the revisions the client accepts, from If-Match) the change
// applies only to a user still at one of them.
// Errors: validation_failed, not_found, forbidden, self_action, email_taken,
// username_taken, last_admin, invalid_state, precondition_failed.
func (s *Service) Update(ctx context.Context, id string, p Patch, ifMatch []string) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Valid("usr", id) {
		return nil, ErrNotFound
	}
	return s.update(ctx, id, ifMatch, func(u *User) (*User, []string, error) {
		if !a.Sees(u.Team(), u.Role) {
			return nil, nil, ErrNotFound
		}
		next, changed, bad := apply(u, p)
		if err := bad.Err(); err != nil {
			return nil, nil, err
		}
		if a.UserID == u.ID && slices.ContainsFunc(changed, func(f string) bool { return slices.Contains(ownOnlyFields, f) }) {
			return nil, nil, ErrSelfAction
		}
		if a.Role != access.Admin && (next.Role != u.Role || next.Team() != u.Team()) {
			return nil, nil, apperr.Forbidden("forbidden", "Only admins change roles and teams.")
		}
		return next, changed, nil
	})
}

// UpdateMe changes the caller's own names, with If-Match as for Update.
// Errors: validation_failed, precondition_failed.
func (s *Service) UpdateMe(ctx context.Context, p MePatch, ifMatch []string) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if a.UserID == "" {
		return nil, ErrNotFound
	}
	return s.update(ctx, a.UserID, ifMatch, func(u *User) (*User, []string, error) {
		next, changed, bad := apply(u, p.patch())
		return next, changed, bad.Err()
	})
}

// update reads the user, computes the change with fn and writes it,
// re-reading and re-applying when the user changed in between. It returns
// the user as written: one read and one transaction, no more.
func (s *Service) update(ctx context.Context, id string, ifMatch []string, fn func(*User) (*User, []string, error)) (*User, error) {
	var before, out *User
	tries := 0
	err := retry.Optimistic(ctx, ErrChanged, func() error {
		// The first try may use the user read with the authentication; a
		// retry follows a change that landed since, and reads again.
		tries++
		u, err := s.read(ctx, id, tries > 1)
		if err != nil {
			return err
		}
		next, changed, err := fn(u)
		if err != nil {
			return err
		}
		if !Matches(ifMatch, u.Revision()) {
			return apperr.ErrPrecondition
		}
		if len(changed) == 0 {
			out = u
			return nil
		}
		if u.Status == StatusAnonymized || u.Status == StatusInvited {
			return ErrInvalidState
		}
		next.UpdatedAt = access.RequestFrom(ctx).Now
		next.Version = u.Version + 1
		details := map[string]any{"fields": changed}
		if next.Role != u.Role {
			details["role"] = map[string]any{"from": u.Role, "to": next.Role}
		}
		if next.Team() != u.Team() {
			details["team_id"] = map[string]any{"from": u.TeamID, "to": next.TeamID}
		}
		action := "user.updated"
		if len(changed) == 1 && changed[0] == "role" {
			action = "user.role_changed"
		}
		c := Change{Before: u, After: next, Event: audit.New(ctx, action, "user", id, details)}
		if next.DisplayName != u.DisplayName || next.Team() != u.Team() || next.Role != u.Role {
			// The user's sessions carry them, for the session lists.
			if c.Carry, err = s.store.SessionsOf(ctx, id); err != nil {
				return err
			}
		}
		if err := s.store.UpdateUser(ctx, c); err != nil {
			return err
		}
		before, out = u, next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update user %s: %w", id, err)
	}
	if before != nil && !strings.EqualFold(before.Email, out.Email) {
		s.notify(ctx, notices.EmailChanged{To: before.Email, Name: before.GivenName, NewEmail: out.Email, At: out.UpdatedAt})
	}
	return out, nil
}

// notify sends a notice of a change that is already written: a failed send
// is logged (without the notice's content), and the change stands.
func (s *Service) notify(ctx context.Context, n notices.Notice) {
	var err error
	if s.Mail == nil {
		err = errors.New("no mail sender configured")
	} else {
		_, err = s.Mail.Send(ctx, n)
	}
	if err != nil {
		s.Log.Warn("notice not sent", slog.String("notice", fmt.Sprintf("%T", n)), slog.String("request_id", access.RequestFrom(ctx).ID),
			slog.String("error", err.Error()))
	}
}

// apply returns u with p applied, the names of the fields that changed, and
// every bad field.
func apply(u *User, p Patch) (*User, []string, apperr.Fields) {
	next := u.Clone()
	var bad apperr.Fields
	notNull := func(name string, f opt.Field[string]) bool {
		if f.Set && f.Null {
			bad.Add(name, "must not be null")
			return false
		}
		return f.Set
	}
	if notNull("given_name", p.GivenName) {
		v := cleanName(p.GivenName.Value)
		add(&bad, "given_name", checkName(v, true, maxName))
		next.GivenName = v
	}
	if notNull("family_name", p.FamilyName) {
		v := cleanName(p.FamilyName.Value)
		add(&bad, "family_name", checkName(v, true, maxName))
		next.FamilyName = v
	}
	switch f := p.DisplayName; {
	case f.Set && (f.Null || strings.TrimSpace(f.Value) == ""):
		next.DisplayName = defaultDisplayName(next.GivenName, next.FamilyName)
	case f.Set:
		v := cleanName(f.Value)
		add(&bad, "display_name", checkName(v, false, maxDisplay))
		next.DisplayName = v
	case u.DisplayName == defaultDisplayName(u.GivenName, u.FamilyName):
		// A display name that was never chosen follows the names.
		next.DisplayName = defaultDisplayName(next.GivenName, next.FamilyName)
	}
	if notNull("email", p.Email) {
		v := strings.TrimSpace(p.Email.Value)
		add(&bad, "email", CheckEmail(v))
		next.Email = v
	}
	if f := p.Username; f.Set {
		if f.Null {
			next.Username = nil
		} else {
			v := strings.TrimSpace(f.Value)
			add(&bad, "username", CheckUsername(v))
			next.Username = &v
		}
	}
	if notNull("role", p.Role) {
		r := access.Role(p.Role.Value)
		if !r.Valid() {
			bad.Add("role", "must be one of admin, manager, member")
		}
		next.Role = r
	}
	if f := p.TeamID; f.Set {
		if f.Null {
			next.TeamID = nil
		} else {
			v := strings.TrimSpace(f.Value)
			if !ids.Valid("team", v) {
				bad.Add("team_id", "no such team")
			}
			next.TeamID = &v
		}
	}
	if len(bad) > 0 {
		return nil, nil, bad
	}
	var changed []string
	for _, c := range []struct {
		name string
		diff bool
	}{
		{"given_name", next.GivenName != u.GivenName},
		{"family_name", next.FamilyName != u.FamilyName},
		{"display_name", next.DisplayName != u.DisplayName},
		{"email", next.Email != u.Email},
		{"username", deref(next.Username) != deref(u.Username)},
		{"role", next.Role != u.Role},
		{"team_id", next.Team() != u.Team()},
	} {
		if c.diff {
			changed = append(changed, c.name)
		}
	}
	return next, changed, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
