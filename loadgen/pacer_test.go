package loadgen

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// runFake runs the pacer in a synctest bubble (virtual time) with a fake
// server that takes service per page, and returns the records.
func runFake(t *testing.T, sc *scenarios.Scenario, service time.Duration, opts Options) []results.Request {
	t.Helper()
	recs := runFakeTargets(t, sc, 1, service, opts)
	checkIDs(t, recs)
	return recs
}

// runFakeTargets is runFake over n targets, without the check that the
// IDs are 0..n-1 (a shard has only its share).
func runFakeTargets(t *testing.T, sc *scenarios.Scenario, n int, service time.Duration, opts Options) []results.Request {
	t.Helper()
	var c collector
	synctest.Test(t, func(t *testing.T) {
		opts.NoSpin = true    // the virtual clock does not move while the pacer spins
		opts.NoPrewarm = true // the fake server takes no connections
		pl, err := plan.Resolve(sc)
		if err != nil {
			t.Fatal(err)
		}
		if err := opts.validate(pl); err != nil {
			t.Fatal(err)
		}
		var targets []*url.URL
		for i := range n {
			targets = append(targets, &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", i+1)})
		}
		o, proc, err := newOpenLoop(context.Background(), pl, targets, &c, &opts)
		if err != nil {
			t.Fatal(err)
		}
		o.serve = func(j job, r *results.Request, _ *pageTrace) time.Duration {
			r.Sent = o.elapsed()
			r.First, r.Final = j.server, j.server
			time.Sleep(service)
			r.Done, r.Outcome, r.Status = o.elapsed(), results.Completed, 200
			return r.Done
		}
		if err := o.run(proc); err != nil {
			t.Fatal(err)
		}
	})
	return c.sorted()
}

// TestPacerSendsOnSchedule: in virtual time every request is sent exactly
// at its scheduled time, whatever earlier requests are doing (each takes
// 1 s here, far longer than the 10 ms between arrivals).
func TestPacerSendsOnSchedule(t *testing.T) {
	sc := scenario(1, constant(100), time.Second)
	recs := runFake(t, sc, time.Second, Options{})
	if len(recs) != 100 {
		t.Fatalf("%d records, want 100", len(recs))
	}
	for i, r := range recs {
		want := time.Duration(i) * 10 * time.Millisecond
		if r.Scheduled != want || r.Sent != want || r.Latency() != time.Second {
			t.Fatalf("record %d: scheduled %v sent %v latency %v, want sent at %v with latency 1s", i, r.Scheduled, r.Sent, r.Latency(), want)
		}
	}
}

// TestPacerRejectsAtBound: with 10 in flight allowed and every request
// lasting 1 s, the first 10 of 100 arrivals (one per 10 ms) are sent and
// the other 90 are recorded as rejected by the client, at their time.
func TestPacerRejectsAtBound(t *testing.T) {
	sc := scenario(1, constant(100), time.Second)
	recs := runFake(t, sc, time.Second, Options{MaxInFlight: 10})
	if len(recs) != 100 {
		t.Fatalf("%d records, want 100", len(recs))
	}
	for i, r := range recs {
		want := results.Completed
		if i >= 10 {
			want = results.Rejected
		}
		if r.Outcome != want || r.Sent != r.Scheduled {
			t.Errorf("record %d: %v sent %v scheduled %v, want %v at its time", i, r.Outcome, r.Sent, r.Scheduled, want)
		}
	}
}

// TestPacerSessions: pages of a session follow think time after the
// previous page ended; pages that would start after the horizon are not
// scheduled.
func TestPacerSessions(t *testing.T) {
	tests := []struct {
		name    string
		session scenarios.Session
		service time.Duration
		want    []time.Duration // scheduled times of the pages
	}{
		// 3 pages, 50ms each, 100ms think: 0, 150ms, 300ms.
		{"think", scenarios.Session{Pages: 3, Think: 100 * time.Millisecond}, 50 * time.Millisecond,
			[]time.Duration{0, 150 * time.Millisecond, 300 * time.Millisecond}},
		// 5 pages every 300ms in a 1s run: the fifth (1.2s) is cut.
		{"horizon", scenarios.Session{Pages: 5, Think: 300 * time.Millisecond}, 0,
			[]time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond, 900 * time.Millisecond}},
		// Pages 0 means 1 (a hand-built scenario without defaults).
		{"default pages", scenarios.Session{}, 0, []time.Duration{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := scenario(1, constant(1), time.Second) // one session, at 0
			sc.Workload.Session = tc.session
			recs := runFake(t, sc, tc.service, Options{})
			if len(recs) != len(tc.want) {
				t.Fatalf("%d pages, want %d", len(recs), len(tc.want))
			}
			for i, r := range recs {
				if r.Scheduled != tc.want[i] || r.Sent != r.Scheduled {
					t.Errorf("page %d scheduled %v sent %v, want %v", i, r.Scheduled, r.Sent, tc.want[i])
				}
			}
		})
	}
}

// TestPacerInterleavesSessions: follow-up pages and new arrivals are
// merged in due order, and IDs follow that order.
func TestPacerInterleavesSessions(t *testing.T) {
	sc := scenario(1, constant(10), 300*time.Millisecond) // sessions at 0, 100, 200ms
	sc.Workload.Session = scenarios.Session{Pages: 2, Think: 50 * time.Millisecond}
	recs := runFake(t, sc, 0, Options{})
	want := []time.Duration{0, 50, 100, 150, 200, 250}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if r.Scheduled != want[i]*time.Millisecond {
			t.Errorf("record %d scheduled at %v, want %vms", i, r.Scheduled, want[i])
		}
	}
}
