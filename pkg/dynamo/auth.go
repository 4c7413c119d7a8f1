package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/schema"
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

// LoginSucceeded writes a sign-in in one transaction: the user's sign-in, on
// condition that what it depends on is as read; the counters; that the
// source IP is below its limit; the session, the attempt and the event.
func (s *Store) LoginSucceeded(ctx context.Context, in auth.SignIn) error {
	u := in.User
	t := s.txn()
	e := newExpr()
	e.set("last_login_at", str(fmtTime(in.Session.CreatedAt))).set("usage", str(string(in.Usage))).
		set("gsi5pk", str(gsiUsersBy("USAGE", string(in.Usage)))).set("gsi5sk", str(sortKey(u.CreatedAt, u.ID))).
		add("version", 1).remove("failed_logins").remove("last_failed_at")
	if in.PasswordHash != "" {
		e.set("password_hash", str(in.PasswordHash))
	}
	e.where("attribute_exists(pk)").
		where(e.n("status") + " = " + e.v(str(string(users.StatusActive)))).
		where(e.n("session_gen") + " = " + e.v(num(u.SessionGen))).
		where(e.n("password_hash") + " = " + e.v(str(u.PasswordHash))).
		where(equalOrAbsent(e, "failed_logins", u.FailedLogins)).
		where(usageIs(e, u.Usage))
	t.update(userKey(u.ID), e.build(), fromOld(func(old map[string]types.AttributeValue) error {
		if old == nil {
			return users.ErrNotFound
		}
		cur, err := decodeUser(old)
		if err != nil {
			return err
		}
		if cur.FailedLogins != u.FailedLogins {
			return auth.ErrFailureCounted
		}
		return &auth.UserChanged{Current: cur}
	}))
	after := u.Clone()
	after.Usage = &in.Usage
	t.applyDelta(users.DeltaOf(u, after))
	t.check(rateKey(rateScopeLogin, in.Attempt.IP, in.IPWindow), belowLimit(in.IPLimit), failWith(auth.ErrIPLimited))
	t.putNew(marshal(toSessionItem(in.Session)), apperr.ErrInternal)
	t.putAttempt(in.Attempt)
	t.putAudit(in.Event)
	return t.run(ctx, s.client)
}

// equalOrAbsent is the condition that a counter is n, absent meaning 0.
func equalOrAbsent(e *expr, attr string, n int) string {
	if n == 0 {
		return fmt.Sprintf("attribute_not_exists(%s) OR %s = %s", e.n(attr), e.n(attr), e.v(num(0)))
	}
	return e.n(attr) + " = " + e.v(num(n))
}

// usageIs is the condition that the user's usage is still u.
func usageIs(e *expr, u *users.Usage) string {
	if u == nil {
		return "attribute_not_exists(" + e.n("usage") + ")"
	}
	return e.n("usage") + " = " + e.v(str(string(*u)))
}

// belowLimit is the condition that a rate counter is below limit.
func belowLimit(limit int) expr {
	e := newExpr()
	e.where(fmt.Sprintf("attribute_not_exists(%s) OR %s < %s", e.n("n"), e.n("n"), e.v(num(limit))))
	return e.build()
}

// LoginFailed records a failed attempt and, for counted failures, raises the
// account's (or the unknown login's) and the source IP's failure counts with
// atomic ADDs, so parallel guesses are all counted. The IP's count rises
// only while it is below its limit, in the same conditional write that
// checks it: of N parallel failures with k left, exactly k are counted, and
// the rest write nothing (auth.ErrIPLimited).
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
			t.update(throttleKey(f.LoginKey), e.build(), onFail{})
		}
		r := newExpr()
		r.add("n", 1).set("ttl", num(int(f.IPWindow.Add(auth.IPWindow+time.Hour).Unix())))
		r.where(fmt.Sprintf("attribute_not_exists(%s) OR %s < %s", r.n("n"), r.n("n"), r.v(num(f.IPLimit))))
		t.update(rateKey(rateScopeLogin, f.Attempt.IP, f.IPWindow), r.build(), failWith(auth.ErrIPLimited))
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
func (s *Store) Authenticate(ctx context.Context, userID, sessionID string) (*users.User, *auth.Session, settings.Snapshot, error) {
	uk, sk := userKey(userID), sessionKey(userID, sessionID)
	found, err := s.batchGet(ctx, uk, sk, metaKey())
	if err != nil {
		return nil, nil, settings.Snapshot{}, err
	}
	ui, si := found[uk.id()], found[sk.id()]
	if ui == nil || si == nil {
		return nil, nil, settings.Snapshot{}, apperr.ErrUnauthorized
	}
	u, err := decodeUser(ui)
	if err != nil {
		return nil, nil, settings.Snapshot{}, err
	}
	var it sessionItem
	if err := unmarshal(si, &it); err != nil {
		return nil, nil, settings.Snapshot{}, err
	}
	st, version, _, err := decodeMeta(found[metaKey().id()])
	if err != nil {
		return nil, nil, settings.Snapshot{}, err
	}
	return u, it.session(), settings.Snapshot{Settings: st, Version: version}, nil
}

// TouchSession records activity on the session and the user's last-seen time.
func (s *Store) TouchSession(ctx context.Context, userID, sessionID string, at time.Time) error {
	t := s.txn()
	for _, k := range []struct {
		key  key
		attr string
	}{{sessionKey(userID, sessionID), schema.LastActiveAt}, {userKey(userID), schema.LastSeenAt}} {
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
