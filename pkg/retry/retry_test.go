package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errLost = errors.New("lost")

// pauses is a sleep that waits for nothing and keeps what it was asked to
// wait; it fails as ctx would once ctx has ended.
type pauses []time.Duration

func (p *pauses) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	*p = append(*p, d)
	return nil
}

func TestOptimistic(t *testing.T) {
	var slept pauses
	calls := 0
	err := optimistic(context.Background(), errLost, func() error {
		calls++
		if calls < 3 {
			return errLost
		}
		return nil
	}, slept.sleep)
	if err != nil || calls != 3 || len(slept) != 2 {
		t.Fatalf("err %v after %d calls and %d pauses", err, calls, len(slept))
	}

	calls, slept = 0, nil
	other := errors.New("other")
	if err := optimistic(context.Background(), errLost, func() error { calls++; return other }, slept.sleep); err != other || calls != 1 || len(slept) != 0 {
		t.Fatalf("another error was retried: %v, %d calls, %d pauses", err, calls, len(slept))
	}

	calls, slept = 0, nil
	if err := optimistic(context.Background(), errLost, func() error { calls++; return errLost }, slept.sleep); !errors.Is(err, errLost) || calls != Attempts {
		t.Fatalf("gave up after %d calls with %v", calls, err)
	}
	// A pause between each two tries, growing from 5 ms to at most 200 ms,
	// each jittered within half of it either way.
	if len(slept) != Attempts-1 {
		t.Fatalf("%d pauses between %d tries", len(slept), Attempts)
	}
	base := 5 * time.Millisecond
	for i, d := range slept {
		if d < base/2 || d >= base/2+base {
			t.Errorf("pause %d is %v, want within [%v, %v)", i+1, d, base/2, base/2+base)
		}
		base = min(2*base, 200*time.Millisecond)
	}
}

// A context that ends stops the retries at the pause: fn's last error is
// returned, and fn is not called again.
func TestOptimisticStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := optimistic(ctx, errLost, func() error {
		calls++
		if calls == 2 {
			cancel()
		}
		return errLost
	}, (&pauses{}).sleep)
	if !errors.Is(err, errLost) || calls != 2 {
		t.Fatalf("%v after %d calls, want the lost race after 2", err, calls)
	}
}

// Sleep returns once d has passed, or at once with the context's error
// when it ends first.
func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on an ended context: %v", err)
	}
	// Ended while it waits: only the context can end an hour's wait.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, time.Hour) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Sleep ended by its context: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Sleep went on after its context ended")
	}
}
