package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// Config configures one Server.
type Config struct {
	// Scenario is the validated scenario the server is part of. Required.
	Scenario *scenarios.Scenario
	// Index is the server's instance index in the scenario.
	Index int
	// Listen is the address to listen on. Default "127.0.0.1:0"
	// (loopback, ephemeral port).
	Listen string
	// Advertise is the base URL (scheme://host:port) registered with the
	// manager, where peers redirect to. Default "http://" + the listener's
	// address.
	Advertise string
	// Peers are registered base URLs by server index; "" or a missing
	// entry means "learn it from the manager's view". An entry given
	// here wins over the view.
	Peers []string
	// ManagerURL is the manager's base URL; "" runs without an agent
	// (the server then never has a view, so never redirects unless a view
	// is installed by the caller).
	ManagerURL string
	// Clock reads the time. Default time.Now. Timers (service, reports)
	// use the time package; tests wanting virtual time run in a
	// testing/synctest bubble, with NoAlarm.
	Clock func() time.Time
	// NoAlarm ends services on Go timers alone, without the timerfd
	// alarm that makes them end on time when the process is idle (Go
	// timers are then up to 1 ms late). Required in a testing/synctest
	// bubble: a goroutine waiting on a file descriptor is not durably
	// blocked, so virtual time would stand still. Close such a server
	// before the bubble ends: the goroutine that ends services lingers
	// for a second of idleness otherwise.
	NoAlarm bool
	// RunStart is when the run started; statuses and samples count time
	// from it. Default: the time New is called.
	RunStart time.Time
	// Metrics is where the server's metrics are registered and what its
	// /metrics serves. Default: a fresh registry.
	Metrics *prometheus.Registry
	// AlsoRegister, when set, also receives the server's metrics (for
	// example one registry for a whole cluster); they carry the label
	// server=<name>.
	AlsoRegister prometheus.Registerer
	// Client is the agent's HTTP client. Default: a client with a timeout
	// of max(4 × report interval, 250ms).
	Client *http.Client
	// MaxBackoff caps the agent's retry backoff. Default 1s.
	MaxBackoff time.Duration
	// Token is the manager's bearer token, sent with every report.
	Token string
	// Timeouts bound each client's connection (Write defaults to 60s:
	// an answer waits for its place in the queue and its service).
	Timeouts Timeouts
}

// Server is one real redirecting web server.
type Server struct {
	cfg      Config
	shared   string // the scenario's SharedDigest, sent in every report
	name     string
	index    int
	pagePath string
	redirect int
	interval time.Duration

	pageBody, objectBody []byte
	// Pre-built header values: assigning them to the header map costs no
	// allocation on the hot path.
	hdrName, hdrHTML, hdrOctet, hdrPageLen, hdrObjectLen, hdrNoStore, hdrRetry, hdrShed []string

	metricsHandler http.Handler
	latency        [2]prometheus.Observer // [object, page]

	// mu guards everything below; it is held only for state transitions,
	// never across service or I/O.
	mu   sync.Mutex
	m    *model.Server[*waiter]
	view model.ViewHolder
	// static are the configured peer URLs; urls the effective ones
	// (static, else from the view) by index.
	static, urls []string
	// crashed is closed when the current incarnation crashes.
	crashed chan struct{}
	// ends are the services in progress, for the completer
	// (complete.go), which runs while completing and next looks at
	// wakeAt; kick wakes it sooner.
	ends          endHeap
	completing    bool
	wakeAt        time.Duration
	kick          chan struct{}
	completerDone chan struct{} // closed when the completer ends

	last    model.Counters
	ln      net.Listener
	httpSrv *http.Server
	addr    string
	advert  string
	agent   *Agent
	stopAg  func() // ends the agent (Agent.Start); nil while none runs
	closed  bool
	loss    float64 // the lost-reports probability in force

	locations []atomic.Pointer[location] // by target index

	waiters sync.Pool // *waiter
	bufs    sync.Pool // *[]byte
}

func (c *Config) validate() (*plan.Plan, error) {
	if c.Scenario == nil {
		return nil, errors.New("server: no scenario")
	}
	p, err := plan.Resolve(c.Scenario)
	if err != nil {
		return nil, err // plan's errors name the server or the field
	}
	if c.Index < 0 || c.Index >= len(p.Servers) {
		return nil, fmt.Errorf("server: index %d out of range: the scenario has %d servers", c.Index, len(p.Servers))
	}
	insts := p.Servers
	in := &p.Servers[c.Index]
	c.Listen = cmp.Or(c.Listen, "127.0.0.1:0")
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.RunStart.IsZero() {
		c.RunStart = c.Clock()
	}
	if c.Metrics == nil {
		c.Metrics = prometheus.NewRegistry()
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Second
	}
	c.Timeouts.fill(time.Minute)
	if len(c.Peers) > len(insts) {
		return nil, fmt.Errorf("server %s: %d peer URLs for %d servers", in.Name, len(c.Peers), len(insts))
	}
	for i := range c.Peers {
		if err := normalizeURL(&c.Peers[i]); err != nil {
			return nil, fmt.Errorf("server %s: peer %d: %v", in.Name, i, err)
		}
	}
	if err := normalizeURL(&c.ManagerURL); err != nil {
		return nil, fmt.Errorf("server %s: manager: %v", in.Name, err)
	}
	if err := normalizeURL(&c.Advertise); err != nil {
		return nil, fmt.Errorf("server %s: advertise: %v", in.Name, err)
	}
	return p, nil
}

// normalizeURL replaces *u, unless "" (none given), by its
// NormalizeBaseURL form.
func normalizeURL(u *string) error {
	if *u == "" {
		return nil
	}
	n, err := NormalizeBaseURL(*u)
	if err == nil {
		*u = n
	}
	return err
}

// New validates cfg and builds a server; Start makes it listen.
func New(cfg Config) (*Server, error) {
	cfg.Peers = append([]string(nil), cfg.Peers...)
	p, err := cfg.validate()
	if err != nil {
		return nil, configError(err)
	}
	in := &p.Servers[cfg.Index]
	n := len(p.Servers)
	shared, err := cfg.Scenario.SharedDigest()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:            cfg,
		shared:         shared,
		name:           in.Name,
		index:          cfg.Index,
		pagePath:       CleanPath(p.PagePath),
		redirect:       p.RedirectStatus,
		interval:       p.Manager.RealInterval,
		pageBody:       pageBody(in.Name, in.PageBytes),
		objectBody:     objectBody(in.Name, in.ObjectBytes),
		hdrName:        []string{in.Name},
		hdrHTML:        []string{"text/html; charset=utf-8"},
		hdrOctet:       []string{"application/octet-stream"},
		hdrNoStore:     []string{"no-store"},
		hdrRetry:       []string{"1"},
		hdrShed:        []string{"1"},
		static:         make([]string, n),
		locations:      make([]atomic.Pointer[location], n),
		urls:           make([]string, n),
		crashed:        make(chan struct{}),
		kick:           make(chan struct{}, 1),
		metricsHandler: promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}),
	}
	s.hdrPageLen = []string{strconv.Itoa(len(s.pageBody))}
	s.hdrObjectLen = []string{strconv.Itoa(len(s.objectBody))}
	copy(s.static, cfg.Peers)
	copy(s.urls, cfg.Peers)
	s.m = model.NewServer[*waiter](p.ServerConfig(cfg.Index, p.PolicyStream(cfg.Index)))
	s.view.TTL = p.Manager.ViewTTL
	s.waiters.New = func() any { return &waiter{ch: make(chan time.Duration, 1)} }
	s.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	return s, nil
}

// Name is the instance name.
func (s *Server) Name() string { return s.name }

// Index is the instance index.
func (s *Server) Index() int { return s.index }

// now is the time since the run start.
func (s *Server) now() time.Duration { return s.cfg.Clock().Sub(s.cfg.RunStart) }

// Start listens on the configured address, serves, and starts the agent
// when a manager URL is configured.
func (s *Server) Start() error {
	s.mu.Lock()
	started := s.ln != nil || s.closed
	s.mu.Unlock()
	if started {
		return fmt.Errorf("server %s: already started", s.name)
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server %s: %v", s.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addr = ln.Addr().String()
	s.advert = s.cfg.Advertise
	if s.advert == "" {
		s.advert = AdvertiseURL(ln.Addr(), s.cfg.ManagerURL)
	}
	// A server always knows its own URL.
	s.static[s.index], s.urls[s.index] = s.advert, s.advert
	s.serveLocked(ln)
	return nil
}

// serveLocked starts serving ln, and the agent if there is a manager and
// it is not running yet. s.mu is held.
func (s *Server) serveLocked(ln net.Listener) {
	s.ln = ln
	s.httpSrv = s.cfg.Timeouts.httpServer(s)
	srv := s.httpSrv
	go func() { _ = srv.Serve(ln) }()
	if s.cfg.ManagerURL == "" || s.stopAg != nil {
		return
	}
	if s.agent == nil {
		s.agent = s.newAgent()
	}
	s.stopAg = s.agent.Start()
}

// newAgent builds the server's agent. The agent is the server's companion
// on its host, not part of the server process: it outlives a crash,
// reports the crashed server down (so the manager knows at once rather
// than after manager.expire) and keeps receiving views, as the simulator's
// agents do.
func (s *Server) newAgent() *Agent {
	client := s.cfg.Client
	if client == nil {
		client = &http.Client{Timeout: max(4*s.interval, 250*time.Millisecond)}
	}
	a := &Agent{
		ManagerURL: s.cfg.ManagerURL,
		Interval:   s.interval,
		MaxBackoff: s.cfg.MaxBackoff,
		Client:     client,
		Report:     s.report,
		Apply:      s.applyView,
		Rand:       rand.New(rand.NewPCG(s.cfg.Scenario.Seed, model.StreamAgent+uint64(s.index))),
		Token:      s.cfg.Token,
	}
	a.SetLoss(s.loss)
	return a
}

// URL is the server's advertised base URL (after Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.advert
}

// Addr is the address the server listens on (after Start); a restart
// listens on the same one.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Agent is the server's agent (nil without a manager URL or before Start).
func (s *Server) Agent() *Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agent
}

// Crash takes the server down as a crashed process would go: the listener
// closes, every connection is closed, and requests waiting or in service
// fail. The agent keeps running and reports the server down.
func (s *Server) Crash() {
	s.mu.Lock()
	if !s.m.Up() || s.closed {
		s.mu.Unlock()
		return
	}
	s.m.Crash(s.now())
	close(s.crashed)
	// Their handlers fail on crashed; the completer has nothing to end.
	clear(s.ends)
	s.ends = s.ends[:0]
	if s.completing {
		s.kickLocked()
	}
	srv := s.httpSrv
	s.httpSrv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart brings a crashed server back on the same address with an empty
// queue.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.Up() || s.closed {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("server %s: restart: %v", s.name, err)
	}
	s.m.Restart(s.now())
	s.crashed = make(chan struct{})
	s.serveLocked(ln)
	return nil
}

// Shutdown stops the server gracefully: it stops accepting, lets the
// requests it holds finish (until ctx is done), then closes for good.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	return errors.Join(err, s.Close())
}

// Close stops the server and its agent for good.
func (s *Server) Close() error {
	s.Crash()
	s.mu.Lock()
	s.closed = true
	stop := s.stopAg
	s.stopAg = nil
	var completer chan struct{}
	if s.completing {
		completer = s.completerDone
		s.kickLocked() // it ends once it sees closed
	}
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	if completer != nil {
		<-completer
	}
	return nil
}

// Up reports whether the server is running (not crashed).
func (s *Server) Up() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Up()
}

// SetSlowdown multiplies the service times of requests starting service
// from now on by factor (1 = normal).
func (s *Server) SetSlowdown(factor float64) {
	s.mu.Lock()
	s.m.SetSlowdown(factor)
	s.mu.Unlock()
}

// SetReportLoss makes the agent drop each report with probability p (the
// lost-reports fault); 0 ends it. Set before Start, it applies from the
// agent's first report.
func (s *Server) SetReportLoss(p float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loss = p
	if s.agent != nil {
		s.agent.SetLoss(p)
	}
}

// Status is the server's live status.
func (s *Server) Status() StatusMessage { return s.report().Status }

// report is the agent's view of the server: what to send the manager.
func (s *Server) report() ReportMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	return ReportMessage{
		Name:   s.name,
		URL:    s.advert,
		Status: NewStatusMessage(s.name, s.m.Status(now), s.m.InService(now)),
		Shared: s.shared,
	}
}

// applyView installs a view received from the manager. Peer URLs are
// checked again here: only well-formed base URLs become redirect targets,
// and configured peers win over the view.
func (s *Server) applyView(v *ViewMessage) {
	pv, viewURLs := v.Policy()
	n := len(s.urls)
	if len(pv.Servers) != n {
		// A manager of another scenario: do not act on its view.
		return
	}
	urls := make([]string, n)
	for i := range urls {
		if s.static[i] != "" {
			urls[i] = s.static[i]
		} else if u, err := NormalizeBaseURL(viewURLs[i]); err == nil {
			urls[i] = u
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	copy(s.urls, urls)
	s.view.Set(s.now(), pv, s.urls)
}

// SetView installs a view directly (tests, or a caller without a manager).
func (s *Server) SetView(v *ViewMessage) { s.applyView(v) }

// Sample is the server's own state at run time at, for servers.csv:
// counts and busy time are since the previous Sample. The reported
// figures are left for the caller (they are the manager's).
func (s *Server) Sample(at time.Duration) results.ServerSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Sample(at, s.now(), &s.last)
}

// Counters are the server's cumulative counters.
func (s *Server) Counters() model.Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Counters(s.now())
}

// ServeHTTP routes: /status, /metrics, /object/<k>, pages under the
// workload path; everything else is 404. Every answer names the server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h[model.ServerHeader] = s.hdrName
	p := CleanPath(r.URL.Path)
	if len(r.URL.Path)+len(r.URL.RawQuery) > maxRequestURI {
		http.Error(w, "request URI too long", http.StatusRequestURITooLong)
		return
	}
	switch {
	case p == "/status":
		if onlyGetHead(w, r) {
			s.serveStatus(w)
		}
	case p == "/metrics":
		if onlyGetHead(w, r) {
			s.metricsHandler.ServeHTTP(w, r)
		}
	case strings.HasPrefix(p, "/object/") && len(p) > len("/object/"):
		s.serveQueued(w, r, false, p)
	case p == s.pagePath || s.pagePath == "/" || (strings.HasPrefix(p, s.pagePath) && p[len(s.pagePath)] == '/'):
		s.serveQueued(w, r, true, p)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveStatus(w http.ResponseWriter) {
	st := s.Status()
	writeJSON(w, &st)
}

// serveQueued answers a page (page true) or an embedded object: redirect,
// reject, or wait for a worker, be served, answer.
func (s *Server) serveQueued(w http.ResponseWriter, r *http.Request, page bool, cleaned string) {
	if !onlyGetHead(w, r) {
		return
	}
	hops := 0
	if page {
		hops = ParseHops(r.URL.RawQuery)
	}
	demand := ParseDemand(r.URL.RawQuery, cleaned, page)
	wt := s.waiters.Get().(*waiter)
	wt.page = page
	s.mu.Lock()
	arrived := s.now()
	var a model.Arrival
	if page {
		a = s.m.ArrivePage(arrived, hops, demand, wt, &s.view)
	} else {
		a = s.m.ArriveObject(arrived, demand, wt)
	}
	crashed := s.crashed
	var base string
	done, finished := arrived, false
	switch a.Kind {
	case model.Redirected:
		base = s.urls[a.Target]
	case model.Started:
		if a.End <= arrived {
			// A zero-length service (objects served from memory, const 0)
			// ends as it starts: settle it in the same critical section.
			// A worker was free, so nobody waits for it.
			s.m.Finish(arrived, a.Epoch, page, a.End, wt)
			finished = true
		} else {
			wt.end, wt.epoch = a.End, a.Epoch
			s.inServiceLocked(wt)
		}
	case model.Queued:
		wt.epoch = a.Epoch // its end is known when it gets a worker
	}
	s.mu.Unlock()

	switch a.Kind {
	case model.Redirected:
		s.waiters.Put(wt)
		s.answerRedirect(w, a.Target, base, cleaned, r.URL.RawQuery, hops+1)
		return
	case model.Rejected, model.Shed:
		s.waiters.Put(wt)
		h := w.Header()
		h["Retry-After"] = s.hdrRetry
		h["Cache-Control"] = s.hdrNoStore
		msg := "queue full"
		if a.Kind == model.Shed {
			h[model.ShedHeader] = s.hdrShed
			msg = "shed"
		}
		http.Error(w, msg, http.StatusServiceUnavailable)
		return
	case model.Refused:
		s.waiters.Put(wt)
		panic(http.ErrAbortHandler)
	}
	if !finished {
		// The completer sends when the service has ended (after waiting
		// for a worker, if it had to).
		select {
		case done = <-wt.ch:
		case <-crashed:
			// wt may still be sent to: never reuse it.
			panic(http.ErrAbortHandler)
		}
		select {
		case <-crashed:
			// The server crashed as the service ended: its answer never
			// leaves.
			panic(http.ErrAbortHandler)
		default:
		}
	}
	s.waiters.Put(wt)
	s.latency[b2i(page)].Observe((done - arrived).Seconds())

	h := w.Header()
	h["Cache-Control"] = s.hdrNoStore
	body := s.objectBody
	if page {
		body = s.pageBody
		h["Content-Type"] = s.hdrHTML
		h["Content-Length"] = s.hdrPageLen
	} else {
		h["Content-Type"] = s.hdrOctet
		h["Content-Length"] = s.hdrObjectLen
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// location is a Location header value already built for one target:
// browsers mostly ask for the same few URLs, so the last one per target is
// kept and reused when base, path, query and hop all match.
type location struct {
	base, cleaned, rawQuery string
	hop                     int
	value                   []string
}

// answerRedirect writes the redirect to target at base (a registered peer
// URL).
func (s *Server) answerRedirect(w http.ResponseWriter, target int, base, cleaned, rawQuery string, hop int) {
	h := w.Header()
	l := s.locations[target].Load()
	if l == nil || l.hop != hop || l.base != base || l.cleaned != cleaned || l.rawQuery != rawQuery {
		bp := s.bufs.Get().(*[]byte)
		loc := AppendLocation((*bp)[:0], base, cleaned, rawQuery, hop)
		l = &location{base: base, cleaned: cleaned, rawQuery: rawQuery, hop: hop, value: []string{string(loc)}}
		*bp = loc
		s.bufs.Put(bp)
		s.locations[target].Store(l)
	}
	// No Cache-Control: 302 and 307 answers are not cached without
	// explicit freshness. net/http adds Content-Length: 0 itself.
	h["Location"] = l.value
	w.WriteHeader(s.redirect)
}

func (s *Server) registerMetrics() error {
	labels := prometheus.Labels{"server": s.name}
	locked := func(f func(now time.Duration) float64) func() float64 {
		return func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return f(s.now())
		}
	}
	gauge := func(name, help string, f func(now time.Duration) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, locked(f))
	}
	counter := func(name, help string, f func(now time.Duration) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, locked(f))
	}
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:        "redirlab_request_duration_seconds",
		Help:        "Time from arrival to end of service of served requests, by kind (page or object).",
		ConstLabels: labels,
		Buckets:     prometheus.ExponentialBuckets(100e-6, 2, 18), // 100µs .. 13s
	}, []string{"kind"})
	s.latency[0] = lat.WithLabelValues("object")
	s.latency[1] = lat.WithLabelValues("page")
	cs := []prometheus.Collector{
		lat,
		gauge("redirlab_queue_length", "Requests accepted and not yet answered (waiting plus in service).",
			func(now time.Duration) float64 { return float64(s.m.Status(now).QueueLength) }),
		gauge("redirlab_queue_waiting", "Requests waiting for a worker.",
			func(now time.Duration) float64 { return float64(s.m.Status(now).Waiting) }),
		gauge("redirlab_queue_delay_seconds", "Queue delay by the configured estimator.",
			func(now time.Duration) float64 { return s.m.Status(now).QueueDelay.Seconds() }),
		gauge("redirlab_in_service", "Requests being served.",
			func(now time.Duration) float64 { return float64(s.m.InService(now)) }),
		gauge("redirlab_up", "1 while the server runs, 0 while it is crashed.",
			func(time.Duration) float64 { return float64(b2i(s.m.Up())) }),
		gauge("redirlab_view_age_seconds", "Age of the last view from the manager; -1 without one.",
			func(now time.Duration) float64 {
				if age, ok := s.view.Age(now); ok {
					return age.Seconds()
				}
				return -1
			}),
		counter("redirlab_served_total", "Requests served (pages and embedded objects).",
			func(now time.Duration) float64 { return float64(s.m.Counters(now).Served) }),
		counter("redirlab_pages_served_total", "Page requests served.",
			func(now time.Duration) float64 { return float64(s.m.Counters(now).Pages) }),
		counter("redirlab_redirects_total", "Page requests answered with a redirect.",
			func(now time.Duration) float64 { return float64(s.m.Counters(now).Redirected) }),
		counter("redirlab_rejections_total", "Requests answered 503 because the queue was full.",
			func(now time.Duration) float64 { return float64(s.m.Counters(now).Rejected) }),
		counter("redirlab_crash_failures_total", "Admitted requests lost to a crash.",
			func(now time.Duration) float64 { return float64(s.m.Counters(now).Failed) }),
		counter("redirlab_busy_seconds_total", "Worker time spent serving, summed over workers.",
			func(now time.Duration) float64 { return s.m.Counters(now).Busy.Seconds() }),
	}
	for _, c := range cs {
		if err := s.cfg.Metrics.Register(c); err != nil {
			return fmt.Errorf("server %s: metrics: %v", s.name, err)
		}
		if s.cfg.AlsoRegister != nil {
			if err := s.cfg.AlsoRegister.Register(c); err != nil {
				return fmt.Errorf("server %s: metrics: %v", s.name, err)
			}
		}
	}
	return nil
}
