package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/policy"
)

// Limits that keep a scenario within what a run can hold; beyond them a
// value is almost certainly a typo.
const (
	maxInstances = 10000
	maxWorkers   = 100000
	maxBytes     = 1 << 30
	maxHopsLimit = 100
	// maxAdaptiveLimit bounds the adaptive concurrency limit.
	maxAdaptiveLimit = 1 << 20
)

// Names accepted by the schema's enumerations (the policy ones come from
// package policy, the dispatch ones from package dispatch).
var (
	distNames     = []string{"const", "exp", "lognormal", "pareto", "empirical"}
	dispatchNames = dispatch.Names()
	processNames  = []string{"constant", "poisson", "ramp", "steps", "mmpp", "trace", "closed"}
	actionNames   = []string{"slowdown", "crash", "restart", "manager-outage", "lost-reports"}
)

// namePattern is what group and variant names may look like: they end up
// in instance names, URLs, HTTP headers and directory names.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func oneOf(what, got string, names []string) string {
	return fmt.Sprintf("unknown %s %q (want one of %s)", what, got, strings.Join(names, ", "))
}

// validate fills the scenario's defaults and checks every field.
func (s *Scenario) validate(r *reader) error {
	if s.Name == "" {
		s.Name = defaultName(r.file)
	}
	if !r.has("seed") {
		s.Seed = 1
	}
	if !r.has("duration") {
		return r.errf("duration", "required: the measured part of the run, such as 20s")
	}
	if s.Duration <= 0 {
		return r.errf("duration", "must be above 0")
	}
	// Far beyond any run, and small enough that warmup + duration and
	// the times derived from them cannot overflow.
	const longest = 1_000_000 * time.Hour
	if s.Duration > longest {
		return r.errf("duration", "must be at most %s", fmtDuration(longest))
	}
	if s.Warmup > longest {
		return r.errf("warmup", "must be at most %s", fmtDuration(longest))
	}
	if !r.has("replications") {
		s.Replications = 1
	} else if s.Replications < 1 || s.Replications > 10000 {
		return r.errf("replications", "must be from 1 to 10000, got %d", s.Replications)
	}
	s.SampleIntervalDefault = !r.has("sample_interval")
	if s.SampleIntervalDefault {
		s.SampleInterval = 100 * time.Millisecond
	} else if s.SampleInterval <= 0 {
		return r.errf("sample_interval", "must be above 0")
	}
	if len(s.Servers) == 0 {
		return r.errf("servers", "required: at least one server group, such as {name: web, count: 3, service: {dist: exp, mean: 10ms}}")
	}
	total := 0
	for i := range s.Servers {
		p := indexPath("servers", i)
		if err := s.Servers[i].validate(r, p); err != nil {
			return err
		}
		total += s.Servers[i].Count
		if total > maxInstances {
			return r.errf(joinPath(p, "count"), "the scenario would have more than %d servers", maxInstances)
		}
	}
	if err := s.checkNames(r); err != nil {
		return err
	}
	if err := s.Manager.validate(r, "manager"); err != nil {
		return err
	}
	if err := s.Policy.validate(r, "policy", total); err != nil {
		return err
	}
	if s.Policy.Condition == "adaptive" && s.Manager.Decision == "central" {
		return r.errf(joinPath("manager", "decision"), "central cannot decide condition adaptive: each server keeps its own limit from its own latencies; write decision: local")
	}
	if err := s.checkFrontPolicy(r); err != nil {
		return err
	}
	if err := s.Workload.validate(r, "workload", s); err != nil {
		return err
	}
	if err := s.Network.validate(r, "network"); err != nil {
		return err
	}
	for i := range s.Faults {
		if err := s.Faults[i].validate(r, indexPath("faults", i), s); err != nil {
			return err
		}
	}
	if err := s.checkVariants(r); err != nil {
		return err
	}
	var err error
	s.Limits, err = s.resolveThresholds(r, "thresholds", s.Thresholds)
	return err
}

// defaultName names a scenario without a name after its file.
func defaultName(file string) string {
	base := strings.TrimPrefix(file, "embedded:")
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	for _, ext := range []string{".yaml", ".yml"} {
		base = strings.TrimSuffix(base, ext)
	}
	if base == "" {
		return "scenario"
	}
	return base
}

// checkNames makes sure every instance answers to exactly one name.
func (s *Scenario) checkNames(r *reader) error {
	owner := map[string]int{} // name -> group index
	for gi, g := range s.Servers {
		p := joinPath(indexPath("servers", gi), "name")
		names := make([]string, 0, g.Count+1)
		for i := 1; i <= g.Count; i++ {
			names = append(names, fmt.Sprintf("%s-%d", g.Name, i))
		}
		if g.Count == 1 {
			names = append(names, g.Name)
		}
		for _, n := range names {
			if other, dup := owner[n]; dup {
				if other == gi {
					continue
				}
				if s.Servers[other].Name == g.Name {
					return r.errf(p, "group name %q is already used by servers[%d]", g.Name, other)
				}
				return r.errf(p, "server name %q would also name a server of servers[%d] (%s); rename one group", n, other, s.Servers[other].Name)
			}
			owner[n] = gi
		}
	}
	return nil
}

func (s *Scenario) checkVariants(r *reader) error {
	seen := map[string]int{}
	for i, v := range s.Variants {
		p := indexPath("variants", i)
		switch {
		case v.Name == "":
			return r.errf(joinPath(p, "name"), "required: the variant's name, such as no-redirect")
		case v.Name == "base":
			return r.errf(joinPath(p, "name"), `"base" names the scenario as written; choose another name`)
		case !namePattern.MatchString(v.Name):
			return r.errf(joinPath(p, "name"), "%q must be letters, digits, '-', '_' or '.' (it names a results directory)", v.Name)
		}
		if first, dup := seen[v.Name]; dup {
			return r.errf(joinPath(p, "name"), "duplicate variant name %q (also variants[%d])", v.Name, first)
		}
		seen[v.Name] = i
		if len(v.Set) == 0 {
			return r.errf(joinPath(p, "set"), "required: the settings that make the variant differ, such as {policy.condition: none}")
		}
		for _, key := range sortedKeys(v.Set) {
			segs, msg := parseSetPath(key)
			kp := joinPath(joinPath(p, "set"), key)
			if msg != "" {
				return r.errf(kp, "%s", msg)
			}
			switch segs[0].key {
			case "variants", "name", "seed":
				return r.errf(kp, "variants share the scenario's %s; a variant cannot set it", segs[0].key)
			case "thresholds":
				return r.errf(kp, "a variant's thresholds go under its own thresholds key, not set")
			}
		}
		if _, err := s.resolveThresholds(r, joinPath(p, "thresholds"), v.Thresholds); err != nil {
			return err
		}
	}
	return nil
}

func (g *ServerGroup) validate(r *reader, path string) error {
	if g.Name == "" {
		return r.errf(joinPath(path, "name"), "required: the group's name, such as web")
	}
	if !namePattern.MatchString(g.Name) {
		return r.errf(joinPath(path, "name"), "%q must be letters, digits, '-', '_' or '.' (at most 64)", g.Name)
	}
	if err := count(r, joinPath(path, "count"), &g.Count, 1, 1, maxInstances); err != nil {
		return err
	}
	if err := count(r, joinPath(path, "workers"), &g.Workers, 1, 1, maxWorkers); err != nil {
		return err
	}
	if err := count(r, joinPath(path, "queue_capacity"), &g.QueueCapacity, 1024, 1, math.MaxInt32); err != nil {
		return err
	}
	if g.QueueCapacity < g.Workers {
		given := "got"
		if !r.has(joinPath(path, "queue_capacity")) {
			given = "not written, so the default"
		}
		return r.errf(joinPath(path, "queue_capacity"), "must be at least workers (%d), %s %d: it counts requests in service too", g.Workers, given, g.QueueCapacity)
	}
	if !r.has(joinPath(path, "weight")) {
		g.Weight = 1
	} else if g.Weight < 0 {
		return r.errf(joinPath(path, "weight"), "must not be negative, got %g", g.Weight)
	}
	if g.Upstream != "" || r.has(joinPath(path, "upstream")) {
		return g.validateUpstream(r, path)
	}
	if err := g.Service.validate(r, joinPath(path, "service")); err != nil {
		return err
	}
	if !r.has(joinPath(path, "object_service")) {
		g.ObjectService = Service{Dist: "const"}
	} else if err := g.ObjectService.validate(r, joinPath(path, "object_service")); err != nil {
		return err
	}
	if err := count(r, joinPath(path, "page_bytes"), &g.PageBytes, 2048, 0, maxBytes); err != nil {
		return err
	}
	if err := count(r, joinPath(path, "object_bytes"), &g.ObjectBytes, 8192, 0, maxBytes); err != nil {
		return err
	}
	return nil
}

// count fills an integer field's default when absent and checks its range
// when given.
func count(r *reader, path string, v *int, def, lo, hi int) error {
	if !r.has(path) {
		*v = def
		return nil
	}
	if *v < lo {
		if lo == 0 {
			return r.errf(path, "must not be negative, got %d", *v)
		}
		return r.errf(path, "must be at least %d, got %d", lo, *v)
	}
	if *v > hi {
		return r.errf(path, "must be at most %d, got %d", hi, *v)
	}
	return nil
}

// validate checks a service-time distribution and fills its defaults.
func (s *Service) validate(r *reader, path string) error {
	dp := joinPath(path, "dist")
	if s.Dist == "bounded-pareto" {
		s.Dist = "pareto"
	}
	if s.Dist == "" {
		return r.errf(dp, "required: one of %s", strings.Join(distNames, ", "))
	}
	if !slices.Contains(distNames, s.Dist) {
		return r.errf(dp, "%s", oneOf("dist", s.Dist, distNames))
	}
	mp := joinPath(path, "mean")
	switch s.Dist {
	case "const":
		// A const service may take no time at all (objects from memory).
	case "exp", "lognormal":
		if !r.has(mp) {
			return r.errf(mp, "required for %s: the mean service time, such as 10ms", s.Dist)
		}
		if s.Mean <= 0 {
			return r.errf(mp, "must be above 0 for %s", s.Dist)
		}
		if s.Dist == "lognormal" {
			if !r.has(joinPath(path, "cv")) {
				s.CV = 1
			} else if s.CV < 0 {
				return r.errf(joinPath(path, "cv"), "must not be negative, got %g", s.CV)
			}
		}
	case "pareto":
		return s.validatePareto(r, path)
	case "empirical":
		fp := joinPath(path, "file")
		if s.File == "" {
			return r.errf(fp, "required for empirical: a file of service times, one per line")
		}
		samples, err := r.readFile(fp, s.File, parseSamples)
		if err != nil {
			return err
		}
		s.Samples = samples
		var sum float64
		for _, d := range samples {
			sum += float64(d)
		}
		s.Mean = time.Duration(sum / float64(len(samples)))
	}
	return nil
}

// paretoMean is the mean of the bounded Pareto on [lo, hi] with tail
// index alpha.
func paretoMean(lo, hi, alpha float64) float64 {
	if alpha == 1 {
		return lo * hi / (hi - lo) * math.Log(hi/lo)
	}
	return math.Pow(lo, alpha) / (1 - math.Pow(lo/hi, alpha)) * alpha / (alpha - 1) *
		(math.Pow(lo, 1-alpha) - math.Pow(hi, 1-alpha))
}

// validatePareto fills Alpha, Min, Max and Mean of a bounded Pareto from
// whichever of them were given: min (and max) fix the mean; otherwise
// the mean (and max) fix min.
func (s *Service) validatePareto(r *reader, path string) error {
	ap, mp := joinPath(path, "alpha"), joinPath(path, "mean")
	minp, maxp := joinPath(path, "min"), joinPath(path, "max")
	if !r.has(ap) {
		s.Alpha = 1.5
	} else if s.Alpha <= 0 || s.Alpha > 100 {
		return r.errf(ap, "must be above 0 and at most 100, got %g", s.Alpha)
	}
	if r.has(minp) {
		if s.Min <= 0 {
			return r.errf(minp, "must be above 0")
		}
		if !r.has(maxp) {
			if s.Min > math.MaxInt64/1000 {
				return r.errf(minp, "too large")
			}
			s.Max = 1000 * s.Min
		} else if s.Max <= s.Min {
			return r.errf(maxp, "must be above min (%s)", fmtDuration(s.Min))
		}
		mean := time.Duration(paretoMean(float64(s.Min), float64(s.Max), s.Alpha))
		if r.has(mp) && math.Abs(float64(s.Mean-mean)) > 0.01*float64(mean) {
			return r.errf(mp, "%s disagrees with min, max and alpha, which give a mean of %s; give mean or min, not both", fmtDuration(s.Mean), fmtDuration(mean))
		}
		if !r.has(mp) {
			s.Mean = mean
		}
		return nil
	}
	if !r.has(mp) {
		return r.errf(mp, "required for pareto (or give min): the mean service time, such as 10ms")
	}
	if s.Mean <= 0 {
		return r.errf(mp, "must be above 0 for pareto")
	}
	mean := float64(s.Mean)
	if !r.has(maxp) {
		// With max = 1000 × min the mean is proportional to min.
		lo := mean / paretoMean(1, 1000, s.Alpha)
		s.Min, s.Max = time.Duration(lo), time.Duration(1000*lo)
		if s.Min <= 0 {
			return r.errf(mp, "too small for a bounded Pareto with max = 1000 × min")
		}
		return nil
	}
	hi := float64(s.Max)
	if s.Max <= s.Mean {
		return r.errf(maxp, "must be above the mean (%s)", fmtDuration(s.Mean))
	}
	// The mean grows with min, so bisect for the min that gives it.
	a, b := hi*1e-9, hi
	if paretoMean(a, hi, s.Alpha) > mean {
		return r.errf(mp, "%s is out of reach with max %s and alpha %g; raise max or alpha", fmtDuration(s.Mean), fmtDuration(s.Max), s.Alpha)
	}
	for range 200 {
		m := (a + b) / 2
		if paretoMean(m, hi, s.Alpha) < mean {
			a = m
		} else {
			b = m
		}
	}
	s.Min = time.Duration((a + b) / 2)
	if s.Min <= 0 || s.Min >= s.Max {
		return r.errf(mp, "%s is out of reach with max %s and alpha %g", fmtDuration(s.Mean), fmtDuration(s.Max), s.Alpha)
	}
	return nil
}

func (m *Manager) validate(r *reader, path string) error {
	rp := joinPath(path, "report_interval")
	if m.ReportInterval == nil {
		d := 100 * time.Millisecond
		m.ReportInterval = &d
	}
	ri := *m.ReportInterval
	dp := joinPath(path, "decision")
	if m.Decision == "" {
		m.Decision = "local"
	}
	placement, err := policy.ParsePlacement(m.Decision)
	if err != nil {
		return r.errf(dp, "%s", oneOf("decision", m.Decision, policy.PlacementNames()))
	}
	if placement == policy.Central && ri == 0 {
		return r.errf(rp, "must be above 0 for decision central: the manager decides once per report interval")
	}
	if !r.has(joinPath(path, "view_ttl")) {
		m.ViewTTL = max(10*ri, time.Second)
	} else if m.ViewTTL <= 0 {
		return r.errf(joinPath(path, "view_ttl"), "must be above 0")
	}
	if !r.has(joinPath(path, "expire")) {
		m.Expire = max(3*ri, 300*time.Millisecond)
	} else if m.Expire <= 0 {
		return r.errf(joinPath(path, "expire"), "must be above 0")
	}
	return nil
}

func (p *Policy) validate(r *reader, path string, servers int) error {
	cp := joinPath(path, "condition")
	if p.Condition == "" {
		p.Condition = "none"
	}
	cond, err := policy.ParseCondition(p.Condition)
	if err != nil {
		return r.errf(cp, "%s", oneOf("condition", p.Condition, policy.ConditionNames()))
	}
	if err := p.Threshold.resolve(r, joinPath(path, "threshold"), cond); err != nil {
		return err
	}
	if p.Estimator == "" {
		p.Estimator = "hol"
	}
	if _, err := policy.ParseEstimator(p.Estimator); err != nil {
		return r.errf(joinPath(path, "estimator"), "%s", oneOf("estimator", p.Estimator, policy.EstimatorNames()))
	}
	if wp := joinPath(path, "ewma_weight"); !r.has(wp) {
		p.EWMAWeight = 0.1
	} else if p.EWMAWeight <= 0 || p.EWMAWeight > 1 {
		return r.errf(wp, "must be in (0, 1], got %g", p.EWMAWeight)
	}
	if p.Target == "" {
		p.Target = "least-loaded"
	}
	if _, err := policy.ParseTarget(p.Target); err != nil {
		return r.errf(joinPath(path, "target"), "%s", oneOf("target", p.Target, policy.TargetNames()))
	}
	if err := count(r, joinPath(path, "probe_limit"), &p.ProbeLimit, 3, 1, maxInstances); err != nil {
		return err
	}
	hp := joinPath(path, "max_hops")
	if r.has(hp) && p.MaxHops < 1 {
		return r.errf(hp, "must be at least 1, got %d (for no redirects write condition: none)", p.MaxHops)
	}
	if err := count(r, hp, &p.MaxHops, 1, 1, maxHopsLimit); err != nil {
		return err
	}
	if p.Fraction == nil {
		one := 1.0
		p.Fraction = &one
	} else if *p.Fraction <= 0 || *p.Fraction > 1 {
		return r.errf(joinPath(path, "fraction"), "must be in (0, 1], got %g", *p.Fraction)
	}
	if sp := joinPath(path, "status"); !r.has(sp) {
		p.Status = 302
	} else if p.Status != 302 && p.Status != 307 {
		return r.errf(sp, "must be 302 or 307, got %d", p.Status)
	}
	ap := joinPath(path, "action")
	if p.Action == "" {
		p.Action = "redirect"
	}
	action, err := policy.ParseAction(p.Action)
	if err != nil {
		return r.errf(ap, "%s", oneOf("action", p.Action, policy.ActionNames()))
	}
	if cond != policy.None && action == policy.Redirect && servers < 2 {
		return r.errf(cp, "%s needs at least 2 servers to redirect between; the scenario has %d (or write action: shed)", p.Condition, servers)
	}
	if cond == policy.Adaptive && action == policy.Redirect && p.Target == "probe" {
		return r.errf(joinPath(path, "target"), "probe reads its peers' conditions from the manager's view, which carries no adaptive limit: choose another target for condition adaptive")
	}
	return p.Adaptive.validate(r, joinPath(path, "adaptive"))
}

// validate fills the gradient rule's defaults: Envoy's min_concurrency (3),
// max_concurrency_limit (1000), minRTT request_count (50) and buffer
// (25%), a 100ms
// window as in Envoy's examples, and Gradient2Limit's initial limit (20)
// and smoothing (0.2).
func (a *Adaptive) validate(r *reader, path string) error {
	if wp := joinPath(path, "window"); !r.has(wp) {
		a.Window = 100 * time.Millisecond
	} else if a.Window <= 0 {
		return r.errf(wp, "must be above 0, got %v", a.Window)
	}
	if err := count(r, joinPath(path, "min_limit"), &a.MinLimit, 3, 1, maxAdaptiveLimit); err != nil {
		return err
	}
	if err := count(r, joinPath(path, "max_limit"), &a.MaxLimit, max(1000, a.MinLimit), a.MinLimit, maxAdaptiveLimit); err != nil {
		return err
	}
	if err := count(r, joinPath(path, "initial_limit"), &a.InitialLimit, min(max(20, a.MinLimit), a.MaxLimit), a.MinLimit, a.MaxLimit); err != nil {
		return err
	}
	if err := count(r, joinPath(path, "min_rtt_requests"), &a.MinRTTRequests, 50, 1, 1<<20); err != nil {
		return err
	}
	if a.Buffer == nil {
		b := 0.25
		a.Buffer = &b
	} else if !(*a.Buffer >= 0 && *a.Buffer <= 10) {
		return r.errf(joinPath(path, "buffer"), "must be in [0, 10], got %g", *a.Buffer)
	}
	if sp := joinPath(path, "smoothing"); !r.has(sp) {
		a.Smoothing = 0.2
	} else if !(a.Smoothing > 0 && a.Smoothing <= 1) {
		return r.errf(sp, "must be in (0, 1], got %g", a.Smoothing)
	}
	return nil
}

// resolve reads the threshold as the kind its condition needs: a count
// for queue-length, a duration for queue-delay. Under condition none a
// threshold may stay as either (a variant may switch the condition on).
func (t *Threshold) resolve(r *reader, path string, cond policy.Condition) error {
	raw := strings.TrimSpace(t.Raw)
	t.Count, t.Delay = 0, 0
	n, intErr := strconv.Atoi(raw)
	switch cond {
	case policy.QueueLength:
		if raw == "" {
			return r.errf(path, "required for queue-length: a count such as 8")
		}
		if intErr != nil {
			if _, msg := parseDuration(raw); msg == "" {
				return r.errf(path, "queue-length needs a count such as 8, got %s", raw)
			}
			return r.errf(path, "must be a count such as 8, got %q", raw)
		}
		if n < 0 {
			return r.errf(path, "must not be negative, got %d", n)
		}
		t.Count = n
	case policy.QueueDelay:
		if raw == "" {
			return r.errf(path, "required for queue-delay: a duration such as 40ms")
		}
		if intErr == nil && n != 0 {
			return r.errf(path, "queue-delay needs a duration such as 40ms, got %s", raw)
		}
		d, msg := parseDuration(raw)
		if msg != "" {
			return r.errf(path, "%s", msg)
		}
		t.Delay = d
	default:
		if raw == "" {
			return nil
		}
		if intErr == nil {
			if n < 0 {
				return r.errf(path, "must not be negative, got %d", n)
			}
			t.Count = n
			return nil
		}
		d, msg := parseDuration(raw)
		if msg != "" {
			return r.errf(path, "must be a count such as 8 or a duration such as 40ms, got %q", raw)
		}
		t.Delay = d
	}
	return nil
}

func (w *Workload) validate(r *reader, path string, s *Scenario) error {
	dp := joinPath(path, "dispatch")
	if w.Dispatch == "" {
		w.Dispatch = "random"
	}
	if !slices.Contains(dispatchNames, w.Dispatch) {
		return r.errf(dp, "%s", oneOf("dispatch", w.Dispatch, dispatchNames))
	}
	if w.Dispatch == "weighted" {
		var sum float64
		for _, g := range s.Servers {
			sum += g.Weight * float64(g.Count)
		}
		if sum <= 0 {
			return r.errf(dp, "weighted dispatch needs a server group with weight above 0")
		}
	}
	if !r.has(joinPath(path, "arrival")) {
		return r.errf(joinPath(path, "arrival"), "required: the arrival process, such as {process: poisson, rate: 900/s}")
	}
	if err := w.Arrival.validate(r, joinPath(path, "arrival")); err != nil {
		return err
	}
	if err := w.Session.validate(r, joinPath(path, "session")); err != nil {
		return err
	}
	if tp := joinPath(path, "timeout"); !r.has(tp) {
		w.Timeout = 10 * time.Second
	} else if w.Timeout <= 0 {
		return r.errf(tp, "must be above 0")
	}
	if err := count(r, joinPath(path, "max_in_flight"), &w.MaxInFlight, 10000, 1, 10_000_000); err != nil {
		return err
	}
	mp := joinPath(path, "max_redirects")
	if err := count(r, mp, &w.MaxRedirects, 10, 0, 1000); err != nil {
		return err
	}
	if s.Policy.Condition != "none" && w.MaxRedirects < s.Policy.MaxHops {
		return r.errf(mp, "%d is below policy.max_hops (%d): browsers would give up on redirects the policy makes", w.MaxRedirects, s.Policy.MaxHops)
	}
	pp := joinPath(path, "path")
	if w.Path == "" {
		w.Path = "/page"
	}
	switch {
	case !strings.HasPrefix(w.Path, "/") || strings.ContainsAny(w.Path, " \t\r\n?#"):
		return r.errf(pp, "must be a URL path starting with / (no query), got %q", w.Path)
	case w.Path == "/status" || w.Path == "/metrics" || strings.HasPrefix(w.Path, "/object/"):
		return r.errf(pp, "%s is reserved by the server", w.Path)
	}
	return nil
}

func (a *Arrival) validate(r *reader, path string) error {
	pp := joinPath(path, "process")
	if a.Process == "" {
		return r.errf(pp, "required: one of %s", strings.Join(processNames, ", "))
	}
	if !slices.Contains(processNames, a.Process) {
		return r.errf(pp, "%s", oneOf("process", a.Process, processNames))
	}
	rate := func(p string) error {
		if !r.has(p) {
			return r.errf(p, "required for %s: a rate such as 900/s", a.Process)
		}
		return nil
	}
	switch a.Process {
	case "constant", "poisson":
		rp := joinPath(path, "rate")
		if err := rate(rp); err != nil {
			return err
		}
		if a.Rate <= 0 {
			return r.errf(rp, "must be above 0")
		}
	case "ramp":
		for _, f := range []string{"from", "to"} {
			if err := rate(joinPath(path, f)); err != nil {
				return err
			}
		}
		if a.From == 0 && a.To == 0 {
			return r.errf(joinPath(path, "to"), "from and to are both 0: the ramp would send nothing")
		}
	case "steps":
		sp := joinPath(path, "steps")
		if len(a.Steps) == 0 {
			return r.errf(sp, "required for steps: at least one {rate, for}, such as [{rate: 500/s, for: 5s}, {rate: 1500/s}]")
		}
		var peak Rate
		for i, st := range a.Steps {
			ip := indexPath(sp, i)
			if err := rate(joinPath(ip, "rate")); err != nil {
				return err
			}
			peak = max(peak, st.Rate)
			if i < len(a.Steps)-1 && st.For <= 0 {
				return r.errf(joinPath(ip, "for"), "required above 0 for every step but the last (the last holds to the end)")
			}
		}
		if peak == 0 {
			return r.errf(sp, "every step has rate 0: nothing would be sent")
		}
	case "mmpp":
		sp := joinPath(path, "states")
		if len(a.States) < 2 {
			return r.errf(sp, "mmpp needs at least 2 states, got %d", len(a.States))
		}
		var peak Rate
		for i, st := range a.States {
			ip := indexPath(sp, i)
			if err := rate(joinPath(ip, "rate")); err != nil {
				return err
			}
			peak = max(peak, st.Rate)
			if st.Dwell <= 0 {
				return r.errf(joinPath(ip, "dwell"), "required above 0: the mean time spent in the state, such as 2s")
			}
		}
		if peak == 0 {
			return r.errf(sp, "every state has rate 0: nothing would be sent")
		}
	case "trace":
		fp := joinPath(path, "file")
		if a.File == "" {
			return r.errf(fp, "required for trace: a file of arrival offsets or an access log")
		}
		offs, err := r.readFile(fp, a.File, parseTrace)
		if err != nil {
			return err
		}
		a.Offsets = offs
	case "closed":
		cp := joinPath(path, "concurrency")
		if !r.has(cp) {
			return r.errf(cp, "required for closed: the number of browsers, such as 50")
		}
		if err := count(r, cp, &a.Concurrency, 0, 1, 1_000_000); err != nil {
			return err
		}
		if err := count(r, joinPath(path, "requests"), &a.Requests, 0, 0, math.MaxInt); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) validate(r *reader, path string) error {
	if err := count(r, joinPath(path, "pages"), &s.Pages, 1, 1, 1_000_000); err != nil {
		return err
	}
	return count(r, joinPath(path, "objects"), &s.Objects, 0, 0, 10000)
}

func (n *Network) validate(r *reader, path string) error {
	if !r.has(joinPath(path, "rtt")) {
		n.RTT = 200 * time.Microsecond
	}
	return nil
}

func (f *Fault) validate(r *reader, path string, s *Scenario) error {
	ap := joinPath(path, "action")
	if f.Action == "" {
		return r.errf(ap, "required: one of %s", strings.Join(actionNames, ", "))
	}
	if !slices.Contains(actionNames, f.Action) {
		return r.errf(ap, "%s", oneOf("action", f.Action, actionNames))
	}
	atp := joinPath(path, "at")
	if !r.has(atp) {
		return r.errf(atp, "required: when the fault starts, since run start (warmup included), such as 8s")
	}
	// A fault after the end of the run is allowed: it never happens, so
	// that --set duration=5s still runs a scenario with a fault at 8s.
	sp := joinPath(path, "server")
	f.ServerIndex = -1
	switch f.Action {
	case "manager-outage":
		if f.Server != "" {
			return r.errf(sp, "manager-outage stops the manager, not a server; remove server")
		}
	case "lost-reports":
		// Without a server, every agent's reports are lost.
	default:
		if f.Server == "" {
			return r.errf(sp, "required for %s: the server's name, such as %s", f.Action, s.Instances()[0].Name)
		}
	}
	if f.Server != "" {
		i, ok := s.Lookup(f.Server)
		if !ok {
			return r.errf(sp, "unknown server %q (servers: %s)", f.Server, s.serverList(20))
		}
		f.ServerIndex = i
		if err := checkFrontFault(r, sp, f, s.Instances()[i]); err != nil {
			return err
		}
	}
	fp := joinPath(path, "factor")
	if f.Action == "slowdown" {
		if !r.has(fp) {
			return r.errf(fp, "required for slowdown: how many times longer service takes, such as 3")
		}
		if f.Factor <= 0 {
			return r.errf(fp, "must be above 0, got %g", f.Factor)
		}
	}
	lp := joinPath(path, "loss")
	if f.Action == "lost-reports" {
		if !r.has(lp) {
			f.Loss = 1
		} else if f.Loss <= 0 || f.Loss > 1 {
			return r.errf(lp, "must be in (0, 1], got %g", f.Loss)
		}
	}
	if f.Action == "restart" {
		crashed := false
		for _, c := range s.Faults {
			if c.Action != "crash" || c.At >= f.At {
				continue
			}
			if i, ok := s.Lookup(c.Server); ok && i == f.ServerIndex {
				crashed = true
			}
		}
		if !crashed {
			return r.errf(path, "restart of %s at %s follows no crash of it", f.Server, fmtDuration(f.At))
		}
	}
	return nil
}

// serverList names the servers for error messages, at most limit of them.
func (s *Scenario) serverList(limit int) string {
	var names []string
	for _, in := range s.Instances() {
		if len(names) == limit {
			names = append(names, "...")
			break
		}
		if in.Group.Count == 1 {
			names = append(names, in.Group.Name)
		} else {
			names = append(names, in.Name)
		}
	}
	return strings.Join(names, ", ")
}
