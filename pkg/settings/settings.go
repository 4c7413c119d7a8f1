package settings

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/opt"
	"github.com/usermgmt/ums/pkg/passwords"
	"github.com/usermgmt/ums/pkg/retry"
)

// Settings are the service-wide settings.
type Settings struct {
	AllowRegistration       bool `json:"allow_registration"`
	LicenseCount            int  `json:"license_count"`
	InvitationTTLHours      int  `json:"invitation_ttl_hours"`
	PasswordResetTTLMinutes int  `json:"password_reset_ttl_minutes"`
	DeletionGraceDays       int  `json:"deletion_grace_days"`
	SessionTTLHours         int  `json:"session_ttl_hours"`
	SessionIdleHours        int  `json:"session_idle_hours"`
	PasswordMinLength       int  `json:"password_min_length"`
}

// Snapshot is the settings as read, with their version: what GET and PATCH
// /settings answer, its version as the ETag.
type Snapshot struct {
	Settings
	// Version counts the changes of the settings; 0 until the first.
	Version int `json:"-"`
	// CursorKey is the installation's secret that signs list cursors (see
	// pkg/api), read with the settings: never answered, never changed by
	// a route.
	CursorKey []byte `json:"-"`
}

// Revision is the ETag of the settings (see api).
func (s Snapshot) Revision() string { return strconv.Itoa(s.Version) }

// Defaults are the settings of a new installation.
func Defaults() Settings {
	return Settings{
		InvitationTTLHours:      168,
		PasswordResetTTLMinutes: 60,
		DeletionGraceDays:       30,
		SessionTTLHours:         720,
		SessionIdleHours:        168,
		PasswordMinLength:       8,
	}
}

// Patch is a change to some settings; absent fields stay as they are.
type Patch struct {
	AllowRegistration       opt.Field[bool] `json:"allow_registration"`
	LicenseCount            opt.Field[int]  `json:"license_count"`
	InvitationTTLHours      opt.Field[int]  `json:"invitation_ttl_hours"`
	PasswordResetTTLMinutes opt.Field[int]  `json:"password_reset_ttl_minutes"`
	DeletionGraceDays       opt.Field[int]  `json:"deletion_grace_days"`
	SessionTTLHours         opt.Field[int]  `json:"session_ttl_hours"`
	SessionIdleHours        opt.Field[int]  `json:"session_idle_hours"`
	PasswordMinLength       opt.Field[int]  `json:"password_min_length"`
}

// bounds of each integer setting, inclusive.
var bounds = map[string][2]int{
	"license_count":              {0, 1_000_000},
	"invitation_ttl_hours":       {1, 24 * 90},
	"password_reset_ttl_minutes": {5, 24 * 60},
	"deletion_grace_days":        {1, 365},
	"session_ttl_hours":          {1, 24 * 365},
	"session_idle_hours":         {1, 24 * 365},
	"password_min_length":        {passwords.MinLengthFloor, passwords.MinLengthCeiling},
}

// Change is one setting's old and new value, as audit events record them.
type Change struct {
	From any `json:"from" dynamodbav:"from"`
	To   any `json:"to" dynamodbav:"to"`
}

// Check names the patch's bad fields that need no current settings (see
// api.Checker).
func (p Patch) Check(context.Context) apperr.Fields {
	_, _, err := p.Apply(Defaults())
	if err == nil {
		return nil
	}
	var bad apperr.Fields
	for _, f := range apperr.As(err).Fields {
		if f.Field != "session_idle_hours" || p.SessionIdleHours.Set {
			bad = append(bad, f)
		}
	}
	return bad
}

// Apply returns s with the patch applied, or a validation error naming every
// bad field; s itself is not changed. It also returns what changed, by
// setting name.
func (p Patch) Apply(s Settings) (Settings, map[string]Change, error) {
	var bad apperr.Fields
	changed := map[string]Change{}
	intField := func(name string, f opt.Field[int], dst *int) {
		if !f.Set {
			return
		}
		b := bounds[name]
		switch {
		case f.Null:
			bad.Add(name, "must not be null")
		case f.Value < b[0] || f.Value > b[1]:
			bad.Add(name, fmt.Sprintf("must be between %d and %d", b[0], b[1]))
		case f.Value != *dst:
			changed[name] = Change{From: *dst, To: f.Value}
			*dst = f.Value
		}
	}
	if f := p.AllowRegistration; f.Set {
		switch {
		case f.Null:
			bad.Add("allow_registration", "must not be null")
		case f.Value != s.AllowRegistration:
			changed["allow_registration"] = Change{From: s.AllowRegistration, To: f.Value}
			s.AllowRegistration = f.Value
		}
	}
	intField("license_count", p.LicenseCount, &s.LicenseCount)
	intField("invitation_ttl_hours", p.InvitationTTLHours, &s.InvitationTTLHours)
	intField("password_reset_ttl_minutes", p.PasswordResetTTLMinutes, &s.PasswordResetTTLMinutes)
	intField("deletion_grace_days", p.DeletionGraceDays, &s.DeletionGraceDays)
	intField("session_ttl_hours", p.SessionTTLHours, &s.SessionTTLHours)
	intField("session_idle_hours", p.SessionIdleHours, &s.SessionIdleHours)
	intField("password_min_length", p.PasswordMinLength, &s.PasswordMinLength)
	if len(bad) == 0 && s.SessionIdleHours > s.SessionTTLHours {
		bad.Add("session_idle_hours", "must not exceed session_ttl_hours")
	}
	if err := bad.Err(); err != nil {
		return Settings{}, nil, err
	}
	return s, changed, nil
}

// Store is what the settings service needs from storage.
type Store interface {
	// GetSettings returns the stored settings, or Defaults when none were saved.
	GetSettings(ctx context.Context) (Settings, int, error)
	// SaveSettings replaces the settings if their version is still version,
	// with the audit event in the same transaction; ErrChanged otherwise.
	SaveSettings(ctx context.Context, s Settings, version int, ev audit.Event) error
}

// ErrChanged reports a concurrent change of the settings; the service retries.
var ErrChanged = apperr.Contended("The settings")

// Service reads and changes settings.
type Service struct{ store Store }

// NewService returns a Service over store.
func NewService(store Store) *Service { return &Service{store: store} }

func requireAdmin(ctx context.Context) error {
	if a, ok := access.ActorFrom(ctx); !ok || a.Role != access.Admin {
		return apperr.ErrForbidden
	}
	return nil
}

// Get returns the settings: those authentication read for this request
// (strongly consistent, moments ago), else a fresh read. Errors: forbidden.
func (s *Service) Get(ctx context.Context) (Snapshot, error) {
	if err := requireAdmin(ctx); err != nil {
		return Snapshot{}, err
	}
	if cur, ok := SnapshotFrom(ctx); ok {
		return cur, nil
	}
	cur, version, err := s.store.GetSettings(ctx)
	return Snapshot{Settings: cur, Version: version}, err
}

// Update applies p and returns the new settings. A patch that changes nothing
// writes nothing (and no audit event). With ifMatch (the revisions the client
// accepts) it applies only to settings still at one of them.
// Errors: forbidden, validation_failed, precondition_failed.
func (s *Service) Update(ctx context.Context, p Patch, ifMatch []string) (Snapshot, error) {
	if err := requireAdmin(ctx); err != nil {
		return Snapshot{}, err
	}
	var out Snapshot
	tries := 0
	err := retry.Optimistic(ctx, ErrChanged, func() error {
		// The first try uses the settings the authentication read moments
		// ago; a retry follows a change that landed since, and reads again.
		tries++
		snap, ok := SnapshotFrom(ctx)
		cur, version := snap.Settings, snap.Version
		if !ok || tries > 1 {
			var err error
			if cur, version, err = s.store.GetSettings(ctx); err != nil {
				return err
			}
		}
		next, changed, err := p.Apply(cur)
		if err != nil {
			return err
		}
		if ifMatch != nil && !slices.Contains(ifMatch, strconv.Itoa(version)) {
			return apperr.ErrPrecondition
		}
		if len(changed) == 0 {
			out = Snapshot{Settings: cur, Version: version}
			return nil
		}
		details := map[string]any{}
		for name, c := range changed {
			details[name] = c
		}
		ev := audit.New(ctx, "settings.updated", "settings", "settings", details)
		if err := s.store.SaveSettings(ctx, next, version, ev); err != nil {
			return err
		}
		out = Snapshot{Settings: next, Version: version + 1}
		return nil
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("update settings: %w", err)
	}
	return out, nil
}

type snapshotKey struct{}

// WithSnapshot returns ctx carrying the settings read while authenticating the
// request, so that services need not read them again.
func WithSnapshot(ctx context.Context, s Snapshot) context.Context {
	return context.WithValue(ctx, snapshotKey{}, s)
}

// SnapshotFrom returns the settings carried by ctx, with their version.
func SnapshotFrom(ctx context.Context) (Snapshot, bool) {
	s, ok := ctx.Value(snapshotKey{}).(Snapshot)
	return s, ok
}

// FromContext returns the settings carried by ctx, if any.
func FromContext(ctx context.Context) (Settings, bool) {
	s, ok := SnapshotFrom(ctx)
	return s.Settings, ok
}
