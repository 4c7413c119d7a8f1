// Command benchcompare prints, for two runs of make bench (their JSON
// reports), each measured case side by side with the ratio new/old of its
// DynamoDB calls, its latency (p50, p99), its CPU per request and each
// function's size and cold start: what a change did to the figures.
//
//	go run ./scripts/benchcompare [-old .local/bench-previous.json] [-new .local/bench.json]
//
// Cases are matched by route and case (a job by its name alone); one only
// in either run is listed as such.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// report is what this reads of a bench report (scripts/bench).
type report struct {
	StartedAt string `json:"started_at"`
	Routes    []struct {
		Route   string `json:"route"`
		Case    string `json:"case"`
		Calls   int    `json:"dynamodb_calls"`
		Latency *struct {
			P50 float64 `json:"p50"`
			P99 float64 `json:"p99"`
		} `json:"latency_ms"`
		CPU *struct {
			Ms float64 `json:"cpu_ms"`
		} `json:"cpu"`
	} `json:"routes"`
	Functions []struct {
		Name   string  `json:"name"`
		Bytes  int64   `json:"bytes"`
		ColdMs float64 `json:"cold_ms"`
	} `json:"functions"`
}

// figures are one case's numbers; a figure not measured is negative.
type figures struct{ calls, p50, p99, cpu float64 }

func main() {
	oldPath := flag.String("old", ".local/bench-previous.json", "the earlier run's report")
	newPath := flag.String("new", ".local/bench.json", "the later run's report")
	flag.Parse()
	old, err := load(*oldPath)
	if err == nil {
		var cur *report
		if cur, err = load(*newPath); err == nil {
			compare(os.Stdout, old, cur)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "benchcompare:", err)
	os.Exit(1)
}

func load(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

func cases(r *report) (map[string]figures, []string) {
	out := map[string]figures{}
	var order []string
	for _, row := range r.Routes {
		f := figures{calls: float64(row.Calls), p50: -1, p99: -1, cpu: -1}
		if row.Latency != nil {
			f.p50, f.p99 = row.Latency.P50, row.Latency.P99
		}
		if row.CPU != nil {
			f.cpu = row.CPU.Ms
		}
		k := row.Route + " | " + row.Case
		if strings.HasPrefix(row.Case, "job:") {
			// A job's case names what it found, which differs by run.
			k = row.Route + " | job"
		}
		if _, seen := out[k]; !seen {
			order = append(order, k)
		}
		out[k] = f
	}
	return out, order
}

func compare(w io.Writer, old, cur *report) {
	fmt.Fprintf(w, "old: %s\nnew: %s\nratio new/old; - where a run did not measure it\n\n", old.StartedAt, cur.StartedAt)
	before, _ := cases(old)
	after, order := cases(cur)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE | CASE\tCALLS\tP50 MS\tP99 MS\tCPU MS\t")
	for _, k := range order {
		a := after[k]
		b, ok := before[k]
		if !ok {
			fmt.Fprintf(tw, "%s\tnew case\t\t\t\t\n", k)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", k, ratio(b.calls, a.calls), ratio(b.p50, a.p50), ratio(b.p99, a.p99), ratio(b.cpu, a.cpu))
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			fmt.Fprintf(tw, "%s\tgone\t\t\t\t\n", k)
		}
	}
	_ = tw.Flush()

	sizes := map[string][2]float64{}
	for _, f := range old.Functions {
		sizes[f.Name] = [2]float64{float64(f.Bytes), f.ColdMs}
	}
	if len(cur.Functions) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tMIB\tSIZE\tCOLD MS\tCOLD START\t")
	for _, f := range cur.Functions {
		b, ok := sizes[f.Name]
		if !ok {
			b = [2]float64{-1, -1}
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.1f\t%s\t\n", f.Name, float64(f.Bytes)/(1<<20), ratio(b[0], float64(f.Bytes)), f.ColdMs, ratio(b[1], f.ColdMs))
	}
	_ = tw.Flush()
}

// ratio is new/old as "x1.23", or "-" when either is not measured.
func ratio(old, cur float64) string {
	switch {
	case old < 0 || cur < 0:
		return "-"
	case old == 0 && cur == 0:
		return "x1.00"
	case old == 0:
		return "new>0"
	}
	return fmt.Sprintf("x%.2f", cur/old)
}
