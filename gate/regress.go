package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/stats"
	"github.com/redirlab/redirlab/scenarios"
)

// Run is one run's replications, ordered by seed.
type Run struct {
	// Name is the run's place in its results tree: "" for a single run,
	// the variant, or a sweep point and variant ("03-900_s/base").
	Name string
	// Dirs are the replications' directories, in the order of Summaries.
	Dirs      []string
	Summaries []*results.Summary
}

// Load reads every summary under path: a summary.json file, a run, a
// run with variants or replications, or a sweep. Replications
// (rep-N directories) of one run are grouped.
func Load(path string) ([]Run, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		s, err := readSummaryFile(path)
		if err != nil {
			return nil, err
		}
		return []Run{{Dirs: []string{filepath.Dir(path)}, Summaries: []*results.Summary{s}}}, nil
	}
	byName := map[string]*Run{}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != results.SummaryFile {
			return nil
		}
		dir := filepath.Dir(p)
		rel, err := filepath.Rel(path, dir)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if name == "." {
			name = ""
		}
		if base := filepath.Base(name); strings.HasPrefix(base, "rep-") {
			if _, err := strconv.Atoi(base[4:]); err == nil {
				name = strings.TrimSuffix(strings.TrimSuffix(name, base), "/")
			}
		}
		s, err := readSummaryFile(p)
		if err != nil {
			return err
		}
		r := byName[name]
		if r == nil {
			r = &Run{Name: name}
			byName[name] = r
		}
		r.Dirs = append(r.Dirs, dir)
		r.Summaries = append(r.Summaries, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(byName) == 0 {
		return nil, fmt.Errorf("%s: no %s under it: not a results directory", path, results.SummaryFile)
	}
	var out []Run
	for _, r := range byName {
		idx := make([]int, len(r.Summaries))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return r.Summaries[idx[a]].Seed < r.Summaries[idx[b]].Seed })
		run := Run{Name: r.Name}
		for _, i := range idx {
			run.Dirs = append(run.Dirs, r.Dirs[i])
			run.Summaries = append(run.Summaries, r.Summaries[i])
		}
		out = append(out, run)
	}
	slices.SortFunc(out, func(a, b Run) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// readSummaryFile reads and checks one summary.json: bad JSON, unknown
// fields or impossible figures are errors naming the file.
func readSummaryFile(path string) (*results.Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s results.Summary
	if err := dec.Decode(&s); err != nil {
		return nil, results.SummaryJSONError(path, data, err)
	}
	if dec.More() {
		return nil, &results.BadFile{Err: fmt.Errorf("%s: trailing data after the summary", path)}
	}
	// The same checks every reader of summaries makes.
	if err := s.Check(); err != nil {
		return nil, &results.BadFile{Err: fmt.Errorf("%s: not a redirlab summary: %w", path, err)}
	}
	return &s, nil
}

// Direction is which way a metric gets worse.
type Direction int8

const (
	// Either: any change beyond the tolerance is a regression (the
	// workload itself, per-server shares).
	Either Direction = iota
	// Up: higher is worse (latency, errors, rejections).
	Up
	// Down: lower is worse (throughput, completions).
	Down
)

// direction of a metric.
func direction(metric string) Direction {
	switch {
	case strings.HasPrefix(metric, "latency_ms."), strings.HasPrefix(metric, "send_lag_ms."),
		metric == "requests.errors", metric == "requests.rejected", metric == "requests.shed", metric == "requests.timeouts", metric == "requests.interrupted",
		strings.HasSuffix(metric, ".rejected"), strings.HasSuffix(metric, "queue_length"), strings.HasSuffix(metric, "queue_delay_ms"),
		metric == "redirects.rate", metric == "redirects.total":
		return Up
	case metric == "throughput_rps", metric == "requests.completed":
		return Down
	}
	return Either
}

// Tolerance is how much a metric may change before the change counts:
// a fraction of the baseline (Relative) or an amount in the metric's
// unit.
type Tolerance struct {
	Value    float64
	Relative bool
}

func (t Tolerance) String() string {
	if t.Relative {
		return strconv.FormatFloat(100*t.Value, 'g', 4, 64) + "%"
	}
	return strconv.FormatFloat(t.Value, 'g', 4, 64)
}

// Allows reports whether a change from base to now stays within t.
func (t Tolerance) Allows(base, now float64) bool {
	limit := t.Value
	if t.Relative {
		limit = t.Value * math.Abs(base)
	}
	return math.Abs(now-base) <= limit+1e-12*math.Abs(base)
}

// ParseTolerances reads "latency_ms.p99=10%,redirects.rate=0.02".
func ParseTolerances(s string) (map[string]Tolerance, error) {
	out := map[string]Tolerance{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--tolerance %q: want metric=10%% or metric=0.02", part)
		}
		t := Tolerance{}
		if num, found := strings.CutSuffix(v, "%"); found {
			t.Relative, v = true, num
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || !finite(x) {
			return nil, fmt.Errorf("--tolerance %s: %q is not a non-negative number or percentage", k, part)
		}
		if t.Relative {
			x /= 100
		}
		t.Value = x
		if _, twice := out[k]; twice {
			return nil, fmt.Errorf("--tolerance %s: given twice: give each metric once", k)
		}
		if !t.Relative && x > 1 && scenarios.IsFraction(k) {
			return nil, fmt.Errorf("--tolerance %s=%s: %s is a fraction from 0 to 1, so a change of more than 1 cannot happen and the gate could never fail it; write 0.02 for 2 percentage points", k, v, k)
		}
		out[k] = t
	}
	return out, nil
}

// CheckTolerances refuses a tolerance for a metric no summary has (a
// typo would fall back to the default without a word).
func CheckTolerances(t map[string]Tolerance) error {
	for k := range t {
		if slices.Contains(scenarios.Metrics, k) {
			continue
		}
		if _, field, ok := scenarios.SplitServerMetric(k); ok && slices.Contains(scenarios.ServerMetrics, field) {
			continue
		}
		return fmt.Errorf("--tolerance %s: unknown metric: one of %s, or servers[NAME].FIELD (servers[*].FIELD for every server)", k, strings.Join(scenarios.Metrics, ", "))
	}
	return nil
}

// DefaultTolerance is a metric's tolerance unless --tolerance sets one:
// 0.02 for rates and utilizations (fractions), 10% for everything else.
func DefaultTolerance(metric string) Tolerance {
	if scenarios.IsFraction(metric) {
		return Tolerance{Value: 0.02}
	}
	return Tolerance{Value: 0.10, Relative: true}
}

// Options configure Regress.
type Options struct {
	// Tolerances by metric; others get DefaultTolerance. A pattern
	// "servers[*].utilization" applies to every server.
	Tolerances map[string]Tolerance
	// Exact fails on any difference at all between the summaries
	// (seeded simulations are deterministic).
	Exact bool
	// Alpha is the family-wise significance level, Holm-corrected across
	// the metrics of a run. Default 0.05.
	Alpha float64
	// Health decides which runs are inconclusive.
	Health Health
}

// Comparison is one metric of one run, baseline against now.
type Comparison struct {
	Run, Metric string
	// Base and Now are means over replications.
	Base, Now float64
	Tolerance Tolerance
	// N is the number of pairs (paired test) or the smaller sample.
	N int
	// Test names the test: "paired t", "Welch t", or "" without one.
	Test string
	// P is the test's p-value (NaN without a test); PAdj is Holm's.
	P, PAdj float64
	Verdict Verdict
	Why     string
}

// Report is Regress's answer.
type Report struct {
	Comparisons []Comparison
	// Notes are said once: how the verdicts were reached.
	Notes   []string
	Verdict Verdict
}

// Regress compares the runs of now with those of the baseline of the
// same name. A change is a regression when it is beyond its tolerance in
// the metric's bad direction and, with replications, significant after
// Holm's correction across the run's metrics; replications that share
// seeds are paired (they share random numbers, so pairs are far sharper
// than independent samples). Without replications the tolerance alone
// decides, and a note says so.
func Regress(base, now []Run, opts Options) (*Report, error) {
	if opts.Alpha <= 0 {
		opts.Alpha = 0.05
	}
	rep := &Report{}
	byName := map[string]Run{}
	for _, r := range base {
		byName[r.Name] = r
	}
	if len(base) == 1 && len(now) == 1 {
		byName[now[0].Name] = base[0] // a summary file against a run
	}
	few, unpaired := false, false
	for _, n := range now {
		b, ok := byName[n.Name]
		if !ok {
			return nil, fmt.Errorf("run %q is not in the baseline (it has %s)", n.Name, runNames(base))
		}
		if bs, ns := b.Summaries[0], n.Summaries[0]; bs.Scenario != ns.Scenario {
			return nil, fmt.Errorf("%s: scenario %q against a baseline of %q", runLabel(n.Name), ns.Scenario, bs.Scenario)
		}
		if err := sameWorkload(b, n); err != nil {
			return nil, fmt.Errorf("%s: %w; a regression gate compares one workload: run it as the baseline was, or rewrite the baseline with --update", runLabel(n.Name), err)
		}
		var problems []string
		for _, s := range append(slices.Clone(b.Summaries), n.Summaries...) {
			problems = append(problems, opts.Health.Problems(s)...)
		}
		cs := compareRun(b, n, opts)
		if len(problems) > 0 && !opts.Exact {
			// Neither pass nor fail can be said of such a run.
			for i := range cs {
				cs[i].Verdict, cs[i].Why = Inconclusive, problems[0]
			}
			shown := problems
			if len(shown) > 3 {
				shown = append(slices.Clone(shown[:3]), fmt.Sprintf("and %d more", len(problems)-3))
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: inconclusive: %s", runLabel(n.Name), strings.Join(shown, "; ")))
		}
		for _, c := range cs {
			if c.Test == "" && c.N < 2 {
				few = true
			}
			if c.Test == "Welch t" {
				unpaired = true
			}
			rep.Verdict = Worst(rep.Verdict, c.Verdict)
		}
		rep.Comparisons = append(rep.Comparisons, cs...)
	}
	if !(len(base) == 1 && len(now) == 1) {
		have := map[string]bool{}
		for _, n := range now {
			have[n.Name] = true
		}
		for _, b := range base {
			if !have[b.Name] {
				return nil, fmt.Errorf("the baseline's run %q has no counterpart in the run judged: judge the same variants, replications and points as the baseline", runLabel(b.Name))
			}
		}
	}
	if len(rep.Comparisons) == 0 {
		return nil, errors.New("no metric is in both the baseline and the run")
	}
	switch {
	case opts.Exact:
		rep.Notes = append(rep.Notes, "exact: any difference at all fails")
	case few:
		rep.Notes = append(rep.Notes, "too few replications to test significance (fewer than 2): the tolerance alone decides")
	}
	if unpaired {
		rep.Notes = append(rep.Notes, "replications with other seeds than the baseline's are compared with Welch's test, not paired")
	}
	return rep, nil
}

// sameWorkload refuses a run whose mode, length, warmup or servers are
// not the baseline's: its figures would differ for that reason alone,
// and the gate would call it a regression (or hide one). A partial run
// is judged over what it measured, so its length is not compared.
func sameWorkload(b, n Run) error {
	for _, ns := range n.Summaries {
		for _, bs := range b.Summaries {
			switch {
			case ns.Mode != bs.Mode:
				return fmt.Errorf("a %s run against a baseline of %s runs", ns.Mode, bs.Mode)
			case !ns.Partial && !bs.Partial && ns.DurationS != bs.DurationS:
				return fmt.Errorf("it ran %gs against a baseline of %gs", ns.DurationS, bs.DurationS)
			case ns.WarmupS != bs.WarmupS:
				return fmt.Errorf("a warmup of %gs against a baseline's %gs", ns.WarmupS, bs.WarmupS)
			case !slices.EqualFunc(ns.Servers, bs.Servers, func(x, y results.ServerSummary) bool { return x.Name == y.Name && x.Workers == y.Workers }):
				return fmt.Errorf("servers %s against a baseline's %s", serverList(ns.Servers), serverList(bs.Servers))
			}
		}
	}
	return nil
}

// serverList names servers and their workers, the first few of many.
func serverList(ss []results.ServerSummary) string {
	var names []string
	for i, s := range ss {
		if i == 6 {
			names = append(names, fmt.Sprintf("and %d more", len(ss)-i))
			break
		}
		names = append(names, fmt.Sprintf("%s (%d workers)", s.Name, s.Workers))
	}
	return fmt.Sprintf("%d: %s", len(ss), strings.Join(names, ", "))
}

func runNames(rs []Run) string {
	var out []string
	for _, r := range rs {
		out = append(out, runLabel(r.Name))
	}
	return strings.Join(out, ", ")
}

func runLabel(name string) string {
	if name == "" {
		return "(the run)"
	}
	return name
}

// tolerance is the tolerance of metric.
func (o *Options) tolerance(metric string) Tolerance {
	if t, ok := o.Tolerances[metric]; ok {
		return t
	}
	if _, field, ok := strings.Cut(metric, "]."); ok && strings.HasPrefix(metric, "servers[") {
		if t, ok := o.Tolerances["servers[*]."+field]; ok {
			return t
		}
	}
	return DefaultTolerance(metric)
}

// compareRun compares every metric present in both.
func compareRun(b, n Run, opts Options) []Comparison {
	paired := len(b.Summaries) == len(n.Summaries)
	for i := range b.Summaries {
		if paired && b.Summaries[i].Seed != n.Summaries[i].Seed {
			paired = false
		}
	}
	var out []Comparison
	for _, m := range Metrics(n.Summaries[0]) {
		bx, okb := values(b.Summaries, m)
		nx, okn := values(n.Summaries, m)
		if !okb || !okn {
			continue
		}
		c := Comparison{Run: n.Name, Metric: m, Base: stats.Mean(bx), Now: stats.Mean(nx), Tolerance: opts.tolerance(m), P: math.NaN(), PAdj: math.NaN()}
		if opts.Exact {
			c.Tolerance = Tolerance{}
			if !slices.Equal(bx, nx) {
				c.Verdict, c.Why = Fail, "differs"
			}
			out = append(out, c)
			continue
		}
		switch {
		case paired && len(bx) >= 2:
			c.Test, c.N, c.P = "paired t", len(bx), pairedP(bx, nx)
		case len(bx) >= 2 && len(nx) >= 2:
			c.Test, c.N, c.P = "Welch t", min(len(bx), len(nx)), welchP(bx, nx)
		default:
			c.N = min(len(bx), len(nx))
		}
		out = append(out, c)
	}
	if opts.Exact {
		return out
	}
	// The candidates are the changes beyond tolerance in the bad
	// direction: only they could be regressions, so they are the family
	// Holm's correction runs over.
	candidate := make([]bool, len(out))
	for i := range out {
		c := &out[i]
		worse := false
		switch direction(c.Metric) {
		case Up:
			worse = c.Now > c.Base
		case Down:
			worse = c.Now < c.Base
		default:
			worse = c.Now != c.Base
		}
		candidate[i] = worse && !c.Tolerance.Allows(c.Base, c.Now)
	}
	holm(out, candidate)
	for i := range out {
		c := &out[i]
		switch {
		case !candidate[i]:
		case c.Test == "":
			c.Verdict, c.Why = Fail, "beyond tolerance (no replications to test)"
		case c.PAdj <= opts.Alpha:
			c.Verdict, c.Why = Fail, "beyond tolerance and significant"
		default:
			c.Why = "beyond tolerance, not significant"
		}
	}
	return out
}

func values(ss []*results.Summary, m string) ([]float64, bool) {
	var xs []float64
	for _, s := range ss {
		v, ok := Value(s, m)
		if !ok {
			return nil, false
		}
		xs = append(xs, v)
	}
	return xs, len(xs) > 0
}

// pairedP is the two-sided p-value of the paired t test of mean(b-a) = 0.
func pairedP(a, b []float64) float64 {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	n := float64(len(d))
	m, v := stat.MeanVariance(d, nil)
	return tP(m, math.Sqrt(v/n), n-1)
}

// welchP is the two-sided p-value of Welch's test of mean(b) = mean(a).
func welchP(a, b []float64) float64 {
	ma, va := stat.MeanVariance(a, nil)
	mb, vb := stat.MeanVariance(b, nil)
	na, nb := float64(len(a)), float64(len(b))
	qa, qb := va/na, vb/nb
	se2 := qa + qb
	if se2 == 0 {
		return tP(mb-ma, 0, 1)
	}
	df := se2 * se2 / (qa*qa/(na-1) + qb*qb/(nb-1))
	return tP(mb-ma, math.Sqrt(se2), df)
}

// tP is the two-sided p-value of a t statistic delta/se with df degrees
// of freedom; se 0 gives 0 for a nonzero delta and 1 for none.
func tP(delta, se, df float64) float64 {
	if se == 0 || !finite(se) {
		if delta == 0 {
			return 1
		}
		return 0
	}
	t := math.Abs(delta / se)
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(t)
}

// holm sets PAdj by Holm's step-down correction over the comparisons in
// the family (all, with a nil family) that have a test; the others keep
// their own p-value.
func holm(cs []Comparison, family []bool) {
	var idx []int
	for i := range cs {
		cs[i].PAdj = cs[i].P
		if cs[i].Test != "" && finite(cs[i].P) && (family == nil || family[i]) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return cs[idx[a]].P < cs[idx[b]].P })
	m := len(idx)
	running := 0.0
	for k, i := range idx {
		adj := math.Min(1, float64(m-k)*cs[i].P)
		running = math.Max(running, adj) // adjusted p-values never decrease
		cs[i].PAdj = running
	}
}
