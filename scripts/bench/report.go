package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/usermgmt/ums/pkg/localstack"
	"github.com/usermgmt/ums/pkg/routes"
)

// Report is everything the bench measured; .local/bench.json is its JSON.
type Report struct {
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"seconds"`
	// Phases is how long each part of the run took, in order.
	Phases           []Phase `json:"phases"`
	DynamoDBEndpoint string  `json:"dynamodb_endpoint"`
	Table            string  `json:"table"`
	Served           string  `json:"served"`
	Routes           []Row   `json:"routes"`
	// FirstUsers is the table size of Routes; Sizes are every size, the
	// first without rows of its own.
	FirstUsers int      `json:"first_users"`
	Sizes      []Size   `json:"sizes"`
	Argon2id   Argon2id `json:"argon2id"`
	// LambdaBuild is how the deployable binaries are built.
	LambdaBuild string     `json:"lambda_build"`
	Functions   []Function `json:"functions"`
	// Items is the table's items at the first size, once every route and
	// job has run, by kind: their count and mean size, for the cost
	// model's storage.
	Items    []ItemKind `json:"items,omitempty"`
	Passed   bool       `json:"passed"`
	Failures []string   `json:"failures"`
}

// Row is one measured case of a route.
type Row struct {
	Route  string `json:"route"`
	Case   string `json:"case"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Calls is the most DynamoDB calls any sample made, ByOperation that
	// sample's calls by operation, MinCalls the fewest.
	Calls       int            `json:"dynamodb_calls"`
	MinCalls    int            `json:"min_dynamodb_calls"`
	ByOperation map[string]int `json:"by_operation"`
	Scanned     bool           `json:"scanned"`
	// Waves is the request's latency in round trips, in its median
	// sample: calls issued together count once.
	Waves int `json:"round_trip_waves"`
	// RCU and WCU are the read and write capacity units of the sample that
	// consumed the most, as DynamoDB Local reports them.
	RCU        float64 `json:"rcu"`
	WCU        float64 `json:"wcu"`
	Budget     int     `json:"budget"`
	BudgetExpr string  `json:"budget_expr"`
	Verdict    string  `json:"verdict"`
	Items      int     `json:"items,omitempty"`
	// Window, if set, is why its units may grow with the table, to a bound.
	Window  string   `json:"window,omitempty"`
	Latency *Latency `json:"latency_ms,omitempty"`
	CPU     *CPU     `json:"cpu,omitempty"`
}

// CPU is what one request costs the function that serves it.
// Phase is how long one part of the run took.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

type CPU struct {
	Requests int `json:"requests"`
	// Ms is the CPU time (user and system) per request of the function's
	// own process: the real bootstrap, built for this machine, invoked
	// through a local Runtime API with the route's memory settings. It
	// includes the Lambda runtime client's own exchanges with the Runtime
	// API (two HTTP requests per invocation) and their kernel time.
	Ms float64 `json:"cpu_ms"`
	// InProcessMs is the CPU per request of the handler, the API Gateway
	// adapter, the event's JSON and the DynamoDB client, served in the
	// bench's own process (nothing else runs meanwhile): what a request
	// costs without the runtime client.
	InProcessMs float64 `json:"in_process_cpu_ms"`
	// OffNetworkMs, for reads (GET), is InProcessMs with DynamoDB's
	// answers replayed from memory, one request repeated: the CPU of the
	// handler, the adapter and the SDK without the sockets. On this
	// machine the sockets are loopback TCP to DynamoDB Local, whose kernel
	// and scheduler cost is not that of a call within a region.
	OffNetworkMs float64 `json:"off_network_cpu_ms,omitempty"`
	// Allocs and Bytes are allocated per request by the route's handler,
	// the API Gateway adapter and the SDK, measured in-process.
	Allocs float64 `json:"allocs"`
	Bytes  float64 `json:"bytes"`
	// LogBytes is what the function's own process logged per request, at
	// its production log level (the lines CloudWatch Logs ingests from it;
	// Lambda's START, END and REPORT lines are not in it).
	LogBytes float64 `json:"log_bytes"`
	// MemoryMB is the function's memory in the stack.
	MemoryMB int `json:"memory_mb"`
	// LambdaMs predicts the duration on Lambda at MemoryMB: Ms scaled by
	// Lambda's CPU share (1,769 MB is one vCPU), plus the request's waves of
	// round trips at RoundTripMs each.
	LambdaMs float64 `json:"predicted_lambda_ms"`
}

// Latency is the percentiles of a row's samples, in milliseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Argon2id is the cost of the production password hash on this machine.
type Argon2id struct {
	Params   string  `json:"params"`
	HashMs   float64 `json:"hash_ms"`
	VerifyMs float64 `json:"verify_ms"`
}

// Function is one function's deployable binary and its cold start on this
// machine.
type Function struct {
	Name       string `json:"name"`
	Bytes      int64  `json:"bytes"`
	LimitBytes int64  `json:"limit_bytes"`
	// SES says it links the SES client (it sends mail).
	SES bool `json:"ses"`
	// InitMs is process start to its first poll for an event; ColdMs to
	// its first answer (medians); WarmMs a second answer.
	InitMs    float64 `json:"init_ms"`
	ColdMs    float64 `json:"cold_ms"`
	ColdMaxMs float64 `json:"cold_max_ms"`
	WarmMs    float64 `json:"warm_ms"`
}

// ColdStartGoalMs is the cold start the functions are measured against.
const ColdStartGoalMs = 25

// judge gives every row its verdict and the report its own: every route of
// the table measured, none over budget, nothing scanned, and no request
// making more calls at size than at 10 users. The small rows of GET /users
// are route rows too; their failures are reported once.
func (r *Report) judge() {
	r.Failures = nil
	first := fmt.Sprintf(" at %d users", r.FirstUsers)
	for i := range r.Routes {
		r.verdict(&r.Routes[i], first)
	}
	r.judgeSizes()
	// A route that burns CPU belongs on a vCPU: the table says so by
	// Hashes, which gives it the memory.
	for _, row := range r.Routes {
		if rt, ok := routes.ByName(row.Route); ok && row.CPU != nil && !rt.Hashes && row.CPU.InProcessMs > 10 {
			r.Failures = append(r.Failures, fmt.Sprintf("%s: %.1f ms of CPU per request at %d MB: mark it Hashes in the routes table, for a vCPU",
				row.Route, row.CPU.InProcessMs, row.CPU.MemoryMB))
		}
	}
	measured := map[string]bool{}
	for _, row := range r.Routes {
		measured[row.Route] = true
	}
	for _, rt := range routes.All {
		if !measured[rt.Name] {
			r.Failures = append(r.Failures, fmt.Sprintf("route %s (%s) was not measured: give it a case and a budget", rt.Name, rt.Pattern()))
		}
	}
	slices.Sort(r.Failures)
	r.Failures = slices.Compact(r.Failures)
	r.Passed = len(r.Failures) == 0
}

// verdict judges one row against its budget, where says at what size.
func (r *Report) verdict(row *Row, where string) {
	switch {
	case row.Scanned:
		row.Verdict = "SCAN"
	case row.Calls > row.Budget:
		row.Verdict = "OVER"
	default:
		row.Verdict = "PASS"
		return
	}
	r.Failures = append(r.Failures, fmt.Sprintf("%s %s%s: %s: %d DynamoDB calls (%s), budget %d (%s)",
		row.Method, row.Path, where, row.Verdict, row.Calls, opsString(row.ByOperation), row.Budget, row.BudgetExpr))
}

func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "DynamoDB round trips and latency per request (%s).\n", r.Served)
	fmt.Fprintf(w, "calls: the most any sample made; a-b when samples differed. Budgets come from the routes table (pkg/routes).\n")
	fmt.Fprintf(w, "RCU, WCU: the capacity units of the sample that consumed the most, as DynamoDB Local reports them (ReturnConsumedCapacity).\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tCASE\tCALLS\tBY OPERATION\tRCU\tWCU\tBUDGET\tVERDICT\tN\tP50 MS\tP95 MS\tP99 MS\t")
	for _, row := range r.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.1f\t%s\t%s\t%s\t\n", row.Route, row.Case, callsString(row), opsString(row.ByOperation),
			row.RCU, row.WCU, budgetString(row), verdictString(row), latencyString(row.Latency))
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nCPU per request: the function's own process (its real bootstrap, built for this machine, invoked through a local Runtime API),\n")
	fmt.Fprintf(w, "CPU time per request; allocations per request in-process. Predicted Lambda duration: CPU x %d MB / memory (one vCPU at %d MB)\n", routes.VCPUMemory, routes.VCPUMemory)
	fmt.Fprintf(w, "+ round trips (waves of DynamoDB calls issued together) x %.0f ms.\n\n", roundTripMs)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tCASE\tCPU MS (FUNCTION)\tCPU MS (IN-PROCESS)\tCPU MS (OFF THE NETWORK)\tALLOCS\tKB\tMEMORY MB\tROUND TRIPS\tPREDICTED LAMBDA MS\t")
	for _, row := range r.Routes {
		if c := row.CPU; c != nil {
			off := "-"
			if c.OffNetworkMs > 0 {
				off = fmt.Sprintf("%.3f", c.OffNetworkMs)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%s\t%.0f\t%.1f\t%d\t%d\t%.1f\t\n", row.Route, row.Case, c.Ms, c.InProcessMs, off, c.Allocs, c.Bytes/1024, c.MemoryMB, row.Waves, c.LambdaMs)
		}
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nEvery route and job at each table size (%s), seeded through batch writes as the transactions would write them:\n", r.sizesString())
	fmt.Fprintf(w, "calls, RCU, WCU, p50 and p99 ms at each size in turn; the first size with the samples above, each further one with fewer.\n\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tCASE\tCALLS\tRCU\tWCU\tP50 MS\tP99 MS\tVERDICT\t")
	for _, row := range r.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", row.Route, row.Case, strings.Join(r.sizeCells(row), "\t"))
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nargon2id (%s) on this machine: hash %.1f ms, verify %.1f ms (median of 5); a sign-in verifies once, a creation hashes once.\n",
		r.Argon2id.Params, r.Argon2id.HashMs, r.Argon2id.VerifyMs)
	if len(r.Functions) > 0 {
		fmt.Fprintf(w, "\nEvery function: its Lambda binary (%s; goal %d MiB, %d with the SES client)\n", r.LambdaBuild, 10, 12)
		fmt.Fprintf(w, "and its cold start built for this machine through a local Runtime API (pkg/runtimeapi), median of %d:\n", coldStartRuns)
		fmt.Fprintln(w, "process start to its first poll (init), to its first answer to its sample event (signed in), and a warm answer.")
		fmt.Fprintln(w, "No Firecracker, no network: a floor under Lambda's init, not a prediction of it. A first answer includes the")
		fmt.Fprintln(w, "request's own work: argon2id where a route hashes (login and register, here with the sample's placeholder")
		fmt.Fprintln(w, "credentials), the 300 ms floor of forgot-password.")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FUNCTION\tMIB\tSES\tSIZE\tINIT MS\tCOLD MS\tMAX MS\tWARM MS\tCOLD START\t")
		var cold []float64
		for _, f := range r.Functions {
			size, start := "within goal", "within goal"
			if f.Bytes > f.LimitBytes {
				size = "OVER GOAL"
			}
			if f.ColdMs > ColdStartGoalMs {
				start = "OVER GOAL"
			}
			ses := ""
			if f.SES {
				ses = "yes"
			}
			cold = append(cold, f.ColdMs)
			fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", f.Name, float64(f.Bytes)/(1<<20), ses, size, f.InitMs, f.ColdMs, f.ColdMaxMs, f.WarmMs, start)
		}
		_ = tw.Flush()
		fmt.Fprintf(w, "Cold start across the %d functions: median %.1f ms, max %.1f ms.\n", len(cold), median(cold), slices.Max(cold))
	}
	fmt.Fprintf(w, "\nBench took %s.\n", (time.Duration(r.Seconds * float64(time.Second))).Round(100*time.Millisecond))
	if r.Passed {
		fmt.Fprintln(w, "PASS: every route of routes.All is within its DynamoDB budget at every table size; nothing scanned; no cost grows with the table.")
	} else if len(r.Failures) > 0 {
		fmt.Fprintln(w, "FAIL:\n  "+strings.Join(r.Failures, "\n  "))
	}
}

// write saves the report as .local/bench.json at the module root (the
// previous one becoming .local/bench-previous.json) and
// returns that path, relative to the module root.
func (r *Report) write() (string, error) {
	root, err := localstack.ModuleRoot()
	if err != nil {
		return "", err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	rel := filepath.Join(".local", "bench.json")
	if err := os.MkdirAll(filepath.Join(root, ".local"), 0o755); err != nil {
		return "", err
	}
	// The run before stays, for make bench-compare.
	if err := os.Rename(filepath.Join(root, rel), filepath.Join(root, ".local", "bench-previous.json")); err != nil && !os.IsNotExist(err) {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(root, rel), append(j, '\n'), 0o644); err != nil {
		return "", err
	}
	return rel, nil
}

// MarkdownPath is where the markdown report is kept, from the module root.
var MarkdownPath = filepath.Join(".local", "bench.md")

// writeMarkdown saves the report as markdown at MarkdownPath.
func (r *Report) writeMarkdown() error {
	root, err := localstack.ModuleRoot()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, MarkdownPath), []byte(r.markdown()), 0o644)
}

func callsString(r Row) string {
	if r.MinCalls != r.Calls {
		return fmt.Sprintf("%d-%d", r.MinCalls, r.Calls)
	}
	return fmt.Sprint(r.Calls)
}

func opsString(m map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", op, m[op]))
	}
	return strings.Join(parts, ", ")
}

func budgetString(r Row) string {
	expr, _, _ := strings.Cut(r.BudgetExpr, ":")
	return fmt.Sprintf("%d (%s)", r.Budget, expr)
}

func verdictString(r Row) string {
	if r.Verdict == "" {
		return "-"
	}
	return r.Verdict
}

func latencyString(l *Latency) string {
	if l == nil {
		return "1\t-\t-\t-"
	}
	return fmt.Sprintf("%d\t%.1f\t%.1f\t%.1f", l.N, l.P50, l.P95, l.P99)
}

// p formats one percentile of l, the zero Latency as "-".
func p(l *Latency, pct func(Latency) float64) string {
	if l == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", pct(*l))
}

func p50(l Latency) float64 { return l.P50 }

func p95(l Latency) float64 { return l.P95 }

func p99(l Latency) float64 { return l.P99 }

func latencyOf(ms []float64) *Latency {
	s := slices.Sorted(slices.Values(ms))
	return &Latency{N: len(s), P50: percentile(s, 50), P95: percentile(s, 95), P99: percentile(s, 99)}
}

// percentile is the nearest-rank percentile of sorted samples.
func percentile(sorted []float64, pct int) float64 {
	rank := (len(sorted)*pct + 99) / 100
	return sorted[max(rank-1, 0)]
}

func median(xs []float64) float64 { return percentile(slices.Sorted(slices.Values(xs)), 50) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sizeCells are a case's figures across the sizes: calls, RCU, WCU, p50,
// p99, and its verdict.
func (r *Report) sizeCells(row Row) []string {
	at := r.sizesOf(row)
	return []string{across(at, func(x *Row) string { return callsString(*x) }),
		across(at, func(x *Row) string { return fmt.Sprintf("%.1f", x.RCU) }), across(at, func(x *Row) string { return fmt.Sprintf("%.1f", x.WCU) }),
		across(at, func(x *Row) string { return p(x.Latency, p50) }), across(at, func(x *Row) string { return p(x.Latency, p99) }), worstVerdict(at)}
}

// sizesString lists the table sizes with their seeding: "1,000; 10,000
// (9,000 seeded in 40.1 s)".
func (r *Report) sizesString() string {
	var parts []string
	for _, s := range r.Sizes {
		parts = append(parts, fmt.Sprintf("%s users (%s seeded in %.1f s)", thousands(s.Users), thousands(s.Seeded), s.SeedSeconds))
	}
	return strings.Join(parts, ", ")
}

// across is one figure of a case at each size, "a / b / c"; "?" where a
// size did not measure it.
func across(at []*Row, f func(*Row) string) string {
	var parts []string
	for _, x := range at {
		if x == nil {
			parts = append(parts, "?")
			continue
		}
		parts = append(parts, f(x))
	}
	return strings.Join(parts, " / ")
}

// worstVerdict is the verdict of a case over the sizes: the first that is
// not PASS, or PASS.
func worstVerdict(at []*Row) string {
	for _, x := range at {
		if x != nil && x.Verdict != "PASS" {
			return x.Verdict
		}
	}
	return "PASS"
}
