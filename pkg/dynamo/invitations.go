package dynamo

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/ids"
	"github.com/usermgmt/ums/pkg/invitations"
	"github.com/usermgmt/ums/pkg/paging"
	"github.com/usermgmt/ums/pkg/teams"
	"github.com/usermgmt/ums/pkg/users"
)

// invitationItem is an invitation as stored.
type invitationItem struct {
	indexKeys
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	ID            string `dynamodbav:"id"`
	Email         string `dynamodbav:"email"`
	Role          string `dynamodbav:"role"`
	TeamID        string `dynamodbav:"team_id,omitempty"`
	TeamName      string `dynamodbav:"team_name,omitempty"`
	Message       string `dynamodbav:"message,omitempty"`
	InvitedBy     string `dynamodbav:"invited_by"`
	InviterName   string `dynamodbav:"inviter_name"`
	Status        string `dynamodbav:"status"`
	CreatedAt     string `dynamodbav:"created_at"`
	ExpiresAt     string `dynamodbav:"expires_at"`
	SentCount     int    `dynamodbav:"sent_count"`
	LastSentAt    string `dynamodbav:"last_sent_at,omitempty"`
	AcceptedAt    string `dynamodbav:"accepted_at,omitempty"`
	LastSendError string `dynamodbav:"last_send_error,omitempty"`
	UserID        string `dynamodbav:"user_id"`
	TokenHash     string `dynamodbav:"token_hash,omitempty"`
	Version       int    `dynamodbav:"version"`
}

func toInvitationItem(inv *invitations.Invitation) invitationItem {
	k := inviteKey(inv.ID)
	sk := sortKey(inv.CreatedAt, inv.ID)
	it := invitationItem{
		indexKeys: indexKeys{
			GSI1PK: gsiInvites, GSI1SK: sk,
			GSI2PK: gsiInvitesBy("STATUS", string(inv.Status)), GSI2SK: sk,
			// By the email's trace and by who invited: what forgetting a
			// user finds them by.
			GSI4PK: gsiInvitesBy("EMAIL", users.EmailTrace(inv.Email)), GSI4SK: sk,
			GSI5PK: gsiInvitesBy("BY", inv.InvitedBy), GSI5SK: sk,
		},
		PK: k.pk, SK: k.sk, ID: inv.ID, Email: inv.Email, Role: string(inv.Role), TeamID: inv.Team(),
		TeamName: derefStr(inv.TeamName), Message: derefStr(inv.Message), InvitedBy: inv.InvitedBy,
		InviterName: inv.InviterName, Status: string(inv.Status), CreatedAt: fmtTime(inv.CreatedAt),
		ExpiresAt: fmtTime(inv.ExpiresAt), SentCount: inv.SentCount, LastSentAt: fmtTimePtr(inv.LastSentAt),
		AcceptedAt: fmtTimePtr(inv.AcceptedAt), LastSendError: derefStr(inv.LastSendError), UserID: inv.UserID,
		TokenHash: inv.TokenHash, Version: inv.Version,
	}
	if inv.TeamID != nil {
		it.GSI3PK, it.GSI3SK = gsiInvitesBy("TEAM", *inv.TeamID), sk
	}
	// Only a pending invitation is due to expire: the index lists nothing
	// else, so the job reads only what it must do.
	if inv.Status == invitations.StatusPending {
		it.GSI6PK, it.GSI6SK = gsiDue("INVITE"), sortKey(inv.ExpiresAt, inv.ID)
	}
	return it
}

func (it invitationItem) invitation() *invitations.Invitation {
	return &invitations.Invitation{
		ID: it.ID, Email: it.Email, Role: access.Role(it.Role), TeamID: strPtr(it.TeamID), TeamName: strPtr(it.TeamName),
		Message: strPtr(it.Message), InvitedBy: it.InvitedBy, InviterName: it.InviterName,
		Status: invitations.Status(it.Status), CreatedAt: parseTime(it.CreatedAt), ExpiresAt: parseTime(it.ExpiresAt),
		SentCount: it.SentCount, LastSentAt: timePtr(it.LastSentAt), AcceptedAt: timePtr(it.AcceptedAt),
		LastSendError: strPtr(it.LastSendError), UserID: it.UserID, TokenHash: it.TokenHash, Version: it.Version,
	}
}

func decodeInvitation(item map[string]types.AttributeValue) (*invitations.Invitation, error) {
	var it invitationItem
	if err := unmarshal(item, &it); err != nil {
		return nil, err
	}
	return it.invitation(), nil
}

// CreateInvitation writes the invitation, its invited user, the email's
// uniqueness item (marked with the invitation, so that a second invitation
// to the email is told from a user who has it), the counters, the team's
// count and the event, in one transaction.
func (s *Store) CreateInvitation(ctx context.Context, inv *invitations.Invitation, u *users.User, ev audit.Event) error {
	t := s.txn()
	t.putNew(marshal(toInvitationItem(inv)), errors.New("dynamo: invitation exists"))
	t.putNew(marshal(toUserItem(u)), errors.New("dynamo: invited user exists"))
	k := emailKey(users.NormalizeEmail(u.Email))
	unique := marshal(uniqueItem{PK: k.pk, SK: k.sk, UserID: u.ID})
	unique["invitation_id"] = str(inv.ID)
	t.put(unique, "attribute_not_exists(pk)", fromOld(func(old map[string]types.AttributeValue) error {
		if stringAttr(old, "invitation_id") != "" {
			return invitations.ErrPending
		}
		return users.ErrEmailTaken
	}))
	t.applyDelta(users.DeltaOf(nil, u))
	if u.TeamID != nil {
		t.teamMembers(*u.TeamID, +1)
	}
	t.searchIndex(nil, u)
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// GetInvitation reads an invitation, strongly consistent.
func (s *Store) GetInvitation(ctx context.Context, id string) (*invitations.Invitation, error) {
	item, err := s.get(ctx, inviteKey(id))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, invitations.ErrNotFound
	}
	return decodeInvitation(item)
}

// GetTeam reads a team; one being deleted is no team to join.
func (s *Store) GetTeam(ctx context.Context, id string) (teams.Team, error) {
	t, err := s.ReadTeam(ctx, id)
	if errors.Is(err, teams.ErrNotFound) || err == nil && t.Deleting {
		return teams.Team{}, users.ErrTeamNotFound
	}
	return t, err
}

// UpdateInvitation replaces the invitation if its version is still before's,
// with its event.
func (s *Store) UpdateInvitation(ctx context.Context, before, after *invitations.Invitation, ev audit.Event) error {
	t := s.txn()
	e := newExpr()
	e.where(e.n("version") + " = " + e.v(num(before.Version)))
	t.putIf(marshal(toInvitationItem(after)), e.build(), failWith(invitations.ErrChanged))
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// SendFailed records why an invitation's email was not sent and gives back
// the send its last change counted, unless the invitation changed since.
func (s *Store) SendFailed(ctx context.Context, before, after *invitations.Invitation, reason string) error {
	e := newExpr()
	e.set("last_send_error", str(reason)).set("sent_count", num(before.SentCount)).set("version", num(after.Version+1))
	if before.LastSentAt != nil {
		e.set("last_sent_at", str(fmtTime(*before.LastSentAt)))
	} else {
		e.remove("last_sent_at")
	}
	e.where(e.n("version") + " = " + e.v(num(after.Version)))
	u := e.build()
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: inviteKey(after.ID).av(),
		UpdateExpression: aws.String(u.update), ConditionExpression: aws.String(u.cond),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil // resent, cancelled or accepted meanwhile: its own state says what happened
	}
	return translate(err)
}

// invitedUser is the user a pending invitation holds, as the counters and
// the team count see it.
func invitedUser(inv *invitations.Invitation) *users.User {
	return &users.User{ID: inv.UserID, Email: inv.Email, DisplayName: inv.Email, Role: inv.Role, TeamID: inv.TeamID,
		Status: users.StatusInvited, CreatedAt: inv.CreatedAt}
}

// closed returns the invitation at its new status: no longer due, and its
// token gone, except that an expired one keeps its hash so that its link is
// still told expired rather than invalid.
func closed(inv *invitations.Invitation, status invitations.Status) map[string]types.AttributeValue {
	next := *inv
	next.Status, next.Version = status, inv.Version+1
	if status != invitations.StatusExpired {
		next.TokenHash = ""
	}
	return marshal(toInvitationItem(&next))
}

// CloseInvitation ends a pending invitation and removes its invited user
// with what the user held, in one transaction.
func (s *Store) CloseInvitation(ctx context.Context, inv *invitations.Invitation, status invitations.Status, now time.Time, hash string, ev audit.Event) error {
	t := s.txn()
	e := newExpr()
	e.where(e.n("status") + " = " + e.v(str(string(invitations.StatusPending)))).
		where(e.n("version") + " = " + e.v(num(inv.Version)))
	switch status {
	case invitations.StatusExpired:
		e.where(e.n("expires_at") + " <= " + e.v(str(fmtTime(now))))
	case invitations.StatusDeclined:
		e.where(e.n("token_hash") + " = " + e.v(str(hash)))
	}
	t.putIf(closed(inv, status), e.build(), fromOld(func(old map[string]types.AttributeValue) error {
		if stringAttr(old, "status") == string(invitations.StatusPending) && intAttr(old, "version") != inv.Version {
			return invitations.ErrChanged
		}
		return invitations.ErrInvalidState
	}))

	u := invitedUser(inv)
	d := newExpr()
	d.where(d.n("status") + " = " + d.v(str(string(users.StatusInvited))))
	t.deleteIf(userKey(u.ID), d.build(), failWith(invitations.ErrInvalidState))
	t.deleteUnique(emailKey(users.NormalizeEmail(inv.Email)), u.ID)
	t.applyDelta(users.DeltaOf(u, nil))
	if inv.TeamID != nil {
		t.teamMembers(*inv.TeamID, -1)
	}
	t.searchIndex(u, nil)
	t.putAudit(ev)
	return t.run(ctx, s.client)
}

// AcceptInvitation writes an accepted invitation in one transaction: the
// invitation (only if still pending with the token used), its user made
// active (only at the version read), the username's uniqueness, the email's
// mark as a user's, the counters, the session, the sign-in attempt and the
// event.
func (s *Store) AcceptInvitation(ctx context.Context, a invitations.Acceptance) error {
	t := s.txn()
	e := newExpr()
	e.where(e.n("status") + " = " + e.v(str(string(invitations.StatusPending)))).
		where(e.n("token_hash") + " = " + e.v(str(a.Before.TokenHash)))
	t.putIf(marshal(toInvitationItem(a.After)), e.build(), failWith(invitations.ErrInvalidState))
	t.updateUser(a.User, a.Active, keepFailures)
	// A changed invited user means another accept or a decline won.
	t.fails[len(t.fails)-1] = failWith(invitations.ErrInvalidState)
	t.userSideEffects(a.User, a.Active)
	m := newExpr()
	m.remove("invitation_id").where(m.n("user_id") + " = " + m.v(str(a.User.ID)))
	t.update(emailKey(users.NormalizeEmail(a.User.Email)), m.build(), failWith(invitations.ErrInvalidState))
	t.putNew(marshal(toSessionItem(a.Session)), apperr.ErrInternal)
	t.putAttempt(a.Attempt)
	t.putAudit(a.Event)
	return t.run(ctx, s.client)
}

// LookupToken reads the invitation, its user, the settings and the source
// IP's failures in one round trip.
func (s *Store) LookupToken(ctx context.Context, invitationID, ip string, window time.Time) (invitations.TokenLookup, error) {
	ik, uk, rk := inviteKey(invitationID), userKey(invitations.UserIDOf(invitationID)), rateKey(rateScopeLogin, ip, window)
	found, err := s.batchGet(ctx, ik, uk, metaKey(), rk)
	if err != nil {
		return invitations.TokenLookup{}, err
	}
	st, _, _, err := decodeMeta(found[metaKey().id()])
	if err != nil {
		return invitations.TokenLookup{}, err
	}
	look := invitations.TokenLookup{Settings: st, IPFailures: intAttr(found[rk.id()], "n")}
	if item := found[ik.id()]; item != nil {
		if look.Invitation, err = decodeInvitation(item); err != nil {
			return invitations.TokenLookup{}, err
		}
	}
	if item := found[uk.id()]; item != nil {
		if look.User, err = decodeUser(item); err != nil {
			return invitations.TokenLookup{}, err
		}
	}
	return look, nil
}

// CountFailure raises the source IP's failure count, only while it is below
// limit (the same count a failed sign-in raises).
func (s *Store) CountFailure(ctx context.Context, ip string, window time.Time, limit int) error {
	r := newExpr()
	r.add("n", 1).set("ttl", num(int(window.Add(auth.IPWindow+time.Hour).Unix())))
	r.where("attribute_not_exists(" + r.n("n") + ") OR " + r.n("n") + " < " + r.v(num(limit)))
	u := r.build()
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: rateKey(rateScopeLogin, ip, window).av(),
		UpdateExpression: aws.String(u.update), ConditionExpression: aws.String(u.cond),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return auth.ErrIPLimited
	}
	return translate(err)
}

// ListInvitations queries the index of the team (when given) or the status,
// newest first, and filters the status in a team's list.
func (s *Store) ListInvitations(ctx context.Context, q invitations.ListQuery) (invitations.Page, error) {
	p := page{index: "gsi1", partition: gsiInvites, filters: map[string]string{}, limit: q.Limit, cursor: q.Cursor,
		base: isInviteKey, errBadCursor: paging.ErrBadCursor}
	switch {
	case q.TeamID != "":
		p.index, p.partition = "gsi3", gsiInvitesBy("TEAM", q.TeamID)
		if q.Status != "" {
			p.filters["status"] = string(q.Status)
		}
	case q.Status != "":
		p.index, p.partition = "gsi2", gsiInvitesBy("STATUS", string(q.Status))
	}
	if q.Hide != "" {
		p.not = map[string]string{"role": string(q.Hide)}
	}
	items, next, err := s.query(ctx, p)
	if err != nil {
		return invitations.Page{}, err
	}
	out := invitations.Page{Items: make([]*invitations.Invitation, 0, len(items)), NextCursor: next}
	for _, item := range items {
		inv, err := decodeInvitation(item)
		if err != nil {
			return invitations.Page{}, err
		}
		out.Items = append(out.Items, inv)
	}
	return out, nil
}

func isInviteKey(pk, sk string) bool {
	id, ok := strings.CutPrefix(pk, "INVITE#")
	return ok && sk == "INVITE" && ids.Valid("inv", id)
}

// DueInvitations reads the pending invitations expired at now, soonest
// first, from the index of what is due: the work is what is due, whatever
// the table's size.
func (s *Store) DueInvitations(ctx context.Context, now time.Time, limit int) ([]*invitations.Invitation, error) {
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String("gsi6"),
		KeyConditionExpression: aws.String("gsi6pk = :p AND gsi6sk < :cut"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(gsiDue("INVITE")),
			// Sort keys are "<time>#<id>": '$' follows '#', so every key of a
			// time at or before now sorts below this.
			":cut": str(fmtTime(now) + "$"),
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, translate(err)
	}
	due := make([]*invitations.Invitation, 0, len(out.Items))
	for _, item := range out.Items {
		inv, err := decodeInvitation(item)
		if err != nil {
			return nil, err
		}
		due = append(due, inv)
	}
	return due, nil
}
