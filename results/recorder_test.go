package results

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redirlab/redirlab/scenarios"
)

// testScenario has four servers (web-1..3 with 4 workers, slow-1 with 2),
// 2 s of warmup and 10 s measured.
func testScenario() *scenarios.Scenario {
	return &scenarios.Scenario{
		Name:           "unit",
		Seed:           7,
		Duration:       10 * time.Second,
		Warmup:         2 * time.Second,
		SampleInterval: 100 * time.Millisecond,
		Servers: []scenarios.ServerGroup{
			{Name: "web", Count: 3, Workers: 4},
			{Name: "slow", Count: 1, Workers: 2},
		},
	}
}

func newTestRecorder(t testing.TB, sc *scenarios.Scenario, opts Options) *Recorder {
	t.Helper()
	r, err := NewRecorder(sc, Sim, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustClose(t testing.TB, r *Recorder) *Summary {
	t.Helper()
	s, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// randomRequests makes n requests scheduled over the scenario's whole run
// (warmup included) with every outcome, redirects, hops and objects. Times
// are whole microseconds so that a CSV round trip is exact.
func randomRequests(sc *scenarios.Scenario, n int, seed uint64) []Request {
	rng := rand.New(rand.NewPCG(seed, 1))
	servers := 4
	span := int64((sc.Warmup + sc.Duration) / time.Microsecond)
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	qs := make([]Request, n)
	for i := range qs {
		q := &qs[i]
		q.ID = uint64(i)
		q.Scheduled = us(rng.Int64N(span))
		q.Sent = q.Scheduled + us(rng.Int64N(50))
		q.First = rng.IntN(servers)
		at := q.Sent
		redirects := 0
		if rng.IntN(4) == 0 {
			redirects = 1 + rng.IntN(2)
		}
		server := q.First
		for h := 0; h < redirects; h++ {
			at += us(100 + rng.Int64N(400))
			q.AddHop(Hop{Server: int16(server), Status: 302, At: at})
			server = (server + 1 + rng.IntN(servers-1)) % servers
		}
		q.Redirects = redirects
		q.Final = server
		at += us(1 + int64(rng.ExpFloat64()*10000))
		q.Done = at
		switch k := rng.IntN(20); {
		case k == 0:
			q.Outcome, q.Status = Rejected, 503
			q.AddHop(Hop{Server: int16(server), Status: 503, At: at})
		case k == 1:
			q.Outcome, q.Status, q.Final = Error, 0, -1
			q.AddHop(Hop{Server: -1, Status: 0, At: at})
		case k == 2:
			q.Outcome, q.Status = Timeout, 0
			q.Done = q.Scheduled + 10*time.Second
		default:
			q.Outcome, q.Status = Completed, 200
			q.AddHop(Hop{Server: int16(server), Status: 200, At: at})
			if rng.IntN(3) == 0 {
				q.Objects = 1 + rng.IntN(4)
				q.ObjectsDone = at + us(200+rng.Int64N(2000))
			}
		}
	}
	// Records arrive roughly in completion order, as from the simulator.
	slices.SortStableFunc(qs, func(a, b Request) int { return int(a.Done - b.Done) })
	return qs
}

// samplesFor makes every server's samples each sample interval over the
// run, with busy time making the utilisation of server i exactly
// (i+1)/10 in the measured window.
func samplesFor(sc *scenarios.Scenario, workers []int) []ServerSample {
	var out []ServerSample
	for at := sc.SampleInterval; at <= sc.Warmup+sc.Duration; at += sc.SampleInterval {
		for i := range workers {
			out = append(out, ServerSample{
				At: at, Server: i,
				QueueLength: int(at/sc.SampleInterval)%7 + i, InService: min(i+1, workers[i]),
				// Varying by tick, with microsecond parts, so that its p99 is not its max.
				QueueDelay: time.Duration(i)*time.Millisecond + time.Duration(int(at/sc.SampleInterval)*7919%101)*173*time.Microsecond,
				Served:     10 + i, Redirected: i, Rejected: i / 2, Up: i != 2,
				ReportedQueueLength: i, ReportedQueueDelay: 1500 * time.Microsecond,
				BusyTime: sc.SampleInterval * time.Duration(workers[i]) * time.Duration(i+1) / 10,
			})
		}
	}
	return out
}

func record(t testing.TB, sc *scenarios.Scenario, opts Options, qs []Request, samples []ServerSample) *Summary {
	t.Helper()
	r := newTestRecorder(t, sc, opts)
	for i := range qs {
		r.Add(&qs[i])
	}
	for i := range samples {
		r.AddSample(&samples[i])
	}
	return mustClose(t, r)
}

// TestQuantilesExponential checks the summary's latency figures against
// the closed form of the exponential distribution, F^-1(p) = -m ln(1-p).
// Tolerance: 4 standard deviations of the sample quantile, whose
// asymptotic s.d. is m·sqrt(p/((1-p)n)) (m/sqrt(n) for the mean), plus the
// histogram's 0.1% resolution and the 1µs rounding of summary.json.
func TestQuantilesExponential(t *testing.T) {
	const n = 400_000
	const m = 10 * time.Millisecond
	sc := testScenario()
	r := newTestRecorder(t, sc, Options{})
	rng := rand.New(rand.NewPCG(42, 0))
	for i := range n {
		lat := time.Duration(rng.ExpFloat64() * float64(m))
		sched := sc.Warmup + time.Duration(i)*sc.Duration/n
		r.Add(&Request{ID: uint64(i), Scheduled: sched, Sent: sched, Done: sched + lat, Status: 200})
	}
	s := mustClose(t, r)
	mMS := float64(m) / 1e6
	check := func(name string, got, want, sd float64) {
		t.Helper()
		tol := 4*sd + want*0.001 + 0.001
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4f ms, closed form %.4f ms, tolerance %.4f", name, got, want, tol)
		}
	}
	check("mean", s.LatencyMS.Mean, mMS, mMS/math.Sqrt(n))
	for _, c := range []struct {
		name string
		p    float64
		got  float64
	}{
		{"p50", 0.5, s.LatencyMS.P50},
		{"p90", 0.9, s.LatencyMS.P90},
		{"p99", 0.99, s.LatencyMS.P99},
		{"p99.9", 0.999, s.LatencyMS.P999},
	} {
		check(c.name, c.got, -mMS*math.Log(1-c.p), mMS*math.Sqrt(c.p/((1-c.p)*n)))
	}
	if s.Requests.Completed != n || s.ThroughputRPS != n/sc.Duration.Seconds() {
		t.Errorf("completed %d, throughput %v; want %d, %v", s.Requests.Completed, s.ThroughputRPS, n, n/sc.Duration.Seconds())
	}
}

// naiveQuantile is the reference: sort and take the value at rank
// round(p·n) (at least 1), the rank rule HdrHistogram uses.
func naiveQuantile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p*float64(len(sorted)) + 0.5)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// TestQuantilesMatchNaive is a property test: on random samples of several
// shapes and sizes, the recorder's quantiles, mean and max agree with a
// sort of all samples within the histogram's resolution (one bucket:
// 512 ns below 1 ms, value/1024 above) plus 1µs of rounding.
func TestQuantilesMatchNaive(t *testing.T) {
	shapes := []struct {
		name string
		draw func(r *rand.Rand) time.Duration
	}{
		// Sub-millisecond values, where resolution is absolute (512 ns).
		{"uniform-0-1ms", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(time.Millisecond))) }},
		// Heavy tail over six decades.
		{"lognormal", func(r *rand.Rand) time.Duration {
			return time.Duration(math.Exp(r.NormFloat64()*2) * float64(5*time.Millisecond))
		}},
		// Two modes far apart, as with a slow server.
		{"bimodal", func(r *rand.Rand) time.Duration {
			if r.IntN(10) == 0 {
				return time.Duration(r.Int64N(int64(time.Second)))
			}
			return time.Duration(r.Int64N(int64(5 * time.Millisecond)))
		}},
	}
	for _, sh := range shapes {
		for _, n := range []int{1, 2, 17, 1000, 50_000} {
			rng := rand.New(rand.NewPCG(uint64(n), 3))
			sc := testScenario()
			r := newTestRecorder(t, sc, Options{})
			lats := make([]time.Duration, n)
			var sum float64
			for i := range lats {
				lats[i] = sh.draw(rng)
				sum += float64(lats[i])
				r.Add(&Request{Scheduled: sc.Warmup, Sent: sc.Warmup, Done: sc.Warmup + lats[i]})
			}
			s := mustClose(t, r)
			slices.Sort(lats)
			for _, c := range []struct {
				p   float64
				got float64
			}{{0.5, s.LatencyMS.P50}, {0.9, s.LatencyMS.P90}, {0.99, s.LatencyMS.P99}, {0.999, s.LatencyMS.P999}} {
				want := naiveQuantile(lats, c.p)
				tol := max(512*time.Nanosecond, want/1024) + time.Microsecond
				if got := time.Duration(c.got * 1e6); got < want-time.Microsecond || got > want+tol {
					t.Errorf("%s n=%d p%v: got %v, naive %v, tolerance +%v", sh.name, n, c.p*100, got, want, tol)
				}
			}
			if got, want := s.LatencyMS.Max, ms(lats[n-1]); got != want {
				t.Errorf("%s n=%d: max %v, want %v", sh.name, n, got, want)
			}
			if got, want := s.LatencyMS.Mean, msFloat(sum/float64(n)); math.Abs(got-want) > 0.0011 {
				t.Errorf("%s n=%d: mean %v, want %v", sh.name, n, got, want)
			}
		}
	}
}

// TestSummaryByteIdentical: the same inputs give the same summary.json
// bytes, and so does the same set of records added in another order (as
// concurrent browsers do in real runs).
func TestSummaryByteIdentical(t *testing.T) {
	sc := testScenario()
	_, workers := instances(sc)
	qs := randomRequests(sc, 20_000, 1)
	samples := samplesFor(sc, workers)
	var got [3][]byte
	for i := range got {
		dir := t.TempDir()
		in := slices.Clone(qs)
		if i == 2 {
			// Local disorder, tens of milliseconds, as concurrent
			// browsers finishing together produce.
			rng := rand.New(rand.NewPCG(9, 9))
			for a := range in {
				if b := a + rng.IntN(50); b < len(in) {
					in[a], in[b] = in[b], in[a]
				}
			}
		}
		record(t, sc, Options{Dir: dir}, in, samples)
		data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		got[i] = data
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("two runs differ:\n%s\n%s", got[0], got[1])
	}
	if !bytes.Equal(got[0], got[2]) {
		t.Errorf("shuffled records give another summary:\n%s\n%s", got[0], got[2])
	}
}

// TestAtomicFiles: until Close, only .tmp streams exist (no file under a
// final name); after Close, exactly the final files and no temporaries.
func TestAtomicFiles(t *testing.T) {
	for _, noRecords := range []bool{false, true} {
		dir := t.TempDir()
		sc := testScenario()
		r := newTestRecorder(t, sc, Options{Dir: dir, NoRecords: noRecords})
		for _, q := range randomRequests(sc, 1000, 2) {
			r.Add(&q)
		}
		r.AddSample(&ServerSample{At: 3 * time.Second, Server: 1})
		want := []string{ServersFile + ".tmp"}
		if !noRecords {
			want = append(want, RequestsFile+".tmp")
		}
		if got := listDir(t, dir); !sameSet(got, want) {
			t.Errorf("noRecords=%v before Close: %v, want %v", noRecords, got, want)
		}
		mustClose(t, r)
		want = []string{SummaryFile, ServersFile, TimeseriesFile, ScenarioFile}
		if !noRecords {
			want = append(want, RequestsFile)
		}
		if got := listDir(t, dir); !sameSet(got, want) {
			t.Errorf("noRecords=%v after Close: %v, want %v", noRecords, got, want)
		}
		for _, name := range want {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o644 {
				t.Errorf("%s: mode %v, want 0644 (readable by all)", name, fi.Mode())
			}
		}
	}
}

// TestNoRecordsRemovesStaleRequests: a run without records into a
// directory holding an earlier run's requests.csv does not leave that file
// to contradict the new summary.
func TestNoRecordsRemovesStaleRequests(t *testing.T) {
	dir := t.TempDir()
	sc := testScenario()
	record(t, sc, Options{Dir: dir}, randomRequests(sc, 100, 3), nil)
	s := record(t, sc, Options{Dir: dir, NoRecords: true}, randomRequests(sc, 50, 4), nil)
	if _, err := os.Stat(filepath.Join(dir, RequestsFile)); !os.IsNotExist(err) {
		t.Errorf("requests.csv still there after a no-records run: %v", err)
	}
	if len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "no-records") {
		t.Errorf("notes %q: want one saying requests.csv was skipped", s.Notes)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestWarmupFiltering: requests scheduled before the warmup's end are not
// counted even when they finish after it; one scheduled exactly at its end
// is. Samples before the warmup are written but not summarised.
func TestWarmupFiltering(t *testing.T) {
	sc := testScenario()
	dir := t.TempDir()
	r := newTestRecorder(t, sc, Options{Dir: dir})
	w := sc.Warmup
	for _, q := range []Request{
		// Scheduled in warmup, finished after it: not counted.
		{ID: 1, Scheduled: w - time.Nanosecond, Sent: w, Done: w + time.Second, Redirects: 1},
		// Scheduled at 0: not counted.
		{ID: 2, Scheduled: 0, Done: time.Millisecond, Outcome: Error},
		// Scheduled exactly at the warmup's end: counted.
		{ID: 3, Scheduled: w, Sent: w, Done: w + 5*time.Millisecond, Status: 200},
		// Scheduled after: counted.
		{ID: 4, Scheduled: w + time.Second, Sent: w + time.Second, Done: w + time.Second + time.Millisecond, Outcome: Rejected, Status: 503},
	} {
		r.Add(&q)
	}
	for _, s := range []ServerSample{
		{At: w - sc.SampleInterval, Server: 0, QueueLength: 100, Served: 1000, BusyTime: time.Second},
		{At: w, Server: 0, QueueLength: 2, Served: 500},
		{At: w + sc.SampleInterval, Server: 0, QueueLength: 4, Served: 3, BusyTime: 200 * time.Millisecond},
	} {
		r.AddSample(&s)
	}
	s := mustClose(t, r)
	if want := (RequestCounts{Sent: 2, Completed: 1, Rejected: 1}); s.Requests != want {
		t.Errorf("counts %+v, want %+v", s.Requests, want)
	}
	if s.Redirects.Total != 0 || s.LatencyMS.Max != 5 {
		t.Errorf("redirects %+v, max latency %v: warmup request leaked in", s.Redirects, s.LatencyMS.Max)
	}
	// Interval counts from ticks after the warmup only (the tick at the
	// warmup's end covers the interval before it); queue lengths from
	// ticks at or after it.
	sv := s.Servers[0]
	if sv.Served != 3 || sv.MaxQueueLength != 4 || sv.MeanQueueLength != 3 || sv.Utilization != 0.5 {
		t.Errorf("server summary %+v: want served 3, max queue 4, mean 3, utilization 0.5", sv)
	}
	var ids []uint64
	if err := ReadRequests(dir, func(q *Request) error { ids = append(ids, q.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []uint64{3, 4}) {
		t.Errorf("requests.csv ids %v, want [3 4]", ids)
	}
	n := 0
	if err := ReadServers(dir, func(*ServerSample, string) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("servers.csv has %d rows, want all 3 samples", n)
	}
}

// TestCountsInvariant: sent == completed + errors + rejected, timeouts are
// among the errors, and the time series adds up to the summary, with
// records added from several goroutines at once.
func TestCountsInvariant(t *testing.T) {
	sc := testScenario()
	qs := randomRequests(sc, 40_000, 5)
	r := newTestRecorder(t, sc, Options{Dir: t.TempDir()})
	var wg sync.WaitGroup
	const workers = 4
	done := make(chan struct{})
	wg.Go(func() { // a progress line reading meanwhile
		for {
			select {
			case <-done:
				return
			default:
				if p := r.Snapshot(); p.Requests != p.Completed+p.Errors+p.Rejected {
					t.Errorf("snapshot %+v breaks sent == completed+errors+rejected", p)
					return
				}
			}
		}
	})
	var adders sync.WaitGroup
	for g := range workers {
		adders.Go(func() {
			for i := g; i < len(qs); i += workers {
				r.Add(&qs[i])
			}
		})
	}
	adders.Wait()
	close(done)
	wg.Wait()
	s := mustClose(t, r)
	var want RequestCounts
	var redirected, redirects int64
	for _, q := range qs {
		if q.Scheduled < sc.Warmup {
			continue
		}
		want.Sent++
		switch q.Outcome {
		case Completed:
			want.Completed++
		case Rejected:
			want.Rejected++
		case Timeout:
			want.Timeouts++
			want.Errors++
		default:
			want.Errors++
		}
		if q.Redirects > 0 {
			redirected++
			redirects += int64(q.Redirects)
		}
	}
	c := s.Requests
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	if c.Sent != c.Completed+c.Errors+c.Rejected || c.Timeouts > c.Errors || c.Timeouts == 0 || c.Rejected == 0 {
		t.Errorf("invariant broken or outcome missing: %+v", c)
	}
	if s.Redirects.Total != redirects || s.Redirects.Rate != ratio(float64(redirected)/float64(want.Sent)) {
		t.Errorf("redirects %+v, want total %d rate %v", s.Redirects, redirects, float64(redirected)/float64(want.Sent))
	}
	secs, err := ReadTimeseries(r.opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var sum Second
	for _, x := range secs {
		sum.Requests += x.Requests
		sum.Completed += x.Completed
		sum.Errors += x.Errors
		sum.Rejected += x.Rejected
		sum.Timeouts += x.Timeouts
		sum.Redirected += x.Redirected
		sum.Redirects += x.Redirects
	}
	if sum.Requests != c.Sent || sum.Completed != c.Completed || sum.Errors != c.Errors || sum.Rejected != c.Rejected ||
		sum.Timeouts != c.Timeouts || sum.Redirected != redirected || sum.Redirects != redirects {
		t.Errorf("time series sums %+v disagree with summary %+v", sum, c)
	}
}

// TestServerSummary: utilisation is busy time over covered time and
// workers; mean and max queue length come from the window's samples.
func TestServerSummary(t *testing.T) {
	sc := testScenario()
	_, workers := instances(sc)
	samples := samplesFor(sc, workers)
	s := record(t, sc, Options{}, nil, samples)
	ticks := int64(sc.Duration / sc.SampleInterval) // ticks in (warmup, end]
	for i, sv := range s.Servers {
		var qsum, n int64
		qmax := 0
		var delays []time.Duration
		for _, x := range samples {
			if x.Server == i && x.At >= sc.Warmup && x.At <= sc.Warmup+sc.Duration {
				qsum += int64(x.QueueLength)
				n++
				qmax = max(qmax, x.QueueLength)
				delays = append(delays, x.QueueDelay)
			}
		}
		// Queue delay: exact mean and max; p99 by nearest rank, at most
		// 0.1% above the exact one.
		slices.Sort(delays)
		var dsum time.Duration
		for _, d := range delays {
			dsum += d
		}
		p99 := delays[int(math.Ceil(0.99*float64(len(delays))))-1]
		want := ServerSummary{
			Name: []string{"web-1", "web-2", "web-3", "slow-1"}[i], Workers: workers[i],
			Served: ticks * int64(10+i), Redirected: ticks * int64(i), Rejected: ticks * int64(i/2),
			MeanQueueLength: ratio(float64(qsum) / float64(n)), MaxQueueLength: qmax,
			MeanQueueDelayMS: msFloat(float64(dsum) / float64(len(delays))),
			P99QueueDelayMS:  ms(p99), MaxQueueDelayMS: ms(delays[len(delays)-1]),
			Utilization: float64(i+1) / 10,
		}
		if got := sv.P99QueueDelayMS; got >= want.P99QueueDelayMS && got <= want.P99QueueDelayMS*(1+1.0/1024)+0.001 {
			want.P99QueueDelayMS = got
		}
		if sv != want {
			t.Errorf("server %d: %+v\nwant %+v", i, sv, want)
		}
	}
}

// TestTimeseriesAgainstNaive: every second's counts equal a direct count
// of the records finishing in it, and its p50/p99 lie within the
// per-second histogram's 1% resolution of the sorted latencies — with
// records arriving up to 5 s out of order.
func TestTimeseriesAgainstNaive(t *testing.T) {
	sc := testScenario()
	qs := randomRequests(sc, 30_000, 6)
	// Disorder: swap records up to 5 s of completion time apart.
	rng := rand.New(rand.NewPCG(6, 6))
	in := slices.Clone(qs)
	for i := range in {
		j := i + rng.IntN(200)
		if j < len(in) && in[j].Done-in[i].Done < 5*time.Second {
			in[i], in[j] = in[j], in[i]
		}
	}
	dir := t.TempDir()
	s := record(t, sc, Options{Dir: dir}, in, nil)
	if len(s.Notes) != 0 {
		t.Errorf("notes %q: no record was late beyond the open window", s.Notes)
	}
	secs, err := ReadTimeseries(dir)
	if err != nil {
		t.Fatal(err)
	}
	type agg struct {
		n, completed int64
		lats         []time.Duration
	}
	naive := map[int]*agg{}
	last := 0
	for _, q := range qs {
		if q.Scheduled < sc.Warmup {
			continue
		}
		i := int((q.Done - sc.Warmup) / time.Second)
		last = max(last, i)
		a := naive[i]
		if a == nil {
			a = &agg{}
			naive[i] = a
		}
		a.n++
		if q.Outcome == Completed {
			a.completed++
			a.lats = append(a.lats, q.Latency())
		}
	}
	if len(secs) != last+1 {
		t.Fatalf("%d seconds, want %d", len(secs), last+1)
	}
	for i, x := range secs {
		if want := sc.Warmup + time.Duration(i)*time.Second; x.T != want {
			t.Errorf("second %d: t %v, want %v", i, x.T, want)
		}
		a := naive[i]
		if a == nil {
			a = &agg{}
		}
		if x.Requests != a.n || x.Completed != a.completed {
			t.Errorf("second %d: %d requests %d completed, want %d %d", i, x.Requests, x.Completed, a.n, a.completed)
		}
		if len(a.lats) == 0 {
			continue
		}
		slices.Sort(a.lats)
		for _, c := range []struct {
			p   float64
			got time.Duration
		}{{0.5, x.P50}, {0.99, x.P99}} {
			want := naiveQuantile(a.lats, c.p)
			tol := max(time.Duration(float64(want)*0.01), 8*time.Microsecond) + time.Microsecond
			if c.got < want-time.Microsecond || c.got > want+tol {
				t.Errorf("second %d p%v: %v, naive %v", i, c.p*100, c.got, want)
			}
		}
		if want := a.lats[len(a.lats)-1]; x.Max != want {
			t.Errorf("second %d max %v, want %v", i, x.Max, want)
		}
	}
}

// TestLateCompletion: a completion recorded long after newer ones still
// counts, leaves its second's percentiles alone, and is noted.
func TestLateCompletion(t *testing.T) {
	sc := testScenario()
	w := sc.Warmup
	r := newTestRecorder(t, sc, Options{})
	add := func(done time.Duration, lat time.Duration) {
		r.Add(&Request{Scheduled: done - lat, Sent: done - lat, Done: done})
	}
	add(w+500*time.Millisecond, 10*time.Millisecond)
	add(w+8*time.Second+500*time.Millisecond, 10*time.Millisecond) // second 8 takes second 0's histogram
	add(w+600*time.Millisecond, 300*time.Millisecond)              // 8 s late: second 0 is closed
	s := mustClose(t, r)
	secs := r.agg.series.secs
	if secs[0].Completed != 2 || secs[0].Max != 300*time.Millisecond {
		t.Errorf("second 0: %+v: want 2 completed, max 300ms", secs[0])
	}
	if secs[0].P99 > 11*time.Millisecond {
		t.Errorf("second 0 p99 %v: the late completion entered a closed histogram", secs[0].P99)
	}
	if len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "1 completions were recorded more than") {
		t.Errorf("notes %q: want one about the late completion", s.Notes)
	}
}

// TestCloseTwice: Close is final and repeatable; Add, AddSample and Note
// afterwards change nothing.
// TestServerRedirects: counted redirect figures replace the ones from the
// records; the rate is redirects per page request, at most 1.
func TestServerRedirects(t *testing.T) {
	for _, c := range []struct {
		total, pages int64
		rate         float64
	}{
		{25, 50, 0.5},    // a quarter of the servers' answers were redirects
		{0, 50, 0},       // no redirects
		{120, 100, 1},    // pages redirected twice: capped at 1
		{7, 0, 0},        // no page requests: no rate
		{1, 3, 0.333333}, // rounded as every ratio
	} {
		sc := testScenario()
		r := newTestRecorder(t, sc, Options{})
		r.Add(&Request{Scheduled: sc.Warmup, Done: sc.Warmup + time.Millisecond, Outcome: Completed, Redirects: 1})
		r.ServerRedirects(c.total, c.pages)
		s := mustClose(t, r)
		if s.Redirects.Total != c.total || s.Redirects.Rate != c.rate {
			t.Errorf("ServerRedirects(%d, %d): summary redirects %+v, want total %d rate %v", c.total, c.pages, s.Redirects, c.total, c.rate)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	sc := testScenario()
	dir := t.TempDir()
	r := newTestRecorder(t, sc, Options{Dir: dir})
	r.Add(&Request{Scheduled: sc.Warmup, Done: sc.Warmup + time.Millisecond})
	s1, err1 := r.Close()
	before, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	r.Add(&Request{Scheduled: sc.Warmup, Done: sc.Warmup + time.Millisecond})
	r.AddSample(&ServerSample{At: sc.Warmup + time.Second})
	r.Note("late note")
	s2, err2 := r.Close()
	after, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	if s1 != s2 || err1 != err2 || s2.Requests.Sent != 1 || len(s2.Notes) != 0 || !bytes.Equal(before, after) {
		t.Errorf("second Close: %p %v vs %p %v, sent %d, notes %q", s1, err1, s2, err2, s2.Requests.Sent, s2.Notes)
	}
}

// TestBadInput: construction errors are precise; recording errors do not
// lose the run but come back from Close.
func TestBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	comma := testScenario()
	comma.Servers[0].Name = "a,b"
	zero := testScenario()
	zero.Duration = 0
	for _, c := range []struct {
		name string
		sc   *scenarios.Scenario
		mode Mode
		opts Options
		want string
	}{
		// A mode other than sim or real.
		{"mode", testScenario(), Mode(7), Options{}, `Mode(7): want Sim or Real`},
		{"no-mode", testScenario(), 0, Options{}, `: want Sim or Real`},
		// No scenario at all.
		{"nil", nil, Sim, Options{}, "scenario is nil"},
		// The directory path names a regular file.
		{"dir-is-file", testScenario(), Sim, Options{Dir: file}, "is not a directory"},
		// A server name that would break the CSV.
		{"name", comma, Real, Options{}, `server name "a,b-1" cannot be written to CSV`},
		// Throughput needs a measured window.
		{"duration", zero, Sim, Options{}, "duration 0s: must be positive"},
	} {
		_, err := NewRecorder(c.sc, c.mode, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}

	sc := testScenario()
	dir := t.TempDir()
	r := newTestRecorder(t, sc, Options{Dir: dir})
	r.AddSample(&ServerSample{At: sc.Warmup, Server: 9})
	r.Add(&Request{ID: 5, Scheduled: sc.Warmup, Outcome: Outcome(9)})
	s, err := r.Close()
	if err == nil || !strings.Contains(err.Error(), "server index 9, but the scenario has 4 servers") ||
		!strings.Contains(err.Error(), "request 5 has unknown outcome 9") {
		t.Errorf("Close error %v: want both recording errors", err)
	}
	if s == nil || s.Requests.Sent != 1 || s.Requests.Errors != 1 {
		t.Errorf("summary %+v: want the odd request counted as an error", s)
	}
	if _, err := ReadSummary(dir); err != nil {
		t.Errorf("summary.json not written despite recording errors: %v", err)
	}
}

// TestSnapshot: live figures follow the records.
func TestSnapshot(t *testing.T) {
	sc := testScenario()
	r := newTestRecorder(t, sc, Options{})
	if p := r.Snapshot(); p != (Progress{}) {
		t.Errorf("empty snapshot %+v", p)
	}
	w := sc.Warmup
	r.Add(&Request{Scheduled: w, Done: w + 4*time.Millisecond, Redirects: 1})
	r.Add(&Request{Scheduled: w, Done: w + 2*time.Millisecond})
	r.Add(&Request{Scheduled: w, Done: w + 9*time.Millisecond, Outcome: Rejected})
	r.Add(&Request{Scheduled: w, Done: w + time.Second, Outcome: Timeout, Redirects: 2})
	p := r.Snapshot()
	// Second 1 has begun (the timeout), so second 0 is whole: 2 completions.
	want := Progress{Elapsed: w + time.Second, Requests: 4, Completed: 2, Errors: 1, Rejected: 1, RPS: 2, P99MS: 4, RedirectRate: 0.5}
	if p.P99MS >= 4 && p.P99MS <= 4.005 {
		p.P99MS = 4 // within the histogram's resolution
	}
	if p != want {
		t.Errorf("snapshot %+v, want %+v", p, want)
	}
	// Once two seconds are in, RPS is the last whole second's.
	for i := range 7 {
		r.Add(&Request{Scheduled: w + 1500*time.Millisecond, Done: w + 1500*time.Millisecond + time.Duration(i)*time.Millisecond})
	}
	r.Add(&Request{Scheduled: w + 2*time.Second, Done: w + 2500*time.Millisecond})
	if p := r.Snapshot(); p.RPS != 7 {
		t.Errorf("RPS %v, want the 7 completions of second 1", p.RPS)
	}
}

func TestRoundTo(t *testing.T) {
	for _, c := range []struct {
		x    float64
		dec  int
		want string
	}{
		// Plain rounding to microseconds of a millisecond figure.
		{12.3456789, 3, "12.346"},
		// Floating-point noise disappears.
		{0.1 + 0.2, 6, "0.3"},
		// Negative zero prints as 0.
		{-0.0000001, 3, "0"},
		// NaN (0/0 on an empty run) becomes 0 rather than invalid JSON.
		{math.NaN(), 3, "0"},
	} {
		b, _ := json.Marshal(roundTo(c.x, c.dec))
		if string(b) != c.want {
			t.Errorf("roundTo(%v, %d) prints %s, want %s", c.x, c.dec, b, c.want)
		}
	}
}

// TestEmbeddedScenario: a loaded scenario's instances name the servers in
// summary.json, and scenario.yaml reads back as the same scenario.
func TestEmbeddedScenario(t *testing.T) {
	sc, err := scenarios.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := record(t, sc, Options{Dir: dir}, randomRequests(sc, 2000, 10), nil)
	var names []string
	for _, in := range sc.Instances() {
		names = append(names, in.Name)
	}
	var got []string
	for _, sv := range s.Servers {
		got = append(got, sv.Name)
	}
	if !slices.Equal(got, names) || s.Scenario != sc.Name || s.Variant != sc.Variant || s.Seed != sc.Seed {
		t.Errorf("summary names %v scenario %q variant %q seed %d; want %v %q %q %d", got, s.Scenario, s.Variant, s.Seed, names, sc.Name, sc.Variant, sc.Seed)
	}
	data, err := os.ReadFile(filepath.Join(dir, ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	back, err := scenarios.Parse(ScenarioFile, data)
	if err != nil {
		t.Fatalf("scenario.yaml does not parse: %v", err)
	}
	if back.Name != sc.Name || back.Duration != sc.Duration || len(back.Instances()) != len(names) {
		t.Errorf("scenario.yaml reads back as %s %v %d servers", back.Name, back.Duration, len(back.Instances()))
	}
}

// TestOutOfRange: a latency beyond the histogram's hour is recorded as an
// hour, and a completion absurdly far past the end lands in the last
// second kept; both are counted and said in the notes, nothing is lost
// and the series does not grow without bound.
func TestOutOfRange(t *testing.T) {
	sc := testScenario()
	w := sc.Warmup
	r := newTestRecorder(t, sc, Options{})
	r.Add(&Request{Scheduled: w, Sent: w, Done: w + 2*time.Hour})
	r.Add(&Request{Scheduled: w, Sent: w, Done: w + time.Millisecond})
	s := mustClose(t, r)
	if s.Requests.Completed != 2 || s.LatencyMS.Max != 3.6e6 {
		t.Errorf("completed %d, max %v ms: want 2 and one hour", s.Requests.Completed, s.LatencyMS.Max)
	}
	if n := len(r.agg.series.secs); n != r.agg.series.limit+1 {
		t.Errorf("%d seconds kept, want the limit %d", n, r.agg.series.limit+1)
	}
	want := []string{"1 latencies or send lags above 1h were recorded as 1h",
		"1 requests finished more than 1h after the run's end; timeseries.csv counts them in its last second"}
	if !slices.Equal(s.Notes, want) {
		t.Errorf("notes %q, want %q", s.Notes, want)
	}
}

// TestSeriesCurrentSecondAfterGrowth: a record in the current second is
// counted in the series' rows after a record far beyond the end (counted
// in the last second kept) has grown them, which moves them in memory.
func TestSeriesCurrentSecondAfterGrowth(t *testing.T) {
	s := newSeries(0, time.Second)
	q := func(done time.Duration) *Request { return &Request{Done: done, Outcome: Rejected} }
	s.add(q(500*time.Millisecond), 0)
	s.add(q(3*time.Hour), 0)
	s.add(q(600*time.Millisecond), 0)
	secs := s.finish()
	if got := secs[0].Requests; got != 2 {
		t.Errorf("second 0: %d requests, want 2", got)
	}
	if got := secs[len(secs)-1].Requests; got != 1 || s.beyond != 1 {
		t.Errorf("last second: %d requests (%d beyond), want 1 (1)", got, s.beyond)
	}
}
