package dynamo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// A server that closed the connections the client kept (its idle timeout,
// a restart) costs the next request nothing: however many were kept, it is
// sent once more on a new connection and answered.
func TestConnsServerClosedKeptConnections(t *testing.T) {
	release := make(chan struct{})
	var arrived sync.WaitGroup
	holding := true
	var mu sync.Mutex
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
	defer srv.Close()

	p := newConns()
	send := func() error {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("{}")), nil }
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
	// Ten requests at once leave ten connections waiting for reuse.
	const kept = 10
	arrived.Add(kept)
	errs := make(chan error, kept)
	for range kept {
		go func() { errs <- send() }()
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

	srv.CloseClientConnections()
	for i := range 3 {
		if err := send(); err != nil {
			t.Fatalf("request %d after the server closed the kept connections: %v", i, err)
		}
	}
}
