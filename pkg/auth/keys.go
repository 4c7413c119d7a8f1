package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

// KeyPrefix starts every API key, so secret scanners can spot one.
const KeyPrefix = "umk_"

// systemOwner is the owner part of a system key's token: it belongs to no
// user.
const systemOwner = "sys"

// PrefixLength is how much of a key is kept, and shown, for recognition:
// "umk_" and eight characters of the secret (48 of its 256 bits).
const PrefixLength = len(KeyPrefix) + 8

// MaxKeysPerUser bounds a user's personal keys: what they hold is read
// with every request that answers their stats.
const MaxKeysPerUser = 50

// APIKey is a personal key (it acts as its owner, with the owner's current
// role, team and status) or a system key (it acts as itself, with its own
// role, and team for a manager-role key). Its secret is never stored.
type APIKey struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Prefix      string       `json:"prefix"`
	OwnerUserID *string      `json:"owner_user_id"`
	Role        *access.Role `json:"role"`
	TeamID      *string      `json:"team_id"`
	CreatedAt   time.Time    `json:"created_at"`
	LastUsedAt  *time.Time   `json:"last_used_at"`
	ExpiresAt   *time.Time   `json:"expires_at"`
	// Gen is the owner's session generation when the key was made: ending
	// all of a user's sessions (deactivation, deletion, a new password)
	// ends their keys too.
	Gen int `json:"-"`
}

// Ref is what the stats count of a personal key.
func (k *APIKey) Ref() users.KeyRef {
	return users.KeyRef{ID: k.ID, ExpiresAt: k.ExpiresAt, Gen: k.Gen}
}

// NewKey is the answer to creating a key: the key and, this once, its
// secret.
type NewKey struct {
	*APIKey
	Key string `json:"key"`
}

// newKeyToken returns a key for the owner (a user id, or systemOwner), the
// id its record is stored under and the prefix kept of it.
func newKeyToken(owner string) (token, keyID, prefix string) {
	secret := ids.Secret()
	token = KeyPrefix + secret + "." + owner
	return token, ids.FromHash("key", secret), token[:PrefixLength]
}

// parseKeyToken returns the owner ("" for a system key) and the key id a
// token names, or ok false for anything that is not a well-formed key.
func parseKeyToken(token string) (owner, keyID string, ok bool) {
	rest, ok := strings.CutPrefix(token, KeyPrefix)
	if !ok {
		return "", "", false
	}
	secret, owner, ok := strings.Cut(rest, ".")
	if !ok || len(secret) != 43 {
		return "", "", false
	}
	switch {
	case owner == systemOwner:
		owner = ""
	case !ids.Valid("usr", owner):
		return "", "", false
	}
	return owner, ids.FromHash("key", secret), true
}

// KeyStore is what API keys need from storage.
type KeyStore interface {
	// AuthenticateKey reads, as Authenticate does for a session, the key
	// and (for a personal key, owner not "") its owner, in one round trip.
	// A missing key or owner is apperr.ErrUnauthorized.
	AuthenticateKey(ctx context.Context, owner, keyID string, along Along) (*users.User, *APIKey, settings.Snapshot, users.Read, error)
	// TouchKey records the key's use (and its owner's last-seen time), if
	// the key still exists.
	TouchKey(ctx context.Context, owner, keyID string, at time.Time) error
	// UserKeys reads a user's personal keys, strongly consistent.
	UserKeys(ctx context.Context, userID string) ([]*APIKey, error)
	// SystemKeys reads a page of system keys, newest first.
	SystemKeys(ctx context.Context, limit int, cursor string) (paging.Page[*APIKey], error)
	// CreateKey writes a new key with ev, raising the caller's count of
	// new keys in the limit's window only while it is below KeysPerWindow
	// (ErrKeyLimited). A manager-role system key's team must exist
	// (users.ErrTeamNotFound).
	CreateKey(ctx context.Context, k *APIKey, limit KeyLimit, ev audit.Event) error
	// DeleteKey removes a key with ev. Errors: ErrNoKey.
	DeleteKey(ctx context.Context, owner, keyID string, ev audit.Event) error
}

// ErrNoKey answers a key that does not exist or is not the caller's.
var ErrNoKey = apperr.NotFound("not_found", "No such API key.")

// ErrNoAccount refuses a system key on a route about the caller's own
// account: it has none.
var ErrNoAccount = apperr.Forbidden("forbidden", "A system API key has no account: this route is for users.")

// ErrKeyForbidden refuses, to a caller signed in with a key, what needs a
// session: changing the owner's password.
var ErrKeyForbidden = apperr.Forbidden("forbidden", "An API key cannot do this; sign in.")

// authenticateKey turns an API key into the request's actor, as
// Authenticate does a session token. A personal key works while its owner
// is active and has not ended all their sessions since the key was made; a
// system key until it expires or is deleted.
func (s *Service) authenticateKey(ctx context.Context, token string, along Along) (access.Actor, settings.Snapshot, users.Read, error) {
	fail := func(err error) (access.Actor, settings.Snapshot, users.Read, error) {
		return access.Actor{}, settings.Snapshot{}, users.Read{}, err
	}
	owner, kid, ok := parseKeyToken(token)
	if !ok {
		return fail(apperr.ErrUnauthorized)
	}
	u, k, st, read, err := s.store.AuthenticateKey(ctx, owner, kid, along)
	if err != nil {
		return fail(err)
	}
	now := access.RequestFrom(ctx).Now
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return fail(apperr.ErrUnauthorized)
	}
	if owner != "" && (u.Status != users.StatusActive || k.Gen != u.SessionGen) {
		return fail(apperr.ErrUnauthorized)
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= TouchEvery {
		// Best effort, as for sessions.
		if err := s.store.TouchKey(ctx, owner, kid, now); err == nil && u != nil {
			u.LastSeenAt = &now
		}
	}
	if owner == "" {
		a := access.Actor{Type: access.ActorAPIKey, ID: kid, Role: *k.Role, KeyID: kid, KeyExpiresAt: k.ExpiresAt}
		if k.TeamID != nil {
			a.TeamID = *k.TeamID
		}
		return a, st, read, nil
	}
	read.Users[u.ID] = u
	return access.Actor{
		Type: access.ActorUser, ID: u.ID, UserID: u.ID, Role: u.Role, TeamID: u.Team(),
		KeyID: kid, KeyExpiresAt: k.ExpiresAt,
	}, st, read, nil
}

// KeyInput is the body of POST /me/api-keys and POST /api-keys: the role
// (and a manager-role key's team) only for system keys.
type KeyInput struct {
	Name          string  `json:"name"`
	Role          *string `json:"role"`
	TeamID        *string `json:"team_id"`
	ExpiresInDays *int    `json:"expires_in_days"`
}

// MaxKeyDays is the longest expiry a key may be given, in days.
const MaxKeyDays = 3650

// Making API keys is limited per caller (a user's session or personal key,
// or a system key): KeysPerWindow keys in a fixed window of KeyWindow,
// counted in the transaction that makes each, so parallel requests cannot
// slip past it. A leaked credential cannot then mint keys by the thousand
// for later use.
const (
	KeysPerWindow = 20
	KeyWindow     = time.Hour
)

// KeyLimit is the count a new key raises: the caller's, in the window.
type KeyLimit struct {
	Caller string
	Window time.Time
}

// ErrKeyLimited reports, from the store, a caller at its limit of new keys.
var ErrKeyLimited = errors.New("auth: the caller made its limit of keys in this window")

// check names the input's bad fields; system says which kind it creates.
func (in KeyInput) check(system bool) apperr.Fields {
	var bad apperr.Fields
	// A key's name is read by people, in lists and the audit log: the
	// rules of a person's name (visible, no control or reordering
	// characters), at most 100 characters.
	if n := len([]rune(strings.TrimSpace(in.Name))); n == 0 || n > 100 {
		bad.Add("name", "must be 1 to 100 characters")
	} else if msg := users.CheckName(users.CleanName(in.Name)); msg != "" {
		bad.Add("name", msg)
	}
	if in.ExpiresInDays != nil && (*in.ExpiresInDays < 1 || *in.ExpiresInDays > MaxKeyDays) {
		bad.Add("expires_in_days", fmt.Sprintf("must be 1 to %d", MaxKeyDays))
	}
	switch {
	case !system && in.Role != nil:
		bad.Add("role", "a personal key has its owner's role")
	case !system && in.TeamID != nil:
		bad.Add("team_id", "a personal key has its owner's team")
	case !system:
	case in.Role == nil || !access.Role(*in.Role).Valid():
		bad.Add("role", "must be one of admin, manager, member")
	case access.Role(*in.Role) == access.Manager && (in.TeamID == nil || !ids.Valid("team", *in.TeamID)):
		bad.Add("team_id", "a manager-role key needs its team")
	case access.Role(*in.Role) != access.Manager && in.TeamID != nil:
		bad.Add("team_id", "only a manager-role key has a team")
	}
	return bad
}

// PersonalKeyInput is the body of POST /me/api-keys.
type PersonalKeyInput KeyInput

// Check names the input's bad fields (see api.Checker).
func (in PersonalKeyInput) Check(context.Context) apperr.Fields { return KeyInput(in).check(false) }

// SystemKeyInput is the body of POST /api-keys.
type SystemKeyInput KeyInput

// Check names the input's bad fields (see api.Checker).
func (in SystemKeyInput) Check(context.Context) apperr.Fields { return KeyInput(in).check(true) }

// mint makes the key in for owner ("" for a system key), checking that
// the caller does not mint a key with more power than its own: a key made
// with a key expires no later than it, and a system key's role is at most
// the caller's.
func (s *Service) mint(ctx context.Context, a access.Actor, owner string, gen int, in KeyInput) (*NewKey, error) {
	if err := in.check(owner == "").Err(); err != nil {
		return nil, err
	}
	now := access.RequestFrom(ctx).Now
	var expires *time.Time
	if in.ExpiresInDays != nil {
		t := now.Add(time.Duration(*in.ExpiresInDays) * 24 * time.Hour)
		expires = &t
	}
	if a.KeyExpiresAt != nil {
		switch {
		case expires == nil:
			// A key made with an expiring key expires with it.
			expires = a.KeyExpiresAt
		case expires.After(*a.KeyExpiresAt):
			return nil, apperr.Validation(apperr.FieldError{Field: "expires_in_days", Message: "a key cannot outlive the key that makes it"})
		}
	}
	token, kid, prefix := newKeyToken(cmp.Or(owner, systemOwner))
	k := &APIKey{ID: kid, Name: strings.TrimSpace(in.Name), Prefix: prefix, CreatedAt: now, ExpiresAt: expires, Gen: gen}
	details := map[string]any{"name": k.Name, "expires_at": expires}
	if owner != "" {
		k.OwnerUserID = &owner
		details["owner_user_id"] = owner
	} else {
		role := access.Role(*in.Role)
		if !a.Role.AtLeast(role) {
			return nil, apperr.Forbidden("forbidden", "A key cannot have more power than whoever makes it.")
		}
		k.Role, k.TeamID = &role, in.TeamID
		details["role"], details["team_id"] = role, in.TeamID
	}
	ev := audit.New(ctx, "api_key.created", "api_key", kid, details)
	limit := KeyLimit{Caller: string(a.Type) + ":" + a.ID, Window: now.Truncate(KeyWindow)}
	switch err := s.store.CreateKey(ctx, k, limit, ev); {
	case errors.Is(err, ErrKeyLimited):
		return nil, apperr.Throttled("Too many API keys made in a short time; try again later.",
			limit.Window.Add(KeyWindow).Sub(now).Round(time.Second)+time.Second)
	case err != nil:
		return nil, fmt.Errorf("create key: %w", err)
	}
	return &NewKey{APIKey: k, Key: token}, nil
}

// ownAccount returns the caller's user, read with the authentication.
// Errors: ErrNoAccount for a system key.
func ownAccount(ctx context.Context) (access.Actor, *users.User, error) {
	a, ok := access.ActorFrom(ctx)
	if !ok {
		return access.Actor{}, nil, apperr.ErrUnauthorized
	}
	if !a.HasAccount() {
		return access.Actor{}, nil, ErrNoAccount
	}
	r, _ := users.ReadFrom(ctx)
	u := r.Users[a.UserID]
	if u == nil {
		return access.Actor{}, nil, apperr.ErrUnauthorized
	}
	return a, u, nil
}

// MyKeys lists the caller's personal keys that still work, newest first,
// in one page.
func (s *Service) MyKeys(ctx context.Context) (paging.Page[*APIKey], error) {
	_, u, err := ownAccount(ctx)
	if err != nil {
		return paging.Page[*APIKey]{}, err
	}
	ks, err := s.store.UserKeys(ctx, u.ID)
	if err != nil {
		return paging.Page[*APIKey]{}, fmt.Errorf("my keys: %w", err)
	}
	now := access.RequestFrom(ctx).Now
	out := make([]*APIKey, 0, len(ks))
	for _, k := range ks {
		if k.Ref().Live(u.SessionGen, now) {
			out = append(out, k)
		}
	}
	return paging.Page[*APIKey]{Items: out}, nil
}

// CreateMyKey makes a personal key for the caller. A user holds at most
// MaxKeysPerUser. Errors: validation_failed, forbidden (a system key),
// invalid_state (too many keys).
func (s *Service) CreateMyKey(ctx context.Context, in PersonalKeyInput) (*NewKey, error) {
	a, u, err := ownAccount(ctx)
	if err != nil {
		return nil, err
	}
	// Only the keys that work count, as only they are listed: an expired
	// one waits for the table's TTL, out of the user's sight.
	if r, ok := users.ReadFrom(ctx); ok {
		now, live := access.RequestFrom(ctx).Now, 0
		for _, k := range r.Live[u.ID].Keys {
			if k.Live(u.SessionGen, now) {
				live++
			}
		}
		if live >= MaxKeysPerUser {
			return nil, apperr.Conflict("invalid_state", fmt.Sprintf("A user holds at most %d API keys: delete one first.", MaxKeysPerUser))
		}
	}
	return s.mint(ctx, a, u.ID, u.SessionGen, KeyInput(in))
}

// DeleteMyKey deletes one of the caller's personal keys; it stops working
// on the next request. Errors: not_found.
func (s *Service) DeleteMyKey(ctx context.Context, id string) error {
	_, u, err := ownAccount(ctx)
	if err != nil {
		return err
	}
	if !ids.Valid("key", id) {
		return ErrNoKey
	}
	ev := audit.New(ctx, "api_key.deleted", "api_key", id, map[string]any{"owner_user_id": u.ID})
	if err := s.store.DeleteKey(ctx, u.ID, id, ev); err != nil {
		return fmt.Errorf("delete key %s: %w", id, err)
	}
	return nil
}

// SystemKeys lists the system keys, newest first (admins).
func (s *Service) SystemKeys(ctx context.Context, limit int, cursor string) (paging.Page[*APIKey], error) {
	if a, ok := access.ActorFrom(ctx); !ok || a.Role != access.Admin {
		return paging.Page[*APIKey]{}, apperr.ErrForbidden
	}
	p, err := s.store.SystemKeys(ctx, limit, cursor)
	if err != nil {
		return paging.Page[*APIKey]{}, fmt.Errorf("system keys: %w", err)
	}
	return p, nil
}

// CreateSystemKey makes a system key (admins). Errors: validation_failed,
// forbidden.
func (s *Service) CreateSystemKey(ctx context.Context, in SystemKeyInput) (*NewKey, error) {
	a, ok := access.ActorFrom(ctx)
	if !ok || a.Role != access.Admin {
		return nil, apperr.ErrForbidden
	}
	return s.mint(ctx, a, "", 0, KeyInput(in))
}

// DeleteSystemKey deletes a system key (admins). Errors: not_found.
func (s *Service) DeleteSystemKey(ctx context.Context, id string) error {
	if a, ok := access.ActorFrom(ctx); !ok || a.Role != access.Admin {
		return apperr.ErrForbidden
	}
	if !ids.Valid("key", id) {
		return ErrNoKey
	}
	err := s.store.DeleteKey(ctx, "", id, audit.New(ctx, "api_key.deleted", "api_key", id, nil))
	if err != nil && !errors.Is(err, ErrNoKey) {
		return fmt.Errorf("delete key %s: %w", id, err)
	}
	return err
}
