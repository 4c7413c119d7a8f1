package main

import (
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/usermgmt/ums/pkg/routes"
)

// costReport is a report with what the cost model reads: a route with its
// CPU measured, one with latency only, one without its log measured, a
// job, and the sizes of one kind of item.
func costReport() *Report {
	return &Report{
		Routes: []Row{
			{Route: "login", Case: "success", RCU: 2, WCU: 4, CPU: &CPU{MemoryMB: 1769, LambdaMs: 39.2, LogBytes: 400}},
			{Route: "get-me", Case: "GET /me", RCU: 1, CPU: &CPU{MemoryMB: 256, LambdaMs: 9.5}},
			{Route: "forgot-password", Case: "an active account", RCU: 3, WCU: 2, Latency: &Latency{N: 3, P50: 301.2}},
			{Route: "purge-deleted-users", Case: "job", RCU: 5, WCU: 20, Items: 10, Latency: &Latency{N: 1, P50: 100}},
		},
		Items:     []ItemKind{{Kind: "USER/PROFILE", Count: 7, Bytes: 400, Indexes: 2}},
		Functions: make([]Function, 3),
	}
}

var costWorkload = Workload{
	Uses: []Use{
		{Route: "login", Case: "success", PerMAU: 2},
		{Route: "get-me", PerMAU: 10},
		{Route: "forgot-password", Case: "an active", PerMAU: 0.5, Mails: 1},
		{Route: "no-such-route", PerMAU: 99},
	},
	Jobs:   []JobUse{{Job: "purge-deleted-users", RunsPerMonth: 30, ItemsPerMAU: 0.01}},
	Stored: []Stored{{Kind: "USER/PROFILE", PerMAU: 1}, {Kind: "AUDIT/AUDIT", PerMAU: 2}},
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// The model's figures, worked out by hand for 1,000 MAU.
func TestCostOfAWorkloadWorkedByHand(t *testing.T) {
	c := CostOf(costReport(), costWorkload, USEast1, 1000)
	// Requests: 2,000 sign-ins, 10,000 reads, 500 forgotten passwords.
	near(t, "requests", c.Requests, 12500)
	near(t, "API Gateway", c.APIGateway, 12500/1e6*1.00)
	// Lambda: the jobs' 30 runs are invocations too, not API requests.
	near(t, "Lambda requests", c.LambdaRequests, 12530/1e6*0.20)
	// Billed ms round up: 40 ms at 1,769 MB, 10 at 256, the forgotten
	// password's measured 302 (no CPU measured) at 256; the job's runs at
	// 512 MB: 30 x 20 ms, plus 10 items x 10 ms.
	gbs := 2000*0.040*1769/1024 + 10000*0.010*256/1024 + 500*0.302*256/1024 + (30*0.020+10*0.010)*512/1024
	near(t, "GB-seconds", c.GBSeconds, gbs)
	near(t, "Lambda duration", c.LambdaDuration, gbs*0.0000133334)
	// Units: per request as measured; the job's per item it did (0.5 read
	// and 2 write units), and half a read unit per run for its query.
	near(t, "WRU", c.WRU, 2000*4+500*2+10*2)
	near(t, "RRU", c.RRU, 2000*2+10000*1+500*3+30*0.5+10*0.5)
	near(t, "DynamoDB writes", c.DynamoDBWrites, c.WRU/1e6*0.625)
	near(t, "DynamoDB reads", c.DynamoDBReads, c.RRU/1e6*0.125)
	// Storage: 1,000 profiles of 400 bytes + 100, in the table and two
	// indexes; 2,000 audit events of a kind the run did not see: 500 + 100.
	stored := 1000*(400+100)*3.0 + 2000*(500+100)
	near(t, "storage GB", c.StorageGB, stored/(1<<30))
	near(t, "storage", c.Storage, stored/(1<<30)*0.25)
	near(t, "emails", c.Emails, 500)
	near(t, "SES", c.SES, 500.0/1000*0.10)
	// Logs: sign-ins their measured 400 bytes, the rest 300; every
	// invocation Lambda's 350, every request the access log's 250.
	logs := 2000*(400+350+250) + 10000*(300+350+250) + 500*(300+350+250) + 30*(300+350)
	near(t, "log GB", c.LogGB, float64(logs)/1e9)
	near(t, "logs", c.Logs, float64(logs)/1e9*0.50)
	// Alarms: errors and throttles of 3 functions, 2 of the table, one per
	// dead-letter queue (each job's but a deploy job's).
	queues := 0
	for _, j := range routes.Jobs {
		if !j.OnDeploy {
			queues++
		}
	}
	near(t, "alarms", c.Alarms, float64(2*3+2+queues)*0.10)
	near(t, "total", c.Total, c.APIGateway+c.LambdaRequests+c.LambdaDuration+c.DynamoDBWrites+c.DynamoDBReads+c.Storage+c.SES+c.Logs+c.Alarms)
	var lines float64
	for _, l := range c.Lines {
		lines += l.Dollars
	}
	near(t, "the lines' sum", lines, c.Total-c.Storage-c.Alarms)
	if len(c.Missing) != 1 || c.Missing[0] != "no-such-route" {
		t.Errorf("missing %v", c.Missing)
	}
	near(t, "Cognito at 1,000", c.Cognito, 0)
	near(t, "Cognito at 25,000", CostOf(costReport(), costWorkload, USEast1, 25_000).Cognito, 15_000*0.015)
	// What requests cost scales with the users; the alarms and the jobs'
	// runs do not.
	big := CostOf(costReport(), costWorkload, USEast1, 10_000)
	for i, l := range c.Lines[:3] {
		near(t, l.Route+" at ten times the users", big.Lines[i].Dollars, 10*l.Dollars)
	}
	near(t, "the alarms at ten times the users", big.Alarms, c.Alarms)
}

// Every case the standard workload prices is a route or job of the table,
// so that a renamed route cannot silently drop out of the bill.
func TestTheStandardWorkloadNamesRealRoutes(t *testing.T) {
	for _, u := range StandardWorkload.Uses {
		if _, ok := routes.ByName(u.Route); !ok {
			t.Errorf("the workload prices %q, which is no route", u.Route)
		}
	}
	// Every job that runs in a month of use: not a deploy job's.
	jobs := map[string]bool{}
	for _, j := range routes.Jobs {
		if !j.OnDeploy {
			jobs[j.Name] = true
		}
	}
	for _, j := range StandardWorkload.Jobs {
		if !jobs[j.Job] {
			t.Errorf("the workload prices %q, which is no job that runs in a month", j.Job)
		}
	}
	if len(StandardWorkload.Jobs) != len(jobs) {
		t.Errorf("the workload prices %d of the %d jobs", len(StandardWorkload.Jobs), len(jobs))
	}
}

// The markdown report prices both sizes beside Cognito, states its
// assumptions and names what it could not price.
func TestTheMarkdownStatesTheCostAndItsAssumptions(t *testing.T) {
	md := costReport().markdown()
	for _, want := range []string{"# Benchmark and cost model", "## What it costs", "| 10,000 MAU | 100,000 MAU |", "Cognito Essentials",
		"$1,350", "### Assumptions", "$0.0000133334 per GB-second", "$0.625 per million WRU", "$0.125 per million RRU",
		"$0.10 per 1,000 emails", "$0.50 per GB ingested", "$0.25 per GB-month", "This run has no row for:"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// Items are sized by kind: the word before the first # of each key, and a
// search entry, whose sort key is a time, as one kind.
func TestKeyKind(t *testing.T) {
	for _, c := range []struct{ pk, sk, want string }{
		{"USER#usr_1", "PROFILE", "USER/PROFILE"},
		{"USER#usr_1", "SESSION#ses_1", "USER/SESSION"},
		{"SEARCH#ali", "2026-12-02T17:07:39.444000000Z#usr_1", "SEARCH/*"},
		{"META", "META", "META/META"},
	} {
		item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: c.pk}, "sk": &types.AttributeValueMemberS{Value: c.sk}}
		if got := keyKind(item); got != c.want {
			t.Errorf("keyKind(%s, %s) = %s, want %s", c.pk, c.sk, got, c.want)
		}
	}
}

// A request's round trips are its median sample's: one sample whose calls
// did not overlap does not make it two round trips long.
func TestMedianWaves(t *testing.T) {
	for _, c := range []struct {
		counts []int
		want   int
	}{{nil, 0}, {[]int{1}, 1}, {[]int{1, 1, 2, 1}, 1}, {[]int{2, 1}, 1}, {[]int{3, 3, 1}, 3}} {
		if got := medianWaves(c.counts); got != c.want {
			t.Errorf("medianWaves(%v) = %d, want %d", c.counts, got, c.want)
		}
	}
}
