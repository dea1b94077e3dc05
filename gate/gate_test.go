package gate

import (
	"bytes"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// summary is a plausible sim summary; noise scales a seeded jitter.
func summary(seed uint64, p99 float64, noise float64) *results.Summary {
	r := rand.New(rand.NewPCG(seed, 9))
	j := func(x float64) float64 { return x * (1 + noise*(r.Float64()-0.5)) }
	return &results.Summary{
		Scenario: "t", Mode: results.Sim, Seed: seed, DurationS: 20,
		Requests:      results.RequestCounts{Sent: 22000, Completed: 22000},
		LatencyMS:     results.LatencyStats{Mean: j(20), P50: j(15), P90: j(40), P99: j(p99), P999: j(2 * p99), Max: j(3 * p99)},
		Redirects:     results.RedirectStats{Rate: j(0.2), Total: 4400},
		ThroughputRPS: 1100,
		Servers:       []results.ServerSummary{{Name: "web-1", Workers: 4, Served: 5500, Utilization: j(0.8)}},
	}
}

// TestMetricsCoverSummary: every number in summary.json is a metric
// thresholds and the gate can name, and every metric has a value.
func TestMetricsCoverSummary(t *testing.T) {
	var leaves []string
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, prefix string) {
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			switch f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, p)
			case reflect.Int, reflect.Int64, reflect.Float64:
				leaves = append(leaves, p)
			}
		}
	}
	walk(reflect.TypeOf(results.Summary{}), "")
	for _, l := range leaves {
		switch l {
		case "seed", "duration_s", "warmup_s": // the run's settings, not its measurements
			continue
		}
		if !slices.Contains(scenarios.Metrics, l) {
			t.Errorf("summary.json's %s is not in scenarios.Metrics", l)
		}
	}
	s := summary(1, 100, 0)
	for _, m := range Metrics(s) {
		if _, ok := Value(s, m); !ok {
			t.Errorf("no value for %s", m)
		}
	}
	var server []string
	walk = func(ty reflect.Type, _ string) {
		for i := 0; i < ty.NumField(); i++ {
			name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
			if k := ty.Field(i).Type.Kind(); (k == reflect.Int || k == reflect.Int64 || k == reflect.Float64) && name != "workers" {
				server = append(server, name)
			}
		}
	}
	walk(reflect.TypeOf(results.ServerSummary{}), "")
	if !slices.Equal(server, scenarios.ServerMetrics) {
		t.Errorf("server metrics %v, summary has %v", scenarios.ServerMetrics, server)
	}
	if v, ok := Value(s, "servers[web].utilization"); !ok || v != s.Servers[0].Utilization {
		t.Errorf("a group of one by its bare name: %v %v", v, ok)
	}
}

func limit(t *testing.T, metric, raw string) scenarios.Limit {
	t.Helper()
	l, err := scenarios.ParseLimit(metric, raw)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCheckLimits: one run against its value; replications against the
// confidence bound; a run whose generator fell behind is inconclusive.
func TestCheckLimits(t *testing.T) {
	one := []*results.Summary{summary(1, 100, 0)}
	for _, tc := range []struct {
		name string
		sums []*results.Summary
		l    scenarios.Limit
		want Verdict
	}{
		// 100 ms under 150 ms.
		{"under", one, limit(t, "latency_ms.p99", "< 150ms"), Pass},
		// 100 ms is not under 1 ms.
		{"over", one, limit(t, "latency_ms.p99", "< 1ms"), Fail},
		// A bound in seconds.
		{"seconds", one, limit(t, "latency_ms.p99", "< 10s"), Pass},
		// Equality on a count.
		{"equal", one, limit(t, "requests.rejected", "== 0"), Pass},
		// A lower bound.
		{"lower", one, limit(t, "throughput_rps", ">= 1200"), Fail},
		// Replications whose mean passes but whose spread reaches the threshold fail on the bound.
		{"ci bound", []*results.Summary{summary(1, 100, 0.6), summary(2, 100, 0.6), summary(3, 100, 0.6)}, limit(t, "latency_ms.p99", "< 110ms"), Fail},
		// The same replications pass a looser threshold.
		{"ci pass", []*results.Summary{summary(1, 100, 0.6), summary(2, 100, 0.6), summary(3, 100, 0.6)}, limit(t, "latency_ms.p99", "< 200ms"), Pass},
	} {
		got := CheckLimits("", []scenarios.Limit{tc.l}, tc.sums, Health{})
		if got[0].Verdict != tc.want {
			t.Errorf("%s: %v (%s), want %v", tc.name, got[0].Verdict, got[0].Why, tc.want)
		}
	}
	late := summary(1, 100, 0)
	late.Mode, late.SendLagMS.P99 = results.Real, 45
	got := CheckLimits("", []scenarios.Limit{limit(t, "latency_ms.p99", "< 1ms")}, []*results.Summary{late}, Health{})
	if got[0].Verdict != Inconclusive || !strings.Contains(got[0].Why, "send lag p99 45 ms > 2 ms") {
		t.Errorf("lagging generator: %v %q", got[0].Verdict, got[0].Why)
	}
	r := CheckLimits("", []scenarios.Limit{limit(t, "latency_ms.p99", "< 1ms")}, one, Health{})[0]
	if !strings.Contains(r.Why, "latency_ms.p99 is 100 ms, want < 1 ms: off by 99 ms, 9900.0%") {
		t.Errorf("miss: %q", r.Why)
	}
}

func runOf(name string, sums ...*results.Summary) Run { return Run{Name: name, Summaries: sums} }

// TestRegress: unchanged passes; 15% worse latencies fail naming p99;
// noise across seeds does not; exact catches any change.
func TestRegress(t *testing.T) {
	reps := func(p99, noise float64, seeds ...uint64) Run {
		var ss []*results.Summary
		for _, s := range seeds {
			ss = append(ss, summary(s, p99, noise))
		}
		return runOf("base", ss...)
	}
	worse := func(r Run, f float64) Run {
		out := Run{Name: r.Name}
		for _, s := range r.Summaries {
			c := *s
			c.LatencyMS.Mean *= f
			c.LatencyMS.P50 *= f
			c.LatencyMS.P90 *= f
			c.LatencyMS.P99 *= f
			c.LatencyMS.P999 *= f
			c.LatencyMS.Max *= f
			out.Summaries = append(out.Summaries, &c)
		}
		return out
	}
	base := reps(100, 0.1, 1, 2, 3, 4, 5)
	for _, tc := range []struct {
		name      string
		base, now Run
		opts      Options
		want      Verdict
		mention   string
	}{
		// The same run.
		{"unchanged", base, base, Options{}, Pass, ""},
		// Every latency 15% worse, paired by seed.
		{"15% worse", base, worse(base, 1.15), Options{}, Fail, "latency_ms.p99"},
		// Within a 20% tolerance.
		{"tolerated", base, worse(base, 1.15), Options{Tolerances: map[string]Tolerance{"latency_ms.mean": {0.2, true}, "latency_ms.p50": {0.2, true}, "latency_ms.p90": {0.2, true}, "latency_ms.p99": {0.2, true}, "latency_ms.p999": {0.2, true}, "latency_ms.max": {0.2, true}}}, Pass, ""},
		// Better is no regression.
		{"better", base, worse(base, 0.8), Options{}, Pass, ""},
		// Other seeds, same system: noise only, compared with Welch.
		{"other seeds", base, reps(100, 0.1, 11, 12, 13, 14, 15), Options{}, Pass, "Welch"},
		// One run each: the tolerance alone, said so.
		{"single", runOf("", summary(1, 100, 0)), runOf("", summary(1, 116, 0)), Options{}, Fail, "tolerance alone"},
		// Exact: a 0.1% change fails.
		{"exact", base, worse(base, 1.001), Options{Exact: true}, Fail, "exact"},
		// Exact on the same run passes.
		{"exact same", base, base, Options{Exact: true}, Pass, ""},
	} {
		rep, err := Regress([]Run{tc.base}, []Run{tc.now}, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var buf bytes.Buffer
		if err := rep.Write(&buf, "text", false); err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != tc.want || !strings.Contains(buf.String(), tc.mention) {
			t.Errorf("%s: %v, want %v mentioning %q:\n%s", tc.name, rep.Verdict, tc.want, tc.mention, buf.String())
		}
	}
}

// TestHolm: adjusted p-values by hand.
func TestHolm(t *testing.T) {
	cs := []Comparison{{Test: "t", P: 0.01}, {Test: "t", P: 0.04}, {Test: "t", P: 0.03}, {P: math.NaN(), PAdj: math.NaN()}}
	holm(cs, nil)
	// Sorted 0.01, 0.03, 0.04 times 3, 2, 1: 0.03, 0.06, 0.06 (monotone).
	for i, want := range []float64{0.03, 0.06, 0.06} {
		if math.Abs(cs[i].PAdj-want) > 1e-12 {
			t.Errorf("PAdj[%d] = %v, want %v", i, cs[i].PAdj, want)
		}
	}
	if !math.IsNaN(cs[3].PAdj) {
		t.Errorf("no test, yet PAdj %v", cs[3].PAdj)
	}
}

// TestPairedSharperThanWelch: the same differences, paired, are
// significant where unpaired they are not (common random numbers).
func TestPairedSharperThanWelch(t *testing.T) {
	a := []float64{100, 140, 90, 160, 120}
	b := make([]float64, len(a))
	for i := range a {
		b[i] = a[i] * 1.03
	}
	if p := pairedP(a, b); p > 0.01 {
		t.Errorf("paired p %v, want < 0.01", p)
	}
	if p := welchP(a, b); p < 0.5 {
		t.Errorf("Welch p %v, want > 0.5", p)
	}
}

// TestJUnit: the JUnit report parses as XML with the testsuites /
// testsuite / testcase structure CI systems read, failures counted.
func TestJUnit(t *testing.T) {
	base := runOf("base", summary(1, 100, 0))
	now := runOf("base", summary(1, 130, 0))
	rep, err := Regress([]Run{base}, []Run{now}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, "junit", false); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	if len(doc.Suites) != 1 || doc.Tests != len(rep.Comparisons) || doc.Suites[0].Tests != doc.Tests || doc.Failures == 0 {
		t.Fatalf("structure: %+v", doc)
	}
	failed := map[string]bool{}
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failed[c.Name] = true
		}
	}
	if !failed["latency_ms.p99"] || failed["throughput_rps"] {
		t.Errorf("failures %v", failed)
	}
}

// TestParseTolerances: percentages, amounts, and errors.
func TestParseTolerances(t *testing.T) {
	got, err := ParseTolerances("latency_ms.p99=10%, redirects.rate=0.02")
	if err != nil {
		t.Fatal(err)
	}
	if got["latency_ms.p99"] != (Tolerance{0.1, true}) || got["redirects.rate"] != (Tolerance{0.02, false}) {
		t.Errorf("%+v", got)
	}
	// No value, a negative, no number, no metric, a metric twice, a
	// change of a fraction beyond 1 (it could never fail).
	for _, bad := range []string{"p99", "p99=", "p99=-1", "p99=ten%", "=3", "latency_ms.p99=10%,latency_ms.p99=20%", "redirects.rate=2", "servers[web-1].utilization=5"} {
		if _, err := ParseTolerances(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestRegressRefusesOtherWorkload: a run whose mode, length, warmup or
// servers are not the baseline's is refused, naming what differs; a
// partial run's shorter length is not a difference.
func TestRegressRefusesOtherWorkload(t *testing.T) {
	base := []Run{runOf("", summary(1, 100, 0))}
	for _, tc := range []struct {
		name string
		edit func(*results.Summary)
		want string // in the error; "" for no error
	}{
		// Same workload: compared.
		{"same", func(*results.Summary) {}, ""},
		// Another mode.
		{"mode", func(s *results.Summary) { s.Mode = results.Real }, "a real run against a baseline of sim runs"},
		// Another length.
		{"duration", func(s *results.Summary) { s.DurationS = 10 }, "it ran 10s against a baseline of 20s"},
		// A partial run measured less: judged over what it measured.
		{"partial", func(s *results.Summary) { s.DurationS, s.Partial = 7.5, true }, ""},
		// Another warmup.
		{"warmup", func(s *results.Summary) { s.WarmupS = 2 }, "a warmup of 2s against a baseline's 0s"},
		// Another server count.
		{"servers", func(s *results.Summary) {
			s.Servers = append(s.Servers, results.ServerSummary{Name: "web-2", Workers: 4})
		}, "servers 2: web-1 (4 workers), web-2 (4 workers) against a baseline's 1: web-1 (4 workers)"},
		// Other workers.
		{"workers", func(s *results.Summary) { s.Servers[0].Workers = 8 }, "web-1 (8 workers)"},
	} {
		now := summary(1, 100, 0)
		tc.edit(now)
		_, err := Regress(base, []Run{runOf("", now)}, Options{})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
