package results

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckRefusesImpossibleFigures: a summary whose figures no run can
// have is refused by ReadSummary as a BadFile, with an error naming the
// file and the field; the genuine summary it was edited from is read.
func TestCheckRefusesImpossibleFigures(t *testing.T) {
	sc := testScenario()
	_, workers := instances(sc)
	good := record(t, sc, Options{Dir: t.TempDir(), NoRecords: true}, randomRequests(sc, 3000, 11), samplesFor(sc, workers))
	if good.Requests.Completed == 0 || good.ThroughputRPS == 0 {
		t.Fatalf("setup: %+v", good.Requests)
	}
	for _, c := range []struct {
		name string
		edit func(s *Summary)
		want string // "" for a summary that must be read
	}{
		// The genuine summary, unchanged.
		{"genuine", func(s *Summary) {}, ""},
		// A median above the p90.
		{"p50 above p90", func(s *Summary) { s.LatencyMS.P50 = s.LatencyMS.P90 + 1 }, "latency_ms.p50"},
		// A p99 below the p90.
		{"p99 below p90", func(s *Summary) { s.LatencyMS.P99 = s.LatencyMS.P90 - 1 }, "latency_ms.p90"},
		// A p999 above the max.
		{"p999 above max", func(s *Summary) { s.LatencyMS.P999 = s.LatencyMS.Max + 0.5 }, "latency_ms.p999"},
		// A mean above the max.
		{"mean above max", func(s *Summary) { s.LatencyMS.Mean = s.LatencyMS.Max * 2 }, "latency_ms.mean"},
		// A mean one unit of its last decimal above the max it equals: rounding, read.
		{"mean rounded past max", func(s *Summary) { s.LatencyMS.Mean = s.LatencyMS.Max + 0.001 }, ""},
		// Percentiles equal to each other and to the max (one latency): read.
		{"all equal", func(s *Summary) { l := &s.LatencyMS; l.P50, l.P90, l.P99, l.P999 = l.Max, l.Max, l.Max, l.Max }, ""},
		// Out of order, but no completed request: all latencies are 0 then, not checked.
		{"nothing completed", func(s *Summary) {
			s.Requests.Errors += s.Requests.Completed
			s.Requests.Completed = 0
			s.ThroughputRPS = 0
			s.LatencyMS = LatencyStats{P50: 3}
		}, ""},
		// A server busier than all its workers.
		{"utilization above 1", func(s *Summary) { s.Servers[1].Utilization = 1.2 }, "servers[1].utilization 1.2 (web-2)"},
		// A negative utilization.
		{"utilization below 0", func(s *Summary) { s.Servers[0].Utilization = -0.1 }, "servers[0].utilization"},
		// Exactly 1: a saturated server, read.
		{"utilization 1", func(s *Summary) { s.Servers[0].Utilization = 1 }, ""},
		// A redirect rate above 1.
		{"redirect rate above 1", func(s *Summary) { s.Redirects.Rate = 1.5 }, "redirects.rate"},
		// A throughput twice completed / duration_s.
		{"throughput doubled", func(s *Summary) { s.ThroughputRPS *= 2 }, "throughput_rps"},
		// A throughput off by more than its rounding (3 decimals).
		{"throughput off by 0.01", func(s *Summary) { s.ThroughputRPS += 0.01 }, "throughput_rps"},
		// A throughput within its rounding: read.
		{"throughput within rounding", func(s *Summary) { s.ThroughputRPS += 0.0004 }, ""},
		// A negative count, named by its path.
		{"negative count", func(s *Summary) { s.Requests.Completed, s.Requests.Sent = -5, s.Requests.Sent-s.Requests.Completed-5 }, "requests.completed -5 is negative"},
		// A server that served less than nothing.
		{"negative served", func(s *Summary) { s.Servers[0].Served = -1 }, "servers[0].served -1 is negative (web-1)"},
		// A negative queue length.
		{"negative queue length", func(s *Summary) { s.Servers[1].MeanQueueLength = -3 }, "servers[1].mean_queue_length -3 is negative (web-2)"},
		// Requests redirected, but no redirect.
		{"rate without redirects", func(s *Summary) { s.Redirects.Rate, s.Redirects.Total = 0.2, 0 }, "redirects.total 0"},
		// A partial run stopped at its warmup's end: duration_s 0, throughput not checked.
		{"partial, no duration", func(s *Summary) { s.Partial, s.DurationS = true, 0 }, ""},
	} {
		s := *good
		s.Servers = append([]ServerSummary(nil), good.Servers...)
		c.edit(&s)
		dir := t.TempDir()
		if err := WriteSummary(dir, &s); err != nil {
			t.Fatal(err)
		}
		_, err := ReadSummary(dir)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want it read", c.name, err)
			}
			continue
		}
		var bad *BadFile
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Join(dir, SummaryFile)) || !errors.As(err, &bad) {
			t.Errorf("%s: error %v, want a BadFile naming %s and %q", c.name, err, filepath.Join(dir, SummaryFile), c.want)
		}
	}
}

// TestCheckAcceptsGenuineSummaries: what the aggregator writes passes
// Check whatever the run: short, partial at any moment (windows of a
// few microseconds included), with and without records of each
// outcome, and with samples that make a server read a little over
// fully busy (as a real server's late-read samples do).
func TestCheckAcceptsGenuineSummaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 300 {
		sc := testScenario()
		sc.Duration = time.Duration(1+rng.Int64N(int64(20*time.Second))) * time.Nanosecond
		a, err := NewAggregator(sc, Real)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range randomRequests(sc, rng.IntN(400), uint64(k)) {
			a.Add(&q)
		}
		_, workers := instances(sc)
		for _, s := range samplesFor(sc, workers) {
			if k%3 == 0 {
				s.BusyTime = sc.SampleInterval*time.Duration(workers[s.Server]) + time.Duration(rng.Int64N(int64(time.Millisecond)))
			}
			a.AddSample(&s)
		}
		if k%2 == 0 {
			a.Interrupt(sc.Warmup + time.Duration(rng.Int64N(int64(sc.Duration)+1)))
		}
		s, err := a.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Through the file, as readers see it.
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Summary
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if err := back.Check(); err != nil {
			t.Errorf("run %d (duration %v, partial %v): %v\n%s", k, sc.Duration, s.Partial, err, b)
		}
	}
}

// TestUtilizationAboveOneWrittenAsOne: samples whose busy time exceeds
// the time they cover (a real server's counters read a little after the
// tick) make a utilization of 1 and a note saying what they read.
func TestUtilizationAboveOneWrittenAsOne(t *testing.T) {
	sc := testScenario()
	_, workers := instances(sc)
	samples := samplesFor(sc, workers)
	for i := range samples {
		if samples[i].Server == 0 {
			samples[i].BusyTime = sc.SampleInterval*time.Duration(workers[0]) + 50*time.Microsecond
		}
	}
	s := record(t, sc, Options{Dir: t.TempDir(), NoRecords: true}, nil, samples)
	if s.Servers[0].Utilization != 1 {
		t.Errorf("utilization %g, want 1", s.Servers[0].Utilization)
	}
	if n := strings.Join(s.Notes, "\n"); strings.Count(n, "utilization") != 1 || !strings.Contains(n, "web-1: utilization 1.000125 by its samples, written as 1") {
		t.Errorf("notes %q, want one on web-1's utilization", s.Notes)
	}
	if s.Servers[1].Utilization != 0.2 {
		t.Errorf("web-2 utilization %g, want 0.2 as sampled", s.Servers[1].Utilization)
	}
}

// TestReadSummaryTypeErrors: a value of the wrong JSON kind is named by
// its path in summary.json and the kind wanted, in JSON's terms.
func TestReadSummaryTypeErrors(t *testing.T) {
	for _, c := range []struct {
		body, want string
	}{
		// A count given as a string.
		{`{"requests": {"completed": "many"}}`, "summary.json:1: requests.completed: want a whole number, got a string"},
		// A count with a fraction.
		{`{"requests": {"completed": 1.5}}`, "requests.completed: want a whole number, got 1.5"},
		// A negative seed.
		{`{"seed": -1}`, "seed: want a whole number, not negative, got -1"},
		// A latency given as a string, on the third line.
		{"{\n\"scenario\": \"x\",\n\"latency_ms\": {\"p99\": \"12ms\"}}", "summary.json:3: latency_ms.p99: want a number, got a string"},
		// A field of a list's element.
		{`{"servers": [{"name": 3}]}`, "servers[].name: want a string, got a number"},
		// A list given as an object.
		{`{"servers": {}}`, "servers: want a list, got an object"},
		// A list's element of the wrong kind.
		{`{"notes": [1]}`, "notes[]: want a string, got a number"},
		// An object given as a list.
		{`{"requests": []}`, "requests: want an object, got a list"},
		// A flag given as a number.
		{`{"partial": 1}`, "partial: want true or false, got a number"},
		// The mode given as a number.
		{`{"mode": 1}`, "mode: want a string, got a number"},
		// A field behind a pointer, in a list behind a pointer.
		{`{"merge": {"shards": [{"start": {"late_ms": true}}]}}`, "merge.shards[].start.late_ms: want a number, got true or false"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadSummary(dir)
		var bad *BadFile
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &bad) {
			t.Errorf("%s: error %v, want a BadFile containing %q", c.body, err, c.want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "Go ") || strings.Contains(msg, "int64") || strings.Contains(msg, "float64") || strings.Contains(msg, "results.") {
			t.Errorf("%s: %q names Go types", c.body, msg)
		}
	}
}
