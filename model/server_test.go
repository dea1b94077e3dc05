package model

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/redirlab/redirlab/dist"
	"github.com/redirlab/redirlab/policy"
)

// none is the view source of tests whose policy never asks for a view;
// it fails the test if asked.
type none struct{ t *testing.T }

func (n none) ViewFor(int, time.Duration) *policy.View {
	n.t.Helper()
	n.t.Fatal("the server asked for a view it does not need")
	return &NoView
}

func TestServerFIFO(t *testing.T) {
	// 2 workers, room for 4 (2 in service + 2 waiting), service 10ms.
	m := NewServer[int](serverConfig(t, 0, 2, 4, 10*ms, noRedirect))
	want := []ArrivalKind{
		Started,  // 0 at 0ms: worker A
		Started,  // 1 at 1ms: worker B
		Queued,   // 2 at 2ms: both workers busy
		Queued,   // 3 at 3ms: 3 of 4
		Rejected, // 4 at 4ms: 4 of 4, full
	}
	var kinds []ArrivalKind
	for i := range want {
		kinds = append(kinds, m.ArrivePage(time.Duration(i)*ms, 0, Demand{}, i, none{t}).Kind)
	}
	if !slices.Equal(kinds, want) {
		t.Fatalf("arrivals %v, want %v", kinds, want)
	}
	st := m.Status(5 * ms)
	if st.QueueLength != 4 || st.Waiting != 2 || st.QueueDelay != 3*ms {
		t.Fatalf("status at 5ms = %+v, want length 4, waiting 2, hol 3ms (arrival 2 at 2ms)", st)
	}
	// Workers pass straight to the oldest waiter, in arrival order.
	next, end, ok := m.Finish(10*ms, 1, true, 10*ms, 0)
	if !ok || next != 2 || end != 20*ms {
		t.Fatalf("first finish hands to %v (ending %v, ok %v), want 2 ending at 20ms", next, end, ok)
	}
	next, _, ok = m.Finish(11*ms, 1, true, 11*ms, 1)
	if !ok || next != 3 {
		t.Fatalf("second finish hands to %v, want 3", next)
	}
	if _, _, ok = m.Finish(20*ms, 1, true, 20*ms, 2); ok {
		t.Fatal("finish with nobody waiting handed over a worker")
	}
	if got := m.Status(20 * ms); got.QueueLength != 1 || got.Waiting != 0 || got.QueueDelay != 0 {
		t.Fatalf("status at 20ms = %+v, want length 1, no wait", got)
	}
	c := m.Counters(21 * ms)
	if c.Served != 3 || c.Pages != 3 || c.Rejected != 1 || c.Redirected != 0 {
		t.Fatalf("counters %+v", c)
	}
	// Busy: worker A from 0, B from 1ms; the hand-overs at 10 and 11ms
	// keep them busy; one finishes at 20ms, one still busy at 21ms:
	// 0→21 (A line) + 1→20 (B line) = 21 + 19 = 40ms.
	if c.Busy != 40*ms {
		t.Fatalf("busy %v, want 40ms", c.Busy)
	}
}

// TestServerLateTimer: a worker whose timer fires late hands over as if it
// had fired on time, so the lateness does not accumulate.
func TestServerLateTimer(t *testing.T) {
	ewma := noRedirect
	ewma.Estimator = policy.EWMA // the estimator that keeps the average
	m := NewServer[int](serverConfig(t, 0, 1, 4, 10*ms, ewma))
	a := m.ArrivePage(0, 0, Demand{}, 0, none{t})
	m.ArrivePage(1*ms, 0, Demand{}, 1, none{t})
	if a.End != 10*ms {
		t.Fatalf("first service ends at %v, want 10ms", a.End)
	}
	// The timer for 10ms fires at 13ms: the next service still started at
	// 10ms and ends at 20ms.
	if _, end, _ := m.Finish(13*ms, 1, true, a.End, 0); end != 20*ms {
		t.Fatalf("after a 3ms-late timer the next service ends at %v, want 20ms", end)
	}
	// A request that arrives after the scheduled end (here during the
	// lateness of the 20ms timer) starts at its arrival.
	m.ArrivePage(22*ms, 0, Demand{}, 2, none{t})
	if _, end, _ := m.Finish(24*ms, 1, true, 20*ms, 1); end != 32*ms {
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
	m.Finish(33*ms, 1, true, 32*ms, 2)
	if c := m.Counters(40 * ms); c.Busy != 30*ms {
		t.Fatalf("busy %v, want 30ms of service", c.Busy)
	}
}

// TestServerModelStatus: between a service's scheduled end and its late
// timer, the status is the model's: that service is over and the oldest
// waiter is in service in its place.
func TestServerModelStatus(t *testing.T) {
	m := NewServer[int](serverConfig(t, 0, 1, 3, 10*ms, noRedirect))
	m.ArrivePage(0, 0, Demand{}, 0, none{t}) // in service until 10ms
	m.ArrivePage(1*ms, 0, Demand{}, 1, none{t})
	m.ArrivePage(2*ms, 0, Demand{}, 2, none{t})
	if st := m.Status(9 * ms); st.QueueLength != 3 || st.Waiting != 2 || st.QueueDelay != 8*ms || m.InService(9*ms) != 1 {
		t.Fatalf("at 9ms: %+v, in service %d", st, m.InService(9*ms))
	}
	// 12ms: the 10ms timer has not fired yet.
	if st := m.Status(12 * ms); st.QueueLength != 2 || st.Waiting != 1 || st.QueueDelay != 10*ms || m.InService(12*ms) != 1 {
		t.Fatalf("at 12ms, timer late: %+v, in service %d; want length 2, 1 waiting for 10ms", st, m.InService(12*ms))
	}
	// The model has room (2 of 3), so an arrival is admitted though three
	// requests are still held.
	if a := m.ArrivePage(12*ms, 0, Demand{}, 3, none{t}); a.Kind != Queued {
		t.Fatalf("arrival at 12ms: %v, want queued", a.Kind)
	}
	next, end, _ := m.Finish(13*ms, 1, true, 10*ms, 0)
	if next != 1 || end != 20*ms {
		t.Fatalf("hand-over to %d ending %v, want 1 ending 20ms", next, end)
	}
	if st := m.Status(13 * ms); st.QueueLength != 3 || st.Waiting != 2 || st.QueueDelay != 11*ms {
		t.Fatalf("at 13ms: %+v", st)
	}
	if a := m.ArrivePage(13*ms, 0, Demand{}, 4, none{t}); a.Kind != Rejected {
		t.Fatalf("arrival at 13ms: %v, want rejected (3 of 3)", a.Kind)
	}
}

func TestServerEstimators(t *testing.T) {
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
			m := NewServer[int](serverConfig(t, 0, 1, 10, 5*ms, p))
			for i := 0; i < 4; i++ {
				m.ArrivePage(time.Duration(i)*ms, 0, Demand{}, i, none{t})
			}
			m.Finish(5*ms, 1, true, 5*ms, 0)
			if got := m.Status(9 * ms).QueueDelay; got != tc.want {
				t.Fatalf("queue delay %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServerRedirect(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 1, Target: policy.LeastLoaded, MaxHops: 1, Fraction: 1}
	m := NewServer[int](serverConfig(t, 0, 1, 10, 10*ms, p))
	h := &ViewHolder{TTL: time.Second}
	// No view yet: the condition holds soon but there is nobody to send to.
	m.ArrivePage(0, 0, Demand{}, 0, h)
	m.ArrivePage(0, 0, Demand{}, 1, h)
	if a := m.ArrivePage(0, 0, Demand{}, 2, h); a.Kind != Queued {
		t.Fatalf("without a view: %v, want queued", a.Kind)
	}
	h.Set(1*ms, upView(0, 5, 2), urlsFor(3))
	// Queue length 3 > 1: redirect to the least loaded peer (index 2).
	if a := m.ArrivePage(2*ms, 0, Demand{}, 3, h); a.Kind != Redirected || a.Target != 2 {
		t.Fatalf("over threshold: %+v, want redirect to 2", a)
	}
	// Hop limit reached: served.
	if a := m.ArrivePage(2*ms, 1, Demand{}, 4, h); a.Kind != Queued {
		t.Fatalf("at the hop limit: %v, want queued", a.Kind)
	}
	// A peer without a registered URL is never a target.
	urls := urlsFor(3)
	urls[2] = ""
	h.Set(3*ms, upView(0, 5, 2), urls)
	if a := m.ArrivePage(4*ms, 0, Demand{}, 5, h); a.Kind != Redirected || a.Target != 1 {
		t.Fatalf("peer 2 without URL: %+v, want redirect to 1", a)
	}
	// A peer marked down is never a target.
	v := upView(0, 5, 2)
	v.Servers[1].Up, v.Servers[2].Up = false, false
	h.Set(5*ms, v, urlsFor(3))
	if a := m.ArrivePage(6*ms, 0, Demand{}, 6, h); a.Kind != Queued {
		t.Fatalf("all peers down: %v, want queued", a.Kind)
	}
	// A fresh view, then let it age past the TTL (1s): no more redirects.
	h.Set(10*ms, upView(0, 0, 0), urlsFor(3))
	if a := m.ArrivePage(10*ms+time.Second, 0, Demand{}, 7, h); a.Kind != Redirected {
		t.Fatalf("view exactly TTL old: %v, want redirect", a.Kind)
	}
	if a := m.ArrivePage(11*ms+time.Second, 0, Demand{}, 8, h); a.Kind == Redirected {
		t.Fatal("redirected on a view older than its TTL")
	}
	if c := m.Counters(2 * time.Second); c.Redirected != 3 {
		t.Fatalf("redirected %d, want 3", c.Redirected)
	}
}

func TestServerCentral(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 5, Target: policy.LeastLoaded, MaxHops: 1, Fraction: 1, Placement: policy.Central}
	m := NewServer[int](serverConfig(t, 1, 1, 10, 10*ms, p))
	h := &ViewHolder{TTL: time.Second}
	v := upView(0, 0, 0)
	v.Instructions = []policy.Instruction{{Target: -1}, {Redirect: true, Target: 2}, {Target: -1}}
	h.Set(0, v, urlsFor(3))
	// Under central placement the manager's flag decides, not the live
	// queue (empty here).
	if a := m.ArrivePage(1*ms, 0, Demand{}, 0, h); a.Kind != Redirected || a.Target != 2 {
		t.Fatalf("flagged: %+v, want redirect to 2", a)
	}
	v.Instructions[1] = policy.Instruction{Target: -1}
	h.Set(2*ms, v, urlsFor(3))
	if a := m.ArrivePage(3*ms, 0, Demand{}, 1, h); a.Kind != Started {
		t.Fatalf("cleared: %v, want started", a.Kind)
	}
}

// TestServerCrashRestart is the port of the machine's test. The old one
// also checked that the view survived the crash: the view now lives in
// the driver's ViewHolder, which Crash cannot reach, so that check is
// gone. Crash now returns the in-service handles too, after the waiting.
func TestServerCrashRestart(t *testing.T) {
	m := NewServer[int](serverConfig(t, 0, 1, 4, 10*ms, noRedirect))
	a := m.ArrivePage(0, 0, Demand{}, 0, none{t})
	m.ArrivePage(1*ms, 0, Demand{}, 1, none{t})
	m.ArrivePage(2*ms, 0, Demand{}, 2, none{t})
	lost := m.Crash(5 * ms)
	if !slices.Equal(lost, []int{1, 2, 0}) {
		t.Fatalf("lost %v, want the waiters [1 2] then the one in service, 0", lost)
	}
	if got := m.ArrivePage(6*ms, 0, Demand{}, 3, none{t}).Kind; got != Refused {
		t.Fatalf("arrival while down: %v, want refused", got)
	}
	if got := m.ArriveObject(6*ms, Demand{}, 3).Kind; got != Refused {
		t.Fatalf("object while down: %v, want refused", got)
	}
	if m.Up() || m.Status(6*ms).Up {
		t.Fatal("up after a crash")
	}
	// The request in service at the crash belongs to the old incarnation.
	m.Restart(8 * ms)
	if _, _, ok := m.Finish(10*ms, a.Epoch, true, a.End, 0); ok {
		t.Fatal("a pre-crash finish handed over a worker")
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
	b := m.ArrivePage(11*ms, 0, Demand{}, 4, none{t})
	if b.Kind != Started || b.Epoch == a.Epoch {
		t.Fatalf("after restart: %+v (old epoch %d)", b, a.Epoch)
	}
}

func TestServerSlowdown(t *testing.T) {
	m := NewServer[int](serverConfig(t, 0, 1, 4, 10*ms, noRedirect))
	m.ArrivePage(0, 0, Demand{}, 0, none{t})
	m.ArrivePage(0, 0, Demand{}, 1, none{t}) // waits; drawn at 10ms, scaled when it starts
	m.SetSlowdown(3)
	if _, end, _ := m.Finish(10*ms, 1, true, 10*ms, 0); end != 40*ms {
		t.Fatalf("service under slowdown 3 ends at %v, want 40ms", end)
	}
	if a := m.ArrivePage(11*ms, 0, Demand{}, 2, none{t}); a.Kind != Queued {
		t.Fatalf("%v", a.Kind)
	}
	m.SetSlowdown(1)
	if _, end, _ := m.Finish(40*ms, 1, true, 40*ms, 1); end != 50*ms {
		t.Fatalf("service after slowdown ends at %v, want 50ms", end)
	}
	// A request that starts at once under a slowdown is scaled too.
	m.SetSlowdown(2)
	m.Finish(50*ms, 1, true, 50*ms, 2)
	if a := m.ArrivePage(60*ms, 0, Demand{}, 3, none{t}); a.Kind != Started || a.End != 80*ms {
		t.Fatalf("start under slowdown 2: %+v, want started ending at 80ms", a)
	}
}

// TestServerAgainstReference drives the server and a naive reference
// (a plain slice queue) with the same random arrivals and finishes and
// compares every answer and status.
func TestServerAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		workers, capacity := 1+r.IntN(4), 1+r.IntN(12)
		// Services last an hour: no scheduled end passes during the
		// steps, so the model and the plain queue agree.
		m := NewServer[int](serverConfig(t, 0, workers, capacity, time.Hour, noRedirect))
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
				a := m.ArrivePage(now, 0, Demand{}, step, none{t})
				var want ArrivalKind
				switch {
				case len(waiting)+inService >= capacity:
					want = Rejected
				case inService < workers:
					want, inService = Started, inService+1
				default:
					want = Queued
					waiting = append(waiting, req{step, now})
				}
				if a.Kind != want {
					t.Fatalf("seed %d step %d: %v, want %v", seed, step, a.Kind, want)
				}
			} else if inService > 0 {
				b := m.inService[r.IntN(len(m.inService))]
				next, _, ok := m.Finish(now, 1, true, b.end, b.w)
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

// TestServerCrashAgainstReference: like TestServerAgainstReference, with
// crashes and restarts: a crash returns exactly the waiters in queue
// order, then exactly the requests in service (in any order), and the
// failed counter adds them up.
func TestServerCrashAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 8))
		workers, capacity := 1+r.IntN(4), 1+r.IntN(12)
		m := NewServer[int](serverConfig(t, 0, workers, capacity, time.Hour, noRedirect))
		var waiting, serving []int
		failed := int64(0)
		now := time.Duration(0)
		for step := 0; step < 500; step++ {
			now += time.Duration(r.IntN(1000)) * time.Microsecond
			switch x := r.IntN(20); {
			case x == 0:
				// A server already down loses nothing: the lists are empty.
				lost := m.Crash(now)
				if len(lost) != len(waiting)+len(serving) ||
					!slices.Equal(lost[:len(waiting)], waiting) {
					t.Fatalf("seed %d step %d: crash lost %v, want waiters %v then in service %v", seed, step, lost, waiting, serving)
				}
				got := slices.Sorted(slices.Values(lost[len(waiting):]))
				if want := slices.Sorted(slices.Values(serving)); !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d: crash lost in service %v, want %v", seed, step, got, want)
				}
				failed += int64(len(lost))
				waiting, serving = nil, nil
			case x == 1:
				m.Restart(now)
			case x < 11:
				a := m.ArrivePage(now, 0, Demand{}, step, none{t})
				want := Queued
				switch {
				case !m.Up():
					want = Refused
				case len(waiting)+len(serving) >= capacity:
					want = Rejected
				case len(serving) < workers:
					want = Started
					serving = append(serving, step)
				default:
					waiting = append(waiting, step)
				}
				if a.Kind != want {
					t.Fatalf("seed %d step %d: %v, want %v", seed, step, a.Kind, want)
				}
			default:
				if len(serving) == 0 {
					break
				}
				j := r.IntN(len(serving))
				w := serving[j]
				k := slices.IndexFunc(m.inService, func(b busy[int]) bool { return b.w == w })
				next, _, ok := m.Finish(now, m.epoch, true, m.inService[k].end, w)
				if len(waiting) > 0 {
					if !ok || next != waiting[0] {
						t.Fatalf("seed %d step %d: handed to %d (%v), want %d", seed, step, next, ok, waiting[0])
					}
					serving[j] = waiting[0]
					waiting = waiting[1:]
				} else {
					if ok {
						t.Fatalf("seed %d step %d: handed over with nobody waiting", seed, step)
					}
					serving = slices.Delete(serving, j, j+1)
				}
			}
			if c := m.Counters(now); c.Failed != failed {
				t.Fatalf("seed %d step %d: failed %d, want %d", seed, step, c.Failed, failed)
			}
			if st := m.Status(now); st.QueueLength != len(waiting)+len(serving) || st.Waiting != len(waiting) {
				t.Fatalf("seed %d step %d: status %+v, want length %d waiting %d", seed, step, st, len(waiting)+len(serving), len(waiting))
			}
		}
	}
}

// TestServerCrashOrder: Crash returns the waiters in queue order, also
// when the ring has wrapped, then the requests in service; a second crash
// loses nothing more.
func TestServerCrashOrder(t *testing.T) {
	// One worker, room for 4: the ring has 4 slots.
	m := NewServer[int](serverConfig(t, 0, 1, 4, 10*ms, noRedirect))
	for i := 0; i < 4; i++ {
		m.ArrivePage(time.Duration(i)*ms, 0, Demand{}, i, none{t})
	}
	m.Finish(10*ms, 1, true, 10*ms, 0) // 1 in service, 2 3 waiting
	m.Finish(20*ms, 1, true, 20*ms, 1) // 2 in service, 3 waiting
	// 4 and 5 land in the ring's slots 0 and 1: the queue wraps.
	m.ArrivePage(21*ms, 0, Demand{}, 4, none{t})
	m.ArrivePage(22*ms, 0, Demand{}, 5, none{t})
	if a := m.ArrivePage(23*ms, 0, Demand{}, 6, none{t}); a.Kind != Rejected {
		t.Fatalf("fifth held request: %v, want rejected", a.Kind)
	}
	if lost := m.Crash(25 * ms); !slices.Equal(lost, []int{3, 4, 5, 2}) {
		t.Fatalf("crash lost %v, want [3 4 5 2]", lost)
	}
	if lost := m.Crash(26 * ms); lost != nil {
		t.Fatalf("second crash lost %v, want nothing", lost)
	}
	if c := m.Counters(30 * ms); c.Failed != 4 || c.Served != 2 || c.Rejected != 1 {
		t.Fatalf("counters %+v, want 4 failed, 2 served, 1 rejected", c)
	}
	// Restart on a running server changes nothing.
	m.Restart(30 * ms)
	m.ArrivePage(31*ms, 0, Demand{}, 7, none{t})
	m.Restart(32 * ms)
	if lost := m.Crash(33 * ms); !slices.Equal(lost, []int{7}) {
		t.Fatalf("crash after restart lost %v, want [7]", lost)
	}
}

// TestServerRingLazy: the waiting ring is not allocated to its capacity
// up front, and grows (with the queue wrapped) keeping FIFO order up to
// the capacity, which is still enforced.
func TestServerRingLazy(t *testing.T) {
	t.Run("huge capacity", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := NewServer[int](serverConfig(t, 0, 1, 1<<30, 10*ms, noRedirect))
		runtime.ReadMemStats(&after)
		// A ring of 1<<30 slots would be tens of gigabytes.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Fatalf("NewServer with capacity 1<<30 allocated %d bytes", grew)
		}
		for i := 0; i < 200; i++ {
			m.ArrivePage(time.Duration(i)*time.Microsecond, 0, Demand{}, i, none{t})
		}
		if st := m.Status(time.Millisecond); st.QueueLength != 200 || st.Waiting != 199 {
			t.Fatalf("after 200 arrivals: %+v", st)
		}
	})
	t.Run("grow wrapped", func(t *testing.T) {
		const capacity = 100
		m := NewServer[int](serverConfig(t, 0, 1, capacity, 10*ms, noRedirect))
		id := 0
		arrive := func() ArrivalKind {
			id++
			return m.ArrivePage(0, 0, Demand{}, id-1, none{t}).Kind
		}
		// 0 in service and 64 waiting: the first ring is full.
		for range 65 {
			arrive()
		}
		// Three hand-overs move the head; three arrivals wrap the ring.
		cur := 0
		for range 3 {
			next, _, ok := m.Finish(0, 1, true, 0, cur)
			if !ok || next != cur+1 {
				t.Fatalf("finish %d handed to %d (%v)", cur, next, ok)
			}
			cur = next
		}
		for range 3 {
			arrive()
		}
		// Fill the room left: the ring grows past 64, wrapped.
		for m.Status(0).QueueLength < capacity {
			if k := arrive(); k != Queued {
				t.Fatalf("arrival %d: %v, want queued", id-1, k)
			}
		}
		if k := arrive(); k != Rejected {
			t.Fatalf("arrival at capacity: %v, want rejected", k)
		}
		if len(m.waiting) > capacity {
			t.Fatalf("ring of %d slots for a capacity of %d", len(m.waiting), capacity)
		}
		// Every waiter gets the worker in arrival order.
		for {
			next, _, ok := m.Finish(0, 1, true, 0, cur)
			if !ok {
				break
			}
			if next != cur+1 {
				t.Fatalf("finish %d handed to %d, want %d", cur, next, cur+1)
			}
			cur = next
		}
		if cur != id-2 { // the last id was rejected
			t.Fatalf("last served %d, want %d", cur, id-2)
		}
	})
}

// TestServerFinishByHandle: two services with the same end; Finish finds
// the finishing one by its handle, not by its end, so the hand-over goes
// to the right worker and a later crash loses the right request.
func TestServerFinishByHandle(t *testing.T) {
	for _, tc := range []struct {
		name   string
		waiter bool // a third request waits
		finish int  // the handle that finishes
		lost   []int
	}{
		// The second of the two workers finishes and hands over to 2: 0 and
		// 2 are in service.
		{"second hands over", true, 1, []int{0, 2}},
		// The first finishes and hands over: 1 and 2 are in service.
		{"first hands over", true, 0, []int{1, 2}},
		// The second finishes, nobody waits: 0 is in service.
		{"second frees", false, 1, []int{0}},
		// The first finishes, nobody waits: 1 is in service.
		{"first frees", false, 0, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewServer[int](serverConfig(t, 0, 2, 4, 10*ms, noRedirect))
			a := m.ArrivePage(0, 0, Demand{}, 0, none{t})
			b := m.ArrivePage(0, 0, Demand{}, 1, none{t})
			if a.End != b.End {
				t.Fatalf("ends %v and %v, want equal", a.End, b.End)
			}
			if tc.waiter {
				m.ArrivePage(1*ms, 0, Demand{}, 2, none{t})
			}
			next, end, ok := m.Finish(10*ms, 1, true, 10*ms, tc.finish)
			if ok != tc.waiter || (ok && (next != 2 || end != 20*ms)) {
				t.Fatalf("finish handed to %d ending %v (%v)", next, end, ok)
			}
			if n := m.InService(5 * ms); n != len(tc.lost) {
				t.Fatalf("in service %d, want %d", n, len(tc.lost))
			}
			lost := m.Crash(15 * ms)
			slices.Sort(lost)
			if !slices.Equal(lost, tc.lost) {
				t.Fatalf("crash lost %v, want %v", lost, tc.lost)
			}
		})
	}
}

// TestServerObjects: objects share the queue, take object service times,
// are never redirected and count as served but not as pages.
func TestServerObjects(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 0, Target: policy.LeastLoaded, MaxHops: 1, Fraction: 1}
	cfg := serverConfig(t, 0, 1, 3, 10*ms, p)
	cfg.Object = constSampler(2 * ms)
	m := NewServer[int](cfg)
	views := &fixedView{v: upView(0, 0)}
	a := m.ArriveObject(0, Demand{}, 0)
	if a.Kind != Started || a.End != 2*ms {
		t.Fatalf("object: %+v, want started ending at 2ms", a)
	}
	// The condition holds (length 1 > 0) but objects are never
	// redirected, nor is the view asked for.
	if a := m.ArriveObject(1*ms, Demand{}, 1); a.Kind != Queued {
		t.Fatalf("object over threshold: %v, want queued", a.Kind)
	}
	if views.asked != 0 {
		t.Fatalf("view asked %d times for objects", views.asked)
	}
	// A page is redirected.
	if a := m.ArrivePage(1*ms, 0, Demand{}, 2, views); a.Kind != Redirected || a.Target != 1 {
		t.Fatalf("page over threshold: %+v, want redirected to 1", a)
	}
	if a := m.ArriveObject(1*ms, Demand{}, 3); a.Kind != Queued {
		t.Fatalf("third object: %v, want queued", a.Kind)
	}
	if a := m.ArriveObject(1*ms, Demand{}, 4); a.Kind != Rejected {
		t.Fatalf("object at capacity: %v, want rejected", a.Kind)
	}
	next, end, ok := m.Finish(2*ms, 1, false, 2*ms, 0)
	if !ok || next != 1 || end != 4*ms {
		t.Fatalf("object hand-over to %d ending %v (%v), want 1 ending 4ms", next, end, ok)
	}
	if c := m.Counters(2 * ms); c.Served != 1 || c.Pages != 0 || c.Redirected != 1 || c.Rejected != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// TestServerDemand: a request with a demand is served the sampler's
// quantile of its dist.Uniform wherever it lands; one without draws.
func TestServerDemand(t *testing.T) {
	cfg := serverConfig(t, 0, 4, 4, 0, noRedirect)
	cfg.Page, cfg.Object, cfg.Seed = linearSampler{}, linearSampler{}, 42
	m := NewServer[int](cfg)
	for _, tc := range []struct {
		name   string
		object bool
		d      Demand
		want   time.Duration
	}{
		// A page with demand (id 9, part 0).
		{"page demand", false, Demand{ID: 9, OK: true}, linearSampler{}.Quantile(dist.Uniform(42, 9, 0))},
		// An object with demand (id 9, part 3).
		{"object demand", true, Demand{ID: 9, Part: 3, OK: true}, linearSampler{}.Quantile(dist.Uniform(42, 9, 3))},
		// No demand: drawn from Rand (Sample), whatever ID says.
		{"page draw", false, Demand{ID: 9}, 7 * ms},
		// No demand, object.
		{"object draw", true, Demand{}, 7 * ms},
	} {
		var a Arrival
		if tc.object {
			a = m.ArriveObject(0, tc.d, 0)
		} else {
			a = m.ArrivePage(0, 0, tc.d, 0, none{t})
		}
		if a.Kind != Started || a.End != tc.want {
			t.Errorf("%s: %+v, want started ending at %v", tc.name, a, tc.want)
		}
	}
}

// TestServerAsksViewOnlyWhenNeeded: the view source is asked only when a
// decision needs it: under local placement when the condition holds
// below the hop limit, under central placement below the hop limit.
func TestServerAsksViewOnlyWhenNeeded(t *testing.T) {
	for _, tc := range []struct {
		name      string
		placement policy.Placement
		hops      int
		arrivals  int
		asked     int
	}{
		// Local, threshold 2: arrivals 0..2 see length 0, 1, 2; 3 and 4
		// see 3 and 4 > 2.
		{"local", policy.Local, 0, 5, 2},
		// Local at the hop limit: never.
		{"local at hop limit", policy.Local, 1, 5, 0},
		// Central: every arrival.
		{"central", policy.Central, 0, 5, 5},
		// Central at the hop limit: never.
		{"central at hop limit", policy.Central, 1, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 2, Target: policy.LeastLoaded, MaxHops: 1, Fraction: 1, Placement: tc.placement}
			m := NewServer[int](serverConfig(t, 0, 1, 10, 10*ms, p))
			views := &fixedView{v: NoView}
			for i := range tc.arrivals {
				if a := m.ArrivePage(0, tc.hops, Demand{}, i, views); a.Kind == Redirected {
					t.Fatalf("redirected with no peer: %+v", a)
				}
			}
			if views.asked != tc.asked {
				t.Fatalf("view asked %d times, want %d", views.asked, tc.asked)
			}
		})
	}
}

func TestArrivalKindString(t *testing.T) {
	for k, want := range map[ArrivalKind]string{
		Started:    "started",
		Queued:     "queued",
		Redirected: "redirected",
		Rejected:   "rejected",
		Refused:    "refused",
		Shed:       "shed",
		Shed + 1:   "unknown",
	} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", k, got, want)
		}
	}
}

// TestServerHeld: a held request keeps its worker until the driver
// finishes it, whatever the clock says, and the worker then passes to
// the next waiter at that moment.
func TestServerHeld(t *testing.T) {
	const century = 100 * 365 * 24 * time.Hour
	t.Run("hand-over", func(t *testing.T) {
		ewma := noRedirect
		ewma.Estimator = policy.EWMA
		m := NewServer[int](serverConfig(t, 0, 1, 3, 10*ms, ewma))
		a := m.ArriveHeld(0, 0)
		if a.Kind != Started || a.End < century {
			t.Fatalf("held: %+v, want started with an end beyond any run", a)
		}
		if a := m.ArrivePage(1*ms, 0, Demand{}, 1, none{t}); a.Kind != Queued {
			t.Fatalf("page behind a held request: %v, want queued", a.Kind)
		}
		// The clock never ends a held service.
		if st := m.Status(time.Hour); st.QueueLength != 2 || st.Waiting != 1 || m.InService(time.Hour) != 1 {
			t.Fatalf("an hour on: %+v, in service %d", st, m.InService(time.Hour))
		}
		// The driver finishes it at 5ms: the page starts then and ends
		// 10ms later, having waited 4ms.
		next, end, ok := m.Finish(5*ms, a.Epoch, true, a.End, 0)
		if !ok || next != 1 || end != 15*ms {
			t.Fatalf("finishing the held request at 5ms handed to %d ending %v (%v), want 1 ending at 15ms", next, end, ok)
		}
		if m.ewma != 2*ms {
			t.Fatalf("ewma %v, want 2ms (weight 0.5 over waits 0 and 4ms)", m.ewma)
		}
		if c := m.Counters(15 * ms); c.Busy != 15*ms {
			t.Fatalf("busy %v, want 15ms (held 0–5ms, page 5–15ms)", c.Busy)
		}
	})
	t.Run("alone", func(t *testing.T) {
		m := NewServer[int](serverConfig(t, 0, 1, 3, 10*ms, noRedirect))
		a := m.ArriveHeld(0, 0)
		if _, _, ok := m.Finish(5*ms, a.Epoch, false, a.End, 0); ok {
			t.Fatal("handed over with nobody waiting")
		}
		if c := m.Counters(10 * ms); c.Busy != 5*ms || c.Served != 1 || c.Pages != 0 {
			t.Fatalf("counters %+v, want 5ms busy, 1 served, no page", c)
		}
		if st := m.Status(10 * ms); st.QueueLength != 0 {
			t.Fatalf("after finishing: %+v", st)
		}
	})
	t.Run("page", func(t *testing.T) {
		p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 0, Target: policy.LeastLoaded, MaxHops: 1, Fraction: 1}
		m := NewServer[int](serverConfig(t, 0, 1, 3, 10*ms, p))
		views := &fixedView{v: upView(0, 0)}
		a := m.ArriveHeldPage(0, 0, 0, views)
		if a.Kind != Started || a.End < century {
			t.Fatalf("held page on an idle server: %+v, want started and held", a)
		}
		// The condition holds (length 1 > 0): the policy redirects a held
		// page as any other, but not one at its hop limit.
		if a := m.ArriveHeldPage(1*ms, 0, 1, views); a.Kind != Redirected || a.Target != 1 {
			t.Fatalf("held page over threshold: %+v, want redirected to 1", a)
		}
		if a := m.ArriveHeldPage(1*ms, 1, 2, views); a.Kind != Queued {
			t.Fatalf("held page at its hop limit: %v, want queued", a.Kind)
		}
		next, end, ok := m.Finish(7*ms, a.Epoch, true, a.End, 0)
		if !ok || next != 2 || end < century {
			t.Fatalf("hand-over: %d ending %v (%v), want 2, held", next, end, ok)
		}
		if c := m.Counters(7 * ms); c.Pages != 1 || c.Redirected != 1 || c.Busy != 7*ms {
			t.Fatalf("counters %+v, want 1 page, 1 redirect, 7ms busy", c)
		}
	})
	t.Run("queued, slowed, capacity, crash", func(t *testing.T) {
		m := NewServer[int](serverConfig(t, 0, 1, 3, 10*ms, noRedirect))
		fresh := NewServer[int](serverConfig(t, 0, 1, 3, 10*ms, noRedirect)).ArriveHeld(0, 0)
		m.ArrivePage(0, 0, Demand{}, 0, none{t})
		if a := m.ArriveHeld(1*ms, 1); a.Kind != Queued {
			t.Fatalf("held behind a page: %v, want queued", a.Kind)
		}
		m.ArriveObject(2*ms, Demand{}, 2)
		if a := m.ArriveHeld(3*ms, 3); a.Kind != Rejected {
			t.Fatalf("held at capacity: %v, want rejected", a.Kind)
		}
		// A slowdown does not scale a held service: it still ends only
		// when finished.
		m.SetSlowdown(3)
		if m.Slowdown() != 3 {
			t.Fatalf("slowdown %g, want 3", m.Slowdown())
		}
		next, end, ok := m.Finish(10*ms, 1, true, 10*ms, 0)
		if !ok || next != 1 || end != 10*ms+fresh.End {
			t.Fatalf("hand-over to the held request: %d ending %v (%v), want 1 ending at 10ms + %v", next, end, ok, fresh.End)
		}
		if lost := m.Crash(time.Hour); !slices.Equal(lost, []int{2, 1}) {
			t.Fatalf("crash lost %v, want [2 1]", lost)
		}
		if a := m.ArriveHeld(time.Hour, 4); a.Kind != Refused {
			t.Fatalf("held while down: %v, want refused", a.Kind)
		}
		if c := m.Counters(time.Hour); c.Rejected != 1 || c.Failed != 2 || c.Redirected != 0 {
			t.Fatalf("counters %+v", c)
		}
	})
}
