package model

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/redirlab/redirlab/dist"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/results"
)

// ArrivalKind is what becomes of an arriving request.
type ArrivalKind uint8

const (
	// Started: admitted with a worker free; in service from now until
	// Arrival.End.
	Started ArrivalKind = iota
	// Queued: admitted to wait in the queue; Finish hands it a worker
	// later.
	Queued
	// Redirected: the policy sends the request to server Arrival.Target.
	Redirected
	// Rejected: the queue is full (waiting plus in service = capacity).
	Rejected
	// Refused: the server is crashed; the request must fail.
	Refused
	// Shed: the condition holds and the policy's action is shed: the
	// request is turned away (503 with Retry-After).
	Shed
)

var arrivalKindNames = [...]string{"started", "queued", "redirected", "rejected", "refused", "shed"}

func (k ArrivalKind) String() string {
	if int(k) < len(arrivalKindNames) {
		return arrivalKindNames[k]
	}
	return "unknown"
}

// Arrival is the server's answer to one arriving request.
type Arrival struct {
	Kind ArrivalKind
	// Target is the server index to redirect to (Redirected), else -1.
	Target int
	// End is when the request's service ends (Started): now plus its
	// service time, slowdown included.
	End time.Duration
	// Epoch identifies the incarnation that admitted the request; Finish
	// ignores requests of an earlier incarnation (before a crash).
	Epoch uint64
}

// ServerConfig describes one server to its state machine.
type ServerConfig struct {
	// Index is the server's index in the scenario.
	Index int
	// Workers serve the queue in parallel. Must be >= 1.
	Workers int
	// Capacity bounds waiting plus in service. Must be >= 1.
	Capacity int
	// Seed is the run's seed, for requests' demands (dist.Uniform).
	Seed uint64
	// EWMAWeight is the weight of a new wait in the ewma estimator, in (0, 1].
	EWMAWeight float64
	// Page and Object draw service times of page requests and embedded
	// objects.
	Page, Object dist.Sampler
	// Policy is the redirect policy.
	Policy policy.Config
	// Rand supplies policy randomness, and service times of requests
	// that carry no demand.
	Rand *rand.Rand
}

// Demand names a request's own service demand: the page request's id
// and the part (0 for the page, k for its object k). A request with a
// demand is served dist.Quantile(dist.Uniform(Seed, ID, Part)) wherever it
// lands and in either driver (common random numbers); one without (a
// browser that is not redirlab's) draws from Rand.
type Demand struct {
	ID, Part uint64
	OK       bool
}

// ViewSource gives the view server self decides with at now. The real
// server passes its ViewHolder; the simulator may pass an exact view. It
// is asked only when a decision needs a view, which is rare: most
// arrivals find the condition false.
type ViewSource interface {
	ViewFor(self int, now time.Duration) *policy.View
}

// queued is one admitted request waiting for a worker.
type queued[W comparable] struct {
	arrived time.Duration
	service time.Duration
	w       W
}

// busy is one worker's service in progress.
type busy[W comparable] struct {
	end     time.Duration
	arrived time.Duration // for the adaptive limit's latency samples
	w       W
}

// limiter is the adaptive condition's state: the limit in force, the
// minRTT measurement, and the window being measured (policy.Gradient is
// the rule).
type limiter struct {
	limit  float64
	minRTT time.Duration // 0 while it is being measured
	rttSum time.Duration // latencies of the minRTT measurement so far
	rttN   int
	end    time.Duration // when the current window closes
	sum    time.Duration // latencies completed in the window
	n      int64
	peak   int // the most requests in flight with an arrival, in the window
}

// Counters are cumulative counts since the server was made; a crash does
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
	// Shed counts arrivals turned away by the shed action.
	Shed int64
	// Failed counts admitted requests lost to a crash.
	Failed int64
	// Busy is the worker-time spent serving, summed over workers.
	Busy time.Duration
}

// Server is one web server's queue, workers, counters and policy. W is
// the driver's handle on a request (what it wakes or answers when the
// request gets a worker or is lost); it must be comparable so a finishing
// service is found by its handle. The zero value is not usable; see
// NewServer.
type Server[W comparable] struct {
	// The state read on every arrival and finish comes first, then the
	// config's fields that are (see ServerConfig and policy.Config), so
	// that a server's hot fields span a few cache lines: a simulation
	// of a hundred servers visits them all in turn.
	up    bool
	epoch uint64
	seq   uint64

	// waiting is a FIFO ring buffer, grown as needed up to cfg.Capacity
	// slots.
	waiting    []queued[W]
	head, size int
	// inService are the services in progress, one per busy worker,
	// unordered. A worker whose end has passed but whose timer has not
	// fired yet is free in the model: see model.
	inService []busy[W]
	// inline holds inService for up to four workers, beside the state
	// instead of in an allocation of its own.
	inline [4]busy[W]

	slowdown float64
	ewma     time.Duration
	// busySince is when len(inService) last changed; busy time accrues
	// as in service × elapsed.
	busySince time.Duration
	counters  Counters

	cfg ServerConfig

	meanPage time.Duration // cfg.Page.Mean(), for the predicted estimator
	lim      limiter
}

// NewServer returns a server that is up and empty.
func NewServer[W comparable](cfg ServerConfig) *Server[W] {
	m := &Server[W]{
		cfg:      cfg,
		up:       true,
		epoch:    1,
		waiting:  make([]queued[W], min(cfg.Capacity, 64)),
		slowdown: 1,
		meanPage: cfg.Page.Mean(),
	}
	m.inService = m.inline[:0:min(cfg.Workers, len(m.inline))]
	if cfg.Workers > len(m.inline) {
		m.inService = make([]busy[W], 0, cfg.Workers)
	}
	// The limit is pinned at its minimum while minRTT is measured.
	m.lim = limiter{limit: cfg.Policy.Gradient.MinLimit, end: cfg.Policy.Gradient.Window}
	return m
}

// adapts reports whether the server keeps an adaptive limit.
func (m *Server[W]) adapts() bool { return m.cfg.Policy.Condition == policy.Adaptive }

// adapt closes the windows that ended by now, recomputing the limit from
// each (policy.Gradient.Next). Windows are aligned on multiples of the
// window length from 0, so both drivers close them at the same instants.
func (m *Server[W]) adapt(now time.Duration) {
	l := &m.lim
	if now < l.end {
		return
	}
	g := &m.cfg.Policy.Gradient
	if l.n > 0 && l.minRTT > 0 {
		l.limit = g.Next(l.limit, l.minRTT, max(l.sum/time.Duration(l.n), 1), l.peak)
	}
	l.sum, l.n, l.peak = 0, 0, 0
	l.end = (now/g.Window + 1) * g.Window
}

// sampleLatency feeds one completion's latency to the adaptive limit:
// to the minRTT measurement until it has its requests, then to the
// window.
func (m *Server[W]) sampleLatency(now, latency time.Duration) {
	m.adapt(now)
	l := &m.lim
	if l.minRTT > 0 {
		l.sum += latency
		l.n++
		return
	}
	l.rttSum += latency
	l.rttN++
	if l.rttN >= m.cfg.Policy.Gradient.MinRTTRequests {
		l.minRTT = max(l.rttSum/time.Duration(l.rttN), 1)
		l.limit = m.cfg.Policy.Gradient.InitialLimit
		l.peak = 0
	}
}

// Limit is the adaptive concurrency limit in force at now (as an integer:
// at most Limit requests in flight), or 0 when the condition is not
// adaptive.
func (m *Server[W]) Limit(now time.Duration) int {
	if !m.adapts() {
		return 0
	}
	m.adapt(now)
	return int(m.lim.limit)
}

// accrue brings busy time up to now.
func (m *Server[W]) accrue(now time.Duration) {
	if now > m.busySince {
		m.counters.Busy += time.Duration(len(m.inService)) * (now - m.busySince)
		m.busySince = now
	}
}

// serviceOf scales a drawn service time by the slowdown in force when
// service starts.
func (m *Server[W]) serviceOf(d time.Duration) time.Duration {
	if d == Held {
		return Held - 1<<62 // far beyond any run, and no overflow when added to now
	}
	if m.slowdown != 1 {
		// Saturate: a factor such as 1e15 would overflow into a short,
		// or negative, service.
		return time.Duration(min(float64(d)*m.slowdown, float64(Held-1<<62)))
	}
	return d
}

// Held is the service time of a request that holds its worker until the
// driver finishes it (ArriveHeld): its end is never reached by the clock.
const Held = time.Duration(math.MaxInt64)

// admit puts an arrival into service or into the queue; length is the
// queue length at now. s draws its service time, from its demand d when
// it has one (dist.Uniform), else from Rand; a nil s holds the worker
// until the driver finishes the request (ArriveHeld). One function, not
// three small ones: it runs on every arrival.
func (m *Server[W]) admit(now time.Duration, length int, s dist.Sampler, d Demand, w W) Arrival {
	if length >= m.cfg.Capacity {
		m.counters.Rejected++
		return Arrival{Kind: Rejected, Target: -1}
	}
	service := Held
	if s != nil {
		if d.OK {
			service = s.Quantile(dist.Uniform(m.cfg.Seed, d.ID, d.Part))
		} else {
			service = s.Sample(m.cfg.Rand)
		}
	}
	if len(m.inService) < m.cfg.Workers {
		m.accrue(now)
		m.observeWait(0)
		end := now + m.serviceOf(service)
		m.inService = append(m.inService, busy[W]{end: end, arrived: now, w: w})
		return Arrival{Kind: Started, End: end, Epoch: m.epoch, Target: -1}
	}
	if m.size == len(m.waiting) {
		m.grow()
	}
	m.waiting[m.slot(m.size)] = queued[W]{arrived: now, service: service, w: w}
	m.size++
	return Arrival{Kind: Queued, Epoch: m.epoch, Target: -1}
}

// slot is the ring index k places after the head (k < len(m.waiting)):
// a compare instead of a division on every arrival and every finish.
func (m *Server[W]) slot(k int) int {
	i := m.head + k
	if i >= len(m.waiting) {
		i -= len(m.waiting)
	}
	return i
}

// grow doubles the waiting ring, at most to the capacity.
func (m *Server[W]) grow() {
	w := make([]queued[W], min(max(2*len(m.waiting), 1), m.cfg.Capacity))
	for i := 0; i < m.size; i++ {
		w[i] = m.waiting[(m.head+i)%len(m.waiting)]
	}
	m.waiting, m.head = w, 0
}

// ArrivePage answers a page request arriving at now that has already been
// redirected hops times. The policy sees the live status and, when it
// needs one, the view from views.
func (m *Server[W]) ArrivePage(now time.Duration, hops int, d Demand, w W, views ViewSource) Arrival {
	return m.arrivePage(now, hops, d, w, views, false)
}

// ArriveHeldPage is ArrivePage for a page whose service ends only when
// the driver calls Finish for it (ArriveHeld): the policy decides as for
// any page, and an admitted page holds its worker until finished.
func (m *Server[W]) ArriveHeldPage(now time.Duration, hops int, w W, views ViewSource) Arrival {
	return m.arrivePage(now, hops, Demand{}, w, views, true)
}

// arrivePage is ArrivePage, or ArriveHeldPage when held.
func (m *Server[W]) arrivePage(now time.Duration, hops int, d Demand, w W, views ViewSource, held bool) Arrival {
	if !m.up {
		return Arrival{Kind: Refused, Target: -1}
	}
	seq := m.seq
	m.seq++
	length, waiting, _, first := m.model(now)
	p := &m.cfg.Policy
	// Decide serves, drawing nothing, a request at its hop limit, under
	// condition none, or (local placement) when the condition does not
	// hold: the call is skipped then, which is most arrivals.
	if p.Condition != policy.None && hops < p.MaxHops {
		self := policy.Status{Server: m.cfg.Index, QueueLength: length, Waiting: waiting, Workers: m.cfg.Workers, Up: true, At: now}
		switch p.Condition {
		case policy.QueueDelay:
			// Only this condition reads the server's own delay.
			self = m.status(now, length, waiting, first)
		case policy.Adaptive:
			m.adapt(now)
			m.lim.peak = max(m.lim.peak, length+1)
			self.Limit = int(m.lim.limit)
		}
		if p.Placement == policy.Central || p.Holds(self) {
			dec := p.Decide(self, *views.ViewFor(m.cfg.Index, now), hops, seq, m.cfg.Rand)
			if dec.Redirect {
				m.counters.Redirected++
				return Arrival{Kind: Redirected, Target: dec.Target}
			}
			if dec.Shed {
				m.counters.Shed++
				return Arrival{Kind: Shed, Target: -1}
			}
		}
	}
	s := m.cfg.Page
	if held {
		s = nil // the driver ends the service: see admit
	}
	return m.admit(now, length, s, d, w)
}

// ArriveObject answers an embedded-object request: same queue, object
// service times, never redirected.
func (m *Server[W]) ArriveObject(now time.Duration, d Demand, w W) Arrival {
	return m.arrive(now, m.cfg.Object, d, w)
}

// ArriveHeld admits a request, never redirected, whose service ends only
// when the driver calls Finish for it (a request proxied to a backend
// that answers in its own time). Its Arrival.End is far in the future.
func (m *Server[W]) ArriveHeld(now time.Duration, w W) Arrival {
	return m.arrive(now, nil, Demand{}, w)
}

// arrive answers a request that is never redirected: admitted with
// service times from s (nil: held), or refused while the server is down.
func (m *Server[W]) arrive(now time.Duration, s dist.Sampler, d Demand, w W) Arrival {
	if !m.up {
		return Arrival{Kind: Refused, Target: -1}
	}
	length, _, _, _ := m.model(now)
	return m.admit(now, length, s, d, w)
}

// Finish ends, at now, the service of w, of incarnation epoch, that was
// due to end at end (page says whether it was a page request). If a
// request waits, the worker passes straight to it: Finish returns its
// handle and when its service ends, with ok true.
//
// The next service starts at end, not now (or at its arrival, if that is
// later): a timer that fires late must not stretch the modelled service,
// or every late wake-up would add to the server's busy time and a
// saturated real server would serve less than the simulated one.
func (m *Server[W]) Finish(now time.Duration, epoch uint64, page bool, end time.Duration, w W) (next W, nextEnd time.Duration, ok bool) {
	if epoch != m.epoch || !m.up {
		return next, 0, false
	}
	// A held request (ArriveHeld) ends when the driver says, before its
	// nominal end.
	end = min(end, now)
	m.counters.Served++
	if page {
		m.counters.Pages++
	}
	m.accrue(now)
	k := -1
	for i := range m.inService {
		if m.inService[i].w == w {
			k = i
			break
		}
	}
	if k >= 0 && m.adapts() {
		m.sampleLatency(now, end-m.inService[k].arrived)
	}
	if m.size == 0 {
		if k >= 0 {
			last := len(m.inService) - 1
			m.inService[k] = m.inService[last]
			m.inService[last] = busy[W]{}
			m.inService = m.inService[:last]
		}
		// The worker was counted busy until now; its service ended at end.
		if now > end {
			m.counters.Busy -= now - end
		}
		return next, 0, false
	}
	h := m.waiting[m.head]
	m.waiting[m.head] = queued[W]{} // drop the handle for the garbage collector
	m.head = m.slot(1)
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
		m.inService[k] = busy[W]{end: nextEnd, arrived: h.arrived, w: h.w}
	}
	return h.w, nextEnd, true
}

// model is the queue as the model has it at now: services whose scheduled
// end has passed are over even if their timers have not fired yet (the
// real server may be starved of CPU), and as many waiters have started
// service in their place. It returns the queue length, the waiting, the
// in service, and the index in waiting of the first waiter still waiting.
func (m *Server[W]) model(now time.Duration) (length, waiting, inService, first int) {
	over := 0
	for i := range m.inService {
		if m.inService[i].end <= now {
			over++
		}
	}
	n := len(m.inService)
	started := min(over, m.size)
	return m.size + n - over, m.size - started, n - over + started, started
}

// observeWait feeds one measured wait into the ewma estimator, which
// only that estimator reads.
func (m *Server[W]) observeWait(wait time.Duration) {
	if m.cfg.Policy.Estimator != policy.EWMA {
		return
	}
	a := m.cfg.EWMAWeight
	m.ewma = time.Duration(a*float64(wait) + (1-a)*float64(m.ewma))
}

// Status is the live status at now, as the model has it: a service whose
// scheduled end has passed is over, and a waiter has taken its worker,
// even if the timer that makes it so in the real server is late.
func (m *Server[W]) Status(now time.Duration) policy.Status {
	length, waiting, _, first := m.model(now)
	st := m.status(now, length, waiting, first)
	st.Limit = m.Limit(now)
	return st
}

// status builds the Status of model's figures at now.
func (m *Server[W]) status(now time.Duration, length, waiting, first int) policy.Status {
	var hol time.Duration
	if waiting > 0 {
		hol = now - m.waiting[m.slot(first)].arrived
	}
	return policy.Status{
		Server:      m.cfg.Index,
		QueueLength: length,
		Waiting:     waiting,
		QueueDelay:  policy.EstimateDelay(m.cfg.Policy.Estimator, hol, m.ewma, waiting, m.cfg.Workers, m.meanPage),
		Workers:     m.cfg.Workers,
		Up:          m.up,
		At:          now,
	}
}

// InService is the number of requests being served at now (as the model
// has it: see Status).
func (m *Server[W]) InService(now time.Duration) int {
	_, _, n, _ := m.model(now)
	return n
}

// Counters returns the cumulative counters with busy time brought up to now.
func (m *Server[W]) Counters(now time.Duration) Counters {
	m.accrue(now)
	return m.counters
}

// Sample is the servers.csv sample, at run time at, of the server as it
// is at now: counts and busy time since *last, the counters of the
// previous sample, which it updates. Both drivers, and a front for a
// real backend (package redirect), sample this way.
func (m *Server[W]) Sample(at, now time.Duration, last *Counters) results.ServerSample {
	st := m.Status(now)
	c := m.Counters(now)
	prev := *last
	if c.Busy < prev.Busy {
		// Lateness of a service that straddled the previous sample was
		// subtracted after it: carry it over rather than report negative
		// busy time.
		c.Busy = prev.Busy
	}
	*last = c
	return results.ServerSample{
		At:          at,
		Server:      m.cfg.Index,
		QueueLength: st.QueueLength,
		InService:   m.InService(now),
		QueueDelay:  st.QueueDelay,
		Served:      int(c.Served - prev.Served),
		Redirected:  int(c.Redirected - prev.Redirected),
		Rejected:    int(c.Rejected - prev.Rejected),
		Up:          m.Up(),
		BusyTime:    c.Busy - prev.Busy,
	}
}

// Up reports whether the server is running.
func (m *Server[W]) Up() bool { return m.up }

// Workers is the number of workers.
func (m *Server[W]) Workers() int { return m.cfg.Workers }

// Slowdown is the service-time factor in force.
func (m *Server[W]) Slowdown() float64 { return m.slowdown }

// SetSlowdown multiplies the service times of requests that start service
// from now on by factor (1 = normal speed).
func (m *Server[W]) SetSlowdown(factor float64) { m.slowdown = factor }

// Crash takes the server down at now: every admitted request is lost. It
// returns their handles, those waiting first (in queue order), then those
// in service. Counters survive.
func (m *Server[W]) Crash(now time.Duration) []W {
	if !m.up {
		return nil
	}
	m.accrue(now)
	lost := make([]W, 0, m.size+len(m.inService))
	for m.size > 0 {
		lost = append(lost, m.waiting[m.head].w)
		m.waiting[m.head] = queued[W]{}
		m.head = m.slot(1)
		m.size--
	}
	for i := range m.inService {
		lost = append(lost, m.inService[i].w)
		m.inService[i] = busy[W]{}
	}
	m.counters.Failed += int64(len(lost))
	m.inService = m.inService[:0]
	m.up = false
	m.epoch++
	m.ewma = 0
	return lost
}

// Restart brings a crashed server back up at now with an empty queue.
func (m *Server[W]) Restart(now time.Duration) {
	if m.up {
		return
	}
	m.up = true
	m.busySince = now
}
