package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rakyll/hey/requester"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// heyChunk bounds the requests of one hey Work. hey keeps eight float64
// slices per request (and stops timing after 1,000,000 results), so a
// long closed-loop run is a sequence of fresh Works of at most this many
// requests each; memory stays bounded and every request keeps its latency.
const heyChunk = 200_000

// heyTemplate is hey's Output: only what the records need, through hey's
// own jsonify, written to a buffer (never stdout).
const heyTemplate = `{"num":{{ .NumRes }},"lats":{{ jsonify .Lats }},"offsets":{{ jsonify .Offsets }},` +
	`"codes":{{ jsonify .StatusCodes }},"errors":{{ jsonify .ErrorDist }}}`

// heyReport is heyTemplate decoded. Lats, Offsets and Codes are per
// successful request, in the same order; hey leaves failed requests out
// of them and only counts them in Errors (message -> count).
type heyReport struct {
	Num     int64          `json:"num"`
	Lats    []float64      `json:"lats"`
	Offsets []float64      `json:"offsets"`
	Codes   []int          `json:"codes"`
	Errors  map[string]int `json:"errors"`
}

// connSet remembers the connections hey's private transport hands out, so
// that they can be closed after its run: hey keeps them alive forever
// otherwise, one file descriptor each.
//
// Connections net/http dials but never hands to a request are out of
// reach: that happens when a request waiting for its dial is given a
// connection another request just freed, and the late dial goes to the
// idle pool. The start gate prevents it: the first C requests of a Work
// wait, connection in hand, until all C have one, so every worker owns a
// connection before any is freed, and a closed loop of C workers over C
// connections never dials again (one is always idle when a worker asks).
type connSet struct {
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	untracked bool // hey runs without keep-alive
	gate      *startGate
}

func (s *connSet) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			s.mu.Lock()
			// Without keep-alive hey's transport closes every connection
			// itself; keeping them would only hold memory.
			if !s.untracked {
				if s.conns == nil {
					s.conns = map[net.Conn]struct{}{}
				}
				s.conns[info.Conn] = struct{}{}
			}
			g := s.gate
			s.mu.Unlock()
			if g != nil {
				g.wait()
			}
		},
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				return
			}
			s.mu.Lock()
			g := s.gate
			s.mu.Unlock()
			if g != nil {
				g.release() // a failed dial will not bring its connection
			}
		},
	}
}

// arm installs a gate for the first n connections of the next Work.
func (s *connSet) arm(n int, limit time.Duration) {
	s.mu.Lock()
	s.gate = &startGate{need: n, open: make(chan struct{}), limit: limit}
	s.mu.Unlock()
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		s.gate.release()
	}
	for c := range s.conns {
		c.Close()
	}
	clear(s.conns)
}

// startGate holds the first need arrivals until all have arrived, or
// limit has passed (a server slow to accept must not stall the run).
type startGate struct {
	mu      sync.Mutex
	need    int
	arrived int
	limit   time.Duration
	open    chan struct{}
	opened  bool
}

func (g *startGate) wait() {
	g.mu.Lock()
	if !g.opened {
		g.arrived++
		if g.arrived >= g.need {
			g.opened = true
			close(g.open)
		}
	}
	opened := g.opened
	g.mu.Unlock()
	if opened {
		return
	}
	t := time.NewTimer(g.limit)
	defer t.Stop()
	select {
	case <-g.open:
	case <-t.C:
		g.release()
	}
}

func (g *startGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.opened {
		g.opened = true
		close(g.open)
	}
}

// closedLoop is one closed-loop run on hey.
type closedLoop struct {
	ctx         context.Context
	sc          *scenarios.Scenario
	bases       []*url.URL
	rec         sink
	clock       Clock
	start       time.Time
	timeout     int // hey's timeout, whole seconds
	noKeepAlive bool
	conns       connSet
	mu          sync.Mutex // guards disp (hey calls RequestFunc from C goroutines) and nextID
	disp        *dispatcher
	pages       []*http.Request
	nextID      uint64
	failed      int64 // requests hey reported as errors (no latency)
}

func runClosed(ctx context.Context, p *plan.Plan, bases []*url.URL, rec sink, opts *Options) error {
	if p.Policy.Condition != policy.None && p.Policy.Action == policy.Shed {
		return fmt.Errorf("policy.action: shed answers 503 as a full queue does, told apart by a header that hey does not expose; " +
			"the closed process cannot record shed requests: simulate it, or use an open process")
	}
	policy := p.Dispatch
	if policy == dispatch.JSQ || policy == dispatch.P2C {
		return fmt.Errorf("workload.dispatch: %s needs each request's completion, which hey does not expose; "+
			"the closed process supports random, round-robin and weighted", policy)
	}
	disp, err := newDispatcher(policy, targetWeights(p, len(bases)), p.Stream(model.StreamDispatch))
	if err != nil {
		return err
	}
	c := &closedLoop{
		ctx: ctx, sc: p.Scenario, bases: bases, rec: rec, clock: opts.Clock, disp: disp,
		timeout: int(math.Ceil(p.Timeout.Seconds())), noKeepAlive: opts.Transport.DisableKeepAlives,
	}
	c.conns.untracked = c.noKeepAlive
	for _, u := range bases {
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), c.conns.trace()),
			http.MethodGet, u.ResolveReference(&url.URL{Path: p.PagePath}).String(), nil)
		if err != nil {
			return fmt.Errorf("target %s: %v", u, err)
		}
		c.pages = append(c.pages, req)
	}

	before, beforeErr := c.serverRedirects(opts)
	c.start = opts.runStart()
	stopProgress := c.progress(opts, p.Horizon)
	err = c.loop(p.Concurrency, p.Requests, p.Horizon)
	stopProgress()
	after, afterErr := c.serverRedirects(opts)

	c.note(before, after, errors.Join(beforeErr, afterErr))
	if err != nil {
		return err
	}
	return ctx.Err()
}

// loop runs fresh hey Works until the requests are done (requests > 0) or
// the horizon has passed (requests == 0), or ctx is done.
func (c *closedLoop) loop(concurrency, requests int, horizon time.Duration) error {
	for c.ctx.Err() == nil {
		n, conc := max(heyChunk, concurrency), concurrency
		if requests > 0 {
			left := requests - int(c.nextID) // every request so far has its record
			if left <= 0 {
				return nil
			}
			conc = min(concurrency, left)
			n = min(left, max(heyChunk, conc))
		} else if c.elapsed() >= horizon {
			return nil
		}
		// hey gives each of C workers N/C requests: N is rounded down
		// to a multiple of C. Ask for a multiple and let the next
		// Work (with fewer workers) take the remainder.
		n -= n % conc
		if err := c.work(n, conc, requests == 0, horizon); err != nil {
			return err
		}
	}
	return nil
}

func (c *closedLoop) elapsed() time.Duration { return c.clock.Now().Sub(c.start) }

// work runs one hey Work of n requests by conc workers and records its
// results. With timed set it is stopped at the horizon.
func (c *closedLoop) work(n, conc int, timed bool, horizon time.Duration) error {
	var out bytes.Buffer
	w := &requester.Work{
		Request:     c.pages[0], // hey reads Request.Host even when RequestFunc is set
		RequestFunc: c.request,
		N:           n,
		C:           conc,
		Timeout:     c.timeout,
		// Off by default: browsers keep connections alive. The start gate
		// and closeAll contain hey's pool instead.
		DisableKeepAlives: c.noKeepAlive,
		Output:            heyTemplate,
		Writer:            &out,
	}
	c.conns.arm(conc, time.Second)
	w.Init() // Stop before Init would send on a nil channel and block forever
	var once sync.Once
	stop := func() { once.Do(w.Stop) } // a second Stop would block: its channel holds C signals
	finished := make(chan struct{})
	go func() {
		var deadline <-chan time.Time
		if timed {
			t := c.clock.NewTimer(max(0, horizon-c.elapsed()))
			defer t.Stop()
			deadline = t.C()
		}
		select {
		case <-deadline:
			stop()
		case <-c.ctx.Done():
			stop()
		case <-finished:
		}
	}()
	base := c.elapsed()
	w.Run()
	end := c.elapsed()
	close(finished)
	c.conns.closeAll()

	var rep heyReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return fmt.Errorf("loadgen: reading hey's report: %v (output %.200q)", err, out.String())
	}
	c.record(&rep, base, end)
	return nil
}

// request is hey's RequestFunc: the page on the dispatched server.
func (c *closedLoop) request() *http.Request {
	c.mu.Lock()
	i := c.disp.pick(nil)
	c.mu.Unlock()
	return c.pages[i].Clone(c.pages[i].Context())
}

// record turns hey's report into records. hey times requests from their
// actual send (closed loop: Scheduled == Sent) on its own clock, which
// starts at process start; offsets are re-based on the first request of
// the Work, sent when base was read. Failed requests carry no time in hey:
// they are recorded at the end of the Work.
func (c *closedLoop) record(rep *heyReport, base, end time.Duration) {
	first := -1
	if len(c.bases) == 1 {
		first = 0
	}
	c.mu.Lock() // nextID is read by the progress reporter
	defer c.mu.Unlock()
	origin := math.Inf(1)
	for _, off := range rep.Offsets {
		origin = min(origin, off)
	}
	var r results.Request
	for i, lat := range rep.Lats {
		if i >= len(rep.Offsets) || i >= len(rep.Codes) {
			break
		}
		at := base + seconds(rep.Offsets[i]-origin)
		r = results.Request{
			ID: c.nextID, Scheduled: at, Sent: at, Done: at + seconds(lat),
			Status: rep.Codes[i], Outcome: classify(rep.Codes[i], false), First: first, Final: first,
		}
		c.nextID++
		c.rec.Add(&r)
	}
	for msg, n := range rep.Errors {
		outcome := results.Error
		if strings.Contains(msg, "Client.Timeout") || strings.Contains(msg, "deadline exceeded") {
			outcome = results.Timeout
		}
		for range n {
			r = results.Request{ID: c.nextID, Scheduled: end, Sent: end, Done: end, Outcome: outcome, First: first, Final: -1}
			c.nextID++
			c.failed++
			c.rec.Add(&r)
		}
	}
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }
