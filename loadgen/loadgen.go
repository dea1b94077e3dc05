// Package loadgen drives real servers with synthetic browser traffic over
// HTTP and records one results.Request per scheduled page request.
//
// # Open loop
//
// constant, poisson, ramp, steps, mmpp and trace are paced by redirlab
// itself. Session start times come from loadgen/arrival with the random
// stream (sc.Seed, 1), the schedule the simulator uses. One pacer goroutine
// sleeps until each page request is due (on a Go timer and, on Linux, a
// timerfd, because Go timers alone fire up to 1 ms late; see Options.Spin)
// and hands it to a pool of worker goroutines, grown on demand up to
// workload.max_in_flight; with that many in flight the request is
// recorded as Rejected by the client (status 0, no hop), never dropped. Each request is sent at its time whatever the
// state of earlier ones, and latency counts from the scheduled time, so a
// stalled server cannot hide its own latency (no coordinated omission).
// Sent is when the request got its connection and is written on it;
// Sent − Scheduled is the generator's own lateness (send_lag_ms in
// summary.json).
//
// Browsers follow redirects by hand (up to workload.max_redirects, beyond
// which the request is an Error) and record every hop: server (by the
// X-Redirlab-Server header, else by the host), status and time. 2xx is
// Completed, 503 Rejected, anything else or a transport error Error, and no
// final answer within workload.timeout of the scheduled time Timeout,
// recorded at the timeout. A session is Pages page requests; after a
// completed page its Objects embedded objects (/object/0 .. /object/n-1)
// are fetched from the server that served it, up to 6 at once over
// kept-alive connections; the next page is scheduled Think after the page
// (and its objects) ended. A session goes on whatever its pages' outcomes,
// so the offered load does not depend on the servers, and ends at the
// horizon (warmup + duration): later pages are not scheduled. Sessions are
// spread over Transport.Pools connection pools (keep-alive per host like a
// browser). A pool is redirlab's own HTTP/1.1 client (wire.go): a request
// is written and its answer read (by http.ReadResponse) on the worker's
// goroutine, which costs half the CPU of http.Transport's two goroutines
// per connection; connections are dialed for waiting requests, at most 8
// at a time per host, and a waiting request takes the first one ready.
//
// The first server of a page request is chosen by workload.dispatch:
// random, round-robin, weighted (by group weight), or the ideal front ends
// jsq and p2c, which compare the generator's own outstanding page requests
// per server. Dispatch is package dispatch, the simulator's too, drawing
// from the stream (sc.Seed, 2): for the same loads a run and its
// simulation pick the same servers.
//
// # Closed loop
//
// process: closed runs on github.com/rakyll/hey/requester v0.1.5:
// Arrival.Concurrency browsers that each wait for their answer, for
// Arrival.Requests requests or, if 0, for warmup + duration. hey's pitfalls
// are handled here: its report is read through Output templates built on
// its jsonify into a buffer (never stdout); every Work is fresh and has
// Request set; Stop is called only after Init and at most once; hey's N is
// rounded down to a multiple of C, so the remainder runs in a further Work
// with fewer browsers and exactly Requests requests are made; hey's QPS
// (per worker) is not used; failed requests, which hey leaves out of its
// latencies, are counted from its error distribution and recorded (at the
// end of their Work, since hey does not time them); long runs are split
// into Works of at most 200,000 requests, so that hey's per-request
// slices stay bounded and every request keeps its latency (hey stops
// timing after 1,000,000). hey keeps its keep-alive connections open
// forever; they are closed after each Work (see connSet). hey follows
// redirects silently and hides which server answered (First and Final are
// -1 with several targets), so redirect figures come from the servers' own
// counters read before and after, and the summary says so in a note. hey's
// timeout is whole seconds: workload.timeout is rounded up. jsq and p2c
// need each request's completion, which hey does not expose: they are
// refused in closed mode.
//
// # Several generators
//
// Options.Shard runs one of n disjoint shares of the open-loop schedule
// (see Shard: drawn whole, split by arrival after). Options.Start is the
// time zero several generators share; before it the open loop opens the
// connections its first second needs (prewarm.go) and tells
// Options.Ready how late it is ready. The summary counts the connections
// opened before and during the run.
//
// # Layering
//
// The dispatcher and classify are pure; the pacer is the single goroutine
// that owns the schedule; browsers and workers are the goroutine + HTTP
// wrapper around them. Options.Clock times the schedule and the records;
// request deadlines are connection deadlines and so on the wall clock.
package loadgen

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// Clock is the source of time of a run. Tests inject a fake one; the
// default reads the wall clock (monotonic).
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// NewTimer starts a timer that fires once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the pacer uses.
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; see time.Timer.Stop.
	Stop() bool
	// Reset restarts the timer to fire after d; see time.Timer.Reset.
	Reset(d time.Duration) bool
}

type wallClock struct{}

func (wallClock) Now() time.Time                 { return time.Now() }
func (wallClock) NewTimer(d time.Duration) Timer { return wallTimer{time.NewTimer(d)} }

type wallTimer struct{ t *time.Timer }

func (w wallTimer) C() <-chan time.Time        { return w.t.C }
func (w wallTimer) Stop() bool                 { return w.t.Stop() }
func (w wallTimer) Reset(d time.Duration) bool { return w.t.Reset(d) }

// WallClock is the default Clock.
var WallClock Clock = wallClock{}

// Progress is what the progress callback sees.
type Progress struct {
	// Elapsed is the time since run start; Total is warmup + duration
	// (the arrival horizon). Elapsed may exceed Total while the last
	// requests drain.
	Elapsed, Total time.Duration
	// Scheduled counts page requests whose time has come (sent or
	// rejected by the client).
	Scheduled int64
	// InFlight is page requests sent and not yet recorded.
	InFlight int64
	// ClientRejected counts requests rejected because MaxInFlight was
	// reached.
	ClientRejected int64
}

// Transport holds the HTTP settings of the browsers. Zero values take the
// defaults filled by validate.
type Transport struct {
	// Pools is the number of independent connection pools the browsers
	// are spread over; sessions stick to one pool. Several
	// pools avoid one lock for all requests. Default 2 × GOMAXPROCS, at
	// least 4.
	Pools int
	// MaxIdleConnsPerHost is the idle keep-alive connections each pool
	// keeps per server. Default MaxInFlight / Pools + 6 (so that every
	// in-flight request and its objects can return its connection).
	MaxIdleConnsPerHost int
	// MaxConnsPerHost bounds each pool's connections to one server; a
	// request beyond it waits for a connection, and the wait counts in its
	// send lag (Sent is when a request gets its connection). 0, the
	// default, means no bound, as for a crowd of browsers, so that a slow
	// server, not the client, holds the queue. Either way at most 8
	// connections to a server are being set up at once per pool, so that
	// a burst of requests does not overflow the server's accept backlog.
	MaxConnsPerHost int
	// IdleConnTimeout closes idle connections after this long. Default 30s.
	IdleConnTimeout time.Duration
	// DialTimeout bounds connection setup. Default 5s (the workload
	// timeout still bounds the whole request).
	DialTimeout time.Duration
	// DisableKeepAlives opens a connection per request (for experiments;
	// browsers keep connections alive).
	DisableKeepAlives bool
	// TLSClientConfig is used for https targets. Default: the system's
	// roots, the server name from the URL.
	TLSClientConfig *tls.Config
}

// Options tune a run. The zero value is ready to use.
type Options struct {
	// Clock is the time source. Default WallClock.
	Clock Clock
	// Start is the run's time zero, so that arrival times share one
	// clock with the cluster's fault times and server samples (redirlab
	// run passes the cluster's start). Zero: when Run begins.
	Start time.Time
	// Ready, if set, is called once the generator is ready to send its
	// first request (its connections opened), with how late that is for
	// Start (0 when early: it then waits for its arrivals' times).
	Ready func(late time.Duration)
	// Progress, if set, is called every ProgressInterval from its own
	// goroutine while the run lasts, and once at the end.
	Progress func(Progress)
	// ProgressInterval is how often Progress is called. Default 1s.
	ProgressInterval time.Duration
	// MaxInFlight overrides the scenario's workload.max_in_flight when > 0.
	MaxInFlight int
	// Transport holds the browsers' HTTP settings.
	Transport Transport
	// Spin is how long before a due time the pacer stops sleeping and
	// yields in a loop. Go timers fire up to 1 ms late when the process
	// is idle (measured here: a 100µs timer 1.0 ms late at p50, 1.7 ms at
	// p99: the netpoller waits in whole milliseconds), so on Linux the
	// pacer also arms a timerfd, whose firing ends that wait at once, and
	// spins only the last 50µs (the default: waking takes tens of
	// microseconds even so), or a quarter of the mean gap between
	// requests if that is less, so that at high rates the spin does not
	// take a core from the workers and servers; above about 16,000/s
	// responses keep waking the runtime, and it uses Go timers alone
	// without spin (see alarmMinGap). Elsewhere it uses Go timers
	// until 2 ms (the default there) before a due time and then spins,
	// which keeps a core busy at high rates.
	Spin time.Duration
	// NoSpin makes the pacer wait on Clock timers only, with neither
	// timerfd nor spin (for a fake Clock that moves only while the pacer
	// sleeps).
	NoSpin bool
	// GCPercent is the garbage collector's GOGC while Run lasts (restored
	// after; runs that overlap share the highest). A generator allocates
	// several kilobytes per request with a small live heap, so under the
	// default of 100 it collects many times a second, and each collection
	// takes a share of the CPUs from the pacer and workers for a while.
	// Default 800 (about 8 times fewer collections, heap up to 9 times
	// the live data); -1 leaves the setting alone.
	GCPercent int
	// NoPrewarm sends the first requests on connections opened as they
	// come, not ahead of the first arrival (for measuring what prewarming
	// spares).
	NoPrewarm bool
	// Shard runs one share of the arrivals (see Shard). Zero: all.
	Shard Shard
	// ServerCounters reads a server's own redirect counter (closed loop:
	// hey hides hops, so redirect figures come from the servers). Default
	// RedirectCounter, which reads /metrics and falls back to /status.
	ServerCounters func(ctx context.Context, baseURL string) (int64, error)
}

// maxPacerSpin bounds Spin: spinning burns a core.
const maxPacerSpin = 5 * time.Millisecond

// validate fills defaults and checks o against the workload.
func (o *Options) validate(p *plan.Plan) error {
	if o.Clock == nil {
		o.Clock = WallClock
	}
	if o.ProgressInterval < 0 {
		return fmt.Errorf("loadgen options: ProgressInterval must not be negative, got %v", o.ProgressInterval)
	}
	o.ProgressInterval = cmp.Or(o.ProgressInterval, time.Second)
	if o.MaxInFlight < 0 {
		return fmt.Errorf("loadgen options: MaxInFlight must not be negative, got %d", o.MaxInFlight)
	}
	o.MaxInFlight = cmp.Or(o.MaxInFlight, p.MaxInFlight)
	if o.MaxInFlight <= 0 {
		return fmt.Errorf("workload.max_in_flight: must be at least 1, got %d", o.MaxInFlight)
	}
	if o.Spin < 0 || o.Spin > maxPacerSpin {
		return fmt.Errorf("loadgen options: Spin must be within [0, %v], got %v", maxPacerSpin, o.Spin)
	}
	// Spin 0 is resolved by the pacer, which knows whether it has a
	// timerfd.
	if o.GCPercent < -1 {
		return fmt.Errorf("loadgen options: GCPercent must be -1 (unchanged) or at least 0, got %d", o.GCPercent)
	}
	o.GCPercent = cmp.Or(o.GCPercent, 800)
	t := &o.Transport
	if t.Pools < 0 || t.MaxIdleConnsPerHost < 0 || t.MaxConnsPerHost < 0 || t.IdleConnTimeout < 0 || t.DialTimeout < 0 {
		return fmt.Errorf("loadgen options: Transport settings must not be negative: %+v", *t)
	}
	t.Pools = cmp.Or(t.Pools, max(4, 2*runtime.GOMAXPROCS(0)))
	t.MaxIdleConnsPerHost = cmp.Or(t.MaxIdleConnsPerHost, o.MaxInFlight/t.Pools+6)
	t.IdleConnTimeout = cmp.Or(t.IdleConnTimeout, 30*time.Second)
	t.DialTimeout = cmp.Or(t.DialTimeout, 5*time.Second)
	if o.ServerCounters == nil {
		o.ServerCounters = RedirectCounter
	}
	if err := o.Shard.validate(); err != nil {
		return fmt.Errorf("--shard %w", err)
	}
	return CheckShard(o.Shard, p)
}

// ready tells Ready how late the generator is for Start.
func (o *Options) ready() {
	if o.Ready == nil {
		return
	}
	var late time.Duration
	if !o.Start.IsZero() {
		late = max(o.Clock.Now().Sub(o.Start), 0)
	}
	o.Ready(late)
}

// sink is where records go: *results.Recorder, or a test's collector.
// The load generator adds no server samples.
type sink = results.Sink

// Run drives the servers at targets (targets[i] is the base URL of server
// index i, such as http://127.0.0.1:8081) with sc's workload and adds one
// record per scheduled page request to rec. It returns when the schedule is
// done and every request sent has been recorded (each bounded by
// workload.timeout), or when ctx is cancelled (requests in flight are then
// recorded as errors and ctx.Err() is returned). It does not close rec.
func Run(ctx context.Context, sc *scenarios.Scenario, targets []string, rec *results.Recorder, opts Options) error {
	if rec == nil {
		return errors.New("loadgen: nil recorder")
	}
	return run(ctx, sc, targets, rec, opts)
}

func run(ctx context.Context, sc *scenarios.Scenario, targets []string, rec sink, opts Options) error {
	if sc == nil {
		return errors.New("loadgen: nil scenario")
	}
	p, err := plan.Resolve(sc)
	if err != nil {
		return err
	}
	if p.Timeout <= 0 {
		// A real browser needs a timeout.
		return fmt.Errorf("workload.timeout: must be > 0, got %v", p.Timeout)
	}
	bases, err := parseTargets(targets)
	if err != nil {
		return err
	}
	if err := opts.validate(p); err != nil {
		return err
	}
	if opts.GCPercent > 0 {
		defer tuneGC(opts.GCPercent)()
	}
	if p.Closed {
		// hey starts its browsers at once: wait for the time zero here.
		if d := opts.Start.Sub(opts.Clock.Now()); !opts.Start.IsZero() && d > 0 && !sleep(ctx, opts.Clock, d) {
			return ctx.Err()
		}
		opts.ready()
		return runClosed(ctx, p, bases, rec, &opts)
	}
	return runOpen(ctx, p, bases, rec, &opts)
}

// sleep waits d on clock, or until ctx is done; it reports whether d
// passed.
func sleep(ctx context.Context, clock Clock, d time.Duration) bool {
	t := clock.NewTimer(d)
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// runStart is the run's time zero: Start, or now when it is zero.
func (o *Options) runStart() time.Time {
	if o.Start.IsZero() {
		return o.Clock.Now()
	}
	return o.Start
}

// parseTargets checks that every target is an absolute http(s) base URL.
func parseTargets(targets []string) ([]*url.URL, error) {
	if len(targets) == 0 {
		return nil, errors.New("loadgen: no targets: give the base URL of every server")
	}
	out := make([]*url.URL, len(targets))
	for i, t := range targets {
		u, err := url.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("target %d (%q): %v", i, t, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("target %d (%q): want an absolute http:// or https:// URL", i, t)
		}
		out[i] = u
	}
	return out, nil
}

// gcTuning is the GOGC set for the runs in progress and the setting to
// restore when the last one ends.
var gcTuning struct {
	sync.Mutex
	runs     int
	previous int
}

// tuneGC sets GOGC to percent (the highest asked for by overlapping runs)
// and returns the function that undoes it.
func tuneGC(percent int) (restore func()) {
	gcTuning.Lock()
	defer gcTuning.Unlock()
	prev := debug.SetGCPercent(percent)
	if gcTuning.runs == 0 {
		gcTuning.previous = prev
	} else if prev > percent {
		debug.SetGCPercent(prev)
	}
	gcTuning.runs++
	return func() {
		gcTuning.Lock()
		defer gcTuning.Unlock()
		if gcTuning.runs--; gcTuning.runs == 0 {
			debug.SetGCPercent(gcTuning.previous)
		}
	}
}
