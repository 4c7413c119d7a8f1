package devserver_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

// BenchmarkRoute serves a signed-in read through the handler and the API
// Gateway adapter a function runs, in-process, for profiling the CPU a
// request costs (go test -bench Route -cpuprofile cpu.out ./pkg/devserver/
// under scripts/withstack). make bench measures the real binaries.
func BenchmarkRoute(b *testing.B) {
	e := newEnv(b)
	id := e.createUser("bench@example.com", "member", nil)
	tok := e.login("bench@example.com", "pw for bench@example.com")
	// The route's own app, as a function builds it: without the tests'
	// recording and hooks on its DynamoDB client.
	a, err := app.New(context.Background(), e.app.Config)
	if err != nil {
		b.Fatal(err)
	}
	a.Log = slog.New(slog.DiscardHandler)
	for _, c := range []struct{ name, route, path string }{
		{"get-user", "get-user", "/users/" + id},
		{"get-me", "get-me", "/me"},
		{"get-settings", "get-settings", "/settings"},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, err := a.Handler(c.route)
			if err != nil {
				b.Fatal(err)
			}
			token := e.admin
			if c.route == "get-me" {
				token = tok
			}
			raw, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
				Version: "2.0", RawPath: c.path,
				Headers:        map[string]string{"authorization": "Bearer " + token, "user-agent": "bench"},
				PathParameters: map[string]string{"id": id},
				RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "benchrequest1",
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: c.path, SourceIP: "198.51.100.7"}},
			})
			serve := apigw.Handler(h)
			b.ReportAllocs()
			for b.Loop() {
				var ev events.APIGatewayV2HTTPRequest
				_ = json.Unmarshal(raw, &ev)
				res, err := serve(context.Background(), ev)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("%d %v %s", res.StatusCode, err, res.Body)
				}
				_, _ = json.Marshal(res)
			}
		})
	}
}
