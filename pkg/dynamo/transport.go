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
}

type conn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// maxIdle is how many connections wait for reuse; more are closed.
const maxIdle = 64

func newConns() *conns {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	p := &conns{timeout: 30 * time.Second}
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
// the connection back once read to its end and closed. A request on a
// reused connection that the server had closed meanwhile is sent once more,
// on a new one. The server then has most likely closed every connection
// that waited as long (an idle timeout, a restart), so the waiting ones are
// closed too: sent on one of them, the request would fail again.
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
		if !reused || attempt > 0 || !rewindable(req) {
			return nil, err
		}
		p.closeIdle()
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
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
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
