package runner

import (
	"context"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
)

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
