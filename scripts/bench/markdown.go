package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/ums/pkg/routes"
)

// CostMAUs are the sizes the report prices.
var CostMAUs = []int{10_000, 100_000}

// markdown is the report as a document: what the bench measured, then
// what it costs. It reads nothing but the report.
func (r *Report) markdown() string {
	var b strings.Builder
	f := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	f("# Benchmark and cost model\n\n")
	f("Run of %s, %s. %s.\n\n", r.StartedAt.UTC().Format(time.RFC3339), (time.Duration(r.Seconds * float64(time.Second))).Round(time.Second), r.Served)
	if r.Passed {
		f("**PASS**: every route within its DynamoDB budget at every table size; nothing scanned; no cost that grows with the table.\n\n")
	} else {
		f("**FAIL**:\n\n")
		for _, x := range r.Failures {
			f("- %s\n", x)
		}
		f("\n")
	}

	f("## Every route and job\n\n")
	f("Calls: DynamoDB round trips per request, the most any sample made (a-b when samples differed); the budget comes from the routes table. ")
	f("RCU and WCU: the capacity units of the sample that consumed the most, as DynamoDB Local reports them. ")
	f("Predicted Lambda ms: the function's measured CPU scaled to its memory (%d MB is one vCPU), plus %.0f ms per wave of round trips.\n\n", routes.VCPUMemory, roundTripMs)
	f("| route | case | calls | budget | verdict | RCU | WCU | p50 ms | p99 ms | memory MB | predicted Lambda ms | log bytes |\n")
	f("|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range r.Routes {
		p50, p99 := "-", "-"
		if row.Latency != nil {
			p50, p99 = fmt.Sprintf("%.1f", row.Latency.P50), fmt.Sprintf("%.1f", row.Latency.P99)
		}
		mem, pred, logs := "-", "-", "-"
		if c := row.CPU; c != nil {
			mem, pred = fmt.Sprint(c.MemoryMB), fmt.Sprintf("%.1f", c.LambdaMs)
			if c.LogBytes > 0 {
				logs = fmt.Sprintf("%.0f", c.LogBytes)
			}
		}
		f("| %s | %s | %s | %d | %s | %.1f | %.1f | %s | %s | %s | %s | %s |\n", row.Route, cell(row.Case), callsString(row), row.Budget,
			verdictString(row), row.RCU, row.WCU, p50, p99, mem, pred, logs)
	}

	f("\n## CPU per request\n\n")
	f("In the function: CPU time (user and system) per request of the real bootstrap, built for this machine, invoked through a local Runtime API with the route's memory settings. ")
	f("In-process: the same handler and adapter in the bench's process, without the runtime client. ")
	f("Off the network (reads): in-process, with DynamoDB's answers replayed from memory, which leaves out the loopback sockets to DynamoDB Local. ")
	f("Allocations and KB: per request, in-process.\n\n")
	f("| route | case | CPU ms in the function | in-process | off the network | allocs | KB |\n|---|---|--:|--:|--:|--:|--:|\n")
	for _, row := range r.Routes {
		if c := row.CPU; c != nil {
			off := "-"
			if c.OffNetworkMs > 0 {
				off = fmt.Sprintf("%.3f", c.OffNetworkMs)
			}
			f("| %s | %s | %.3f | %.3f | %s | %.0f | %.1f |\n", row.Route, cell(row.Case), c.Ms, c.InProcessMs, off, c.Allocs, c.Bytes/1024)
		}
	}

	if len(r.Sizes) > 1 {
		f("\n## At every table size\n\n")
		f("Every route and job again at each table size: %s. ", r.sizesString())
		f("Users are seeded through batch writes, exactly as the transactions would write them. ")
		f("The first size has the samples above; each further one %d per case (%d for those that hash), so its p99 is the worst of a few. ", r.Sizes[1].Samples, r.Sizes[1].HashSamples)
		f("What a request costs must not grow with the table: more calls, or capacity units over %.2f times the first size's plus %.1f, is GROWS and fails the bench.\n\n", growth, growthSlack)
		f("| route | case | calls | RCU | WCU | p50 ms | p99 ms | verdict |\n|---|---|---|---|---|---|---|---|\n")
		for _, row := range r.Routes {
			f("| %s | %s | %s |\n", row.Route, cell(row.Case), strings.Join(r.sizeCells(row), " | "))
		}
	}

	f("\n## Hashing, binaries and cold starts\n\n")
	f("argon2id (%s) on this machine: hash %.1f ms, verify %.1f ms.\n\n", r.Argon2id.Params, r.Argon2id.HashMs, r.Argon2id.VerifyMs)
	if len(r.Functions) > 0 {
		f("Every function's Lambda binary (%s; goal 10 MiB, 12 with the SES client) and its cold start through a local Runtime API ", r.LambdaBuild)
		f("(goal %d ms; a floor under Lambda's, with no Firecracker and no network).\n\n", ColdStartGoalMs)
		f("| function | MiB | SES | init ms | cold ms | warm ms | size | cold start |\n|---|--:|---|--:|--:|--:|---|---|\n")
		var cold []float64
		for _, fn := range r.Functions {
			size, start, ses := "within goal", "within goal", ""
			if fn.Bytes > fn.LimitBytes {
				size = "**over goal**"
			}
			if fn.ColdMs > ColdStartGoalMs {
				start = "**over goal**"
			}
			if fn.SES {
				ses = "yes"
			}
			cold = append(cold, fn.ColdMs)
			f("| %s | %.1f | %s | %.1f | %.1f | %.1f | %s | %s |\n", fn.Name, float64(fn.Bytes)/(1<<20), ses, fn.InitMs, fn.ColdMs, fn.WarmMs, size, start)
		}
		f("\nCold start across the %d functions: median %.1f ms, max %.1f ms.\n", len(cold), median(cold), slices.Max(cold))
	}

	f("\n%s", costMarkdown(r, StandardWorkload, USEast1, CostMAUs))
	return b.String()
}

// costMarkdown is the cost model's section: the monthly cost of w at each
// size, by service and by case, beside Cognito, and every assumption.
func costMarkdown(r *Report, w Workload, p Prices, maus []int) string {
	var b strings.Builder
	f := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	costs := make([]Cost, len(maus))
	for i, m := range maus {
		costs[i] = CostOf(r, w, p, m)
	}
	f("## What it costs\n\n")
	f("The monthly AWS bill of the workload below, in %s at on-demand prices, from the capacity units, durations, log bytes and item sizes this run measured.\n\n", p.Region)
	f("| service | price |")
	for _, c := range costs {
		f(" %s MAU |", thousands(c.MAU))
	}
	f("\n|---|---|%s\n", strings.Repeat("--:|", len(costs)))
	rows := []struct {
		name, price string
		v           func(Cost) float64
	}{
		{"API Gateway HTTP API", fmt.Sprintf("$%.2f per million requests", p.APIGatewayPerM), func(c Cost) float64 { return c.APIGateway }},
		{"Lambda requests", fmt.Sprintf("$%.2f per million", p.LambdaRequestPerM), func(c Cost) float64 { return c.LambdaRequests }},
		{"Lambda duration (arm64)", "$" + strconv.FormatFloat(p.LambdaGBSecond, 'f', -1, 64) + " per GB-second", func(c Cost) float64 { return c.LambdaDuration }},
		{"DynamoDB writes", fmt.Sprintf("$%.3f per million WRU", p.WRUPerM), func(c Cost) float64 { return c.DynamoDBWrites }},
		{"DynamoDB reads", fmt.Sprintf("$%.3f per million RRU", p.RRUPerM), func(c Cost) float64 { return c.DynamoDBReads }},
		{"DynamoDB storage", fmt.Sprintf("$%.2f per GB-month", p.StorageGBMonth), func(c Cost) float64 { return c.Storage }},
		{"SES", fmt.Sprintf("$%.2f per 1,000 emails", p.SESPer1000), func(c Cost) float64 { return c.SES }},
		{"CloudWatch Logs", fmt.Sprintf("$%.2f per GB ingested", p.LogsPerGB), func(c Cost) float64 { return c.Logs }},
		{"CloudWatch alarms", fmt.Sprintf("$%.2f per alarm metric-month, %d metrics", p.AlarmMonth, alarms(r)), func(c Cost) float64 { return c.Alarms }},
	}
	for _, row := range rows {
		f("| %s | %s |", row.name, row.price)
		for _, c := range costs {
			f(" %s |", dollars(row.v(c)))
		}
		f("\n")
	}
	f("| **total** | |")
	for _, c := range costs {
		f(" **%s** |", dollars(c.Total))
	}
	f("\n| per MAU | |")
	for _, c := range costs {
		f(" %s |", fmt.Sprintf("$%.5f", c.Total/float64(c.MAU)))
	}
	f("\n| Cognito Essentials, for comparison | $%.3f per MAU above %s |", p.CognitoPerMAU, thousands(p.CognitoFreeMAU))
	for _, c := range costs {
		f(" %s |", dollars(c.Cognito))
	}
	f("\n\nVolumes: ")
	for i, c := range costs {
		if i > 0 {
			f("; ")
		}
		f("at %s MAU, %s requests, %s GB-s, %s WRU, %s RRU, %.2f GB stored, %s emails, %.2f GB of logs",
			thousands(c.MAU), thousands(int(c.Requests)), thousands(int(c.GBSeconds)), thousands(int(c.WRU)), thousands(int(c.RRU)), c.StorageGB, thousands(int(c.Emails)), c.LogGB)
	}
	f(".\n\n")

	last := costs[len(costs)-1]
	f("### The workload, per monthly active user per month\n\n")
	f("| route | case | requests per MAU | emails per request | billed Lambda ms | from | $ at %s MAU |\n|---|---|--:|--:|--:|---|--:|\n", thousands(last.MAU))
	for _, l := range last.Lines {
		if memoryOf(l.Route) == routes.JobMemory && !isRoute(l.Route) {
			f("| %s (job) | %s | %g items | - | %.0f per run | %s | %s |\n", l.Route, cell(l.Case), l.PerMAU, l.LambdaMs, l.Source, dollars(l.Dollars))
			continue
		}
		f("| %s | %s | %g | %g | %.0f | %s | %s |\n", l.Route, cell(l.Case), l.PerMAU, l.Mails, l.LambdaMs, l.Source, dollars(l.Dollars))
	}
	f("\n### What the table holds, per monthly active user\n\n| item | per MAU | bytes each, with its index copies | why |\n|---|--:|--:|---|\n")
	for _, s := range w.Stored {
		f("| %s | %g | %.0f | %s |\n", s.Kind, s.PerMAU, itemBytes(r.Items, s.Kind), s.Why)
	}

	f("\n### Assumptions\n\n")
	for _, a := range []string{
		fmt.Sprintf("Prices are %s on-demand list prices as stated in the table; no free tier is counted on our side (Lambda's, DynamoDB's and CloudWatch's free tiers would lower the small bill further), while Cognito's first %s MAU are free, which is its price.", p.Region, thousands(p.CognitoFreeMAU)),
		"The workload is the table above: a B2B product whose users sign in about twice a week (8 sign-ins a month, 1 in 10 with a wrong password first), whose product calls GET /me about twice a day, and about one admin or manager per 100 users. 5% of the users are invited each month; 10% of the users ask for a forgotten password every 10 months.",
		"Every request is one Lambda invocation and, except the jobs, one API Gateway request. Lambda duration is the bench's prediction from the function's CPU measured in its real binary (scaled to its memory: 1,769 MB is one vCPU) plus 5 ms per wave of DynamoDB round trips, rounded up to the billed millisecond; a case without its own CPU figure takes its route's first case's, and one without either takes its latency measured here. Cold starts are not priced: at these volumes a few thousand a month, a few milliseconds each.",
		"DynamoDB units are those DynamoDB Local reported per request (ReturnConsumedCapacity: TOTAL), taken from the sample that consumed the most. Transactions count double, as in AWS. DynamoDB Local may leave out the units of the writes to global secondary indexes, which AWS charges for every index an item is in: the write figures may be low by up to the index copies shown in the storage table.",
		fmt.Sprintf("Storage is the stored items above at the mean size this run measured for their kind (%d bytes where it saw none), plus DynamoDB's %d bytes per item, in the table and again in each index that holds the item (every index projects all attributes). Items with a short TTL (idempotency records, throttle and rate counters, reset tokens) are left out. Point-in-time recovery ($0.20 per GB-month) and backups are not included.", defaultItemBytes, itemOverhead),
		fmt.Sprintf("Logs per request: what the function logged per request at its production level as the bench measured it (%d bytes where not measured), plus %d bytes of Lambda's START, END and REPORT lines and %d bytes of the API's access log line. Log storage after ingestion ($0.03 per GB-month) is not included.", defaultLogBytes, platformLogBytes, accessLogBytes),
		fmt.Sprintf("The jobs run on schedule (expire-invitations hourly, purge-deleted-users daily) at %d MB; a run costs %d ms and a query of its index besides its items, and each item what the bench's run spent per item it did. 1%% of the users' invitations expire and 1%% of the users are purged each month.", routes.JobMemory, jobRunMs),
		"SES: every email is one message to one recipient. Data transfer out, X-Ray traces (tracing is on; the default sampling keeps about one request a second and 5% beyond), KMS, SQS and the CloudWatch metrics the services publish for free are not included.",
		"Cognito Essentials is priced for sign-in only; the API's admin operations, invitations, audit log and the rest would be built on top of it.",
	} {
		f("- %s\n", a)
	}
	if len(last.Missing) > 0 {
		f("- This run has no row for: %s; they are priced at $0.\n", strings.Join(last.Missing, ", "))
	}
	return b.String()
}

func isRoute(name string) bool {
	_, ok := routes.ByName(name)
	return ok
}

// cell escapes text for a markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func dollars(v float64) string {
	if v < 10 {
		return fmt.Sprintf("$%.2f", v)
	}
	return "$" + thousands(int(math.Round(v)))
}

// thousands writes n with thousands separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
