package dynamotest

import (
	"bytes"
	"io"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Replay answers every DynamoDB request it has seen before from memory,
// with the answer DynamoDB gave it the first time: the same operation with
// the same body. Repeating one read request through it measures the CPU
// of the function's own code and the SDK without the sockets, whose cost
// on loopback (two processes and the kernel's TCP between them) is not
// what a call within a region costs. Install with Wrap; writes are
// replayed too, so it is only for requests that change nothing, or whose
// changes do not matter.
type Replay struct {
	mu   sync.Mutex
	seen map[string]answer
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// Wrap installs the replay on a client's options, over its HTTP client.
func (r *Replay) Wrap(o *dynamodb.Options) {
	o.HTTPClient = &replayClient{next: o.HTTPClient, r: r}
}

type replayClient struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	r *Replay
}

func (c *replayClient) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
		_ = req.Body.Close()
	}
	key := req.Header.Get("X-Amz-Target") + "\n" + string(body)
	c.r.mu.Lock()
	a, ok := c.r.seen[key]
	c.r.mu.Unlock()
	if !ok {
		req.Body = io.NopCloser(bytes.NewReader(body))
		res, err := c.next.Do(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			return nil, err
		}
		a = answer{status: res.StatusCode, header: res.Header.Clone(), body: b}
		c.r.mu.Lock()
		if c.r.seen == nil {
			c.r.seen = map[string]answer{}
		}
		c.r.seen[key] = a
		c.r.mu.Unlock()
	}
	return &http.Response{StatusCode: a.status, Header: a.header.Clone(), Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: req}, nil
}
