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
	pause := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !errors.Is(err, lost) || attempt == Attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause/2 + rand.N(pause)):
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
}
