// Package redirect puts redirlab's queue, redirect policy and agent in
// front of any net/http handler. Wrapped, the handler becomes one server
// of a scenario: each request waits in a bounded FIFO queue for one of
// the server's workers, the handler's run is its service, and when the
// scenario's condition holds a page request is answered with a redirect
// to a peer instead (the same policy.Decide, hop counter and
// X-Redirlab-Server header as redirlab's own servers). The agent reports
// the queue to a redirlab manager and brings back the view peers are
// chosen from. Queue length and queue delay are measured, not modelled:
// the model's server holds each request's worker until its handler
// returns (model.Server.ArriveHeldPage).
//
// Front is the same middleware around a reverse proxy: a scenario server
// with an upstream.
package redirect

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

// Config configures a Middleware.
type Config struct {
	// Scenario names the servers, the policy and the manager's timings;
	// the middleware is one of its servers, whose group must say
	// service: {dist: const} (the handler's run is the service) unless it
	// is a front (upstream). Required.
	Scenario *scenarios.Scenario
	// Server is the middleware's instance name in Scenario, such as
	// "web-2". Required.
	Server string
	// Advertise is the base URL (scheme://host:port) browsers reach the
	// wrapped server at: peers redirect there and the agent registers it.
	// Required with a ManagerURL.
	Advertise string
	// ManagerURL is the manager's base URL. "" runs without an agent:
	// the middleware queues, and without a view it never redirects.
	ManagerURL string
	// Token is the manager's bearer token, sent with every report.
	Token string
	// Peers are base URLs by server index that win over the manager's
	// view; "" or a missing entry is learnt from the view.
	Peers []string
	// Clock reads the time. Default time.Now.
	Clock func() time.Time
	// RunStart is when the run started; statuses and samples count from
	// it. Default: when New is called.
	RunStart time.Time
	// Client is the agent's HTTP client. Default: a client with a timeout
	// of max(4 × report interval, 250ms).
	Client *http.Client
	// MaxBackoff caps the agent's retry backoff. Default 1s.
	MaxBackoff time.Duration
	// Observe, when set, is told of every service once the wrapped
	// handler has returned, from the request's goroutine, with no lock
	// held; r is the request as the middleware received it.
	Observe func(r *http.Request, s Service)
}

// Service is one run of the wrapped handler: a request's service.
type Service struct {
	// Start is when the request got its worker, since the run start;
	// Took is how long it held it: the handler's run, and before it the
	// wake-up of a request that waited.
	Start, Took time.Duration
	// Page is true for a page request (GET or HEAD of the scenario's
	// page path), false for anything else.
	Page bool
	// Demand is the request's id (redirlab_req) and part (0 for the
	// page, k+1 for /object/k); Demand.OK is false without an id.
	Demand model.Demand
	// Status is the status the handler answered (200 when it wrote a
	// body without one, 0 when it wrote nothing at all).
	Status int
	// Aborted: the handler panicked (a proxy aborting an answer it could
	// not finish); the browser got a broken answer.
	Aborted bool
}

// validate fills the defaults and checks cfg; it returns the plan and
// the server's index.
func (c *Config) validate() (*plan.Plan, int, error) {
	if c.Scenario == nil {
		return nil, 0, errors.New("redirect: no scenario")
	}
	if c.Server == "" {
		return nil, 0, errors.New("redirect: no server name: which of the scenario's servers this is")
	}
	i, ok := c.Scenario.Lookup(c.Server)
	if !ok {
		return nil, 0, fmt.Errorf("redirect: no server %q in scenario %s", c.Server, c.Scenario.Name)
	}
	p, err := plan.Resolve(c.Scenario)
	if err != nil {
		return nil, 0, err
	}
	// The handler's run is the service: a distribution that says
	// otherwise would be a setting without effect.
	g := c.Scenario.Instances()[i].Group
	for _, sv := range []struct {
		field string
		s     scenarios.Service
	}{{"service", g.Service}, {"object_service", g.ObjectService}} {
		if (sv.s.Dist != "" && sv.s.Dist != "const") || sv.s.Mean != 0 {
			return nil, 0, fmt.Errorf("redirect: server %s: %s is %s: the wrapped handler's run is the service, so write %s: {dist: const}", c.Server, sv.field, sv.s.Dist, sv.field)
		}
	}
	if c.Scenario.Policy.Estimator == "predicted" {
		return nil, 0, fmt.Errorf("redirect: server %s: policy.estimator predicted multiplies by a configured mean service time, and the handler has none; use hol or ewma", c.Server)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.RunStart.IsZero() {
		c.RunStart = c.Clock()
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Second
	}
	if c.ManagerURL != "" {
		if c.ManagerURL, err = server.NormalizeBaseURL(c.ManagerURL); err != nil {
			return nil, 0, fmt.Errorf("redirect %s: manager: %v", c.Server, err)
		}
		if c.Advertise == "" {
			return nil, 0, fmt.Errorf("redirect %s: an agent needs the URL peers redirect to (Advertise)", c.Server)
		}
	}
	if c.Advertise != "" {
		if c.Advertise, err = server.NormalizeBaseURL(c.Advertise); err != nil {
			return nil, 0, fmt.Errorf("redirect %s: advertise: %v", c.Server, err)
		}
	}
	if len(c.Peers) > len(p.Servers) {
		return nil, 0, fmt.Errorf("redirect %s: %d peer URLs for %d servers", c.Server, len(c.Peers), len(p.Servers))
	}
	peers := make([]string, len(p.Servers))
	for k, u := range c.Peers {
		if u == "" {
			continue
		}
		if peers[k], err = server.NormalizeBaseURL(u); err != nil {
			return nil, 0, fmt.Errorf("redirect %s: peer %d: %v", c.Server, k, err)
		}
	}
	c.Peers = peers
	return p, i, nil
}

// Middleware is one scenario server around a handler. Serve it with
// ServeHTTP; Start starts its agent, Close stops it.
type Middleware struct {
	cfg      Config
	shared   string // the scenario's SharedDigest, sent in every report
	next     http.Handler
	name     string
	index    int
	pagePath string
	status   int
	interval time.Duration
	hdrName  []string

	// mu guards everything below; it is held for state transitions only,
	// never across a service.
	mu     sync.Mutex
	m      *model.Server[*ticket]
	view   model.ViewHolder
	static []string
	urls   []string
	last   model.Counters
	loss   float64
	agent  *server.Agent
	stopAg func() // ends the agent (Agent.Start); nil while none runs
}

// ticket is one admitted request: in the model's queue while it waits, a
// worker's while in service.
type ticket struct {
	// ch receives once when a worker passes to the waiting request.
	ch    chan struct{}
	epoch uint64
	end   time.Duration
	// start is when the request got its worker: its service counts from
	// then, its goroutine's wake-up included, as the worker is held.
	start time.Duration
	page  bool
	// gone: the client left while the request waited; a worker passed
	// to it is passed on at once.
	gone bool
}

// New validates cfg and wraps next.
func New(cfg Config, next http.Handler) (*Middleware, error) {
	if next == nil {
		return nil, errors.New("redirect: no handler to wrap")
	}
	cfg.Peers = append([]string(nil), cfg.Peers...)
	p, i, err := cfg.validate()
	if err != nil {
		return nil, &server.ConfigError{Err: err}
	}
	shared, err := cfg.Scenario.SharedDigest()
	if err != nil {
		return nil, err
	}
	mw := &Middleware{
		cfg:      cfg,
		shared:   shared,
		next:     next,
		name:     p.Servers[i].Name,
		index:    i,
		pagePath: server.CleanPath(p.PagePath),
		status:   p.RedirectStatus,
		interval: p.Manager.RealInterval,
		hdrName:  []string{p.Servers[i].Name},
		m:        model.NewServer[*ticket](p.ServerConfig(i, p.PolicyStream(i))),
		static:   cfg.Peers,
		urls:     append([]string(nil), cfg.Peers...),
	}
	mw.view.TTL = p.Manager.ViewTTL
	if cfg.Advertise != "" {
		mw.static[i], mw.urls[i] = cfg.Advertise, cfg.Advertise
	}
	return mw, nil
}

// Name is the server's instance name.
func (mw *Middleware) Name() string { return mw.name }

// Index is the server's index in the scenario.
func (mw *Middleware) Index() int { return mw.index }

func (mw *Middleware) now() time.Duration { return mw.cfg.Clock().Sub(mw.cfg.RunStart) }

// isPage reports whether a cleaned path is under the page path, the
// requests the policy may redirect.
func (mw *Middleware) isPage(p string) bool {
	return p == mw.pagePath || mw.pagePath == "/" || (strings.HasPrefix(p, mw.pagePath) && p[len(mw.pagePath)] == '/')
}

// ServeHTTP queues the request for a worker, or redirects it, or
// rejects it when the queue is full; with a worker it runs the wrapped
// handler on the request without redirlab's hop counter.
func (mw *Middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()[model.ServerHeader] = mw.hdrName
	cleaned := server.CleanPath(r.URL.Path)
	page := (r.Method == http.MethodGet || r.Method == http.MethodHead) && mw.isPage(cleaned)
	hops := 0
	if page {
		hops = server.ParseHops(r.URL.RawQuery)
	}
	t := &ticket{ch: make(chan struct{}, 1), page: page}
	mw.mu.Lock()
	now := mw.now()
	var a model.Arrival
	if page {
		a = mw.m.ArriveHeldPage(now, hops, t, &mw.view)
	} else {
		a = mw.m.ArriveHeld(now, t)
	}
	var base string
	switch a.Kind {
	case model.Redirected:
		base = mw.urls[a.Target]
	case model.Started, model.Queued:
		t.epoch, t.end, t.start = a.Epoch, a.End, now
	}
	mw.mu.Unlock()

	switch a.Kind {
	case model.Redirected:
		w.Header()["Location"] = []string{string(server.AppendLocation(nil, base, cleaned, r.URL.RawQuery, hops+1))}
		w.WriteHeader(mw.status)
		return
	case model.Rejected, model.Refused:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "queue full", http.StatusServiceUnavailable)
		return
	case model.Shed:
		// policy.action shed: turned away while the condition holds, told
		// apart from a full queue by its header, as the server does.
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set(model.ShedHeader, "1")
		http.Error(w, "shed", http.StatusServiceUnavailable)
		return
	case model.Queued:
		select {
		case <-t.ch:
		case <-r.Context().Done():
			mw.mu.Lock()
			select {
			case <-t.ch:
				// The worker came as the client left: pass it on.
				mw.mu.Unlock()
				mw.finish(t)
			default:
				t.gone = true
				mw.mu.Unlock()
			}
			return
		}
	}
	mw.mu.Lock()
	start := t.start
	mw.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		// Also when the handler panics (a proxy aborting a broken
		// answer): the worker must come back, and the panic go on.
		p := recover()
		took := mw.now() - start
		mw.finish(t)
		if mw.cfg.Observe != nil {
			mw.cfg.Observe(r, Service{Start: start, Took: took, Page: page, Demand: server.ParseDemand(r.URL.RawQuery, cleaned, page), Status: sw.status, Aborted: p != nil})
		}
		if p != nil {
			panic(p)
		}
	}()
	mw.next.ServeHTTP(sw, withoutHop(r))
}

// finish ends t's service and passes its worker to the next waiter that
// is still there.
func (mw *Middleware) finish(t *ticket) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	now := mw.now()
	next, _, ok := mw.m.Finish(now, t.epoch, t.page, t.end, t)
	for ok && next.gone {
		// Its client left while it waited: a service of no time.
		next, _, ok = mw.m.Finish(now, next.epoch, next.page, model.Held, next)
	}
	if ok {
		next.start = now
		// Sent under mu, so a waiter giving up sees it or is skipped.
		next.ch <- struct{}{}
	}
}

// withoutHop is r with redirlab's hop counter taken out of the query and
// no X-Redirlab-Server header: the redirect logic stays out of what the
// wrapped handler sees. The request's id (redirlab_req) stays: it is the
// request's, a backend may use it.
func withoutHop(r *http.Request) *http.Request {
	q := r.URL.RawQuery
	_, hasHeader := r.Header[model.ServerHeader]
	if !strings.Contains(q, "redirlab") && !strings.Contains(q, "%") && !hasHeader {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	var kept []string
	for _, piece := range strings.Split(q, "&") {
		if piece == "" {
			continue
		}
		if key, _, _ := strings.Cut(piece, "="); server.IsHopKey(key) {
			continue
		}
		kept = append(kept, piece)
	}
	u.RawQuery = strings.Join(kept, "&")
	u.ForceQuery = false
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	if hasHeader {
		r2.Header = r.Header.Clone()
		r2.Header.Del(model.ServerHeader)
	}
	return r2
}

// statusWriter remembers the status the handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 || w.status/100 == 1 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath (flushes,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on, for handlers that test for http.Flusher.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Start starts the agent (when there is a manager URL): it registers the
// server and keeps the view fresh until Close.
func (mw *Middleware) Start() error {
	if mw.cfg.ManagerURL == "" {
		return nil
	}
	mw.mu.Lock()
	defer mw.mu.Unlock()
	if mw.stopAg != nil {
		return fmt.Errorf("redirect %s: already started", mw.name)
	}
	if mw.agent == nil {
		client := mw.cfg.Client
		if client == nil {
			client = &http.Client{Timeout: max(4*mw.interval, 250*time.Millisecond)}
		}
		mw.agent = &server.Agent{
			ManagerURL: mw.cfg.ManagerURL,
			Interval:   mw.interval,
			MaxBackoff: mw.cfg.MaxBackoff,
			Client:     client,
			Report:     mw.report,
			Apply:      mw.applyView,
			Rand:       rand.New(rand.NewPCG(mw.cfg.Scenario.Seed, model.StreamAgent+uint64(mw.index))),
			Token:      mw.cfg.Token,
		}
		mw.agent.SetLoss(mw.loss)
	}
	mw.stopAg = mw.agent.Start()
	return nil
}

// Close stops the agent. Requests keep being served (without a fresh
// view the middleware stops redirecting once the view's TTL is past).
func (mw *Middleware) Close() error {
	mw.mu.Lock()
	stop := mw.stopAg
	mw.stopAg = nil
	mw.mu.Unlock()
	if stop != nil {
		stop()
	}
	return nil
}

// Agent is the middleware's agent (nil before Start or without a
// manager).
func (mw *Middleware) Agent() *server.Agent {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	return mw.agent
}

// SetReportLoss makes the agent drop each report with probability p (the
// lost-reports fault); 0 ends it.
func (mw *Middleware) SetReportLoss(p float64) {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	mw.loss = p
	if mw.agent != nil {
		mw.agent.SetLoss(p)
	}
}

// Status is the live status: queue length, waiting, queue delay.
func (mw *Middleware) Status() server.StatusMessage {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	now := mw.now()
	return server.NewStatusMessage(mw.name, mw.m.Status(now), mw.m.InService(now))
}

// report is what the agent sends the manager.
func (mw *Middleware) report() server.ReportMessage {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	now := mw.now()
	return server.ReportMessage{
		Name:   mw.name,
		URL:    mw.urls[mw.index],
		Status: server.NewStatusMessage(mw.name, mw.m.Status(now), mw.m.InService(now)),
		Shared: mw.shared,
	}
}

// applyView installs a view from the manager: only well-formed base URLs
// become redirect targets, and configured peers win.
func (mw *Middleware) applyView(v *server.ViewMessage) {
	pv, viewURLs := v.Policy()
	if len(pv.Servers) != len(mw.urls) {
		return // a manager of another scenario
	}
	urls := make([]string, len(mw.urls))
	for i := range urls {
		if mw.static[i] != "" {
			urls[i] = mw.static[i]
		} else if u, err := server.NormalizeBaseURL(viewURLs[i]); err == nil {
			urls[i] = u
		}
	}
	mw.mu.Lock()
	defer mw.mu.Unlock()
	copy(mw.urls, urls)
	mw.view.Set(mw.now(), pv, mw.urls)
}

// Sample is the middleware's state at run time at, for servers.csv:
// counts and busy time since the previous Sample.
func (mw *Middleware) Sample(at time.Duration) results.ServerSample {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	return mw.m.Sample(at, mw.now(), &mw.last)
}

// Counters are the cumulative counters.
func (mw *Middleware) Counters() model.Counters {
	mw.mu.Lock()
	defer mw.mu.Unlock()
	return mw.m.Counters(mw.now())
}
