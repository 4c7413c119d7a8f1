package dynamo

import (
	"context"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/settings"
	"github.com/usermgmt/ums/pkg/users"
)

const rateScopeLogin = "login"

// LookupLogin reads, in one round trip, the uniqueness item the login names,
// the settings, the source IP's failures in this window and the throttle of a
// login that names no user.
func (s *Store) LookupLogin(ctx context.Context, kind, login, loginKey, ip string, window time.Time) (auth.LoginLookup, error) {
	unique := emailKey(login)
	if kind == "username" {
		unique = usernameKey(login)
	}
	rate, throttle := rateKey(rateScopeLogin, ip, window), throttleKey(loginKey)
	found, err := s.batchGet(ctx, unique, metaKey(), rate, throttle)
	if err != nil {
		return auth.LoginLookup{}, err
	}
	st, _, _, err := decodeMeta(found[metaKey().id()])
	if err != nil {
		return auth.LoginLookup{}, err
	}
	th := found[throttle.id()]
	return auth.LoginLookup{
		UserID:      stringAttr(found[unique.id()], "user_id"),
		Settings:    st,
		IPFailures:  intAttr(found[rate.id()], "n"),
		Failures:    intAttr(th, "failed_logins"),
		LastFailure: parseTime(stringAttr(th, "last_failed_at")),
	}, nil
}

// LoginSucceeded writes a sign-in: the session, the user (versioned, and only
// if no failure was counted since the user was read), the counters, the
// attempt and the audit event, in one transaction.
func (s *Store) LoginSucceeded(ctx context.Context, before, after *users.User, sess *auth.Session, a auth.Attempt, ev audit.Event) error {
	t := s.txn()
	t.updateUser(before, after, true)
	t.applyDelta(users.DeltaOf(before, after))
	t.putNew(marshal(toSessionItem(sess)), apperr.ErrInternal)
	t.putAttempt(a)
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// LoginFailed records a failed attempt and, for counted failures, raises the
// account's (or the unknown login's) and the source IP's failure counts with
// atomic ADDs, so parallel guesses are all counted.
func (s *Store) LoginFailed(ctx context.Context, f auth.Failure) error {
	t := s.txn()
	at := fmtTime(f.Attempt.At)
	if f.Count {
		e := newExpr()
		e.add("failed_logins", 1).set("last_failed_at", str(at))
		switch {
		case f.UserID != "":
			e.where("attribute_exists(pk)")
			t.update(userKey(f.UserID), e.build(), failWith(users.ErrNotFound))
		default:
			e.set("ttl", num(int(f.Attempt.At.Add(24*time.Hour).Unix())))
			t.update(throttleKey(f.LoginKey), e.build(), nil)
		}
		r := newExpr()
		r.add("n", 1).set("ttl", num(int(f.IPWindow.Add(auth.IPWindow+time.Hour).Unix())))
		t.update(rateKey(rateScopeLogin, f.Attempt.IP, f.IPWindow), r.build(), nil)
	}
	t.putAttempt(f.Attempt)
	return t.run(ctx, s.client)
}

// RecordAttempt records an attempt alone.
func (s *Store) RecordAttempt(ctx context.Context, a auth.Attempt) error {
	t := s.txn()
	t.putAttempt(a)
	return t.run(ctx, s.client)
}

// Authenticate reads the user, the session and the settings in one strongly
// consistent round trip.
func (s *Store) Authenticate(ctx context.Context, userID, sessionID string) (*users.User, *auth.Session, settings.Settings, error) {
	uk, sk := userKey(userID), sessionKey(userID, sessionID)
	found, err := s.batchGet(ctx, uk, sk, metaKey())
	if err != nil {
		return nil, nil, settings.Settings{}, err
	}
	ui, si := found[uk.id()], found[sk.id()]
	if ui == nil || si == nil {
		return nil, nil, settings.Settings{}, apperr.ErrUnauthorized
	}
	u, err := decodeUser(ui)
	if err != nil {
		return nil, nil, settings.Settings{}, err
	}
	var it sessionItem
	if err := unmarshal(si, &it); err != nil {
		return nil, nil, settings.Settings{}, err
	}
	st, _, _, err := decodeMeta(found[metaKey().id()])
	if err != nil {
		return nil, nil, settings.Settings{}, err
	}
	return u, it.session(), st, nil
}

// TouchSession records activity on the session and the user's last-seen time.
func (s *Store) TouchSession(ctx context.Context, userID, sessionID string, at time.Time) error {
	t := s.txn()
	for _, k := range []struct {
		key  key
		attr string
	}{{sessionKey(userID, sessionID), "last_active_at"}, {userKey(userID), "last_seen_at"}} {
		e := newExpr()
		e.set(k.attr, str(fmtTime(at))).where("attribute_exists(pk)")
		t.update(k.key, e.build(), failWith(apperr.ErrUnauthorized))
	}
	return t.run(ctx, s.client)
}

// DeleteSession removes a session with its audit event.
func (s *Store) DeleteSession(ctx context.Context, userID, sessionID string, ev audit.Event) error {
	t := s.txn()
	t.delete(sessionKey(userID, sessionID), "attribute_exists(pk)", nil, failWith(apperr.ErrNotFound))
	t.putAudit(ev)
	return t.run(ctx, s.client)
}
