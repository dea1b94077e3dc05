package gate

import (
	"fmt"
	"math"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/stats"
	"github.com/redirlab/redirlab/scenarios"
)

// LimitResult is one threshold judged on one run's replications.
type LimitResult struct {
	// Run names the run (its variant, or "" without variants).
	Run   string
	Limit scenarios.Limit
	// Value is the metric (the mean over replications); Bound is what
	// was compared: Value for one replication, else the 95% confidence
	// bound on the side that could fail the threshold.
	Value, Bound float64
	// N is the number of replications.
	N       int
	Verdict Verdict
	// Why explains a fail (by how much) or an inconclusive verdict.
	Why string
}

// CheckLimits judges limits on the replications of one run. Under
// replications a threshold holds on the 95% confidence bound, not on
// one lucky run: "< 150ms" needs the upper bound below 150 ms, "> 0.9"
// the lower bound above 0.9, "==" every replication equal.
func CheckLimits(run string, limits []scenarios.Limit, sums []*results.Summary, h Health) []LimitResult {
	var problems []string
	for _, s := range sums {
		problems = append(problems, h.Problems(s)...)
	}
	var out []LimitResult
	for _, l := range limits {
		r := LimitResult{Run: run, Limit: l, N: len(sums)}
		var xs []float64
		for _, s := range sums {
			if v, ok := Value(s, l.Metric); ok {
				xs = append(xs, v)
			}
		}
		switch {
		case len(xs) == 0:
			r.Verdict, r.Why = Inconclusive, "the run has no "+l.Metric
			out = append(out, r)
			continue
		case len(problems) > 0:
			r.Verdict, r.Why = Inconclusive, problems[0]
		}
		ci := stats.MeanCI(xs, 0.95)
		r.Value, r.Bound = ci.Mean, ci.Mean
		holds := true
		switch l.Op {
		case scenarios.Less, scenarios.LessEq:
			r.Bound = ci.Hi
			holds = l.Op.Holds(r.Bound, l.Value)
		case scenarios.Greater, scenarios.GreaterEq:
			r.Bound = ci.Lo
			holds = l.Op.Holds(r.Bound, l.Value)
		case scenarios.Equal:
			for _, x := range xs {
				if x != l.Value {
					holds, r.Bound = false, x
				}
			}
		}
		if r.Verdict == Inconclusive {
			out = append(out, r)
			continue
		}
		if !holds || !finite(r.Bound) {
			r.Verdict = Fail
			r.Why = missBy(l, r.Bound, len(xs))
		}
		out = append(out, r)
	}
	return out
}

// missBy words how far bound misses l.
func missBy(l scenarios.Limit, bound float64, n int) string {
	what := "is"
	if n > 1 {
		what = "95% bound is"
	}
	unit := ""
	if isMS(l.Metric) {
		unit = " ms"
	}
	d := math.Abs(bound - l.Value)
	rel := ""
	if l.Value != 0 {
		rel = fmt.Sprintf(", %.1f%%", 100*d/math.Abs(l.Value))
	}
	return fmt.Sprintf("%s %s %s%s, want %s %s%s: off by %s%s%s", l.Metric, what, fmtNum(bound), unit, l.Op, fmtNum(l.Value), unit, fmtNum(d), unit, rel)
}

func isMS(metric string) bool {
	for i := 0; i+3 <= len(metric); i++ {
		if metric[i:i+3] == "_ms" {
			return true
		}
	}
	return false
}

// fmtNum prints a figure with 4 significant digits.
func fmtNum(x float64) string { return fmt.Sprintf("%.4g", x) }
