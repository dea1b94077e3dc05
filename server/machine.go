package server

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/redirlab/redirlab/dist"
	"github.com/redirlab/redirlab/policy"
)

// This file is the middle layer: one server's state as a single-threaded,
// clock-free state machine. Every method takes the current time (since run
// start) as an argument; nothing here reads a clock, sleeps, locks or
// starts a goroutine. The HTTP wrapper (server.go) serialises calls with
// a mutex and ends services at their scheduled ends (complete.go); the
// unit tests drive it with hand-picked times.

// Kind is what happens to an arrival.
type Kind uint8

const (
	// Start: the request was admitted and a worker is free; it is in
	// service from now for Service.
	Start Kind = iota
	// Wait: the request was admitted and waits in the queue; Finish hands
	// it a worker later.
	Wait
	// Redirect: the policy sends the request to server Target.
	Redirect
	// Reject: the queue is full (waiting plus in service = capacity).
	Reject
	// Down: the server is crashed; the request must fail.
	Down
)

var kindNames = [...]string{"start", "wait", "redirect", "reject", "down"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Arrival is the machine's answer to one arriving request.
type Arrival struct {
	Kind Kind
	// Target is the server index to redirect to (Kind Redirect).
	Target int
	// End is when the request's service ends (Kind Start): now plus its
	// service time, slowdown included.
	End time.Duration
	// Epoch identifies the incarnation that admitted the request; Finish
	// ignores requests of an earlier incarnation (before a crash).
	Epoch uint64
}

// MachineConfig describes one server to its state machine.
type MachineConfig struct {
	// Index is the server's index in the scenario.
	Index int
	// Workers serve the queue in parallel. Must be >= 1.
	Workers int
	// Capacity bounds waiting plus in service. Must be >= Workers.
	Capacity int
	// Page and Object draw service times of page requests and embedded
	// objects.
	Page, Object dist.Sampler
	// Policy is the redirect policy.
	Policy policy.Config
	// EWMAWeight is the weight of a new wait in the ewma estimator, in (0, 1].
	EWMAWeight float64
	// ViewTTL: a view older than this is ignored (no redirects).
	ViewTTL time.Duration
	// Rand supplies policy randomness, and service times of requests
	// that carry no demand.
	Rand *rand.Rand
	// Seed is the run's seed, for requests' demands (dist.Uniform).
	Seed uint64
}

// Demand names a request's own service demand: the page request's id
// and the part (0 for the page, k+1 for its object k). A request with a
// demand is served dist.Quantile(dist.Uniform(Seed, ID, Part)), exactly
// as the simulator serves the same request; one without (a browser that
// is not redirlab's) draws from Rand.
type Demand struct {
	ID, Part uint64
	OK       bool
}

// service draws the service time of a request with demand d from s.
func (m *Machine[W]) service(s dist.Sampler, d Demand) time.Duration {
	if d.OK {
		return s.Quantile(dist.Uniform(m.cfg.Seed, d.ID, d.Part))
	}
	return s.Sample(m.cfg.Rand)
}

// queued is one admitted request waiting for a worker.
type queued[W any] struct {
	arrived time.Duration
	service time.Duration
	w       W
}

// Counters are cumulative counts since the machine was made; a crash does
// not reset them. Busy counts modelled service time: a worker whose timer
// fires late is not busy for the lateness (it is subtracted when the
// worker finishes, so Busy can briefly dip between two reads).
type Counters struct {
	// Served counts requests (pages and objects) whose service completed.
	Served int64
	// Pages counts page requests among Served.
	Pages int64
	// Redirected counts redirect answers.
	Redirected int64
	// Rejected counts full-queue answers.
	Rejected int64
	// Failed counts admitted requests lost to a crash.
	Failed int64
	// Busy is the worker-time spent serving, summed over workers.
	Busy time.Duration
}

// Machine is one server's queue, counters, policy and last view.
// W is the wrapper's handle on a waiting request (what it wakes when the
// request gets a worker). The zero value is not usable; see NewMachine.
type Machine[W any] struct {
	cfg MachineConfig

	up    bool
	epoch uint64

	// waiting is a FIFO ring buffer of cfg.Capacity slots.
	waiting    []queued[W]
	head, size int
	inService  int
	// ends are the scheduled ends of the services in progress, one per
	// busy worker, unordered. A worker whose end has passed but whose
	// timer has not fired yet is free in the model: see model.
	ends []time.Duration

	slowdown float64
	ewma     time.Duration
	seq      uint64

	counters Counters
	// busySince is when inService last changed; busy time accrues as
	// inService × elapsed.
	busySince time.Duration

	// view is the effective view (peers without a URL marked down);
	// viewAt when it was received; hasView false before the first one.
	view    policy.View
	viewAt  time.Duration
	hasView bool
}

// NewMachine returns a machine that is up, empty and has no view.
func NewMachine[W any](cfg MachineConfig) *Machine[W] {
	return &Machine[W]{
		cfg:      cfg,
		up:       true,
		epoch:    1,
		waiting:  make([]queued[W], cfg.Capacity),
		ends:     make([]time.Duration, 0, cfg.Workers),
		slowdown: 1,
	}
}

// accrue brings busy time up to now.
func (m *Machine[W]) accrue(now time.Duration) {
	if now > m.busySince {
		m.counters.Busy += time.Duration(m.inService) * (now - m.busySince)
		m.busySince = now
	}
}

// serviceOf scales a drawn service time by the slowdown in force when
// service starts.
func (m *Machine[W]) serviceOf(d time.Duration) time.Duration {
	if m.slowdown != 1 {
		return time.Duration(float64(d) * m.slowdown)
	}
	return d
}

// admit puts an arrival into service or into the queue.
func (m *Machine[W]) admit(now, service time.Duration, w W) Arrival {
	if ql, _, _, _ := m.model(now); ql >= m.cfg.Capacity {
		m.counters.Rejected++
		return Arrival{Kind: Reject, Target: -1}
	}
	if m.inService < m.cfg.Workers {
		m.accrue(now)
		m.inService++
		m.observeWait(0)
		end := now + m.serviceOf(service)
		m.ends = append(m.ends, end)
		return Arrival{Kind: Start, End: end, Epoch: m.epoch, Target: -1}
	}
	m.waiting[(m.head+m.size)%len(m.waiting)] = queued[W]{arrived: now, service: service, w: w}
	m.size++
	return Arrival{Kind: Wait, Epoch: m.epoch, Target: -1}
}

// ArrivePage answers a page request arriving at now that has already been
// redirected hops times. It consults the policy with the live status and
// the last view (ignored when older than ViewTTL).
func (m *Machine[W]) ArrivePage(now time.Duration, hops int, d Demand, w W) Arrival {
	if !m.up {
		return Arrival{Kind: Down, Target: -1}
	}
	seq := m.seq
	m.seq++
	if m.cfg.Policy.Condition != policy.None {
		dec := m.cfg.Policy.Decide(m.Status(now), m.currentView(now), hops, seq, m.cfg.Rand)
		if dec.Redirect {
			m.counters.Redirected++
			return Arrival{Kind: Redirect, Target: dec.Target}
		}
	}
	return m.admit(now, m.service(m.cfg.Page, d), w)
}

// ArriveObject answers an embedded-object request: same queue, object
// service times, never redirected.
func (m *Machine[W]) ArriveObject(now time.Duration, d Demand, w W) Arrival {
	if !m.up {
		return Arrival{Kind: Down, Target: -1}
	}
	return m.admit(now, m.service(m.cfg.Object, d), w)
}

// Finish ends, at now, one service of incarnation epoch that was due to
// end at end (page says whether it was a page request). If a request
// waits, the worker passes straight to it: Finish returns its handle and
// when its service ends, with ok true.
//
// The next service starts at end, not now (or at its arrival, if that is
// later): a timer that fires late must not stretch the modelled service,
// or every late wake-up would add to the server's busy time and a
// saturated real server would serve less than the simulated one.
func (m *Machine[W]) Finish(now time.Duration, epoch uint64, page bool, end time.Duration) (next W, nextEnd time.Duration, ok bool) {
	if epoch != m.epoch || !m.up {
		return next, 0, false
	}
	m.counters.Served++
	if page {
		m.counters.Pages++
	}
	m.accrue(now)
	k := slices.Index(m.ends, end)
	if m.size == 0 {
		if k >= 0 {
			m.ends[k] = m.ends[len(m.ends)-1]
			m.ends = m.ends[:len(m.ends)-1]
		}
		m.inService--
		// The worker was counted busy until now; its service ended at end.
		if now > end {
			m.counters.Busy -= now - end
		}
		return next, 0, false
	}
	var zero queued[W]
	h := m.waiting[m.head]
	m.waiting[m.head] = zero // drop the handle for the garbage collector
	m.head = (m.head + 1) % len(m.waiting)
	m.size--
	start := max(end, h.arrived)
	// Between end and start (a request that arrived while the timer was
	// late) the worker was idle, though counted busy.
	if idle := min(start, now) - end; idle > 0 {
		m.counters.Busy -= idle
	}
	m.observeWait(start - h.arrived)
	nextEnd = start + m.serviceOf(h.service)
	if k >= 0 {
		m.ends[k] = nextEnd
	}
	return h.w, nextEnd, true
}

// model is the queue as the model has it at now: services whose scheduled
// end has passed are over even if their timers have not fired yet (the
// machine may be starved of CPU), and as many waiters have started
// service in their place. It returns the queue length, the waiting, the
// in service, and the index in waiting of the first waiter still waiting.
func (m *Machine[W]) model(now time.Duration) (length, waiting, inService, first int) {
	over := 0
	for _, e := range m.ends {
		if e <= now {
			over++
		}
	}
	started := min(over, m.size)
	return m.size + m.inService - over, m.size - started, m.inService - over + started, started
}

// observeWait feeds one measured wait into the ewma estimator.
func (m *Machine[W]) observeWait(wait time.Duration) {
	a := m.cfg.EWMAWeight
	m.ewma = time.Duration(a*float64(wait) + (1-a)*float64(m.ewma))
}

// currentView is the last view, or the empty view when there is none or
// it is older than ViewTTL: a server that has lost its manager stops
// redirecting rather than trust stale news.
func (m *Machine[W]) currentView(now time.Duration) policy.View {
	if !m.hasView || now-m.viewAt > m.cfg.ViewTTL {
		return policy.View{}
	}
	return m.view
}

// SetView installs a view received at now. urls are the registered base
// URLs by server index; a peer without one is treated as down, so the
// policy never picks a server it cannot name.
func (m *Machine[W]) SetView(now time.Duration, v policy.View, urls []string) {
	servers := make([]policy.Status, len(v.Servers))
	copy(servers, v.Servers)
	for i := range servers {
		if i >= len(urls) || urls[i] == "" {
			servers[i].Up = false
		}
	}
	v.Servers = servers
	m.view, m.viewAt, m.hasView = v, now, true
}

// ViewAge is how old the last view is at now, and false when there is
// none.
func (m *Machine[W]) ViewAge(now time.Duration) (time.Duration, bool) {
	return now - m.viewAt, m.hasView
}

// Status is the live status at now, as the model has it: a service whose
// scheduled end has passed is over, and a waiter has taken its worker,
// even if the timer that makes it so in the wrapper is late.
func (m *Machine[W]) Status(now time.Duration) policy.Status {
	length, waiting, _, first := m.model(now)
	var hol time.Duration
	if waiting > 0 {
		hol = now - m.waiting[(m.head+first)%len(m.waiting)].arrived
	}
	return policy.Status{
		Server:      m.cfg.Index,
		QueueLength: length,
		Waiting:     waiting,
		QueueDelay:  policy.EstimateDelay(m.cfg.Policy.Estimator, hol, m.ewma, waiting, m.cfg.Workers, m.cfg.Page.Mean()),
		Workers:     m.cfg.Workers,
		Up:          m.up,
		At:          now,
	}
}

// InService is the number of requests being served at now (as the model
// has it: see Status).
func (m *Machine[W]) InService(now time.Duration) int {
	_, _, n, _ := m.model(now)
	return n
}

// Counters returns the cumulative counters with busy time brought up to now.
func (m *Machine[W]) Counters(now time.Duration) Counters {
	m.accrue(now)
	return m.counters
}

// Up reports whether the server is running.
func (m *Machine[W]) Up() bool { return m.up }

// SetSlowdown multiplies the service times of requests that start service
// from now on by factor (1 = normal speed).
func (m *Machine[W]) SetSlowdown(factor float64) { m.slowdown = factor }

// Crash takes the server down at now: every admitted request is lost;
// those waiting are returned (in-service ones are known to the wrapper by
// epoch). Counters and the view survive (the view is the agent's, and the
// agent outlives the server).
func (m *Machine[W]) Crash(now time.Duration) []W {
	if !m.up {
		return nil
	}
	m.accrue(now)
	lost := make([]W, 0, m.size)
	var zero queued[W]
	for m.size > 0 {
		lost = append(lost, m.waiting[m.head].w)
		m.waiting[m.head] = zero
		m.head = (m.head + 1) % len(m.waiting)
		m.size--
	}
	m.counters.Failed += int64(len(lost) + m.inService)
	m.inService = 0
	m.ends = m.ends[:0]
	m.up = false
	m.epoch++
	m.ewma = 0
	return lost
}

// Restart brings a crashed server back up at now with an empty queue.
func (m *Machine[W]) Restart(now time.Duration) {
	if m.up {
		return
	}
	m.up = true
	m.busySince = now
}
