// Package idempotency makes a repeated POST apply once (the contract's
// Idempotency-Key convention, and rule 9). The api layer looks a key up
// before a request runs; when it is new, it marks the request's context with
// a Claim, and the store writes the key's record in the transaction that
// commits the request's change (the one with its audit event), so that two
// racing retries cannot both apply. A transaction that fails leaves the
// claim for the next one: an optimistic retry commits it with the change.
// The response is attached to the record afterwards and replayed to later
// retries for 24 hours, unless it carries a secret: then only the fact that
// the request succeeded is kept.
//
// It imports the standard library and pkg/apperr.
package idempotency

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Record is what is remembered of a key.
type Record struct {
	// BodyHash is the HMAC-SHA-256 of the first request's body, keyed with
	// the Idempotency-Key.
	BodyHash string
	// Done is false while the change is applied but its response not yet
	// attached (or the process died in between).
	Done bool
	// Secret is set when the first response carried a secret and was not
	// kept; Status is kept, the header and body are not.
	Secret bool
	Status int
	Header http.Header
	Body   []byte
}

// Errors of the convention.
var (
	ErrConflict = apperr.Conflict("idempotency_conflict",
		"This Idempotency-Key was used with a different request.")
	ErrInFlight = apperr.Conflict("idempotency_conflict",
		"A request with this Idempotency-Key is being processed; retry shortly.")
	ErrSecretNotKept = apperr.Conflict("idempotency_conflict",
		"A request with this Idempotency-Key already succeeded; its response carried a secret, which is not kept. Do not repeat it: sign in, or list what it created.")
)

// Claim is the mark a new key leaves on a request's context.
type Claim struct {
	// Key identifies the record: a hash of the caller, the route and the key.
	Key       string
	BodyHash  string
	At        time.Time
	committed atomic.Bool
}

// Commit records that a transaction wrote the key's record with the change.
func (c *Claim) Commit() { c.committed.Store(true) }

// Committed reports whether a transaction wrote the key's record.
func (c *Claim) Committed() bool { return c.committed.Load() }

type claimKey struct{}

// WithClaim returns ctx carrying the claim.
func WithClaim(ctx context.Context, c *Claim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

// ClaimFrom returns the request's claim, if it carries a new key.
func ClaimFrom(ctx context.Context) *Claim {
	c, _ := ctx.Value(claimKey{}).(*Claim)
	return c
}
