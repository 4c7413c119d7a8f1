package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/outbox"
	"github.com/usermgmt/ums/pkg/users"
)

// resetItem is a user's password-reset link, in their partition: one per
// user, so a newer link replaces (and voids) the older.
type resetItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	UserID    string `dynamodbav:"user_id"`
	TokenHash string `dynamodbav:"token_hash"`
	CreatedAt string `dynamodbav:"created_at"`
	ExpiresAt string `dynamodbav:"expires_at"`
	ByAdmin   bool   `dynamodbav:"by_admin,omitempty"`
	TTL       int64  `dynamodbav:"ttl"`
}

const rateScopeForgot = "forgot"

// SaveReset writes the reset over the user's previous one, with ev, if the
// user is still active at the session generation it was made under: a
// deactivation (or deletion) that lands between the read and this write
// removes the links there are, and this one must not outlive it.
func (s *Store) SaveReset(ctx context.Context, r *auth.Reset, ev *audit.Event) error {
	k := resetKey(r.UserID)
	t := s.txn()
	t.put(marshal(resetItem{PK: k.pk, SK: k.sk, UserID: r.UserID, TokenHash: r.TokenHash, CreatedAt: fmtTime(r.CreatedAt),
		ExpiresAt: fmtTime(r.ExpiresAt), ByAdmin: r.ByAdmin, TTL: r.ExpiresAt.Add(24 * time.Hour).Unix()}), "", onFail{})
	t.checkActive(r.UserID, r.Gen)
	if ev != nil {
		t.putAudit(*ev)
	}
	return t.run(ctx, s.client)
}

// QueueReset queues the mail of a reset link with ev, in the same
// transaction as the raise of the account's and the source IP's counts of
// reset mails, each only below its limit, if the user is still active.
func (s *Store) QueueReset(ctx context.Context, m outbox.Message, ev audit.Event, limit auth.ForgotLimit) error {
	t := s.txn()
	t.queue(m)
	t.checkActive(m.UserID, m.UserGen)
	t.countBelow(rateKey(rateScopeForgot, "user:"+m.UserID, limit.Account), auth.ForgotPerAccount, limit.Account.Add(auth.ForgotWindow), auth.ErrAccountLimited)
	t.countBelow(rateKey(rateScopeForgot, limit.IP, limit.IPWindow), auth.ForgotPerIP, limit.IPWindow.Add(auth.IPWindow), auth.ErrIPLimited)
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// checkActive adds the condition that the user is active at the session
// generation gen.
func (t *txn) checkActive(userID string, gen int) {
	e := newExpr()
	e.where(e.n("status") + " = " + e.v(str(string(users.StatusActive)))).where(e.n("session_gen") + " = " + e.v(num(gen)))
	t.check(userKey(userID), e.build(), failWith(users.ErrInvalidState))
}

// countBelow raises a rate count only while it is below limit, failing
// with err otherwise; the count goes an hour after the window ends.
func (t *txn) countBelow(k key, limit int, windowEnd time.Time, err error) {
	e := newExpr()
	e.add("n", 1).set("ttl", num(int(windowEnd.Add(time.Hour).Unix())))
	e.where("attribute_not_exists(" + e.n("n") + ") OR " + e.n("n") + " < " + e.v(num(limit)))
	t.update(k, e.build(), failWith(err))
}

// LookupReset reads the user, their reset, the settings and the source
// IP's failures in one round trip.
func (s *Store) LookupReset(ctx context.Context, userID, ip string, window time.Time) (auth.ResetLookup, error) {
	uk, rk, ipk := userKey(userID), resetKey(userID), rateKey(rateScopeLogin, ip, window)
	found, err := s.batchGet(ctx, uk, rk, metaKey(), ipk)
	if err != nil {
		return auth.ResetLookup{}, err
	}
	st, _, _, err := decodeMeta(found[metaKey().id()])
	if err != nil {
		return auth.ResetLookup{}, err
	}
	look := auth.ResetLookup{Settings: st, IPFailures: intAttr(found[ipk.id()], "n")}
	if item := found[uk.id()]; item != nil {
		if look.User, err = decodeUser(item); err != nil {
			return auth.ResetLookup{}, err
		}
	}
	if item := found[rk.id()]; item != nil {
		var it resetItem
		if err := unmarshal(item, &it); err != nil {
			return auth.ResetLookup{}, err
		}
		look.Reset = &auth.Reset{UserID: it.UserID, TokenHash: it.TokenHash, CreatedAt: parseTime(it.CreatedAt),
			ExpiresAt: parseTime(it.ExpiresAt), ByAdmin: it.ByAdmin}
	}
	return look, nil
}

// ChangePassword writes a new password: the user (a new hash and session
// generation, the lockout cleared), the kept session moved to the new
// generation, the reset used (only if it is the one read), the other
// sessions deleted and the event, in one transaction, more for sessions
// past what it holds.
func (s *Store) ChangePassword(ctx context.Context, c auth.PasswordChange) error {
	t := s.txn()
	t.updateUser(c.Before, c.After, clearFailures)
	if c.Reset != nil {
		t.delete(resetKey(c.After.ID), "token_hash = :h", map[string]types.AttributeValue{":h": str(c.Reset.TokenHash)},
			failWith(auth.ErrResetUsed))
	}
	if c.Notify != nil {
		t.queue(*c.Notify)
	}
	if c.Keep != nil {
		e := newExpr()
		e.set("gen", num(c.After.SessionGen)).where("attribute_exists(pk)")
		t.update(sessionKey(c.After.ID, c.Keep.ID), e.build(), failWith(users.ErrChanged))
	}
	t.putAudit(c.Event)
	var rest []func(*txn)
	for _, sid := range c.EndSessions {
		rest = append(rest, func(t *txn) { t.delete(heldKey(c.After.ID, sid), "", nil, onFail{}) })
	}
	return s.runWithOverflow(ctx, t, rest)
}
