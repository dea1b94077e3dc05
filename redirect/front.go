package redirect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/server"
)

// Front is a scenario server with an upstream: a reverse proxy to a real
// backend behind a Middleware. Its queue holds requests waiting for one
// of the server's workers, each worker one request at the backend at a
// time; its service time is the backend's answer. It records every
// backend exchange (results.Backend), streamed to backend.csv in a run.
type Front struct {
	cfg      server.Config
	mw       *Middleware
	upstream *url.URL
	timeout  time.Duration
	proxy    *httputil.ReverseProxy
	tr       *http.Transport
	// handlers counts requests being handled: Close waits for them, so
	// that every exchange is recorded before the records are read.
	handlers sync.WaitGroup

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	advert string
	// The backend records go to stream when set, else into records
	// while keep.
	stream  *results.BackendWriter
	records []results.Backend
	keep    bool
}

// outcomeKey carries, in a proxied request's context, where the proxy's
// error handler says how the exchange failed.
type outcomeKey struct{}

// NewFront builds the front of server cfg.Index of cfg.Scenario, which
// has an upstream; upstream, when not "", replaces the scenario's. The
// upstream timeout is the workload's: a browser gives up then anyway.
func NewFront(cfg server.Config, upstream string) (*Front, error) {
	if cfg.Scenario == nil {
		return nil, &server.ConfigError{Err: errors.New("front: no scenario")}
	}
	p, err := plan.Resolve(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	if cfg.Index < 0 || cfg.Index >= len(p.Servers) {
		return nil, &server.ConfigError{Err: fmt.Errorf("front: index %d out of range: the scenario has %d servers", cfg.Index, len(p.Servers))}
	}
	in := p.Servers[cfg.Index]
	if upstream == "" {
		upstream = in.Upstream
	}
	if upstream == "" {
		return nil, &server.ConfigError{Err: fmt.Errorf("front %s: no upstream", in.Name)}
	}
	u, err := url.Parse(upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, &server.ConfigError{Err: fmt.Errorf("front %s: upstream %q: want a base URL such as http://127.0.0.1:8080", in.Name, upstream)}
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	f := &Front{cfg: cfg, upstream: u, timeout: p.Timeout, keep: true}
	f.tr = &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          in.Workers,
		MaxIdleConnsPerHost:   in.Workers,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: p.Timeout,
		DisableCompression:    true,
	}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.SetXForwarded()
		},
		Transport: f.tr,
		ModifyResponse: func(res *http.Response) error {
			// Every answer names the front, not what stands behind it.
			res.Header.Del(model.ServerHeader)
			return nil
		},
		ErrorHandler: f.proxyError,
	}
	mw, err := New(Config{
		Scenario:   cfg.Scenario,
		Server:     in.Name,
		Token:      cfg.Token,
		Peers:      cfg.Peers,
		Clock:      cfg.Clock,
		Client:     cfg.Client,
		MaxBackoff: cfg.MaxBackoff,
		Observe:    f.observe,
	}, f.proxy)
	if err != nil {
		return nil, err
	}
	f.mw = mw
	return f, nil
}

// ClusterFront is NewFront for server.ClusterOptions.Front.
func ClusterFront(cfg server.Config) (server.Front, error) { return NewFront(cfg, "") }

// proxyError answers a failed exchange: 504 when the backend did not
// answer in time, else 502; a browser that left gets nothing.
func (f *Front) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	out := results.BackendError
	status := http.StatusBadGateway
	var ne net.Error
	switch {
	case r.Context().Err() != nil:
		out, status = results.BackendCanceled, 0
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		out, status = results.BackendTimeout, http.StatusGatewayTimeout
	}
	if p, ok := r.Context().Value(outcomeKey{}).(*results.BackendOutcome); ok {
		*p = out
	}
	if status != 0 {
		http.Error(w, "upstream "+out.String(), status)
	}
}

// ServeHTTP is the front's handler: the middleware around the proxy.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.handlers.Add(1)
	defer f.handlers.Done()
	out := results.BackendOK
	f.mw.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), outcomeKey{}, &out)))
}

// observe records one backend exchange.
func (f *Front) observe(r *http.Request, s Service) {
	out := results.BackendOK
	if p, ok := r.Context().Value(outcomeKey{}).(*results.BackendOutcome); ok {
		out = *p
	}
	switch {
	case out != results.BackendOK:
	case s.Aborted && r.Context().Err() != nil:
		out = results.BackendCanceled // the browser left mid-answer
	case s.Aborted:
		out = results.BackendError // the backend broke off its answer
	case r.Context().Err() != nil && s.Status == 0:
		out = results.BackendCanceled
	}
	rec := results.Backend{At: s.Start, Took: s.Took, Server: f.mw.index, ID: s.Demand.ID, HasID: s.Demand.OK, Part: s.Demand.Part, Status: s.Status, Outcome: out}
	f.mu.Lock()
	stream := f.stream
	if stream == nil && f.keep {
		f.records = append(f.records, rec)
	}
	f.mu.Unlock()
	if stream != nil {
		stream.Add(&rec)
	}
}

// StreamRecords sends the backend records to w as services end, instead
// of keeping them (a run's backend.csv: memory stays flat however long
// the run).
func (f *Front) StreamRecords(w *results.BackendWriter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stream, f.records = w, nil
}

// KeepRecords says whether the front keeps its backend records in
// memory, for Records (on by default; serve alone turns it off).
func (f *Front) KeepRecords(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keep = on
	if !on {
		f.records = nil
	}
}

// Records returns the backend records so far, in the order services
// ended.
func (f *Front) Records() []results.Backend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]results.Backend(nil), f.records...)
}

// Middleware is the front's middleware.
func (f *Front) Middleware() *Middleware { return f.mw }

// Start listens, takes runStart as the run's start and, with a manager
// URL, starts the agent.
func (f *Front) Start(runStart time.Time, managerURL string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		return fmt.Errorf("front %s: already started", f.mw.name)
	}
	ln, err := net.Listen("tcp", f.cfg.Listen)
	if err != nil {
		return fmt.Errorf("front %s: %v", f.mw.name, err)
	}
	f.advert = f.cfg.Advertise
	if f.advert == "" {
		f.advert = server.AdvertiseURL(ln.Addr(), managerURL)
	}
	mw := f.mw
	if managerURL != "" {
		if managerURL, err = server.NormalizeBaseURL(managerURL); err != nil {
			ln.Close()
			return &server.ConfigError{Err: fmt.Errorf("front %s: manager: %v", mw.name, err)}
		}
	}
	mw.mu.Lock()
	mw.cfg.RunStart = runStart
	mw.cfg.ManagerURL = managerURL
	mw.cfg.Advertise = f.advert
	mw.static[mw.index], mw.urls[mw.index] = f.advert, f.advert
	mw.mu.Unlock()
	f.ln = ln
	// The write timeout covers waiting, the backend and writing: the
	// workload's timeout and a margin.
	f.srv = f.cfg.Timeouts.HTTPServer(f, f.timeout+10*time.Second)
	srv := f.srv
	go func() { _ = srv.Serve(ln) }()
	return mw.Start()
}

// URL is the advertised base URL (after Start).
func (f *Front) URL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.advert
}

// Addr is the listening address (after Start).
func (f *Front) Addr() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln == nil {
		return ""
	}
	return f.ln.Addr().String()
}

// Agent is the front's agent.
func (f *Front) Agent() *server.Agent { return f.mw.Agent() }

// Sample is the front's state at run time at.
func (f *Front) Sample(at time.Duration) results.ServerSample { return f.mw.Sample(at) }

// SetReportLoss makes the agent drop reports with probability p.
func (f *Front) SetReportLoss(p float64) { f.mw.SetReportLoss(p) }

// Shutdown stops accepting, lets the requests held finish until ctx is
// done, then closes.
func (f *Front) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	return errors.Join(err, f.Close())
}

// Close stops the front, its agent and its connections to the backend,
// once the requests it was handling have ended.
func (f *Front) Close() error {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	// Closed connections cancel their requests' contexts, which ends
	// waits in the queue and exchanges with the backend: this is short.
	f.handlers.Wait()
	f.mw.Close()
	f.tr.CloseIdleConnections()
	return err
}
