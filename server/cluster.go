package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// ClusterOptions configures a Cluster.
type ClusterOptions struct {
	// Clock reads the time. Default time.Now. Timers use the time
	// package (see Config.Clock).
	Clock func() time.Time
	// Registry, when set, receives every server's metrics (labelled
	// server=<name>) besides each server's own /metrics.
	Registry prometheus.Registerer
	// Host is the address servers and manager bind, each on an ephemeral
	// port. Default "127.0.0.1".
	Host string
	// Front builds the front of a server with an upstream from its
	// configuration (package redirect's NewFront). Without it a scenario
	// with fronts is refused.
	Front func(Config) (Front, error)
}

// Cluster is a scenario's servers and manager, in-process on loopback,
// with the scenario's faults applied at their times.
type Cluster struct {
	sc      *scenarios.Scenario
	plan    *plan.Plan
	opts    ClusterOptions
	manager *Manager
	// servers[i] is server i, or nil when fronts[i] fronts a backend.
	servers []*Server
	fronts  []Front
	start   time.Time

	stop       chan struct{}
	stopFaults context.CancelFunc
	faultsWG   sync.WaitGroup

	mu        sync.Mutex
	faultErrs []error
	started   bool
	closed    bool
}

// NewCluster builds the manager and one server per scenario instance; Start
// makes them listen.
func NewCluster(sc *scenarios.Scenario, opts ClusterOptions) (*Cluster, error) {
	if sc == nil {
		return nil, errors.New("cluster: no scenario")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	opts.Host = cmp.Or(opts.Host, "127.0.0.1")
	p, err := plan.Resolve(sc)
	if err != nil {
		return nil, err
	}
	listen := net.JoinHostPort(opts.Host, "0")
	c := &Cluster{sc: sc, plan: p, opts: opts, stop: make(chan struct{})}
	// The cluster's own control plane: a fresh token, and servers only
	// where the cluster binds them.
	token := rand.Text()
	allow := LoopbackOnly
	if a, err := netip.ParseAddr(opts.Host); err == nil && !a.IsLoopback() {
		allow = []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}
	}
	if c.manager, err = NewManager(ManagerConfig{Scenario: sc, Listen: listen, Clock: opts.Clock, Token: token, Allow: allow}); err != nil {
		return nil, err
	}
	c.fronts = make([]Front, len(p.Servers))
	for i := range p.Servers {
		cfg := Config{
			Scenario:     sc,
			Index:        i,
			Listen:       listen,
			Clock:        opts.Clock,
			AlsoRegister: opts.Registry,
			Token:        token,
			// The manager URL is known only once it listens; Start fills it.
		}
		var s *Server
		switch in := &p.Servers[i]; {
		case in.Upstream == "":
			s, err = New(cfg)
		case opts.Front == nil:
			err = fmt.Errorf("cluster: server %s fronts %s, and this cluster builds no fronts (ClusterOptions.Front)", in.Name, in.Upstream)
		default:
			c.fronts[i], err = opts.Front(cfg)
		}
		if err != nil {
			c.closeBuilt()
			return nil, err
		}
		c.servers = append(c.servers, s)
	}
	return c, nil
}

// Start starts the manager and the servers, takes now as the run start,
// and schedules the scenario's faults relative to it. Faults stop being
// applied when ctx is done or the cluster is closed.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return errors.New("cluster: already started")
	}
	c.started = true
	c.start = c.opts.Clock()
	c.manager.start = c.start
	if err := c.manager.Start(); err != nil {
		return err
	}
	for i, s := range c.servers {
		var err error
		if s == nil {
			err = c.fronts[i].Start(c.start, c.manager.URL())
		} else {
			s.cfg.RunStart = c.start
			s.cfg.ManagerURL = c.manager.URL()
			err = s.Start()
		}
		if err != nil {
			c.closeLocked()
			return err
		}
	}
	c.scheduleLocked(ctx, c.start, c.faultActions())
	return nil
}

// ApplyFaults replaces the fault schedule Start made with one relative to
// start (for a caller whose run clock started elsewhere, such as a load
// generator's). Steps already due are applied at once; steps are
// idempotent, so a step applied twice does no harm.
func (c *Cluster) ApplyFaults(ctx context.Context, start time.Time) error {
	actions := c.faultActions()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started || c.closed {
		return errors.New("cluster: ApplyFaults needs a started, open cluster")
	}
	c.scheduleLocked(ctx, start, actions)
	return nil
}

// scheduleLocked stops the running fault schedule, if any, and starts one
// relative to start. c.mu is held.
func (c *Cluster) scheduleLocked(ctx context.Context, start time.Time, actions []faultAction) {
	if c.stopFaults != nil {
		c.stopFaults()
	}
	ctx, c.stopFaults = context.WithCancel(ctx)
	c.faultsWG.Add(1)
	go c.runFaults(ctx, start, actions)
}

// RunStart is the time Start took as the run start.
func (c *Cluster) RunStart() time.Time { return c.start }

// member is what the cluster asks alike of a server and of a front.
type member interface {
	URL() string
	Sample(at time.Duration) results.ServerSample
	SetReportLoss(p float64)
	Close() error
}

// member is server i, or its front (nil if neither was built).
func (c *Cluster) member(i int) member {
	if s := c.servers[i]; s != nil {
		return s
	}
	return c.fronts[i]
}

// URLs are the servers' base URLs in index order (after Start).
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.servers))
	for i := range c.servers {
		out[i] = c.member(i).URL()
	}
	return out
}

// ManagerURL is the manager's base URL (after Start).
func (c *Cluster) ManagerURL() string { return c.manager.URL() }

// Server returns server i (nil when it is a front).
func (c *Cluster) Server(i int) *Server { return c.servers[i] }

// Front returns server i's front (nil when it is a redirlab server).
func (c *Cluster) Front(i int) Front { return c.fronts[i] }

// Manager returns the manager.
func (c *Cluster) Manager() *Manager { return c.manager }

// Sample samples every server at run time at, from the servers' own state
// (counts and busy time since the previous Sample), plus what the
// manager's view reports of each.
func (c *Cluster) Sample(at time.Duration) []results.ServerSample {
	out := make([]results.ServerSample, len(c.servers))
	for i := range c.servers {
		out[i] = c.member(i).Sample(at)
		if st, ok := c.manager.Reported(i); ok {
			out[i].ReportedQueueLength = st.QueueLength
			out[i].ReportedQueueDelay = st.QueueDelay
		}
	}
	return out
}

// FaultErrors are the errors met applying faults (a restart that could not
// re-listen, for example).
func (c *Cluster) FaultErrors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.faultErrs...)
}

// Close stops the faults, the servers and the manager.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

func (c *Cluster) closeLocked() error {
	if c.closed {
		return nil
	}
	c.closed = true
	close(c.stop)
	c.mu.Unlock()
	c.faultsWG.Wait()
	c.mu.Lock()
	return errors.Join(c.closeServers(), c.manager.Close())
}

// closeServers closes every server and front.
func (c *Cluster) closeServers() error {
	var errs []error
	for i := range c.servers {
		if m := c.member(i); m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// closeBuilt closes what NewCluster built before it failed.
func (c *Cluster) closeBuilt() {
	_ = c.closeServers()
	_ = c.manager.Close()
}

// faultAction is one step of the fault plan, at a time since run start.
type faultAction struct {
	at   time.Duration
	what string
	do   func() error
}

// faultActions turns the plan's fault steps into timed actions. Each
// carries its step into one model.Faults, which says what changes, so
// overlapping faults mean here what they mean in simulation.
func (c *Cluster) faultActions() []faultAction {
	state := model.NewFaults(c.plan.Faults, len(c.servers))
	var out []faultAction
	for _, st := range c.plan.FaultSteps {
		f := c.plan.Faults[st.Fault]
		what := fmt.Sprintf("faults[%d] %s", st.Fault, f.Kind)
		if st.End {
			what += " ends"
		}
		out = append(out, faultAction{at: st.At, what: what, do: func() error {
			var errs []error
			for _, ch := range state.Apply(st) {
				errs = append(errs, c.change(state, ch))
			}
			return errors.Join(errs...)
		}})
	}
	return out
}

// change carries out one change of the fault state.
func (c *Cluster) change(state *model.Faults, ch model.Change) error {
	switch ch.Kind {
	case model.SetSlowdown, model.CrashServer, model.RestartServer:
		if c.servers[ch.Server] == nil {
			// Validation refuses these on a front; a scenario built in
			// code may not have been validated.
			return fmt.Errorf("%s fronts a real backend, which cannot be slowed, crashed or restarted", c.plan.Servers[ch.Server].Name)
		}
	}
	switch ch.Kind {
	case model.SetSlowdown:
		c.servers[ch.Server].SetSlowdown(ch.Factor)
	case model.CrashServer:
		c.servers[ch.Server].Crash()
	case model.RestartServer:
		return c.servers[ch.Server].Restart()
	case model.SetOutage:
		c.manager.SetOutage(ch.On)
	case model.SetReportLoss:
		for i := range c.servers {
			c.member(i).SetReportLoss(state.ReportLoss(i))
		}
	}
	return nil
}

// runFaults applies the steps at their times.
func (c *Cluster) runFaults(ctx context.Context, start time.Time, actions []faultAction) {
	defer c.faultsWG.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for _, a := range actions {
		t.Reset(max(start.Add(a.at).Sub(c.opts.Clock()), 0))
		select {
		case <-ctx.Done():
			return
		case <-c.stop:
			return
		case <-t.C:
		}
		if err := a.do(); err != nil {
			c.mu.Lock()
			c.faultErrs = append(c.faultErrs, fmt.Errorf("%s at %v: %v", a.what, a.at, err))
			c.mu.Unlock()
		}
	}
}

// Serve runs one server of the scenario alone (redirlab serve) until ctx
// is done: name is its instance name, listenAddr where it listens,
// managerURL where its agent reports. Peers are learnt from the manager's
// registry; peers given here (base URLs by index, "" to learn) win.
//
// cfg.Index is set from name. ready, when set, is told the address once
// the server listens; warn is told when the agent has not reached the
// manager within a few report intervals, and again when it does.
func Serve(ctx context.Context, cfg Config, name string, ready func(addr string), warn func(msg string)) error {
	sc := cfg.Scenario
	if sc == nil {
		return errors.New("serve: no scenario")
	}
	i, ok := sc.Lookup(name)
	if !ok {
		var names []string
		for _, in := range sc.Instances() {
			names = append(names, in.Name)
		}
		return fmt.Errorf("serve: no server %q in scenario %s (servers: %v)", name, sc.Name, names)
	}
	if cfg.ManagerURL == "" {
		return errors.New("serve: a manager URL is required")
	}
	cfg.Index = i
	s, err := New(cfg)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	if ready != nil {
		ready(s.Addr())
	}
	werr := watchAgent(ctx, s.Agent(), s.interval, warn)
	return errors.Join(werr, shutdown(s.Shutdown))
}

// shutdownGrace bounds how long a part stopped by a signal waits for the
// requests it holds.
const shutdownGrace = 5 * time.Second

// shutdown stops a part gracefully within shutdownGrace; what has not
// finished by then is cut.
func shutdown(stop func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// watchAgent tells warn when the agent has had no view from the manager
// for 5 report intervals (at least 2s), saying what the manager answered
// when it refused the reports, and when it has one again, until ctx is
// done.
func watchAgent(ctx context.Context, a *Agent, interval time.Duration, warn func(string)) error {
	every := max(5*interval, 2*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	if warn == nil {
		warn = func(string) {}
	}
	last, lost := a.Counts().Sent, false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if ae := a.Refused(); ae != nil && ae.Code == http.StatusPreconditionFailed {
			// Not the manager's scenario: no retry can cure it.
			return &ConfigError{Err: fmt.Errorf("the manager at %s refused this server: %s", a.ManagerURL, ae.Reason)}
		}
		sent := a.Counts().Sent
		switch {
		case sent == last && !lost:
			lost = true
			if ae := a.Refused(); ae != nil && ae.Code == http.StatusUnauthorized {
				warn(fmt.Sprintf("the manager at %s refused the token (401): give the manager's --token-file; this server has no view and does not redirect", a.ManagerURL))
			} else if ae != nil {
				warn(fmt.Sprintf("the manager at %s answered %s: %s; this server has no view and does not redirect", a.ManagerURL, ae.Status, ae.Reason))
			} else {
				warn(fmt.Sprintf("no answer from the manager at %s for %v: this server has no view and does not redirect", a.ManagerURL, every))
			}
		case sent != last && lost:
			lost = false
			warn("the manager answers again")
		}
		last = sent
	}
}

// AdvertiseURL is the base URL a server listening on addr tells the
// manager. A listener bound to every interface (0.0.0.0, ::) advertises the
// local address that routes to the manager, so peers on other hosts can
// reach it; a specific address advertises itself.
func AdvertiseURL(addr net.Addr, managerURL string) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return "http://" + addr.String()
	}
	host := "127.0.0.1"
	if u, err := url.Parse(managerURL); err == nil && u.Host != "" {
		mh := u.Host
		if _, _, err := net.SplitHostPort(mh); err != nil {
			mh = net.JoinHostPort(mh, "80")
		}
		// A UDP "connection" sends nothing; it only asks the kernel for
		// the route's source address.
		if conn, err := net.Dial("udp", mh); err == nil {
			host = conn.LocalAddr().(*net.UDPAddr).IP.String()
			conn.Close()
		}
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(ta.Port))
}
