// Package gate judges runs, for CI: the scenario's thresholds against a
// run's summaries, and a statistical regression gate against a baseline.
// Its answers are pass, fail, or inconclusive: a run whose load
// generator fell behind, or that completed too few requests, cannot judge
// the system, and saying pass or fail on it would be a wrong answer.
package gate

import (
	"fmt"
	"math"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// Verdict is a judgement.
type Verdict uint8

const (
	Pass Verdict = iota
	Fail
	Inconclusive
)

var verdictNames = [...]string{"pass", "FAIL", "inconclusive"}

func (v Verdict) String() string { return verdictNames[v] }

// Worst is the worse of two verdicts: fail over inconclusive over pass.
func Worst(a, b Verdict) Verdict {
	rank := func(v Verdict) int { return [...]int{0, 2, 1}[v] }
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Value is metric (a summary.json path, scenarios.Metrics or
// servers[NAME].FIELD) of s, and false when s has no such metric.
func Value(s *results.Summary, metric string) (float64, bool) {
	switch metric {
	case "requests.sent":
		return float64(s.Requests.Sent), true
	case "requests.completed":
		return float64(s.Requests.Completed), true
	case "requests.errors":
		return float64(s.Requests.Errors), true
	case "requests.rejected":
		return float64(s.Requests.Rejected), true
	case "requests.shed":
		return float64(s.Requests.Shed), true
	case "requests.timeouts":
		return float64(s.Requests.Timeouts), true
	case "requests.interrupted":
		return float64(s.Requests.Interrupted), true
	case "latency_ms.mean":
		return s.LatencyMS.Mean, true
	case "latency_ms.p50":
		return s.LatencyMS.P50, true
	case "latency_ms.p90":
		return s.LatencyMS.P90, true
	case "latency_ms.p99":
		return s.LatencyMS.P99, true
	case "latency_ms.p999":
		return s.LatencyMS.P999, true
	case "latency_ms.max":
		return s.LatencyMS.Max, true
	case "redirects.rate":
		return s.Redirects.Rate, true
	case "redirects.total":
		return float64(s.Redirects.Total), true
	case "throughput_rps":
		return s.ThroughputRPS, true
	case "send_lag_ms.p50":
		return s.SendLagMS.P50, true
	case "send_lag_ms.p99":
		return s.SendLagMS.P99, true
	case "send_lag_ms.max":
		return s.SendLagMS.Max, true
	}
	name, field, ok := scenarios.SplitServerMetric(metric)
	if !ok {
		return 0, false
	}
	for i := range s.Servers {
		sv := &s.Servers[i]
		// A group of one also answers to its bare name.
		if sv.Name != name && sv.Name != name+"-1" {
			continue
		}
		switch field {
		case "served":
			return float64(sv.Served), true
		case "redirected":
			return float64(sv.Redirected), true
		case "rejected":
			return float64(sv.Rejected), true
		case "mean_queue_length":
			return sv.MeanQueueLength, true
		case "max_queue_length":
			return float64(sv.MaxQueueLength), true
		case "mean_queue_delay_ms":
			return sv.MeanQueueDelayMS, true
		case "p99_queue_delay_ms":
			return sv.P99QueueDelayMS, true
		case "max_queue_delay_ms":
			return sv.MaxQueueDelayMS, true
		case "utilization":
			return sv.Utilization, true
		}
	}
	return 0, false
}

// Metrics lists the metrics s has, in a fixed order: the summary's, then
// each server's.
func Metrics(s *results.Summary) []string {
	out := append([]string(nil), scenarios.Metrics...)
	for _, sv := range s.Servers {
		for _, f := range scenarios.ServerMetrics {
			out = append(out, fmt.Sprintf("servers[%s].%s", sv.Name, f))
		}
	}
	return out
}

// Health bounds what a trustworthy run looks like.
type Health struct {
	// MaxSendLagP99 is the load generator's highest acceptable send-lag
	// p99, in ms (real runs). Default 2.
	MaxSendLagP99 float64
	// MinCompleted is the fewest completed page requests a run needs to
	// judge anything. Default 100.
	MinCompleted int64
}

func (h *Health) fill() {
	if h.MaxSendLagP99 <= 0 {
		h.MaxSendLagP99 = 2
	}
	if h.MinCompleted <= 0 {
		h.MinCompleted = 100
	}
}

// Problems says why s cannot judge the system under test, or nil.
func (h Health) Problems(s *results.Summary) []string {
	h.fill()
	var out []string
	if s.Mode == results.Real && s.SendLagMS.P99 > h.MaxSendLagP99 {
		out = append(out, fmt.Sprintf("the load generator fell behind: send lag p99 %.3g ms > %g ms", s.SendLagMS.P99, h.MaxSendLagP99))
	}
	if s.Partial {
		out = append(out, fmt.Sprintf("the run was cut short (%.3g s measured)", s.DurationS))
	}
	if s.Requests.Completed < h.MinCompleted {
		out = append(out, fmt.Sprintf("only %d page requests completed (at least %d needed)", s.Requests.Completed, h.MinCompleted))
	}
	return out
}

// finite reports whether x is a usable number.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
