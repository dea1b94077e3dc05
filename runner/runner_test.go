package runner

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// load reads an embedded scenario with overrides.
func load(t *testing.T, name string, sets ...string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load(name, sets...)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// checkAccounting asserts that every scheduled request has exactly one
// record: sent == completed + errors + rejected in the summary, and
// requests.csv holds one row per sent request with distinct ids.
func checkAccounting(t *testing.T, dir string, s *results.Summary) {
	t.Helper()
	c := s.Requests
	if c.Sent == 0 {
		t.Fatalf("%s: no requests sent", dir)
	}
	if c.Sent != c.Completed+c.Errors+c.Rejected+c.Shed {
		t.Errorf("%s: sent %d != completed %d + errors %d + rejected %d + shed %d", dir, c.Sent, c.Completed, c.Errors, c.Rejected, c.Shed)
	}
	f, err := os.Open(filepath.Join(dir, "requests.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	idCol := -1
	for i, h := range head {
		if h == "id" {
			idCol = i
		}
	}
	if idCol < 0 {
		t.Fatalf("requests.csv has no id column: %v", head)
	}
	seen := map[uint64]bool{}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		id, err := strconv.ParseUint(row[idCol], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("request %d has two records", id)
		}
		seen[id] = true
	}
	if int64(len(seen)) != c.Sent {
		t.Errorf("requests.csv has %d records, summary says %d sent", len(seen), c.Sent)
	}
}

// TestRealCrashAccounting: on a real run in which a server crashes in the
// middle and restarts, every scheduled request has exactly one record.
func TestRealCrashAccounting(t *testing.T) {
	sc := load(t, "server-crash", "duration=6s", "warmup=1s",
		"faults=[{at: 3s, server: web-2, action: crash, for: 2s}]")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var progress []Progress
	res, err := Run(ctx, sc, Options{Mode: Real, Out: dir, Variants: []string{"base"},
		Progress: func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	// About once a second over a 7 s run, with live figures.
	mu.Lock()
	if len(progress) < 3 {
		t.Errorf("%d progress reports over a 7s run, want about 7", len(progress))
	} else if p := progress[len(progress)-1]; p.Total != 7*time.Second || p.Elapsed <= 0 || p.Completed == 0 {
		t.Errorf("last progress report %+v: want total 7s, elapsed and completed requests", p)
	}
	mu.Unlock()
	if len(res) != 1 || res[0].Summary == nil {
		t.Fatalf("results: %+v", res)
	}
	s := res[0].Summary
	dir = res[0].Dir
	checkAccounting(t, dir, s)
	if s.Requests.Errors == 0 {
		t.Errorf("a crash of one of the servers produced no errors: %+v", s.Requests)
	}
	if s.Requests.Completed < s.Requests.Sent/2 {
		t.Errorf("only %d of %d completed: the other servers should carry on", s.Requests.Completed, s.Requests.Sent)
	}
	for _, f := range []string{"summary.json", "servers.csv", "timeseries.csv", "report.html", "queue-length.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("results directory lacks %s: %v", f, err)
		}
	}
}

// TestSimAccountingAllScenarios: every embedded scenario and variant
// simulates with full accounting (short runs).
func TestSimAccountingAllScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates every embedded scenario in full; the race pass runs with -short")
	}
	for _, e := range scenarios.Embedded() {
		t.Run(e.Name, func(t *testing.T) {
			sc := load(t, e.Name)
			dir := t.TempDir()
			res, err := Run(context.Background(), sc, Options{Mode: Sim, Out: dir})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				checkAccounting(t, r.Dir, r.Summary)
			}
			if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRealAgreesWithSim: a real run and a simulated run of the same
// scenario file agree on p50 within 10%, p99 within 20% and the redirect
// rate within 0.03. Both see the same arrival times, the same first
// servers and the same per-request demands (common random numbers), so
// what is left is the system: HTTP overhead, timer lateness, report
// timing, and decisions that diverge once queues differ.
func TestRealAgreesWithSim(t *testing.T) {
	if testing.Short() {
		t.Skip("real runs take a minute")
	}
	// Latencies are measured in this process: start from a collected
	// heap, not the garbage of the tests before.
	runtime.GC()
	debug.FreeOSMemory()
	for _, tc := range []struct {
		name     string
		scenario string
		variants []string
		sets     []string
	}{
		// The embedded default with its redirect variants, as written.
		{"default", "default", []string{"base", "no-redirect", "queue-delay"}, nil},
		// Its shed and adaptive baselines, in shorter runs (8 s measured,
		// the slowdown from 8 s to 10 s of the horizon included) to keep
		// the test's time modest.
		{"default-shed", "default", []string{"shed", "adaptive"}, []string{"duration=8s"}},
		// One slow server at 225% of its share; least-loaded and p2c targets.
		{"slow-server", "slow-server", []string{"base", "p2c-target"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := load(t, tc.scenario, tc.sets...)
			ctx := context.Background()
			simRes, err := Run(ctx, sc, Options{Mode: Sim, Out: t.TempDir(), NoRecords: true, Variants: tc.variants})
			if err != nil {
				t.Fatal(err)
			}
			// A real run shares 2 cores with its own load generator, and
			// the p99 of one 20 s run on a shared host is a noisy figure.
			// Up to three attempts: the test passes when one attempt
			// agrees on every variant. A real difference fails all three.
			// A disagreement while the generator fell behind (send-lag
			// p99 over 2 ms, the gate's bound) is inconclusive, not a
			// failure: that run measured the machine.
			var problems, spoiled []string
			for attempt := 1; attempt <= 3; attempt++ {
				runtime.GC()
				realRes, err := Run(ctx, sc, Options{Mode: Real, Out: t.TempDir(), NoRecords: true, Variants: tc.variants})
				if err != nil {
					t.Fatal(err)
				}
				problems, spoiled = nil, nil
				for i := range simRes {
					s, r := simRes[i].Summary, realRes[i].Summary
					name := nameOr(simRes[i].Name, sc.Name)
					simShed, realShed := float64(s.Requests.Shed)/float64(s.Requests.Sent), float64(r.Requests.Shed)/float64(max(r.Requests.Sent, 1))
					t.Logf("attempt %d: %s: p50 sim %.2f real %.2f; p99 sim %.2f real %.2f; redirected sim %.3f real %.3f; shed sim %.3f real %.3f; sent %d/%d; send lag p99 %.2f ms",
						attempt, name, s.LatencyMS.P50, r.LatencyMS.P50, s.LatencyMS.P99, r.LatencyMS.P99,
						s.Redirects.Rate, r.Redirects.Rate, simShed, realShed, s.Requests.Sent, r.Requests.Sent, r.SendLagMS.P99)
					var mine []string
					if d := relDiff(r.LatencyMS.P50, s.LatencyMS.P50); d > 0.10 {
						mine = append(mine, fmt.Sprintf("%s: p50 real %.2fms vs sim %.2fms: %.0f%% apart, want <= 10%%", name, r.LatencyMS.P50, s.LatencyMS.P50, 100*d))
					}
					if d := relDiff(r.LatencyMS.P99, s.LatencyMS.P99); d > 0.20 {
						mine = append(mine, fmt.Sprintf("%s: p99 real %.2fms vs sim %.2fms: %.0f%% apart, want <= 20%%", name, r.LatencyMS.P99, s.LatencyMS.P99, 100*d))
					}
					if d := math.Abs(r.Redirects.Rate - s.Redirects.Rate); d > 0.03 {
						mine = append(mine, fmt.Sprintf("%s: redirect rate real %.3f vs sim %.3f, want within 0.03", name, r.Redirects.Rate, s.Redirects.Rate))
					}
					// The shed rate is held to the redirect rate's bound.
					if d := math.Abs(realShed - simShed); d > 0.03 {
						mine = append(mine, fmt.Sprintf("%s: shed rate real %.3f vs sim %.3f, want within 0.03", name, realShed, simShed))
					}
					switch {
					case len(mine) == 0:
					case r.SendLagMS.P99 > 2:
						spoiled = append(spoiled, fmt.Sprintf("%s (send lag p99 %.1f ms): %s", name, r.SendLagMS.P99, strings.Join(mine, "; ")))
					default:
						problems = append(problems, mine...)
					}
				}
				if len(problems) == 0 && len(spoiled) == 0 {
					break
				}
				t.Logf("attempt %d: disagrees: %s; inconclusive: %s", attempt, strings.Join(problems, "; "), strings.Join(spoiled, "; "))
			}
			for _, p := range problems {
				t.Error(p)
			}
			if len(problems) == 0 && len(spoiled) > 0 {
				t.Skipf("inconclusive: the load generator fell behind in every attempt, so this machine cannot judge agreement now: %s", strings.Join(spoiled, "; "))
			}
		})
	}
}

// relDiff is |a-b|/b (|a| when b is 0).
func relDiff(a, b float64) float64 {
	if b == 0 {
		return math.Abs(a)
	}
	return math.Abs(a-b) / b
}

// TestRealFaults runs each fault on real servers and checks what a user
// relies on: every scheduled request has one record, no redirect goes
// to a server the view has down, and redirects stop once a view is older
// than its TTL.
func TestRealFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("real load for 9 s")
	}
	// Three servers, reports every 50 ms; view_ttl 1s.
	sc := load(t, "default", "duration=8s", "warmup=1s", "workload.arrival.rate=700/s",
		"manager.report_interval=50ms", "manager.view_ttl=1s", "manager.expire=300ms",
		"faults=[{at: 1500ms, server: web-1, action: crash, for: 1s},"+
			" {at: 3500ms, action: manager-outage, for: 2s},"+
			" {at: 6s, action: lost-reports, loss: 0.5, for: 1s},"+
			" {at: 7s, server: web-3, action: slowdown, factor: 5, for: 1500ms}]")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, sc, Options{Mode: Real, Out: dir, Variants: []string{"base"}})
	if err != nil {
		t.Fatal(err)
	}
	s, out := res[0].Summary, res[0].Dir
	checkAccounting(t, out, s)
	const ms = time.Millisecond
	var toCrashed, duringStale, duringOutage, lossy, slowFrom, beforeSlowFrom int
	err = results.ReadRequests(out, func(r *results.Request) error {
		for k := 1; k < r.NHops; k++ {
			prev, h := r.Hops[k-1], r.Hops[k]
			if prev.Status != 302 && prev.Status != 307 {
				continue
			}
			at := prev.At // when the redirect was answered
			switch {
			// web-1 crashed at 1.5s; its agent reports it down within 50ms.
			case h.Server == 0 && at > 1700*ms && at < 2500*ms:
				toCrashed++
			// The manager away from 3.5s: views are older than 1s from 4.5s.
			case at > 4600*ms && at < 5500*ms:
				duringStale++
			case at > 3500*ms && at < 4400*ms:
				duringOutage++
			case at > 6*time.Second && at < 7*time.Second:
				lossy++
			}
			if prev.Server == 2 && at > 7100*ms && at < 8500*ms {
				slowFrom++
			}
			if prev.Server == 2 && at > 5600*ms && at < 7000*ms {
				beforeSlowFrom++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("redirects: to crashed web-1 %d; manager away, view fresh %d, view stale %d; half the reports lost %d; from web-3 slowed %d (before %d); %+v",
		toCrashed, duringOutage, duringStale, lossy, slowFrom, beforeSlowFrom, s.Requests)
	if toCrashed != 0 {
		t.Errorf("%d redirects to web-1 while it was down", toCrashed)
	}
	if duringStale != 0 {
		t.Errorf("%d redirects with views older than their TTL", duringStale)
	}
	if lossy == 0 {
		t.Errorf("no redirect while half the reports were lost: the views should still be fresh enough")
	}
	if slowFrom <= beforeSlowFrom {
		t.Errorf("web-3 slowed 5x redirected %d in 1.4s, no more than %d before", slowFrom, beforeSlowFrom)
	}
}
