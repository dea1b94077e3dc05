package report_test

import (
	"os"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/report"
)

func summary(p50, p99, rate float64) *results.Summary {
	return &results.Summary{LatencyMS: results.LatencyStats{P50: p50, P99: p99, Mean: p50 * 1.2}, Redirects: results.RedirectStats{Rate: rate}, ThroughputRPS: 1000}
}

// Three replications per condition: the queue-delay policy's p99 is
// lower than queue-length's and the interval of the difference excludes
// 0 (*); its p50 difference is within noise (~). Identical replications
// (throughput here) have a zero-width interval. The redirect rate's
// change is in percentage points.
func ExampleTable_Write() {
	runs := []plots.Run{{Name: "queue-length"}, {Name: "queue-delay"}}
	t := report.NewTable(runs, [][]*results.Summary{
		{summary(10.1, 80, 0.20), summary(10.4, 84, 0.21), summary(9.9, 79, 0.19)},
		{summary(10.0, 60, 0.25), summary(10.6, 62, 0.26), summary(10.1, 57, 0.24)},
	})
	t.Write(os.Stdout, "text")
	// Output:
	// run           reps               p50 ms               p99 ms              mean ms       redirect rate %      shed rate %  throughput req/s  rejections
	// queue-length     3           10.1 ±0.63            81.0 ±6.6           12.2 ±0.75             20.0 ±2.5             0 ±0           1000 ±0        0 ±0
	// queue-delay      3  10.2 ±0.80 (+1.0%~)  59.7 ±6.3 (-26.3%*)  12.3 ±0.96 (+1.0%~)  25.0 ±2.5 (+5.0 pp*)  0 ±0 (+0.0 pp~)  1000 ±0 (+0.0%~)  0 ±0 (+0~)
	// ± is the 95% CI half-width over replications; (change) is against queue-length, in percent, or in percentage points (pp) for rates; * significant, ~ not significant (the 95% CI of the difference contains 0), no mark: too few replications to tell.
}

// `redirlab plot DIR` is report.Write(DIR): figures and report.html for
// a run, its replications, or every variant and their comparison.
func ExampleWrite() {
	if err := report.Write("runs/default"); err != nil {
		os.Exit(1) // only cmd/redirlab exits; this is an example
	}
}
