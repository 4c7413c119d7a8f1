package auth

import "time"

// Sign-in throttling (rule 7). An account's lock is derived from its count of
// consecutive failures and the time of the latest, so a failure is one atomic
// ADD and parallel guesses are all counted: after FreeFailures failures the
// account waits one minute, doubling with each further failure up to
// MaxLock. Attempts during a lock are refused without being checked or
// counted, so they do not extend it. A success resets the count.
const (
	FreeFailures = 5
	FirstLock    = time.Minute
	MaxLock      = 15 * time.Minute

	// IPFailureLimit failed sign-ins from one source IP within IPWindow lock
	// that IP out for the rest of the window, whatever accounts it tries.
	IPFailureLimit = 30
	IPWindow       = 15 * time.Minute
)

// LockedUntil returns when an account with failures consecutive failures, the
// latest at last, may try again; the zero time when it is not locked.
func LockedUntil(failures int, last time.Time) time.Time {
	if failures < FreeFailures || last.IsZero() {
		return time.Time{}
	}
	d := FirstLock
	for i := FreeFailures; i < failures && d < MaxLock; i++ {
		d *= 2
	}
	return last.Add(min(d, MaxLock))
}

// ipWindow returns the start of the fixed window now falls in.
func ipWindow(now time.Time) time.Time { return now.Truncate(IPWindow) }

// IPWindowOf returns the start of the window of the per-IP failure count
// that now falls in: every public route that takes a credential or a token
// counts its failures there, toward one limit per source IP.
func IPWindowOf(now time.Time) time.Time { return ipWindow(now) }
