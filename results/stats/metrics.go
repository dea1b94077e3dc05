package stats

import "github.com/redirlab/redirlab/results"

// Metric is one figure of a run's summary.json that runs are compared on.
type Metric struct {
	// Key names the metric in CSV and JSON (p99_ms).
	Key string
	// Label names it in tables and figures (p99).
	Label string
	// Unit is the unit of Of's value ("ms", "req/s", "" for ratios).
	Unit string
	// Of reads the value from a summary.
	Of func(*results.Summary) float64
}

// Metrics are the figures compare reports, in column order.
var Metrics = []Metric{
	{Key: "p50_ms", Label: "p50", Unit: "ms", Of: func(s *results.Summary) float64 { return s.LatencyMS.P50 }},
	{Key: "p99_ms", Label: "p99", Unit: "ms", Of: func(s *results.Summary) float64 { return s.LatencyMS.P99 }},
	{Key: "mean_ms", Label: "mean", Unit: "ms", Of: func(s *results.Summary) float64 { return s.LatencyMS.Mean }},
	{Key: "redirect_rate", Label: "redirect rate", Unit: "", Of: func(s *results.Summary) float64 { return s.Redirects.Rate }},
	{Key: "shed_rate", Label: "shed rate", Unit: "", Of: func(s *results.Summary) float64 { return ratio(s.Requests.Shed, s.Requests.Sent) }},
	{Key: "throughput_rps", Label: "throughput", Unit: "req/s", Of: func(s *results.Summary) float64 { return s.ThroughputRPS }},
	{Key: "rejected", Label: "rejections", Unit: "requests", Of: func(s *results.Summary) float64 { return float64(s.Requests.Rejected) }},
}

// ratio is n of sent, 0 when nothing was sent.
func ratio(n, sent int64) float64 {
	if sent == 0 {
		return 0
	}
	return float64(n) / float64(sent)
}

// MetricByKey returns the metric named key.
func MetricByKey(key string) (Metric, bool) {
	for _, m := range Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// Values is m of each summary (one per replication).
func (m Metric) Values(sums []*results.Summary) []float64 {
	v := make([]float64, len(sums))
	for i, s := range sums {
		v[i] = m.Of(s)
	}
	return v
}

// Across is m's mean over replications with its 95% interval (no
// interval for a single run).
func (m Metric) Across(sums []*results.Summary) Interval {
	return MeanCI(m.Values(sums), Level)
}
