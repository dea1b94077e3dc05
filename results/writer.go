package results

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redirlab/redirlab/results/internal/par"
	"github.com/redirlab/redirlab/scenarios"
)

// WriterOptions configure a Writer.
type WriterOptions struct {
	// NoRecords skips requests.csv for very large runs.
	NoRecords bool
	// ServersEvery, above 1, writes one servers.csv row per server for
	// every ServersEvery samples of it, as a sampler at that multiple of
	// the interval would have: the row has the last sample's tick and
	// state, and the counts and busy time summed over the samples it
	// stands for. The last row of a server may stand for fewer. Default:
	// every sample (see ServersEvery).
	ServersEvery int
	// Parallel bounds the files Close finishes at once. Default
	// GOMAXPROCS.
	Parallel int
}

// MaxServerRows is the most rows servers.csv gets, as far as the run's
// length and its servers tell in advance, when its scenario leaves
// sample_interval at its default (ServersEvery).
const MaxServerRows = 200_000

// ServersEvery is how many samples one servers.csv row stands for in a
// run of sc: 1 when sc gives sample_interval (an explicit interval is
// always honoured) or when one row per sample keeps servers.csv within
// MaxServerRows; otherwise the smallest of 2, 5, 10, 20, 50, 100, ...
// that does, so that the interval written is a round multiple of the
// default. The summary counts every sample either way.
func ServersEvery(sc *scenarios.Scenario) int {
	if sc == nil || !sc.SampleIntervalDefault || sc.SampleInterval <= 0 {
		return 1
	}
	ticks := int64((sc.Warmup+sc.Duration)/sc.SampleInterval) + 1 // and one at the end
	rows := ticks * int64(len(sc.Instances()))
	for k := int64(1); ; k *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if every := k * m; (rows+every-1)/every <= MaxServerRows || every >= ticks {
				return int(every)
			}
		}
	}
}

// ServersEveryNote is the summary's note for a servers.csv written every
// every samples of interval.
func ServersEveryNote(every int, interval time.Duration) string {
	return fmt.Sprintf("servers.csv has one row per server every %v, not every %v (sample_interval left at its default): "+
		"a row is the state at its tick with the counts and busy time since the previous row, which keeps this run's servers.csv "+
		"within %d rows; the summary counts every %v sample; give sample_interval to choose the interval",
		time.Duration(every)*interval, interval, MaxServerRows, interval)
}

// Writer writes a run's results directory: it streams requests.csv and
// servers.csv as records arrive, and on Close writes timeseries.csv,
// scenario.yaml and, last, summary.json. Every file appears under its
// final name only when complete (see files.go).
//
// It takes no lock: one goroutine at a time may call its methods.
type Writer struct {
	dir       string
	sc        *scenarios.Scenario
	warmup    time.Duration
	names     []string
	noRecords bool

	requests *stream // nil with NoRecords
	samples  *stream
	line     []byte // row buffer, reused

	// parallel bounds the files finished at once (WriterOptions).
	parallel int

	// every > 1: pending[i] accumulates server i's samples until
	// every of them make a row.
	every   int
	pending []pendingRow

	errors errorList
	closed bool
}

// NewWriter creates dir if missing and starts servers.csv (and
// requests.csv unless opts.NoRecords) as .tmp files.
func NewWriter(dir string, sc *scenarios.Scenario, opts WriterOptions) (*Writer, error) {
	if sc == nil {
		return nil, errors.New("results: NewWriter: scenario is nil")
	}
	if dir == "" {
		return nil, errors.New("results: NewWriter: no directory")
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("results: %s is not a directory", dir)
	}
	names, _ := instances(sc)
	if err := checkNames(names); err != nil {
		return nil, err
	}
	w := &Writer{dir: dir, sc: sc, warmup: sc.Warmup, names: names, noRecords: opts.NoRecords, line: make([]byte, 0, 512),
		every: max(opts.ServersEvery, 1), parallel: opts.Parallel}
	if w.every > 1 {
		w.pending = make([]pendingRow, len(names))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var err error
	if w.samples, err = createStream(dir, ServersFile, serversHeader); err != nil {
		return nil, err
	}
	if !opts.NoRecords {
		if w.requests, err = createStream(dir, RequestsFile, requestsHeader); err != nil {
			w.samples.discard()
			return nil, err
		}
	}
	return w, nil
}

// checkNames rejects server names that CSV cells and hop lists cannot
// hold unquoted.
func checkNames(names []string) error {
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, ",:>\"\r\n") {
			return fmt.Errorf("results: server name %q cannot be written to CSV (empty, or contains one of , : > \" or a newline)", n)
		}
	}
	return nil
}

// Add writes one page request to requests.csv (nothing with NoRecords).
// Requests scheduled before the warmup's end are not written, as they
// are not counted.
func (w *Writer) Add(q *Request) {
	if w.requests == nil || w.closed || q.Scheduled < w.warmup {
		return
	}
	w.checkServers(q)
	w.line = appendRequest(w.line[:0], q, w.names)
	w.requests.write(w.line)
}

// checkServers reports server indices beyond the scenario's, which
// requests.csv could only write as unknown.
func (w *Writer) checkServers(q *Request) {
	n := len(w.names)
	bad := q.First >= n || q.Final >= n
	for i := range min(max(q.NHops, 0), MaxRecordedHops) {
		bad = bad || int(q.Hops[i].Server) >= n
	}
	if bad {
		w.errors.add(fmt.Errorf("results: request %d names a server index beyond the scenario's %d servers (first %d, final %d, or a hop)", q.ID, n, q.First, q.Final))
	}
}

// AddSample writes one server sample to servers.csv, warmup included. A
// sample of a server index the scenario does not have is not written
// and is a recording error.
func (w *Writer) AddSample(s *ServerSample) {
	if w.closed {
		return
	}
	if s.Server < 0 || s.Server >= len(w.names) {
		w.errors.add(fmt.Errorf("results: sample at %v for server index %d, but the scenario has %d servers", s.At, s.Server, len(w.names)))
		return
	}
	if w.every > 1 {
		p := &w.pending[s.Server]
		p.add(s)
		if p.n < w.every {
			return
		}
		s = &p.row
		defer p.reset()
	}
	w.writeSample(s)
}

func (w *Writer) writeSample(s *ServerSample) {
	w.line = appendSample(w.line[:0], s, w.names[s.Server])
	w.samples.write(w.line)
}

// pendingRow is the servers.csv row being made of several samples.
type pendingRow struct {
	row ServerSample
	n   int // samples in it
}

// add folds s into the row: its state replaces the row's, its counts
// and busy time add to them.
func (p *pendingRow) add(s *ServerSample) {
	served, redirected, rejected, busy := p.row.Served, p.row.Redirected, p.row.Rejected, p.row.BusyTime
	p.row = *s
	if p.n > 0 {
		p.row.Served += served
		p.row.Redirected += redirected
		p.row.Rejected += rejected
		p.row.BusyTime += busy
	}
	p.n++
}

func (p *pendingRow) reset() { *p = pendingRow{} }

// Close finishes the directory with the run's summary and time series:
// requests.csv and servers.csv are renamed from .tmp, timeseries.csv and
// scenario.yaml written, and summary.json written last, each atomically.
// A failure to write one file does not stop the others; the errors,
// recording errors first, are joined. Later calls do nothing.
func (w *Writer) Close(sum *Summary, secs []Second) error {
	if w.closed {
		return nil
	}
	w.closed = true
	// The rows still being made: a last, shorter interval.
	for i := range w.pending {
		if p := &w.pending[i]; p.n > 0 {
			w.writeSample(&p.row)
			p.reset()
		}
	}
	errs := w.errors.all()
	dir := w.dir
	// The files are independent of one another: flushed, synced and
	// renamed or written at once, summary.json after all of them.
	jobs := []func() error{
		w.finishRequests,
		w.samples.finish,
		func() error { return w.writeTimeseries(secs) },
		w.writeScenario,
	}
	jobErrs := make([]error, len(jobs))
	par.New(w.parallel, nil).Each(len(jobs), func(i int) { jobErrs[i] = jobs[i]() })
	errs = append(errs, jobErrs...)

	// Last: its presence means the directory is complete.
	if sum != nil {
		data, err := marshalSummary(sum)
		if err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, writeFileAtomic(dir, SummaryFile, data))
		}
	}
	errs = append(errs, syncDir(dir))
	return errors.Join(errs...)
}

// finishRequests renames requests.csv into place, or with NoRecords
// removes one an earlier run left: it would contradict this summary.
func (w *Writer) finishRequests() error {
	if w.requests != nil {
		return w.requests.finish()
	}
	if w.noRecords {
		if err := os.Remove(filepath.Join(w.dir, RequestsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("results: %w", err)
		}
	}
	return nil
}

func (w *Writer) writeTimeseries(secs []Second) error {
	b := appendHeader(make([]byte, 0, 64*(len(secs)+1)), timeseriesHeader)
	for i := range secs {
		b = appendSecond(b, &secs[i])
	}
	return writeFileAtomic(w.dir, TimeseriesFile, b)
}

// writeScenario writes the scenario as run, self-contained: data files it
// read are written beside it, so `redirlab plot DIR` can load it anywhere.
func (w *Writer) writeScenario() error {
	var errs []error
	portable, files := w.sc.Portable()
	if data, err := portable.YAML(); err != nil {
		errs = append(errs, fmt.Errorf("results: scenario %s as YAML: %w", w.sc.Name, err))
	} else {
		errs = append(errs, writeFileAtomic(w.dir, ScenarioFile, data))
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		sub := filepath.Join(w.dir, filepath.Dir(name))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("results: %w", err))
			continue
		}
		errs = append(errs, writeFileAtomic(sub, filepath.Base(name), files[name]))
	}
	return errors.Join(errs...)
}
