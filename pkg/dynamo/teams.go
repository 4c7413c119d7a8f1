package dynamo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/teams"
)

// teamItem is a team as stored. While it is listed, gsi1 (TEAMS) sorts it
// by name; a team being deleted has deleting set and is in no index.
type teamItem struct {
	indexKeys
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	ID          string `dynamodbav:"id"`
	Name        string `dynamodbav:"name"`
	MemberCount int    `dynamodbav:"member_count"`
	CreatedAt   string `dynamodbav:"created_at"`
	Version     int    `dynamodbav:"version"`
	Deleting    bool   `dynamodbav:"deleting,omitempty"`
}

func toTeamItem(t teams.Team) teamItem {
	k := teamKey(t.ID)
	return teamItem{
		indexKeys: indexKeys{GSI1PK: gsiTeams, GSI1SK: teamSortKey(teams.NormalizeName(t.Name), t.ID)},
		PK:        k.pk, SK: k.sk, ID: t.ID, Name: t.Name, MemberCount: t.MemberCount,
		CreatedAt: fmtTime(t.CreatedAt), Version: t.Version,
	}
}

func decodeTeam(item map[string]types.AttributeValue) (teams.Team, error) {
	var it teamItem
	if err := unmarshal(item, &it); err != nil {
		return teams.Team{}, err
	}
	return teams.Team{ID: it.ID, Name: it.Name, MemberCount: it.MemberCount, CreatedAt: parseTime(it.CreatedAt),
		Version: it.Version, Deleting: it.Deleting}, nil
}

// uniqueTeamName reserves a team's normalized name for it.
func uniqueTeamName(t teams.Team) map[string]types.AttributeValue {
	k := teamNameKey(teams.NormalizeName(t.Name))
	return marshal(uniqueItem{PK: k.pk, SK: k.sk, UserID: t.ID})
}

// CreateTeam writes a team, the uniqueness of its name and its audit event.
// Errors: teams.ErrNameTaken.
func (s *Store) CreateTeam(ctx context.Context, t teams.Team, ev audit.Event) error {
	if t.Version == 0 {
		t.Version = 1
	}
	tx := s.txn()
	tx.putNew(marshal(toTeamItem(t)), teams.ErrNameTaken)
	tx.putNew(uniqueTeamName(t), teams.ErrNameTaken)
	tx.putAudit(ev)
	return tx.run(ctx, s.client)
}

// ReadTeam reads a team, strongly consistent, one being deleted included.
// Errors: teams.ErrNotFound.
func (s *Store) ReadTeam(ctx context.Context, id string) (teams.Team, error) {
	item, err := s.get(ctx, teamKey(id))
	if err != nil {
		return teams.Team{}, err
	}
	if item == nil {
		return teams.Team{}, teams.ErrNotFound
	}
	return decodeTeam(item)
}

// ListTeams reads one page of the teams' index, by name: one Query.
func (s *Store) ListTeams(ctx context.Context, q teams.ListQuery) (teams.Page, error) {
	items, next, err := s.query(ctx, page{index: "gsi1", partition: gsiTeams, limit: q.Limit, cursor: q.Cursor,
		base: isTeamKey, sortKey: validTeamSortKey, ascending: true, errBadCursor: paging.ErrBadCursor})
	if err != nil {
		return teams.Page{}, err
	}
	out := teams.Page{Items: make([]teams.Team, 0, len(items)), NextCursor: next}
	for _, item := range items {
		t, err := decodeTeam(item)
		if err != nil {
			return teams.Page{}, err
		}
		out.Items = append(out.Items, t)
	}
	return out, nil
}

// isTeamKey reports whether a table key is a team's.
func isTeamKey(pk, sk string) bool {
	id, ok := strings.CutPrefix(pk, "TEAM#")
	return ok && sk == "TEAM" && ids.Valid("team", id)
}

// validTeamSortKey reports whether s has the shape teamSortKey makes: a
// normalized name, teamSortSep, a team id.
func validTeamSortKey(s string) bool {
	i := strings.LastIndex(s, teamSortSep)
	if i <= 0 || len(s) > 1024 || !ids.Valid("team", s[i+len(teamSortSep):]) {
		return false
	}
	name := s[:i]
	return utf8.ValidString(name) && teams.NormalizeName(name) == name
}

// UpdateTeam writes a renamed team if its version is still before's and it
// is not being deleted; a new name (other than in case) moves its
// uniqueness item, in the same transaction as the event.
// Errors: teams.ErrChanged, teams.ErrNameTaken.
func (s *Store) UpdateTeam(ctx context.Context, before, after teams.Team, ev audit.Event) error {
	oldN, newN := teams.NormalizeName(before.Name), teams.NormalizeName(after.Name)
	t := s.txn()
	e := newExpr()
	e.set("name", str(after.Name)).set("gsi1sk", str(teamSortKey(newN, after.ID))).set("version", num(after.Version))
	e.where(e.n("version") + " = " + e.v(num(before.Version))).where("attribute_not_exists(" + e.n("deleting") + ")")
	t.update(teamKey(after.ID), e.build(), failWith(teams.ErrChanged))
	if oldN != newN {
		t.delete(teamNameKey(oldN), "user_id = :u", map[string]types.AttributeValue{":u": str(before.ID)}, failWith(teams.ErrChanged))
		t.putNew(uniqueTeamName(after), teams.ErrNameTaken)
	}
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// deleteRounds bounds how often DeleteTeam looks for what still holds the
// team before it gives up: the indexes it reads are eventually consistent,
// and a member they do not show yet keeps the team's count above zero.
const deleteRounds = 8

// errStale reports that an item a team's deletion read from an index
// changed since (a user moved, a session ended): the batch is read again.
var errStale = errors.New("dynamo: a team's holder changed meanwhile")

// DeleteTeam deletes a team in rounds. Each round finds what holds the team
// (its users by gsi4, its sessions and invitations by gsi3, the sessions of
// its admins, which the team's index does not list, by their partitions)
// and unassigns it in transactions of up to 100 actions: a user with their
// sessions and invitations and the decrement of the member count for them
// together, as far as one transaction holds them. The first transaction
// (with ev) also marks the team deleting, which takes it out of the list
// and refuses new members, and frees its name. A batch that meets an item
// changed since the index showed it is read again next round. A round that
// ends with the count at zero deletes the team.
func (s *Store) DeleteTeam(ctx context.Context, tm teams.Team, ev *audit.Event, now time.Time) error {
	mark := ev != nil
	pause := 50 * time.Millisecond
	for round := range deleteRounds {
		if round > 0 {
			if err := s.pause(ctx, pause); err != nil {
				return translate(err)
			}
			pause = min(pause*2, time.Second)
		}
		units, err := s.teamHolders(ctx, tm.ID, now)
		if err != nil {
			return err
		}
		err = s.unassign(ctx, tm, units, mark, ev)
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return err
		}
		mark = false
		t := s.txn()
		e := newExpr()
		e.where(e.n("member_count") + " = " + e.v(num(0))).where("attribute_exists(" + e.n("deleting") + ")")
		t.deleteIf(teamKey(tm.ID), e.build(), fromOld(func(old map[string]types.AttributeValue) error {
			if old == nil {
				return nil // a concurrent deletion finished it
			}
			return errStale
		}))
		switch err := t.run(ctx, s.client); {
		case err == nil:
			return nil
		case !errors.Is(err, errStale):
			return err
		}
	}
	if mark {
		return apperr.Unavailable(errors.New("dynamo: the team could not be marked deleting"), time.Second)
	}
	return apperr.Unavailable(errors.New("dynamo: the team's members are not all unassigned yet"), time.Second)
}

// holderUnit is what unassigning one user from a team takes (the user, their
// sessions, their invitations), or a straggler alone (member false).
type holderUnit struct {
	member  bool
	actions []func(*txn)
}

// teamHolders finds what holds the team: four queries at once (its users,
// sessions, invitations and manager-role system keys), then the
// sessions of its admins. Each user becomes a unit with their sessions and
// invitations; sessions and invitations of no user found are units of their
// own, except a pending invitation, which waits for its invited user (it
// counts among the members).
func (s *Store) teamHolders(ctx context.Context, teamID string, now time.Time) ([]holderUnit, error) {
	var usersOf, sessionsOf, invitesOf, keysOf []map[string]types.AttributeValue
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, q := range []struct {
		index, partition string
		into             *[]map[string]types.AttributeValue
	}{
		{"gsi4", gsiUsersBy("TEAM", teamID), &usersOf},
		{"gsi3", gsiSessionsOfTeam(teamID), &sessionsOf},
		{"gsi3", gsiInvitesBy("TEAM", teamID), &invitesOf},
		{"gsi3", gsiKeysOfTeam(teamID), &keysOf},
	} {
		wg.Go(func() {
			errs[i] = s.indexed(ctx, q.index, q.partition, func(item map[string]types.AttributeValue) error {
				*q.into = append(*q.into, item)
				return nil
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	team := str(teamID)
	seen := map[key]bool{}
	sessionsByUser := map[string][]key{}
	addSession := func(userID string, k key) {
		if !seen[k] {
			seen[k] = true
			sessionsByUser[userID] = append(sessionsByUser[userID], k)
		}
	}
	for _, item := range sessionsOf {
		addSession(stringAttr(item, "user_id"), keyOf(item))
	}
	for _, item := range usersOf {
		if stringAttr(item, "role") != string(access.Admin) {
			continue
		}
		id := stringAttr(item, "id")
		sids, err := s.SessionsOf(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, sid := range sids {
			addSession(id, sessionKey(id, sid))
		}
	}
	invitesByUser := map[string][]map[string]types.AttributeValue{}
	for _, item := range invitesOf {
		u := stringAttr(item, "user_id")
		invitesByUser[u] = append(invitesByUser[u], item)
	}

	leaveSession := func(k key) func(*txn) {
		return func(t *txn) {
			e := newExpr()
			e.remove("team_id").remove("gsi3pk").remove("gsi3sk").where(e.n("team_id") + " = " + e.v(team))
			t.update(k, e.build(), failWith(errStale))
		}
	}
	leaveInvite := func(k key) func(*txn) {
		return func(t *txn) {
			e := newExpr()
			e.remove("team_id").remove("team_name").remove("gsi3pk").remove("gsi3sk").add("version", 1).
				where(e.n("team_id") + " = " + e.v(team))
			t.update(k, e.build(), failWith(errStale))
		}
	}

	var units []holderUnit
	found := map[string]bool{}
	for _, item := range usersOf {
		id := stringAttr(item, "id")
		found[id] = true
		u := holderUnit{member: true}
		k := userKey(id)
		u.actions = append(u.actions, func(t *txn) {
			// The version moves, so that a change of the user computed
			// before this one (which would put the team back) fails.
			e := newExpr()
			e.set("updated_at", str(fmtTime(now))).add("version", 1).remove("team_id").remove("gsi4pk").remove("gsi4sk").
				where(e.n("team_id") + " = " + e.v(team))
			t.update(k, e.build(), failWith(errStale))
		})
		for _, sk := range sessionsByUser[id] {
			u.actions = append(u.actions, leaveSession(sk))
		}
		for _, inv := range invitesByUser[id] {
			u.actions = append(u.actions, leaveInvite(keyOf(inv)))
		}
		units = append(units, u)
	}
	for userID, keys := range sessionsByUser {
		if found[userID] {
			continue
		}
		for _, k := range keys {
			units = append(units, holderUnit{actions: []func(*txn){leaveSession(k)}})
		}
	}
	for userID, items := range invitesByUser {
		if found[userID] {
			continue
		}
		for _, inv := range items {
			if stringAttr(inv, "status") == "pending" {
				continue
			}
			units = append(units, holderUnit{actions: []func(*txn){leaveInvite(keyOf(inv))}})
		}
	}
	// The team's manager-role system keys, which would see no one: they end
	// with it.
	for _, item := range keysOf {
		k := keyOf(item)
		units = append(units, holderUnit{actions: []func(*txn){func(t *txn) {
			t.delete(k, "team_id = :t", map[string]types.AttributeValue{":t": team}, failWith(errStale))
		}}})
	}
	return units, nil
}

// unassign writes the units in transactions of up to maxActions, each with
// the decrement of the member count for the users it unassigns; with mark,
// the first also marks the team deleting, frees its name and writes ev.
func (s *Store) unassign(ctx context.Context, tm teams.Team, units []holderUnit, mark bool, ev *audit.Event) error {
	type batch struct {
		actions []func(*txn)
		members int
	}
	// Room for the team's own update in each; in the first, for the name
	// and the event too, and one spare (see runWithOverflow).
	room := func(first bool) int {
		if first && mark {
			return maxActions - 4
		}
		return maxActions - 1
	}
	var batches []batch
	cur := batch{}
	flush := func() {
		batches = append(batches, cur)
		cur = batch{}
	}
	for _, u := range units {
		free := room(len(batches) == 0) - len(cur.actions)
		if len(u.actions) > free && len(cur.actions) > 0 {
			flush()
			free = room(len(batches) == 0)
		}
		take := min(len(u.actions), free)
		cur.actions = append(cur.actions, u.actions[:take]...)
		if u.member {
			cur.members++
		}
		// A user with more sessions than a transaction holds: the rest
		// follow in transactions of their own (the user already left).
		for _, a := range u.actions[take:] {
			if len(cur.actions) == room(len(batches) == 0) {
				flush()
			}
			cur.actions = append(cur.actions, a)
		}
	}
	if len(cur.actions) > 0 || (mark && len(batches) == 0) {
		flush()
	}
	for i, b := range batches {
		t := s.txn()
		for _, a := range b.actions {
			a(t)
		}
		k := teamKey(tm.ID)
		e := newExpr()
		if b.members > 0 {
			e.add("member_count", -b.members)
		}
		switch {
		case i == 0 && mark:
			e.set("deleting", &types.AttributeValueMemberBOOL{Value: true}).set("version", num(tm.Version+1)).
				remove("gsi1pk").remove("gsi1sk").
				where(e.n("version") + " = " + e.v(num(tm.Version))).where("attribute_not_exists(" + e.n("deleting") + ")")
			t.update(k, e.build(), failWith(teams.ErrChanged))
			t.delete(teamNameKey(teams.NormalizeName(tm.Name)), "user_id = :u", map[string]types.AttributeValue{":u": str(tm.ID)},
				failWith(teams.ErrChanged))
			t.putAudit(*ev)
		case b.members > 0:
			e.where("attribute_exists(" + e.n("deleting") + ")")
			t.update(k, e.build(), failWith(errStale))
		}
		if err := t.run(ctx, s.client); err != nil {
			return err
		}
	}
	return nil
}
