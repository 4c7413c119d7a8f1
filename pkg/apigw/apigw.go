package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/api"
	"github.com/usermgmt/ums/pkg/routes"
	"github.com/usermgmt/ums/pkg/runtimeloop"
)

// Start serves h as a Lambda function; it never returns.
func Start(h http.Handler) { runtimeloop.Start(runtimeloop.JSON(Handler(h))) }

// Handler returns the Lambda handler that serves h.
func Handler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if e.RequestContext.HTTP.Method == "" {
			// Not an HTTP API event at all: a misconfigured trigger, which
			// the invocation's error reports.
			return events.APIGatewayV2HTTPResponse{}, errNotHTTPAPI
		}
		w := newRecorder()
		r, err := Request(ctx, e)
		if err != nil {
			// An event no request can be made of (a body that is not
			// base64, a method that is no token) is the client's doing:
			// it gets a problem like any other bad request, never the
			// gateway's bare 500 for a failed invocation. Its code is the
			// contract's for a body that cannot be read.
			api.SecurityHeaders(w.header, routes.JSON)
			w.header.Set(api.RequestIDHeader, strings.ReplaceAll(e.RequestContext.RequestID, "=", ""))
			api.WriteProblem(w, http.StatusBadRequest, "malformed_json", "The request could not be read.")
			return w.response(), nil
		}
		h.ServeHTTP(w, r)
		return w.response(), nil
	}
}

var errNotHTTPAPI = errors.New("apigw: event has no requestContext.http.method; is it an HTTP API (2.0) event?")

// Request builds the http.Request an event describes.
func Request(ctx context.Context, e events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body := []byte(e.Body)
	if e.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			return nil, fmt.Errorf("apigw: body: %w", err)
		}
		body = b
	}
	path := e.RawPath
	if path == "" {
		path = e.RequestContext.HTTP.Path
	}
	u := &url.URL{Path: path, RawQuery: e.RawQueryString}
	if p, err := url.PathUnescape(path); err == nil {
		u.Path, u.RawPath = p, path
	}
	method := e.RequestContext.HTTP.Method
	if method == "" {
		return nil, errNotHTTPAPI
	}
	r, err := http.NewRequestWithContext(ctx, method, u.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("apigw: request: %w", err)
	}
	for k, v := range e.Headers {
		r.Header.Set(k, v)
	}
	if len(e.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(e.Cookies, "; "))
	}
	// The gateway's request id replaces anything the client sent.
	r.Header.Set(api.RequestIDHeader, strings.ReplaceAll(e.RequestContext.RequestID, "=", ""))
	r.Host = e.RequestContext.DomainName
	r.RemoteAddr = net.JoinHostPort(e.RequestContext.HTTP.SourceIP, "0")
	r.ContentLength = int64(len(body))
	for k, v := range e.PathParameters {
		r.SetPathValue(k, v)
	}
	return r, nil
}

// recorder collects a handler's response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *recorder) response() events.APIGatewayV2HTTPResponse {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	res := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}}
	for k, v := range w.header {
		if strings.EqualFold(k, "Set-Cookie") {
			res.Cookies = append(res.Cookies, v...)
			continue
		}
		res.Headers[k] = strings.Join(v, ", ")
	}
	// A text body goes as it is only if it is UTF-8: the response is JSON,
	// whose encoder would replace every invalid byte.
	if isText(w.header.Get("Content-Type")) && utf8.Valid(w.body.Bytes()) || w.body.Len() == 0 {
		res.Body = w.body.String()
	} else {
		res.Body = base64.StdEncoding.EncodeToString(w.body.Bytes())
		res.IsBase64Encoded = true
	}
	return res
}

func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/yaml" || mt == "application/xml"
}
