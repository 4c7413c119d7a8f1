package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	parse := func(s string) *report {
		var r report
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	old := parse(`{"routes":[
		{"route":"get-me","case":"GET /me","dynamodb_calls":2,"latency_ms":{"p50":4,"p99":8},"cpu":{"cpu_ms":2}},
		{"route":"purge-deleted-users","case":"job: 20 due, 10 purged","dynamodb_calls":90},
		{"route":"gone-route","case":"x","dynamodb_calls":1}],
		"functions":[{"name":"get-me","bytes":1048576,"cold_ms":10}]}`)
	cur := parse(`{"routes":[
		{"route":"get-me","case":"GET /me","dynamodb_calls":2,"latency_ms":{"p50":2,"p99":8},"cpu":{"cpu_ms":1}},
		{"route":"purge-deleted-users","case":"job: 20 due, 20 purged","dynamodb_calls":180},
		{"route":"new-route","case":"y","dynamodb_calls":1}],
		"functions":[{"name":"get-me","bytes":2097152,"cold_ms":5}]}`)
	var b strings.Builder
	compare(&b, old, cur)
	out := b.String()
	for _, want := range []string{
		"get-me | GET /me  x1.00  x0.50   x1.00   x0.50",
		"purge-deleted-users | job  x2.00",
		"new-route | y", "new case", "gone-route | x", "gone",
		"get-me    2.0  x2.00  5.0      x0.50",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
