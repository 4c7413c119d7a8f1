// Package outbox is the mail a route queues rather than sends. A route that
// answers anyone (a forgotten password, a reset) must answer alike and at
// once whatever the mail service does, so it writes a Message in the same
// transaction as its change; the send-mail job sends it from the table's
// stream once the request has answered, and retries it while the mail
// service fails.
//
// A message names a user, never an address or a secret: what is sent is
// made when it is sent, from the user as they then are, so a queued message
// holds nothing that anonymizing would have to find.
//
// It imports the standard library and pkg/ids.
package outbox

import (
	"time"

	"github.com/usermgmt/ums/pkg/ids"
)

// Kind is what a message sends.
type Kind string

const (
	// ResetLink mails a new password-reset link to a user still active.
	ResetLink Kind = "password_reset"
	// PasswordChanged tells a user their password was changed.
	PasswordChanged Kind = "password_changed"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == ResetLink || k == PasswordChanged }

// Message is one mail waiting to be sent.
type Message struct {
	ID     string
	Kind   Kind
	UserID string
	// UserGen is the user's session generation when it was queued: a reset
	// link is made only while it is still theirs, so a deactivation (or a
	// deletion, a new password, every session ended) since voids it, as it
	// voids the links already made.
	UserGen int
	// At is when it was queued; RequestID the request that queued it, for
	// the log lines of its sending.
	At        time.Time
	RequestID string
}

// New returns a message of kind for the user at the session generation
// gen, queued at at by the request.
func New(kind Kind, userID string, gen int, at time.Time, requestID string) Message {
	return Message{ID: ids.New("msg"), Kind: kind, UserID: userID, UserGen: gen, At: at, RequestID: requestID}
}

// MaxAge is how long a message of the kind waits for its turn at most;
// one that has waited longer (the mail service down all that time) is
// dropped rather than sent late. Whoever asked for a reset link an hour ago
// has asked again, or given up; a notice that the password changed is worth
// the longest wait, MaxWait.
func (k Kind) MaxAge() time.Duration {
	if k == ResetLink {
		return time.Hour
	}
	return MaxWait
}

// MaxWait is the longest any message is tried: the stack's stream mapping
// gives a record up (to its dead-letter queue) once it is this old.
const MaxWait = 6 * time.Hour

// Expired reports whether the message waited past its kind's MaxAge at now.
func (m Message) Expired(now time.Time) bool { return now.Sub(m.At) > m.Kind.MaxAge() }
