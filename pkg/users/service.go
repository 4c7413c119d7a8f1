package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/opt"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/retry"
	"github.com/usermgmt/ums/pkg/settings"
)

// Store is what the users service needs from storage.
type Store interface {
	// CreateUser writes a new user with its email and username uniqueness
	// items, the counters' delta (checking seats), the team's member count
	// and ev, all in one transaction.
	// Errors: ErrEmailTaken, ErrUsernameTaken, ErrNoSeats, ErrTeamNotFound.
	CreateUser(ctx context.Context, u *User, ev audit.Event) error
	// GetUser reads a user, strongly consistent. Errors: ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserWithStats reads a user and its stats in one query; sessions idle
	// longer than idle or past expiry at now are not counted.
	// Errors: ErrNotFound.
	GetUserWithStats(ctx context.Context, id string, now time.Time, idle time.Duration) (*User, error)
	// UpdateUser replaces before with after if before's version is still
	// current: it moves the uniqueness items, applies the counters' delta
	// (checking seats and the last admin), moves team member counts, and
	// writes ev, all in one transaction. Errors: ErrChanged, ErrEmailTaken,
	// ErrUsernameTaken, ErrLastAdmin, ErrNoSeats, ErrTeamNotFound.
	UpdateUser(ctx context.Context, before, after *User, ev audit.Event) error
	// ListUsers returns a page of users, newest first.
	ListUsers(ctx context.Context, q ListQuery) (Page, error)
	// GetSettings returns the settings and their version.
	GetSettings(ctx context.Context) (settings.Settings, int, error)
	// GetCounts returns the settings and the counters, in one read.
	GetCounts(ctx context.Context) (settings.Settings, Counts, error)
}

// Service holds the rules of the users concept.
type Service struct {
	store Store
	// Params are argon2id's parameters for new hashes.
	Params passwords.Params
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, Params: passwords.DefaultParams}
}

func actorOf(ctx context.Context) (access.Actor, error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return access.Actor{}, apperr.ErrUnauthorized
	}
	return a, nil
}

// canSee reports whether the actor may see u: admins see everyone, managers
// the users of their own team.
func canSee(a access.Actor, u *User) bool {
	switch a.Role {
	case access.Admin:
		return true
	case access.Manager:
		return a.TeamID != "" && u.Team() == a.TeamID
	}
	return false
}

// canManage reports whether the actor may change u: admins anyone, managers
// the non-admin users of their own team.
func canManage(a access.Actor, u *User) bool {
	return canSee(a, u) && (a.Role == access.Admin || u.Role != access.Admin)
}

// settingsFor returns the settings read while authenticating, or reads them.
func (s *Service) settingsFor(ctx context.Context) (settings.Settings, error) {
	if st, ok := settings.FromContext(ctx); ok {
		return st, nil
	}
	st, _, err := s.store.GetSettings(ctx)
	return st, err
}

// CreateInput is the body of POST /users.
type CreateInput struct {
	Email      string  `json:"email"`
	Password   string  `json:"password"`
	GivenName  string  `json:"given_name"`
	FamilyName string  `json:"family_name"`
	Username   *string `json:"username"`
	Role       string  `json:"role"`
	TeamID     *string `json:"team_id"`
}

// Create makes an active user who can sign in at once. Managers create
// members of their own team only.
// Errors: validation_failed, forbidden, email_taken, username_taken, no_seats.
func (s *Service) Create(ctx context.Context, in CreateInput) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.settingsFor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.newUser(in, st)
	if err != nil {
		return nil, err
	}
	if a.Role != access.Admin {
		switch {
		case a.Role != access.Manager:
			return nil, apperr.ErrForbidden
		case a.TeamID == "":
			return nil, apperr.Forbidden("forbidden", "A manager without a team cannot create users.")
		case u.Role != access.Member:
			return nil, apperr.Forbidden("forbidden", "Managers may create members only.")
		case u.TeamID != nil && *u.TeamID != a.TeamID:
			return nil, apperr.Forbidden("forbidden", "Managers may create users in their own team only.")
		}
		u.TeamID = &a.TeamID
	}
	now := access.RequestFrom(ctx).Now
	u.CreatedAt, u.UpdatedAt = now, now
	ev := audit.New(ctx, "user.created", "user", u.ID, map[string]any{"role": u.Role, "team_id": u.TeamID})
	if err := s.store.CreateUser(ctx, u, ev); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// newUser validates in and returns the user it describes, password hashed.
func (s *Service) newUser(in CreateInput, st settings.Settings) (*User, error) {
	var bad apperr.Fields
	email := strings.TrimSpace(in.Email)
	add(&bad, "email", CheckEmail(email))
	given, family := cleanName(in.GivenName), cleanName(in.FamilyName)
	add(&bad, "given_name", checkName(given, true, maxName))
	add(&bad, "family_name", checkName(family, true, maxName))
	var username *string
	if in.Username != nil {
		un := strings.TrimSpace(*in.Username)
		add(&bad, "username", CheckUsername(un))
		username = &un
	}
	role := access.Role(in.Role)
	if !role.Valid() {
		bad.Add("role", "must be one of admin, manager, member")
	}
	var team *string
	if in.TeamID != nil {
		t := strings.TrimSpace(*in.TeamID)
		if !ids.Valid("team", t) {
			bad.Add("team_id", "no such team")
		}
		team = &t
	}
	un := ""
	if username != nil {
		un = *username
	}
	if err := (passwords.Policy{MinLength: st.PasswordMinLength, Email: email, Username: un}).Check("password", in.Password); err != nil {
		bad = append(bad, apperr.As(err).Fields...)
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	usage := UsageRegistered
	return &User{
		ID:           ids.New("usr"),
		Email:        email,
		Username:     username,
		GivenName:    given,
		FamilyName:   family,
		DisplayName:  defaultDisplayName(given, family),
		Role:         role,
		TeamID:       team,
		Status:       StatusActive,
		Usage:        &usage,
		PasswordHash: passwords.Hash(in.Password, s.Params),
		Version:      1,
		SessionGen:   1,
	}, nil
}

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
	if !canSee(a, u) {
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

func (s *Service) withStats(ctx context.Context, id string) (*User, error) {
	st, err := s.settingsFor(ctx)
	if err != nil {
		return nil, err
	}
	idle := time.Duration(st.SessionIdleHours) * time.Hour
	return s.store.GetUserWithStats(ctx, id, access.RequestFrom(ctx).Now, idle)
}

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

// MePatch is the body of PATCH /me: the caller may change their names only.
type MePatch struct {
	GivenName   opt.Field[string] `json:"given_name"`
	FamilyName  opt.Field[string] `json:"family_name"`
	DisplayName opt.Field[string] `json:"display_name"`
}

// Update changes a user. Managers may change the names, email and username of
// the non-admin users of their team; role and team are for admins.
// Errors: validation_failed, not_found, forbidden, email_taken,
// username_taken, last_admin, invalid_state.
func (s *Service) Update(ctx context.Context, id string, p Patch) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Valid("usr", id) {
		return nil, ErrNotFound
	}
	return s.update(ctx, id, func(u *User) (*User, []string, error) {
		if !canSee(a, u) {
			return nil, nil, ErrNotFound
		}
		if !canManage(a, u) {
			return nil, nil, apperr.ErrForbidden
		}
		next, changed, err := apply(u, p)
		if err != nil {
			return nil, nil, err
		}
		if a.Role != access.Admin && (next.Role != u.Role || next.Team() != u.Team()) {
			return nil, nil, apperr.Forbidden("forbidden", "Only admins change roles and teams.")
		}
		return next, changed, nil
	})
}

// UpdateMe changes the caller's own names. Errors: validation_failed.
func (s *Service) UpdateMe(ctx context.Context, p MePatch) (*User, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if a.UserID == "" {
		return nil, ErrNotFound
	}
	return s.update(ctx, a.UserID, func(u *User) (*User, []string, error) {
		return apply(u, Patch{GivenName: p.GivenName, FamilyName: p.FamilyName, DisplayName: p.DisplayName})
	})
}

// update reads the user, computes the change with fn and writes it,
// re-reading and re-applying when the user changed in between. It returns
// the user as written: one read and one transaction, no more.
func (s *Service) update(ctx context.Context, id string, fn func(*User) (*User, []string, error)) (*User, error) {
	var out *User
	err := retry.Optimistic(ctx, ErrChanged, func() error {
		u, err := s.store.GetUser(ctx, id)
		if err != nil {
			return err
		}
		next, changed, err := fn(u)
		if err != nil {
			return err
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
		if err := s.store.UpdateUser(ctx, u, next, audit.New(ctx, action, "user", id, details)); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update user %s: %w", id, err)
	}
	return out, nil
}

// apply returns u with p applied and the names of the fields that changed,
// or a validation error naming every bad field.
func apply(u *User, p Patch) (*User, []string, error) {
	next := u.Clone()
	var bad apperr.Fields
	var changed []string
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
	if err := bad.Err(); err != nil {
		return nil, nil, err
	}
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

// ListQuery selects a page of users.
type ListQuery struct {
	Status Status
	Role   access.Role
	TeamID string
	Usage  Usage
	Limit  int
	Cursor string
}

// Page is one page of a list.
type Page struct {
	Items      []*User `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// ErrBadCursor reports a cursor the store cannot read.
var ErrBadCursor = apperr.Validation(apperr.FieldError{Field: "cursor", Message: "is not a cursor from this list"})

// List returns a page of users, newest first. A manager sees their own team
// only. Errors: validation_failed, forbidden.
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
	if err := bad.Err(); err != nil {
		return Page{}, err
	}
	switch a.Role {
	case access.Admin:
	case access.Manager:
		if q.TeamID != "" && q.TeamID != a.TeamID {
			return Page{}, apperr.Forbidden("forbidden", "Managers see their own team only.")
		}
		if a.TeamID == "" {
			return Page{Items: []*User{}}, nil
		}
		q.TeamID = a.TeamID
	default:
		return Page{}, apperr.ErrForbidden
	}
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
	st, c, err := s.store.GetCounts(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("summary: %w", err)
	}
	return SummaryOf(c, st.LicenseCount), nil
}

// SeedAdmin creates an active admin with email and password unless a user
// with that email exists; it reports whether it created one. It is how a new
// installation gets its first admin, so it acts as the system.
func (s *Service) SeedAdmin(ctx context.Context, email, password string) (bool, error) {
	st, _, err := s.store.GetSettings(ctx)
	if err != nil {
		return false, err
	}
	u, err := s.newUser(CreateInput{Email: email, Password: password, GivenName: "Admin", FamilyName: "User", Role: string(access.Admin)}, st)
	if err != nil {
		return false, fmt.Errorf("seed admin: %w", err)
	}
	now := access.RequestFrom(ctx).Now
	u.CreatedAt, u.UpdatedAt = now, now
	ev := audit.New(ctx, "user.created", "user", u.ID, map[string]any{"role": u.Role, "seeded": true})
	err = s.store.CreateUser(ctx, u, ev)
	if errors.Is(err, ErrEmailTaken) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("seed admin: %w", err)
	}
	return true, nil
}
