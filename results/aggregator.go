package results

import (
	"errors"
	"fmt"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/redirlab/redirlab/scenarios"
)

// Aggregator derives a run's Summary and time series from its page
// request records and server samples as they arrive. Memory stays flat
// however long the run: latencies go into HdrHistograms, per-second
// figures into one small row per second.
//
// It does no I/O and takes no lock: one goroutine at a time may call its
// methods. A Recorder wraps one with a mutex and a Writer; on its own it
// serves tests, benchmarks and tools that derive summaries from records.
type Aggregator struct {
	// Fixed at construction.
	sc       *scenarios.Scenario
	mode     Mode
	warmup   time.Duration
	end      time.Duration // warmup + duration
	duration time.Duration // the measured part; less than the scenario's when partial
	partial  bool          // stopped before its end (Interrupt)
	names    []string      // instance names by server index
	workers  []int

	notStarted bool     // the load never began (NotStarted)
	variants   []string // the scenario's variant list (SetVariants)

	counts     RequestCounts
	redirected int64 // requests redirected at least once
	redirects  int64
	// counted: the redirect figures come from the servers' counters
	// (ServerRedirects), not from the records.
	counted struct {
		set          bool
		total, pages int64
	}
	latency    *hdr.Histogram // completed requests, ns
	latencySum durationSum
	latencyExt extremes
	sendLag    *hdr.Histogram // every counted request, ns, negative as 0
	sendLagExt extremes
	zeroLags   int64 // send lags <= 0 (recorded as 0), not yet in sendLag
	lastDone   time.Duration
	clipped    int64 // latencies or lags beyond the histogram's 1h
	series     *series
	servers    []serverTotals

	notes  []string
	info   RunInfo
	errors errorList

	closed  bool
	secs    []Second
	summary *Summary
}

// serverTotals aggregates one server's samples over the measured window.
type serverTotals struct {
	served, redirected, rejected int64
	busy, covered                time.Duration // worker-time serving; time the counted samples cover
	prevAt                       time.Duration // previous sample's tick (0: run start)
	queueSum, queueSamples       int64
	queueMax                     int
	delay                        delayHist // queue delays of the window's samples
}

// NewAggregator starts aggregating a run of sc in mode m.
func NewAggregator(sc *scenarios.Scenario, m Mode) (*Aggregator, error) {
	if sc == nil {
		return nil, errors.New("results: NewAggregator: scenario is nil")
	}
	if !m.Valid() {
		return nil, fmt.Errorf("results: NewAggregator: %v: want Sim or Real", m)
	}
	if sc.Duration <= 0 {
		return nil, fmt.Errorf("results: NewAggregator: scenario %s: duration %v: must be positive", sc.Name, sc.Duration)
	}
	names, workers := instances(sc)
	return &Aggregator{
		sc:       sc,
		mode:     m,
		warmup:   sc.Warmup,
		duration: sc.Duration,
		end:      sc.Warmup + sc.Duration,
		names:    names,
		workers:  workers,
		latency:  newLatencyHistogram(),
		sendLag:  newLagHistogram(),
		series:   newSeries(sc.Warmup, sc.Duration),
		servers:  make([]serverTotals, len(names)),
	}, nil
}

// instances lists the server instance names and worker counts by index.
func instances(sc *scenarios.Scenario) (names []string, workers []int) {
	for _, in := range sc.Instances() {
		names = append(names, in.Name)
		workers = append(workers, max(in.Group.Workers, 1))
	}
	return names, workers
}

// maxErrors bounds the recording errors kept: a caller bug repeats per
// request, and the first few say what it is.
const maxErrors = 10

// errorList keeps the first maxErrors recording errors and counts the rest.
type errorList struct {
	errs []error
	more int
}

func (l *errorList) add(err error) {
	if len(l.errs) < maxErrors {
		l.errs = append(l.errs, err)
	} else {
		l.more++
	}
}

// all is the errors kept, and one saying how many more there were.
func (l *errorList) all() []error {
	errs := append([]error(nil), l.errs...)
	if l.more > 0 {
		errs = append(errs, fmt.Errorf("results: %d more recording errors", l.more))
	}
	return errs
}

// Add counts one page request. Requests scheduled before the warmup's
// end are ignored. Add does not retain q. Adding after Close does
// nothing: the summary is final.
func (a *Aggregator) Add(q *Request) {
	if q.Scheduled < a.warmup || a.closed {
		return
	}
	a.add(q)
}

// add is Add of a counted request, before Close.
func (a *Aggregator) add(q *Request) {
	a.counts.Sent++
	var lat int64
	switch q.Outcome {
	case Completed:
		a.counts.Completed++
		v, clipped := clampHist(q.Latency())
		if clipped {
			a.clipped++
		}
		_ = a.latency.RecordValue(v) // in range: clampHist
		a.latencySum.add(v)
		a.latencyExt.add(v)
		lat = v
	case Rejected:
		a.counts.Rejected++
	case Shed:
		a.counts.Shed++
	case Timeout:
		a.counts.Errors++
		a.counts.Timeouts++
	case Interrupted:
		a.counts.Interrupted++
	case Error:
		a.counts.Errors++
	default:
		// Counted as an error so that sent == completed+errors+rejected+shed.
		a.counts.Errors++
		a.errors.add(fmt.Errorf("results: request %d has unknown outcome %d (counted as an error)", q.ID, q.Outcome))
	}
	if lag := q.SendLag(); lag <= 0 {
		// Simulated requests are never late: count them here and put them
		// into the histogram once, at Close, which halves the cost of Add.
		a.zeroLags++
	} else {
		v, clipped := clampHist(lag)
		if clipped {
			a.clipped++
		}
		_ = a.sendLag.RecordValue(v)
		a.sendLagExt.add(v)
	}
	if q.Redirects >= 1 {
		a.redirected++
		a.redirects += int64(q.Redirects)
	}
	if q.Done > a.lastDone {
		a.lastDone = q.Done
	}
	a.series.add(q, lat)
}

// AddSample counts one server's state at a sampling tick, over the
// measured window only: served, redirected, rejected and busy time from
// ticks in (warmup, warmup+duration] (each covers the interval since the
// previous tick), queue lengths and queue delays from ticks in
// [warmup, warmup+duration].
// A sample of a server index the scenario does not have is a recording
// error.
func (a *Aggregator) AddSample(s *ServerSample) {
	if a.closed {
		return
	}
	if s.Server < 0 || s.Server >= len(a.names) {
		a.errors.add(fmt.Errorf("results: sample at %v for server index %d, but the scenario has %d servers", s.At, s.Server, len(a.names)))
		return
	}
	t := &a.servers[s.Server]
	if s.At > a.warmup && s.At <= a.end {
		t.served += int64(s.Served)
		t.redirected += int64(s.Redirected)
		t.rejected += int64(s.Rejected)
		t.busy += s.BusyTime
		if s.At > t.prevAt {
			t.covered += s.At - t.prevAt
		}
	}
	if s.At >= a.warmup && s.At <= a.end {
		t.queueSum += int64(s.QueueLength)
		t.queueSamples++
		t.queueMax = max(t.queueMax, s.QueueLength)
		t.delay.add(s.QueueDelay)
	}
	if s.At > t.prevAt {
		t.prevAt = s.At
	}
}

// RunInfo is what a summary says of how a real run was made: which
// shard, how it started, its connections, what a merge read. Nil fields
// are not set.
type RunInfo struct {
	Shard       *Shard
	Start       *Start
	Connections *Connections
	Merge       *Merge
}

// Describe sets the summary's run information: each non-nil field of
// info replaces what was set before.
func (a *Aggregator) Describe(info RunInfo) {
	if a.closed {
		return
	}
	if info.Shard != nil {
		a.info.Shard = info.Shard
	}
	if info.Start != nil {
		a.info.Start = info.Start
	}
	if info.Connections != nil {
		a.info.Connections = info.Connections
	}
	if info.Merge != nil {
		a.info.Merge = info.Merge
	}
}

// Note adds a sentence to the summary's notes, saying where a figure
// comes from when that is not obvious.
func (a *Aggregator) Note(s string) {
	if !a.closed {
		a.notes = append(a.notes, s)
	}
}

// ServerRedirects sets the summary's redirect figures from the servers'
// own counters, for runs whose records cannot show hops (a closed loop on
// hey, which follows redirects silently): total is the redirects the
// servers answered to pages page requests. redirects.total is total and
// redirects.rate total/pages (at most 1), which is the fraction of page
// requests redirected when none is redirected twice (max_hops 1); the
// caller says where the figures come from in a Note.
func (a *Aggregator) ServerRedirects(total, pages int64) {
	if !a.closed {
		a.counted.set, a.counted.total, a.counted.pages = true, total, pages
	}
}

// Snapshot returns the figures so far. It reads the latency histogram
// (tens of microseconds); call it a few times a second, not per request.
func (a *Aggregator) Snapshot() Progress {
	p := Progress{
		Elapsed:      a.lastDone,
		Requests:     a.counts.Sent,
		Completed:    a.counts.Completed,
		Errors:       a.counts.Errors,
		Rejected:     a.counts.Rejected,
		Shed:         a.counts.Shed,
		P99MS:        ms(quantileIn(a.latency, 0.99, a.latencyExt.min, a.latencyExt.max)),
		RedirectRate: mean(float64(a.redirected), float64(a.counts.Sent)),
	}
	// The newest second is still filling; the one before it is whole.
	if secs := a.series.secs; len(secs) >= 2 {
		p.RPS = float64(secs[len(secs)-2].Completed)
	} else if d := a.lastDone - a.warmup; d > 0 {
		p.RPS = float64(a.counts.Completed) / d.Seconds()
	}
	return p
}

// Close ends the aggregation and returns the summary, with the recording
// errors (unknown outcomes, samples of unknown servers) joined. Later
// calls return the same summary; Add, AddSample and Note do nothing
// after it.
func (a *Aggregator) Close() (*Summary, error) {
	if !a.closed {
		a.closed = true
		a.secs = a.series.finish()
		if a.partial {
			// Seconds the run never reached are not data.
			end := a.warmup + a.duration
			for len(a.secs) > 0 && a.secs[len(a.secs)-1].T >= end {
				a.secs = a.secs[:len(a.secs)-1]
			}
		}
		a.summary = a.buildSummary()
	}
	return a.summary, errors.Join(a.errors.all()...)
}

// Interrupt marks the run as stopped at at, since run start: the summary
// is partial, its duration the measured part (from the warmup's end to
// at), and rates are over that.
func (a *Aggregator) Interrupt(at time.Duration) {
	if a.closed || a.partial {
		return
	}
	a.partial = true
	a.duration = min(max(at-a.warmup, 0), a.duration)
}

// NotStarted marks a run whose load never began (a generator that got
// no time zero): the summary says not_started, with why as a note, so
// that its empty counts are not taken for a share of the load.
func (a *Aggregator) NotStarted(why string) {
	if a.closed || a.notStarted {
		return
	}
	a.notStarted = true
	a.notes = append(a.notes, "the load never started: "+why)
}

// SetVariants sets the summary's variants: the scenario's variant
// list, base first (VariantsOf). Nil leaves it out.
func (a *Aggregator) SetVariants(names []string) {
	if !a.closed {
		a.variants = slices.Clone(names)
	}
}

// Seconds is the time series, timeseries.csv's rows: nil before Close.
func (a *Aggregator) Seconds() []Second { return a.secs }

// buildSummary computes summary.json's figures.
func (a *Aggregator) buildSummary() *Summary {
	if a.zeroLags > 0 {
		_ = a.sendLag.RecordValues(0, a.zeroLags)
		a.sendLagExt.add(0)
		a.zeroLags = 0
	}
	sc := a.sc
	s := &Summary{
		Scenario:  sc.Name,
		Variant:   sc.Variant,
		Variants:  a.variants,
		Mode:      a.mode,
		Seed:      sc.Seed,
		DurationS: roundTo(a.duration.Seconds(), 6),
		WarmupS:   roundTo(a.warmup.Seconds(), 6),
		Requests:  a.counts,
		LatencyMS: latencyStats(a.latency, a.latencySum, a.latencyExt),
		Redirects: RedirectStats{
			Rate:  ratio(mean(float64(a.redirected), float64(a.counts.Sent))),
			Total: a.redirects,
		},
		ThroughputRPS: roundTo(mean(float64(a.counts.Completed), a.duration.Seconds()), 3),
		Partial:       a.partial,
		NotStarted:    a.notStarted,
		SendLagMS: SendLagStats{
			P50: ms(quantileIn(a.sendLag, 0.50, a.sendLagExt.min, a.sendLagExt.max)),
			P99: ms(quantileIn(a.sendLag, 0.99, a.sendLagExt.min, a.sendLagExt.max)),
			Max: ms(a.sendLagExt.max),
		},
		Servers:     make([]ServerSummary, len(a.names)),
		Shard:       a.info.Shard,
		Start:       a.info.Start,
		Connections: a.info.Connections,
		Merge:       a.info.Merge,
	}
	if c := a.counted; c.set {
		s.Redirects = RedirectStats{Rate: ratio(min(1, mean(float64(c.total), float64(c.pages)))), Total: c.total}
	}
	for i, t := range a.servers {
		util := 0.0
		if t.covered > 0 {
			util = float64(t.busy) / (float64(t.covered) * float64(a.workers[i]))
		}
		if ratio(util) > 1 {
			// A real server's busy time runs to when its sample was
			// read, a little after the tick that bounds what it covers:
			// a saturated server can read a little over 1, which no
			// server can be busy.
			a.notes = append(a.notes, fmt.Sprintf("%s: utilization %g by its samples, written as 1: "+
				"a sample's busy time runs to when it was read, a little after its tick", a.names[i], ratio(util)))
			util = 1
		}
		s.Servers[i] = ServerSummary{
			Name:             a.names[i],
			Workers:          a.workers[i],
			Served:           t.served,
			Redirected:       t.redirected,
			Rejected:         t.rejected,
			MeanQueueLength:  ratio(mean(float64(t.queueSum), float64(t.queueSamples))),
			MaxQueueLength:   t.queueMax,
			MeanQueueDelayMS: msFloat(t.delay.meanNS()),
			P99QueueDelayMS:  ms(t.delay.quantile(0.99)),
			MaxQueueDelayMS:  ms(t.delay.ext.max),
			Utilization:      ratio(util),
		}
	}
	s.Notes = append(s.Notes, a.notes...)
	if a.clipped > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d latencies or send lags above 1h were recorded as 1h", a.clipped))
	}
	if a.series.late > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d completions were recorded more than %d s after newer ones; they count in timeseries.csv but not in its per-second p50/p99", a.series.late, openSeconds-1))
	}
	if a.series.beyond > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d requests finished more than 1h after the run's end; timeseries.csv counts them in its last second", a.series.beyond))
	}
	return s
}
