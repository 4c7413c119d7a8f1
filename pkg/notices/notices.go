// Package notices is what the service tells people by email, as data: an
// invitation, a password reset link, and the notices that a password or an
// email address changed. The domain services build a notice and hand it to a
// Sender; pkg/email renders it (subject, HTML and text) and sends it through
// SES v2. Nothing here knows how mail is sent.
//
// It imports the standard library.
package notices

import (
	"context"
	"time"
)

// Notice is one message to one address: one of the types below.
type Notice interface {
	// Recipient is the address the notice goes to.
	Recipient() string
	isNotice()
}

// Invitation asks someone to join: accept (setting a password) or decline.
type Invitation struct {
	To string
	// InviterName is who invites (their display name).
	InviterName string
	// Role is the role the invitee will have: "admin", "manager", "member".
	Role string
	// TeamName is the team the invitee joins; "" when none.
	TeamName string
	// Message is the inviter's personal message; "" when none.
	Message string
	// Link opens the page to accept or decline; it carries the token.
	Link      string
	ExpiresAt time.Time
}

// PasswordReset carries a link to choose a new password.
type PasswordReset struct {
	To   string
	Name string
	// Link opens the page to set a new password; it carries the token.
	Link      string
	ExpiresAt time.Time
	// ByAdmin is set when an admin or manager sent it, not the user.
	ByAdmin bool
}

// PasswordChanged tells a user their password was changed (or reset), so
// that a change they did not make does not go unnoticed.
type PasswordChanged struct {
	To   string
	Name string
	At   time.Time
}

// EmailChanged tells the old address that the account's email changed.
type EmailChanged struct {
	// To is the old address.
	To       string
	Name     string
	NewEmail string
	At       time.Time
}

func (n Invitation) Recipient() string      { return n.To }
func (n PasswordReset) Recipient() string   { return n.To }
func (n PasswordChanged) Recipient() string { return n.To }
func (n EmailChanged) Recipient() string    { return n.To }

func (Invitation) isNotice()      {}
func (PasswordReset) isNotice()   {}
func (PasswordChanged) isNotice() {}
func (EmailChanged) isNotice()    {}

// Sender sends notices. Send returns the message's id from the mail
// service. A send refused for good (an address that cannot receive, a
// header that would be injected) is an error of kind Invalid; one that
// failed for now (throttled past the request's time, the service down) is
// of kind Unavailable; the caller decides what a failed send means.
type Sender interface {
	Send(ctx context.Context, n Notice) (string, error)
}
