package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// hopOf reads the redirlab_hop counter of a request (0 when absent).
func hopOf(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("redirlab_hop"))
	return n
}

func TestRedirectHopsAreRecorded(t *testing.T) {
	var urls []string
	urls = servers(t, 2, func(i int, w http.ResponseWriter, r *http.Request) {
		if hopOf(r) == 0 { // redirect every fresh request to the peer, like an overloaded server
			http.Redirect(w, r, urls[1-i]+r.URL.Path+"?redirlab_hop=1", http.StatusFound)
			return
		}
		w.Write([]byte("page"))
	})
	sc := scenario(2, constant(100), 200*time.Millisecond)
	sc.Workload.Dispatch = "round-robin"
	var c collector
	if err := run(context.Background(), sc, urls, &c, Options{}); err != nil {
		t.Fatal(err)
	}
	recs := c.sorted()
	if len(recs) != 20 { // constant 100/s over 200ms: arrivals at 0, 10ms, ..., 190ms
		t.Fatalf("got %d records, want 20", len(recs))
	}
	checkIDs(t, recs)
	for _, r := range recs {
		want0 := int16(r.ID % 2) // round-robin from server 0
		if r.Outcome != results.Completed || r.NHops != 2 || r.Redirects != 1 {
			t.Fatalf("record %d: outcome %v, %d hops, %d redirects; want completed, 2 hops, 1 redirect", r.ID, r.Outcome, r.NHops, r.Redirects)
		}
		h0, h1 := r.Hops[0], r.Hops[1]
		if h0.Server != want0 || h0.Status != 302 || h1.Server != 1-want0 || h1.Status != 200 {
			t.Errorf("record %d hops %+v %+v: want server %d 302 then server %d 200", r.ID, h0, h1, want0, 1-want0)
		}
		if r.First != int(want0) || r.Final != int(1-want0) || r.Status != 200 {
			t.Errorf("record %d: first %d final %d status %d", r.ID, r.First, r.Final, r.Status)
		}
		if !(r.Scheduled <= r.Sent && r.Sent <= h0.At && h0.At <= h1.At && h1.At == r.Done) {
			t.Errorf("record %d: times out of order: scheduled %v sent %v hops %v %v done %v", r.ID, r.Scheduled, r.Sent, h0.At, h1.At, r.Done)
		}
	}
}

func TestRedirectEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		location func(self string, r *http.Request) string // "" serves the page
		wantOut  results.Outcome
		wantHops int
	}{
		// A relative Location resolves against the URL that answered, like a browser.
		{"relative", func(_ string, r *http.Request) string {
			if hopOf(r) < 2 {
				return "page?redirlab_hop=" + strconv.Itoa(hopOf(r)+1)
			}
			return ""
		}, results.Completed, 3},
		// A server that always redirects: the browser gives up after MaxRedirects (3) with an error.
		{"loop", func(self string, r *http.Request) string {
			return self + "/page?redirlab_hop=" + strconv.Itoa(hopOf(r)+1)
		}, results.Error, 4},
		// A redirect without Location is an error, not a page.
		{"no-location", func(string, *http.Request) string { return "-" }, results.Error, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var self string
			urls := servers(t, 1, func(_ int, w http.ResponseWriter, r *http.Request) {
				switch loc := tc.location(self, r); loc {
				case "":
					w.Write([]byte("page"))
				case "-":
					w.WriteHeader(http.StatusFound)
				default:
					w.Header().Set("Location", loc)
					w.WriteHeader(http.StatusFound)
				}
			})
			self = urls[0]
			sc := scenario(1, constant(10), 100*time.Millisecond) // one request, at 0
			sc.Workload.MaxRedirects = 3
			var c collector
			if err := run(context.Background(), sc, urls, &c, Options{}); err != nil {
				t.Fatal(err)
			}
			recs := c.sorted()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if r.Outcome != tc.wantOut || r.NHops != tc.wantHops {
				t.Fatalf("outcome %v with %d hops %v, want %v with %d", r.Outcome, r.NHops, r.Hops[:min(r.NHops, 8)], tc.wantOut, tc.wantHops)
			}
			for _, h := range r.Hops[:r.NHops] {
				if h.Server != 0 {
					t.Errorf("hop %+v: want server 0", h)
				}
			}
		})
	}
}

// TestStallShowsInLatency checks that latency has no coordinated omission: a
// server that stalls for 1 s in the middle of a 10 s open-loop run at
// 200/s keeps receiving requests on schedule, and the ones scheduled
// during the stall wait for its end: a tenth of all requests have
// latencies spread evenly over 0..1 s, so p99 is about 0.9 s and max about
// 1 s, as wrk2 would report. A closed-loop generator timing from the
// actual send would show a handful of slow requests (p99 near the service
// time).
func TestStallShowsInLatency(t *testing.T) {
	var stallFrom, stallTo atomic.Int64 // unix ns
	urls := servers(t, 1, func(_ int, w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		if from, to := stallFrom.Load(), stallTo.Load(); from != 0 && now >= from && now < to {
			time.Sleep(time.Duration(to - now))
		}
		w.Write([]byte("page"))
	})
	sc := scenario(1, constant(200), 10*time.Second)
	rec, err := results.NewRecorder(sc, results.Real, results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stallFrom.Store(start.Add(4500 * time.Millisecond).UnixNano())
	stallTo.Store(start.Add(5500 * time.Millisecond).UnixNano())
	if err := Run(context.Background(), sc, urls, rec, Options{}); err != nil {
		t.Fatal(err)
	}
	sum, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	q := sum.Requests
	if q.Sent != 2000 || q.Completed != 2000 {
		t.Fatalf("requests %+v: want 2000 sent and completed", q)
	}
	// Tolerances: the stall window is placed by the test's clock, a few ms
	// from the generator's; 0.8 s (against about 0.9) leaves room for that
	// and for scheduling noise. A generator timing from the actual send
	// would see one slow request per connection (max near 1 s) but p99
	// near the service time: p99 is what tells them apart.
	if sum.LatencyMS.P99 < 800 || sum.LatencyMS.Max < 900 {
		t.Errorf("latency %+v: want p99 >= 800ms and max about 1000ms (the stall)", sum.LatencyMS)
	}
	t.Logf("latency %+v", sum.LatencyMS)
}

func TestClientRejectsBeyondMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	urls := servers(t, 1, func(_ int, w http.ResponseWriter, r *http.Request) {
		select { // hold every request until the schedule is over
		case <-release:
		case <-r.Context().Done():
		}
		w.Write([]byte("page"))
	})
	sc := scenario(1, constant(100), 500*time.Millisecond) // 50 requests
	sc.Workload.MaxInFlight = 5
	rec, err := results.NewRecorder(sc, results.Real, results.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	// The held requests are released once the other 45 have been turned
	// away, so the outcome does not depend on the machine's speed.
	both := teeSink{rec, &c, &releaseAfter{n: 45, release: release}}
	if err := run(context.Background(), sc, urls, both, Options{}); err != nil {
		t.Fatal(err)
	}
	sum, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	q := sum.Requests
	if q.Sent != 50 || q.Sent != q.Completed+q.Errors+q.Rejected || q.Completed != 5 || q.Rejected != 45 {
		t.Fatalf("requests %+v: want 50 sent = 5 completed + 45 rejected by the client", q)
	}
	recs := c.sorted()
	checkIDs(t, recs)
	for _, r := range recs[5:] {
		if r.Outcome != results.Rejected || r.Status != 0 || r.NHops != 0 || r.First != -1 {
			t.Fatalf("record %+v: want a client-side rejection (status 0, no hop)", r)
		}
	}
}

// releaseAfter closes release once it has seen n rejections.
type releaseAfter struct {
	mu      sync.Mutex
	n       int
	release chan struct{}
}

func (r *releaseAfter) Add(q *results.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if q.Outcome == results.Rejected {
		if r.n--; r.n == 0 {
			close(r.release)
		}
	}
}

func (r *releaseAfter) Note(string)                     {}
func (r *releaseAfter) AddSample(*results.ServerSample) {}

// teeSink sends records to several sinks.
type teeSink []sink

func (t teeSink) Add(r *results.Request) {
	for _, s := range t {
		s.Add(r)
	}
}

func (t teeSink) AddSample(*results.ServerSample) {}

func (t teeSink) Note(n string) {
	for _, s := range t {
		s.Note(n)
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		status int // answered by the server; 0 holds the request past the timeout
		want   results.Outcome
	}{
		// A page.
		{"ok", 200, results.Completed},
		// A full queue: rejected by the server.
		{"full", 503, results.Rejected},
		// Any other server failure.
		{"crash", 500, results.Error},
		// Not a page either.
		{"missing", 404, results.Error},
		// No answer within workload.timeout: a timeout, recorded at the timeout.
		{"stuck", 0, results.Timeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			urls := servers(t, 1, func(_ int, w http.ResponseWriter, r *http.Request) {
				if tc.status == 0 {
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
					return
				}
				if tc.status == 503 {
					w.Header().Set("Retry-After", "1")
				}
				w.WriteHeader(tc.status)
			})
			sc := scenario(1, constant(20), 100*time.Millisecond) // 2 requests
			sc.Workload.Timeout = 150 * time.Millisecond
			var c collector
			if err := run(context.Background(), sc, urls, &c, Options{}); err != nil {
				t.Fatal(err)
			}
			recs := c.sorted()
			checkIDs(t, recs)
			if len(recs) != 2 {
				t.Fatalf("%d records, want 2", len(recs))
			}
			for _, r := range recs {
				if r.Outcome != tc.want || r.Status != tc.status {
					t.Errorf("record %d: %v status %d, want %v status %d", r.ID, r.Outcome, r.Status, tc.want, tc.status)
				}
				if tc.want == results.Timeout && r.Latency() != sc.Workload.Timeout {
					t.Errorf("record %d: timeout recorded with latency %v, want exactly the timeout %v", r.ID, r.Latency(), sc.Workload.Timeout)
				}
			}
		})
	}
}

func TestTransportErrorIsRecorded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	sc := scenario(1, constant(20), 100*time.Millisecond)
	var c collector
	if err := run(context.Background(), sc, []string{"http://" + addr}, &c, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.sorted() {
		if r.Outcome != results.Error || r.NHops != 1 || r.Hops[0].Server != -1 || r.Final != -1 {
			t.Errorf("record %+v: want an error with one unknown-server hop", r)
		}
	}
	if len(c.sorted()) != 2 {
		t.Errorf("%d records, want 2", len(c.sorted()))
	}
}

// TestSessionObjectsAndThink follows one session of 3 pages with 4
// objects each and 100ms think time: objects come from the server that
// served the page over kept-alive connections, and each next page is
// scheduled think after the previous page's objects completed.
func TestSessionObjectsAndThink(t *testing.T) {
	var mu sync.Mutex
	objectsAt := map[int]int{} // server -> object requests
	pagesAt := map[int]int{}
	var conns atomic.Int64
	var urls []string
	mk := func(i int) *httptest.Server {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(ServerHeader, fmt.Sprintf("web-%d", i+1))
			switch {
			case i == 0 && hopOf(r) == 0:
				http.Redirect(w, r, urls[1]+"/page?redirlab_hop=1", http.StatusFound)
				return
			case strings.HasPrefix(r.URL.Path, "/object/"):
				mu.Lock()
				objectsAt[i]++
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			default:
				mu.Lock()
				pagesAt[i]++
				mu.Unlock()
			}
			w.Write([]byte("x"))
		}))
		s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		}
		s.Start()
		t.Cleanup(s.Close)
		return s
	}
	s0, s1 := mk(0), mk(1)
	urls = []string{s0.URL, s1.URL}
	sc := scenario(2, constant(0.5), 2*time.Second) // one session, at 0
	sc.Workload.Dispatch = "round-robin"            // to server 0, which redirects to 1
	sc.Workload.Session = scenarios.Session{Pages: 3, Objects: 4, Think: 100 * time.Millisecond}
	var c collector
	// No prewarming: the connections counted are those the pages and
	// objects needed.
	if err := run(context.Background(), sc, urls, &c, Options{NoPrewarm: true}); err != nil {
		t.Fatal(err)
	}
	recs := c.sorted()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3 pages", len(recs))
	}
	checkIDs(t, recs)
	for k, r := range recs {
		if r.Outcome != results.Completed || r.Objects != 4 || r.ObjectsDone < r.Done {
			t.Errorf("page %d: %v, %d objects done at %v (page at %v)", k, r.Outcome, r.Objects, r.ObjectsDone, r.Done)
		}
		if k > 0 && r.Scheduled != recs[k-1].ObjectsDone+100*time.Millisecond {
			t.Errorf("page %d scheduled at %v, want previous objects done %v + think 100ms", k, r.Scheduled, recs[k-1].ObjectsDone)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if objectsAt[1] != 12 || objectsAt[0] != 0 || pagesAt[1] != 3 {
		t.Errorf("objects per server %v, pages %v: want all 12 objects and 3 pages at server 1 (it served the pages)", objectsAt, pagesAt)
	}
	// 1 connection to server 0 (kept alive across the 3 redirects) and at
	// most 6 to server 1 (parallel objects, reused for later pages).
	if n := conns.Load(); n > 7 {
		t.Errorf("%d connections opened for 3 pages and 12 objects: want keep-alive reuse (at most 7)", n)
	}
}

func TestRoundRobinDispatchOverHTTP(t *testing.T) {
	var served [3]atomic.Int64
	urls := servers(t, 3, func(i int, w http.ResponseWriter, r *http.Request) {
		served[i].Add(1)
		w.Write([]byte("page"))
	})
	sc := scenario(3, constant(100), 300*time.Millisecond) // 30 requests
	sc.Workload.Dispatch = "round-robin"
	var c collector
	if err := run(context.Background(), sc, urls, &c, Options{}); err != nil {
		t.Fatal(err)
	}
	for i := range served {
		if n := served[i].Load(); n != 10 {
			t.Errorf("server %d served %d, want 10 of 30 under round-robin", i, n)
		}
	}
	for _, r := range c.sorted() {
		if r.First != int(r.ID%3) || r.Final != r.First {
			t.Errorf("record %d: first %d final %d, want %d", r.ID, r.First, r.Final, r.ID%3)
		}
	}
}

// TestServerByHostFallback: responses without the server header are
// attributed by the host they came from.
func TestServerByHostFallback(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("p")) }))
	defer s.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("p")) }))
	defer other.Close()
	sc := scenario(2, constant(20), 100*time.Millisecond)
	sc.Workload.Dispatch = "round-robin"
	var c collector
	if err := run(context.Background(), sc, []string{s.URL, other.URL}, &c, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.sorted() {
		if r.Final != int(r.ID%2) || r.Hops[0].Server != int16(r.ID%2) {
			t.Errorf("record %d attributed to %d, want %d", r.ID, r.Final, r.ID%2)
		}
	}
}

func TestCancelRecordsInFlight(t *testing.T) {
	urls := servers(t, 1, func(_ int, w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	})
	sc := scenario(1, constant(100), 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var c collector
	start := time.Now()
	err := run(ctx, sc, urls, &c, Options{})
	took := time.Since(start)
	if err != context.DeadlineExceeded {
		t.Fatalf("run returned %v, want the context's error", err)
	}
	recs := c.sorted()
	checkIDs(t, recs)
	// About 30 (300ms at 100/s): at most one per 10ms the run lasted.
	if len(recs) == 0 || len(recs) > int(took/(10*time.Millisecond))+1 {
		t.Fatalf("%d records in %v at 100/s", len(recs), took)
	}
	// Every request was in flight at the cancellation: interrupted. A
	// connection torn down in the same instant may surface as an error
	// first; it still has its one record.
	interrupted := 0
	for _, r := range recs {
		switch r.Outcome {
		case results.Interrupted:
			interrupted++
		case results.Error:
		default:
			t.Errorf("record %d: %v, want interrupted (cancelled in flight)", r.ID, r.Outcome)
		}
	}
	if interrupted < len(recs)*9/10 {
		t.Errorf("%d of %d records interrupted, want nearly all", interrupted, len(recs))
	}
}

func TestProgressIsReported(t *testing.T) {
	urls := servers(t, 1, nil)
	sc := scenario(1, constant(100), 350*time.Millisecond)
	var mu sync.Mutex
	var seen []Progress
	opts := Options{ProgressInterval: 100 * time.Millisecond, Progress: func(p Progress) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	}}
	if err := run(context.Background(), sc, urls, &collector{}, opts); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 3 {
		t.Fatalf("%d progress reports over 350ms every 100ms, want at least 3", len(seen))
	}
	last := seen[len(seen)-1]
	if last.Scheduled != 35 || last.InFlight != 0 || last.Total != 350*time.Millisecond {
		t.Errorf("final progress %+v: want 35 scheduled, none in flight", last)
	}
}

func TestBadInput(t *testing.T) {
	ok := scenario(1, constant(10), time.Second)
	tests := []struct {
		name    string
		mutate  func(sc *scenarios.Scenario)
		targets []string
		opts    Options
		want    string
	}{
		// Targets must be absolute URLs.
		{"relative target", nil, []string{"127.0.0.1/page"}, Options{}, "want an absolute http"},
		// At least one target.
		{"no targets", nil, nil, Options{}, "no targets"},
		// Unknown dispatch names the field.
		{"dispatch", func(sc *scenarios.Scenario) { sc.Workload.Dispatch = "dns" }, nil, Options{}, "workload.dispatch"},
		// A zero timeout would time out everything.
		{"timeout", func(sc *scenarios.Scenario) { sc.Workload.Timeout = 0 }, nil, Options{}, "workload.timeout"},
		// The in-flight bound must allow one request.
		{"max in flight", func(sc *scenarios.Scenario) { sc.Workload.MaxInFlight = 0 }, nil, Options{}, "workload.max_in_flight"},
		// Options are checked too.
		{"spin", nil, nil, Options{Spin: time.Second}, "Spin"},
		// The arrival process is checked by loadgen/arrival.
		{"arrival", func(sc *scenarios.Scenario) { sc.Workload.Arrival.Process = "bursty" }, nil, Options{}, "workload.arrival"},
		// Closed loop needs browsers.
		{"closed concurrency", func(sc *scenarios.Scenario) { sc.Workload.Arrival = scenarios.Arrival{Process: "closed"} }, nil, Options{}, "workload.arrival.concurrency"},
		// hey does not tell when a request ends: no jsq in closed loop.
		{"closed jsq", func(sc *scenarios.Scenario) {
			sc.Workload.Arrival = scenarios.Arrival{Process: "closed", Concurrency: 2}
			sc.Workload.Dispatch = "jsq"
		}, nil, Options{}, "workload.dispatch: jsq"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := *ok
			if tc.mutate != nil {
				tc.mutate(&sc)
			}
			targets := tc.targets
			if targets == nil && tc.name != "no targets" {
				targets = []string{"http://127.0.0.1:1"}
			}
			err := run(context.Background(), &sc, targets, &collector{}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestEmbeddedScenarios runs embedded scenarios, loaded and defaulted by
// the scenarios package, against loopback servers that mimic redirlab's
// (named like its instances): every record is attributed to a server.
func TestEmbeddedScenarios(t *testing.T) {
	tests := []struct {
		name string
		sets []string
	}{
		// Open loop: four servers (web-1..3, slow-1), Poisson, random dispatch.
		{"default", []string{"duration=1s", "warmup=200ms", "workload.arrival.rate=200/s"}},
		// Closed loop on hey: 40 browsers.
		{"closed-loop", []string{"duration=1s", "warmup=0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := scenarios.Load(tc.name, tc.sets...)
			if err != nil {
				t.Fatal(err)
			}
			inst := sc.Instances()
			var urls []string
			for _, in := range inst {
				s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set(ServerHeader, in.Name)
					w.Write([]byte("page"))
				}))
				t.Cleanup(s.Close)
				urls = append(urls, s.URL)
			}
			var c collector
			if err := run(context.Background(), sc, urls, &c, Options{ServerCounters: noCounters}); err != nil {
				t.Fatal(err)
			}
			recs := c.sorted()
			checkIDs(t, recs)
			if len(recs) < 50 {
				t.Fatalf("%d records, want many", len(recs))
			}
			closedLoop := sc.Workload.Arrival.Process == "closed"
			for _, r := range recs {
				if r.Outcome != results.Completed {
					t.Fatalf("record %+v: want completed", r)
				}
				// hey hides which server answered when there are several.
				if !closedLoop && (r.Final < 0 || r.Final >= len(inst) || r.Final != r.First) {
					t.Fatalf("record %d: first %d final %d, want a known server", r.ID, r.First, r.Final)
				}
			}
		})
	}
}

// TestShedAndRejected: a 503 marked with the shed header is recorded as
// shed, a plain 503 as rejected, and neither is retried.
func TestShedAndRejected(t *testing.T) {
	var calls atomic.Int64
	urls := servers(t, 1, func(_ int, w http.ResponseWriter, _ *http.Request) {
		n := calls.Add(1)
		w.Header().Set("Retry-After", "1")
		if n%2 == 0 {
			w.Header().Set(ShedHeader, "1")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	sc := scenario(1, constant(100), 200*time.Millisecond) // 20 requests
	var c collector
	if err := run(context.Background(), sc, urls, &c, Options{}); err != nil {
		t.Fatal(err)
	}
	recs := c.sorted()
	shed, rejected := 0, 0
	for _, r := range recs {
		switch {
		case r.Outcome == results.Shed && r.Status == 503 && r.NHops == 1:
			shed++
		case r.Outcome == results.Rejected && r.Status == 503 && r.NHops == 1:
			rejected++
		default:
			t.Fatalf("record %+v: want one hop of 503, shed or rejected", r)
		}
	}
	if int64(len(recs)) != calls.Load() || shed == 0 || rejected == 0 || shed+rejected != len(recs) {
		t.Fatalf("%d records, %d calls: %d shed, %d rejected; want one call each, both outcomes", len(recs), calls.Load(), shed, rejected)
	}
}
