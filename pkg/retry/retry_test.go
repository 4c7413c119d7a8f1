package retry

import (
	"context"
	"errors"
	"testing"
)

var errLost = errors.New("lost")

func TestOptimistic(t *testing.T) {
	calls := 0
	err := Optimistic(context.Background(), errLost, func() error {
		calls++
		if calls < 3 {
			return errLost
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls", err, calls)
	}

	calls = 0
	other := errors.New("other")
	if err := Optimistic(context.Background(), errLost, func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("another error was retried: %v, %d calls", err, calls)
	}

	calls = 0
	if err := Optimistic(context.Background(), errLost, func() error { calls++; return errLost }); !errors.Is(err, errLost) || calls != Attempts {
		t.Fatalf("gave up after %d calls with %v", calls, err)
	}
}
