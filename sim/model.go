package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redirlab/redirlab/arrival"
	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// recorder is where the simulation's records go: a *results.Recorder,
// or a test's small in-memory sink.
type recorder = results.Sink

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

// request is one browser page request and its embedded-object fetches.
// Slots are recycled through a free list so that the hot loop does not
// allocate; gen changes on every reuse and invalidates stale events.
type request struct {
	rec      results.Request
	end      time.Duration // when the service in progress ends
	epoch    uint64        // the server incarnation that admitted it
	gen      uint32
	server   int32 // server of the current exchange
	target   int32 // redirect target carried by the answer in flight
	status   int16 // HTTP status of the answer in flight; 0 = transport error
	phase    phase
	object   bool // the current exchange is an embedded object
	pageDone bool // the page itself has its final answer (no timeout any more)
	// abandoned: the browser timed out and its record is written; the
	// slot is freed when its current exchange ends.
	abandoned bool
	// shed: the 503 in flight is the shed action's, not a full queue's.
	shed        bool
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

// simulation is the single-goroutine driver: the event loop, the network
// and the browsers, around the model's servers, registry, faults and
// sessions. Nothing in it reads a clock or sleeps.
type simulation struct {
	rec  recorder
	plan *plan.Plan
	cfg  policy.Config

	now     time.Duration
	horizon time.Duration // warmup + duration: no page is scheduled at or after it
	events  eventHeap
	dls     ring[deadline]
	reqs    []request
	free    []int32
	inUse   int // allocated slots

	servers []*model.Server[int32]
	last    []model.Counters // each server's counters at its last sample
	live    []policy.Status  // every server's queue length and up-ness, kept current

	// Manager and agents.
	interval time.Duration // 0: exact view
	registry *model.Registry
	agents   []agent          // reporting mode: each server's agent and view
	scratch  policy.View      // the registry's view, copied into agents
	view     model.ViewHolder // exact mode: the view frozen by a manager outage
	exact    policy.View      // the exact view handed to decisions
	frozen   bool             // exact view frozen by a manager outage
	faults   *model.Faults
	mgrRng   *rand.Rand

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
	brRng        *rand.Rand                // the dispatch stream, as in a real run
	nextID       uint64
	inFlight     int // page requests issued and not recorded
	pendingPages int // pages scheduled (evPage) and not issued
	maxInFlight  int
	half         time.Duration // RTT/2: one way
	overhead     time.Duration
	timeout      time.Duration
	session      model.Session
	objects      int32
	maxRedirects int32
	redirStatus  int16

	// trace, when set, sees every arrival, view, fault change and sample.
	trace func(*Event)

	sampleEvery time.Duration
	lastSample  time.Duration
	sample      results.ServerSample
	events64    int
}

// newSimulation builds the simulation of sc.
func newSimulation(sc *scenarios.Scenario, rec recorder) (*simulation, error) {
	p, err := plan.Resolve(sc)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	n := len(p.Servers)
	s := &simulation{
		rec:          rec,
		plan:         p,
		cfg:          p.Policy,
		horizon:      p.Horizon,
		servers:      make([]*model.Server[int32], n),
		last:         make([]model.Counters, n),
		live:         make([]policy.Status, n),
		interval:     p.Manager.Interval,
		mgrRng:       p.Stream(model.StreamManager),
		brRng:        p.Stream(model.StreamDispatch),
		faults:       model.NewFaults(p.Faults, n),
		half:         p.RTT / 2,
		overhead:     p.Overhead,
		timeout:      p.Timeout,
		maxInFlight:  p.MaxInFlight,
		session:      p.Session,
		objects:      int32(p.Session.Objects),
		maxRedirects: int32(p.MaxRedirects),
		redirStatus:  int16(p.RedirectStatus),
		sampleEvery:  p.SampleInterval,
	}
	s.view.TTL = p.Manager.ViewTTL
	for i := range p.Servers {
		s.servers[i] = model.NewServer[int32](p.ServerConfig(i, p.PolicyStream(i)))
		s.live[i] = policy.Status{Server: i, Workers: p.Servers[i].Workers, Up: true}
	}
	s.exact.Servers = s.live
	if s.interval > 0 {
		rc := p.RegistryConfig()
		rc.Rand = s.mgrRng // one manager stream, as the agents' order and lost reports draw from it too
		s.registry = model.NewRegistry(rc)
		s.agents = make([]agent, n)
		for i := range s.agents {
			s.agents[i].view.TTL = p.Manager.ViewTTL
		}
	}

	if s.disp, err = dispatch.New(p.Dispatch, p.Weights); err != nil {
		return nil, fmt.Errorf("sim: workload.dispatch: %w", err)
	}
	s.dispLoad = func(i int) (int64, bool) { return int64(s.live[i].QueueLength), s.live[i].Up }

	if p.Closed {
		s.closed = true
		s.arrivalsDone = true
		s.closedLeft = -1
		if p.Requests > 0 {
			s.closedLeft = p.Requests
		}
		for b := 0; b < p.Concurrency; b++ {
			slot := s.alloc()
			r := &s.reqs[slot]
			r.browser = int32(b)
			r.pagesLeft = int32(p.Session.Pages) - 1
			r.phase = phPending
			s.pendingPages++
			s.events.push(0, evPage, slot, r.gen)
		}
	} else {
		proc, err := arrival.New(p.Arrival, s.horizon, p.Stream(model.StreamArrivals))
		if err != nil {
			return nil, fmt.Errorf("sim: workload.arrival: %w", err)
		}
		s.proc = proc
		s.nextSession()
	}

	for k, st := range p.FaultSteps {
		s.events.push(st.At, evFault, int32(k), 0)
	}
	for k, f := range p.Faults {
		if f.Kind == model.LostReports && s.interval == 0 && f.At < s.horizon {
			rec.Note(fmt.Sprintf("fault %d (lost-reports at %v) has no effect: report_interval 0 is an exact view with no reports", k, f.At))
		}
	}
	if s.interval > 0 {
		// The manager ticks first at each instant; agents then report in
		// a fixed random order, each on its own schedule.
		s.events.push(0, evReport, -1, 0)
		for _, i := range s.mgrRng.Perm(n) {
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
				// What was measured up to now is the run: say so.
				if i, ok := s.rec.(interface{ Interrupt(time.Duration) }); ok {
					i.Interrupt(s.now)
				}
				return err
			}
		}
		// Done: no arrival or page to come, every page request recorded
		// (so every deadline left is stale) and, open loop, the horizon
		// reached. What servers still do for browsers that gave up is not
		// simulated further: it changes no record, and under a large
		// slowdown it would last for ever.
		top := s.events.top()
		if s.arrivalsDone && s.inFlight == 0 && s.pendingPages == 0 && (s.closed || top == nil || top.at >= s.horizon) {
			break
		}
		// The next occurrence is the earliest (time, seq) of the heap's
		// top, the oldest deadline and the next session start.
		const fromHeap, fromDeadline, fromArrival = 0, 1, 2
		src := -1
		var at time.Duration
		var seq uint64
		if top != nil {
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
			// Most deadlines are of pages answered long ago: no call then.
			if s.deadlineLive(&dl) {
				s.expireRequest(dl)
			}
			continue
		case fromArrival:
			s.now = s.arrAt
			s.sessionStarts()
			continue
		case fromHeap:
		default:
			return fmt.Errorf("sim: nothing left to happen at %v with %d requests in flight", s.now, s.inUse)
		}
		e := s.events.popTop(top)
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
				s.pendingPages--
				s.issuePage(e.slot)
			}
		case evReport:
			if e.slot < 0 {
				s.registry.Tick(s.now)
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
	r.pagesLeft = int32(s.session.Pages) - 1
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
	r.rec.Reset(s.nextID, s.now)
	r.demandID, r.part = s.nextID, 0
	s.nextID++
	r.hops, r.object, r.pageDone, r.abandoned, r.shed = 0, false, false, false, false
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
	s.armTimeout(slot)
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

// reach: an exchange arrives at its server, whose model answers it.
func (s *simulation) reach(slot int32) {
	r := &s.reqs[slot]
	if r.abandoned {
		s.release(slot)
		return
	}
	i := r.server
	m := s.servers[i]
	d := model.Demand{ID: r.demandID, Part: uint64(r.part), OK: true}
	var a model.Arrival
	if r.object {
		a = m.ArriveObject(s.now, d, slot)
	} else {
		a = m.ArrivePage(s.now, int(r.hops), d, slot, s)
	}
	if s.trace != nil {
		s.trace(&Event{Kind: Arrival, At: s.now, Server: int(i), Hops: int(r.hops), Object: r.object, Demand: d, Answer: a, Request: r.demandID})
	}
	switch a.Kind {
	case model.Refused:
		// Connection refused: no server CPU, the refusal takes RTT/2 back.
		s.answer(slot, 0, -1, 0)
		return
	case model.Redirected:
		s.answer(slot, s.redirStatus, int32(a.Target), s.overhead)
		return
	case model.Rejected, model.Shed:
		r.shed = a.Kind == model.Shed
		s.answer(slot, 503, -1, s.overhead)
		return
	case model.Started:
		s.serve(slot, a.End, a.Epoch)
	case model.Queued:
		r.phase = phWaiting
		r.epoch = a.Epoch
	}
	s.live[i].QueueLength++
}

// serve puts slot in service until end.
func (s *simulation) serve(slot int32, end time.Duration, epoch uint64) {
	r := &s.reqs[slot]
	r.phase, r.end, r.epoch = phServing, end, epoch
	s.events.push(end, evDone, slot, r.gen)
}

// serviceDone: a worker finishes slot. The next waiting request starts
// before the answer travels, so the server's state is settled first.
func (s *simulation) serviceDone(slot int32, gen uint32) {
	r := &s.reqs[slot]
	if r.gen != gen || r.phase != phServing {
		return // failed by a crash meanwhile
	}
	i := r.server
	if next, end, ok := s.servers[i].Finish(s.now, r.epoch, !r.object, r.end, slot); ok {
		s.serve(next, end, r.epoch)
	}
	s.live[i].QueueLength--
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
		if r.shed {
			r.rec.Outcome = results.Shed
		}
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
// from the server that served it, model.MaxParallelObjects at a time.
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
		if p.gen != gen || p.phase != phObjects || p.objectsLeft == 0 || p.objectsOut >= model.MaxParallelObjects {
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
	s.armTimeout(obj)
	s.send(obj, p.server)
}

// armTimeout starts the workload timeout of slot's exchange, if any.
func (s *simulation) armTimeout(slot int32) {
	if s.timeout > 0 {
		s.dls.push(deadline{at: s.now + s.timeout, seq: s.events.nextSeq(), slot: slot, gen: s.reqs[slot].gen})
	}
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
// next page (model.Session); a closed-loop browser then starts its next
// session. Pages due at or after the horizon are not issued.
func (s *simulation) nextPage(slot int32, pagesLeft, browser int32, done time.Duration) {
	at, after, ok := s.session.Next(int(pagesLeft), browser >= 0, done)
	if !ok || (s.closed && s.closedLeft == 0) {
		if slot >= 0 {
			s.release(slot)
		}
		return
	}
	if slot < 0 {
		slot = s.alloc()
	}
	r := &s.reqs[slot]
	r.pagesLeft = int32(after)
	r.browser = browser
	r.phase = phPending
	s.pendingPages++
	s.events.push(at, evPage, slot, r.gen)
}

// deadlineLive reports whether dl's exchange is still waiting for an
// answer, so that its timeout changes something.
func (s *simulation) deadlineLive(dl *deadline) bool {
	r := &s.reqs[dl.slot]
	return r.gen == dl.gen && !r.pageDone && !r.abandoned && r.phase != phFree && r.phase != phPending && r.phase != phObjects
}

// expireRequest: a page request's timeout has come, and deadlineLive
// says it changes something.
func (s *simulation) expireRequest(dl deadline) {
	r := &s.reqs[dl.slot]
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

// ViewFor is the view server i decides with now (model.ViewSource): the
// exact live state (interval 0), or the view its agent last received; a
// view older than the view TTL is no view at all, so the server stops
// redirecting.
func (s *simulation) ViewFor(i int, now time.Duration) *policy.View {
	if s.interval == 0 {
		if s.frozen {
			return s.view.Current(now)
		}
		return s.exactView()
	}
	return s.agents[i].view.Current(now)
}

// exactView is every server's live state now.
func (s *simulation) exactView() *policy.View {
	if s.cfg.Condition == policy.QueueDelay {
		for j := range s.live {
			s.live[j].QueueDelay = s.servers[j].Status(s.now).QueueDelay
		}
	}
	v := &s.exact
	v.At = s.now // v.Servers is s.live, set once
	if s.cfg.Placement == policy.Central {
		v.Instructions = s.cfg.Instruct(s.live, s.mgrRng)
	}
	return v
}

// agent is one server's agent in reporting mode, with the view it last
// received.
type agent struct {
	view   model.ViewHolder
	failed int // consecutive failed exchanges (manager unreachable)
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
	if s.faults.ReportLost(i, s.mgrRng.Float64) {
		return s.interval
	}
	m := s.servers[i]
	if err := s.registry.Report(s.now, i, model.Report{Status: m.Status(s.now), InService: m.InService(s.now)}); err != nil {
		a.failed++
		return model.Backoff(s.interval, agentMaxBackoff, a.failed)
	}
	a.failed = 0
	s.registry.ViewInto(&s.scratch)
	a.view.Set(s.now, s.scratch, nil)
	if s.trace != nil {
		s.traceView(i)
	}
	return s.interval
}

// takeSample records every server's state at now.
func (s *simulation) takeSample() {
	for i, m := range s.servers {
		// Busy time never dips here: services end exactly on time.
		sm := &s.sample
		*sm = m.Sample(s.now, s.now, &s.last[i])
		switch {
		case s.registry != nil:
			rep, _, _ := s.registry.Reported(i)
			sm.ReportedQueueLength = rep.Status.QueueLength
			sm.ReportedQueueDelay = rep.Status.QueueDelay
		case s.frozen:
			v := s.view.Current(s.now)
			if i < len(v.Servers) {
				sm.ReportedQueueLength = v.Servers[i].QueueLength
				sm.ReportedQueueDelay = v.Servers[i].QueueDelay
			}
		default:
			sm.ReportedQueueLength = sm.QueueLength
			sm.ReportedQueueDelay = sm.QueueDelay
		}
		s.rec.AddSample(sm)
		if s.trace != nil {
			s.trace(&Event{Kind: Sample, At: s.now, Server: i, Sample: *sm})
		}
	}
	s.lastSample = s.now
}

// fault carries out fault step k (model.Faults says what changes).
func (s *simulation) fault(k int) {
	for _, c := range s.faults.Apply(s.plan.FaultSteps[k]) {
		if s.trace != nil {
			s.trace(&Event{Kind: Fault, At: s.now, Server: c.Server, Change: c})
		}
		switch c.Kind {
		case model.SetSlowdown:
			s.servers[c.Server].SetSlowdown(c.Factor)
		case model.CrashServer:
			s.crash(c.Server)
		case model.RestartServer:
			s.servers[c.Server].Restart(s.now)
			s.live[c.Server].Up = true
		case model.SetOutage:
			s.setOutage(c.On)
		case model.SetReportLoss:
			// Agents ask s.faults at each report.
		}
	}
}

// setOutage starts or ends a manager outage. With reports, the registry
// refuses them meanwhile; with an exact view, the view freezes as it was
// when the manager went away.
func (s *simulation) setOutage(on bool) {
	if s.registry != nil {
		s.registry.SetOutage(s.now, on)
		return
	}
	if !on {
		s.frozen = false
		return
	}
	s.view.Set(s.now, *s.exactView(), nil)
	s.frozen = true
}

// crash takes server i down: requests waiting or in service fail (the
// browser sees a reset RTT/2 later); later arrivals are refused.
func (s *simulation) crash(i int) {
	lost := s.servers[i].Crash(s.now)
	st := &s.live[i]
	st.QueueLength, st.Waiting, st.Up = 0, 0, false
	for _, slot := range lost {
		s.answer(slot, 0, -1, 0)
	}
}
