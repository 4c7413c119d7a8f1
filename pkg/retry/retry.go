// Package retry repeats an optimistic read-modify-write that lost a race. It
// imports only the standard library.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Attempts bounds the tries of one optimistic write: enough for a burst of
// concurrent writers to the same record to all land.
const Attempts = 10

// Optimistic calls fn until it returns anything but an error matching lost,
// at most Attempts times, waiting a growing, jittered pause between tries so
// that writers that collided do not collide again. It returns fn's last
// error.
func Optimistic(ctx context.Context, lost error, fn func() error) error {
	return optimistic(ctx, lost, fn, Sleep)
}

// optimistic is Optimistic waiting its pauses with sleep, which tests
// replace to run the retries without waiting and to see the pauses.
func optimistic(ctx context.Context, lost error, fn func() error, sleep func(context.Context, time.Duration) error) error {
	pause := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !errors.Is(err, lost) || attempt == Attempts {
			return err
		}
		if sleep(ctx, pause/2+rand.N(pause)) != nil {
			return err
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
}

// Sleep waits for d, or until ctx ends, in which case it returns ctx's
// error at once. It is the pause between retries here and in the packages
// that retry on their own (pkg/dynamo, pkg/email), whose tests replace it.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
