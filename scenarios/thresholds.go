package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Op compares a run's metric with a threshold's value.
type Op uint8

const (
	Less Op = iota
	LessEq
	Greater
	GreaterEq
	Equal
)

var opNames = [...]string{"<", "<=", ">", ">=", "=="}

func (o Op) String() string { return opNames[o] }

// Holds reports whether x op value.
func (o Op) Holds(x, value float64) bool {
	switch o {
	case Less:
		return x < value
	case LessEq:
		return x <= value
	case Greater:
		return x > value
	case GreaterEq:
		return x >= value
	}
	return x == value
}

// Limit is one threshold of the scenario, resolved: the run passes when
// Metric Op Value holds (under replications, on the 95% confidence bound
// on the side that could fail it).
type Limit struct {
	// Metric is a summary.json path: latency_ms.p99, redirects.rate,
	// requests.rejected, servers[web-1].utilization, ...
	Metric string
	Op     Op
	// Value is in the metric's unit (milliseconds for _ms metrics).
	Value float64
	// Raw is the threshold as written, such as "< 150ms".
	Raw string
}

func (l Limit) String() string { return l.Metric + " " + l.Raw }

// Metrics are the summary.json paths a threshold or a regression gate
// may name, besides the per-server ones (ServerMetrics under
// servers[NAME]). A test in package results keeps them in step with the
// summary.
var Metrics = []string{
	"requests.sent", "requests.completed", "requests.errors", "requests.rejected", "requests.shed", "requests.timeouts", "requests.interrupted",
	"latency_ms.mean", "latency_ms.p50", "latency_ms.p90", "latency_ms.p99", "latency_ms.p999", "latency_ms.max",
	"redirects.rate", "redirects.total",
	"throughput_rps",
	"send_lag_ms.p50", "send_lag_ms.p99", "send_lag_ms.max",
}

// ServerMetrics are the per-server summary fields, named
// servers[NAME].FIELD.
var ServerMetrics = []string{
	"served", "redirected", "rejected", "mean_queue_length", "max_queue_length",
	"mean_queue_delay_ms", "p99_queue_delay_ms", "max_queue_delay_ms", "utilization",
}

// SplitServerMetric splits "servers[web-1].utilization" into the server
// name and field; ok is false for any other metric.
func SplitServerMetric(m string) (server, field string, ok bool) {
	rest, found := strings.CutPrefix(m, "servers[")
	if !found {
		return "", "", false
	}
	name, field, found := strings.Cut(rest, "].")
	if !found || name == "" {
		return "", "", false
	}
	return name, field, true
}

// checkMetric says what is wrong with a metric name for s, or "".
func (s *Scenario) checkMetric(m string) string {
	if slices.Contains(Metrics, m) {
		return ""
	}
	if name, field, ok := SplitServerMetric(m); ok {
		if _, ok := s.Lookup(name); !ok {
			return fmt.Sprintf("unknown server %q (servers: %s)", name, s.serverList(20))
		}
		if !slices.Contains(ServerMetrics, field) {
			return fmt.Sprintf("unknown server metric %q: one of %s", field, strings.Join(ServerMetrics, ", "))
		}
		return ""
	}
	return fmt.Sprintf("unknown metric: one of %s, or servers[NAME].FIELD", strings.Join(Metrics, ", "))
}

// ParseLimit reads a threshold such as "< 150ms" or ">= 0.9" for metric.
// The value is a number in the metric's unit; a metric in milliseconds
// (_ms) also takes a duration.
func ParseLimit(metric, raw string) (Limit, error) {
	l := Limit{Metric: metric, Raw: strings.TrimSpace(raw)}
	text := l.Raw
	found := false
	for _, op := range []Op{LessEq, GreaterEq, Equal, Less, Greater} { // two-character operators first
		if rest, ok := strings.CutPrefix(text, op.String()); ok {
			l.Op, text, found = op, strings.TrimSpace(rest), true
			break
		}
	}
	if !found {
		return l, fmt.Errorf("%q: want an operator (<, <=, >, >=, ==) and a value, such as \"< 150ms\"", raw)
	}
	if text == "" {
		return l, fmt.Errorf("%q: no value after %s", raw, l.Op)
	}
	if v, err := strconv.ParseFloat(text, 64); err == nil {
		if v != v || v > 1e300 || v < -1e300 {
			return l, fmt.Errorf("%q: the value must be a finite number", raw)
		}
		l.Value = v
		return l, l.checkRange(raw)
	}
	if !strings.Contains(metric, "_ms") {
		return l, fmt.Errorf("%q: %q is not a number", raw, text)
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return l, fmt.Errorf("%q: %q is neither a number of milliseconds nor a duration such as 150ms", raw, text)
	}
	l.Value = float64(d) / float64(time.Millisecond)
	return l, l.checkRange(raw)
}

// checkRange refuses a value the metric can never reach, so that the
// threshold would always pass or always fail whatever the run does: a
// negative one (no metric is), "< 0", a fraction beyond 1
// (redirects.rate of 2 meant 2%) or "> 1" on one, and == against a
// count with a fraction.
func (l Limit) checkRange(raw string) error {
	fraction := IsFraction(l.Metric)
	switch {
	case l.Value < 0:
		return fmt.Errorf("%q: %s is never negative", raw, l.Metric)
	case l.Value == 0 && l.Op == Less:
		return fmt.Errorf("%q: %s is never below 0, so every run would fail", raw, l.Metric)
	case fraction && l.Value > 1:
		return fmt.Errorf("%q: %s is a fraction from 0 to 1: write 0.02 for 2%%", raw, l.Metric)
	case fraction && l.Value == 1 && l.Op == Greater:
		return fmt.Errorf("%q: %s is never above 1, so every run would fail", raw, l.Metric)
	case l.Op == Equal && math.Trunc(l.Value) != l.Value && isCount(l.Metric):
		return fmt.Errorf("%q: %s counts requests: == needs a whole number", raw, l.Metric)
	}
	return nil
}

// IsFraction reports whether metric is a share from 0 to 1: the
// redirect rate and a server's utilization.
func IsFraction(metric string) bool {
	_, field, perServer := SplitServerMetric(metric)
	return metric == "redirects.rate" || (perServer && field == "utilization")
}

// isCount reports whether metric is a whole count of requests.
func isCount(metric string) bool {
	if _, field, ok := SplitServerMetric(metric); ok {
		return slices.Contains([]string{"served", "redirected", "rejected", "max_queue_length"}, field)
	}
	return strings.HasPrefix(metric, "requests.") || metric == "redirects.total"
}

// resolveThresholds checks the thresholds map at path and returns the
// limits, sorted by metric.
func (s *Scenario) resolveThresholds(r *reader, path string, m map[string]string) ([]Limit, error) {
	var out []Limit
	for _, k := range sortedKeys(m) {
		kp := joinPath(path, k)
		if why := s.checkMetric(k); why != "" {
			return nil, r.errf(kp, "%s", why)
		}
		l, err := ParseLimit(k, m[k])
		if err != nil {
			return nil, r.errf(kp, "%v", err)
		}
		out = append(out, l)
	}
	return out, nil
}
