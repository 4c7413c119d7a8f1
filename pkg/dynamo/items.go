package dynamo

import (
	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/audit"
	"github.com/usermgmt/ums/pkg/auth"
	"github.com/usermgmt/ums/pkg/schema"
	"github.com/usermgmt/ums/pkg/users"
)

// indexKeys are the keys of the overloaded indexes (see keys.go); an item
// sets those of the indexes it is listed in.
type indexKeys struct {
	GSI1PK string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK string `dynamodbav:"gsi1sk,omitempty"`
	GSI2PK string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK string `dynamodbav:"gsi2sk,omitempty"`
	GSI3PK string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK string `dynamodbav:"gsi3sk,omitempty"`
	GSI4PK string `dynamodbav:"gsi4pk,omitempty"`
	GSI4SK string `dynamodbav:"gsi4sk,omitempty"`
	GSI5PK string `dynamodbav:"gsi5pk,omitempty"`
	GSI5SK string `dynamodbav:"gsi5sk,omitempty"`
	GSI6PK string `dynamodbav:"gsi6pk,omitempty"`
	GSI6SK string `dynamodbav:"gsi6sk,omitempty"`
}

// userItem is a user as stored.
type userItem struct {
	indexKeys
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`

	ID           string `dynamodbav:"id"`
	Email        string `dynamodbav:"email"`
	EmailNorm    string `dynamodbav:"email_norm"`
	Username     string `dynamodbav:"username,omitempty"`
	GivenName    string `dynamodbav:"given_name"`
	FamilyName   string `dynamodbav:"family_name"`
	DisplayName  string `dynamodbav:"display_name"`
	Role         string `dynamodbav:"role"`
	TeamID       string `dynamodbav:"team_id,omitempty"`
	Status       string `dynamodbav:"status"`
	Usage        string `dynamodbav:"usage,omitempty"`
	CreatedAt    string `dynamodbav:"created_at"`
	UpdatedAt    string `dynamodbav:"updated_at"`
	LastLoginAt  string `dynamodbav:"last_login_at,omitempty"`
	PurgeAfter   string `dynamodbav:"purge_after,omitempty"`
	InvitationID string `dynamodbav:"invitation_id,omitempty"`
	PasswordHash string `dynamodbav:"password_hash,omitempty"`
	Version      int    `dynamodbav:"version"`
	SessionGen   int    `dynamodbav:"session_gen"`
	StatusBefore string `dynamodbav:"status_before,omitempty"`
	// Forget are the traces an anonymized user's data is still to be
	// removed under (users.Traces): hashes, never the email itself.
	Forget []string `dynamodbav:"forget,omitempty,stringset"`
	// Terms are what the user is found by (users.JoinTerms), for the
	// filters of a search narrowed to a team (see searchUsers).
	Terms string `dynamodbav:"terms,omitempty"`

	// Written outside the versioned update of the user (see updateUser).
	LastSeenAt   string `dynamodbav:"last_seen_at,omitempty"`
	FailedLogins int    `dynamodbav:"failed_logins,omitempty"`
	LastFailedAt string `dynamodbav:"last_failed_at,omitempty"`
}

// volatile are the attributes a versioned update of the user leaves alone:
// activity and the sign-in failure count are written by atomic updates of
// their own and must never be overwritten by a read-modify-write.
var volatile = map[string]bool{"pk": true, "sk": true, schema.LastSeenAt: true, "failed_logins": true, "last_failed_at": true}

func toUserItem(u *users.User) userItem {
	k := userKey(u.ID)
	sk := sortKey(u.CreatedAt, u.ID)
	it := userItem{
		indexKeys: indexKeys{
			GSI1PK: gsiUsers, GSI1SK: sk,
			GSI2PK: gsiUsersBy("STATUS", string(u.Status)), GSI2SK: sk,
			GSI3PK: gsiUsersBy("ROLE", string(u.Role)), GSI3SK: sk,
		},
		PK: k.pk, SK: k.sk,
		ID: u.ID, Email: u.Email, EmailNorm: users.NormalizeEmail(u.Email),
		GivenName: u.GivenName, FamilyName: u.FamilyName, DisplayName: u.DisplayName,
		Role: string(u.Role), TeamID: u.Team(), Status: string(u.Status),
		CreatedAt: fmtTime(u.CreatedAt), UpdatedAt: fmtTime(u.UpdatedAt),
		LastLoginAt: fmtTimePtr(u.LastLoginAt), LastSeenAt: fmtTimePtr(u.LastSeenAt), PurgeAfter: fmtTimePtr(u.PurgeAfter),
		InvitationID: derefStr(u.InvitationID), PasswordHash: u.PasswordHash, Version: u.Version, SessionGen: u.SessionGen,
		FailedLogins: u.FailedLogins, StatusBefore: string(u.StatusBefore), Forget: u.Forget,
		Terms: users.JoinTerms(u.SearchTerms()),
	}
	// What the purge job must do, by when: a user in deletion at their
	// purge date, an anonymized one still to forget at once.
	switch {
	case u.Status == users.StatusInDeletion && u.PurgeAfter != nil:
		it.GSI6PK, it.GSI6SK = gsiDue("PURGE"), sortKey(*u.PurgeAfter, u.ID)
	case u.Status == users.StatusAnonymized && len(u.Forget) > 0:
		it.GSI6PK, it.GSI6SK = gsiDue("PURGE"), sortKey(u.UpdatedAt, u.ID)
	}
	if u.Username != nil {
		it.Username = *u.Username
	}
	if u.TeamID != nil {
		it.GSI4PK, it.GSI4SK = gsiUsersBy("TEAM", *u.TeamID), sk
	}
	if u.Usage != nil {
		it.Usage = string(*u.Usage)
		it.GSI5PK, it.GSI5SK = gsiUsersBy("USAGE", it.Usage), sk
	}
	if !u.LastFailedAt.IsZero() {
		it.LastFailedAt = fmtTime(u.LastFailedAt)
	}
	return it
}

func (it userItem) user() *users.User {
	u := &users.User{
		ID: it.ID, Email: it.Email, Username: strPtr(it.Username),
		GivenName: it.GivenName, FamilyName: it.FamilyName, DisplayName: it.DisplayName,
		Role: access.Role(it.Role), TeamID: strPtr(it.TeamID), Status: users.Status(it.Status),
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
		LastLoginAt: timePtr(it.LastLoginAt), LastSeenAt: timePtr(it.LastSeenAt), PurgeAfter: timePtr(it.PurgeAfter),
		InvitationID: strPtr(it.InvitationID), PasswordHash: it.PasswordHash, Version: it.Version, SessionGen: it.SessionGen,
		FailedLogins: it.FailedLogins, LastFailedAt: parseTime(it.LastFailedAt),
		StatusBefore: users.Status(it.StatusBefore), Forget: it.Forget,
	}
	if it.Usage != "" {
		usage := users.Usage(it.Usage)
		u.Usage = &usage
	}
	return u
}

// uniqueItem reserves an email or a username for a user.
type uniqueItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	UserID string `dynamodbav:"user_id"`
}

// sessionItem is a session as stored; its key is derived from the token's
// hash, never the token.
type sessionItem struct {
	indexKeys
	PK              string `dynamodbav:"pk"`
	SK              string `dynamodbav:"sk"`
	ID              string `dynamodbav:"id"`
	UserID          string `dynamodbav:"user_id"`
	UserDisplayName string `dynamodbav:"user_display_name"`
	TeamID          string `dynamodbav:"team_id,omitempty"`
	UserRole        string `dynamodbav:"user_role,omitempty"`
	IP              string `dynamodbav:"ip"`
	UserAgent       string `dynamodbav:"user_agent"`
	Device          string `dynamodbav:"device"`
	CreatedAt       string `dynamodbav:"created_at"`
	LastActiveAt    string `dynamodbav:"last_active_at"`
	ExpiresAt       string `dynamodbav:"expires_at"`
	Gen             int    `dynamodbav:"gen"`
	TTL             int64  `dynamodbav:"ttl"`
}

// inTeamSessions says whether a session is listed among its team's: those
// of the team's non-admin users, which the team's managers see.
func inTeamSessions(team string, role access.Role) bool { return team != "" && role != access.Admin }

func toSessionItem(s *auth.Session) sessionItem {
	k := sessionKey(s.UserID, s.ID)
	it := sessionItem{
		indexKeys: indexKeys{
			GSI1PK: gsiSessions, GSI1SK: sortKey(s.CreatedAt, s.ID),
			GSI2PK: gsiSessionByID(s.ID), GSI2SK: k.sk,
		},
		PK: k.pk, SK: k.sk, TeamID: s.TeamID, UserRole: string(s.Role),
		ID: s.ID, UserID: s.UserID, UserDisplayName: s.UserDisplayName,
		IP: s.IP, UserAgent: s.UserAgent, Device: s.Device,
		CreatedAt: fmtTime(s.CreatedAt), LastActiveAt: fmtTime(s.LastActiveAt), ExpiresAt: fmtTime(s.ExpiresAt),
		Gen: s.Gen, TTL: s.ExpiresAt.Unix(),
	}
	if inTeamSessions(s.TeamID, s.Role) {
		it.GSI3PK, it.GSI3SK = gsiSessionsOfTeam(s.TeamID), it.GSI1SK
	}
	return it
}

func (it sessionItem) session() *auth.Session {
	return &auth.Session{
		ID: it.ID, UserID: it.UserID, UserDisplayName: it.UserDisplayName, TeamID: it.TeamID, Role: access.Role(it.UserRole),
		IP: it.IP, UserAgent: it.UserAgent, Device: it.Device,
		CreatedAt: parseTime(it.CreatedAt), LastActiveAt: parseTime(it.LastActiveAt), ExpiresAt: parseTime(it.ExpiresAt),
		Gen: it.Gen,
	}
}

// auditItem is an audit event as stored; audit events are written once, with
// attribute_not_exists, and never updated.
type auditItem struct {
	indexKeys
	PK         string         `dynamodbav:"pk"`
	SK         string         `dynamodbav:"sk"`
	ID         string         `dynamodbav:"id"`
	At         string         `dynamodbav:"at"`
	ActorType  string         `dynamodbav:"actor_type"`
	ActorID    string         `dynamodbav:"actor_id"`
	Action     string         `dynamodbav:"action"`
	TargetType string         `dynamodbav:"target_type"`
	TargetID   string         `dynamodbav:"target_id"`
	IP         string         `dynamodbav:"ip"`
	RequestID  string         `dynamodbav:"request_id"`
	Details    map[string]any `dynamodbav:"details"`
}

// putAudit adds the audit event to the transaction, which makes it a
// change (see claim).
func (t *txn) putAudit(ev audit.Event) {
	t.changes = true
	k := auditKey(ev.ID)
	sk := sortKey(ev.At, ev.ID)
	ix := indexKeys{
		GSI1PK: gsiAudit, GSI1SK: sk,
		GSI2PK: gsiAuditBy("ACTOR", ev.ActorID), GSI2SK: sk,
		GSI3PK: gsiAuditBy("TARGET", ev.TargetID), GSI3SK: sk,
		GSI4PK: gsiAuditBy("ACTION", ev.Action), GSI4SK: sk,
	}
	if ev.Person != "" {
		ix.GSI5PK, ix.GSI5SK = gsiAuditBy("PERSON", ev.Person), sk
	}
	t.putNew(marshal(auditItem{
		indexKeys: ix,
		PK:        k.pk, SK: k.sk,
		ID: ev.ID, At: fmtTime(ev.At), ActorType: string(ev.ActorType), ActorID: ev.ActorID,
		Action: ev.Action, TargetType: ev.TargetType, TargetID: ev.TargetID,
		IP: ev.IP, RequestID: ev.RequestID, Details: ev.Details,
	}), errDuplicateEvent)
}

// attemptItem is a sign-in attempt as stored, kept 90 days.
type attemptItem struct {
	indexKeys
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ID        string `dynamodbav:"id"`
	At        string `dynamodbav:"at"`
	Login     string `dynamodbav:"login"`
	LoginKey  string `dynamodbav:"login_key,omitempty"`
	UserID    string `dynamodbav:"user_id,omitempty"`
	IP        string `dynamodbav:"ip"`
	UserAgent string `dynamodbav:"user_agent"`
	Success   bool   `dynamodbav:"success"`
	Reason    string `dynamodbav:"reason,omitempty"`
	TTL       int64  `dynamodbav:"ttl"`
}

// AttemptRetention is how long sign-in attempts are kept: the table's TTL
// removes them after it, and the list never shows them past it.
const AttemptRetention = auth.AttemptRetention

func (t *txn) putAttempt(a auth.Attempt) {
	k := attemptKey(a.ID)
	sk := sortKey(a.At, a.ID)
	it := attemptItem{
		indexKeys: indexKeys{GSI1PK: gsiAttempts, GSI1SK: sk},
		PK:        k.pk, SK: k.sk,
		ID: a.ID, At: fmtTime(a.At), Login: a.Login, IP: a.IP, UserAgent: a.UserAgent,
		Success: a.Success, TTL: a.At.Add(AttemptRetention).Unix(),
	}
	if a.LoginKey != "" {
		it.LoginKey = a.LoginKey
		it.GSI3PK, it.GSI3SK = gsiAttemptsByLogin(a.LoginKey), sk
	}
	if a.UserID != nil {
		it.UserID = *a.UserID
		it.GSI2PK, it.GSI2SK = gsiAttemptsByUser(*a.UserID), sk
	}
	if a.Reason != nil {
		it.Reason = *a.Reason
	}
	t.putNew(marshal(it), errDuplicateEvent)
}
