package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
)

// Many goroutines asking for the same keys get one value per key, made once.
// Each value is made only once every goroutine has set out to ask for it,
// so that the others ask while it is being made, on any machine.
func TestOnceEachMakesEachKeyOnce(t *testing.T) {
	const goroutines = 64
	var o onceEach[string]
	var made atomic.Int64
	var wg, asking sync.WaitGroup
	asking.Add(goroutines)
	got := make([]string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			key := fmt.Sprint(g % 4)
			asking.Done()
			got[g] = o.get(key, func() string {
				made.Add(1)
				asking.Wait()
				return "value " + key
			})
		})
	}
	wg.Wait()
	if made.Load() != 4 {
		t.Errorf("made %d values for 4 keys", made.Load())
	}
	for g, v := range got {
		if want := fmt.Sprint("value ", g%4); v != want {
			t.Errorf("goroutine %d got %q, want %q", g, v, want)
		}
	}
}

// A key being made does not hold up another: the first key's value waits
// for the second's, which a lock held while making would never let happen.
func TestOnceEachMakesKeysAtOnce(t *testing.T) {
	var o onceEach[int]
	making, second := make(chan struct{}), make(chan struct{})
	done := make(chan int)
	go func() {
		done <- o.get("first", func() int { close(making); <-second; return 1 })
	}()
	<-making // the first is being made
	go o.get("second", func() int { close(second); return 2 })
	select {
	case v := <-done:
		if v != 1 {
			t.Errorf("first = %d", v)
		}
	case <-time.After(time.Minute):
		t.Fatal("the second key waited for the first")
	}
}

// prefetch asks for each index's inputs once, only for a case that says
// they are made once per index.
func TestPrefetch(t *testing.T) {
	var mu sync.Mutex
	asked := map[string]int{}
	ask := func(what string) func(int) {
		return func(i int) {
			mu.Lock()
			defer mu.Unlock()
			asked[fmt.Sprint(what, i)]++
		}
	}
	tok, id, body := ask("token"), ask("id"), ask("body")
	c := request{made: true,
		token: func(i int) string { tok(i); return "" },
		idOf:  func(i int) string { id(i); return "" },
		body:  func(i int) any { body(i); return nil }}
	prefetch(c, 10, 30)
	if len(asked) != 60 {
		t.Errorf("asked for %d inputs, want 3 for each of 20 indexes", len(asked))
	}
	for k, n := range asked {
		if n != 1 {
			t.Errorf("%s asked for %d times", k, n)
		}
	}
	c.made = false
	prefetch(c, 30, 40)
	if len(asked) != 60 {
		t.Errorf("a case whose inputs are not made once per index was prefetched")
	}
}

// whileBusy retries what a busy item refused, through the app or over
// HTTP, and nothing else.
func TestWhileBusy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		calls int
	}{
		{"unavailable", apperr.Contended("The counters"), 3},
		{"503", &statusError{method: "POST", path: "/teams", got: 503, want: 201}, 3},
		{"400", &statusError{method: "POST", path: "/teams", got: 400, want: 201}, 1},
		{"another error", errors.New("no"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bench{}
			calls := 0
			err := b.whileBusy(func() error {
				calls++
				if calls < 3 {
					return tc.err
				}
				return nil
			})
			if calls != tc.calls {
				t.Errorf("%d calls, want %d", calls, tc.calls)
			}
			if (err == nil) != (tc.calls == 3) {
				t.Errorf("err = %v", err)
			}
		})
	}
}
