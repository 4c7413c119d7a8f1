package dynamo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// keptConns is a server and a client pool that keeps ten connections to it.
func keptConns(t *testing.T) (*httptest.Server, *conns) {
	t.Helper()
	const kept = 10
	var (
		mu      sync.Mutex
		holding = true
		arrived sync.WaitGroup
		release = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hold := holding
		mu.Unlock()
		if hold {
			arrived.Done()
			<-release
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	p := newConns()
	// Ten requests at once leave ten connections waiting for reuse.
	arrived.Add(kept)
	errs := make(chan error, kept)
	for range kept {
		go func() { errs <- send(p, srv.URL, true) }()
	}
	arrived.Wait()
	mu.Lock()
	holding = false
	mu.Unlock()
	close(release)
	for range kept {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.idle); n != kept {
		t.Fatalf("%d connections kept, want %d", n, kept)
	}
	return srv, p
}

// send makes one request; rewindable says whether its body can be read
// again (the SDK's cannot).
func send(p *conns, url string, rewindable bool) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	if rewindable {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("{}")), nil }
	} else {
		req.GetBody = nil
	}
	res, err := p.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	return err
}

// A server that closed the connections the client kept (its idle timeout,
// a restart) costs a request whose body cannot be read again (as the SDK's)
// nothing once they have waited a while: they are found closed before use.
func TestConnsFindsKeptConnectionsClosed(t *testing.T) {
	srv, p := keptConns(t)
	p.checkAfter = 20 * time.Millisecond
	// Open ones pass the check and are reused.
	time.Sleep(2 * p.checkAfter)
	if err := send(p, srv.URL, false); err != nil {
		t.Fatal(err)
	}
	if n := len(p.idle); n != 10 {
		t.Fatalf("%d connections kept after a request on a checked one, want 10", n)
	}
	srv.CloseClientConnections()
	time.Sleep(2 * p.checkAfter)
	for i := range 3 {
		if err := send(p, srv.URL, false); err != nil {
			t.Fatalf("request %d after the server closed the kept connections: %v", i, err)
		}
	}
}

// One closed before the check would find it costs a request whose body can
// be read again nothing either: it goes once more, on a new connection. One
// whose body cannot be read again fails, and leaves no closed connection
// for its retry.
func TestConnsRetriesOnNewConnection(t *testing.T) {
	srv, p := keptConns(t)
	p.checkAfter = time.Hour
	srv.CloseClientConnections()
	for i := range 3 {
		if err := send(p, srv.URL, true); err != nil {
			t.Fatalf("request %d after the server closed the kept connections: %v", i, err)
		}
	}

	srv, p = keptConns(t)
	p.checkAfter = time.Hour
	srv.CloseClientConnections()
	if err := send(p, srv.URL, false); err == nil {
		t.Fatal("a request sent on a closed connection, with a body that cannot be read again, succeeded")
	}
	for i := range 3 {
		if err := send(p, srv.URL, false); err != nil {
			t.Fatalf("retry %d: %v", i, err)
		}
	}
}
