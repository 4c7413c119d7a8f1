package main

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/usermgmt/ums/pkg/apperr"
)

// fixtureWorkers is how many fixtures are made at once. DynamoDB Local
// applies writes one at a time, but a fixture's request spends most of its
// time outside that: a few at once keep it busy.
const fixtureWorkers = 4

// onceEach makes each key's value once, and is safe for concurrent use: a
// second caller of a key waits for the first one's value, and callers of
// other keys do not wait at all.
type onceEach[T any] struct {
	mu   sync.Mutex
	made map[string]func() T
}

func (o *onceEach[T]) get(key string, make func() T) T {
	o.mu.Lock()
	f, ok := o.made[key]
	if !ok {
		if o.made == nil {
			o.made = map[string]func() T{}
		}
		f = sync.OnceValue(make)
		o.made[key] = f
	}
	o.mu.Unlock()
	return f()
}

// prefetch makes the fixtures of requests from to to-1 of a case whose
// inputs are made once per index (request.made), fixtureWorkers at a time,
// so that the requests, made one after the other, find them made.
func prefetch(c request, from, to int) {
	if !c.made || to <= from {
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range fixtureWorkers {
		wg.Go(func() {
			for i := range next {
				if c.token != nil {
					c.token(i)
				}
				if c.idOf != nil {
					c.idOf(i)
				}
				if c.body != nil {
					c.body(i)
				}
			}
		})
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// whileBusy runs f until it succeeds or fails for another reason than a
// busy item: fixtures made at once contend for the counters every creation
// updates, and a client would get 503 unavailable and retry too. It counts
// the retries.
func (b *bench) whileBusy(f func() error) error {
	pause := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f()
		var status *statusError
		busy := apperr.KindOf(err) == apperr.KindUnavailable || errors.As(err, &status) && status.got == http.StatusServiceUnavailable
		if err == nil || !busy || attempt == 20 {
			return err
		}
		b.retries.Add(1)
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
	}
}

// sendFixture is send for a fixture: retried while busy.
func (b *bench) sendFixture(method, path, token string, body any, want int) (res response, err error) {
	err = b.whileBusy(func() error { res, err = b.send(method, path, token, body, want); return err })
	return res, err
}
