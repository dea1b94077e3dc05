package sim

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

const ms = time.Millisecond

// traced is a scenario whose page requests are sent at exactly the given
// offsets, dispatched round-robin over n servers with constant service.
func traced(n int, svc time.Duration, offsets ...time.Duration) *scenarios.Scenario {
	sc := baseScenario(n, 1, svc, 1, time.Second)
	sc.Servers[0].Service = scenarios.Service{Dist: "const", Mean: svc}
	sc.Workload.Dispatch = "round-robin"
	sc.Workload.Arrival = scenarios.Arrival{Process: "trace", Offsets: offsets}
	return sc
}

func hops(r results.Request) []results.Hop { return r.Hops[:min(r.NHops, results.MaxRecordedHops)] }

// byID orders records by request ID (records are written when requests
// end, not when they start).
func byID(reqs []results.Request) []results.Request {
	out := slices.Clone(reqs)
	slices.SortFunc(out, func(a, b results.Request) int { return int(a.ID) - int(b.ID) })
	return out
}

// TestRedirectHopTiming follows three requests through two servers with
// rtt 2 ms (1 ms each way) and 1 ms overhead per exchange, and a
// queue-length threshold of 0 with an exact view.
func TestRedirectHopTiming(t *testing.T) {
	sc := traced(2, 10*ms, 0, 1*ms, 2*ms)
	sc.Network = scenarios.Network{RTT: 2 * ms, Overhead: 1 * ms}
	sc.Policy.Condition = "queue-length"
	sc.Policy.Threshold = scenarios.Threshold{Count: 0}
	sc.Policy.Target = "least-loaded"
	m := runMem(t, sc)
	got := byID(m.reqs)
	want := []results.Request{
		// Reaches web-1 at 1 ms, served 1..11 ms, answer leaves after the
		// 1 ms overhead and arrives 1 ms later.
		{ID: 0, Done: 13 * ms, Status: 200, First: 0, Final: 0, NHops: 1,
			Hops: [8]results.Hop{{Server: 0, Status: 200, At: 13 * ms}}},
		// The same at web-2, one millisecond later.
		{ID: 1, Scheduled: 1 * ms, Sent: 1 * ms, Done: 14 * ms, Status: 200, First: 1, Final: 1, NHops: 1,
			Hops: [8]results.Hop{{Server: 1, Status: 200, At: 14 * ms}}},
		// Reaches web-1 at 3 ms holding 1 > 0: redirected to web-2
		// (the only peer), answer at 5 ms; reaches web-2 at 6 ms, hop 1 =
		// max_hops so it is served after the request in service (12..22 ms),
		// answer at 24 ms.
		{ID: 2, Scheduled: 2 * ms, Sent: 2 * ms, Done: 24 * ms, Status: 200, Redirects: 1, First: 0, Final: 1, NHops: 2,
			Hops: [8]results.Hop{{Server: 0, Status: 302, At: 5 * ms}, {Server: 1, Status: 200, At: 24 * ms}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records:\n got %+v\nwant %+v", got, want)
	}
	var served, redirected [2]int
	for _, s := range m.samples {
		served[s.Server] += s.Served
		redirected[s.Server] += s.Redirected
	}
	if served != [2]int{1, 2} || redirected != [2]int{1, 0} {
		t.Errorf("served %v redirected %v, want [1 2] [1 0]", served, redirected)
	}
}

// TestQueueCapacityRejects: capacity counts waiting plus in service; the
// overflow is answered 503 and counted per server.
func TestQueueCapacityRejects(t *testing.T) {
	sc := traced(1, 10*ms, 0, 0, 0, 0)
	sc.Servers[0].QueueCapacity = 2
	m := runMem(t, sc)
	var outcomes []results.Outcome
	for _, r := range byID(m.reqs) {
		outcomes = append(outcomes, r.Outcome)
		if r.Outcome == results.Rejected && (r.Status != 503 || r.Done != 0 || r.Final != 0) {
			t.Errorf("rejected record %+v: want status 503 at 0 from server 0", r)
		}
	}
	if want := []results.Outcome{results.Completed, results.Completed, results.Rejected, results.Rejected}; !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %v, want %v", outcomes, want)
	}
	rejected := 0
	for _, s := range m.samples {
		rejected += s.Rejected
	}
	if rejected != 2 {
		t.Errorf("samples count %d rejections, want 2", rejected)
	}
}

// TestTimeout: a page not answered within the workload timeout is
// recorded as a timeout at Scheduled+Timeout; the server still serves it.
func TestTimeout(t *testing.T) {
	sc := traced(1, 100*ms, 0, 0)
	sc.Workload.Timeout = 150 * ms
	m := runMem(t, sc)
	got := byID(m.reqs)
	if len(got) != 2 || got[0].Outcome != results.Completed || got[0].Done != 100*ms {
		t.Fatalf("first record %+v, want completed at 100ms", got)
	}
	if r := got[1]; r.Outcome != results.Timeout || r.Done != 150*ms || r.Status != 0 || r.NHops != 1 ||
		r.Hops[0] != (results.Hop{Server: -1, Status: 0, At: 150 * ms}) || r.Final != -1 {
		t.Errorf("second record %+v, want a timeout at 150ms with one unanswered hop", r)
	}
	served := 0
	for _, s := range m.samples {
		served += s.Served
	}
	if served != 2 {
		t.Errorf("served %d, want 2 (the server cannot know the browser left)", served)
	}
}

// TestCrashAndRestart: requests queued or in service fail at the crash
// (the reset reaches the browser RTT/2 later); an arrival at the down
// server fails one RTT after it was sent; after the restart the server
// serves again.
func TestCrashAndRestart(t *testing.T) {
	sc := traced(1, 100*ms, 0, 0, 100*ms, 200*ms)
	sc.Network.RTT = 10 * ms
	sc.Faults = []scenarios.Fault{{At: 50 * ms, Server: "web-1", Action: "crash", For: 100 * ms, ServerIndex: 0}}
	m := runMem(t, sc)
	got := byID(m.reqs)
	type row struct {
		outcome results.Outcome
		done    time.Duration
		hop     results.Hop
	}
	want := []row{
		{results.Error, 55 * ms, results.Hop{Server: -1, Status: 0, At: 55 * ms}},        // in service at the crash
		{results.Error, 55 * ms, results.Hop{Server: -1, Status: 0, At: 55 * ms}},        // waiting at the crash
		{results.Error, 110 * ms, results.Hop{Server: -1, Status: 0, At: 110 * ms}},      // refused while down
		{results.Completed, 310 * ms, results.Hop{Server: 0, Status: 200, At: 310 * ms}}, // after the restart at 150 ms
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		r := got[i]
		if r.Outcome != w.outcome || r.Done != w.done || r.NHops != 1 || r.Hops[0] != w.hop {
			t.Errorf("request %d: %v at %v hops %v, want %v at %v hop %+v", i, r.Outcome, r.Done, hops(r), w.outcome, w.done, w.hop)
		}
	}
	for _, s := range m.samples {
		if down := s.At > 50*ms && s.At <= 150*ms; s.Up == down {
			t.Errorf("sample at %v: up %v", s.At, s.Up)
		}
	}
}

// TestSlowdown multiplies the service times of requests starting while
// it lasts.
func TestSlowdown(t *testing.T) {
	sc := traced(1, 10*ms, 0, 150*ms, 250*ms)
	sc.Faults = []scenarios.Fault{{At: 100 * ms, Server: "web-1", Action: "slowdown", Factor: 3, For: 100 * ms, ServerIndex: 0}}
	m := runMem(t, sc)
	var lat []time.Duration
	for _, r := range byID(m.reqs) {
		lat = append(lat, r.Latency())
	}
	if want := []time.Duration{10 * ms, 30 * ms, 10 * ms}; !slices.Equal(lat, want) {
		t.Errorf("latencies %v, want %v", lat, want)
	}
}

// TestSessionObjects: a session of two pages, each followed by two
// embedded objects fetched in parallel from the page's server (one
// worker: the second waits for the first); the second page is scheduled
// Think after the first page's last object.
func TestSessionObjects(t *testing.T) {
	sc := traced(1, 10*ms, 0)
	sc.Servers[0].ObjectService = scenarios.Service{Dist: "const", Mean: 1 * ms}
	sc.Network.RTT = 2 * ms
	sc.Workload.Session = scenarios.Session{Pages: 2, Objects: 2, Think: 50 * ms}
	m := runMem(t, sc)
	got := byID(m.reqs)
	if len(got) != 2 {
		t.Fatalf("%d records, want 2", len(got))
	}
	// Page: 1 ms out, 10 ms service, 1 ms back = 12 ms; objects reach the
	// server at 13 ms, are served 13..14 and 14..15 ms, back at 15 and 16 ms.
	if r := got[0]; r.Scheduled != 0 || r.Done != 12*ms || r.Objects != 2 || r.ObjectsDone != 16*ms {
		t.Errorf("page 1: %+v", r)
	}
	if r := got[1]; r.Scheduled != 66*ms || r.Done != 78*ms || r.Objects != 2 || r.ObjectsDone != 82*ms {
		t.Errorf("page 2: %+v", r)
	}
}

// TestClosedLoop: two browsers each issue their next request when the
// previous one completes, ten requests in all, one server.
func TestClosedLoop(t *testing.T) {
	sc := traced(1, 10*ms)
	sc.Workload.Arrival = scenarios.Arrival{Process: "closed", Concurrency: 2, Requests: 10}
	m := runMem(t, sc)
	got := byID(m.reqs)
	if len(got) != 10 {
		t.Fatalf("%d records, want 10", len(got))
	}
	for i, r := range got {
		// The server is never idle: completions at 10, 20, ... 100 ms.
		if r.ID != uint64(i) || r.Outcome != results.Completed {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if last := got[9].Done; last != 100*ms {
		t.Errorf("last completion at %v, want 100ms", last)
	}
}

// TestManagerOutageStopsRedirects: the manager goes away at 100 ms for
// 1 s; the views received at 90 ms expire after ViewTTL = 50 ms, so no
// redirect is decided from 140 ms until the agents, backing off from
// 100 ms (retries at 120, 160, 240, 400, 720 ms, then 1 s later), reach
// the manager again at 1360 ms; redirects happen before and after.
func TestManagerOutageStopsRedirects(t *testing.T) {
	sc := baseScenario(4, 1, 10*ms, 350, 2*time.Second)
	sc.Manager.ReportInterval = dur(10 * ms)
	sc.Manager.ViewTTL = 50 * ms
	sc.Policy.Condition = "queue-length"
	sc.Policy.Threshold = scenarios.Threshold{Count: 1}
	sc.Faults = []scenarios.Fault{{At: 100 * ms, Action: "manager-outage", For: time.Second, ServerIndex: -1}}
	m := runMem(t, sc)
	var before, during, after int
	for _, r := range m.reqs {
		for _, h := range hops(r) {
			if h.Status != 302 {
				continue
			}
			switch {
			case h.At <= 140*ms:
				before++
			case h.At < 1360*ms:
				during++
			default:
				after++
			}
		}
	}
	t.Logf("redirects before %d, during %d, after %d", before, during, after)
	if before == 0 || after == 0 || during != 0 {
		t.Errorf("redirects before %d, during %d, after %d: want some, none, some", before, during, after)
	}
}

// TestReportedStatusIsOneIntervalOld: with report interval = sample
// interval, the sample at t shows as "reported" what the agent measured
// at the previous tick (at the same instant the sample fires before the
// agents report, being scheduled first).
func TestReportedStatusIsOneIntervalOld(t *testing.T) {
	sc := baseScenario(3, 1, 10*ms, 250, time.Second)
	sc.Manager.ReportInterval = dur(100 * ms)
	sc.Manager.ViewTTL = time.Second
	sc.Policy.Condition = "queue-length"
	sc.Policy.Threshold = scenarios.Threshold{Count: 2}
	m := runMem(t, sc)
	prev := map[int]results.ServerSample{}
	checked := 0
	for _, s := range m.samples {
		if p, ok := prev[s.Server]; ok && s.At-p.At == 100*ms {
			if s.ReportedQueueLength != p.QueueLength {
				t.Errorf("server %d at %v: reported %d, measured %d at %v", s.Server, s.At, s.ReportedQueueLength, p.QueueLength, p.At)
			}
			checked++
		}
		prev[s.Server] = s
	}
	if checked < 20 {
		t.Errorf("only %d samples checked", checked)
	}
}

// TestLostReportsMarkServerDown: web-1's reports are all lost from
// 200 ms; the manager marks it down once its last report is older than
// Expire (30 ms), so no redirect is sent to it after 200+30+10 ms.
func TestLostReportsMarkServerDown(t *testing.T) {
	sc := baseScenario(3, 1, 10*ms, 250, time.Second)
	sc.Manager.ReportInterval = dur(10 * ms)
	sc.Manager.Expire = 30 * ms
	sc.Policy.Condition = "queue-length"
	sc.Policy.Threshold = scenarios.Threshold{Count: 0}
	sc.Policy.Target = "random"
	sc.Faults = []scenarios.Fault{{At: 200 * ms, Server: "web-1", Action: "lost-reports", Loss: 1, ServerIndex: 0}}
	m := runMem(t, sc)
	var before, after int
	for _, r := range m.reqs {
		h := hops(r)
		for k := 1; k < len(h); k++ {
			if h[k-1].Status == 302 && h[k].Server == 0 {
				if h[k-1].At <= 240*ms {
					before++
				} else {
					after++
				}
			}
		}
	}
	if before == 0 || after != 0 {
		t.Errorf("redirects to web-1: %d before it expired, %d after; want some, none", before, after)
	}
}

// TestDispatch checks the browsers' first-server rules.
func TestDispatch(t *testing.T) {
	t.Run("round-robin", func(t *testing.T) {
		sc := traced(3, time.Second, 0, 0, 0, 0)
		var first []int
		for _, r := range byID(runMem(t, sc).reqs) {
			first = append(first, r.First)
		}
		if !slices.Equal(first, []int{0, 1, 2, 0}) {
			t.Errorf("first servers %v, want [0 1 2 0]", first)
		}
	})
	t.Run("jsq", func(t *testing.T) {
		// Three simultaneous long requests land on three distinct servers.
		for seed := uint64(1); seed <= 20; seed++ {
			sc := traced(3, time.Second, 0, 0, 0)
			sc.Seed = seed
			sc.Workload.Dispatch = "jsq"
			var first []int
			for _, r := range runMem(t, sc).reqs {
				first = append(first, r.First)
			}
			slices.Sort(first)
			if !slices.Equal(first, []int{0, 1, 2}) {
				t.Fatalf("seed %d: first servers %v, want each server once", seed, first)
			}
		}
	})
	t.Run("weighted", func(t *testing.T) {
		sc := baseScenario(1, 1, ms, 4000, time.Second)
		sc.Servers = append(sc.Servers, sc.Servers[0])
		sc.Servers[1].Name, sc.Servers[1].Weight = "big", 3
		sc.Workload.Dispatch = "weighted"
		n, big := 0, 0
		for _, r := range runMem(t, sc).reqs {
			n++
			if r.First == 1 {
				big++
			}
		}
		// Binomial(n≈4000, 0.75): standard deviation ≈ 0.007; allow 0.03.
		if share := float64(big) / float64(n); share < 0.72 || share > 0.78 {
			t.Errorf("weight-3 server got %.3f of %d requests, want 0.75", share, n)
		}
	})
}

// TestClientInFlightBound: beyond workload.max_in_flight, the open-loop
// client refuses a request itself: rejected, status 0, no hop.
func TestClientInFlightBound(t *testing.T) {
	sc := traced(1, 100*ms, 0, 0, 0)
	sc.Workload.MaxInFlight = 2
	got := byID(runMem(t, sc).reqs)
	if r := got[2]; r.Outcome != results.Rejected || r.Status != 0 || r.NHops != 0 || r.First != -1 || r.Done != 0 {
		t.Errorf("third request %+v, want refused by the client", r)
	}
	if got[0].Outcome != results.Completed || got[1].Outcome != results.Completed {
		t.Errorf("first two: %v %v, want completed", got[0].Outcome, got[1].Outcome)
	}
}

// chaos is a scenario exercising every feature at once.
func chaos() *scenarios.Scenario {
	sc := baseScenario(4, 2, 10*ms, 250, 3*time.Second)
	sc.Warmup = 500 * ms
	sc.Servers = append(sc.Servers, scenarios.ServerGroup{
		Name: "slow", Count: 1, Workers: 1, QueueCapacity: 20,
		Service:       scenarios.Service{Dist: "exp", Mean: 20 * ms},
		ObjectService: scenarios.Service{Dist: "exp", Mean: ms},
		Weight:        2,
	})
	sc.Manager.ReportInterval = dur(20 * ms)
	sc.Manager.ViewTTL = 200 * ms
	sc.Policy.Condition = "queue-delay"
	sc.Policy.Threshold = scenarios.Threshold{Delay: 15 * ms}
	sc.Policy.Target = "p2c"
	sc.Policy.MaxHops = 2
	sc.Network = scenarios.Network{RTT: 400 * time.Microsecond, Overhead: 50 * time.Microsecond}
	sc.Workload.Dispatch = "weighted"
	sc.Workload.Timeout = 150 * ms
	sc.Workload.Session = scenarios.Session{Pages: 2, Objects: 2, Think: 30 * ms}
	sc.Faults = []scenarios.Fault{
		{At: 800 * ms, Server: "slow-1", Action: "slowdown", Factor: 4, For: 500 * ms, ServerIndex: 4},
		{At: 1500 * ms, Server: "web-2", Action: "crash", For: 400 * ms, ServerIndex: 1},
		{At: 2000 * ms, Action: "manager-outage", For: 500 * ms, ServerIndex: -1},
		{At: 2200 * ms, Action: "lost-reports", Loss: 0.5, For: 300 * ms, ServerIndex: -1},
	}
	return sc
}

// TestEveryRequestHasOneRecord: under every fault at once, each page
// request issued has exactly one record, all outcomes occur, and the
// run drains.
func TestEveryRequestHasOneRecord(t *testing.T) {
	for _, est := range []string{"hol", "ewma", "predicted"} {
		for _, placement := range []string{"local", "central"} {
			sc := chaos()
			sc.Policy.Estimator = est
			sc.Manager.Decision = placement
			s, err := newSimulation(sc, &memRecorder{})
			if err != nil {
				t.Fatal(err)
			}
			m := s.rec.(*memRecorder)
			if err := s.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			ids := map[uint64]int{}
			outcomes := map[results.Outcome]int{}
			redirects := 0
			for _, r := range m.reqs {
				ids[r.ID]++
				outcomes[r.Outcome]++
				redirects += r.Redirects
				if r.Done < r.Scheduled {
					t.Fatalf("record ends before it starts: %+v", r)
				}
			}
			for id := uint64(0); id < uint64(len(m.reqs)); id++ {
				if ids[id] != 1 {
					t.Fatalf("%s/%s: request %d has %d records", est, placement, id, ids[id])
				}
			}
			if n := s.inUseLive(); n != 0 || s.inFlight != 0 {
				t.Errorf("%s/%s: %d slots, %d pages still in use after the run", est, placement, n, s.inFlight)
			}
			t.Logf("%s/%s: %d requests, outcomes %v, %d redirects", est, placement, len(m.reqs), outcomes, redirects)
			if outcomes[results.Completed] == 0 || outcomes[results.Error] == 0 || outcomes[results.Timeout] == 0 || redirects == 0 {
				t.Errorf("%s/%s: outcomes %v, redirects %d: want completions, errors, timeouts and redirects", est, placement, outcomes, redirects)
			}
		}
	}
}

// TestDeterministic: the same scenario and seed give the same records
// and samples; another seed does not.
func TestDeterministic(t *testing.T) {
	a, b := runMem(t, chaos()), runMem(t, chaos())
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs of the same scenario differ")
	}
	sc := chaos()
	sc.Seed = 2
	if c := runMem(t, sc); reflect.DeepEqual(a.reqs, c.reqs) {
		t.Fatal("seeds 1 and 2 give the same records")
	}
}

// TestContextCancel: a cancelled context stops the run with its error.
func TestContextCancel(t *testing.T) {
	sc := baseScenario(10, 1, ms, 9000, time.Hour)
	s, err := newSimulation(sc, &latencyRecorder{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.run(ctx); err != context.Canceled {
		t.Fatalf("run = %v, want context.Canceled", err)
	}
}

// TestNextPageKeepsItsOwnDeadline: the second page of a session reuses
// the first page's slot; the first page's deadline (150 ms) must not time
// the second page (100..200 ms, deadline 250 ms) out.
func TestNextPageKeepsItsOwnDeadline(t *testing.T) {
	sc := traced(1, 100*ms, 0)
	sc.Workload.Timeout = 150 * ms
	sc.Workload.Session = scenarios.Session{Pages: 2}
	got := byID(runMem(t, sc).reqs)
	if len(got) != 2 || got[1].Outcome != results.Completed || got[1].Scheduled != 100*ms || got[1].Done != 200*ms {
		t.Fatalf("records %+v, want the second page completed at 200ms", got)
	}
}

// TestObjectsInParallelWithTimeouts: eight 50 ms objects, six requested
// at once from a one-worker server, each bounded by the 120 ms timeout.
// Served in order: #1 10..60 ms and #2 60..110 ms succeed (#7 and #8 are
// requested as they end); #3-#6 time out at 130 ms, #7 at 180 ms and #8
// at 230 ms, when the page's record is written. The server still serves
// every object, and the run drains.
func TestObjectsInParallelWithTimeouts(t *testing.T) {
	sc := traced(1, 10*ms, 0)
	sc.Servers[0].ObjectService = scenarios.Service{Dist: "const", Mean: 50 * ms}
	sc.Workload.Session = scenarios.Session{Pages: 1, Objects: 8}
	sc.Workload.Timeout = 120 * ms
	s, err := newSimulation(sc, &memRecorder{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := s.rec.(*memRecorder)
	if len(m.reqs) != 1 {
		t.Fatalf("%d records, want 1", len(m.reqs))
	}
	if r := m.reqs[0]; r.Outcome != results.Completed || r.Done != 10*ms || r.Objects != 2 || r.ObjectsDone != 230*ms {
		t.Errorf("record %+v: want completed at 10ms, 2 objects, objects done at 230ms", r)
	}
	var busy time.Duration
	for _, sm := range m.samples {
		busy += sm.BusyTime
	}
	if want := 10*ms + 8*50*ms; busy != want {
		t.Errorf("busy time %v, want %v", busy, want)
	}
	if s.inUse != 0 {
		t.Errorf("%d slots still in use", s.inUse)
	}
}

// TestCentralPlacementFollowsInstructions: two servers, queue-length
// threshold 0, reports every 10 ms. At 3 ms web-1 holds one request: a
// local decision redirects the arrival at once, but under central
// placement the manager has flagged nobody yet (its tick at 0 had no
// reports), so it is served. By the tick at 20 ms both servers have
// reported a request (at 10 ms) and are flagged; with no calm peer the
// flagged web-2 picks its target by the target rule, so the arrival at
// 25 ms is redirected.
func TestCentralPlacementFollowsInstructions(t *testing.T) {
	redirected := func(placement string) []bool {
		sc := traced(2, 50*ms, 1*ms, 2*ms, 3*ms, 25*ms)
		sc.Manager.ReportInterval = dur(10 * ms)
		sc.Manager.Decision = placement
		sc.Policy.Condition = "queue-length"
		sc.Policy.Threshold = scenarios.Threshold{Count: 0}
		var out []bool
		for _, r := range byID(runMem(t, sc).reqs) {
			out = append(out, r.Redirects > 0)
		}
		return out
	}
	if got, want := redirected("local"), []bool{false, false, true, true}; !slices.Equal(got, want) {
		t.Errorf("local: redirected %v, want %v", got, want)
	}
	if got, want := redirected("central"), []bool{false, false, false, true}; !slices.Equal(got, want) {
		t.Errorf("central: redirected %v, want %v", got, want)
	}
}

// TestQueueDelayExactView: with an exact view and the queue-delay
// condition, a server's queue delay is its head-of-line age at the
// decision instant. One worker, 100 ms service, threshold 30 ms: the
// request arriving at 20 ms waits behind one in service; at 60 ms the
// head has waited 40 ms > 30 ms, so the arrival is redirected to the idle
// peer, while at 45 ms (head 25 ms old) it was not.
func TestQueueDelayExactView(t *testing.T) {
	sc := traced(2, 100*ms, 0, 20*ms, 45*ms, 60*ms)
	sc.Workload.Dispatch = "weighted"
	sc.Servers = append(sc.Servers, sc.Servers[0])
	sc.Servers[0].Count, sc.Servers[1].Count = 1, 1
	sc.Servers[1].Name, sc.Servers[1].Weight = "idle", 0 // no browser is sent there first
	sc.Policy.Condition = "queue-delay"
	sc.Policy.Threshold = scenarios.Threshold{Delay: 30 * ms}
	var got []int
	for _, r := range byID(runMem(t, sc).reqs) {
		got = append(got, r.Final)
	}
	if want := []int{0, 0, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("final servers %v, want %v", got, want)
	}
}

// TestRandomScenariosKeepInvariants runs many random small scenarios
// (every dispatch, condition, estimator, target, placement, exact or
// reported views, rtt, sessions, faults) and checks the invariants every
// run must keep: it ends, every issued page request has exactly one
// record, records end after they start and name real servers, hops are
// consistent with redirects, and no slot is left in use.
func TestRandomScenariosKeepInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(6)
		sc := baseScenario(n, 1+r.IntN(3), time.Duration(1+r.IntN(20))*ms, 0, time.Duration(200+r.IntN(800))*ms)
		sc.Seed = r.Uint64()
		sc.Warmup = time.Duration(r.IntN(100)) * ms
		sc.Servers[0].QueueCapacity = 1 + r.IntN(50)
		sc.Servers[0].Service.Dist = pick("exp", "const", "lognormal")
		sc.Servers[0].ObjectService = scenarios.Service{Dist: "exp", Mean: time.Duration(r.IntN(3)) * ms}
		rate := (0.3 + 1.2*r.Float64()) * float64(n*sc.Servers[0].Workers) / sc.Servers[0].Service.Mean.Seconds()
		sc.Workload.Arrival = scenarios.Arrival{Process: "poisson", Rate: scenarios.Rate(rate)}
		if r.IntN(4) == 0 {
			sc.Workload.Arrival = scenarios.Arrival{Process: "closed", Concurrency: 1 + r.IntN(20), Requests: r.IntN(300)}
		}
		sc.Workload.Dispatch = pick("random", "round-robin", "weighted", "jsq", "p2c")
		sc.Workload.Timeout = time.Duration(r.IntN(200)) * ms
		sc.Workload.MaxInFlight = r.IntN(100)
		sc.Workload.MaxRedirects = 1 + r.IntN(3)
		sc.Workload.Session = scenarios.Session{Pages: 1 + r.IntN(3), Objects: r.IntN(8), Think: time.Duration(r.IntN(20)) * ms}
		sc.Manager.ReportInterval = dur(time.Duration(r.IntN(3)) * 10 * ms)
		sc.Manager.Decision = pick("local", "central")
		sc.Manager.ViewTTL = time.Duration(20+r.IntN(100)) * ms
		sc.Manager.Expire = time.Duration(10+r.IntN(50)) * ms
		sc.Policy.Condition = pick("none", "queue-length", "queue-delay")
		sc.Policy.Threshold = scenarios.Threshold{Count: r.IntN(4), Delay: time.Duration(r.IntN(20)) * ms}
		sc.Policy.Estimator = pick("hol", "ewma", "predicted")
		sc.Policy.Target = pick("least-loaded", "random", "round-robin", "p2c", "probe")
		sc.Policy.MaxHops = 1 + r.IntN(3)
		sc.Policy.Fraction = ptr(0.2 + 0.8*r.Float64())
		sc.Network = scenarios.Network{RTT: time.Duration(r.IntN(3)) * ms, Overhead: time.Duration(r.IntN(2)) * 100 * time.Microsecond}
		for k := r.IntN(4); k > 0; k-- {
			f := scenarios.Fault{At: time.Duration(r.IntN(int(sc.Duration/ms))) * ms, For: time.Duration(r.IntN(300)) * ms,
				Action: pick("slowdown", "crash", "restart", "manager-outage", "lost-reports"), ServerIndex: -1,
				Factor: 0.5 + 4*r.Float64(), Loss: r.Float64()}
			if f.Action == "slowdown" || f.Action == "crash" || f.Action == "restart" || r.IntN(2) == 0 {
				f.ServerIndex = r.IntN(n)
			}
			sc.Faults = append(sc.Faults, f)
		}
		s, err := newSimulation(sc, &memRecorder{})
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		// Bounded: a run that does not end is a failure, not a hang.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = s.run(ctx)
		cancel()
		if err != nil {
			t.Fatalf("trial %d: %v (scenario %+v)", trial, err, sc)
		}
		m := s.rec.(*memRecorder)
		seen := make([]int, s.nextID)
		for _, q := range m.reqs {
			seen[q.ID]++
			if q.Done < q.Scheduled || q.First < -1 || q.First >= n || q.Final < -1 || q.Final >= n {
				t.Fatalf("trial %d: bad record %+v", trial, q)
			}
			redirects := 0
			for _, h := range hops(q) {
				if h.Status == 302 {
					redirects++
				}
			}
			if q.Outcome == results.Error && q.Status == 302 {
				redirects-- // the redirect beyond max_redirects, not followed
			}
			if q.NHops <= results.MaxRecordedHops && redirects != q.Redirects {
				t.Fatalf("trial %d: %d redirect hops, Redirects %d: %+v", trial, redirects, q.Redirects, q)
			}
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("trial %d: request %d has %d records", trial, id, k)
			}
		}
		if n := s.inUseLive(); n != 0 || s.inFlight != 0 || s.pendingPages != 0 {
			t.Fatalf("trial %d: %d slots, %d pages and %d pending pages in use after the run", trial, n, s.inFlight, s.pendingPages)
		}
	}
}

// TestObjectsRejectedInline: with zero rtt an object answered 503 ends at
// the instant it was sent, inside the loop starting the page's objects;
// the page must still fetch each object once and end once. Capacity 1:
// object 1 is served (10..15 ms), objects 2 and 3 are rejected at 10 ms.
func TestObjectsRejectedInline(t *testing.T) {
	sc := traced(1, 10*ms, 0)
	sc.Servers[0].QueueCapacity = 1
	sc.Servers[0].ObjectService = scenarios.Service{Dist: "const", Mean: 5 * ms}
	sc.Workload.Session = scenarios.Session{Pages: 1, Objects: 3}
	m := runMem(t, sc)
	if len(m.reqs) != 1 {
		t.Fatalf("%d records, want 1", len(m.reqs))
	}
	if r := m.reqs[0]; r.Objects != 1 || r.ObjectsDone != 15*ms {
		t.Errorf("record %+v: want 1 object fetched, the last ending at 15ms", r)
	}
	rejected := 0
	for _, s := range m.samples {
		rejected += s.Rejected
	}
	if rejected != 2 {
		t.Errorf("%d rejections, want 2", rejected)
	}
}

// inUseLive counts the slots in use that are not exchanges a browser has
// abandoned (those end with the run, unfinished).
func (s *simulation) inUseLive() int {
	n := 0
	for i := range s.reqs {
		r := &s.reqs[i]
		if r.phase == phFree {
			continue
		}
		if r.abandoned || (r.object && s.reqs[r.parent].abandoned) {
			continue
		}
		n++
	}
	return n
}

// TestHugeSlowdownEnds: a slowdown of 1e9 leaves requests in service for
// centuries; the run still ends once every page request has its record
// (those browsers time out), in bounded time and memory.
func TestHugeSlowdownEnds(t *testing.T) {
	for _, factor := range []float64{1e9, 1e15, 1e300} { // 1e15 and up overflowed into short services
		sc := baseScenario(2, 2, 10*ms, 100, 5*time.Second)
		sc.Workload.Timeout = time.Second
		sc.Faults = []scenarios.Fault{{At: time.Second, Server: "web-1", ServerIndex: 0, Action: "slowdown", Factor: factor}}
		m := &memRecorder{}
		s, err := newSimulation(sc, m)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := s.run(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		timeouts := 0
		for _, q := range m.reqs {
			if q.Outcome == results.Timeout {
				timeouts++
			}
		}
		// web-1 serves nothing after 1s: its browsers time out.
		if s.now > 10*time.Second || timeouts < 50 || len(m.samples) > 200 {
			t.Fatalf("factor %g: ended at %v with %d timeouts and %d samples", factor, s.now, timeouts, len(m.samples))
		}
		t.Logf("factor %g: ended at %v: %d requests, %d timed out, %d samples", factor, s.now, len(m.reqs), timeouts, len(m.samples))
	}
}
