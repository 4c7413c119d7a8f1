package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

// Authenticate reads the user, the session, the settings and counters
// (META) and the users along names in one strongly consistent BatchGetItem,
// and, at the same time, what the users whose stats along asks for hold.
func (s *Store) Authenticate(ctx context.Context, userID, sessionID string, along auth.Along) (*users.User, *auth.Session, settings.Snapshot, users.Read, error) {
	u, cred, st, read, err := s.authRead(ctx, userID, sessionKey(userID, sessionID), along)
	if err != nil {
		return nil, nil, settings.Snapshot{}, users.Read{}, err
	}
	return u, decodeSession(cred).session(), st, read, nil
}

// AuthenticateKey reads an API key as Authenticate reads a session: with its
// owner (for a personal key), the settings and what along names, in one
// round trip.
func (s *Store) AuthenticateKey(ctx context.Context, owner, keyID string, along auth.Along) (*users.User, *auth.APIKey, settings.Snapshot, users.Read, error) {
	u, cred, st, read, err := s.authRead(ctx, owner, keyOfToken(owner, keyID), along)
	if err != nil {
		return nil, nil, settings.Snapshot{}, users.Read{}, err
	}
	key, err := decodeKey(cred)
	if err != nil {
		return nil, nil, settings.Snapshot{}, users.Read{}, err
	}
	return u, key, st, read, nil
}

// authRead is the one round trip of an authentication: the caller's user
// (none when userID is "": a system key), the credential's item, META and
// the users along names, with what along asks the stats of read at the same
// time. A missing user or credential is apperr.ErrUnauthorized.
func (s *Store) authRead(ctx context.Context, userID string, cred key, along auth.Along) (*users.User, map[string]types.AttributeValue, settings.Snapshot, users.Read, error) {
	fail := func(err error) (*users.User, map[string]types.AttributeValue, settings.Snapshot, users.Read, error) {
		return nil, nil, settings.Snapshot{}, users.Read{}, err
	}
	var statsOf []string
	if along.StatsOfSelf && userID != "" {
		statsOf = append(statsOf, userID)
	}
	if along.StatsOfUsers {
		statsOf = append(statsOf, along.Users...)
	}
	live := make([]users.Live, len(statsOf))
	errs := make([]error, len(statsOf))
	var wg sync.WaitGroup
	for i, id := range statsOf {
		wg.Go(func() { live[i], errs[i] = s.GetLive(ctx, id) })
	}

	keys := []key{cred, metaKey()}
	if userID != "" {
		keys = append(keys, userKey(userID))
	}
	for _, id := range along.Users {
		if id != userID {
			keys = append(keys, userKey(id))
		}
	}
	found, err := s.batchGet(ctx, keys...)
	wg.Wait()
	if err == nil {
		err = errors.Join(errs...)
	}
	if err != nil {
		return fail(err)
	}
	ci := found[cred.id()]
	if ci == nil {
		return fail(apperr.ErrUnauthorized)
	}
	var u *users.User
	if userID != "" {
		ui := found[userKey(userID).id()]
		if ui == nil {
			return fail(apperr.ErrUnauthorized)
		}
		if u, err = decodeUser(ui); err != nil {
			return fail(err)
		}
	}
	st, version, counts, err := decodeMeta(found[metaKey().id()])
	if err != nil {
		return fail(err)
	}
	read := users.Read{Users: map[string]*users.User{}, Live: map[string]users.Live{}, Counts: counts}
	for _, id := range along.Users {
		var o *users.User
		if item := found[userKey(id).id()]; item != nil {
			if o, err = decodeUser(item); err != nil {
				return fail(err)
			}
		}
		read.Users[id] = o
	}
	for i, id := range statsOf {
		read.Live[id] = live[i]
	}
	return u, ci, settings.Snapshot{Settings: st, Version: version, CursorKey: cursorKey(found[metaKey().id()])}, read, nil
}

// liveRead is what counting a user's sessions and keys reads of them.
var liveRead = "sk, expires_at, last_active_at, gen"

// GetLive reads what the user holds, in one strongly consistent query of
// its partition that returns only what the stats need of each item.
func (s *Store) GetLive(ctx context.Context, id string) (users.Live, error) {
	var l users.Live
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userKey(id).pk)},
		ProjectionExpression:      aws.String(liveRead),
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return users.Live{}, translate(err)
		}
		for _, item := range out.Items {
			switch sk := stringAttr(item, "sk"); {
			case strings.HasPrefix(sk, skSession):
				l.Sessions = append(l.Sessions, users.SessionRef{ID: strings.TrimPrefix(sk, skSession),
					ExpiresAt: parseTime(stringAttr(item, "expires_at")), LastActiveAt: parseTime(stringAttr(item, "last_active_at")),
					Gen: intAttr(item, "gen"),
				})
			case strings.HasPrefix(sk, skAPIKey):
				l.Keys = append(l.Keys, users.KeyRef{ID: strings.TrimPrefix(sk, skAPIKey),
					ExpiresAt: timePtr(stringAttr(item, "expires_at")), Gen: intAttr(item, "gen")})
			}
		}
	}
	return l, nil
}

// TouchSession records activity on the session and the user's last-seen
// time, in one transaction, and only while the session exists.
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
// Errors: apperr.ErrNotFound when it had ended already.
func (s *Store) DeleteSession(ctx context.Context, userID, sessionID string, ev audit.Event) error {
	t := s.txn()
	t.delete(sessionKey(userID, sessionID), "attribute_exists(pk)", nil, failWith(apperr.ErrNotFound))
	t.putAudit(ev)
	return t.run(ctx, s.client)
}
