package apigw_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/api"
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/routes"
)

// FuzzEvent hands the adapter any HTTP API event, behind the middleware
// every route shares and a handler that answers with any content type and
// bytes. Whatever the event: no panic, no failed invocation (API Gateway
// would answer its own bare 500), no 5xx, every refusal problem+json; the
// handler gets exactly the method, query, body, headers, path value and
// source address the event holds; and what it writes reaches the client
// unchanged through the JSON the response travels in.
func FuzzEvent(f *testing.F) {
	f.Add("POST", "/users/usr_x/deactivate", "a=1&b=%zz", `{"email":"a@x.com"}`, false, "Content-Type", "application/json", "198.51.100.7", "AbC=123=", "usr_x", "application/json", []byte(`{"ok":true}`))
	f.Add("GET", "/%2F..%2Fetc", "", "AAEC/w==", true, "authorization", "Bearer ums_x", "::1", "", "", "application/octet-stream", []byte{0, 1, 255})
	f.Add("PATCH", "", "cursor=\x00", "not base64!", true, "X-Forwarded-For", "203.0.113.9", "not an ip", "id", "../x", "text/plain; charset=utf-8", []byte("caf\xe9"))
	f.Add("GE T", "/\r\nHost: evil", "", "", false, "Bad Header\n", "v\r\nX: y", "", "", "", "", []byte(nil))
	f.Add("DELETE", "/me/sessions/ses_x", "token=ums_secret", "", false, "Idempotency-Key", "k", "10.0.0.1", "req-1", "ses_x", "image/png", []byte("\x89PNG"))
	route, _ := routes.ByName("forgot-password")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, body string, b64 bool, hname, hvalue, sourceIP, requestID, id, respType string, respBody []byte) {
		if method == "" {
			return // not an HTTP API event: TestAnEventWithoutAMethodIsRefused
		}
		e := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: rawPath, RawQueryString: rawQuery, Body: body, IsBase64Encoded: b64,
			Headers:        map[string]string{hname: hvalue},
			PathParameters: map[string]string{"id": id},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: requestID, DomainName: "api.example.com",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath, SourceIP: sourceIP}},
		}
		var got *http.Request
		var gotBody []byte
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r
			gotBody, _ = io.ReadAll(r.Body)
			if respType != "" {
				w.Header().Set("Content-Type", respType)
			}
			_, _ = w.Write(respBody)
		})
		h := api.Wrap(route, inner, api.Options{Log: log, Timeout: time.Second})
		res, err := apigw.Handler(h)(context.Background(), e)
		if err != nil {
			t.Fatalf("the invocation failed: %v", err)
		}
		// What Lambda sends API Gateway is this response as JSON.
		wire, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		var back events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(wire, &back); err != nil {
			t.Fatal(err)
		}
		out := []byte(back.Body)
		if back.IsBase64Encoded {
			if out, err = base64.StdEncoding.DecodeString(back.Body); err != nil {
				t.Fatalf("a base64 body that is not base64: %v", err)
			}
		}
		if back.StatusCode >= 500 {
			t.Fatalf("%d %s", back.StatusCode, out)
		}
		for _, name := range []string{"Cache-Control", "X-Content-Type-Options"} {
			if back.Headers[name] == "" {
				t.Fatalf("no %s on a %d", name, back.StatusCode)
			}
		}
		if got == nil {
			// Refused before the handler: by the adapter or the middleware.
			if back.StatusCode < 400 || back.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("a refusal %d as %q: %s", back.StatusCode, back.Headers["Content-Type"], out)
			}
			var p api.Problem
			if err := json.Unmarshal(out, &p); err != nil || p.Status != back.StatusCode || p.Code == "" || p.Code == "internal" {
				t.Fatalf("a refusal with the problem %s (%v)", out, err)
			}
			return
		}
		if !bytes.Equal(out, respBody) {
			t.Fatalf("the handler wrote %q (%s); the client gets %q", respBody, respType, out)
		}
		want := []byte(body)
		if b64 {
			want, _ = base64.StdEncoding.DecodeString(body)
		}
		if got.Method != method || got.URL.RawQuery != rawQuery || !bytes.Equal(gotBody, want) || got.PathValue("id") != id {
			t.Fatalf("the handler got %q ?%q %q id %q from %+v", got.Method, got.URL.RawQuery, gotBody, got.PathValue("id"), e)
		}
		// The client's address, as the domain sees it, is the gateway's
		// (which is always an IP address).
		if ip := access.RequestFrom(got.Context()).IP; net.ParseIP(sourceIP) != nil && ip != sourceIP {
			t.Fatalf("the client's IP %q from the source IP %q", ip, sourceIP)
		}
		if canon := http.CanonicalHeaderKey(hname); canon != api.RequestIDHeader && canon != "Cookie" && got.Header.Get(hname) != hvalue {
			t.Fatalf("header %q = %q, want %q", hname, got.Header.Get(hname), hvalue)
		}
		if id := strings.ReplaceAll(requestID, "=", ""); got.Header.Get(api.RequestIDHeader) != id {
			t.Fatalf("request id %q, want the gateway's %q", got.Header.Get(api.RequestIDHeader), id)
		}
	})
}
