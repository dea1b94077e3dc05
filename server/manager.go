package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/scenarios"
)

// maxReportBytes bounds a report body.
const maxReportBytes = 64 << 10

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Scenario names the servers, the policy and the intervals. Required.
	Scenario *scenarios.Scenario
	// Listen is the address to listen on. Default "127.0.0.1:0" (loopback,
	// ephemeral port).
	Listen string
	// Clock reads the time. Default time.Now.
	Clock func() time.Time
	// Metrics is where the manager's metrics are registered and what its
	// /metrics serves. Default: a fresh registry.
	Metrics *prometheus.Registry
	// Token, when set, is required of every request to /v1/ as
	// "Authorization: Bearer TOKEN": without it the answer is 401.
	Token string
	// Allow are the networks a server's registered URL may point into.
	// Default: loopback (LoopbackOnly).
	Allow []netip.Prefix
	// Insecure lets the manager listen beyond loopback without a token.
	// Without it that is refused: whoever reaches an open manager steers
	// every browser the servers redirect.
	Insecure bool
	// Timeouts bound each client's connection (Write defaults to 10s).
	Timeouts Timeouts
	// StartLead is how long after the last shard of a run checks in
	// (POST /v1/start) its time zero is: time for every shard to hear it
	// and open its connections. Default 2s.
	StartLead time.Duration
}

func (c *ManagerConfig) validate() error {
	if c.Scenario == nil {
		return errors.New("manager: no scenario")
	}
	c.Listen = cmp.Or(c.Listen, "127.0.0.1:0")
	if c.Token == "" && !c.Insecure && !isLoopbackListen(c.Listen) {
		return fmt.Errorf("manager: listening on %s without a token: anyone who reaches it could register a server anywhere and steer the browsers; give a token (--token-file), or --insecure", c.Listen)
	}
	if len(c.Allow) == 0 {
		c.Allow = LoopbackOnly
	}
	c.Timeouts.fill(10 * time.Second)
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Metrics == nil {
		c.Metrics = prometheus.NewRegistry()
	}
	if c.StartLead < 0 {
		return fmt.Errorf("manager: start lead %v: must not be negative", c.StartLead)
	}
	c.StartLead = cmp.Or(c.StartLead, 2*time.Second)
	return nil
}

// Manager is the central manager: it registers servers as their agents
// report, publishes the cluster view in its answers, marks silent servers
// down, and under central placement tells overloaded servers to redirect.
//
// HTTP API: POST /v1/report (ReportMessage → ViewMessage), GET /v1/view
// (ViewMessage), GET /v1/servers ([]ServerView), POST /v1/start
// (StartCheckIn → StartAnswer, the load generators' coordinated start),
// DELETE /v1/start (StartCheckIn: a shard withdrawing), GET /metrics.
type Manager struct {
	cfg      ManagerConfig
	shared   string // the scenario's SharedDigest
	interval time.Duration
	start    time.Time

	names []string
	index map[string]int
	token *tokenCheck
	allow []netip.Prefix

	starts *startGate

	mu  sync.Mutex
	reg *model.Registry

	outage atomic.Bool

	handler http.Handler
	ln      net.Listener
	srv     *http.Server
	stop    chan struct{}
	done    chan struct{}

	reports, badReports, unauthorized, outageRefusals prometheus.Counter
}

// NewManager validates cfg and builds a manager; Start makes it listen.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, configError(err)
	}
	p, err := plan.Resolve(cfg.Scenario)
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	shared, err := cfg.Scenario.SharedDigest()
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	m := &Manager{
		cfg:      cfg,
		shared:   shared,
		interval: p.Manager.RealInterval,
		start:    cfg.Clock(),
		names:    p.Names(),
		index:    make(map[string]int, len(p.Servers)),
		token:    newTokenCheck(cfg.Token),
		allow:    cfg.Allow,
		reg:      model.NewRegistry(p.RegistryConfig()),
		starts:   newStartGate(cfg.Clock, cfg.StartLead),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for i, n := range m.names {
		m.index[n] = i
	}
	if err := m.registerMetrics(cfg.Metrics); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/report", m.authorized(m.handleReport))
	mux.HandleFunc("GET /v1/view", m.authorized(m.handleView))
	mux.HandleFunc("GET /v1/servers", m.authorized(m.handleServers))
	mux.HandleFunc("POST /v1/start", m.authorized(m.handleStart))
	mux.HandleFunc("DELETE /v1/start", m.authorized(m.handleStartWithdraw))
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}))
	m.handler = m.outageGate(mux)
	return m, nil
}

func (m *Manager) registerMetrics(r *prometheus.Registry) error {
	m.reports = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "redirlab_manager_reports_total", Help: "Agent reports accepted."})
	m.badReports = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "redirlab_manager_bad_reports_total", Help: "Agent reports refused as malformed or from unknown servers."})
	m.unauthorized = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "redirlab_manager_unauthorized_total", Help: "Requests refused for a missing or wrong token."})
	m.outageRefusals = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "redirlab_manager_outage_refusals_total", Help: "Requests refused during a manager outage."})
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "redirlab_manager_servers_up", Help: "Servers the manager believes up."},
		func() float64 {
			m.mu.Lock()
			defer m.mu.Unlock()
			n := 0
			for i := range m.reg.Len() {
				if m.reg.Up(i) {
					n++
				}
			}
			return float64(n)
		})
	out := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "redirlab_manager_outage", Help: "1 while the manager is in an outage."},
		func() float64 { return float64(b2i(m.outage.Load())) })
	for _, c := range []prometheus.Collector{m.reports, m.badReports, m.unauthorized, m.outageRefusals, up, out} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("manager metrics: %v", err)
		}
	}
	return nil
}

// now is the time since the manager's start.
func (m *Manager) now() time.Duration { return m.cfg.Clock().Sub(m.start) }

// Handler is the manager's HTTP handler (for tests with httptest; Start
// serves it on its own listener).
func (m *Manager) Handler() http.Handler { return m.handler }

// outageGate answers 503 to everything while the manager is in an outage.
func (m *Manager) outageGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.outage.Load() {
			m.outageRefusals.Inc()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "manager outage", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// authorized answers 401 to a request without the token.
func (m *Manager) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !m.token.ok(r) {
			m.unauthorized.Inc()
			w.Header().Set("WWW-Authenticate", `Bearer realm="redirlab manager"`)
			http.Error(w, "missing or wrong token", http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

// DecodeReport decodes a report strictly: unknown or duplicate members,
// names in another case, trailing data and bodies over maxReportBytes
// are refused.
func DecodeReport(data []byte) (ReportMessage, error) {
	var msg ReportMessage
	if len(data) > maxReportBytes {
		return msg, fmt.Errorf("report: larger than %d bytes", maxReportBytes)
	}
	if err := jsonv2.Unmarshal(data, &msg, jsonv2.RejectUnknownMembers(true)); err != nil {
		return msg, fmt.Errorf("report: %v", err)
	}
	return msg, nil
}

func (m *Manager) handleReport(w http.ResponseWriter, r *http.Request) {
	v, code, err := m.receiveReport(r)
	if err != nil {
		m.badReports.Inc()
		http.Error(w, err.Error(), code)
		return
	}
	m.reports.Inc()
	writeJSON(w, &v)
}

// receiveReport reads and records the report r carries, and returns the
// view to answer with, or the error and the status to answer it with.
func (m *Manager) receiveReport(r *http.Request) (ViewMessage, int, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxReportBytes+1))
	if err != nil {
		return ViewMessage{}, http.StatusBadRequest, fmt.Errorf("report: %v", err)
	}
	if len(data) > maxReportBytes {
		return ViewMessage{}, http.StatusRequestEntityTooLarge, fmt.Errorf("report: larger than %d bytes", maxReportBytes)
	}
	msg, err := DecodeReport(data)
	if err != nil {
		return ViewMessage{}, http.StatusBadRequest, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.report(m.now(), msg); err != nil {
		if _, held := errors.AsType[*model.HeldError](err); held {
			return ViewMessage{}, http.StatusConflict, err
		}
		if _, other := errors.AsType[*SharedError](err); other {
			return ViewMessage{}, http.StatusPreconditionFailed, err
		}
		return ViewMessage{}, http.StatusBadRequest, err
	}
	return m.viewLocked(), http.StatusOK, nil
}

func (m *Manager) handleView(w http.ResponseWriter, r *http.Request) {
	v := m.View()
	writeJSON(w, &v)
}

func (m *Manager) handleServers(w http.ResponseWriter, r *http.Request) {
	v := m.View()
	writeJSON(w, v.Servers)
}

// SharedError is a report from a server whose scenario differs from the
// manager's in what they must share (scenarios.SharedDigest).
type SharedError struct{ Server string }

func (e *SharedError) Error() string {
	return fmt.Sprintf("report from %s: its scenario's servers, policy or manager settings are not the manager's: "+
		"start serve and manager with the same file and the same --set values", e.Server)
}

// report records a report received at now. The name must be one of the
// scenario's servers and the URL a valid base URL. m.mu is held.
func (m *Manager) report(now time.Duration, msg ReportMessage) error {
	i, ok := m.index[msg.Name]
	if !ok {
		return fmt.Errorf("report: unknown server %q", msg.Name)
	}
	if msg.Shared != "" && msg.Shared != m.shared {
		return &SharedError{Server: msg.Name}
	}
	u, err := NormalizeBaseURL(msg.URL)
	if err != nil {
		return fmt.Errorf("report from %s: %v", msg.Name, err)
	}
	if err := allowedURL(u, m.allow); err != nil {
		return fmt.Errorf("report from %s: %v", msg.Name, err)
	}
	if err := m.reg.Report(now, i, model.Report{Status: msg.Status.Status(), InService: msg.Status.InService, URL: u}); err != nil {
		return fmt.Errorf("report from %s: %w", msg.Name, err)
	}
	return nil
}

// viewLocked is the published view: every server's last report,
// up-ness and URL, and the instructions of the last tick. m.mu is held.
func (m *Manager) viewLocked() ViewMessage {
	var pv policy.View
	m.reg.ViewInto(&pv)
	v := ViewMessage{AtNS: int64(pv.At), Servers: make([]ServerView, len(pv.Servers))}
	for i, st := range pv.Servers {
		rep, last, seen := m.reg.Reported(i)
		sv := ServerView{StatusMessage: NewStatusMessage(m.names[i], st, rep.InService), URL: rep.URL, LastReportNS: -1}
		if seen {
			sv.LastReportNS = int64(last)
		} else {
			sv.StatusMessage = StatusMessage{Name: m.names[i], Server: i}
		}
		v.Servers[i] = sv
	}
	if pv.Instructions != nil {
		v.Instructions = make([]InstructionMessage, len(pv.Instructions))
		for i, in := range pv.Instructions {
			v.Instructions[i] = InstructionMessage{Redirect: in.Redirect, Target: in.Target}
		}
	}
	return v
}

// View is the currently published view.
func (m *Manager) View() ViewMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.viewLocked()
}

// Reported is what the manager's view says of server i, and whether it
// ever reported.
func (m *Manager) Reported(i int) (policy.Status, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rep, _, seen := m.reg.Reported(i)
	return rep.Status, seen
}

// SetOutage starts (true) or ends (false) an outage: while it lasts the
// manager answers 503 to everything and neither expires servers nor
// recomputes instructions.
func (m *Manager) SetOutage(on bool) {
	m.outage.Store(on)
	m.mu.Lock()
	m.reg.SetOutage(m.now(), on)
	m.mu.Unlock()
}

// Start listens on the configured address and starts publishing ticks.
func (m *Manager) Start() error {
	ln, err := net.Listen("tcp", m.cfg.Listen)
	if err != nil {
		return fmt.Errorf("manager: %v", err)
	}
	m.ln = ln
	m.srv = m.cfg.Timeouts.httpServer(m.handler)
	go func() { _ = m.srv.Serve(ln) }()
	go m.tickLoop()
	return nil
}

// tickLoop expires silent servers and recomputes instructions every
// report interval, except during an outage.
func (m *Manager) tickLoop() {
	defer close(m.done)
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.mu.Lock()
			m.reg.Tick(m.now())
			m.mu.Unlock()
		}
	}
}

// URL is the manager's base URL (after Start).
func (m *Manager) URL() string { return "http://" + m.ln.Addr().String() }

// Addr is the address the manager listens on (after Start).
func (m *Manager) Addr() string { return m.ln.Addr().String() }

// Close stops the manager and closes its listener and connections.
func (m *Manager) Close() error {
	if m.srv == nil {
		return nil
	}
	select {
	case <-m.stop:
		return nil
	default:
	}
	close(m.stop)
	err := m.srv.Close()
	<-m.done
	return err
}

// RunManager runs a manager alone until ctx is done (redirlab manager).
// ready, when set, is told the address once the manager listens.
func RunManager(ctx context.Context, cfg ManagerConfig, ready func(addr string)) error {
	m, err := NewManager(cfg)
	if err != nil {
		return err
	}
	if err := m.Start(); err != nil {
		return err
	}
	if ready != nil {
		ready(m.Addr())
	}
	<-ctx.Done()
	return shutdown(m.Shutdown)
}

// Shutdown stops the manager gracefully: no new connections, the
// exchanges in progress finish (until ctx is done), then it closes.
func (m *Manager) Shutdown(ctx context.Context) error {
	if m.srv == nil {
		return nil
	}
	return errors.Join(m.srv.Shutdown(ctx), m.Close())
}
