package users

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/notices"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/retry"
	"github.com/usermgmt/ums/pkg/settings"
)

// ErrSelfAction refuses what no one may do to themselves: deactivate,
// delete or anonymize their own account; nor may anyone use the
// /users/{id} routes on their own account to set its password, make a
// reset link, or change its email, username, role or team: a user changes
// their own account only through /me, where a new password needs the
// current one and an API key may not change it.
var ErrSelfAction = apperr.Forbidden("self_action", "You cannot do this to your own account.")

// AnonymizedName is the display name an anonymized user keeps.
const AnonymizedName = "Anonymized user"

// step is one lifecycle change: it returns the user as it becomes, the
// audit action, and whether the change ends the user's sessions; or an
// error (invalid_state) when the user's status does not allow it.
type step func(u *User, now time.Time, st settings.Settings) (next *User, action string, ends bool, err error)

// transition applies a lifecycle step to the user id names, as the actor:
// it checks who may act on whom (admins on anyone, managers on the non-admin
// users of their team; not_found for users the actor may not see) and, if
// self is false, that the actor is not the user; it ends the user's
// sessions when the step does, and writes the change with its event,
// retrying on a concurrent change.
func (s *Service) transition(ctx context.Context, id string, self bool, fn step, details func(u, next *User) map[string]any) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Valid("usr", id) {
		return nil, ErrNotFound
	}
	st, err := s.settingsFor(ctx)
	if err != nil {
		return nil, err
	}
	var out *User
	tries := 0
	err = retry.Optimistic(ctx, ErrChanged, func() error {
		tries++
		u, err := s.read(ctx, id, tries > 1)
		if err != nil {
			return err
		}
		switch {
		case !self && a.UserID == u.ID:
			return ErrSelfAction
		case !a.Sees(u.Team(), u.Role):
			return ErrNotFound
		}
		now := access.RequestFrom(ctx).Now
		next, action, ends, err := fn(u, now, st)
		if err != nil {
			return err
		}
		next.UpdatedAt, next.Version = now, u.Version+1
		// A new password clears the lockout earned by guesses of the old.
		// A user who stops being active loses their reset link for good:
		// being activated again must not revive it.
		c := Change{Before: u, After: next, ClearLockout: next.PasswordHash != u.PasswordHash,
			VoidReset: u.Status == StatusActive && next.Status != StatusActive}
		d := map[string]any{}
		if details != nil {
			d = details(u, next)
		}
		if ends {
			next.SessionGen = u.SessionGen + 1
			if c.EndSessions, err = s.sessionsOf(ctx, id, tries > 1); err != nil {
				return err
			}
			d["sessions_ended"] = len(c.EndSessions)
		}
		c.Event = audit.New(ctx, action, "user", id, d)
		if err := s.store.UpdateUser(ctx, c); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	return out, nil
}

// sessionsOf returns the ids of the user's sessions and personal keys:
// those read with the request's authentication (a route that ends sessions
// reads them along), or, on a retry, read again.
func (s *Service) sessionsOf(ctx context.Context, id string, fresh bool) ([]string, error) {
	if r, ok := ReadFrom(ctx); ok && !fresh {
		if l, read := r.Live[id]; read {
			out := make([]string, 0, len(l.Sessions)+len(l.Keys))
			for _, ref := range l.Sessions {
				out = append(out, ref.ID)
			}
			for _, k := range l.Keys {
				out = append(out, k.ID)
			}
			return out, nil
		}
	}
	return s.store.HeldBy(ctx, id)
}

// Deactivate makes an active user deactivated: every session and key ends
// on the very next request, in the same transaction. The last active admin
// cannot be deactivated. Errors: not_found, forbidden, self_action,
// invalid_state (not active), last_admin.
func (s *Service) Deactivate(ctx context.Context, id string) (*User, error) {
	return s.transition(ctx, id, false, func(u *User, _ time.Time, _ settings.Settings) (*User, string, bool, error) {
		if u.Status != StatusActive {
			return nil, "", false, ErrInvalidState
		}
		next := u.Clone()
		next.Status = StatusDeactivated
		return next, "user.deactivated", true, nil
	}, nil)
}

// Activate makes a deactivated user active again, if a seat is free.
// Errors: not_found, forbidden, invalid_state (not deactivated), no_seats.
func (s *Service) Activate(ctx context.Context, id string) (*User, error) {
	return s.transition(ctx, id, true, func(u *User, _ time.Time, _ settings.Settings) (*User, string, bool, error) {
		if u.Status != StatusDeactivated {
			return nil, "", false, ErrInvalidState
		}
		next := u.Clone()
		next.Status = StatusActive
		return next, "user.activated", false, nil
	}, nil)
}

// Delete puts an active or deactivated user in deletion: they cannot sign
// in, their sessions and keys end, and the purge job removes them once
// deletion_grace_days have passed (purge_after); until then Restore brings
// them back. An invited user is not deleted (invalid_state): cancel their
// invitation. Errors: not_found, forbidden, self_action, invalid_state,
// last_admin.
func (s *Service) Delete(ctx context.Context, id string) (*User, error) {
	return s.transition(ctx, id, false, func(u *User, now time.Time, st settings.Settings) (*User, string, bool, error) {
		if u.Status != StatusActive && u.Status != StatusDeactivated {
			return nil, "", false, ErrInvalidState
		}
		next := u.Clone()
		purge := now.Add(time.Duration(st.DeletionGraceDays) * 24 * time.Hour)
		next.Status, next.StatusBefore, next.PurgeAfter = StatusInDeletion, u.Status, &purge
		return next, "user.deleted", true, nil
	}, func(u, next *User) map[string]any {
		return map[string]any{"status_before": u.Status, "purge_after": next.PurgeAfter}
	})
}

// Restore brings a user in deletion back to the status they had, before
// their purge date; back to active only if a seat is free.
// Errors: not_found, forbidden, invalid_state (not in deletion, or past its
// purge date), no_seats.
func (s *Service) Restore(ctx context.Context, id string) (*User, error) {
	return s.transition(ctx, id, true, func(u *User, now time.Time, _ settings.Settings) (*User, string, bool, error) {
		if u.Status != StatusInDeletion || u.PurgeAfter == nil || !now.Before(*u.PurgeAfter) {
			return nil, "", false, ErrInvalidState
		}
		next := u.Clone()
		next.Status, next.StatusBefore, next.PurgeAfter = u.StatusBefore, "", nil
		if next.Status == "" {
			next.Status = StatusDeactivated
		}
		return next, "user.restored", false, nil
	}, func(_, next *User) map[string]any { return map[string]any{"status": next.Status} })
}

// Anonymize removes a deactivated user's email, names and username for
// good (the email and username become free), ends what they still hold,
// and removes their data from everywhere else it is stored: the IPs and
// user agents of their sessions and sign-in attempts, the logins typed,
// invitations to their email. If that second part fails, the user stays
// marked and the purge job finishes it. Errors: not_found, forbidden,
// self_action, invalid_state (not deactivated).
func (s *Service) Anonymize(ctx context.Context, id string) (*User, error) {
	var traces []string
	u, err := s.transition(ctx, id, false, func(u *User, _ time.Time, _ settings.Settings) (*User, string, bool, error) {
		if u.Status != StatusDeactivated {
			return nil, "", false, ErrInvalidState
		}
		traces = Traces(u.Email, deref(u.Username))
		next := u.Clone()
		next.Status, next.Forget = StatusAnonymized, traces
		next.Email, next.Username, next.GivenName, next.FamilyName, next.DisplayName = "", nil, "", "", AnonymizedName
		next.PasswordHash = ""
		return next, "user.anonymized", true, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	if err := s.store.Forget(ctx, id, traces); err != nil {
		// The user is anonymized; the rest is finished by the next purge
		// run, which looks for users still forgetting.
		s.Log.Error("anonymize: data not yet removed everywhere; the purge job will finish", "user_id", id,
			"request_id", access.RequestFrom(ctx).ID, "error", err.Error())
		return u, nil
	}
	u.Forget = nil
	return u, nil
}

// EndSessions ends every session of the user at once, and deletes them.
// Errors: not_found, forbidden.
func (s *Service) EndSessions(ctx context.Context, id string) error {
	_, err := s.transition(ctx, id, true, func(u *User, _ time.Time, _ settings.Settings) (*User, string, bool, error) {
		return u.Clone(), "user.sessions_ended", true, nil
	}, nil)
	return err
}

// SetPasswordInput is the body of PUT /users/{id}/password.
type SetPasswordInput struct {
	Password string `json:"password"`
	// EndSessions ends the user's sessions; true when absent.
	EndSessions *bool `json:"end_sessions"`
}

// Check names the input's bad fields that need no user (see api.Checker).
func (in SetPasswordInput) Check(context.Context) apperr.Fields {
	var bad apperr.Fields
	if in.Password == "" {
		bad.Add("password", "is required")
	}
	return bad
}

// SetPassword sets a user's password (the password rules apply), clears a
// sign-in lockout and, unless end_sessions is false, ends their sessions;
// the user is told by mail. Invited and anonymized users have none to set,
// and no one sets their own here (self_action: /me/password asks for the
// current one). Errors: validation_failed, not_found, forbidden,
// self_action, invalid_state.
func (s *Service) SetPassword(ctx context.Context, id string, in SetPasswordInput) error {
	if err := in.Check(ctx).Err(); err != nil {
		return err
	}
	end := in.EndSessions == nil || *in.EndSessions
	hashed := map[string]string{} // by the password's policy inputs, hashed once
	u, err := s.transition(ctx, id, false, func(u *User, _ time.Time, st settings.Settings) (*User, string, bool, error) {
		if u.Status == StatusInvited || u.Status == StatusAnonymized {
			return nil, "", false, ErrInvalidState
		}
		pol := passwords.Policy{MinLength: st.PasswordMinLength, Email: u.Email, Username: deref(u.Username), Words: s.Words}
		if err := pol.Check("password", in.Password); err != nil {
			return nil, "", false, err
		}
		next := u.Clone()
		key := pol.Email + "\x00" + pol.Username
		if hashed[key] == "" {
			hashed[key] = passwords.Hash(in.Password, s.Params)
		}
		next.PasswordHash = hashed[key]
		next.FailedLogins, next.LastFailedAt = 0, time.Time{}
		return next, "user.password_set", end, nil
	}, nil)
	if err != nil {
		return err
	}
	s.notify(ctx, notices.PasswordChanged{To: u.Email, Name: firstName(u), At: u.UpdatedAt})
	return nil
}

// firstName is how a notice greets the user.
func firstName(u *User) string {
	if u.GivenName != "" {
		return u.GivenName
	}
	return strings.TrimSpace(u.DisplayName)
}

// PurgeBatch is how many due users one read of the index returns.
const PurgeBatch = 25

// PurgeDue removes the users whose grace period has passed at now (from
// the request's time), each with everything that is theirs, and finishes
// the anonymizations whose second part failed. Each user is forgotten in
// steps that may run again, then removed in one transaction conditioned on
// their still being due: a run that fails or stops in the middle of a user
// leaves them due, and the next run starts them again. It stops when ctx is
// about to end, reporting whether more are due.
func (s *Service) PurgeDue(ctx context.Context) (done int, more bool, err error) {
	now := access.RequestFrom(ctx).Now
	for {
		if ending(ctx) {
			return done, true, nil
		}
		due, err := s.store.DueForPurge(ctx, now, PurgeBatch)
		if err != nil {
			return done, false, err
		}
		progress := done
		for _, u := range due {
			if ending(ctx) {
				return done, true, nil
			}
			if err := s.purgeOne(ctx, u, now); err != nil {
				return done, false, fmt.Errorf("purge user %s: %w", u.ID, err)
			}
			done++
		}
		if len(due) < PurgeBatch || done == progress {
			return done, false, nil
		}
	}
}

// purgeOne removes a user in deletion, or finishes forgetting an
// anonymized one. A user restored or already purged meanwhile is skipped.
func (s *Service) purgeOne(ctx context.Context, u *User, now time.Time) error {
	if u.Status == StatusAnonymized {
		return s.store.Forget(ctx, u.ID, u.Forget)
	}
	ev := audit.New(ctx, "user.purged", "user", u.ID, map[string]any{})
	// The store reads the user again each time: a change that landed since
	// (a team deletion unassigning them) is purged as it now is.
	err := retry.Optimistic(ctx, ErrChanged, func() error { return s.store.Purge(ctx, u, now, ev) })
	if err == ErrInvalidState || err == ErrNotFound {
		return nil
	}
	return err
}

// ending reports whether ctx ends within the time one more user takes.
func ending(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && time.Until(dl) < 5*time.Second)
}
