// Package idempotency makes a repeated POST apply once (the contract's
// Idempotency-Key convention, and rule 9). The api layer looks a key up
// before a request runs; when it is new, it marks the request's context, and
// the store writes the key's record in the same transaction as the request's
// change, so two racing retries cannot both apply. The response is attached
// to the record afterwards and replayed to later retries for 24 hours.
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
	// BodyHash is the SHA-256 of the first request's body.
	BodyHash string
	// Done is false while the change is applied but its response not yet
	// attached (or the process died in between).
	Done   bool
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
)

// Claim is the mark a new key leaves on a request's context.
type Claim struct {
	// Key identifies the record: a hash of the caller, the route and the key.
	Key      string
	BodyHash string
	At       time.Time
	taken    atomic.Bool
}

// Take reports whether the caller is the first to take the claim: only the
// request's first transaction records the key.
func (c *Claim) Take() bool { return c.taken.CompareAndSwap(false, true) }

// Taken reports whether a transaction recorded the key.
func (c *Claim) Taken() bool { return c.taken.Load() }

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
