package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
}

// Cluster is a scenario's servers and manager, in-process on loopback,
// with the scenario's faults applied at their times.
type Cluster struct {
	sc      *scenarios.Scenario
	opts    ClusterOptions
	manager *Manager
	servers []*Server
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
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	listen := net.JoinHostPort(opts.Host, "0")
	c := &Cluster{sc: sc, opts: opts, stop: make(chan struct{})}
	m, err := NewManager(ManagerConfig{Scenario: sc, Listen: listen, Clock: opts.Clock})
	if err != nil {
		return nil, err
	}
	c.manager = m
	for i := range sc.Instances() {
		s, err := New(Config{
			Scenario:     sc,
			Index:        i,
			Listen:       listen,
			Clock:        opts.Clock,
			AlsoRegister: opts.Registry,
			// The manager URL is known only once it listens; Start fills it.
		})
		if err != nil {
			return nil, err
		}
		c.servers = append(c.servers, s)
	}
	if _, err := c.faultActions(); err != nil {
		return nil, err
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
	for _, s := range c.servers {
		s.cfg.RunStart = c.start
		s.cfg.ManagerURL = c.manager.URL()
		if err := s.Start(); err != nil {
			c.closeLocked()
			return err
		}
	}
	actions, err := c.faultActions()
	if err != nil {
		c.closeLocked()
		return err
	}
	c.scheduleLocked(ctx, c.start, actions)
	return nil
}

// ApplyFaults replaces the fault schedule Start made with one relative to
// start (for a caller whose run clock started elsewhere, such as a load
// generator's). Steps already due are applied at once; steps are
// idempotent, so a step applied twice does no harm.
func (c *Cluster) ApplyFaults(ctx context.Context, start time.Time) error {
	actions, err := c.faultActions()
	if err != nil {
		return err
	}
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

// URLs are the servers' base URLs in index order (after Start).
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.servers))
	for i, s := range c.servers {
		out[i] = s.URL()
	}
	return out
}

// ManagerURL is the manager's base URL (after Start).
func (c *Cluster) ManagerURL() string { return c.manager.URL() }

// Server returns server i.
func (c *Cluster) Server(i int) *Server { return c.servers[i] }

// Manager returns the manager.
func (c *Cluster) Manager() *Manager { return c.manager }

// Sample samples every server at run time at, from the servers' own state
// (counts and busy time since the previous Sample), plus what the
// manager's view reports of each.
func (c *Cluster) Sample(at time.Duration) []results.ServerSample {
	out := make([]results.ServerSample, len(c.servers))
	for i, s := range c.servers {
		out[i] = s.Sample(at)
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
	var errs []error
	for _, s := range c.servers {
		errs = append(errs, s.Close())
	}
	errs = append(errs, c.manager.Close())
	return errors.Join(errs...)
}

// faultAction is one step of a fault, at a time since run start.
type faultAction struct {
	at   time.Duration
	what string
	do   func() error
}

// faultActions turns the scenario's faults into timed steps, in time
// order (faults at the same time in file order).
func (c *Cluster) faultActions() ([]faultAction, error) {
	var out []faultAction
	add := func(at time.Duration, what string, do func() error) {
		out = append(out, faultAction{at: at, what: what, do: do})
	}
	for k, f := range c.sc.Faults {
		where := fmt.Sprintf("faults[%d]", k)
		var s *Server
		if f.Action == "lost-reports" && f.Server == "" {
			// Without a server, every agent's reports are lost.
			loss := f.Loss
			if loss <= 0 {
				loss = 1
			}
			all := c.servers
			add(f.At, where+" lost reports (all servers)", func() error {
				for _, s := range all {
					s.SetReportLoss(loss)
				}
				return nil
			})
			if f.For > 0 {
				add(f.At+f.For, where+" lost reports end (all servers)", func() error {
					for _, s := range all {
						s.SetReportLoss(0)
					}
					return nil
				})
			}
			continue
		}
		if f.Action != "manager-outage" {
			i := f.ServerIndex
			if i < 0 || i >= len(c.servers) {
				j, ok := c.sc.Lookup(f.Server)
				if !ok {
					return nil, fmt.Errorf("%s.server: unknown server %q", where, f.Server)
				}
				i = j
			}
			s = c.servers[i]
		}
		end := f.At + f.For
		switch f.Action {
		case "slowdown":
			if f.Factor <= 0 {
				return nil, fmt.Errorf("%s.factor: must be > 0, got %g", where, f.Factor)
			}
			factor := f.Factor
			add(f.At, where+" slowdown", func() error { s.SetSlowdown(factor); return nil })
			if f.For > 0 {
				add(end, where+" slowdown ends", func() error { s.SetSlowdown(1); return nil })
			}
		case "crash":
			add(f.At, where+" crash", func() error { s.Crash(); return nil })
			if f.For > 0 {
				add(end, where+" restart", s.Restart)
			}
		case "restart":
			add(f.At, where+" restart", s.Restart)
		case "manager-outage":
			m := c.manager
			add(f.At, where+" manager outage", func() error { m.SetOutage(true); return nil })
			if f.For > 0 {
				add(end, where+" manager outage ends", func() error { m.SetOutage(false); return nil })
			}
		case "lost-reports":
			loss := f.Loss
			if loss <= 0 {
				// The scenario default is 1; 0 would make the fault a no-op.
				loss = 1
			}
			add(f.At, where+" lost reports", func() error { s.SetReportLoss(loss); return nil })
			if f.For > 0 {
				add(end, where+" lost reports end", func() error { s.SetReportLoss(0); return nil })
			}
		default:
			return nil, fmt.Errorf("%s.action: unknown action %q", where, f.Action)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out, nil
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
func Serve(ctx context.Context, sc *scenarios.Scenario, name, listenAddr, managerURL string, peers ...string) error {
	i, ok := sc.Lookup(name)
	if !ok {
		var names []string
		for _, in := range sc.Instances() {
			names = append(names, in.Name)
		}
		return fmt.Errorf("serve: no server %q in scenario %s (servers: %v)", name, sc.Name, names)
	}
	if managerURL == "" {
		return errors.New("serve: a manager URL is required")
	}
	s, err := New(Config{Scenario: sc, Index: i, Listen: listenAddr, ManagerURL: managerURL, Peers: peers})
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	return s.Close()
}

// advertiseURL is the base URL a server listening on addr tells the
// manager. A listener bound to every interface (0.0.0.0, ::) advertises the
// local address that routes to the manager, so peers on other hosts can
// reach it; a specific address advertises itself.
func advertiseURL(addr net.Addr, managerURL string) string {
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
