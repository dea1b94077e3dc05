package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

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

// noRecordsNote is the summary's note for a run without requests.csv.
const noRecordsNote = "requests.csv not written (no-records); every request is still counted here and in timeseries.csv"

// Recorder records a run: it hands every record to an Aggregator, which
// derives the summary, and, with a directory, to a Writer, which streams
// the CSV files; Close writes the rest.
//
// All methods are safe for concurrent use; one mutex serialises them.
type Recorder struct {
	warmup time.Duration // fixed: requests before it are dropped unlocked
	opts   Options

	mu  sync.Mutex
	agg *Aggregator
	w   *Writer // nil without Dir
	// rows: w writes requests.csv.
	rows bool
	// everyNote, if set, says at what interval servers.csv is written.
	everyNote string

	closed   bool
	summary  *Summary
	closeErr error
}

// NewRecorder starts recording a run of sc in mode m. With opts.Dir set
// it creates the directory and starts servers.csv (and requests.csv
// unless opts.NoRecords) as .tmp files.
func NewRecorder(sc *scenarios.Scenario, m Mode, opts Options) (*Recorder, error) {
	if sc == nil {
		return nil, errors.New("results: NewRecorder: scenario is nil")
	}
	if !m.Valid() {
		return nil, fmt.Errorf("results: NewRecorder: %v: want Sim or Real", m)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	agg, err := NewAggregator(sc, m)
	if err != nil {
		return nil, err
	}
	if err := checkNames(agg.names); err != nil {
		return nil, err
	}
	agg.SetVariants(VariantsOf(sc))
	r := &Recorder{warmup: sc.Warmup, opts: opts, agg: agg}
	if opts.Dir != "" {
		every := ServersEvery(sc)
		if r.w, err = NewWriter(opts.Dir, sc, WriterOptions{NoRecords: opts.NoRecords, ServersEvery: every}); err != nil {
			return nil, err
		}
		r.rows = !opts.NoRecords
		if every > 1 {
			r.everyNote = ServersEveryNote(every, sc.SampleInterval)
		}
	}
	return r, nil
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
	if !r.closed {
		r.agg.add(q)
		if r.rows {
			r.w.Add(q)
		}
	}
	r.mu.Unlock()
}

// AddSample records one server's state at a sampling tick. Every sample
// is written to servers.csv, unless the scenario leaves sample_interval
// at its default and the run is long (see ServersEvery, and the note the
// summary then has); the summary counts every sample in the measured
// window (see Aggregator.AddSample).
func (r *Recorder) AddSample(s *ServerSample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.agg.AddSample(s)
	// A sample of an unknown server is the aggregator's error to report.
	if r.w != nil && s.Server >= 0 && s.Server < len(r.agg.names) {
		r.w.AddSample(s)
	}
}

// Note adds a sentence to the summary's notes, saying where a figure
// comes from when that is not obvious.
func (r *Recorder) Note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.agg.Note(s)
	}
}

// Describe sets the summary's run information; see Aggregator.Describe.
func (r *Recorder) Describe(info RunInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.agg.Describe(info)
	}
}

// Interrupt marks the run stopped at at; see Aggregator.Interrupt.
func (r *Recorder) Interrupt(at time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.agg.Interrupt(at)
	}
}

// NotStarted marks the run's load never begun; see Aggregator.NotStarted.
func (r *Recorder) NotStarted(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.agg.NotStarted(why)
	}
}

// ServerRedirects sets the summary's redirect figures from the servers'
// own counters; see Aggregator.ServerRedirects.
func (r *Recorder) ServerRedirects(total, pages int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.agg.ServerRedirects(total, pages)
	}
}

// Progress is the live state of a run, for a progress line.
type Progress struct {
	// Elapsed is the latest completion time recorded, since run start:
	// how far the run has got (virtual time in sim).
	Elapsed time.Duration
	// Requests counted so far (== Completed + Errors + Rejected + Shed).
	Requests  int64
	Completed int64
	Errors    int64
	Rejected  int64
	Shed      int64
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
	return r.agg.Snapshot()
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
	if r.everyNote != "" {
		r.agg.Note(r.everyNote)
	}
	if r.opts.NoRecords {
		r.agg.Note(noRecordsNote)
	}
	sum, aggErr := r.agg.Close()
	r.summary = sum
	errs := []error{aggErr}
	if r.w != nil {
		errs = append(errs, r.w.Close(sum, r.agg.Seconds()))
	}
	r.closeErr = errors.Join(errs...)
	return r.summary, r.closeErr
}

// WriteSummary replaces dir/summary.json with s, atomically.
func WriteSummary(dir string, s *Summary) error {
	data, err := marshalSummary(s)
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, SummaryFile, data)
}

// marshalSummary is summary.json's exact bytes.
func marshalSummary(s *Summary) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // thresholds read "< 150ms", not "\u003c 150ms"
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("results: summary.json: %w", err)
	}
	return buf.Bytes(), nil
}
