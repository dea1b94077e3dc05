package server

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redirlab/redirlab/policy"
)

var noRedirect = policy.Config{Condition: policy.None, MaxHops: 1, Fraction: 1}

func TestMachineFIFO(t *testing.T) {
	// 2 workers, room for 4 (2 in service + 2 waiting), service 10ms.
	m := NewMachine[int](machineConfig(t, 0, 2, 4, 10*ms, noRedirect))
	kinds := []Kind{}
	for i := 0; i < 5; i++ {
		kinds = append(kinds, m.ArrivePage(time.Duration(i)*ms, 0, Demand{}, i).Kind)
	}
	want := []Kind{Start, Start, Wait, Wait, Reject}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("arrival %d: %v, want %v (all %v)", i, kinds[i], want[i], kinds)
		}
	}
	st := m.Status(5 * ms)
	if st.QueueLength != 4 || st.Waiting != 2 || st.QueueDelay != 3*ms {
		t.Fatalf("status at 5ms = %+v, want length 4, waiting 2, hol 3ms (arrival 2 at 2ms)", st)
	}
	// Workers pass straight to the oldest waiter, in arrival order.
	next, end, ok := m.Finish(10*ms, 1, true, 10*ms)
	if !ok || next != 2 || end != 20*ms {
		t.Fatalf("first finish hands to %v (ending %v, ok %v), want 2 ending at 20ms", next, end, ok)
	}
	next, _, ok = m.Finish(11*ms, 1, true, 11*ms)
	if !ok || next != 3 {
		t.Fatalf("second finish hands to %v, want 3", next)
	}
	if _, _, ok = m.Finish(20*ms, 1, true, 20*ms); ok {
		t.Fatal("finish with nobody waiting handed over a worker")
	}
	if got := m.Status(20 * ms); got.QueueLength != 1 || got.Waiting != 0 || got.QueueDelay != 0 {
		t.Fatalf("status at 20ms = %+v, want length 1, no wait", got)
	}
	c := m.Counters(21 * ms)
	if c.Served != 3 || c.Pages != 3 || c.Rejected != 1 || c.Redirected != 0 {
		t.Fatalf("counters %+v", c)
	}
	// Busy: 2 workers 0..1ms-ish: worker A from 0, B from 1ms; busy until
	// 10/11ms hand-over keeps them busy; one finishes at 20ms, one still
	// busy at 21ms: 0→21 (A line) + 1→20 (B line) = 21 + 19 = 40ms.
	if c.Busy != 40*ms {
		t.Fatalf("busy %v, want 40ms", c.Busy)
	}
}

// TestMachineLateTimer: a worker whose timer fires late hands over as if it
// had fired on time, so the lateness does not accumulate.
func TestMachineLateTimer(t *testing.T) {
	m := NewMachine[int](machineConfig(t, 0, 1, 4, 10*ms, noRedirect))
	a := m.ArrivePage(0, 0, Demand{}, 0)
	m.ArrivePage(1*ms, 0, Demand{}, 1)
	if a.End != 10*ms {
		t.Fatalf("first service ends at %v, want 10ms", a.End)
	}
	// The timer for 10ms fires at 13ms: the next service still started at
	// 10ms and ends at 20ms.
	if _, end, _ := m.Finish(13*ms, 1, true, a.End); end != 20*ms {
		t.Fatalf("after a 3ms-late timer the next service ends at %v, want 20ms", end)
	}
	// A request that arrives after the scheduled end (here during the
	// lateness of the 20ms timer) starts at its arrival.
	m.ArrivePage(22*ms, 0, Demand{}, 2)
	if _, end, _ := m.Finish(24*ms, 1, true, 20*ms); end != 32*ms {
		t.Fatalf("a request arriving at 22ms ends at %v, want 32ms", end)
	}
	// Its wait is measured on the model's time line: 0 (ewma weight 0.5
	// over waits 0, 9ms, 0 → 2.25ms).
	if got := m.Status(24 * ms); got.Waiting != 0 {
		t.Fatalf("%+v", got)
	}
	if m.ewma != 2250*time.Microsecond {
		t.Fatalf("ewma %v, want 2.25ms", m.ewma)
	}
	// Finished 1ms late. Busy is the three services, 30ms, not the 33ms
	// the worker was held.
	m.Finish(33*ms, 1, true, 32*ms)
	if c := m.Counters(40 * ms); c.Busy != 30*ms {
		t.Fatalf("busy %v, want 30ms of service", c.Busy)
	}
}

// TestMachineModelStatus: between a service's scheduled end and its late
// timer, the status is the model's: that service is over and the oldest
// waiter is in service in its place.
func TestMachineModelStatus(t *testing.T) {
	m := NewMachine[int](machineConfig(t, 0, 1, 3, 10*ms, noRedirect))
	m.ArrivePage(0, 0, Demand{}, 0) // in service until 10ms
	m.ArrivePage(1*ms, 0, Demand{}, 1)
	m.ArrivePage(2*ms, 0, Demand{}, 2)
	if st := m.Status(9 * ms); st.QueueLength != 3 || st.Waiting != 2 || st.QueueDelay != 8*ms || m.InService(9*ms) != 1 {
		t.Fatalf("at 9ms: %+v, in service %d", st, m.InService(9*ms))
	}
	// 12ms: the 10ms timer has not fired yet.
	if st := m.Status(12 * ms); st.QueueLength != 2 || st.Waiting != 1 || st.QueueDelay != 10*ms || m.InService(12*ms) != 1 {
		t.Fatalf("at 12ms, timer late: %+v, in service %d; want length 2, 1 waiting for 10ms", st, m.InService(12*ms))
	}
	// The model has room (2 of 3), so an arrival is admitted though three
	// requests are still held.
	if a := m.ArrivePage(12*ms, 0, Demand{}, 3); a.Kind != Wait {
		t.Fatalf("arrival at 12ms: %v, want wait", a.Kind)
	}
	next, end, _ := m.Finish(13*ms, 1, true, 10*ms)
	if next != 1 || end != 20*ms {
		t.Fatalf("hand-over to %d ending %v, want 1 ending 20ms", next, end)
	}
	if st := m.Status(13 * ms); st.QueueLength != 3 || st.Waiting != 2 || st.QueueDelay != 11*ms {
		t.Fatalf("at 13ms: %+v", st)
	}
	if a := m.ArrivePage(13*ms, 0, Demand{}, 4); a.Kind != Reject {
		t.Fatalf("arrival at 13ms: %v, want reject (3 of 3)", a.Kind)
	}
}

func TestMachineEstimators(t *testing.T) {
	// One worker, 5ms service. Arrivals at 0, 1, 2, 3ms; the first
	// starts at once (measured wait 0), the second gets the worker at 5ms
	// (wait 4ms). At 9ms arrivals 2 and 3 wait.
	for _, tc := range []struct {
		name string
		est  policy.Estimator
		want time.Duration
	}{
		// Head-of-line age: the oldest waiter arrived at 2ms.
		{"hol", policy.HOL, 7 * ms},
		// Predicted: 2 waiting × 5ms mean / 1 worker.
		{"predicted", policy.Predicted, 10 * ms},
		// EWMA with weight 0.5 over waits 0 then 4ms: 0.5×4ms = 2ms.
		{"ewma", policy.EWMA, 2 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := noRedirect
			p.Estimator = tc.est
			m := NewMachine[int](machineConfig(t, 0, 1, 10, 5*ms, p))
			for i := 0; i < 4; i++ {
				m.ArrivePage(time.Duration(i)*ms, 0, Demand{}, i)
			}
			m.Finish(5*ms, 1, true, 5*ms)
			if got := m.Status(9 * ms).QueueDelay; got != tc.want {
				t.Fatalf("queue delay %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMachineRedirect(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 1, Target: policy.LeastLoaded, MaxHops: 1, Fraction: 1}
	m := NewMachine[int](machineConfig(t, 0, 1, 10, 10*ms, p))
	// No view yet: the condition holds soon but there is nobody to send to.
	m.ArrivePage(0, 0, Demand{}, 0)
	m.ArrivePage(0, 0, Demand{}, 1)
	if a := m.ArrivePage(0, 0, Demand{}, 2); a.Kind != Wait {
		t.Fatalf("without a view: %v, want wait", a.Kind)
	}
	m.SetView(1*ms, upView(0, 5, 2), urlsFor(3))
	// Queue length 3 > 1: redirect to the least loaded peer (index 2).
	if a := m.ArrivePage(2*ms, 0, Demand{}, 3); a.Kind != Redirect || a.Target != 2 {
		t.Fatalf("over threshold: %+v, want redirect to 2", a)
	}
	// Hop limit reached: served.
	if a := m.ArrivePage(2*ms, 1, Demand{}, 4); a.Kind != Wait {
		t.Fatalf("at the hop limit: %v, want wait", a.Kind)
	}
	// A peer without a registered URL is never a target.
	urls := urlsFor(3)
	urls[2] = ""
	m.SetView(3*ms, upView(0, 5, 2), urls)
	if a := m.ArrivePage(4*ms, 0, Demand{}, 5); a.Kind != Redirect || a.Target != 1 {
		t.Fatalf("peer 2 without URL: %+v, want redirect to 1", a)
	}
	// A peer marked down is never a target.
	v := upView(0, 5, 2)
	v.Servers[1].Up, v.Servers[2].Up = false, false
	m.SetView(5*ms, v, urlsFor(3))
	if a := m.ArrivePage(6*ms, 0, Demand{}, 6); a.Kind != Wait {
		t.Fatalf("all peers down: %v, want wait", a.Kind)
	}
	// A fresh view, then let it age past the TTL (1s): no more redirects.
	m.SetView(10*ms, upView(0, 0, 0), urlsFor(3))
	if a := m.ArrivePage(10*ms+time.Second, 0, Demand{}, 7); a.Kind != Redirect {
		t.Fatalf("view exactly TTL old: %v, want redirect", a.Kind)
	}
	if a := m.ArrivePage(11*ms+time.Second, 0, Demand{}, 8); a.Kind == Redirect {
		t.Fatal("redirected on a view older than its TTL")
	}
	if c := m.Counters(2 * time.Second); c.Redirected != 3 {
		t.Fatalf("redirected %d, want 3", c.Redirected)
	}
}

func TestMachineCentral(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 5, Target: policy.LeastLoaded, MaxHops: 1, Fraction: 1, Placement: policy.Central}
	m := NewMachine[int](machineConfig(t, 1, 1, 10, 10*ms, p))
	v := upView(0, 0, 0)
	v.Instructions = []policy.Instruction{{Target: -1}, {Redirect: true, Target: 2}, {Target: -1}}
	m.SetView(0, v, urlsFor(3))
	// Under central placement the manager's flag decides, not the live
	// queue (empty here).
	if a := m.ArrivePage(1*ms, 0, Demand{}, 0); a.Kind != Redirect || a.Target != 2 {
		t.Fatalf("flagged: %+v, want redirect to 2", a)
	}
	v.Instructions[1] = policy.Instruction{Target: -1}
	m.SetView(2*ms, v, urlsFor(3))
	if a := m.ArrivePage(3*ms, 0, Demand{}, 1); a.Kind != Start {
		t.Fatalf("cleared: %v, want start", a.Kind)
	}
}

func TestMachineCrashRestart(t *testing.T) {
	m := NewMachine[int](machineConfig(t, 0, 1, 4, 10*ms, noRedirect))
	a := m.ArrivePage(0, 0, Demand{}, 0)
	m.ArrivePage(1*ms, 0, Demand{}, 1)
	m.ArrivePage(2*ms, 0, Demand{}, 2)
	m.SetView(0, upView(0, 0), urlsFor(2))
	lost := m.Crash(5 * ms)
	if len(lost) != 2 || lost[0] != 1 || lost[1] != 2 {
		t.Fatalf("lost waiters %v, want [1 2]", lost)
	}
	if got := m.ArrivePage(6*ms, 0, Demand{}, 3).Kind; got != Down {
		t.Fatalf("arrival while down: %v, want down", got)
	}
	// The request in service at the crash belongs to the old incarnation.
	m.Restart(8 * ms)
	if _, _, ok := m.Finish(10*ms, a.Epoch, true, a.End); ok {
		t.Fatal("a pre-crash finish handed over a worker")
	}
	if age, ok := m.ViewAge(10 * ms); !ok || age != 10*ms {
		t.Fatalf("view age after a crash %v (%v), want the view of 0ms kept", age, ok)
	}
	st := m.Status(10 * ms)
	if st.QueueLength != 0 || !st.Up {
		t.Fatalf("after restart %+v, want empty and up", st)
	}
	c := m.Counters(10 * ms)
	if c.Failed != 3 || c.Served != 0 {
		t.Fatalf("counters %+v, want 3 failed, none served", c)
	}
	// Busy: one worker from 0 to the crash at 5ms.
	if c.Busy != 5*ms {
		t.Fatalf("busy %v, want 5ms", c.Busy)
	}
	b := m.ArrivePage(11*ms, 0, Demand{}, 4)
	if b.Kind != Start || b.Epoch == a.Epoch {
		t.Fatalf("after restart: %+v (old epoch %d)", b, a.Epoch)
	}
}

func TestMachineSlowdown(t *testing.T) {
	m := NewMachine[int](machineConfig(t, 0, 1, 4, 10*ms, noRedirect))
	m.ArrivePage(0, 0, Demand{}, 0)
	m.ArrivePage(0, 0, Demand{}, 1) // waits; drawn at 10ms, scaled when it starts
	m.SetSlowdown(3)
	if _, end, _ := m.Finish(10*ms, 1, true, 10*ms); end != 40*ms {
		t.Fatalf("service under slowdown 3 ends at %v, want 40ms", end)
	}
	if a := m.ArrivePage(11*ms, 0, Demand{}, 2); a.Kind != Wait {
		t.Fatalf("%v", a.Kind)
	}
	m.SetSlowdown(1)
	if _, end, _ := m.Finish(40*ms, 1, true, 40*ms); end != 50*ms {
		t.Fatalf("service after slowdown ends at %v, want 50ms", end)
	}
}

// TestMachineAgainstReference drives the machine and a naive reference
// (a plain slice queue) with the same random arrivals and finishes and
// compares every answer and status.
func TestMachineAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		workers, capacity := 1+r.IntN(4), 1+r.IntN(12)
		// Services last an hour: no scheduled end passes during the
		// steps, so the model and the plain queue agree.
		m := NewMachine[int](machineConfig(t, 0, workers, capacity, time.Hour, noRedirect))
		type req struct {
			id      int
			arrived time.Duration
		}
		var waiting []req
		inService := 0
		now := time.Duration(0)
		for step := 0; step < 500; step++ {
			now += time.Duration(r.IntN(1000)) * time.Microsecond
			if r.IntN(2) == 0 {
				a := m.ArrivePage(now, 0, Demand{}, step)
				var want Kind
				switch {
				case len(waiting)+inService >= capacity:
					want = Reject
				case inService < workers:
					want, inService = Start, inService+1
				default:
					want = Wait
					waiting = append(waiting, req{step, now})
				}
				if a.Kind != want {
					t.Fatalf("seed %d step %d: %v, want %v", seed, step, a.Kind, want)
				}
			} else if inService > 0 {
				next, _, ok := m.Finish(now, 1, true, m.ends[r.IntN(len(m.ends))])
				if len(waiting) > 0 {
					if !ok || next != waiting[0].id {
						t.Fatalf("seed %d step %d: handed to %d (%v), want %d", seed, step, next, ok, waiting[0].id)
					}
					waiting = waiting[1:]
				} else {
					if ok {
						t.Fatalf("seed %d step %d: handed over with nobody waiting", seed, step)
					}
					inService--
				}
			}
			st := m.Status(now)
			var hol time.Duration
			if len(waiting) > 0 {
				hol = now - waiting[0].arrived
			}
			if st.QueueLength != len(waiting)+inService || st.Waiting != len(waiting) || st.QueueDelay != hol || m.InService(now) != inService {
				t.Fatalf("seed %d step %d: status %+v in service %d, want length %d waiting %d hol %v",
					seed, step, st, m.InService(now), len(waiting)+inService, len(waiting), hol)
			}
		}
	}
}
