package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/redirlab/redirlab/scenarios"
)

// Options configure a Recorder.
type Options struct {
	// Dir is the results directory, created if missing. Empty records in
	// memory only: Close returns the Summary and writes nothing.
	Dir string
	// NoRecords skips requests.csv for very large runs; the summary and
	// the time series still count every request.
	NoRecords bool
}

// validate checks the options; there are no defaults to fill.
func (o *Options) validate() error {
	if o.Dir != "" {
		if fi, err := os.Stat(o.Dir); err == nil && !fi.IsDir() {
			return fmt.Errorf("results: Options.Dir %s is not a directory", o.Dir)
		}
	}
	return nil
}

// Recorder aggregates a run's page-request records and server samples as
// they arrive, streams them to the results directory, and writes the
// summary on Close. Memory stays flat however long the run: latencies go
// into HdrHistograms, per-second figures into one small row per second.
//
// All methods are safe for concurrent use; one mutex serialises them.
type Recorder struct {
	// Fixed at construction.
	sc       *scenarios.Scenario
	mode     string
	opts     Options
	warmup   time.Duration
	end      time.Duration // warmup + duration
	duration time.Duration
	names    []string // instance names by server index
	workers  []int

	mu         sync.Mutex
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

	requests *stream // nil with NoRecords or without Dir
	samples  *stream // nil without Dir
	line     []byte  // row buffer, reused

	notes []string
	errs  []error // recording errors, returned by Close (the first maxErrors)
	more  int     // recording errors beyond maxErrors

	closed   bool
	summary  *Summary
	closeErr error
}

// serverTotals aggregates one server's samples over the measured window.
type serverTotals struct {
	served, redirected, rejected int64
	busy, covered                time.Duration // worker-time serving; time the counted samples cover
	prevAt                       time.Duration // previous sample's tick (0: run start)
	queueSum, queueSamples       int64
	queueMax                     int
}

// NewRecorder starts recording a run of sc in mode "sim" or "real". With
// opts.Dir set it creates the directory and starts servers.csv (and
// requests.csv unless opts.NoRecords) as .tmp files.
func NewRecorder(sc *scenarios.Scenario, mode string, opts Options) (*Recorder, error) {
	if sc == nil {
		return nil, errors.New("results: NewRecorder: scenario is nil")
	}
	if mode != "sim" && mode != "real" {
		return nil, fmt.Errorf("results: NewRecorder: mode %q: want sim or real", mode)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if sc.Duration <= 0 {
		return nil, fmt.Errorf("results: NewRecorder: scenario %s: duration %v: must be positive", sc.Name, sc.Duration)
	}
	names, workers := instances(sc)
	for _, n := range names {
		// Names go unquoted into CSV cells and hop lists.
		if n == "" || strings.ContainsAny(n, ",:>\"\r\n") {
			return nil, fmt.Errorf("results: NewRecorder: server name %q cannot be written to CSV (empty, or contains one of , : > \" or a newline)", n)
		}
	}
	r := &Recorder{
		sc:       sc,
		mode:     mode,
		opts:     opts,
		warmup:   sc.Warmup,
		duration: sc.Duration,
		end:      sc.Warmup + sc.Duration,
		names:    names,
		workers:  workers,
		latency:  newLatencyHistogram(),
		sendLag:  newLagHistogram(),
		series:   newSeries(sc.Warmup, sc.Duration),
		servers:  make([]serverTotals, len(names)),
		line:     make([]byte, 0, 512),
	}
	if opts.Dir == "" {
		return r, nil
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var err error
	if r.samples, err = createStream(opts.Dir, ServersFile, serversHeader); err != nil {
		return nil, err
	}
	if !opts.NoRecords {
		if r.requests, err = createStream(opts.Dir, RequestsFile, requestsHeader); err != nil {
			r.samples.discard()
			return nil, err
		}
	}
	return r, nil
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

// fail keeps a recording error for Close.
func (r *Recorder) fail(err error) {
	if len(r.errs) < maxErrors {
		r.errs = append(r.errs, err)
	} else {
		r.more++
	}
}

// Add records one page request. Requests scheduled before the warmup's
// end are ignored; every other one is counted and (unless NoRecords)
// written to requests.csv. Add does not retain q. Adding after Close does
// nothing: the summary is final.
func (r *Recorder) Add(q *Request) {
	if q.Scheduled < r.warmup {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.counts.Sent++
	var lat int64
	switch q.Outcome {
	case Completed:
		r.counts.Completed++
		v, clipped := clampHist(q.Latency())
		if clipped {
			r.clipped++
		}
		_ = r.latency.RecordValue(v) // in range: clampHist
		r.latencySum.add(v)
		r.latencyExt.add(v)
		lat = v
	case Rejected:
		r.counts.Rejected++
	case Timeout:
		r.counts.Errors++
		r.counts.Timeouts++
	case Error:
		r.counts.Errors++
	default:
		// Counted as an error so that sent == completed+errors+rejected.
		r.counts.Errors++
		r.fail(fmt.Errorf("results: request %d has unknown outcome %d (counted as an error)", q.ID, q.Outcome))
	}
	if lag := q.SendLag(); lag <= 0 {
		// Simulated requests are never late: count them here and put them
		// into the histogram once, at Close, which halves the cost of Add.
		r.zeroLags++
	} else {
		v, clipped := clampHist(lag)
		if clipped {
			r.clipped++
		}
		_ = r.sendLag.RecordValue(v)
		r.sendLagExt.add(v)
	}
	if q.Redirects >= 1 {
		r.redirected++
		r.redirects += int64(q.Redirects)
	}
	if q.Done > r.lastDone {
		r.lastDone = q.Done
	}
	r.series.add(q, lat)
	if r.requests != nil {
		r.checkServers(q)
		r.line = appendRequest(r.line[:0], q, r.names)
		r.requests.write(r.line)
	}
}

// checkServers reports server indices beyond the scenario's, which
// requests.csv could only write as unknown.
func (r *Recorder) checkServers(q *Request) {
	n := len(r.names)
	bad := q.First >= n || q.Final >= n
	for i := range min(max(q.NHops, 0), MaxRecordedHops) {
		bad = bad || int(q.Hops[i].Server) >= n
	}
	if bad {
		r.fail(fmt.Errorf("results: request %d names a server index beyond the scenario's %d servers (first %d, final %d, or a hop)", q.ID, n, q.First, q.Final))
	}
}

// AddSample records one server's state at a sampling tick. Every sample
// is written to servers.csv; the summary counts samples in the measured
// window only: served, redirected, rejected and busy time from ticks in
// (warmup, warmup+duration] (each covers the interval since the previous
// tick), queue lengths from ticks in [warmup, warmup+duration].
func (r *Recorder) AddSample(s *ServerSample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if s.Server < 0 || s.Server >= len(r.names) {
		r.fail(fmt.Errorf("results: sample at %v for server index %d, but the scenario has %d servers", s.At, s.Server, len(r.names)))
		return
	}
	if r.samples != nil {
		r.line = appendSample(r.line[:0], s, r.names[s.Server])
		r.samples.write(r.line)
	}
	t := &r.servers[s.Server]
	if s.At > r.warmup && s.At <= r.end {
		t.served += int64(s.Served)
		t.redirected += int64(s.Redirected)
		t.rejected += int64(s.Rejected)
		t.busy += s.BusyTime
		if s.At > t.prevAt {
			t.covered += s.At - t.prevAt
		}
	}
	if s.At >= r.warmup && s.At <= r.end {
		t.queueSum += int64(s.QueueLength)
		t.queueSamples++
		t.queueMax = max(t.queueMax, s.QueueLength)
	}
	if s.At > t.prevAt {
		t.prevAt = s.At
	}
}

// Note adds a sentence to the summary's notes, saying where a figure
// comes from when that is not obvious.
func (r *Recorder) Note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.notes = append(r.notes, s)
	}
}

// ServerRedirects sets the summary's redirect figures from the servers'
// own counters, for runs whose records cannot show hops (a closed loop on
// hey, which follows redirects silently): total is the redirects the
// servers answered to pages page requests. redirects.total is total and
// redirects.rate total/pages (at most 1), which is the fraction of page
// requests redirected when none is redirected twice (max_hops 1); the
// caller says where the figures come from in a Note.
func (r *Recorder) ServerRedirects(total, pages int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.counted.set, r.counted.total, r.counted.pages = true, total, pages
	}
}

// Progress is the live state of a run, for a progress line.
type Progress struct {
	// Elapsed is the latest completion time recorded, since run start:
	// how far the run has got (virtual time in sim).
	Elapsed time.Duration
	// Requests counted so far (== Completed + Errors + Rejected).
	Requests  int64
	Completed int64
	Errors    int64
	Rejected  int64
	// RPS is completions per second in the last whole second recorded
	// (over the measured time so far until two seconds are in).
	RPS float64
	// P99MS is the 99th percentile latency of the completions so far, in
	// milliseconds.
	P99MS float64
	// RedirectRate is the fraction of counted requests redirected at
	// least once.
	RedirectRate float64
}

// Snapshot returns the figures so far. It reads the latency histogram
// (tens of microseconds); call it a few times a second, not per request.
func (r *Recorder) Snapshot() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{
		Elapsed:      r.lastDone,
		Requests:     r.counts.Sent,
		Completed:    r.counts.Completed,
		Errors:       r.counts.Errors,
		Rejected:     r.counts.Rejected,
		P99MS:        ms(quantileIn(r.latency, 0.99, r.latencyExt.min, r.latencyExt.max)),
		RedirectRate: mean(float64(r.redirected), float64(r.counts.Sent)),
	}
	// The newest second is still filling; the one before it is whole.
	if secs := r.series.secs; len(secs) >= 2 {
		p.RPS = float64(secs[len(secs)-2].Completed)
	} else if d := r.lastDone - r.warmup; d > 0 {
		p.RPS = float64(r.counts.Completed) / d.Seconds()
	}
	return p
}

// Close computes the summary and, with a directory, finishes the files:
// requests.csv and servers.csv are renamed from .tmp, timeseries.csv and
// scenario.yaml written, and summary.json written last, each atomically.
// The summary is returned even when an error is: a failure to write one
// file does not stop the others. Later calls return the same values.
func (r *Recorder) Close() (*Summary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.summary, r.closeErr
	}
	r.closed = true
	secs := r.series.finish()
	r.summary = r.buildSummary()
	errs := append([]error(nil), r.errs...)
	if r.more > 0 {
		errs = append(errs, fmt.Errorf("results: %d more recording errors", r.more))
	}
	if r.opts.Dir != "" {
		errs = append(errs, r.writeFiles(secs)...)
	}
	r.closeErr = errors.Join(errs...)
	return r.summary, r.closeErr
}

// buildSummary computes summary.json's figures; r.mu is held.
func (r *Recorder) buildSummary() *Summary {
	if r.zeroLags > 0 {
		_ = r.sendLag.RecordValues(0, r.zeroLags)
		r.sendLagExt.add(0)
		r.zeroLags = 0
	}
	sc := r.sc
	s := &Summary{
		Scenario:  sc.Name,
		Variant:   sc.Variant,
		Mode:      r.mode,
		Seed:      sc.Seed,
		DurationS: roundTo(r.duration.Seconds(), 6),
		WarmupS:   roundTo(r.warmup.Seconds(), 6),
		Requests:  r.counts,
		LatencyMS: latencyStats(r.latency, r.latencySum, r.latencyExt),
		Redirects: RedirectStats{
			Rate:  ratio(mean(float64(r.redirected), float64(r.counts.Sent))),
			Total: r.redirects,
		},
		ThroughputRPS: roundTo(float64(r.counts.Completed)/r.duration.Seconds(), 3),
		SendLagMS: SendLagStats{
			P50: ms(quantileIn(r.sendLag, 0.50, r.sendLagExt.min, r.sendLagExt.max)),
			P99: ms(quantileIn(r.sendLag, 0.99, r.sendLagExt.min, r.sendLagExt.max)),
			Max: ms(r.sendLagExt.max),
		},
		Servers: make([]ServerSummary, len(r.names)),
	}
	if c := r.counted; c.set {
		s.Redirects = RedirectStats{Rate: ratio(min(1, mean(float64(c.total), float64(c.pages)))), Total: c.total}
	}
	for i, t := range r.servers {
		util := 0.0
		if t.covered > 0 {
			util = float64(t.busy) / (float64(t.covered) * float64(r.workers[i]))
		}
		s.Servers[i] = ServerSummary{
			Name:            r.names[i],
			Workers:         r.workers[i],
			Served:          t.served,
			Redirected:      t.redirected,
			Rejected:        t.rejected,
			MeanQueueLength: ratio(mean(float64(t.queueSum), float64(t.queueSamples))),
			MaxQueueLength:  t.queueMax,
			Utilization:     ratio(util),
		}
	}
	s.Notes = append(s.Notes, r.notes...)
	if r.opts.NoRecords {
		s.Notes = append(s.Notes, "requests.csv not written (no-records); every request is still counted here and in timeseries.csv")
	}
	if r.clipped > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d latencies or send lags above 1h were recorded as 1h", r.clipped))
	}
	if r.series.late > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d completions were recorded more than %d s after newer ones; they count in timeseries.csv but not in its per-second p50/p99", r.series.late, openSeconds-1))
	}
	if r.series.beyond > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d requests finished more than 1h after the run's end; timeseries.csv counts them in its last second", r.series.beyond))
	}
	return s
}

// writeFiles finishes the results directory; r.mu is held. summary.json
// goes last so that its presence means the directory is complete.
func (r *Recorder) writeFiles(secs []Second) []error {
	dir := r.opts.Dir
	var errs []error
	if r.requests != nil {
		errs = append(errs, r.requests.finish())
	} else if r.opts.NoRecords {
		// A requests.csv left by an earlier run into this directory would
		// contradict this summary.
		if err := os.Remove(filepath.Join(dir, RequestsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("results: %w", err))
		}
	}
	errs = append(errs, r.samples.finish())

	b := appendHeader(make([]byte, 0, 64*(len(secs)+1)), timeseriesHeader)
	for i := range secs {
		b = appendSecond(b, &secs[i])
	}
	errs = append(errs, writeFileAtomic(dir, TimeseriesFile, b))

	// The scenario as run, self-contained: data files it read are
	// written beside it, so `redirlab plot DIR` can load it anywhere.
	portable, files := r.sc.Portable()
	if data, err := portable.YAML(); err != nil {
		errs = append(errs, fmt.Errorf("results: scenario %s as YAML: %w", r.sc.Name, err))
	} else {
		errs = append(errs, writeFileAtomic(dir, ScenarioFile, data))
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		sub := filepath.Join(dir, filepath.Dir(name))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("results: %w", err))
			continue
		}
		errs = append(errs, writeFileAtomic(sub, filepath.Base(name), files[name]))
	}

	data, err := marshalSummary(r.summary)
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, writeFileAtomic(dir, SummaryFile, data))
	}
	return append(errs, syncDir(dir))
}

// marshalSummary is summary.json's exact bytes.
func marshalSummary(s *Summary) ([]byte, error) {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("results: summary.json: %w", err)
	}
	return append(data, '\n'), nil
}
