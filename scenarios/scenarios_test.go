package scenarios

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string, sets ...string) *Scenario {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src), sets...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, base)
	web, slow := s.Servers[0], s.Servers[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"seed", s.Seed, uint64(1)},
		{"replications", s.Replications, 1},
		{"sample_interval", s.SampleInterval, 100 * time.Millisecond},
		{"slow.count", slow.Count, 1},
		{"web.workers as written", web.Workers, 4},
		{"queue_capacity", web.QueueCapacity, 1024},
		{"page_bytes", web.PageBytes, 2048},
		{"object_bytes", web.ObjectBytes, 8192},
		{"weight", web.Weight, 1.0},
		{"lognormal cv", slow.Service.CV, 1.0},
		{"exp cv untouched", web.Service.CV, 0.0},
		{"object service", web.ObjectService, Service{Dist: "const"}},
		{"report interval", *s.Manager.ReportInterval, 100 * time.Millisecond},
		{"decision", s.Manager.Decision, "local"},
		{"view ttl", s.Manager.ViewTTL, time.Second},
		{"expire", s.Manager.Expire, 300 * time.Millisecond},
		{"threshold", s.Policy.Threshold, Threshold{Raw: "8", Count: 8}},
		{"estimator", s.Policy.Estimator, "hol"},
		{"ewma weight", s.Policy.EWMAWeight, 0.1},
		{"target", s.Policy.Target, "least-loaded"},
		{"probe limit", s.Policy.ProbeLimit, 3},
		{"max hops", s.Policy.MaxHops, 1},
		{"fraction", *s.Policy.Fraction, 1.0},
		{"status", s.Policy.Status, 302},
		{"dispatch", s.Workload.Dispatch, "random"},
		{"rate", s.Workload.Arrival.Rate, Rate(900)},
		{"pages", s.Workload.Session.Pages, 1},
		{"timeout", s.Workload.Timeout, 10 * time.Second},
		{"max in flight", s.Workload.MaxInFlight, 10000},
		{"max redirects", s.Workload.MaxRedirects, 10},
		{"path", s.Workload.Path, "/page"},
		{"rtt", s.Network.RTT, 200 * time.Microsecond},
		{"file", s.File, "t.yaml"},
		{"variant", s.Variant, ""},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// The condition none leaves a threshold of either kind alone.
	s = mustParse(t, base, "policy.condition=none", "policy.threshold=40ms")
	if s.Policy.Threshold.Delay != 40*time.Millisecond {
		t.Errorf("threshold under none = %+v", s.Policy.Threshold)
	}
	// A name defaults to the file's base name.
	s2, err := Parse("dir/my-test.yaml", []byte(strings.Replace(base, "name: t\n", "", 1)))
	if err != nil || s2.Name != "my-test" {
		t.Errorf("default name: %v %v", s2, err)
	}
}

// TestExplicitZeros: a zero that is allowed keeps its meaning instead of
// turning into the default.
func TestExplicitZeros(t *testing.T) {
	s := mustParse(t, base, "manager.report_interval=0", "network.rtt=0", "seed=0", "servers[0].page_bytes=0")
	if s.Interval() != 0 || s.Manager.ReportInterval == nil {
		t.Errorf("report interval 0 = exact view, got %v", s.Manager.ReportInterval)
	}
	if s.Network.RTT != 0 || s.Seed != 0 || s.Servers[0].PageBytes != 0 {
		t.Errorf("explicit zeros lost: rtt %v seed %d page %d", s.Network.RTT, s.Seed, s.Servers[0].PageBytes)
	}
	// Without an interval the view lives at least 1s, expiry at least 300ms.
	if s.Manager.ViewTTL != time.Second || s.Manager.Expire != 300*time.Millisecond {
		t.Errorf("ttl %v expire %v", s.Manager.ViewTTL, s.Manager.Expire)
	}
	s = mustParse(t, base, "manager.report_interval=1s")
	if s.Manager.ViewTTL != 10*time.Second || s.Manager.Expire != 3*time.Second {
		t.Errorf("ttl %v expire %v for 1s reports", s.Manager.ViewTTL, s.Manager.Expire)
	}
}

func TestSet(t *testing.T) {
	cases := []struct {
		sets  []string
		check func(s *Scenario) bool
	}{
		// A count threshold.
		{[]string{"policy.threshold=4"}, func(s *Scenario) bool { return s.Policy.Threshold.Count == 4 }},
		// A rate.
		{[]string{"workload.arrival.rate=1.5k/s"}, func(s *Scenario) bool { return s.Workload.Arrival.Rate == 1500 }},
		// Per minute.
		{[]string{"workload.arrival.rate=54000/min"}, func(s *Scenario) bool { return s.Workload.Arrival.Rate == 900 }},
		// A top-level duration.
		{[]string{"duration=5s"}, func(s *Scenario) bool { return s.Duration == 5*time.Second }},
		// A list element by [index].
		{[]string{"servers[1].workers=8"}, func(s *Scenario) bool { return s.Servers[1].Workers == 8 }},
		// A list element by .index.
		{[]string{"servers.1.workers=8"}, func(s *Scenario) bool { return s.Servers[1].Workers == 8 }},
		// A field the file leaves out, inside a section it leaves out.
		{[]string{"manager.decision=central"}, func(s *Scenario) bool { return s.Manager.Decision == "central" }},
		// A field inside a flow mapping.
		{[]string{"servers[0].service.mean=5ms"}, func(s *Scenario) bool { return s.Servers[0].Service.Mean == 5*time.Millisecond }},
		// A whole mapping in flow syntax.
		{[]string{"servers[0].service={dist: const, mean: 3ms}"}, func(s *Scenario) bool {
			return reflect.DeepEqual(s.Servers[0].Service, Service{Dist: "const", Mean: 3 * time.Millisecond})
		}},
		// Condition and threshold switched together.
		{[]string{"policy.condition=queue-delay", "policy.threshold=40ms"}, func(s *Scenario) bool {
			return s.Policy.Condition == "queue-delay" && s.Policy.Threshold.Delay == 40*time.Millisecond
		}},
		// An empty value returns a field to its default.
		{[]string{"policy.target="}, func(s *Scenario) bool { return s.Policy.Target == "least-loaded" }},
		// A field set whole, then in part: the part wins within it.
		{[]string{"policy={condition: queue-length, threshold: 3, target: p2c}", "policy.threshold=5"}, func(s *Scenario) bool {
			return s.Policy.Threshold.Count == 5 && s.Policy.Target == "p2c"
		}},
		// A new list in flow syntax.
		{[]string{"faults=[{at: 2s, server: slow, action: crash}]"}, func(s *Scenario) bool {
			return len(s.Faults) == 1 && s.Faults[0].ServerIndex == 3
		}},
	}
	for _, c := range cases {
		s, err := Parse("t.yaml", []byte(base), c.sets...)
		if err != nil {
			t.Errorf("%v: %v", c.sets, err)
			continue
		}
		if !c.check(s) {
			t.Errorf("%v: not applied", c.sets)
		}
	}
}

// TestSetLeavesAliasesAlone: overriding a field reached through an alias
// changes that place only.
func TestSetLeavesAliasesAlone(t *testing.T) {
	src := strings.Replace(base, "service: {dist: exp, mean: 10ms}", "service: &svc {dist: exp, mean: 10ms}", 1)
	src = strings.Replace(src, "service: {dist: lognormal, mean: 20ms}", "service: *svc", 1)
	s := mustParse(t, src, "servers[1].service.mean=30ms")
	if s.Servers[0].Service.Mean != 10*time.Millisecond || s.Servers[1].Service.Mean != 30*time.Millisecond {
		t.Errorf("means %v %v", s.Servers[0].Service.Mean, s.Servers[1].Service.Mean)
	}
}

const withVariants = base + `variants:
  - {name: no-redirect, set: {policy.condition: none}}
  - name: delay
    set: {policy.condition: queue-delay, policy.threshold: 40ms}
  - {name: busy, set: {workload.arrival.rate: 1000/s, manager.report_interval: 0}}
`

func TestExpand(t *testing.T) {
	s := mustParse(t, withVariants, "duration=4s")
	if s.Variant != "base" || len(s.Variants) != 3 {
		t.Fatalf("loaded: variant %q, %d variants", s.Variant, len(s.Variants))
	}
	all, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range all {
		names = append(names, v.Variant)
		if v.Variants != nil {
			t.Errorf("%s keeps its variants", v.Variant)
		}
		if v.Seed != s.Seed || v.Duration != 4*time.Second || v.Name != "t" {
			t.Errorf("%s: seed %d duration %v name %s: --set and the shared settings must carry over", v.Variant, v.Seed, v.Duration, v.Name)
		}
	}
	if got := strings.Join(names, ","); got != "base,no-redirect,delay,busy" {
		t.Errorf("order %s", got)
	}
	if p := all[0].Policy; p.Condition != "queue-length" || p.Threshold.Count != 8 {
		t.Errorf("base policy %+v", p)
	}
	if all[1].Policy.Condition != "none" {
		t.Errorf("no-redirect: %s", all[1].Policy.Condition)
	}
	if p := all[2].Policy; p.Condition != "queue-delay" || p.Threshold.Delay != 40*time.Millisecond {
		t.Errorf("delay policy %+v", p)
	}
	if all[3].Workload.Arrival.Rate != 1000 || all[3].Interval() != 0 {
		t.Errorf("busy: rate %v interval %v", all[3].Workload.Arrival.Rate, all[3].Interval())
	}
	if !reflect.DeepEqual(all[0].Workload, all[1].Workload) {
		t.Errorf("variants must share the workload")
	}
	// Expanding twice gives the same scenarios.
	again, _ := s.Expand()
	for i := range all {
		a, _ := all[i].YAML()
		b, _ := again[i].YAML()
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between expansions", all[i].Variant)
		}
	}
}

func TestExpandWithoutVariants(t *testing.T) {
	s := mustParse(t, base)
	all, err := s.Expand()
	if err != nil || len(all) != 1 || all[0] != s || s.Variant != "" {
		t.Fatalf("got %v %v", all, err)
	}
}

// TestExpandBuiltInCode: a scenario built in code (no source) expands via
// its canonical YAML.
func TestExpandBuiltInCode(t *testing.T) {
	s := mustParse(t, withVariants)
	c := *s
	c.src = nil
	all, err := c.Expand()
	if err != nil || len(all) != 4 || all[2].Policy.Threshold.Delay != 40*time.Millisecond {
		t.Fatalf("got %d scenarios, %v", len(all), err)
	}
}

func TestInstancesAndLookup(t *testing.T) {
	s := mustParse(t, base)
	ins := s.Instances()
	var names []string
	for i, in := range ins {
		if in.Index != i {
			t.Errorf("%s has index %d at %d", in.Name, in.Index, i)
		}
		names = append(names, in.Name)
	}
	if got := strings.Join(names, ","); got != "web-1,web-2,web-3,slow-1" {
		t.Errorf("instances %s", got)
	}
	if ins[3].Group != &s.Servers[1] {
		t.Errorf("instance group does not point into the scenario")
	}
	cases := []struct {
		name string
		want int
		ok   bool
	}{
		{"web-1", 0, true},    // first instance
		{"web-3", 2, true},    // last of the group
		{"slow", 3, true},     // bare name of a group of one
		{"slow-1", 3, true},   // its instance name
		{"web", -1, false},    // bare name of a group of three
		{"web-4", -1, false},  // beyond the group
		{"web-0", -1, false},  // instances count from 1
		{"web-01", -1, false}, // not the canonical spelling
		{"", -1, false},       // no name
	}
	for _, c := range cases {
		i, ok := s.Lookup(c.name)
		if i != c.want || ok != c.ok {
			t.Errorf("Lookup(%q) = %d %v, want %d %v", c.name, i, ok, c.want, c.ok)
		}
	}
}

// sameScenario compares the exported contents of two scenarios.
func sameScenario(a, b *Scenario) bool {
	x, y := *a, *b
	x.src, y.src = nil, nil
	x.from, y.from = nil, nil
	return reflect.DeepEqual(x, y)
}

// TestRoundTrip: the canonical YAML decodes to the same scenario and
// encodes to the same text, for every embedded scenario and variant.
func TestRoundTrip(t *testing.T) {
	for _, info := range Embedded() {
		s, err := Load(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.Expand()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range append([]*Scenario{s}, all...) {
			y, err := v.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := parse(&source{file: v.File, data: y, open: v.src.open})
			if err != nil {
				t.Fatalf("%s/%s: %v\n%s", info.Name, v.Variant, err, y)
			}
			back.Variant = v.Variant
			if !sameScenario(v, back) {
				t.Errorf("%s/%s: decoded canonical YAML differs", info.Name, v.Variant)
			}
			y2, _ := back.YAML()
			if !bytes.Equal(y, y2) {
				t.Errorf("%s/%s: canonical YAML is not stable:\n%s\n---\n%s", info.Name, v.Variant, y, y2)
			}
		}
	}
	// Explicit zeros and unusual values survive too.
	s := mustParse(t, base, "seed=0", "network.rtt=0", "manager.report_interval=0", "servers[0].weight=0",
		"workload.arrival={process: ramp, from: 0, to: 50/s}", "servers[1].service={dist: pareto, max: 1s, mean: 20ms}",
		"faults=[{at: 0s, action: lost-reports}]", "description=yes: a \"quoted\" # text")
	y, _ := s.YAML()
	back, err := Parse("t.yaml", y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if !sameScenario(s, back) {
		t.Errorf("round trip differs:\n%s", y)
	}
}

func TestEmbedded(t *testing.T) {
	infos := Embedded()
	if len(infos) < 6 {
		t.Fatalf("%d embedded scenarios, want at least 6", len(infos))
	}
	for _, want := range []string{"default", "flash-crowd", "slow-server", "server-crash", "stale-status", "length-vs-delay"} {
		found := false
		for _, in := range infos {
			found = found || in.Name == want
		}
		if !found {
			t.Errorf("no embedded %s", want)
		}
	}
	for _, in := range infos {
		if !strings.Contains(in.Description, "?") {
			t.Errorf("%s: the description should state the question it answers: %q", in.Name, in.Description)
		}
		s, err := Load(in.Name)
		if err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
		if s.Name != in.Name || s.File != "embedded:"+in.Name {
			t.Errorf("%s: name %q file %q", in.Name, s.Name, s.File)
		}
		all, err := s.Expand()
		if err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
		// Real runs of a scenario and its variants must stay short (two
		// minutes: default and length-vs-delay carry the shed and
		// adaptive baselines beside their redirect policies).
		var wall time.Duration
		for _, v := range all {
			wall += v.Warmup + v.Duration
		}
		if wall > 120*time.Second {
			t.Errorf("%s: %v of run time over its variants, want at most 120s", in.Name, wall)
		}
	}
	if s, err := Load(""); err != nil || s.Name != "default" {
		t.Errorf(`Load("") = %v, %v`, s, err)
	}
}

// TestDefaultLoad checks the numbers the default scenario's description
// states: about 79% of the cluster's capacity, 137.5% of the slow server's.
func TestDefaultLoad(t *testing.T) {
	s, err := Load("default")
	if err != nil {
		t.Fatal(err)
	}
	var capacity float64
	for _, in := range s.Instances() {
		capacity += float64(in.Group.Workers) / in.Group.Service.Mean.Seconds()
	}
	rho := float64(s.Workload.Arrival.Rate) / capacity
	if rho < 0.76 || rho > 0.82 {
		t.Errorf("default load %.2f, want about 0.79", rho)
	}
	slow := s.Servers[1]
	perServer := float64(s.Workload.Arrival.Rate) / float64(len(s.Instances()))
	if got := perServer * slow.Service.Mean.Seconds() / float64(slow.Workers); math.Abs(got-1.375) > 1e-9 {
		t.Errorf("slow server offered %.3f of its capacity, want 1.375", got)
	}
	if i, ok := s.Lookup("web-2"); !ok || s.Faults[0].ServerIndex != i {
		t.Errorf("fault server index %d", s.Faults[0].ServerIndex)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "d", "svc.csv"), []byte("ms\n1\n3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "d", "arrivals.csv"), []byte("# offsets\n0\n0.5\n1.5s\n"), 0o644)
	src := strings.Replace(base, "{dist: lognormal, mean: 20ms}", "{dist: empirical, file: d/svc.csv}", 1)
	src = strings.Replace(src, "{process: poisson, rate: 900/s}", "{process: trace, file: d/arrivals.csv}", 1)
	path := filepath.Join(dir, "s.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	s, err := Load(path, "duration=3s")
	if err != nil {
		t.Fatal(err)
	}
	svc := s.Servers[1].Service
	if !reflect.DeepEqual(svc.Samples, []time.Duration{time.Millisecond, 3 * time.Millisecond}) || svc.Mean != 2*time.Millisecond {
		t.Errorf("samples %v mean %v", svc.Samples, svc.Mean)
	}
	if want := []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond}; !reflect.DeepEqual(s.Workload.Arrival.Offsets, want) {
		t.Errorf("offsets %v", s.Workload.Arrival.Offsets)
	}
	if s.File != path || s.Duration != 3*time.Second {
		t.Errorf("file %s duration %v", s.File, s.Duration)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "embedded scenarios: bursty") {
		t.Errorf("missing file: %v", err)
	}
	_, err = Load("no-such-scenario")
	if e, ok := err.(*Error); !ok || e.File != "no-such-scenario" {
		t.Errorf("unknown name: %v", err)
	}
}

func TestParseTrace(t *testing.T) {
	cases := []struct {
		text string
		want []time.Duration
	}{
		// Seconds, durations, a header, comments and blank lines.
		{"offset,path\n# c\n0.0\n\n0.0123,/a\n12.3ms\n1s\n", []time.Duration{0, 12300 * time.Microsecond, 12300 * time.Microsecond, time.Second}},
		// A common log: three requests in the first second are spread
		// across it; the out-of-order one is sorted.
		{`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326
1.2.3.4 - - [10/Oct/2000:13:55:38 -0700] "GET / HTTP/1.0" 200 2326
1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "http://x/" "Mozilla/4.08"
1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326
`, []time.Duration{0, time.Second / 3, 2 * time.Second / 3, 2 * time.Second}},
	}
	for _, c := range cases {
		got, line, msg := parseTrace([]byte(c.text))
		if msg != "" || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %v (%d: %s), want %v", c.text, got, line, msg, c.want)
		}
	}
	if _, _, msg := parseTrace([]byte("# only comments\n")); msg != "no arrivals in file" {
		t.Errorf("empty trace: %q", msg)
	}
	if _, line, msg := parseTrace([]byte("0.1\n-2\n")); line != 2 || !strings.Contains(msg, "out of range") {
		t.Errorf("negative offset: %d %q", line, msg)
	}
}

func TestParseSamples(t *testing.T) {
	got, _, msg := parseSamples([]byte("service_ms\n1.5\n2ms, x\n# c\n250us\n"))
	want := []time.Duration{1500 * time.Microsecond, 2 * time.Millisecond, 250 * time.Microsecond}
	if msg != "" || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %q", got, msg)
	}
	if _, _, msg := parseSamples(nil); msg == "" {
		t.Error("empty samples accepted")
	}
}

func TestParseRate(t *testing.T) {
	cases := []struct {
		in   string
		want Rate
		ok   bool
	}{
		{"900/s", 900, true},        // per second
		{"54000/min", 900, true},    // per minute
		{"1.5k/s", 1500, true},      // thousands
		{"2M/h", 2e6 / 3600, true},  // millions per hour
		{"1/ms", 1000, true},        // per millisecond
		{" 900 / s ", 900, true},    // spaces around the slash
		{"0", 0, true},              // zero needs no unit
		{"900", 0, false},           // bare number
		{"-1/s", 0, false},          // negative
		{"NaN/s", 0, false},         // not a number
		{"inf/s", 0, false},         // infinite
		{"900/fortnight", 0, false}, // unknown unit
	}
	for _, c := range cases {
		got, msg := parseRate(c.in)
		if (msg == "") != c.ok || (c.ok && math.Abs(float64(got-c.want)) > 1e-9) {
			t.Errorf("parseRate(%q) = %v %q", c.in, got, msg)
		}
	}
}

// TestParetoFill: whatever pair of parameters is given, the filled-in
// bounded Pareto has the stated mean (property against the closed form,
// within 0.1% of rounding to whole nanoseconds).
func TestParetoFill(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		alpha := 0.5 + 2.5*r.Float64()
		mean := time.Duration(1e6 + r.Float64()*5e7)
		sets := []string{"servers[1].service={dist: pareto, alpha: " + fmtFloat(alpha) + ", mean: " + fmtDuration(mean) + "}"}
		if i%2 == 1 {
			sets[0] = strings.Replace(sets[0], "}", ", max: "+fmtDuration(100*mean)+"}", 1)
		}
		s, err := Parse("t.yaml", []byte(base), sets...)
		if err != nil {
			t.Fatal(err)
		}
		svc := s.Servers[1].Service
		got := paretoMean(float64(svc.Min), float64(svc.Max), svc.Alpha)
		if math.Abs(got-float64(mean)) > 1e-3*float64(mean) || svc.Min >= svc.Max {
			t.Fatalf("alpha %g mean %v: min %v max %v give mean %v", alpha, mean, svc.Min, svc.Max, time.Duration(got))
		}
	}
}

func fmtFloat(f float64) string { return strings.TrimRight(strings.TrimRight(strconvF(f), "0"), ".") }

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// TestSampleIntervalDefault: the scenario says whether sample_interval
// was given (in the file or by an override, even at the default's value),
// and its canonical YAML keeps the difference.
func TestSampleIntervalDefault(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *Scenario
		want bool
	}{
		{"absent", mustParse(t, base), true},
		{"set", mustParse(t, base, "sample_interval=100ms"), false},
		{"in the file", mustParse(t, base+"sample_interval: 100ms\n"), false},
	} {
		if c.s.SampleIntervalDefault != c.want || c.s.SampleInterval != 100*time.Millisecond {
			t.Errorf("%s: default %v, interval %v; want %v, 100ms", c.name, c.s.SampleIntervalDefault, c.s.SampleInterval, c.want)
		}
		y, err := c.s.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(y), "sample_interval:"); got == c.want {
			t.Errorf("%s: canonical YAML has sample_interval %v", c.name, got)
		}
		back, err := Parse("t.yaml", y)
		if err != nil || back.SampleIntervalDefault != c.want {
			t.Errorf("%s: read back: default %v, %v", c.name, back.SampleIntervalDefault, err)
		}
	}
}
