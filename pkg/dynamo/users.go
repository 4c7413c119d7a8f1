package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/users"
)

// CreateUser writes a new user, its uniqueness items, the counters, the team's
// member count and the audit event in one transaction.
func (s *Store) CreateUser(ctx context.Context, u *users.User, ev audit.Event) error {
	t := s.createUser(u)
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// Register writes a new user signed in, in one transaction.
func (s *Store) Register(ctx context.Context, u *users.User, sess *auth.Session, a auth.Attempt, ev audit.Event) error {
	t := s.createUser(u)
	t.putNew(marshal(toSessionItem(sess)), apperr.ErrInternal)
	t.putAttempt(a)
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// createUser is a transaction that writes a new user with what it takes.
func (s *Store) createUser(u *users.User) *txn {
	t := s.txn()
	t.putNew(marshal(toUserItem(u)), fmt.Errorf("dynamo: user %s exists", u.ID))
	t.putNew(uniqueEmail(u), users.ErrEmailTaken)
	if u.Username != nil {
		t.putNew(uniqueUsername(u), users.ErrUsernameTaken)
	}
	t.applyDelta(users.DeltaOf(nil, u))
	if u.TeamID != nil {
		t.teamMembers(*u.TeamID, +1)
	}
	t.searchIndex(nil, u)
	return t
}

func uniqueEmail(u *users.User) map[string]types.AttributeValue {
	k := emailKey(users.NormalizeEmail(u.Email))
	return marshal(uniqueItem{PK: k.pk, SK: k.sk, UserID: u.ID})
}

func uniqueUsername(u *users.User) map[string]types.AttributeValue {
	k := usernameKey(users.NormalizeUsername(*u.Username))
	return marshal(uniqueItem{PK: k.pk, SK: k.sk, UserID: u.ID})
}

// teamMembers moves a team's member count; the team must exist, and to
// take members it must not be being deleted.
func (t *txn) teamMembers(teamID string, n int) {
	e := newExpr()
	e.add("member_count", n).where("attribute_exists(pk)")
	if n > 0 {
		e.where("attribute_not_exists(" + e.n("deleting") + ")")
	}
	t.update(teamKey(teamID), e.build(), failWith(users.ErrTeamNotFound))
}

// GetUser reads a user, strongly consistent.
func (s *Store) GetUser(ctx context.Context, id string) (*users.User, error) {
	item, err := s.get(ctx, userKey(id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, users.ErrNotFound
	}
	return decodeUser(item)
}

// UpdateUser writes a change of a user in one transaction with everything
// it implies: the sessions it ends are deleted and those that carry the
// user's name and team rewritten, in it as far as they fit, in more
// transactions after it for the rest (see overflow).
func (s *Store) UpdateUser(ctx context.Context, c users.Change) error {
	t := s.txn()
	failures := keepFailures
	if c.ClearLockout {
		failures = clearFailures
	}
	t.updateUser(c.Before, c.After, failures)
	t.userSideEffects(c.Before, c.After)
	if c.VoidReset {
		t.delete(resetKey(c.After.ID), "", nil, onFail{})
	}
	t.putAudit(c.Event)
	var rest []func(*txn)
	for _, sid := range c.EndSessions {
		rest = append(rest, func(t *txn) { t.delete(heldKey(c.After.ID, sid), "", nil, onFail{}) })
	}
	for _, sid := range c.Carry {
		if slices.Contains(c.EndSessions, sid) {
			continue
		}
		rest = append(rest, func(t *txn) { t.carry(c.After, sid) })
	}
	return s.runWithOverflow(ctx, t, rest)
}

// carry rewrites what a session keeps of its user (the display name, the
// team, the role), if the session still exists.
func (t *txn) carry(u *users.User, sid string) {
	e := newExpr()
	e.set("user_display_name", str(u.DisplayName)).set("user_role", str(string(u.Role)))
	if u.TeamID != nil {
		e.set("team_id", str(*u.TeamID))
	} else {
		e.remove("team_id")
	}
	if inTeamSessions(u.Team(), u.Role) {
		// The team's index sorts by the session's creation, which only the
		// item knows: its gsi1sk, copied.
		e.set("gsi3pk", str(gsiSessionsOfTeam(*u.TeamID))).copy("gsi3sk", "gsi1sk")
	} else {
		e.remove("gsi3pk").remove("gsi3sk")
	}
	e.where("attribute_exists(pk)")
	t.update(sessionKey(u.ID, sid), e.build(), onFail{})
}

// What a versioned update of the user does to the sign-in failure count.
type failureMode int

const (
	// keepFailures leaves it alone.
	keepFailures failureMode = iota
	// resetFailures clears it if it is still before's: a sign-in succeeds
	// only if no other attempt was counted since it read the user.
	resetFailures
	// clearFailures clears it whatever it is (a new password).
	clearFailures
)

// updateUser adds the versioned update of the user: every attribute of after
// except the volatile ones is set (or removed when empty), on condition that
// the stored version is before's; failures says what becomes of the
// sign-in failure count.
func (t *txn) updateUser(before, after *users.User, failures failureMode) {
	item := marshal(toUserItem(after))
	e := newExpr()
	for _, name := range userAttributes {
		if volatile[name] {
			continue
		}
		if av, ok := item[name]; ok {
			e.set(name, av)
		} else {
			e.remove(name)
		}
	}
	e.where(e.n("version") + " = " + e.v(num(before.Version)))
	if failures == clearFailures {
		e.remove("failed_logins").remove("last_failed_at")
	}
	if failures == resetFailures {
		fl := e.n("failed_logins")
		if before.FailedLogins == 0 {
			e.where(fmt.Sprintf("attribute_not_exists(%s) OR %s = %s", fl, fl, e.v(num(0))))
		} else {
			e.where(fl + " = " + e.v(num(before.FailedLogins)))
		}
		e.remove("failed_logins").remove("last_failed_at")
	}
	t.update(userKey(after.ID), e.build(), failWith(users.ErrChanged))
}

// userAttributes lists every attribute of userItem, from its tags: a sample
// with every field set, so that none is left out by omitempty.
var userAttributes = func() []string {
	x := "x"
	var names []string
	for name := range marshal(userItem{
		indexKeys: indexKeys{GSI1PK: x, GSI1SK: x, GSI2PK: x, GSI2SK: x, GSI3PK: x, GSI3SK: x, GSI4PK: x, GSI4SK: x, GSI5PK: x, GSI5SK: x, GSI6PK: x, GSI6SK: x},
		PK:        x, SK: x, ID: x, Email: x, EmailNorm: x, Username: x, GivenName: x, FamilyName: x, DisplayName: x,
		Role: x, TeamID: x, Status: x, Usage: x, CreatedAt: x, UpdatedAt: x, LastLoginAt: x, PurgeAfter: x, InvitationID: x,
		PasswordHash: x, Version: 1, SessionGen: 1, LastSeenAt: x, FailedLogins: 1, LastFailedAt: x, StatusBefore: x, Forget: []string{x}, Terms: x,
	}) {
		names = append(names, name)
	}
	return names
}()

// userSideEffects adds what a change of the user implies beyond its item:
// uniqueness items moved, counters, team member counts, search items.
func (t *txn) userSideEffects(before, after *users.User) {
	if oldN, newN := users.NormalizeEmail(before.Email), users.NormalizeEmail(after.Email); oldN != newN {
		if oldN != "" {
			t.deleteUnique(emailKey(oldN), before.ID)
		}
		if newN != "" { // anonymized users have none
			t.putNew(uniqueEmail(after), users.ErrEmailTaken)
		}
	}
	oldU, newU := "", ""
	if before.Username != nil {
		oldU = users.NormalizeUsername(*before.Username)
	}
	if after.Username != nil {
		newU = users.NormalizeUsername(*after.Username)
	}
	if oldU != newU {
		if oldU != "" {
			t.deleteUnique(usernameKey(oldU), before.ID)
		}
		if newU != "" {
			t.putNew(uniqueUsername(after), users.ErrUsernameTaken)
		}
	}
	t.applyDelta(users.DeltaOf(before, after))
	if before.Team() != after.Team() {
		if before.TeamID != nil {
			t.teamMembers(*before.TeamID, -1)
		}
		if after.TeamID != nil {
			t.teamMembers(*after.TeamID, +1)
		}
	}
	t.searchIndex(before, after)
}

// deleteUnique releases a uniqueness item the user holds.
func (t *txn) deleteUnique(k key, userID string) {
	t.delete(k, "user_id = :u", map[string]types.AttributeValue{":u": str(userID)}, failWith(users.ErrChanged))
}

// ListUsers queries the index of the most selective filter, newest first,
// and applies the other filters to what it reads. Every page is one Query.
func (s *Store) ListUsers(ctx context.Context, q users.ListQuery) (users.Page, error) {
	return s.listUsers(ctx, q, 0)
}

func (s *Store) listUsers(ctx context.Context, q users.ListQuery, window int) (users.Page, error) {
	if !q.Words.Empty() && q.TeamID == "" {
		return s.searchUsers(ctx, q, window)
	}
	p := page{index: "gsi1", partition: gsiUsers, filters: map[string]string{}, limit: q.Limit, cursor: q.Cursor,
		base: isUserKey, errBadCursor: paging.ErrBadCursor, window: window}
	facets := []struct{ index, facet, attr, value string }{
		{"gsi4", "TEAM", "team_id", q.TeamID},
		{"gsi3", "ROLE", "role", string(q.Role)},
		{"gsi2", "STATUS", "status", string(q.Status)},
		{"gsi5", "USAGE", "usage", string(q.Usage)},
	}
	chosen := false
	for _, f := range facets {
		switch {
		case f.value == "":
		case !chosen:
			p.index, p.partition, chosen = f.index, gsiUsersBy(f.facet, f.value), true
		default:
			p.filters[f.attr] = f.value
		}
	}
	if q.Hide != "" {
		p.not = map[string]string{"role": string(q.Hide)}
	}
	for _, w := range q.Words.Words {
		// A search within a team: the team's index, filtered on the terms
		// its users carry (see search.go).
		p.contains = append(p.contains, contains{"terms", " " + w})
	}
	items, next, err := s.query(ctx, p)
	if err != nil {
		return users.Page{}, err
	}
	out := users.Page{Items: make([]*users.User, 0, len(items)), NextCursor: next}
	for _, item := range items {
		u, err := decodeUser(item)
		if err != nil {
			return users.Page{}, err
		}
		out.Items = append(out.Items, u)
	}
	return out, nil
}

// isUserKey reports whether a table key is a user's.
func isUserKey(pk, sk string) bool {
	id, ok := strings.CutPrefix(pk, userPrefix)
	return ok && sk == skProfile && ids.Valid("usr", id)
}
