package dynamo

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/schema"
)

// This file is the only place that spells a key. The layout:
//
//	USER#<id>            PROFILE              the user
//	USER#<id>            SESSION#<session id> a session (so a user, their
//	                                          sessions and keys are one query)
//	EMAIL#<email>        EMAIL                uniqueness of an email
//	USERNAME#<username>  USERNAME             uniqueness of a username
//	META                 META                 settings and the summary counters
//	TEAM#<id>            TEAM                 a team and its member count
//	TEAMNAME#<name>      TEAMNAME             uniqueness of a team name
//	AUDIT#<id>           AUDIT                an audit event
//	ATTEMPT#<id>         ATTEMPT              a sign-in attempt
//	THROTTLE#<login key> THROTTLE             failures of a login naming no user
//	RATE#<scope>#<ip>#<window start> RATE      failures from one IP in a window
//	IDEMPOTENCY#<hash>   IDEMPOTENCY          a POST's Idempotency-Key and response
//	USER#<id>            APIKEY#<key id>      a personal API key
//	APIKEY#<key id>      APIKEY               a system API key (gsi1 APIKEYS)
//	SEARCH#<prefix hash> <time>#<user id>     a user found by a prefix (see
//	                                          search.go), newest first
//
// Index partitions (gsi1..gsi5, sort keys "<time>#<id>", newest first with
// ScanIndexForward false):
//
//	gsi1 USERS | SESSIONS | AUDIT | ATTEMPTS      every item of a collection
//	gsi1 TEAMS (sort key "<normalized name>\x1f<id>", by name A to Z; a
//	     team being deleted leaves it)
//	gsi2 USERS#STATUS#<s> | SESSION#<id> | AUDIT#ACTOR#<id> | ATTEMPTS#USER#<id>
//	gsi3 USERS#ROLE#<r> | AUDIT#TARGET#<id> | SESSIONS#TEAM#<id> | ATTEMPTS#LOGIN#<login key>
//	gsi4 USERS#TEAM#<id> | AUDIT#ACTION#<action> | INVITES#EMAIL#<email trace>
//	gsi5 USERS#USAGE#<u> | INVITES#BY#<user id> | KEPT#USER#<user id>
//	gsi6 DUE#INVITE | DUE#PURGE                    what a job must do, sorted by when
//
//	INVITE#<id>          INVITE               an invitation (gsi1 INVITES,
//	                                          gsi2 INVITES#STATUS#<s>, gsi3
//	                                          INVITES#TEAM#<id>, gsi6 while pending)
//	USER#<id>            RESET                the user's password reset link
//	OUTBOX#<id>          OUTBOX               a mail queued to be sent from the stream
//
// Login keys, email traces (pkg/users) and search prefixes are hashes: no
// key spells an email or a name, and RATE keys hash the IP. KEPT#USER lists the Idempotency-Key
// answers that show a user, so that forgetting them removes those too.

const (
	skProfile  = "PROFILE"
	skSession  = "SESSION#"
	skAPIKey   = "APIKEY#"
	userPrefix = schema.UserPartition
)

type key struct{ pk, sk string }

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{schema.PK: str(k.pk), schema.SK: str(k.sk)}
}

func userKey(id string) key             { return key{userPrefix + id, skProfile} }
func sessionKey(userID, sid string) key { return key{userPrefix + userID, skSession + sid} }
func emailKey(norm string) key          { return key{"EMAIL#" + norm, "EMAIL"} }
func usernameKey(norm string) key       { return key{"USERNAME#" + norm, "USERNAME"} }
func metaKey() key                      { return key{"META", "META"} }
func teamKey(id string) key             { return key{"TEAM#" + id, "TEAM"} }
func teamNameKey(norm string) key       { return key{"TEAMNAME#" + norm, "TEAMNAME"} }
func auditKey(id string) key            { return key{"AUDIT#" + id, "AUDIT"} }
func attemptKey(id string) key          { return key{"ATTEMPT#" + id, "ATTEMPT"} }
func inviteKey(id string) key           { return key{"INVITE#" + id, "INVITE"} }
func idempotencyKey(k string) key       { return key{schema.IdempotencyPartition + k, "IDEMPOTENCY"} }
func throttleKey(loginKey string) key   { return key{"THROTTLE#" + loginKey, "THROTTLE"} }
func resetKey(userID string) key        { return key{userPrefix + userID, "RESET"} }
func outboxKey(id string) key           { return key{schema.OutboxPartition + id, "OUTBOX"} }
func userKeyKey(userID, kid string) key { return key{userPrefix + userID, skAPIKey + kid} }
func systemKeyKey(kid string) key       { return key{schema.KeyPartition + kid, "APIKEY"} }

// heldKey is the key of what a user holds, by its id: a session or a
// personal API key.
func heldKey(userID, id string) key {
	if strings.HasPrefix(id, "key_") {
		return userKeyKey(userID, id)
	}
	return sessionKey(userID, id)
}

// rateKey names a source IP's count in a window by a hash of the IP: the
// table keeps no IP in a key, where anonymizing could not reach it.
func rateKey(scope, ip string, window time.Time) key {
	sum := sha256.Sum256([]byte(ip))
	return key{schema.RatePartition + scope + "#" + hex.EncodeToString(sum[:12]) + "#" + window.UTC().Format(time.RFC3339), "RATE"}
}

// Index partitions.
const (
	gsiUsers    = "USERS"
	gsiSessions = "SESSIONS"
	gsiAudit    = "AUDIT"
	gsiAttempts = "ATTEMPTS"
	gsiInvites  = "INVITES"
	gsiKeys     = "APIKEYS"
	gsiTeams    = "TEAMS"
)

// teamSortSep ends the name in a team's sort key: a control character, so
// below every character a name may hold, so that a name sorts before the
// longer names it begins ("Alpha" before "Alpha two").
const teamSortSep = "\x1f"

// teamSortKey orders the teams' index by name, ignoring case (the name's
// normalized form), ties broken by id.
func teamSortKey(norm, id string) string { return norm + teamSortSep + id }

func gsiInvitesBy(facet, value string) string { return "INVITES#" + facet + "#" + value }

// gsiDue is the partition of gsi6 that lists what a job must do, by when:
// "INVITE" (pending invitations by expiry), "PURGE" (deleted users by
// purge date).
func gsiDue(kind string) string { return "DUE#" + kind }

func gsiUsersBy(facet, value string) string { return "USERS#" + facet + "#" + value }
func gsiSessionByID(sid string) string      { return "SESSION#" + sid }
func gsiAuditBy(facet, value string) string { return "AUDIT#" + facet + "#" + value }
func gsiAttemptsByUser(id string) string    { return "ATTEMPTS#USER#" + id }
func gsiAttemptsByLogin(key string) string  { return "ATTEMPTS#LOGIN#" + key }
func gsiSessionsOfTeam(id string) string    { return "SESSIONS#TEAM#" + id }
func gsiKeptFor(userID string) string       { return "KEPT#USER#" + userID }
func gsiKeysOfTeam(id string) string        { return "APIKEYS#TEAM#" + id }

// timeFormat has a fixed width so that times sort as strings.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// fmtTime writes a stored time: UTC, at most milliseconds (whatever path
// wrote it), fixed width so that times sort as strings.
func fmtTime(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(timeFormat) }

// sortKey orders an index newest first, ties broken by id.
func sortKey(t time.Time, id string) string { return fmtTime(t) + "#" + id }

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }
