package scenarios

import (
	"strings"
	"testing"
)

const withThresholds = `name: t
duration: 2s
servers:
  - {name: web, count: 2, service: {dist: exp, mean: 10ms}}
  - {name: slow, count: 1, service: {dist: exp, mean: 20ms}}
policy: {condition: queue-length, threshold: 4}
workload:
  arrival: {process: poisson, rate: 100/s}
thresholds:
  latency_ms.p99: "< 150ms"
  redirects.rate: "<= 0.25"
  requests.rejected: "== 0"
  servers[slow].utilization: "< 0.95"
variants:
  - name: no-redirect
    set: {policy.condition: none}
    thresholds: {latency_ms.p99: "< 3s", redirects.rate: "== 0"}
`

// TestThresholds: thresholds resolve to sorted limits; a variant's own
// override the base's by metric.
func TestThresholds(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(withThresholds))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := sc.Expand()
	if err != nil {
		t.Fatal(err)
	}
	str := func(ls []Limit) string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Metric+l.Op.String()+strings.TrimLeft(l.Raw, "<>=! "))
		}
		return strings.Join(out, " ")
	}
	if got, want := str(runs[0].Limits), "latency_ms.p99<150ms redirects.rate<=0.25 requests.rejected==0 servers[slow].utilization<0.95"; got != want {
		t.Errorf("base: %s\nwant %s", got, want)
	}
	if got, want := str(runs[1].Limits), "latency_ms.p99<3s redirects.rate==0 requests.rejected==0 servers[slow].utilization<0.95"; got != want {
		t.Errorf("variant: %s\nwant %s", got, want)
	}
	if l := runs[1].Limits[0]; l.Value != 3000 || l.Op != Less {
		t.Errorf("3s in ms: %+v", l)
	}
}

// TestThresholdErrors: each bad threshold is one error naming the file,
// line and field.
func TestThresholdErrors(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		// A metric the summary does not have.
		{"unknown metric", "latency_ms.p99:", "latency_ms.p95:", `t.yaml:10: thresholds.latency_ms.p95: unknown metric`},
		// A server the scenario does not have.
		{"unknown server", "servers[slow].utilization", "servers[fast].utilization", `t.yaml:13: thresholds.servers[fast].utilization: unknown server "fast"`},
		// A per-server field that does not exist.
		{"unknown server metric", "servers[slow].utilization", "servers[slow].p99", `unknown server metric "p99"`},
		// No operator.
		{"no operator", `"< 150ms"`, `"150ms"`, `thresholds.latency_ms.p99: "150ms": want an operator`},
		// An operator without a value.
		{"no value", `"< 150ms"`, `"<"`, `no value after <`},
		// A duration for a metric that is not in milliseconds.
		{"duration for a rate", `"<= 0.25"`, `"<= 25ms"`, `thresholds.redirects.rate: "<= 25ms": "25ms" is not a number`},
		// Not a duration either.
		{"bad duration", `"< 150ms"`, `"< soon"`, `neither a number of milliseconds nor a duration`},
		// A rate written as a percentage would always pass.
		{"rate beyond 1", `"<= 0.25"`, `"< 2"`, `thresholds.redirects.rate: "< 2": redirects.rate is a fraction from 0 to 1: write 0.02 for 2%`},
		// So would a utilization of 90.
		{"utilization beyond 1", `"< 0.95"`, `"< 90"`, `servers[slow].utilization is a fraction from 0 to 1`},
		// A count never equals a fraction: it would always fail.
		{"count == fraction", `"== 0"`, `"== 0.5"`, `thresholds.requests.rejected: "== 0.5": requests.rejected counts requests: == needs a whole number`},
		// Below zero never happens: every run would fail.
		{"below zero", `"< 150ms"`, `"< 0ms"`, `latency_ms.p99 is never below 0, so every run would fail`},
		// Nor does a rate above 1.
		{"rate above 1", `"<= 0.25"`, `"> 1"`, `redirects.rate is never above 1`},
		// No metric is negative.
		{"negative", `"< 150ms"`, `"< -5"`, `latency_ms.p99 is never negative`},
		// A variant's threshold is checked where it is written.
		{"variant", `{latency_ms.p99: "< 3s"`, `{latency_ms.p98: "< 3s"`, `t.yaml:17: variants[0].thresholds.latency_ms.p98: unknown metric`},
		// Thresholds are not a variant setting.
		{"set thresholds", `{policy.condition: none}`, `{policy.condition: none, thresholds.x: "< 1"}`, `a variant's thresholds go under its own thresholds key`},
	} {
		src := strings.Replace(withThresholds, tc.from, tc.to, 1)
		if src == withThresholds {
			t.Fatalf("%s: %q not in the scenario", tc.name, tc.from)
		}
		_, err := Parse("t.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestOpHolds: the operators at and around their value.
func TestOpHolds(t *testing.T) {
	for _, tc := range []struct {
		op   Op
		x    float64
		want bool
	}{
		{Less, 1, true},       // below
		{Less, 2, false},      // at the value
		{LessEq, 2, true},     // at the value, allowed
		{Greater, 2, false},   // at the value
		{GreaterEq, 2, true},  // at the value, allowed
		{Greater, 3, true},    // above
		{Equal, 2, true},      // equal
		{Equal, 2.001, false}, // not equal
	} {
		if got := tc.op.Holds(tc.x, 2); got != tc.want {
			t.Errorf("%v %s 2 = %v, want %v", tc.x, tc.op, got, tc.want)
		}
	}
}
