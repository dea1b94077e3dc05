package stats_test

import (
	"fmt"

	"github.com/redirlab/redirlab/results/stats"
)

// Comparing the p99 latency of two conditions over five replications
// each: the queue-delay policy is lower, and the interval of the
// difference excludes 0.
func ExampleWelch() {
	queueLength := []float64{41.2, 39.8, 44.1, 40.5, 42.7} // p99 ms per replication
	queueDelay := []float64{31.0, 33.4, 30.2, 32.8, 31.9}
	d := stats.Welch(queueLength, queueDelay, stats.Level)
	fmt.Printf("Δp99 = %.1f ms, 95%% CI [%.1f, %.1f], %+.0f%%: %s\n", d.Delta, d.Lo, d.Hi, 100*d.Relative, d.Verdict())
	// Output: Δp99 = -9.8 ms, 95% CI [-12.1, -7.5], -24%: significant
}

func ExampleMeanCI() {
	p99 := []float64{41.2, 39.8, 44.1, 40.5, 42.7}
	iv := stats.MeanCI(p99, stats.Level)
	fmt.Printf("%.1f ± %.1f ms (n=%d)\n", iv.Mean, iv.HalfWidth(), iv.N)
	// Output: 41.7 ± 2.2 ms (n=5)
}
