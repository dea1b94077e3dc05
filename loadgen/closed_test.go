package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

func closed(concurrency, requests int) scenarios.Arrival {
	return scenarios.Arrival{Process: "closed", Concurrency: concurrency, Requests: requests}
}

// TestClosedExactRequestCount: hey gives each of C workers N/C requests,
// dropping N mod C; the wrapper runs the remainder with fewer workers.
func TestClosedExactRequestCount(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		requests    int
	}{
		// 105 = 10 × 10 + 5: hey alone would send 100.
		{"remainder", 10, 105},
		// Fewer requests than browsers: hey alone would send 0.
		{"fewer than browsers", 8, 3},
		// A multiple of C: nothing to compensate.
		{"multiple", 4, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var served atomic.Int64
			urls := servers(t, 1, func(_ int, w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				w.Write([]byte("page"))
			})
			sc := scenario(1, closed(tc.concurrency, tc.requests), 10*time.Second)
			var c collector
			if err := run(context.Background(), sc, urls, &c, Options{ServerCounters: noCounters}); err != nil {
				t.Fatal(err)
			}
			recs := c.sorted()
			checkIDs(t, recs)
			if len(recs) != tc.requests || served.Load() != int64(tc.requests) {
				t.Fatalf("%d records, %d served; want %d", len(recs), served.Load(), tc.requests)
			}
			for _, r := range recs {
				if r.Outcome != results.Completed || r.Status != 200 || r.Done < r.Sent || r.Sent != r.Scheduled || r.First != 0 {
					t.Fatalf("record %+v: want a completed page timed from its send", r)
				}
			}
		})
	}
}

func noCounters(context.Context, string) (int64, error) { return 0, nil }

// TestClosedErrorsAreCounted: hey leaves failed requests out of its
// latencies; each still gets a record, and 503s are rejections.
func TestClosedErrorsAreCounted(t *testing.T) {
	var n atomic.Int64
	urls := servers(t, 1, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 0: // a crash mid-request: a transport error for the client
			panic(http.ErrAbortHandler)
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Write([]byte("page"))
		}
	})
	sc := scenario(1, closed(4, 200), 10*time.Second)
	var c collector
	if err := run(context.Background(), sc, urls, &c, Options{ServerCounters: noCounters}); err != nil {
		t.Fatal(err)
	}
	recs := c.sorted()
	checkIDs(t, recs)
	errs, rej, ok := c.count(results.Error), c.count(results.Rejected), c.count(results.Completed)
	// hey retries nothing, but net/http retries an idempotent GET once on a
	// connection that died before any response byte: the server may see
	// more than 200 requests, each error still costs one record.
	if len(recs) != 200 || errs == 0 || rej == 0 || ok+errs+rej != 200 {
		t.Fatalf("records %d: %d completed, %d errors, %d rejected; want 200 with errors and rejections counted", len(recs), ok, errs, rej)
	}
	found := false
	for _, note := range c.notes {
		found = found || strings.Contains(note, "failed requests carry no time")
	}
	if !found {
		t.Errorf("notes %q: want one saying where failed requests were placed", c.notes)
	}
}

// TestClosedRedirectsFromServerCounters: hey follows redirects silently,
// so the note reports the servers' own redirect counters.
func TestClosedRedirectsFromServerCounters(t *testing.T) {
	var redirects atomic.Int64
	var urls []string
	urls = servers(t, 2, func(i int, w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metrics":
			fmt.Fprintf(w, "# TYPE redirlab_server_redirects_total counter\nredirlab_server_redirects_total{server=\"web-%d\"} %d\n",
				i+1, map[bool]int64{true: redirects.Load(), false: 0}[i == 0])
		case i == 0 && hopOf(r) == 0:
			redirects.Add(1)
			http.Redirect(w, r, urls[1]+"/page?redirlab_hop=1", http.StatusFound)
		default:
			w.Write([]byte("page"))
		}
	})
	sc := scenario(2, closed(2, 50), 10*time.Second)
	sc.Workload.Dispatch = "round-robin" // half the requests start at server 0 and are redirected
	var c collector
	if err := run(context.Background(), sc, urls, &c, Options{}); err != nil {
		t.Fatal(err)
	}
	if c.count(results.Completed) != 50 {
		t.Fatalf("%d completed, want 50", c.count(results.Completed))
	}
	want := "25 redirects, 0.5000 per page request"
	if len(c.notes) != 1 || !strings.Contains(c.notes[0], want) {
		t.Fatalf("notes %q: want one containing %q", c.notes, want)
	}

	// Into a results.Recorder, the counters become the summary's
	// redirect figures.
	rec, err := results.NewRecorder(sc, results.Real, results.Options{NoRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), sc, urls, rec, Options{}); err != nil {
		t.Fatal(err)
	}
	sum, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Redirects.Total != 25 || sum.Redirects.Rate != 0.5 {
		t.Errorf("summary redirects %+v, want total 25, rate 0.5 from the servers' counters", sum.Redirects)
	}
	if !slices.ContainsFunc(sum.Notes, func(n string) bool { return strings.Contains(n, "servers' own counters") }) {
		t.Errorf("summary notes %q: want one saying the redirect figures come from the servers' counters", sum.Notes)
	}
}

func TestClosedForDuration(t *testing.T) {
	urls := servers(t, 1, nil)
	sc := scenario(1, closed(4, 0), 500*time.Millisecond)
	sc.Warmup = 200 * time.Millisecond
	var c collector
	start := time.Now()
	if err := run(context.Background(), sc, urls, &c, Options{ServerCounters: noCounters}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	recs := c.sorted()
	checkIDs(t, recs)
	if len(recs) < 10 || took < 700*time.Millisecond || took > 5*time.Second {
		t.Fatalf("%d records in %v: want many, stopping at warmup+duration (700ms)", len(recs), took)
	}
	last := recs[0].Scheduled
	for _, r := range recs {
		last = max(last, r.Scheduled)
	}
	if last > 800*time.Millisecond {
		t.Errorf("a request was sent at %v, after the 700ms horizon (+100ms)", last)
	}
}

// countFDs is the number of open file descriptors of this process.
func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestClosedLeavesNoConnections: hey keeps every keep-alive connection
// of its private transport open after a run; the wrapper closes them, so
// repeated runs keep the descriptor count flat. Without keep-alive hey
// closes them itself.
func TestClosedLeavesNoConnections(t *testing.T) {
	for _, noKeepAlive := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableKeepAlives=%v", noKeepAlive), func(t *testing.T) {
			urls := servers(t, 1, nil)
			sc := scenario(1, closed(20, 400), 10*time.Second)
			opts := Options{ServerCounters: noCounters, Transport: Transport{DisableKeepAlives: noKeepAlive}}
			settle := func(limit int) int { // server-side closes lag the client's by a moment
				n := countFDs(t)
				for deadline := time.Now().Add(2 * time.Second); n > limit && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
					n = countFDs(t)
				}
				return n
			}
			// One warm-up run opens whatever the runtime keeps (epoll, listener...).
			if err := run(context.Background(), sc, urls, &collector{}, opts); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			base := countFDs(t)
			for i := range 5 {
				var c collector
				if err := run(context.Background(), sc, urls, &c, opts); err != nil {
					t.Fatal(err)
				}
				if n := c.count(results.Completed); n != 400 {
					t.Fatalf("run %d: %d completed, want 400", i+1, n)
				}
				// Tolerance 4: descriptors the test binary may open for itself;
				// a leak would add 2 × 20 (client and server side) per run.
				if n := settle(base + 4); n > base+4 {
					t.Fatalf("run %d: %d open descriptors, %d before: hey's connections leak", i+1, n, base)
				}
			}
		})
	}
}

// TestClosedRefusesShed: hey reports status codes only, so the closed
// loop cannot tell a shed 503 from a full queue's and refuses to run the
// shed action rather than count shed requests as rejected.
func TestClosedRefusesShed(t *testing.T) {
	var served atomic.Int64
	urls := servers(t, 1, func(int, http.ResponseWriter, *http.Request) { served.Add(1) })
	sc := scenario(1, closed(2, 10), 10*time.Second)
	sc.Policy = scenarios.Policy{Condition: "queue-length", Action: "shed", Threshold: scenarios.Threshold{Raw: "4", Count: 4}, MaxHops: 1}
	var c collector
	err := run(context.Background(), sc, urls, &c, Options{ServerCounters: noCounters})
	if err == nil || !strings.Contains(err.Error(), "policy.action: shed") {
		t.Fatalf("error %v, want one naming policy.action: shed", err)
	}
	if served.Load() != 0 || len(c.sorted()) != 0 {
		t.Fatalf("%d served, %d records: want the run refused before any request", served.Load(), len(c.sorted()))
	}
}
