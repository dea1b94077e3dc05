// Package runner runs a scenario end to end, simulated or for real, with
// its variants and replications, and lays out the results directory. It
// is the glue between scenarios, sim, server, loadgen and results; the
// CLI turns flags into an Options and calls Run.
package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redirlab/redirlab/gate"
	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/redirect"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/report"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
	"github.com/redirlab/redirlab/sim"
)

// Mode is how a scenario is run: Sim, the discrete-event simulation in
// virtual time, or Real, real servers and a manager on 127.0.0.1 driven
// by real HTTP browsers (scenarios.Mode, the one run mode).
type Mode = scenarios.Mode

// The run modes.
const (
	Sim  = scenarios.Sim
	Real = scenarios.Real
)

// ParseMode reads "sim" or "real".
func ParseMode(s string) (Mode, error) { return scenarios.ParseMode(s) }

// Options configure Run.
type Options struct {
	// Mode is Sim or Real. Default Sim.
	Mode Mode
	// Out is the results directory. Required.
	Out string
	// NoRecords skips requests.csv (the summary still counts every request).
	NoRecords bool
	// Parallel bounds simultaneous simulations. Default GOMAXPROCS.
	// Real runs are always one at a time: they would share the CPU and
	// distort each other's latencies.
	Parallel int
	// Targets, if set (Real mode only), are the base URLs of servers
	// already running, by server index: no cluster is started, and
	// servers.csv stays empty (their state is theirs).
	Targets []string
	// Variants, if set, runs only the named variants ("base" is the
	// file as written).
	Variants []string
	// Budget bounds each run's size; zero fields take the defaults.
	Budget plan.Budget
	// Health says which runs cannot judge their thresholds.
	Health gate.Health
	// Progress, if set, is called about once a second per running
	// scenario with live figures.
	Progress func(Progress)
	// WriteProgress, if set, is called after each figure and report file
	// written once the runs are done.
	WriteProgress func(report.Progress)
	// Shard runs one share: of the arrivals in Run (Targets only, one
	// run), of the points in Sweep. Zero: all.
	Shard loadgen.Shard
	// Start, if set (Targets only, one run), gives the load's time zero:
	// it is called when the run is about to start the load, so that a
	// coordinator hears from a generator that is ready.
	Start StartFunc

	sweep bool // set by Sweep: Shard is of points
}

// StartFunc returns a run's time zero on this host's clock, and how it
// was set (Start.LateMS is filled by the run).
type StartFunc func(ctx context.Context, sc *scenarios.Scenario) (time.Time, results.Start, error)

// Progress is a live report of one running scenario.
type Progress struct {
	// Run names the variant (and replication) running.
	Run string
	// Elapsed and Total are scenario time (virtual in sim).
	Elapsed, Total time.Duration
	// Live figures from the recorder.
	results.Progress
}

func (o *Options) validate() error {
	switch o.Mode {
	case 0:
		o.Mode = Sim
	case Sim, Real:
	default:
		return fmt.Errorf("mode %v: want sim or real", o.Mode)
	}
	if o.Out == "" {
		return errors.New("no results directory given")
	}
	if o.Parallel <= 0 {
		o.Parallel = runtime.GOMAXPROCS(0)
	}
	if o.Mode == Real {
		o.Parallel = 1
	}
	if len(o.Targets) > 0 && o.Mode != Real {
		return errors.New("targets need real mode")
	}
	if !o.sweep && (o.Shard.Sharded() || o.Start != nil) && len(o.Targets) == 0 {
		return errors.New("a shard or a start time needs targets: servers already running")
	}
	return nil
}

// Notes are what a run of sc in mode will say in its summary about its
// settings before it starts: --set overrides that did not change it
// (setNotes), and faults that start after its end, which never happen
// (a --set duration shorter than the scenario's). validate prints them.
func Notes(sc *scenarios.Scenario, mode Mode) []string {
	notes := setNotes(sc, mode)
	end := sc.Warmup + sc.Duration
	for i, f := range sc.Faults {
		if f.At >= end {
			notes = append(notes, fmt.Sprintf("faults[%d] (%s at %v) starts after the run ends (warmup + duration = %v): it never happens", i, f.Action, f.At, end))
		}
	}
	return notes
}

// checkLoadOnly refuses what a load generator driving servers that run
// elsewhere (loadgen --target) cannot apply: a --set or a variant's
// setting of the servers' own settings (they run with what serve was
// given, so a no-redirect variant would be labelled with what it did not
// run), and faults, which no part run alone applies; the figures would
// shade a crash that never happened.
func checkLoadOnly(runs []*scenarios.Scenario) error {
	const why = "loadgen drives servers that run elsewhere, with the settings serve was started with"
	for _, key := range runs[0].SetKeys() {
		if serverSide(key) {
			return &scenarios.Error{File: runs[0].File, Field: "--set " + key, Msg: "has no effect: " + why + ": give it to serve (and manager) instead"}
		}
	}
	for _, r := range runs {
		for _, key := range slices.Sorted(maps.Keys(r.VariantSet())) {
			if serverSide(key) {
				return &scenarios.Error{File: r.File, Field: "variant " + r.Variant, Msg: "sets " + key + ", which has no effect: " + why +
					", so the run would be labelled with what it did not run; choose variants that change only the workload with --variant (such as --variant base)"}
			}
		}
		if len(r.Faults) > 0 {
			return &scenarios.Error{File: r.File, Field: "faults", Msg: fmt.Sprintf("%d fault(s), but faults are applied only by redirlab run and sim: "+
				"serve, manager and loadgen run alone apply none, and the figures would shade what never happened; "+
				"remove them (--set faults=) or make the fault yourself on the server's host", len(r.Faults))}
		}
	}
	return nil
}

// serverSide reports whether the field at key is one the servers run
// with, not the load generator.
func serverSide(key string) bool {
	p := keyPath(key)
	switch {
	case p[0] == "policy", p[0] == "manager", p[0] == "network", p[0] == "sample_interval":
		return true
	case p[0] == "servers" && len(p) > 2 && !slices.Contains([]string{"name", "count", "weight"}, p[2]):
		return true
	}
	return false
}

// checkOneRun refuses a shard or a coordinated start over several runs:
// the shards of each would have to start together again, and a merge
// reads one run.
func checkOneRun(jobs []job, opts Options) error {
	if !opts.sweep {
		for _, j := range jobs {
			p, err := plan.Resolve(j.sc)
			if err != nil {
				return &InputError{err}
			}
			if err := loadgen.CheckShard(opts.Shard, p); err != nil {
				return &InputError{fmt.Errorf("%s: %w", j.sc.File, err)}
			}
		}
	}
	if opts.sweep || (!opts.Shard.Sharded() && opts.Start == nil) || len(jobs) <= 1 {
		return nil
	}
	var names []string
	for _, j := range jobs {
		names = append(names, j.name)
	}
	flag := "--shard"
	if !opts.Shard.Sharded() {
		flag = "a start time"
	}
	return &InputError{fmt.Errorf("%s runs one run, and the scenario makes %d (%s): pick one with --variant", flag, len(jobs), strings.Join(names, ", "))}
}

// Result is one finished run.
type Result struct {
	// Name is the variant name ("" for a scenario without variants),
	// with "/rep-N" for replications.
	Name string
	// Dir holds the run's results.
	Dir string
	// Variant is the variant run ("" for a scenario without variants).
	Variant string
	// Summary is the run's summary.json.
	Summary *results.Summary
	// RunTime is the wall time of the run itself (the simulation, or the
	// load), without writing files, plots and reports.
	RunTime time.Duration

	sc *scenarios.Scenario // the scenario run
}

// job is one scenario to run into one directory.
type job struct {
	name string
	sc   *scenarios.Scenario
	dir  string
}

// jobsOf expands sc into the runs Run would make: one per variant and
// replication, each with its directory under out.
func jobsOf(sc *scenarios.Scenario, out string, only []string) ([]job, error) {
	variants, err := sc.Expand()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, v := range variants {
		names = append(names, v.Variant)
	}
	for _, o := range only {
		if !slices.Contains(names, o) {
			return nil, fmt.Errorf("no variant %q in %s (it has %s)", o, sc.File, strings.Join(names, ", "))
		}
	}
	var jobs []job
	for _, v := range variants {
		if len(only) > 0 && !slices.Contains(only, v.Variant) {
			continue
		}
		dir := out
		if v.Variant != "" {
			dir = filepath.Join(out, v.Variant)
		}
		reps := max(v.Replications, 1)
		for k := 0; k < reps; k++ {
			j := job{name: v.Variant, sc: v, dir: dir}
			if reps > 1 {
				c := *v
				c.Seed = v.Seed + uint64(k)
				j.sc = &c
				j.dir = filepath.Join(dir, fmt.Sprintf("rep-%d", k+1))
				j.name = filepath.Join(v.Variant, fmt.Sprintf("rep-%d", k+1))
			}
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// Run runs every variant (and replication) of sc and returns their
// results in plan order, then draws the plots and report.html of every
// run and, with variants, the comparison. A failed run does not stop the
// others; their errors are joined, and what they measured is kept.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) ([]Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	jobs, err := jobsOf(sc, opts.Out, opts.Variants)
	if err != nil {
		return nil, err
	}
	if err := Check(jobs, opts); err != nil {
		return nil, err
	}
	if err := checkOneRun(jobs, opts); err != nil {
		return nil, err
	}
	res, runErr := runJobs(ctx, jobs, opts)
	res = started(res)
	if ctx.Err() != nil && len(res) < len(jobs) {
		runErr = errors.Join(runErr, notStarted(jobs, res, opts.Out))
	}
	judgeErr := judge(res, opts)
	return res, errors.Join(runErr, writeReportsWith(ctx, opts.Out, res, opts.WriteProgress), judgeErr)
}

// notStarted names the runs of jobs a signal stopped before they began:
// they have no results, and nothing else would say they are missing.
func notStarted(jobs []job, res []Result, out string) error {
	var names []string
	for _, j := range jobs {
		name := j.name
		if rel, err := filepath.Rel(out, j.dir); err == nil && rel != "." {
			name = filepath.ToSlash(rel) // variant, or variant/rep-N
		}
		if !slices.ContainsFunc(res, func(r Result) bool { return r.Dir == j.dir }) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("stopped by a signal before %d run(s) began, which have no results: %s", len(names), strings.Join(names, ", "))
}

// CheckScenario is Check for sc's runs (variants picks them, as in Run)
// in mode, without running anything: what `validate` reports.
func CheckScenario(sc *scenarios.Scenario, mode Mode, variants []string, budget plan.Budget) error {
	jobs, err := jobsOf(sc, "", variants)
	if err != nil {
		return &InputError{err}
	}
	return Check(jobs, Options{Mode: mode, Budget: budget})
}

// Check refuses, before anything runs, what the runs would get wrong
// without a word: a --set or variant setting no run uses, and a run
// whose size passes the budget.
func Check(jobs []job, opts Options) error {
	var runs []*scenarios.Scenario
	seen := map[string]bool{}
	for _, j := range jobs {
		if !seen[j.sc.Variant] {
			seen[j.sc.Variant] = true
			runs = append(runs, j.sc)
		}
	}
	if err := scenarios.CheckEffect(runs, opts.Mode); err != nil {
		return err
	}
	if len(opts.Targets) > 0 {
		if err := checkLoadOnly(runs); err != nil {
			return err
		}
	}
	for _, r := range runs {
		if err := scenarios.CheckUpstream(r, opts.Mode); err != nil {
			return err
		}
	}
	for _, r := range runs {
		p, err := plan.Resolve(r)
		if err != nil {
			return &InputError{err}
		}
		if err := p.Estimate().Check(opts.Budget); err != nil {
			return &InputError{fmt.Errorf("%s: %w", r.File, err)}
		}
		if opts.Mode == Real && p.Closed && p.Policy.Condition != policy.None && p.Policy.Action == policy.Shed {
			return &scenarios.Error{File: r.File, Field: "policy.action", Msg: "shed in a real run of the closed process" + inVariant(r) +
				": hey reports status codes only, so a shed 503 would count as a full queue's; simulate it, or use an open process"}
		}
	}
	return nil
}

// inVariant names r's variant for an error, "" for a scenario without.
func inVariant(r *scenarios.Scenario) string {
	if r.Variant == "" {
		return ""
	}
	return " (variant " + r.Variant + ")"
}

// writeReportsWith draws the figures and report.html of one scenario's
// results directory, with the comparison of its variants, reporting each
// file written. Once ctx is done no more figures are started: a stopped run keeps what
// it measured (the summaries and CSVs are written first), and `redirlab
// plot` draws the rest later.
func writeReportsWith(ctx context.Context, out string, res []Result, progress func(report.Progress)) error {
	var runs []plots.Run
	seen := map[string]bool{}
	for _, r := range res {
		if r.Variant == "" || seen[r.Variant] {
			continue
		}
		seen[r.Variant] = true
		runs = append(runs, plots.Run{Name: r.Variant, Dir: filepath.Join(out, r.Variant)})
	}
	// With variants, the comparison is of runs in plan order.
	err := report.WriteWith(out, report.Options{Runs: runs, Progress: progress, Stop: ctx.Done()})
	if errors.Is(err, report.ErrStopped) {
		return fmt.Errorf("stopped by a signal: the figures and report.html were left out; draw them with redirlab plot %s: %w", out, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// runJobs runs jobs, at most opts.Parallel at a time.
func runJobs(ctx context.Context, jobs []job, opts Options) ([]Result, error) {
	out := make([]Result, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		if ctx.Err() != nil {
			// Stopped: runs that never started have no results at all.
			<-sem
			wg.Done()
			continue
		}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sum, took, err := runOne(ctx, j, opts)
			out[i] = Result{Name: j.name, Variant: j.sc.Variant, Dir: j.dir, Summary: sum, RunTime: took, sc: j.sc}
			if errors.Is(err, context.Canceled) {
				err = fmt.Errorf("stopped by a signal; what was measured is written, marked partial: %w", err)
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", nameOr(j.name, j.sc.Name), err)
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// started leaves out the runs a stop kept from starting.
func started(res []Result) []Result {
	var out []Result
	for _, r := range res {
		if r.sc != nil {
			out = append(out, r)
		}
	}
	return out
}

func nameOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// runOne runs one scenario into one directory. The recorder is always
// closed, so whatever was measured before a failure is kept.
func runOne(ctx context.Context, j job, opts Options) (*results.Summary, time.Duration, error) {
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return nil, 0, err
	}
	rec, err := results.NewRecorder(j.sc, opts.Mode, results.Options{Dir: j.dir, NoRecords: opts.NoRecords})
	if err != nil {
		return nil, 0, err
	}
	for _, n := range Notes(j.sc, opts.Mode) {
		rec.Note(n)
	}
	if opts.Shard.Sharded() {
		of := results.ShardArrivals
		if opts.sweep {
			of = results.ShardSweepPoints
		}
		rec.Describe(results.RunInfo{Shard: &results.Shard{Index: opts.Shard.Index, Count: opts.Shard.Count, Of: of}})
	}
	stop := startProgress(ctx, j, rec, opts)
	start := time.Now()
	var zero time.Time // the load's time zero, when opts.Start gave one
	var runErr error
	switch opts.Mode {
	case Sim:
		runErr = sim.Run(ctx, j.sc, rec)
	case Real:
		if len(opts.Targets) > 0 {
			rec.Note("load only: the servers ran elsewhere, so servers.csv and per-server figures are empty")
			runErr = runLoad(ctx, j.sc, opts, rec, &zero)
		} else {
			runErr = runReal(ctx, j.sc, rec, j.dir, opts.NoRecords)
		}
	}
	took := time.Since(start)
	stop()
	if ctx.Err() != nil && opts.Mode == Real {
		// Real time: the run stopped now (the simulator marks its own
		// virtual time), counted from its time zero when it was given one.
		at := took
		if !zero.IsZero() {
			at = time.Since(zero)
		}
		rec.Interrupt(at)
	}
	sum, closeErr := rec.Close()
	return sum, took, errors.Join(runErr, closeErr)
}

// runLoad drives servers already running, from the time zero opts.Start
// gives, if any (set into zero).
func runLoad(ctx context.Context, sc *scenarios.Scenario, opts Options, rec *results.Recorder, zero *time.Time) error {
	lo := loadgen.Options{}
	if !opts.sweep {
		lo.Shard = opts.Shard
	}
	if opts.Start != nil {
		at, info, err := opts.Start(ctx, sc)
		if err != nil {
			why := err.Error()
			if ctx.Err() != nil {
				why = "stopped while waiting for its time zero"
			}
			rec.NotStarted(why)
			return err
		}
		if math.Abs(info.ClockOffsetMS) > ClockOffsetNote {
			rec.Note(fmt.Sprintf("this host's clock is %.1f ms %s the manager's (measured within ±%.1f ms): its time zero was converted by that offset, but its other clock readings are its own",
				math.Abs(info.ClockOffsetMS), map[bool]string{true: "behind", false: "ahead of"}[info.ClockOffsetMS > 0], info.RTTMS/2))
		}
		lo.Start, *zero = at, at
		lo.Ready = func(late time.Duration) {
			info.LateMS = float64(late.Microseconds()) / 1e3
			rec.Describe(results.RunInfo{Start: &info})
			if late > LateStart {
				rec.Note(fmt.Sprintf("started %.1f ms after the time zero %s: its first arrivals were sent late (see send_lag_ms)", info.LateMS, info.At))
			}
		}
	}
	return loadgen.Run(ctx, sc, opts.Targets, rec, lo)
}

// ClockOffsetNote is the clock offset from the manager, in
// milliseconds, beyond which a summary says so.
const ClockOffsetNote = 10.0

// LateStart is how late a generator may be for its time zero before its
// summary says so: a few arrivals at most at the rates it keeps up with.
const LateStart = time.Millisecond

// runReal starts the cluster, samples its servers, and drives it with
// the load generator.
func runReal(ctx context.Context, sc *scenarios.Scenario, rec *results.Recorder, dir string, noRecords bool) (err error) {
	if sc.Interval() == 0 {
		rec.Note(fmt.Sprintf("manager.report_interval 0 (an exact view) exists only in simulation: this real run reported every %v", plan.RealExactInterval))
	}
	cl, err := server.NewCluster(sc, server.ClusterOptions{Front: redirect.ClusterFront})
	if err != nil {
		return err
	}
	if sc.HasUpstream() {
		// The fronts stream backend.csv, finished once the load has
		// stopped; without records they keep none.
		var bw *results.BackendWriter
		if !noRecords {
			var names []string
			for _, in := range sc.Instances() {
				names = append(names, in.Name)
			}
			if bw, err = results.NewBackendWriter(dir, names); err != nil {
				cl.Close()
				return err
			}
			defer func() { err = errors.Join(err, bw.Close()) }()
		}
		for i := range sc.Instances() {
			if f, ok := cl.Front(i).(*redirect.Front); ok {
				if bw != nil {
					f.StreamRecords(bw)
				} else {
					f.KeepRecords(false)
				}
			}
		}
	}
	if err := cl.Start(ctx); err != nil {
		return err
	}
	defer cl.Close()
	start := cl.RunStart()

	sampleCtx, stopSampling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(sc.SampleInterval)
		defer t.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
				// The time of the call, not the tick's: a late tick must
				// not count its lateness as part of the interval.
				for _, s := range cl.Sample(time.Since(start)) {
					rec.AddSample(&s)
				}
			}
		}
	}()
	// One time zero for arrivals, faults and samples: the cluster's start.
	err = loadgen.Run(ctx, sc, cl.URLs(), rec, loadgen.Options{Start: start})
	stopSampling()
	wg.Wait()
	return err
}

// startProgress reports live figures about once a second until stopped.
func startProgress(ctx context.Context, j job, rec *results.Recorder, opts Options) (stop func()) {
	if opts.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				p := rec.Snapshot()
				opts.Progress(Progress{Run: nameOr(j.name, j.sc.Name), Elapsed: p.Elapsed, Total: j.sc.Warmup + j.sc.Duration, Progress: p})
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
