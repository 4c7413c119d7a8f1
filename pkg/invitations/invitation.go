// Package invitations is the invitation concept: an admin or manager invites
// someone by email, with a role, a team and a message; the invitee accepts
// (setting a password and becoming an active user, signed in) or declines
// from the link in the email; an invitation can be resent (a new token, a
// new expiry) or cancelled, and expires. While it is pending, the invitee is
// a user in status invited: listed, their email reserved, a seat taken.
//
// Tokens are "umi_<invitation id>.<secret>": 256 random bits, stored only as
// a hash, so a token names its invitation and one read checks it.
//
// It imports the standard library and the domain packages access, apperr,
// audit, auth, ids, notices, paging, passwords, retry, settings, teams and
// users.
package invitations

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/apperr"
	"github.com/usermgmt/ums/pkg/ids"
)

// Status is where an invitation is.
type Status string

const (
	StatusPending   Status = "pending"
	StatusAccepted  Status = "accepted"
	StatusDeclined  Status = "declined"
	StatusExpired   Status = "expired"
	StatusCancelled Status = "cancelled"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusAccepted, StatusDeclined, StatusExpired, StatusCancelled:
		return true
	}
	return false
}

// Invitation is one invitation.
type Invitation struct {
	ID      string      `json:"id"`
	Email   string      `json:"email"`
	Role    access.Role `json:"role"`
	TeamID  *string     `json:"team_id"`
	Message *string     `json:"message"`
	// InvitedBy is the id of who invited (a user, or an API key).
	InvitedBy string `json:"invited_by"`
	// InviterName and TeamName are kept as they were at invitation time,
	// for the email and the page: the invitee can read neither user nor team.
	InviterName string     `json:"inviter_name"`
	TeamName    *string    `json:"team_name"`
	Status      Status     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	SentCount   int        `json:"sent_count"`
	LastSentAt  *time.Time `json:"last_sent_at"`
	AcceptedAt  *time.Time `json:"accepted_at"`
	// LastSendError says why the latest email was not sent; null when it was.
	LastSendError *string `json:"last_send_error"`
	// UserID is the invited user: status invited while pending, active once
	// accepted, gone once declined, cancelled or expired.
	UserID string `json:"user_id"`

	// TokenHash is the SHA-256 of the current token's secret.
	TokenHash string `json:"-"`
	// Version increases with every change.
	Version int `json:"-"`
}

// Team returns the team id, or "".
func (inv *Invitation) Team() string {
	if inv.TeamID == nil {
		return ""
	}
	return *inv.TeamID
}

// UserIDOf is the id of the user an invitation invites: derived from the
// invitation's, so that one read fetches both (the token names the
// invitation, and the invitation's user follows from it).
func UserIDOf(invitationID string) string { return ids.FromHash("usr", "invitation:"+invitationID) }

// TokenPrefix starts every invitation token, so that secret scanners spot one.
const TokenPrefix = "umi_"

// newToken returns a token for the invitation and the hash to store.
func newToken(invitationID string) (token, hash string) {
	secret := ids.Secret()
	return TokenPrefix + invitationID + "." + secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// parseToken returns the invitation a token names and its secret's hash, or
// ok false for anything that is not a well-formed token.
func parseToken(token string) (invitationID, hash string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), TokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok := strings.Cut(rest, ".")
	if !ok || !ids.Valid("inv", id) || len(secret) != 43 {
		return "", "", false
	}
	return id, hashSecret(secret), true
}

// matches reports, in constant time, whether hash is the invitation's.
func (inv *Invitation) matches(hash string) bool {
	return inv.TokenHash != "" && subtle.ConstantTimeCompare([]byte(inv.TokenHash), []byte(hash)) == 1
}

// Errors of the invitation concept.
var (
	ErrNotFound = apperr.NotFound("not_found", "No such invitation.")
	// ErrTokenInvalid answers an unknown, used, cancelled or superseded
	// token alike: which of them it was is nobody's business.
	ErrTokenInvalid = apperr.Invalid("token_invalid", "This link is not valid: it was used, cancelled or replaced by a newer one.")
	ErrTokenExpired = apperr.New(apperr.KindGone, "token_expired", "This link has expired: ask for a new invitation.")
	// ErrPending answers an invitation to an email that has one pending.
	ErrPending      = apperr.Conflict("invitation_pending", "An invitation to this email is pending: resend it instead.")
	ErrInvalidState = apperr.Conflict("invalid_state", "The invitation is no longer pending.")
	// ErrChanged reports a concurrent change; the service retries on it.
	ErrChanged = apperr.Contended("The invitation")
)
