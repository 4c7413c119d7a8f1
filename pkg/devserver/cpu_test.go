package devserver_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/dynamo/dynamotest"
)

// BenchmarkRoute serves a signed-in read through the handler and the API
// Gateway adapter a function runs, in-process, for profiling the CPU a
// request costs (go test -bench Route -cpuprofile cpu.out ./pkg/devserver/
// under scripts/withstack). make bench measures the real binaries. Each
// case reports its CPU per request (cpu-ms/op, of which sys-ms/op in the
// kernel); get-me-replayed is get-me with DynamoDB's answers replayed from
// memory, which leaves out the sockets.
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
	// The same, with DynamoDB's answers replayed from memory: the CPU of
	// the code without the sockets.
	var replay dynamotest.Replay
	canned, err := app.New(context.Background(), e.app.Config, app.WithDynamoDBOptions(replay.Wrap))
	if err != nil {
		b.Fatal(err)
	}
	canned.Log = slog.New(slog.DiscardHandler)
	for _, c := range []struct{ name, route, path string }{
		{"get-user", "get-user", "/users/" + id},
		{"get-me", "get-me", "/me"},
		{"get-settings", "get-settings", "/settings"},
		{"get-me-replayed", "get-me", "/me"},
	} {
		b.Run(c.name, func(b *testing.B) {
			on := a
			if strings.HasSuffix(c.name, "-replayed") {
				on = canned
			}
			h, err := on.Handler(c.route)
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
			var r0, r1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
			for b.Loop() {
				var ev events.APIGatewayV2HTTPRequest
				_ = json.Unmarshal(raw, &ev)
				res, err := serve(context.Background(), ev)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("%d %v %s", res.StatusCode, err, res.Body)
				}
				_, _ = json.Marshal(res)
			}
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
			cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
			b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(r1.Stime.Nano()-r0.Stime.Nano())/1e6/float64(b.N), "sys-ms/op")
		})
	}
}
