// Package plan resolves a validated scenario once into what the drivers
// run: per-server configurations with their service-time samplers, the
// policy, dispatch and fault plan as typed values, and every interval,
// TTL and default filled in. The simulator, the real servers, the manager
// and the load generator all read the same Plan and derive nothing of
// their own from the scenario file.
package plan

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/dist"
	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/scenarios"
)

// Plan is one scenario (one variant of it) resolved for running.
type Plan struct {
	// Scenario is what the plan was resolved from, for names, notes and
	// scenario.yaml.
	Scenario *scenarios.Scenario
	// Seed seeds every random stream (model.Stream*).
	Seed uint64
	// Warmup is run and not counted; Duration is the measured part;
	// Horizon = Warmup + Duration ends the arrivals.
	Warmup, Duration, Horizon time.Duration
	// SampleInterval is how often server state is sampled.
	SampleInterval time.Duration

	// Servers are the instances, groups expanded, by index.
	Servers []Server
	// Policy is the redirect policy.
	Policy policy.Config
	// RedirectStatus is 302 or 307.
	RedirectStatus int
	// Manager holds the report interval and the manager's timings.
	Manager Manager

	// Dispatch is the browsers' first-server choice; Weights its weights
	// by server index.
	Dispatch dispatch.Policy
	Weights  []float64
	// Arrival is the arrival process as written; Closed marks the closed
	// loop (a fixed population of browsers), every other process is open.
	Arrival scenarios.Arrival
	Closed  bool
	// Concurrency and Requests size the closed loop (Requests 0: run
	// for the duration).
	Concurrency, Requests int
	// Session is what a browser does per arrival.
	Session model.Session
	// Timeout bounds one page request, hops included.
	Timeout time.Duration
	// MaxInFlight bounds open-loop page requests in flight.
	MaxInFlight int
	// MaxRedirects is how many redirects a browser follows.
	MaxRedirects int
	// PagePath is the page path requested and served.
	PagePath string
	// RTT and Overhead model the network in simulation.
	RTT, Overhead time.Duration

	// Faults are the scenario's faults, typed, in file order; FaultSteps
	// their starts and ends in time order (model.PlanFaults).
	Faults     []model.Fault
	FaultSteps []model.FaultStep
}

// Server is one instance.
type Server struct {
	// Index is the server's index; Name its instance name ("web-2").
	Index int
	Name  string
	// Workers and Capacity (waiting plus in service).
	Workers, Capacity int
	// Page and Object draw service times.
	Page, Object dist.Sampler
	// EWMAWeight is the ewma estimator's weight of a new wait.
	EWMAWeight float64
	// PageBytes and ObjectBytes size the real answers.
	PageBytes, ObjectBytes int
	// Upstream is the backend's base URL of a front ("" for a redirlab
	// server); a front's Page and Object samplers are never drawn.
	Upstream string
}

// Manager holds the timings of agents and manager.
type Manager struct {
	// Interval is the report interval; 0 is the simulator's exact view.
	Interval time.Duration
	// RealInterval is the interval real runs use: Interval, or
	// RealExactInterval when Interval is 0 (only a simulation can give
	// an exact view).
	RealInterval time.Duration
	// ViewTTL: a server ignores a view older than this.
	ViewTTL time.Duration
	// Expire: the manager marks down a server silent this long.
	Expire time.Duration
}

// RealExactInterval is the report interval a real run uses for a
// scenario that asks for an exact view.
const RealExactInterval = 10 * time.Millisecond

// Resolve resolves a validated scenario. It fails only where the
// scenario package let through something a driver cannot run (a
// scenario built in code rather than loaded).
func Resolve(sc *scenarios.Scenario) (*Plan, error) {
	if sc == nil {
		return nil, fmt.Errorf("plan: no scenario")
	}
	inst := sc.Instances()
	if len(inst) == 0 {
		return nil, fmt.Errorf("scenario %s: no servers", sc.Name)
	}
	if sc.Duration <= 0 {
		return nil, fmt.Errorf("scenario %s: duration: must be above 0, got %v", sc.Name, sc.Duration)
	}
	if sc.Warmup < 0 {
		return nil, fmt.Errorf("scenario %s: warmup: must not be negative, got %v", sc.Name, sc.Warmup)
	}
	p := &Plan{
		Scenario:       sc,
		Seed:           sc.Seed,
		Warmup:         sc.Warmup,
		Duration:       sc.Duration,
		Horizon:        sc.Warmup + sc.Duration,
		SampleInterval: orDefault(sc.SampleInterval, 100*time.Millisecond),
		RedirectStatus: cmp.Or(sc.Policy.Status, 302),
		RTT:            sc.Network.RTT,
		Overhead:       sc.Network.Overhead,
	}
	if p.RedirectStatus != 302 && p.RedirectStatus != 307 {
		return nil, fmt.Errorf("policy.status: must be 302 or 307, got %d", p.RedirectStatus)
	}
	var err error
	if p.Policy, err = policyConfig(sc); err != nil {
		return nil, err
	}
	ewma := sc.Policy.EWMAWeight
	if ewma <= 0 || ewma > 1 {
		ewma = 0.1
	}
	p.Weights = make([]float64, len(inst))
	for i, in := range inst {
		g := in.Group
		// The scenario package fills Workers and Capacity; a scenario
		// built in code gets the same defaults.
		s := Server{Index: i, Name: in.Name, Workers: cmp.Or(g.Workers, 1), Capacity: cmp.Or(g.QueueCapacity, 1024),
			EWMAWeight: ewma, PageBytes: g.PageBytes, ObjectBytes: g.ObjectBytes, Upstream: g.Upstream}
		if s.Workers < 1 {
			return nil, fmt.Errorf("server %s: workers: must be at least 1, got %d", in.Name, g.Workers)
		}
		if s.Capacity < 1 {
			return nil, fmt.Errorf("server %s: queue_capacity: must be at least 1, got %d", in.Name, g.QueueCapacity)
		}
		if s.Page, err = dist.New(g.Service); err != nil {
			return nil, fmt.Errorf("server %s: service: %w", in.Name, err)
		}
		if s.Object, err = dist.New(g.ObjectService); err != nil {
			return nil, fmt.Errorf("server %s: object_service: %w", in.Name, err)
		}
		if g.Weight < 0 {
			return nil, fmt.Errorf("server %s: weight: must not be negative, got %g", in.Name, g.Weight)
		}
		p.Weights[i] = g.Weight
		p.Servers = append(p.Servers, s)
	}

	m := &p.Manager
	m.Interval = sc.Interval()
	if m.Interval < 0 {
		return nil, fmt.Errorf("manager.report_interval: must not be negative, got %v", m.Interval)
	}
	m.RealInterval = cmp.Or(m.Interval, RealExactInterval)
	m.ViewTTL = orDefault(sc.Manager.ViewTTL, max(10*m.Interval, time.Second))
	m.Expire = orDefault(sc.Manager.Expire, max(3*m.Interval, 300*time.Millisecond))

	w := &sc.Workload
	if p.Dispatch, err = dispatch.Parse(w.Dispatch); err != nil {
		return nil, fmt.Errorf("workload.dispatch: %w", err)
	}
	p.Arrival = w.Arrival
	p.Closed = w.Arrival.Process == "closed"
	p.Concurrency, p.Requests = w.Arrival.Concurrency, w.Arrival.Requests
	if p.Closed && p.Concurrency < 1 {
		return nil, fmt.Errorf("workload.arrival.concurrency: must be at least 1 for the closed process, got %d", p.Concurrency)
	}
	if p.Closed && p.Requests < 0 {
		return nil, fmt.Errorf("workload.arrival.requests: must not be negative, got %d", p.Requests)
	}
	switch ss := w.Session; {
	case ss.Pages < 0:
		return nil, fmt.Errorf("workload.session.pages: must not be negative, got %d", ss.Pages)
	case ss.Objects < 0:
		return nil, fmt.Errorf("workload.session.objects: must not be negative, got %d", ss.Objects)
	case ss.Think < 0:
		return nil, fmt.Errorf("workload.session.think: must not be negative, got %v", ss.Think)
	}
	p.Session = model.Session{
		Pages:   max(w.Session.Pages, 1), // 0: the scenario default, for a session built in code
		Objects: w.Session.Objects,
		Think:   w.Session.Think,
		Horizon: p.Horizon,
	}
	p.Timeout = w.Timeout
	p.MaxInFlight = w.MaxInFlight
	p.MaxRedirects = w.MaxRedirects
	if p.MaxRedirects < 0 {
		return nil, fmt.Errorf("workload.max_redirects: must not be negative, got %d", p.MaxRedirects)
	}
	p.PagePath = cmp.Or(w.Path, "/page")
	if p.PagePath[0] != '/' {
		return nil, fmt.Errorf("workload.path: must start with '/', got %q", p.PagePath)
	}

	for k, f := range sc.Faults {
		kind, ok := model.ParseFaultKind(f.Action)
		if !ok {
			return nil, fmt.Errorf("faults[%d].action: unknown action %q", k, f.Action)
		}
		mf := model.Fault{Kind: kind, Server: f.ServerIndex, At: f.At, For: f.For, Factor: f.Factor, Loss: f.Loss}
		if kind == model.ManagerOutage {
			mf.Server = -1
		}
		if kind == model.LostReports && mf.Loss == 0 {
			mf.Loss = 1 // the scenario default, for a fault built in code
		}
		if f.Server != "" {
			i, ok := sc.Lookup(f.Server)
			if !ok {
				return nil, fmt.Errorf("faults[%d].server: unknown server %q", k, f.Server)
			}
			mf.Server = i
		}
		if mf.Server >= len(p.Servers) {
			return nil, fmt.Errorf("faults[%d].server: index %d out of range", k, mf.Server)
		}
		switch kind {
		case model.Slowdown, model.Crash, model.Restart:
			if mf.Server < 0 {
				return nil, fmt.Errorf("faults[%d].server: %s needs a server", k, f.Action)
			}
		}
		if kind == model.Slowdown && !(f.Factor > 0) {
			return nil, fmt.Errorf("faults[%d].factor: must be above 0, got %g", k, f.Factor)
		}
		if kind == model.LostReports && !(f.Loss > 0 && f.Loss <= 1) {
			return nil, fmt.Errorf("faults[%d].loss: must be in (0, 1], got %g", k, f.Loss)
		}
		p.Faults = append(p.Faults, mf)
	}
	p.FaultSteps = model.PlanFaults(p.Faults, p.Horizon)
	return p, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// policyConfig is the scenario's redirect policy for policy.Decide.
func policyConfig(sc *scenarios.Scenario) (policy.Config, error) {
	p := sc.Policy
	c := policy.Config{ProbeLimit: p.ProbeLimit, MaxHops: p.MaxHops, Fraction: 1}
	var err error
	if c.Condition, err = policy.ParseCondition(cmp.Or(p.Condition, "none")); err != nil {
		return c, fmt.Errorf("policy.condition: %w", err)
	}
	if c.Estimator, err = policy.ParseEstimator(cmp.Or(p.Estimator, "hol")); err != nil {
		return c, fmt.Errorf("policy.estimator: %w", err)
	}
	if c.Target, err = policy.ParseTarget(cmp.Or(p.Target, "least-loaded")); err != nil {
		return c, fmt.Errorf("policy.target: %w", err)
	}
	if c.Placement, err = policy.ParsePlacement(cmp.Or(sc.Manager.Decision, "local")); err != nil {
		return c, fmt.Errorf("manager.decision: %w", err)
	}
	if c.Action, err = policy.ParseAction(cmp.Or(p.Action, "redirect")); err != nil {
		return c, fmt.Errorf("policy.action: %w", err)
	}
	if p.Fraction != nil {
		c.Fraction = *p.Fraction
	}
	if c.Condition == policy.Adaptive {
		if c.Gradient, err = gradient(p.Adaptive); err != nil {
			return c, err
		}
	}
	switch c.Condition {
	case policy.QueueLength:
		c.LengthThreshold = p.Threshold.Count
	case policy.QueueDelay:
		c.DelayThreshold = p.Threshold.Delay
	}
	return c, nil
}

// gradient is the adaptive condition's rule; the scenario package fills
// the same defaults, a scenario built in code gets them here.
func gradient(a scenarios.Adaptive) (policy.Gradient, error) {
	g := policy.Gradient{
		Window: orDefault(a.Window, 100*time.Millisecond), InitialLimit: float64(a.InitialLimit),
		MinLimit: float64(max(a.MinLimit, 0)), MaxLimit: float64(a.MaxLimit), Buffer: 0.25, Smoothing: a.Smoothing,
	}
	g.MinLimit = cmp.Or(g.MinLimit, 3)
	g.MaxLimit = cmp.Or(g.MaxLimit, max(1000, g.MinLimit))
	g.InitialLimit = cmp.Or(g.InitialLimit, min(max(20, g.MinLimit), g.MaxLimit))
	if a.Buffer != nil {
		g.Buffer = *a.Buffer
	}
	g.MinRTTRequests = a.MinRTTRequests
	if g.MinRTTRequests <= 0 {
		g.MinRTTRequests = 50
	}
	g.Smoothing = cmp.Or(g.Smoothing, 0.2)
	switch {
	case g.MaxLimit < g.MinLimit:
		return g, fmt.Errorf("policy.adaptive.max_limit: must be at least min_limit (%g), got %g", g.MinLimit, g.MaxLimit)
	case g.InitialLimit < g.MinLimit || g.InitialLimit > g.MaxLimit:
		return g, fmt.Errorf("policy.adaptive.initial_limit: must be in [min_limit, max_limit] = [%g, %g], got %g", g.MinLimit, g.MaxLimit, g.InitialLimit)
	case !(g.Buffer >= 0):
		return g, fmt.Errorf("policy.adaptive.buffer: must not be negative, got %g", g.Buffer)
	case !(g.Smoothing > 0 && g.Smoothing <= 1):
		return g, fmt.Errorf("policy.adaptive.smoothing: must be in (0, 1], got %g", g.Smoothing)
	}
	return g, nil
}

// ServerConfig is server i's model configuration; rng is its policy
// stream.
func (p *Plan) ServerConfig(i int, rng *rand.Rand) model.ServerConfig {
	s := &p.Servers[i]
	return model.ServerConfig{
		Index: i, Workers: s.Workers, Capacity: s.Capacity,
		Page: s.Page, Object: s.Object, Policy: p.Policy,
		EWMAWeight: s.EWMAWeight, Rand: rng, Seed: p.Seed,
	}
}

// PolicyStream is server i's policy stream.
func (p *Plan) PolicyStream(i int) *rand.Rand {
	return rand.New(rand.NewPCG(p.Seed, model.StreamPolicy+uint64(i)))
}

// Stream is the run's random stream id.
func (p *Plan) Stream(id uint64) *rand.Rand { return rand.New(rand.NewPCG(p.Seed, id)) }

// RegistryConfig is the manager's model configuration.
func (p *Plan) RegistryConfig() model.RegistryConfig {
	workers := make([]int, len(p.Servers))
	for i := range p.Servers {
		workers[i] = p.Servers[i].Workers
	}
	return model.RegistryConfig{Workers: workers, Policy: p.Policy, Expire: p.Manager.Expire, Rand: p.Stream(model.StreamManager)}
}

// Names are the instance names by index.
func (p *Plan) Names() []string {
	out := make([]string, len(p.Servers))
	for i := range p.Servers {
		out[i] = p.Servers[i].Name
	}
	return out
}
