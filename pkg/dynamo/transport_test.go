package dynamo

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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

// aged makes the connections kept in p look as if they had waited d for
// reuse, instead of the test waiting that long.
func aged(p *conns, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.idleSince = c.idleSince.Add(-d)
	}
}

// countDials counts the connections p opens from now on.
func countDials(p *conns) *atomic.Int32 {
	var n atomic.Int32
	dial := p.dial
	p.dial = func(ctx context.Context, req *http.Request) (net.Conn, error) {
		n.Add(1)
		return dial(ctx, req)
	}
	return &n
}

// A server that closed the connections the client kept (its idle timeout,
// a restart) costs a request whose body cannot be read again (as the SDK's)
// nothing once they have waited a while: they are found closed before use.
func TestConnsFindsKeptConnectionsClosed(t *testing.T) {
	srv, p := keptConns(t)
	dials := countDials(p)
	// Open ones pass the check and are reused.
	aged(p, 2*p.checkAfter)
	if err := send(p, srv.URL, false); err != nil {
		t.Fatal(err)
	}
	if n := len(p.idle); n != 10 || dials.Load() != 0 {
		t.Fatalf("%d connections kept and %d opened after a request on a checked one, want 10 and none", n, dials.Load())
	}
	srv.CloseClientConnections()
	// The server has closed its ends; the client's see it once the
	// kernel has passed the FIN on, which a loaded machine may delay.
	deadline := time.Now().Add(time.Minute)
	for _, c := range p.idle {
		for !closedByPeer(c.Conn) {
			if time.Now().After(deadline) {
				t.Fatal("a connection the server closed does not look closed")
			}
			time.Sleep(time.Millisecond)
		}
	}
	aged(p, 2*p.checkAfter)
	for i := range 3 {
		if err := send(p, srv.URL, false); err != nil {
			t.Fatalf("request %d after the server closed the kept connections: %v", i, err)
		}
	}
	// All ten were found closed; the first request opened the one the
	// others reused.
	if n := len(p.idle); n != 1 || dials.Load() != 1 {
		t.Fatalf("%d connections kept and %d opened, want 1 and 1", n, dials.Load())
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
