package users

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/settings"
)

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

// Check names the input's bad fields (see api.Checker).
func (in CreateInput) Check(ctx context.Context) apperr.Fields {
	st, _ := settings.FromContext(ctx)
	_, bad := in.user(st, passwords.Params{}, nil)
	return bad
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
	u, bad := in.user(st, s.Params, s.Words)
	if err := bad.Err(); err != nil {
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

// Prepare validates in and returns the active user it describes, its
// password hashed with p, not yet stored (a registration writes it with its
// first session).
func (in CreateInput) Prepare(st settings.Settings, p passwords.Params, words []string) (*User, apperr.Fields) {
	return in.user(st, p, words)
}

// user validates in and returns the user it describes, its password hashed
// with p (not at all when p is zero: Check needs no hash).
func (in CreateInput) user(st settings.Settings, p passwords.Params, words []string) (*User, apperr.Fields) {
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
	if err := (passwords.Policy{MinLength: st.PasswordMinLength, Email: email, Username: un, Words: words}).Check("password", in.Password); err != nil {
		bad = append(bad, apperr.As(err).Fields...)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	usage := UsageRegistered
	u := &User{
		ID:          ids.New("usr"),
		Email:       email,
		Username:    username,
		GivenName:   given,
		FamilyName:  family,
		DisplayName: defaultDisplayName(given, family),
		Role:        role,
		TeamID:      team,
		Status:      StatusActive,
		Usage:       &usage,
		Version:     1,
		SessionGen:  1,
	}
	if p != (passwords.Params{}) {
		u.PasswordHash = passwords.Hash(in.Password, p)
	}
	return u, nil
}

// SeedAdmin creates an active admin with email and password unless a user
// with that email exists; it reports whether it created one. It is how a new
// installation gets its first admin, so it acts as the system.
func (s *Service) SeedAdmin(ctx context.Context, email, password string) (bool, error) {
	st, _, err := s.store.GetSettings(ctx)
	if err != nil {
		return false, err
	}
	u, bad := CreateInput{Email: email, Password: password, GivenName: "Admin", FamilyName: "User", Role: string(access.Admin)}.user(st, s.Params, s.Words)
	if err := bad.Err(); err != nil {
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
