package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/usermgmt/ums/pkg/routes"
)

// The cost model: what a month of a stated workload costs in AWS, from
// what the bench measured (capacity units, predicted Lambda durations, log
// bytes and item sizes per request), at public on-demand prices. It is a
// pure function of the report, so that it can be tested, and recomputed
// from a saved bench.json (-from).

// Prices are public on-demand prices, in US dollars.
type Prices struct {
	Region string
	// APIGatewayPerM is an HTTP API's price per million requests.
	APIGatewayPerM float64
	// LambdaRequestPerM and LambdaGBSecond are Lambda's on arm64.
	LambdaRequestPerM, LambdaGBSecond float64
	// WRUPerM and RRUPerM are DynamoDB on-demand's per million write and
	// read request units; StorageGBMonth its standard table class storage.
	WRUPerM, RRUPerM, StorageGBMonth float64
	// SESPer1000 is SES's price per thousand emails.
	SESPer1000 float64
	// LogsPerGB is CloudWatch Logs' ingestion price.
	LogsPerGB float64
	// AlarmMonth is CloudWatch's monthly price of a standard-resolution
	// alarm per metric it evaluates (an alarm on metric math pays for each
	// metric of its expression).
	AlarmMonth float64
	// CognitoPerMAU is Cognito Essentials' price per monthly active user
	// above CognitoFreeMAU.
	CognitoPerMAU  float64
	CognitoFreeMAU int
}

// USEast1 are the prices of us-east-1.
var USEast1 = Prices{
	Region: "us-east-1", APIGatewayPerM: 1.00, LambdaRequestPerM: 0.20, LambdaGBSecond: 0.0000133334,
	WRUPerM: 0.625, RRUPerM: 0.125, StorageGBMonth: 0.25, SESPer1000: 0.10, LogsPerGB: 0.50, AlarmMonth: 0.10,
	CognitoPerMAU: 0.015, CognitoFreeMAU: 10_000,
}

// Use is one measured case's share of the workload.
type Use struct {
	Route string
	// Case picks the route's row whose case starts with it ("" for the
	// route's first row).
	Case string
	// PerMAU is requests per monthly active user per month.
	PerMAU float64
	// Mails is the emails one request sends.
	Mails float64
}

// JobUse is a job's share: its runs per month, and the items it works
// through per monthly active user per month. A stream job (RunPerItem)
// runs once per item: at these rates a batch holds one record.
type JobUse struct {
	Job          string
	RunsPerMonth float64
	ItemsPerMAU  float64
	RunPerItem   bool
}

// Stored is what the table holds per monthly active user, by item kind
// (as ItemKind names it).
type Stored struct {
	Kind   string
	PerMAU float64
	Why    string
}

// Workload is a month of use, in proportion to the monthly active users.
type Workload struct {
	Uses   []Use
	Jobs   []JobUse
	Stored []Stored
}

// Assumptions of the model that are not in the workload itself.
const (
	// platformLogBytes is Lambda's own START, END and REPORT lines per
	// invocation (with tracing on, REPORT names the trace).
	platformLogBytes = 350
	// accessLogBytes is the API stage's JSON access log line per request.
	accessLogBytes = 250
	// defaultLogBytes is a function's log per request where the bench did
	// not measure it: its one JSON line per request.
	defaultLogBytes = 300
	// itemOverhead is what DynamoDB adds to every stored item, in the
	// table and in each index that holds it.
	itemOverhead = 100
	// defaultItemBytes is an item's size where the bench saw none of its
	// kind.
	defaultItemBytes = 500
	// jobRunMs is a run's own work besides its items (its first query).
	jobRunMs = 20
)

// StandardWorkload is the workload the report prices: a B2B SaaS product
// whose users sign in a couple of times a week, with a small admin team.
var StandardWorkload = Workload{
	Uses: []Use{
		// Signing in and the session.
		{Route: "login", Case: "success", PerMAU: 8},
		{Route: "login", Case: "wrong password", PerMAU: 0.8},
		{Route: "logout", PerMAU: 2},
		{Route: "get-me", PerMAU: 60},
		{Route: "mark-used", PerMAU: 4},
		{Route: "update-me", PerMAU: 0.1},
		{Route: "list-my-sessions", PerMAU: 0.2},
		{Route: "change-password", PerMAU: 0.02, Mails: 1},
		// Forgotten passwords.
		{Route: "forgot-password", Case: "an active account", PerMAU: 0.1, Mails: 1},
		{Route: "forgot-password", Case: "an unknown email", PerMAU: 0.02},
		{Route: "reset-password-page", PerMAU: 0.08},
		{Route: "lookup-password-reset", PerMAU: 0.08},
		{Route: "reset-password", PerMAU: 0.08, Mails: 1},
		// Invitations: 5% of the users are new each month.
		{Route: "create-invitation", PerMAU: 0.05, Mails: 1},
		{Route: "resend-invitation", PerMAU: 0.01, Mails: 1},
		{Route: "accept-invitation-page", PerMAU: 0.05},
		{Route: "lookup-invitation", Case: "GET", PerMAU: 0.05},
		{Route: "accept-invitation", PerMAU: 0.04},
		{Route: "cancel-invitation", PerMAU: 0.002},
		// Admin operations: about one admin or manager per 100 users.
		{Route: "list-users", Case: "no filter", PerMAU: 1},
		{Route: "list-users", Case: "search=seed (one word)", PerMAU: 0.5},
		{Route: "get-user", PerMAU: 0.5},
		{Route: "update-user", Case: "name", PerMAU: 0.05},
		{Route: "create-user", PerMAU: 0.01},
		{Route: "deactivate-user", PerMAU: 0.01},
		{Route: "activate-user", PerMAU: 0.002},
		{Route: "delete-user", PerMAU: 0.01},
		{Route: "restore-user", PerMAU: 0.001},
		{Route: "anonymize-user", PerMAU: 0.001},
		{Route: "create-password-reset", PerMAU: 0.005, Mails: 0.5},
		{Route: "list-invitations", PerMAU: 0.1},
		{Route: "list-sessions", PerMAU: 0.02},
		{Route: "list-login-attempts", PerMAU: 0.05},
		{Route: "list-audit-events", PerMAU: 0.1},
		{Route: "get-summary", PerMAU: 0.2},
		{Route: "get-settings", Case: "GET", PerMAU: 0.02},
	},
	Jobs: []JobUse{
		{Job: "expire-invitations", RunsPerMonth: 24 * 30, ItemsPerMAU: 0.01},
		{Job: "purge-deleted-users", RunsPerMonth: 30, ItemsPerMAU: 0.01},
		// The mail queued by forgot-password (for an active account) and
		// reset-password, their uses above (0.1 and 0.08 per MAU), sent
		// from the stream; the mails themselves are priced with the routes
		// that queue them.
		{Job: "send-mail", ItemsPerMAU: 0.18, RunPerItem: true},
		// prepare-table runs at a deployment, not in a month of use.
	},
	Stored: []Stored{
		{Kind: "USER/PROFILE", PerMAU: 1.25, Why: "registered users: 125% of the monthly active"},
		{Kind: "EMAIL/EMAIL", PerMAU: 1.25, Why: "one email-uniqueness item per user"},
		{Kind: "USERNAME/USERNAME", PerMAU: 0.25, Why: "a fifth of the users have a username"},
		{Kind: "SEARCH/*", PerMAU: 1.25 * 9, Why: "search entries, one per prefix of each word of a user's names and email: 9 per user, about what the seeded users have"},
		{Kind: "USER/SESSION", PerMAU: 2, Why: "live sessions (30-day lifetime) per active user"},
		{Kind: "APIKEY/APIKEY", PerMAU: 0.05, Why: "API keys, personal and system"},
		{Kind: "ATTEMPT/ATTEMPT", PerMAU: 26.4, Why: "sign-in attempts, kept 90 days: 3 months of 8.8 a month"},
		{Kind: "AUDIT/AUDIT", PerMAU: 2.4, Why: "audit events, kept for good: a year of the changes above (about 0.2 a month)"},
		{Kind: "INVITE/INVITE", PerMAU: 0.6, Why: "invitations, kept: a year of 0.05 a month"},
	},
}

// CostLine is one case's share of the monthly cost.
type CostLine struct {
	Route, Case string
	Requests    float64 // per month
	// PerMAU and Mails are the workload's (requests per MAU, emails per
	// request); a job's PerMAU is its items per MAU.
	PerMAU, Mails float64
	Dollars       float64 // everything per request, times the requests
	// LambdaMs is the billed duration of one request, and its source.
	LambdaMs float64
	Source   string
}

// Cost is a month of a workload at one size.
type Cost struct {
	MAU      int
	Requests float64 // routed requests per month
	// Each service's monthly dollars.
	APIGateway, LambdaRequests, LambdaDuration, DynamoDBWrites, DynamoDBReads, Storage, SES, Logs, Alarms float64
	StorageGB, Emails, LogGB, GBSeconds, WRU, RRU                                                         float64
	Total                                                                                                 float64
	// Cognito is Cognito Essentials at the same users, for comparison.
	Cognito float64
	Lines   []CostLine
	// Missing names the workload's cases the report has no row for; they
	// are priced at nothing.
	Missing []string
}

// findRow returns the row of a route whose case starts with prefix.
func findRow(rows []Row, route, prefix string) (Row, bool) {
	for _, r := range rows {
		if r.Route == route && strings.HasPrefix(r.Case, prefix) {
			return r, true
		}
	}
	return Row{}, false
}

// billedMs is the Lambda duration of one request of a row, as billed
// (whole milliseconds), and where it comes from: the prediction from the
// function's measured CPU, or the route's own row's, or, lacking both,
// the latency measured here.
func billedMs(rows []Row, row Row) (float64, string) {
	if row.CPU != nil && row.CPU.LambdaMs > 0 {
		return math.Ceil(row.CPU.LambdaMs), "predicted from CPU"
	}
	for _, r := range rows {
		if r.Route == row.Route && r.CPU != nil && r.CPU.LambdaMs > 0 {
			return math.Ceil(r.CPU.LambdaMs), "predicted, the route's first case"
		}
	}
	if row.Latency != nil {
		return math.Ceil(row.Latency.P50), "latency p50 here"
	}
	return 1, "unmeasured: 1 ms"
}

// logBytesOf is what one request of a row logs, all lines counted.
func logBytesOf(rows []Row, row Row) float64 {
	own := float64(defaultLogBytes)
	for _, r := range rows {
		if r.Route == row.Route && r.CPU != nil && r.CPU.LogBytes > 0 {
			own = r.CPU.LogBytes
			break
		}
	}
	return own + platformLogBytes + accessLogBytes
}

func memoryOf(name string) int {
	if r, ok := routes.ByName(name); ok {
		return r.MemoryMB()
	}
	return routes.JobMemory
}

// itemBytes is the size of a stored item of a kind, in the table and
// its indexes, overhead included.
func itemBytes(items []ItemKind, kind string) float64 {
	for _, k := range items {
		if k.Kind == kind {
			return (k.Bytes + itemOverhead) * (1 + k.Indexes)
		}
	}
	return defaultItemBytes + itemOverhead
}

// CostOf prices a month of w at mau monthly active users.
func CostOf(r *Report, w Workload, p Prices, mau int) Cost {
	c := Cost{MAU: mau}
	users := float64(mau)
	var logBytes float64
	for _, u := range w.Uses {
		row, ok := findRow(r.Routes, u.Route, u.Case)
		if !ok {
			c.Missing = append(c.Missing, strings.TrimSpace(u.Route+" "+u.Case))
			continue
		}
		n := u.PerMAU * users
		ms, source := billedMs(r.Routes, row)
		gbs := n * ms / 1000 * float64(memoryOf(u.Route)) / 1024
		lb := n * logBytesOf(r.Routes, row)
		line := CostLine{Route: u.Route, Case: row.Case, Requests: n, PerMAU: u.PerMAU, Mails: u.Mails, LambdaMs: ms, Source: source}
		line.Dollars = n/1e6*(p.APIGatewayPerM+p.LambdaRequestPerM) + gbs*p.LambdaGBSecond +
			n*row.WCU/1e6*p.WRUPerM + n*row.RCU/1e6*p.RRUPerM + n*u.Mails/1000*p.SESPer1000 + lb/1e9*p.LogsPerGB
		c.Lines = append(c.Lines, line)
		c.Requests += n
		c.GBSeconds += gbs
		c.WRU += n * row.WCU
		c.RRU += n * row.RCU
		c.Emails += n * u.Mails
		logBytes += lb
	}
	invocations := c.Requests
	for _, j := range w.Jobs {
		row, ok := findRow(r.Routes, j.Job, "")
		if !ok {
			c.Missing = append(c.Missing, j.Job)
			continue
		}
		items := j.ItemsPerMAU * users
		runs := j.RunsPerMonth
		if j.RunPerItem {
			runs = items
		}
		// Per item, what the measured run spent per item it did.
		var perRCU, perWCU, perMs float64
		if row.Items > 0 {
			perRCU, perWCU = row.RCU/float64(row.Items), row.WCU/float64(row.Items)
			if row.Latency != nil {
				perMs = row.Latency.P50 / float64(row.Items)
			}
		}
		ms := runs*jobRunMs + items*perMs
		gbs := ms / 1000 * float64(routes.JobMemory) / 1024
		// Each scheduled run reads its index once (a query of nothing: 0.5
		// units); a stream job's run starts from its record.
		rru := items * perRCU
		if !j.RunPerItem {
			rru += runs * 0.5
		}
		wru := items * perWCU
		lb := runs * (defaultLogBytes + platformLogBytes)
		line := CostLine{Route: j.Job, Case: fmt.Sprintf("%.0f runs, %.0f items", runs, items), Requests: runs, PerMAU: j.ItemsPerMAU,
			LambdaMs: math.Ceil(ms / max(runs, 1)), Source: "measured run, per item"}
		line.Dollars = runs/1e6*p.LambdaRequestPerM + gbs*p.LambdaGBSecond + wru/1e6*p.WRUPerM + rru/1e6*p.RRUPerM + lb/1e9*p.LogsPerGB
		c.Lines = append(c.Lines, line)
		invocations += runs
		c.GBSeconds += gbs
		c.WRU += wru
		c.RRU += rru
		logBytes += lb
	}
	var stored float64
	for _, s := range w.Stored {
		stored += s.PerMAU * users * itemBytes(r.Items, s.Kind)
	}
	c.StorageGB = stored / (1 << 30)
	c.LogGB = logBytes / 1e9
	c.APIGateway = c.Requests / 1e6 * p.APIGatewayPerM
	c.LambdaRequests = invocations / 1e6 * p.LambdaRequestPerM
	c.LambdaDuration = c.GBSeconds * p.LambdaGBSecond
	c.DynamoDBWrites = c.WRU / 1e6 * p.WRUPerM
	c.DynamoDBReads = c.RRU / 1e6 * p.RRUPerM
	c.Storage = c.StorageGB * p.StorageGBMonth
	c.SES = c.Emails / 1000 * p.SESPer1000
	c.Logs = c.LogGB * p.LogsPerGB
	c.Alarms = float64(alarms(r)) * p.AlarmMonth
	c.Total = c.APIGateway + c.LambdaRequests + c.LambdaDuration + c.DynamoDBWrites + c.DynamoDBReads + c.Storage + c.SES + c.Logs + c.Alarms
	c.Cognito = float64(max(0, mau-p.CognitoFreeMAU)) * p.CognitoPerMAU
	return c
}

// alarms is how many alarm metrics the stack's alarms evaluate: errors
// and throttles of every function (whether one alarm watches both or two
// alarms one each, the price is per metric), the table's throttled
// requests and system errors, and each dead-letter queue (a scheduled or
// stream job's; a deploy job has none).
func alarms(r *Report) int {
	functions := len(r.Functions)
	if functions == 0 {
		functions = len(routes.All) + len(routes.Jobs)
	}
	queues := 0
	for _, j := range routes.Jobs {
		if !j.OnDeploy {
			queues++
		}
	}
	return 2*functions + 2 + queues
}
