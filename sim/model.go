package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redirlab/redirlab/arrival"
	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/dist"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// recorder is where the simulation's records go: a *results.Recorder,
// or a test's small in-memory sink.
type recorder = results.Sink

// Random stream IDs, combined with the scenario seed. Arrivals use stream
// 1 as a real run does; every server has its own policy stream so that one
// server's draws do not shift another's. Service times are no stream:
// each request carries its demand (dist.Uniform of seed, id and part).
const (
	streamArrivals = 1
	streamBrowsers = 2
	streamManager  = 3
	streamPolicy   = 3 << 20
)

// ctxEvery is how many events run between context checks.
const ctxEvery = 1 << 16

// phase is where a request slot is.
type phase uint8

const (
	phFree      phase = iota
	phPending         // a page waiting for its scheduled time (think, closed loop)
	phToServer        // on its way to a server (evReach pending or inline)
	phWaiting         // in a server's FIFO
	phServing         // in service (evDone pending)
	phToBrowser       // the answer on its way back (evResponse pending)
	phObjects         // a page whose embedded objects are being fetched
)

// maxParallelObjects is how many embedded objects a browser fetches at
// once, over as many keep-alive connections, as loadgen's browsers do.
const maxParallelObjects = 6

// request is one browser page request and its embedded-object fetches.
// Slots are recycled through a free list so that the hot loop does not
// allocate; gen changes on every reuse and invalidates stale events.
type request struct {
	rec      results.Request
	enqueued time.Duration // when it joined the current server's queue
	gen      uint32
	server   int32 // server of the current exchange
	target   int32 // redirect target carried by the answer in flight
	status   int16 // HTTP status of the answer in flight; 0 = transport error
	phase    phase
	object   bool // the current exchange is an embedded object
	pageDone bool // the page itself has its final answer (no timeout any more)
	// abandoned: the browser timed out and its record is written; the
	// slot is freed when its current exchange ends.
	abandoned   bool
	hops        int32 // redirects followed so far
	pagesLeft   int32 // pages of the session after this one
	objectsLeft int32 // objects not yet requested (page slot)
	objectsOut  int32 // objects requested and not ended (page slot)
	parent      int32 // the page slot of an object exchange
	// demandID and part name the request's demand (dist.Uniform): the
	// page's id, and 0 for the page or k for its k-th object.
	demandID uint64
	part     int32
	browser  int32 // closed-loop browser, -1 for open loop
}

// server is one simulated web server: Workers workers serving a bounded
// FIFO (QueueCapacity counts waiting plus in service).
type server struct {
	workers  int
	capacity int
	queue    ring[int32]
	busy     int
	up       bool
	slow     float64 // product of active slowdown factors
	svc, obj dist.Sampler
	meanSvc  time.Duration
	polRng   *rand.Rand
	arrivals uint64  // page arrivals decided, the seq passed to Decide
	ewma     float64 // moving average of measured waits, ns

	// Since the last sample.
	served, redirected, rejected int
	busyArea                     time.Duration
	lastChange                   time.Duration
}

// account adds worker-time up to now before busy changes.
func (s *server) account(now time.Duration) {
	if s.busy > 0 {
		s.busyArea += time.Duration(s.busy) * (now - s.lastChange)
	}
	s.lastChange = now
}

// simulation is the single-goroutine driver: all model state and the
// event loop. Nothing in it reads a clock or sleeps.
type simulation struct {
	rec  recorder
	cfg  policy.Config
	seed uint64 // the run's seed, for requests' demands

	now     time.Duration
	horizon time.Duration // warmup + duration: no page is scheduled at or after it
	events  eventHeap
	dls     ring[deadline]
	reqs    []request
	free    []int32
	inUse   int // allocated slots

	servers []server
	live    []policy.Status // exact status of every server, kept current

	// Manager and agents.
	interval   time.Duration // 0: exact view
	viewTTL    time.Duration
	expire     time.Duration
	view       policy.View // the exact view frozen by a manager outage
	exact      policy.View // the exact view handed to decisions
	agents     []agent     // reporting mode: each server's agent and view
	reported   []policy.Status
	lastReport []time.Duration
	seen       []bool
	mgrUp      []bool // whether the manager believes each server up
	instr      []policy.Instruction
	tickedAt   time.Duration
	outages    int   // active manager outages
	lossFaults []int // active lost-reports faults
	frozen     bool  // exact view frozen by a manager outage
	mgrRng     *rand.Rand

	// Browsers.
	proc         arrival.Process // nil for closed loop
	arrAt        time.Duration   // the next session start, when arrPending
	arrSeq       uint64
	arrPending   bool
	arrivalsDone bool
	closed       bool
	closedLeft   int // closed loop: page requests still to issue; -1 unbounded
	disp         *dispatch.Dispatcher
	dispLoad     func(i int) (int64, bool) // what jsq and p2c see: live queue length, up
	brRng        *rand.Rand                // the dispatch stream, (seed, 2) as in a real run
	nextID       uint64
	inFlight     int // page requests issued and not recorded
	maxInFlight  int
	half         time.Duration // RTT/2: one way
	overhead     time.Duration
	timeout      time.Duration
	pages        int32
	objects      int32
	think        time.Duration
	maxRedirects int32
	redirStatus  int16
	faults       []scenarios.Fault

	ewmaWeight float64

	sampleEvery time.Duration
	lastSample  time.Duration
	sample      results.ServerSample
	events64    int
}

// newSimulation builds the model of sc. Zero values that the scenarios
// package would have filled get the documented defaults, so that a
// scenario built in code behaves like one loaded from a file.
func newSimulation(sc *scenarios.Scenario, rec recorder) (*simulation, error) {
	inst := sc.Instances()
	if len(inst) == 0 {
		return nil, fmt.Errorf("sim: scenario %q has no servers", sc.Name)
	}
	if sc.Duration <= 0 {
		return nil, fmt.Errorf("sim: scenario %q: duration must be > 0", sc.Name)
	}
	s := &simulation{
		rec:      rec,
		cfg:      sc.PolicyConfig(),
		seed:     sc.Seed,
		horizon:  sc.Warmup + sc.Duration,
		servers:  make([]server, len(inst)),
		live:     make([]policy.Status, len(inst)),
		interval: sc.Interval(),
		mgrRng:   rand.New(rand.NewPCG(sc.Seed, streamManager)),
		brRng:    rand.New(rand.NewPCG(sc.Seed, streamBrowsers)),
		faults:   sc.Faults,
	}
	weights := make([]float64, len(inst))
	for i, in := range inst {
		g := in.Group
		svc, err := dist.New(g.Service)
		if err != nil {
			return nil, fmt.Errorf("sim: server %s: service: %w", in.Name, err)
		}
		obj, err := dist.New(g.ObjectService)
		if err != nil {
			return nil, fmt.Errorf("sim: server %s: object_service: %w", in.Name, err)
		}
		sv := &s.servers[i]
		sv.workers = max(g.Workers, 1)
		sv.capacity = g.QueueCapacity
		if sv.capacity <= 0 {
			sv.capacity = 1024
		}
		sv.up = true
		sv.slow = 1
		sv.svc, sv.obj, sv.meanSvc = svc, obj, svc.Mean()
		sv.polRng = rand.New(rand.NewPCG(sc.Seed, streamPolicy+uint64(i)))
		s.live[i] = policy.Status{Server: i, Workers: sv.workers, Up: true}
		if g.Weight < 0 {
			return nil, fmt.Errorf("sim: server %s: weight must not be negative, got %g", in.Name, g.Weight)
		}
		weights[i] = g.Weight
	}

	// Manager.
	if s.interval < 0 {
		return nil, fmt.Errorf("sim: manager.report_interval must be >= 0")
	}
	s.viewTTL = sc.Manager.ViewTTL
	if s.viewTTL <= 0 {
		s.viewTTL = max(10*s.interval, time.Second)
	}
	s.expire = sc.Manager.Expire
	if s.expire <= 0 {
		s.expire = max(3*s.interval, 300*time.Millisecond)
	}
	if s.interval > 0 {
		n := len(inst)
		s.reported = make([]policy.Status, n)
		s.lastReport = make([]time.Duration, n)
		s.seen = make([]bool, n)
		s.mgrUp = make([]bool, n)
		s.agents = make([]agent, n)
		for i := range s.agents {
			s.agents[i].view.Servers = make([]policy.Status, n)
			if s.cfg.Placement == policy.Central {
				s.agents[i].view.Instructions = make([]policy.Instruction, n)
			}
		}
		if s.cfg.Placement == policy.Central {
			s.instr = make([]policy.Instruction, n)
			for i := range s.instr {
				s.instr[i].Target = -1
			}
		}
	}

	// Workload.
	w := &sc.Workload
	dp, err := dispatch.Parse(w.Dispatch)
	if err != nil {
		return nil, fmt.Errorf("sim: workload.dispatch: %w", err)
	}
	if s.disp, err = dispatch.New(dp, weights); err != nil {
		return nil, fmt.Errorf("sim: workload.dispatch: %w", err)
	}
	s.dispLoad = func(i int) (int64, bool) { return int64(s.live[i].QueueLength), s.live[i].Up }
	s.half = sc.Network.RTT / 2
	s.overhead = sc.Network.Overhead
	s.timeout = w.Timeout
	s.maxInFlight = w.MaxInFlight
	s.pages = int32(max(w.Session.Pages, 1))
	s.objects = int32(max(w.Session.Objects, 0))
	s.think = w.Session.Think
	s.maxRedirects = int32(w.MaxRedirects)
	if s.maxRedirects <= 0 {
		s.maxRedirects = 10
	}
	s.redirStatus = int16(sc.Policy.Status)
	if s.redirStatus == 0 {
		s.redirStatus = 302
	}
	s.ewmaWeight = sc.Policy.EWMAWeight
	if s.ewmaWeight <= 0 {
		s.ewmaWeight = 0.1
	}
	s.sampleEvery = sc.SampleInterval
	if s.sampleEvery <= 0 {
		s.sampleEvery = 100 * time.Millisecond
	}

	if w.Arrival.Process == "closed" {
		s.closed = true
		s.arrivalsDone = true
		s.closedLeft = -1
		if w.Arrival.Requests > 0 {
			s.closedLeft = w.Arrival.Requests
		}
		for b := 0; b < max(w.Arrival.Concurrency, 1); b++ {
			slot := s.alloc()
			r := &s.reqs[slot]
			r.browser = int32(b)
			r.pagesLeft = s.pages - 1
			r.phase = phPending
			s.events.push(0, evPage, slot, r.gen)
		}
	} else {
		p, err := arrival.New(w.Arrival, s.horizon, rand.New(rand.NewPCG(sc.Seed, streamArrivals)))
		if err != nil {
			return nil, fmt.Errorf("sim: workload.arrival: %w", err)
		}
		s.proc = p
		s.nextSession()
	}

	for i, f := range sc.Faults {
		switch f.Action {
		case "slowdown", "crash", "restart":
			if f.ServerIndex < 0 || f.ServerIndex >= len(inst) {
				return nil, fmt.Errorf("sim: faults[%d]: %s needs a server", i, f.Action)
			}
		case "manager-outage", "lost-reports":
		default:
			return nil, fmt.Errorf("sim: faults[%d].action: unknown action %q", i, f.Action)
		}
		if f.At < s.horizon {
			s.events.push(f.At, evFault, int32(2*i), 0)
		}
		if f.Action == "lost-reports" && s.interval == 0 {
			rec.Note(fmt.Sprintf("fault %d (lost-reports at %v) has no effect: report_interval 0 is an exact view with no reports", i, f.At))
		}
	}
	if s.interval > 0 {
		// The manager ticks first at each instant; agents then report in
		// a fixed random order, each on its own schedule.
		s.events.push(0, evReport, -1, 0)
		for _, i := range s.mgrRng.Perm(len(inst)) {
			s.events.push(0, evReport, int32(i), 0)
		}
	}
	s.events.push(s.sampleEvery, evSample, 0, 0)
	return s, nil
}

// run drives the simulation to its end: arrivals stop at the horizon,
// then in-flight requests drain.
func (s *simulation) run(ctx context.Context) error {
	for {
		if s.events64++; s.events64 >= ctxEvery {
			s.events64 = 0
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		// Done: no arrival to come, nothing in flight (so every deadline
		// left is stale) and, open loop, the horizon reached.
		if s.arrivalsDone && s.inUse == 0 && (s.closed || s.events.len() == 0 || s.events.top().at >= s.horizon) {
			break
		}
		// The next occurrence is the earliest (time, seq) of the heap's
		// top, the oldest deadline and the next session start.
		const fromHeap, fromDeadline, fromArrival = 0, 1, 2
		src := -1
		var at time.Duration
		var seq uint64
		if s.events.len() > 0 {
			top := s.events.top()
			src, at, seq = fromHeap, top.at, top.key>>kindBits
		}
		if s.arrPending && (src < 0 || s.arrAt < at || (s.arrAt == at && s.arrSeq < seq)) {
			src, at, seq = fromArrival, s.arrAt, s.arrSeq
		}
		if s.dls.len() > 0 {
			if d := s.dls.front(); src < 0 || d.at < at || (d.at == at && d.seq < seq) {
				src = fromDeadline
			}
		}
		switch src {
		case fromDeadline:
			dl := s.dls.pop()
			s.now = dl.at
			s.expireRequest(dl)
			continue
		case fromArrival:
			s.now = s.arrAt
			s.sessionStarts()
			continue
		case fromHeap:
		default:
			return fmt.Errorf("sim: nothing left to happen at %v with %d requests in flight", s.now, s.inUse)
		}
		e := s.events.pop()
		s.now = e.at
		switch e.kind() {
		case evDone:
			s.serviceDone(e.slot, e.gen)
		case evReach:
			if r := &s.reqs[e.slot]; r.gen == e.gen && r.phase == phToServer {
				s.reach(e.slot)
			}
		case evResponse:
			if r := &s.reqs[e.slot]; r.gen == e.gen && r.phase == phToBrowser {
				s.response(e.slot)
			}
		case evPage:
			if r := &s.reqs[e.slot]; r.gen == e.gen && r.phase == phPending {
				s.issuePage(e.slot)
			}
		case evReport:
			if e.slot < 0 {
				s.managerTick()
				s.events.push(s.now+s.interval, evReport, -1, 0)
			} else {
				s.events.push(s.now+s.agentReport(int(e.slot)), evReport, e.slot, 0)
			}
		case evSample:
			s.takeSample()
			s.events.push(s.now+s.sampleEvery, evSample, 0, 0)
		case evFault:
			s.fault(int(e.slot))
		}
	}
	end := max(s.now, s.horizon)
	if end > s.lastSample {
		s.now = end
		s.takeSample()
	}
	return nil
}

// alloc takes a request slot from the free list. It may grow s.reqs, so
// callers must not hold pointers into it across the call.
func (s *simulation) alloc() int32 {
	s.inUse++
	if n := len(s.free); n > 0 {
		slot := s.free[n-1]
		s.free = s.free[:n-1]
		return slot
	}
	s.reqs = append(s.reqs, request{})
	return int32(len(s.reqs) - 1)
}

func (s *simulation) release(slot int32) {
	r := &s.reqs[slot]
	r.gen++
	r.phase = phFree
	s.free = append(s.free, slot)
	s.inUse--
}

// nextSession schedules the arrival process's next session start.
func (s *simulation) nextSession() {
	at, ok := s.proc.Next()
	if !ok || at >= s.horizon {
		s.arrivalsDone, s.arrPending = true, false
		return
	}
	// Kept beside the heap: there is only ever one pending session start.
	s.arrAt, s.arrSeq, s.arrPending = at, s.events.nextSeq(), true
}

// sessionStarts: an open-loop browser session starts with its first page.
func (s *simulation) sessionStarts() {
	slot := s.alloc()
	r := &s.reqs[slot]
	r.browser = -1
	r.pagesLeft = s.pages - 1
	s.issuePage(slot)
	s.nextSession()
}

// issuePage sends the page request in slot at its scheduled time, now.
func (s *simulation) issuePage(slot int32) {
	r := &s.reqs[slot]
	if s.closed {
		if s.closedLeft == 0 || s.now >= s.horizon {
			s.release(slot)
			return
		}
		if s.closedLeft > 0 {
			s.closedLeft--
		}
	}
	r.gen++ // a new page: deadlines of the slot's previous page are stale
	r.rec = results.Request{
		ID: s.nextID, Scheduled: s.now, Sent: s.now, First: -1, Final: -1,
	}
	r.demandID, r.part = s.nextID, 0
	s.nextID++
	r.hops, r.object, r.pageDone, r.abandoned = 0, false, false, false
	s.inFlight++
	if !s.closed && s.maxInFlight > 0 && s.inFlight > s.maxInFlight {
		// The open-loop generator's in-flight bound: refused by the client.
		r.rec.Outcome = results.Rejected
		r.rec.Done = s.now
		s.finishPage(slot)
		return
	}
	sv := s.pick()
	r.rec.First = sv
	if s.timeout > 0 {
		s.dls.push(deadline{at: s.now + s.timeout, seq: s.events.nextSeq(), slot: slot, gen: r.gen})
	}
	s.send(slot, int32(sv))
}

// pick is the browser's dispatch of the first server: the load
// generator's own (package dispatch), on the live queues.
func (s *simulation) pick() int { return s.disp.Pick(s.dispLoad, s.brRng) }

// send puts the current exchange of slot on the network towards server
// sv; it reaches the server RTT/2 later.
func (s *simulation) send(slot int32, sv int32) {
	r := &s.reqs[slot]
	r.server = sv
	r.phase = phToServer
	if s.half == 0 {
		s.reach(slot)
		return
	}
	s.events.push(s.now+s.half, evReach, slot, r.gen)
}

// answer sends the server's answer back: it leaves the server after the
// per-exchange overhead and reaches the browser RTT/2 later.
func (s *simulation) answer(slot int32, status int16, target int32, overhead time.Duration) {
	r := &s.reqs[slot]
	r.status = status
	r.target = target
	r.phase = phToBrowser
	d := overhead + s.half
	if d == 0 {
		s.response(slot)
		return
	}
	s.events.push(s.now+d, evResponse, slot, r.gen)
}

// reach: an exchange arrives at its server.
func (s *simulation) reach(slot int32) {
	r := &s.reqs[slot]
	if r.abandoned {
		s.release(slot)
		return
	}
	i := r.server
	sv := &s.servers[i]
	if !sv.up {
		// Connection refused: no server CPU, the refusal takes RTT/2 back.
		s.answer(slot, 0, -1, 0)
		return
	}
	seq := sv.arrivals // page arrivals at this server, the seq Decide takes
	if !r.object {
		sv.arrivals++
	}
	// Decide serves, drawing nothing, a request at its hop limit, under
	// condition none, or (local placement) when the condition does not
	// hold: the call is skipped then, which is most arrivals.
	if !r.object && int(r.hops) < s.cfg.MaxHops && s.cfg.Condition != policy.None {
		self := s.live[i]
		self.At = s.now
		if s.cfg.Condition == policy.QueueDelay {
			self.QueueDelay = s.queueDelay(int(i))
		}
		if s.cfg.Placement == policy.Central || s.cfg.Holds(self) {
			d := s.cfg.Decide(self, *s.currentView(int(i)), int(r.hops), seq, sv.polRng)
			if d.Redirect {
				sv.redirected++
				s.answer(slot, s.redirStatus, int32(d.Target), s.overhead)
				return
			}
		}
	}
	if sv.busy+sv.queue.len() >= sv.capacity {
		sv.rejected++
		s.answer(slot, 503, -1, s.overhead)
		return
	}
	r.enqueued = s.now
	if sv.busy < sv.workers {
		s.startService(int(i), slot)
	} else {
		r.phase = phWaiting
		sv.queue.push(slot)
	}
	st := &s.live[i]
	st.QueueLength++
	st.Waiting = sv.queue.len()
}

// startService gives slot a worker at server i.
func (s *simulation) startService(i int, slot int32) {
	sv := &s.servers[i]
	r := &s.reqs[slot]
	sv.account(s.now)
	sv.busy++
	if s.cfg.Estimator == policy.EWMA {
		// From 0, like the real server's estimator.
		sv.ewma += s.ewmaWeight * (float64(s.now-r.enqueued) - sv.ewma)
	}
	// The request's own demand (common random numbers), as the real
	// server draws it: the same page costs the same wherever it lands.
	u := dist.Uniform(s.seed, r.demandID, uint64(r.part))
	var d time.Duration
	if r.object {
		d = sv.obj.Quantile(u)
	} else {
		d = sv.svc.Quantile(u)
	}
	if sv.slow != 1 {
		d = time.Duration(float64(d) * sv.slow)
	}
	r.phase = phServing
	s.events.push(s.now+d, evDone, slot, r.gen)
}

// serviceDone: a worker finishes slot. The next waiting request starts
// before the answer travels, so the server's state is settled first.
func (s *simulation) serviceDone(slot int32, gen uint32) {
	r := &s.reqs[slot]
	if r.gen != gen || r.phase != phServing {
		return // failed by a crash meanwhile
	}
	i := r.server
	sv := &s.servers[i]
	sv.account(s.now)
	sv.busy--
	sv.served++
	if sv.queue.len() > 0 {
		s.startService(int(i), sv.queue.pop())
	}
	st := &s.live[i]
	st.QueueLength--
	st.Waiting = sv.queue.len()
	s.answer(slot, 200, -1, s.overhead)
}

// response: an answer reaches the browser.
func (s *simulation) response(slot int32) {
	r := &s.reqs[slot]
	if r.abandoned {
		s.release(slot)
		return
	}
	if r.object {
		s.objectEnded(slot, r.status == 200)
		return
	}
	if r.status == 0 {
		// No server answered (refused or reset); Final stays the last
		// server that did answer, as the load generator records it.
		r.rec.AddHop(results.Hop{Server: -1, Status: 0, At: s.now})
	} else {
		r.rec.AddHop(results.Hop{Server: int16(r.server), Status: r.status, At: s.now})
		r.rec.Final = int(r.server)
	}
	r.rec.Status = int(r.status)
	r.rec.Done = s.now
	switch r.status {
	case 200:
		r.rec.Outcome = results.Completed
		r.pageDone = true
		if s.objects > 0 {
			s.fetchObjects(slot)
			return
		}
	case 503:
		r.rec.Outcome = results.Rejected
	case 0:
		r.rec.Outcome = results.Error
	default: // a redirect
		if r.hops >= s.maxRedirects {
			r.rec.Outcome = results.Error // too many redirects
			break
		}
		r.hops++
		r.rec.Redirects++
		s.send(slot, r.target)
		return
	}
	r.pageDone = true
	s.finishPage(slot)
}

// fetchObjects starts fetching the embedded objects of the page in slot
// from the server that served it, maxParallelObjects at a time.
func (s *simulation) fetchObjects(page int32) {
	p := &s.reqs[page]
	p.phase = phObjects
	p.objectsLeft, p.objectsOut = s.objects, 0
	gen := p.gen
	// With zero network delay an object may end (refused, rejected)
	// inline and start the next one itself, or even end the page: look
	// again at the page before each start.
	for {
		p = &s.reqs[page]
		if p.gen != gen || p.phase != phObjects || p.objectsLeft == 0 || p.objectsOut >= maxParallelObjects {
			return
		}
		s.nextObject(page, s.alloc())
	}
}

// nextObject sends the page's next object in slot obj.
func (s *simulation) nextObject(page, obj int32) {
	p := &s.reqs[page]
	p.objectsLeft--
	p.objectsOut++
	o := &s.reqs[obj]
	o.gen++ // a new exchange: the previous one's deadline is stale
	o.object, o.pageDone, o.abandoned = true, false, false
	o.parent = page
	o.demandID, o.part = p.rec.ID, s.objects-p.objectsLeft
	o.browser = -1
	if s.timeout > 0 {
		s.dls.push(deadline{at: s.now + s.timeout, seq: s.events.nextSeq(), slot: obj, gen: o.gen})
	}
	s.send(obj, p.server)
}

// objectEnded: an object exchange ended (ok: answered 2xx), by its answer
// or its timeout. The slot goes on with the page's next object, if any.
func (s *simulation) objectEnded(obj int32, ok bool) {
	o := &s.reqs[obj]
	page := o.parent
	p := &s.reqs[page]
	gen := p.gen
	if ok {
		p.rec.Objects++
	}
	p.objectsOut--
	if p.objectsLeft > 0 {
		if o.abandoned {
			obj = s.alloc() // the timed-out exchange keeps its slot until it ends
		}
		s.nextObject(page, obj)
	} else if !o.abandoned {
		s.release(obj)
	}
	// The next object may have ended inline and finished the page already.
	if p = &s.reqs[page]; p.gen == gen && p.phase == phObjects && p.objectsOut == 0 && p.objectsLeft == 0 {
		p.rec.ObjectsDone = s.now
		s.finishPage(page)
	}
}

// finishPage writes the page's record and moves its session on.
func (s *simulation) finishPage(slot int32) {
	r := &s.reqs[slot]
	s.inFlight--
	s.rec.Add(&r.rec)
	s.nextPage(slot, r.pagesLeft, r.browser, s.now)
}

// nextPage reuses slot (or a fresh slot when slot < 0) for the session's
// next page, Think after done; a closed-loop browser then starts its next
// session. Pages due at or after the horizon are not issued.
func (s *simulation) nextPage(slot int32, pagesLeft, browser int32, done time.Duration) {
	if pagesLeft <= 0 {
		if browser < 0 {
			if slot >= 0 {
				s.release(slot)
			}
			return
		}
		pagesLeft = s.pages
	}
	at := done + s.think
	if at >= s.horizon || (s.closed && s.closedLeft == 0) {
		if slot >= 0 {
			s.release(slot)
		}
		return
	}
	if slot < 0 {
		slot = s.alloc()
	}
	r := &s.reqs[slot]
	r.pagesLeft = pagesLeft - 1
	r.browser = browser
	r.phase = phPending
	s.events.push(at, evPage, slot, r.gen)
}

// expireRequest: a page request's timeout has come.
func (s *simulation) expireRequest(dl deadline) {
	r := &s.reqs[dl.slot]
	if r.gen != dl.gen || r.pageDone || r.abandoned || r.phase == phFree || r.phase == phPending || r.phase == phObjects {
		return
	}
	r.abandoned = true
	if r.object {
		s.objectEnded(dl.slot, false)
		return
	}
	r.rec.AddHop(results.Hop{Server: -1, Status: 0, At: s.now})
	r.rec.Outcome = results.Timeout
	r.rec.Status = 0
	r.rec.Done = s.now
	s.inFlight--
	s.rec.Add(&r.rec)
	// The request stays where it is (a server cannot know the browser
	// left) and its slot is freed when that exchange ends; the session
	// goes on in a fresh slot.
	s.nextPage(-1, r.pagesLeft, r.browser, s.now)
}

// queueDelay is server i's queue delay now, by the configured estimator.
func (s *simulation) queueDelay(i int) time.Duration {
	sv := &s.servers[i]
	switch s.cfg.Estimator {
	case policy.EWMA:
		return time.Duration(sv.ewma)
	case policy.Predicted:
		return policy.EstimateDelay(policy.Predicted, 0, 0, sv.queue.len(), sv.workers, sv.meanSvc)
	}
	if sv.queue.len() == 0 {
		return 0
	}
	return s.now - s.reqs[*sv.queue.front()].enqueued
}

// currentView is the view server i decides with now: the exact live
// state (interval 0), or the view its agent last received; a view older
// than ViewTTL is no view at all, so the server stops redirecting.
func (s *simulation) currentView(i int) *policy.View {
	if s.interval == 0 {
		if s.frozen {
			if s.now-s.view.At > s.viewTTL {
				return &noView
			}
			return &s.view
		}
		if s.cfg.Condition == policy.QueueDelay {
			for j := range s.live {
				s.live[j].QueueDelay = s.queueDelay(j)
			}
		}
		v := &s.exact
		v.Servers, v.At = s.live, s.now
		if s.cfg.Placement == policy.Central {
			v.Instructions = s.cfg.Instruct(s.live, s.mgrRng)
		}
		return v
	}
	a := &s.agents[i]
	if !a.hasView || s.now-a.viewAt > s.viewTTL {
		return &noView
	}
	return &a.view
}

// noView is the empty view: no peer known, so no redirect.
var noView policy.View

// status is what server i's agent measures now.
func (s *simulation) status(i int) policy.Status {
	st := s.live[i]
	st.QueueDelay = s.queueDelay(i)
	st.At = s.now
	return st
}

// agent is one server's agent in reporting mode, with the view it last
// received.
type agent struct {
	view    policy.View
	viewAt  time.Duration
	hasView bool
	failed  int // consecutive failed exchanges (manager unreachable)
}

// agentMaxBackoff caps an agent's retry delay, as the real agent's
// default does.
const agentMaxBackoff = time.Second

// agentReport is one exchange of agent i with the manager, as the real
// agent does it: the report is recorded and the manager's current view
// comes back in the answer, which the server installs at once. A lost
// report is no exchange at all (no view either); with the manager away
// the exchange fails and the agent backs off (interval × 2, × 4, ...,
// capped at agentMaxBackoff). It returns the delay to the next exchange.
func (s *simulation) agentReport(i int) time.Duration {
	a := &s.agents[i]
	if s.reportLost(i) {
		return s.interval
	}
	if s.outages > 0 {
		a.failed++
		d := s.interval
		for k := 0; k < a.failed && d < agentMaxBackoff; k++ {
			d *= 2
		}
		return min(d, agentMaxBackoff)
	}
	a.failed = 0
	st := s.status(i)
	s.reported[i] = st
	s.lastReport[i] = s.now
	s.seen[i] = true
	s.mgrUp[i] = st.Up
	v := a.view.Servers
	for j := range v {
		v[j] = s.reported[j]
		v[j].Server = j
		v[j].Workers = s.servers[j].workers
		v[j].Up = s.mgrUp[j] // false for a server never heard of
	}
	copy(a.view.Instructions, s.instr)
	a.view.At = s.tickedAt
	a.viewAt, a.hasView = s.now, true
	return s.interval
}

// managerTick is the manager's periodic work: it marks down servers
// silent for longer than Expire and, under central placement, recomputes
// the instructions from the reported statuses. Nothing happens while the
// manager is away.
func (s *simulation) managerTick() {
	if s.outages > 0 {
		return
	}
	for i := range s.mgrUp {
		if s.mgrUp[i] && s.now-s.lastReport[i] > s.expire {
			s.mgrUp[i] = false
		}
	}
	s.tickedAt = s.now
	if s.instr != nil {
		st := make([]policy.Status, len(s.reported))
		for i := range st {
			st[i] = s.reported[i]
			st[i].Server = i
			st[i].Workers = s.servers[i].workers
			st[i].Up = s.mgrUp[i]
		}
		copy(s.instr, s.cfg.Instruct(st, s.mgrRng))
	}
}

func (s *simulation) reportLost(i int) bool {
	for _, k := range s.lossFaults {
		f := &s.faults[k]
		if f.ServerIndex >= 0 && f.ServerIndex != i {
			continue
		}
		loss := f.Loss
		if loss <= 0 {
			loss = 1
		}
		if s.mgrRng.Float64() < loss {
			return true
		}
	}
	return false
}

// takeSample records every server's state at now.
func (s *simulation) takeSample() {
	for i := range s.servers {
		sv := &s.servers[i]
		sv.account(s.now)
		sm := &s.sample
		*sm = results.ServerSample{
			At: s.now, Server: i,
			QueueLength: sv.busy + sv.queue.len(), InService: sv.busy,
			QueueDelay: s.queueDelay(i),
			Served:     sv.served, Redirected: sv.redirected, Rejected: sv.rejected,
			Up:       sv.up,
			BusyTime: sv.busyArea,
		}
		switch {
		case s.interval > 0:
			sm.ReportedQueueLength = s.reported[i].QueueLength
			sm.ReportedQueueDelay = s.reported[i].QueueDelay
		case s.frozen:
			sm.ReportedQueueLength = s.view.Servers[i].QueueLength
			sm.ReportedQueueDelay = s.view.Servers[i].QueueDelay
		default:
			sm.ReportedQueueLength = sm.QueueLength
			sm.ReportedQueueDelay = sm.QueueDelay
		}
		s.rec.AddSample(sm)
		sv.served, sv.redirected, sv.rejected, sv.busyArea = 0, 0, 0, 0
	}
	s.lastSample = s.now
}

// fault applies the start (even code) or end (odd code) of fault code/2.
func (s *simulation) fault(code int) {
	k, ending := code/2, code%2 == 1
	f := &s.faults[k]
	if !ending && f.For > 0 && f.Action != "restart" {
		s.events.push(s.now+f.For, evFault, int32(code+1), 0)
	}
	i := f.ServerIndex
	switch f.Action {
	case "slowdown":
		factor := f.Factor
		if factor <= 0 {
			factor = 1
		}
		if ending {
			s.servers[i].slow /= factor
		} else {
			s.servers[i].slow *= factor
		}
	case "crash":
		if ending {
			s.restart(i)
		} else {
			s.crash(i)
		}
	case "restart":
		s.restart(i)
	case "manager-outage":
		if ending {
			s.outages--
			if s.outages == 0 && s.interval == 0 {
				s.frozen = false
				s.view = policy.View{}
			}
			if s.outages == 0 && s.interval > 0 {
				// Back, the manager treats every known server as having
				// just reported, so the outage itself expires none.
				for i := range s.seen {
					if s.seen[i] {
						s.lastReport[i] = s.now
					}
				}
			}
			return
		}
		if s.outages == 0 && s.interval == 0 {
			// The exact view freezes as it was when the manager went away.
			v := *s.currentView(0)
			s.view = policy.View{Servers: append([]policy.Status(nil), v.Servers...), At: s.now}
			if v.Instructions != nil {
				s.view.Instructions = append([]policy.Instruction(nil), v.Instructions...)
			}
			s.frozen = true
		}
		s.outages++
	case "lost-reports":
		if ending {
			for j, x := range s.lossFaults {
				if x == k {
					s.lossFaults = append(s.lossFaults[:j], s.lossFaults[j+1:]...)
					break
				}
			}
		} else {
			s.lossFaults = append(s.lossFaults, k)
		}
	}
}

// crash takes server i down: requests waiting or in service fail (the
// browser sees a reset RTT/2 later); later arrivals are refused.
func (s *simulation) crash(i int) {
	sv := &s.servers[i]
	if !sv.up {
		return
	}
	sv.account(s.now)
	sv.up = false
	var failed []int32
	for sv.queue.len() > 0 {
		failed = append(failed, sv.queue.pop())
	}
	for slot := range s.reqs {
		r := &s.reqs[slot]
		if r.phase == phServing && int(r.server) == i {
			failed = append(failed, int32(slot))
		}
	}
	sv.busy = 0
	sv.ewma = 0
	st := &s.live[i]
	st.QueueLength, st.Waiting, st.Up = 0, 0, false
	for _, slot := range failed {
		s.answer(slot, 0, -1, 0)
	}
}

// restart brings server i back up with an empty queue.
func (s *simulation) restart(i int) {
	sv := &s.servers[i]
	if sv.up {
		return
	}
	sv.account(s.now)
	sv.up = true
	s.live[i].Up = true
}
