package loadgen

import (
	"container/heap"
	"context"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redirlab/redirlab/arrival"
	"github.com/redirlab/redirlab/internal/alarm"
	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
)

// job is one page request of a session, due at scheduled.
type job struct {
	scheduled time.Duration
	id        uint64
	server    int // first server, chosen at dispatch
	pool      int // connection pool of the session
	pagesLeft int // this page included
	// skipped is the other shards' arrivals since this shard's previous
	// one, whose dispatch draws come first (first pages only).
	skipped int
	arrival uint64 // index in the whole schedule (first pages only)
}

// laterJobs is a min-heap of follow-up pages by due time.
type laterJobs []job

func (h laterJobs) Len() int           { return len(h) }
func (h laterJobs) Less(i, j int) bool { return h[i].scheduled < h[j].scheduled }
func (h laterJobs) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *laterJobs) Push(x any)        { *h = append(*h, x.(job)) }
func (h *laterJobs) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}

// openLoop is one open-loop run. The pacer goroutine (pace) owns the
// schedule, the dispatcher and the worker count; workers only touch the
// atomics, the follow-up heap (under mu) and the sink.
type openLoop struct {
	ctx     context.Context
	rec     sink
	opts    *Options
	b       *browsers
	clock   Clock
	start   time.Time
	horizon time.Duration
	session model.Session

	disp        *dispatcher
	outstanding []atomic.Int64          // page requests per first server, for jsq/p2c
	outFn       func(int) (int64, bool) // dispatch's view: outstanding, up
	maxInFlight int64
	busy        atomic.Int64 // page requests being served by workers
	jobs        chan job
	workers     int
	wg          sync.WaitGroup

	alarm   *alarm.Alarm  // precise wake-ups (Linux), or nil
	spin    time.Duration // final busy-wait before a due time, at most
	meanGap time.Duration // between due times, recent average
	lastDue time.Duration

	mu       sync.Mutex
	later    laterJobs
	wake     chan struct{}
	sessions atomic.Int64 // sessions started and not ended

	// serve performs one page request (and its objects) into r and
	// returns when it ended; serveHTTP, or a fake in pacer tests.
	serve func(j job, r *results.Request, pt *pageTrace) (end time.Duration)

	nextID   uint64
	skipped  int // other shards' arrivals before the next own one
	nextPool int
	shard    Shard
	arrivals uint64 // arrivals drawn, every shard's
	// drawAll: the dispatch stream is drawn for other shards' arrivals
	// too, so that the first servers are one generator's.
	drawAll bool
	// warmCounts: connections opened ahead per target, in each pool.
	warmCounts []int
	scheduled  atomic.Int64
	rejected   atomic.Int64
}

func runOpen(ctx context.Context, p *plan.Plan, bases []*url.URL, rec sink, opts *Options) error {
	o, proc, err := newOpenLoop(ctx, p, bases, rec, opts)
	if err != nil {
		return err
	}
	return o.run(proc)
}

func newOpenLoop(ctx context.Context, p *plan.Plan, bases []*url.URL, rec sink, opts *Options) (*openLoop, arrival.Process, error) {
	proc, err := arrival.New(p.Arrival, p.Horizon, p.Stream(model.StreamArrivals))
	if err != nil {
		return nil, nil, fmt.Errorf("workload.arrival: %w", err)
	}
	disp, err := newDispatcher(p.Dispatch, targetWeights(p, len(bases)), p.Stream(model.StreamDispatch))
	if err != nil {
		return nil, nil, err
	}
	start := opts.runStart()
	o := &openLoop{
		ctx:         ctx,
		rec:         rec,
		opts:        opts,
		b:           newBrowsers(ctx, p, bases, opts.Transport, opts.Clock, start),
		clock:       opts.Clock,
		start:       start,
		horizon:     p.Horizon,
		session:     p.Session,
		disp:        disp,
		outstanding: make([]atomic.Int64, len(bases)),
		maxInFlight: int64(opts.MaxInFlight),
		jobs:        make(chan job),
		wake:        make(chan struct{}, 1),
		shard:       opts.Shard,
	}
	o.drawAll = o.shard.Sharded() && p.Session.Pages == 1
	o.warmCounts = prewarmCounts(p, len(bases), len(o.b.clients), opts.Transport.MaxIdleConnsPerHost, o.shard)
	// The generator knows of no server being down: every one counts as up.
	o.outFn = func(i int) (int64, bool) { return o.outstanding[i].Load(), true }
	o.serve = o.serveHTTP
	return o, proc, nil
}

// run paces the schedule, then waits until every worker has recorded its
// last request.
func (o *openLoop) run(proc arrival.Process) error {
	defer o.b.close()
	switch {
	case o.opts.Start.IsZero():
		// The time zero is when the generator is ready.
		o.warm()
		o.start = o.clock.Now()
		o.b.start = o.start
	case o.start.After(o.clock.Now()):
		o.warm()
	default:
		// A time zero already past (redirlab run: the cluster's start):
		// opening connections first would only make the first arrivals
		// later.
	}
	before := o.dials()
	o.opts.ready()
	stopProgress := o.progress()
	o.pace(proc)
	close(o.jobs)
	o.wg.Wait()
	stopProgress()
	o.reportConnections(before)
	return o.ctx.Err()
}

// targetWeights is each target's weight for weighted dispatch: its
// group's weight as the simulator reads it (the scenarios package fills 1
// when absent; an explicit 0 gets no traffic), 1 for a target beyond the
// scenario's servers.
func targetWeights(p *plan.Plan, n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
		if i < len(p.Weights) {
			w[i] = p.Weights[i]
		}
	}
	return w
}

func (o *openLoop) elapsed() time.Duration { return o.clock.Now().Sub(o.start) }

// pace is the pacer: it hands out every page request at its due time, in
// due order, until the arrivals are exhausted and every session has ended,
// or ctx is done.
func (o *openLoop) pace(proc arrival.Process) {
	if !o.opts.NoSpin {
		// Without an alarm (not Linux) the pacer spins before due times
		// instead.
		if a, err := alarm.New(); err == nil {
			o.alarm = a
			defer a.Close()
		}
	}
	o.meanGap = time.Second // until measured: the full spin
	o.spin = o.opts.Spin
	if o.spin == 0 {
		o.spin = fallbackSpin
		if o.alarm != nil {
			o.spin = alarmSpin
		}
	}
	nextArrival, haveArrival := o.nextArrival(proc)
	timer := o.clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for o.ctx.Err() == nil {
		o.mu.Lock()
		haveLater := len(o.later) > 0
		var laterDue time.Duration
		if haveLater {
			laterDue = o.later[0].scheduled
		}
		o.mu.Unlock()

		var due time.Duration
		fromArrival := false
		switch {
		case haveArrival && (!haveLater || nextArrival <= laterDue):
			due, fromArrival = nextArrival, true
		case haveLater:
			due = laterDue
		case o.sessions.Load() == 0:
			return // nothing scheduled and nothing that could schedule more
		default:
			select { // sessions in flight may schedule a next page
			case <-o.wake:
			case <-o.ctx.Done():
			}
			continue
		}
		if !o.waitUntil(due, timer) {
			continue // woken by a new follow-up, or cancelled: look again
		}
		var j job
		if fromArrival {
			j = job{scheduled: nextArrival, pool: o.nextPool, pagesLeft: o.session.Pages, skipped: o.skipped, arrival: o.arrivals - 1}
			o.nextPool = (o.nextPool + 1) % len(o.b.clients)
			o.sessions.Add(1)
			nextArrival, haveArrival = o.nextArrival(proc)
		} else {
			o.mu.Lock()
			j = heap.Pop(&o.later).(job)
			o.mu.Unlock()
		}
		o.dispatch(j)
	}
}

// nextArrival is this shard's next arrival: the whole schedule is drawn,
// and the other shards' arrivals counted and passed over.
func (o *openLoop) nextArrival(proc arrival.Process) (time.Duration, bool) {
	o.skipped = 0
	for {
		t, ok := proc.Next()
		if !ok {
			return 0, false
		}
		k := o.arrivals
		o.arrivals++
		if o.shard.owns(k) {
			return t, true
		}
		o.skipped++
	}
}

const (
	// alarmSpin: waking up takes tens of microseconds even from a
	// timerfd (measured at 5,000/s on an idle machine: pacer lateness
	// p50 41µs with 5µs of spin, 6µs with 50µs, 0.6µs with 100µs), so
	// the alarm is set this early and the rest is spun.
	alarmSpin = 50 * time.Microsecond
	// fallbackSpin: without one, Go timers are used until this long
	// before a due time (they fire up to 1 ms late), then the pacer
	// yields in a loop.
	fallbackSpin = 2 * time.Millisecond
	// alarmMinGap: at a mean gap between requests below this (above
	// about 16,000/s) the responses wake the netpoller every few tens of
	// microseconds, so Go timers fire promptly without the timerfd, whose
	// two system calls and two goroutine wake-ups per request cost about
	// a quarter of the generator's CPU there.
	alarmMinGap = 60 * time.Microsecond
)

// waitUntil sleeps until due (since run start). It returns false if woken
// early by a follow-up or ctx: the caller looks again.
//
// The request is handed to a worker at its due time, not before: measured
// at 5,000/s, handing requests over early for the browsers to spin to
// their due times made the inter-send times worse (KS D 0.049 with 25µs
// early against 0.015, 0.031 with 100µs early and a 150µs spin): the
// hand-off itself arrived on time, but a spinning browser loses its core
// to the server process now and then (the OS runs whoever woke), so
// on-time and late sends mix.
func (o *openLoop) waitUntil(due time.Duration, timer Timer) bool {
	spin := o.spinFor()
	for {
		d := due - o.elapsed()
		if d <= 0 {
			return true
		}
		if !o.opts.NoSpin && d <= spin {
			select {
			case <-o.wake: // a follow-up may be due earlier
				return false
			default:
			}
			runtime.Gosched() // let workers use this P meanwhile
			continue
		}
		var alarm <-chan struct{}
		switch {
		case o.opts.NoSpin:
			timer.Reset(d)
		case o.alarm != nil && o.meanGap >= alarmMinGap:
			o.alarm.Set(d - spin)
			alarm = o.alarm.C()
			timer.Reset(d - spin) // prompt when the process is busy
		default:
			timer.Reset(d - spin)
		}
		select {
		case <-timer.C():
			continue
		case <-alarm:
			timer.Stop()
			continue // a stale tick from an earlier wait only costs a look
		case <-o.wake:
		case <-o.ctx.Done():
		}
		timer.Stop()
		return false
	}
}

// spinFor is the busy-wait before the next due time: Spin, but at most a
// quarter of the mean gap between requests, so that at high rates the
// pacer does not keep a core busy that the workers (or the servers) need,
// and none above alarmMinGap's rate, where neither the timerfd is used
// nor would a spin of a few microseconds per request repay its CPU.
func (o *openLoop) spinFor() time.Duration {
	if o.alarm == nil {
		return o.spin // without an alarm, timers need the whole margin
	}
	if o.meanGap < alarmMinGap {
		return 0
	}
	return min(o.spin, o.meanGap/4)
}

// dispatch hands j to an idle worker, starts a worker, or, with
// MaxInFlight requests already in flight, records it as rejected by the
// client. It never blocks for long and never drops a request.
func (o *openLoop) dispatch(j job) {
	switch {
	case o.session.Pages == 1:
		j.id = j.arrival // the schedule's index, every shard's counted
	case o.shard.Sharded():
		j.id = o.nextID*uint64(o.shard.Count) + uint64(o.shard.Index-1)
		o.nextID++
	default:
		j.id = o.nextID
		o.nextID++
	}
	// Mean gap between due times, exponentially weighted (1/16).
	if j.scheduled > o.lastDue {
		o.meanGap += (j.scheduled - o.lastDue - o.meanGap) / 16
		o.lastDue = j.scheduled
	}
	o.scheduled.Add(1)
	if o.drawAll {
		for range j.skipped {
			o.disp.pick(o.outFn)
		}
	}
	if o.busy.Load() >= o.maxInFlight {
		o.rejectByClient(j)
		return
	}
	j.server = o.disp.pick(o.outFn)
	o.outstanding[j.server].Add(1)
	o.busy.Add(1)
	select {
	case o.jobs <- j:
	default:
		if o.workers < int(o.maxInFlight) {
			o.workers++
			o.wg.Go(func() { o.worker(j) })
		} else {
			o.jobs <- j // busy < max: a worker is on its way back
		}
	}
}

func (o *openLoop) rejectByClient(j job) {
	now := o.elapsed()
	r := results.Request{
		ID: j.id, Scheduled: j.scheduled, Sent: now, Done: now,
		Outcome: results.Rejected, First: -1, Final: -1,
	}
	o.rec.Add(&r)
	o.rejected.Add(1)
	o.followUp(j, now)
}

// followUp schedules the session's next page think after end, or ends the
// session. A session goes on whatever its pages' outcomes, so the offered
// load does not depend on the servers; pages that would fall beyond the
// horizon are not scheduled.
func (o *openLoop) followUp(j job, end time.Duration) {
	if due, after, ok := o.session.Next(j.pagesLeft-1, false, end); ok {
		o.mu.Lock()
		heap.Push(&o.later, job{scheduled: due, pool: j.pool, pagesLeft: after + 1})
		o.mu.Unlock()
	} else {
		o.sessions.Add(-1)
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// worker serves page requests until the pacer closes jobs. One record is
// reused: the sink does not retain it.
func (o *openLoop) worker(j job) {
	var r results.Request
	pt := o.b.newPageTrace()
	for ok := true; ok; j, ok = <-o.jobs {
		r = results.Request{ID: j.id, Scheduled: j.scheduled}
		end := o.serve(j, &r, pt)
		o.rec.Add(&r)
		o.busy.Add(-1)
		o.followUp(j, end)
	}
}

// serveHTTP fetches j's page and, once it completed, its objects.
func (o *openLoop) serveHTTP(j job, r *results.Request, pt *pageTrace) time.Duration {
	u := o.b.page(j.pool, j.server, r, pt)
	o.outstanding[j.server].Add(-1)
	if u == "" || r.Outcome != results.Completed || o.session.Objects == 0 {
		return r.Done
	}
	o.b.objects(j.pool, u, o.session.Objects, r)
	return r.ObjectsDone
}

// progress calls Options.Progress every ProgressInterval until the
// returned stop function is called, which also reports once more.
func (o *openLoop) progress() (stop func()) {
	if o.opts.Progress == nil {
		return func() {}
	}
	report := func() {
		o.opts.Progress(Progress{
			Elapsed: o.elapsed(), Total: o.horizon,
			Scheduled: o.scheduled.Load(), InFlight: o.busy.Load(), ClientRejected: o.rejected.Load(),
		})
	}
	return reportEvery(o.clock, o.opts.ProgressInterval, report)
}

// reportEvery calls report every interval of clock's time from a
// goroutine of its own, until the returned stop function is called, which
// also reports once more; the open and closed loops' progress.
func reportEvery(clock Clock, interval time.Duration, report func()) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := clock.NewTimer(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C():
				report()
				t.Reset(interval)
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		report()
	}
}
