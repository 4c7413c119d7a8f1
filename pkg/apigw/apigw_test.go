package apigw_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/routes"
)

// Every sample event is a real API Gateway v2 event of its route, and the
// adapter hands its handler exactly what the event says.
func TestEveryEventReachesItsRoute(t *testing.T) {
	for _, name := range routes.Functions() {
		r, ok := routes.ByName(name)
		if !ok {
			continue // jobs have EventBridge events
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var e events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			if e.Version != "2.0" || e.RouteKey != r.Key() || e.RequestContext.RouteKey != r.Key() {
				t.Fatalf("event is for %q (version %q), want %q", e.RouteKey, e.Version, r.Key())
			}
			var got *http.Request
			var body []byte
			mux := http.NewServeMux()
			mux.HandleFunc(r.Pattern(), func(w http.ResponseWriter, req *http.Request) {
				got = req
				body, _ = io.ReadAll(req.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Add("Set-Cookie", "a=1")
				w.Header().Add("Set-Cookie", "b=2")
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(`{"ok":true}`))
			})
			res, err := apigw.Handler(mux)(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatalf("the route's pattern %q did not match the event", r.Pattern())
			}
			if got.Method != r.Method || got.URL.Path != e.RawPath || got.URL.RawQuery != e.RawQueryString || string(body) != e.Body {
				t.Fatalf("request %s %s?%s %q", got.Method, got.URL.Path, got.URL.RawQuery, body)
			}
			for k, v := range e.PathParameters {
				if got.PathValue(k) != v {
					t.Fatalf("path value %s = %q, want %q", k, got.PathValue(k), v)
				}
			}
			if got.RemoteAddr != e.RequestContext.HTTP.SourceIP+":0" {
				t.Fatalf("RemoteAddr %q", got.RemoteAddr)
			}
			if id := got.Header.Get("X-Request-Id"); id == "" || !strings.HasPrefix(e.RequestContext.RequestID, id) {
				t.Fatalf("request id %q from %q", id, e.RequestContext.RequestID)
			}
			if want := e.Headers["authorization"]; got.Header.Get("Authorization") != want {
				t.Fatal("the Authorization header was lost")
			}
			if res.StatusCode != 202 || res.Body != `{"ok":true}` || res.IsBase64Encoded || res.Headers["Content-Type"] != "application/json" ||
				len(res.Cookies) != 2 {
				t.Fatalf("response %+v", res)
			}
		})
	}
}

func TestTheGatewaysRequestIDWins(t *testing.T) {
	var id string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { id = r.Header.Get("X-Request-Id") })
	e := events.APIGatewayV2HTTPRequest{
		RawPath: "/", Headers: map[string]string{"x-request-id": "chosen-by-client"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "gw-id-123456", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", SourceIP: "198.51.100.1"}},
	}
	if _, err := apigw.Handler(h)(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if id != "gw-id-123456" {
		t.Fatalf("request id %q", id)
	}
}

func TestBinaryBodiesBothWays(t *testing.T) {
	in := []byte{0, 1, 2, 255}
	var got []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(in)
	})
	e := events.APIGatewayV2HTTPRequest{
		RawPath: "/x", Body: base64.StdEncoding.EncodeToString(in), IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "198.51.100.1"}},
	}
	res, err := apigw.Handler(h)(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(in) || !res.IsBase64Encoded || res.Body != base64.StdEncoding.EncodeToString(in) {
		t.Fatalf("binary: got %v, response %+v", got, res)
	}
}

func TestAnEventWithoutAMethodIsRefused(t *testing.T) {
	if _, err := apigw.Handler(http.NotFoundHandler())(context.Background(), events.APIGatewayV2HTTPRequest{RawPath: "/"}); err == nil {
		t.Fatal("a non-HTTP-API event was served")
	}
}
