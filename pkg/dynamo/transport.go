package dynamo

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/usermgmt/ums/pkg/access"
)

// conns is the HTTP client of the DynamoDB client: HTTP/1.1 keep-alive
// connections to the one endpoint, each request written and its response
// read on the caller's goroutine. net/http's Transport runs a reader and a
// writer goroutine per connection and hands every request and response
// between them; on Lambda, where CPU is latency, those handoffs were a fifth
// of an authenticated read's CPU. DynamoDB answers one request at a time per
// connection, with a Content-Length, which is all this needs to support.
type conns struct {
	mu   sync.Mutex
	idle []*conn
	// dial opens a connection to the endpoint of a request.
	dial func(ctx context.Context, req *http.Request) (net.Conn, error)
	// timeout bounds a request that has no deadline of its own.
	timeout time.Duration
	// roots, if set, replaces the system's certificate authorities.
	roots *x509.CertPool
	// checkAfter is how long a connection waits for reuse before it is
	// checked for having been closed by the server: one system call, which
	// back-to-back requests do not pay.
	checkAfter time.Duration
}

type conn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
	// idleSince is when the connection was last given back.
	idleSince time.Time
}

// maxIdle is how many connections wait for reuse; more are closed.
const maxIdle = 64

func newConns() *conns {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	p := &conns{timeout: 30 * time.Second, checkAfter: time.Second}
	p.dial = func(ctx context.Context, req *http.Request) (net.Conn, error) {
		host := req.URL.Host
		if req.URL.Port() == "" {
			host = net.JoinHostPort(req.URL.Hostname(), map[string]string{"https": "443", "http": "80"}[req.URL.Scheme])
		}
		if req.URL.Scheme == "https" {
			td := &tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: req.URL.Hostname(), MinVersion: tls.VersionTLS12, RootCAs: p.roots}}
			return td.DialContext(ctx, "tcp", host)
		}
		return d.DialContext(ctx, "tcp", host)
	}
	return p
}

// Do sends the request and returns its response; the response's body gives
// the connection back once read to its end and closed.
//
// A kept connection the server has closed (its idle timeout, a restart, a
// frozen Lambda sandbox) is found before use when it has waited long enough
// for that to be likely, and closed. One that fails anyway closes the other
// kept ones, which have most likely waited as long, and the request is sent
// once more on a new connection if its body can be read again; the SDK's
// requests cannot, and its retry then finds no closed connection to pop.
func (p *conns) Do(req *http.Request) (*http.Response, error) {
	if n := access.RequestFrom(req.Context()).Calls; n != nil {
		n.Add(1)
	}
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(req)
		if err != nil {
			return nil, err
		}
		res, err := p.roundTrip(c, req)
		if err == nil {
			return res, nil
		}
		_ = c.Close()
		if !reused || attempt > 0 {
			return nil, err
		}
		p.closeIdle()
		if !rewindable(req) {
			return nil, err
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func (p *conns) get(req *http.Request) (*conn, bool, error) {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if time.Since(c.idleSince) < p.checkAfter || !closedByPeer(c.Conn) {
			return c, true, nil
		}
		_ = c.Close()
	}
	nc, err := p.dial(req.Context(), req)
	if err != nil {
		return nil, false, err
	}
	return &conn{Conn: nc, r: bufio.NewReaderSize(nc, 16<<10), w: bufio.NewWriterSize(nc, 16<<10)}, false, nil
}

// closeIdle closes every connection waiting for reuse.
func (p *conns) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
}

func (p *conns) put(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= maxIdle {
		_ = c.Close()
		return
	}
	c.idleSince = time.Now()
	p.idle = append(p.idle, c)
}

func (p *conns) roundTrip(c *conn, req *http.Request) (*http.Response, error) {
	deadline, ok := req.Context().Deadline()
	if !ok {
		deadline = time.Now().Add(p.timeout)
	}
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	if err := req.Write(c.w); err != nil {
		return nil, fmt.Errorf("dynamo: write request: %w", err)
	}
	if err := c.w.Flush(); err != nil {
		return nil, fmt.Errorf("dynamo: write request: %w", err)
	}
	res, err := http.ReadResponse(c.r, req)
	if err != nil {
		return nil, fmt.Errorf("dynamo: read response: %w", err)
	}
	res.Body = &body{ReadCloser: res.Body, c: c, p: p, keep: !res.Close}
	return res, nil
}

// body gives its connection back to the pool when closed: closing a body
// that http.ReadResponse made reads what is left of it, so the connection
// is then at the start of the next response.
type body struct {
	io.ReadCloser
	c    *conn
	p    *conns
	keep bool
	done bool
}

func (b *body) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	err := b.ReadCloser.Close()
	if b.keep && err == nil {
		b.p.put(b.c)
	} else {
		_ = b.c.Close()
	}
	return err
}
