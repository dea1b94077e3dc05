package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

// simRecords runs a short simulation of the default scenario's base
// variant with records and returns its directory.
func simRecords(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sim")
	sc := load(t, "default", "duration=3s", "warmup=1s")
	if _, err := Run(context.Background(), sc, Options{Mode: Sim, Out: out, Variants: []string{"base"}}); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(out, "base")
}

// shardSpec says how to write one shard of a run's records.
type shardSpec struct {
	index, count int
	of           string                    // default results.ShardArrivals
	edit         func(*scenarios.Scenario) // changes the scenario the shard says it ran
	partial      bool                      // stopped early
	start        string                    // its given time zero (start.at), if any
	notStarted   bool                      // got no time zero: sent nothing
	empty        bool                      // kept no record
}

// writeShards reads src's records and writes, for each spec, a results
// directory (mode real, as loadgen --shard writes) holding the records
// whose id is the shard's (id mod count == index - 1), in src's order.
func writeShards(t *testing.T, src string, specs ...shardSpec) []string {
	t.Helper()
	sum, err := results.ReadSummary(src)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for k, sp := range specs {
		sc, err := scenarios.Load(filepath.Join(src, results.ScenarioFile))
		if err != nil {
			t.Fatal(err)
		}
		sc.Variant = sum.Variant
		if sp.edit != nil {
			sp.edit(sc)
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("shard-%d-%d", k, sp.index))
		rec, err := results.NewRecorder(sc, results.Real, results.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		rec.Describe(results.RunInfo{Shard: &results.Shard{Index: sp.index, Count: sp.count, Of: cmpOr(sp.of, results.ShardArrivals)}})
		if sp.start != "" {
			rec.Describe(results.RunInfo{Start: &results.Start{At: sp.start, By: "start-at"}})
		}
		if sp.notStarted {
			rec.NotStarted("the manager refused the token")
		}
		err = results.ReadRequests(src, func(q *results.Request) error {
			if sp.count > 0 && !sp.notStarted && !sp.empty && int(q.ID%uint64(sp.count)) == sp.index-1 {
				rec.Add(q)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if sp.partial {
			rec.Interrupt(2 * time.Second)
		}
		if _, err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestMergeIsOneGenerator: two shards of a run's records, merged, give
// exactly the summary and timeseries.csv of the whole run's records
// aggregated as one generator's (read back from the same requests.csv),
// and the same rows; against the run's own summary, from records at
// nanosecond resolution, the quantiles agree within the histogram's
// 0.1% plus requests.csv's microsecond rounding.
func TestMergeIsOneGenerator(t *testing.T) {
	src := simRecords(t)
	orig, err := results.ReadSummary(src)
	if err != nil {
		t.Fatal(err)
	}
	one := writeShards(t, src, shardSpec{index: 1, count: 1})[0]
	oneSum, err := results.ReadSummary(one)
	if err != nil {
		t.Fatal(err)
	}
	shards := writeShards(t, src, shardSpec{index: 2, count: 2}, shardSpec{index: 1, count: 2})
	out := filepath.Join(t.TempDir(), "merged")
	sum, err := Merge(context.Background(), shards, out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests.Sent != orig.Requests.Sent || sum.Requests.Sent < 1000 {
		t.Fatalf("merged %d requests, the run had %d", sum.Requests.Sent, orig.Requests.Sent)
	}
	if sum.Requests != oneSum.Requests || sum.LatencyMS != oneSum.LatencyMS || sum.Redirects != oneSum.Redirects ||
		sum.SendLagMS != oneSum.SendLagMS || sum.ThroughputRPS != oneSum.ThroughputRPS {
		t.Errorf("merged summary differs from one generator's:\nmerged %+v %+v %+v\none    %+v %+v %+v",
			sum.Requests, sum.LatencyMS, sum.Redirects, oneSum.Requests, oneSum.LatencyMS, oneSum.Redirects)
	}
	for _, f := range []string{results.TimeseriesFile, results.ScenarioFile} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(one, f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("merged %s differs from one generator's", f)
		}
	}
	lines := func(dir string) []string {
		data, err := os.ReadFile(filepath.Join(dir, results.RequestsFile))
		if err != nil {
			t.Fatal(err)
		}
		l := strings.Split(strings.TrimSpace(string(data)), "\n")
		slices.Sort(l)
		return l
	}
	if !slices.Equal(lines(out), lines(one)) {
		t.Errorf("merged requests.csv does not hold the run's rows")
	}
	close := func(name string, a, b float64) {
		if math.Abs(a-b) > 0.001*b+0.002 {
			t.Errorf("%s: merged %.3f ms, the run's own %.3f ms: beyond 0.1%% + 2µs", name, a, b)
		}
	}
	close("p50", sum.LatencyMS.P50, orig.LatencyMS.P50)
	close("p99", sum.LatencyMS.P99, orig.LatencyMS.P99)
	close("mean", sum.LatencyMS.Mean, orig.LatencyMS.Mean)
	if m := sum.Merge; m == nil || len(m.Shards) != 2 || m.Shards[0].Index != 1 || m.Shards[0].Sent+m.Shards[1].Sent != sum.Requests.Sent {
		t.Errorf("merge provenance %+v: want shards 1 and 2 whose sent add up to %d", m, sum.Requests.Sent)
	}
	if sum.Shard != nil {
		t.Errorf("a merge is not a shard: %+v", sum.Shard)
	}
	// These shards were given no time zero: the merge says so.
	if !slices.ContainsFunc(sum.Notes, func(n string) bool { return strings.Contains(n, "shard 1/2, 2/2 had no given time zero") }) {
		t.Errorf("notes %q: want one saying the shards had no common time zero", sum.Notes)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("no report drawn: %v", err)
	}
}

// TestMergeRefuses: shards that do not make one run, and directories
// that are not shards, are bad input with a message saying which and why.
func TestMergeRefuses(t *testing.T) {
	src := simRecords(t)
	s := writeShards(t, src, shardSpec{index: 1, count: 2}, shardSpec{index: 2, count: 2})
	odd := writeShards(t, src,
		shardSpec{index: 2, count: 2, edit: func(sc *scenarios.Scenario) { sc.Seed++ }},
		shardSpec{index: 2, count: 2, edit: func(sc *scenarios.Scenario) { sc.Policy.Threshold = scenarios.Threshold{Raw: "99", Count: 99} }},
		shardSpec{index: 2, count: 3},
		shardSpec{index: 2, count: 2, partial: true},
		shardSpec{index: 2, count: 2, of: results.ShardSweepPoints},
		shardSpec{index: 2, count: 2, edit: func(sc *scenarios.Scenario) { sc.Name = "other" }},
		shardSpec{index: 2, count: 2, notStarted: true},
		shardSpec{index: 2, count: 2, empty: true},
	)
	// The same run started twice, 42 s apart.
	apart := writeShards(t, src, shardSpec{index: 1, count: 2, start: "2026-12-01T21:00:00Z"},
		shardSpec{index: 2, count: 2, start: "2026-12-01T21:00:42Z"})
	noRecords := writeShards(t, src, shardSpec{index: 2, count: 2})[0]
	os.Remove(filepath.Join(noRecords, results.RequestsFile))
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"no directories", nil, "no shard directories"},
		{"a shard missing", []string{s[0]}, "shard 2/2 missing"},
		{"a shard twice", []string{s[0], s[0], s[1]}, "shard 1/2 given twice"},
		{"another seed", []string{s[0], odd[0]}, "seed 2, not 1"},
		{"other settings", []string{s[0], odd[1]}, "another scenario.yaml"},
		{"another shard count", []string{s[0], odd[2]}, "shard 2/3, not one of 2"},
		{"a partial shard", []string{s[0], odd[3]}, "stopped before its end"},
		{"a sweep's shard", []string{s[0], odd[4]}, "sweep's points"},
		{"another scenario", []string{s[0], odd[5]}, `scenario "other"`},
		{"no requests.csv", []string{s[0], noRecords}, "merging needs every record"},
		{"not results", []string{s[0], empty}, "no summary.json"},
		{"not a shard", []string{s[0], src}, "is not a shard"},
		// A shard that got no time zero: its empty counts are no share.
		{"a shard that never started", []string{s[0], odd[6]}, "never started its load"},
		// A shard that ran and sent nothing.
		{"a shard that sent nothing", []string{s[0], odd[7]}, "sent nothing"},
		// Time zeros 42 s apart: two starts, not a clock error.
		{"shards of different starts", apart, "42s apart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(context.Background(), tc.dirs, filepath.Join(t.TempDir(), "out"))
			var ie *InputError
			if err == nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Merge: %v, want bad input saying %q", err, tc.want)
			}
		})
	}
	// Time zeros 500 ms apart are one start read by clocks that
	// disagree: merged, with a note.
	near := writeShards(t, src, shardSpec{index: 1, count: 2, start: "2026-12-01T21:00:00Z"},
		shardSpec{index: 2, count: 2, start: "2026-12-01T21:00:00.5Z"})
	sum, err := Merge(context.Background(), near, filepath.Join(t.TempDir(), "near"))
	var ie *InputError
	if errors.As(err, &ie) || sum == nil || !slices.ContainsFunc(sum.Notes, func(n string) bool { return strings.Contains(n, "500.0 ms apart") }) {
		t.Errorf("time zeros 500 ms apart: %v, notes %v; want merged with a note", err, sum)
	}
}

// TestShardsStartTogether: two shards of a real run against two servers
// check in with a manager on 127.0.0.1, start on the one time zero it
// gives, and merge into exactly the schedule one generator (here its
// simulation) sends: every request id once.
func TestShardsStartTogether(t *testing.T) {
	var urls []string
	for i := range 2 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(loadgen.ServerHeader, fmt.Sprintf("web-%d", i+1))
			w.Write([]byte("page"))
		}))
		defer s.Close()
		urls = append(urls, s.URL)
	}
	file := filepath.Join(t.TempDir(), "pair.yaml")
	os.WriteFile(file, []byte(`name: pair
seed: 3
duration: 1s
warmup: 200ms
servers:
  - {name: web, count: 2, workers: 2, service: {dist: exp, mean: 1ms}}
workload:
  dispatch: random
  arrival: {process: poisson, rate: 300/s}
`), 0o644)
	sc, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	const token = "0123456789abcdef-test"
	m, err := server.NewManager(server.ManagerConfig{Scenario: sc, Token: token, StartLead: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	start := func(i int) StartFunc {
		return func(ctx context.Context, sc *scenarios.Scenario) (time.Time, results.Start, error) {
			cl := server.StartClient{ManagerURL: m.URL(), Token: token, Timeout: 5 * time.Second,
				CheckIn: server.StartCheckIn{Run: "pair", Shard: i, Shards: 2, Generator: fmt.Sprint(i)}}
			st, err := cl.Await(ctx)
			return st.At, results.Start{At: st.At.Format(time.RFC3339Nano), By: m.URL(), ClockOffsetMS: float64(st.Offset.Microseconds()) / 1e3}, err
		}
	}
	dirs := []string{filepath.Join(t.TempDir(), "s1"), filepath.Join(t.TempDir(), "s2")}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if k == 1 {
				time.Sleep(100 * time.Millisecond) // the manager holds the first
			}
			_, errs[k] = Run(context.Background(), sc, Options{Mode: Real, Out: dirs[k], Targets: urls,
				Shard: loadgen.Shard{Index: k + 1, Count: 2}, Start: start(k + 1), NoRecords: false})
		}()
	}
	wg.Wait()
	var ats []time.Time
	for k, d := range dirs {
		if errs[k] != nil {
			t.Fatalf("shard %d: %v", k+1, errs[k])
		}
		s, err := results.ReadSummary(d)
		if err != nil {
			t.Fatal(err)
		}
		if s.Start == nil || s.Shard == nil || s.Shard.Index != k+1 || s.Connections == nil {
			t.Fatalf("shard %d's summary: start %+v shard %+v connections %+v", k+1, s.Start, s.Shard, s.Connections)
		}
		at, err := time.Parse(time.RFC3339Nano, s.Start.At)
		if err != nil {
			t.Fatal(err)
		}
		ats = append(ats, at)
	}
	// One host, one clock: the two time zeros differ by the offsets
	// measured (well under a millisecond on loopback; 20 ms of slack for
	// a loaded machine).
	if d := ats[0].Sub(ats[1]).Abs(); d > 20*time.Millisecond {
		t.Errorf("the shards started %v apart: %v and %v", d, ats[0], ats[1])
	}
	simOut := filepath.Join(t.TempDir(), "sim")
	res, err := Run(context.Background(), sc, Options{Mode: Sim, Out: simOut, NoRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	want := res[0].Summary.Requests.Sent
	out := filepath.Join(t.TempDir(), "merged")
	sum, err := Merge(context.Background(), dirs, out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests.Sent != want {
		t.Errorf("merged %d requests, one generator's schedule has %d", sum.Requests.Sent, want)
	}
	for _, n := range sum.Notes {
		if strings.Contains(n, "time zero") {
			t.Errorf("shards that started together: note %q", n)
		}
	}
	ids := map[uint64]bool{}
	err = results.ReadRequests(out, func(q *results.Request) error {
		if ids[q.ID] {
			return fmt.Errorf("request %d twice", q.ID)
		}
		ids[q.ID] = true
		return nil
	})
	if err != nil || int64(len(ids)) != want {
		t.Errorf("merged requests.csv: %d distinct ids of %d (%v)", len(ids), want, err)
	}
}

// TestShardNotStarted: a shard that gets no time zero (here the manager
// refused it) writes a summary saying not_started, with why, and merge
// refuses it naming its directory.
func TestShardNotStarted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pair.yaml")
	os.WriteFile(file, []byte(`name: pair
duration: 1s
servers:
  - {name: web, count: 2, workers: 2, service: {dist: exp, mean: 1ms}}
workload:
  dispatch: random
  arrival: {process: poisson, rate: 100/s}
`), 0o644)
	sc, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	refused := func(context.Context, *scenarios.Scenario) (time.Time, results.Start, error) {
		return time.Time{}, results.Start{}, errors.New("start: the manager refused the token (401)")
	}
	var dirs []string
	for i := range 2 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("s", i+1))
		_, err := Run(context.Background(), sc, Options{Mode: Real, Out: dir, Targets: []string{"http://127.0.0.1:1", "http://127.0.0.1:2"},
			Shard: loadgen.Shard{Index: i + 1, Count: 2}, Start: refused})
		if err == nil {
			t.Fatal("a refused start ran")
		}
		s, err := results.ReadSummary(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !s.NotStarted || !slices.ContainsFunc(s.Notes, func(n string) bool { return strings.Contains(n, "refused the token") }) {
			t.Errorf("shard %d: not_started %v, notes %q; want not_started saying why", i+1, s.NotStarted, s.Notes)
		}
		dirs = append(dirs, dir)
	}
	_, err = Merge(context.Background(), dirs, filepath.Join(t.TempDir(), "out"))
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), dirs[0]+" is shard 1/2 that never started") {
		t.Errorf("merge: %v", err)
	}
}
