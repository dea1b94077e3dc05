package plots

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/internal/par"
	"github.com/redirlab/redirlab/results/stats"
	"github.com/redirlab/redirlab/scenarios"
)

// ComparisonFile is comparison.csv, written by report.WriteComparison at
// the top of a directory of variants; its first column, run, lists the
// variants in order, which fixes their colours.
const ComparisonFile = "comparison.csv"

// ComparisonOrder is the run column of a comparison.csv, nil when there
// is none or it does not parse.
func ComparisonOrder(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) == 0 || len(recs[0]) == 0 || recs[0][0] != "run" {
		return nil
	}
	var names []string
	for _, r := range recs[1:] {
		names = append(names, r[0])
	}
	return names
}

// VariantIndex is the position of the run in dir among its sibling
// variants, by the comparison.csv above it (in dir's parent, or its
// grandparent for a replication rep-N), 0 when there is none: the
// colour of a run whose summary does not list its scenario's variants
// (see VariantColor).
func VariantIndex(dir string) int {
	dir = filepath.Clean(dir)
	if strings.HasPrefix(filepath.Base(dir), "rep-") {
		dir = filepath.Dir(dir)
	}
	order := ComparisonOrder(filepath.Join(filepath.Dir(dir), ComparisonFile))
	return max(slices.Index(order, filepath.Base(dir)), 0)
}

// Run is one run to compare: a results directory holding summary.json,
// or replications of one run in rep-1/, rep-2/, ... sub-directories.
type Run struct {
	// Name labels the run in legends and tables (a variant name).
	Name string
	// Dir is its results directory.
	Dir string
}

// RunName is a label for dir when none is given: the directory's base
// name.
func RunName(dir string) string { return filepath.Base(filepath.Clean(dir)) }

// Replications returns the directories holding a run's summaries: dir
// itself when it holds summary.json, otherwise its rep-N sub-directories
// that do, in increasing N. It is an error when there are none.
func Replications(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, results.SummaryFile)); err == nil {
		return []string{dir}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	type rep struct {
		n   int
		dir string
	}
	var reps []rep
	for _, e := range entries {
		num, ok := strings.CutPrefix(e.Name(), "rep-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(d, results.SummaryFile)); err == nil {
			reps = append(reps, rep{n, d})
		}
	}
	if len(reps) == 0 {
		return nil, fmt.Errorf("plots: %s: no %s, and no rep-N/%s", dir, results.SummaryFile, results.SummaryFile)
	}
	slices.SortFunc(reps, func(a, b rep) int { return a.n - b.n })
	dirs := make([]string, len(reps))
	for i, r := range reps {
		dirs[i] = r.dir
	}
	return dirs, nil
}

// RunSummaries reads the summaries of a run (one per replication).
func RunSummaries(dir string) ([]*results.Summary, error) {
	dirs, err := Replications(dir)
	if err != nil {
		return nil, err
	}
	sums := make([]*results.Summary, len(dirs))
	for i, d := range dirs {
		if sums[i], err = results.ReadSummary(d); err != nil {
			return nil, err
		}
	}
	return sums, nil
}

// CompareData is what the comparison figures are drawn from.
type CompareData struct {
	// Runs are the runs, in the order given.
	Runs []Run
	// Summaries[i] are run i's summaries, one per replication.
	Summaries [][]*results.Summary
	// Latencies[i] are run i's completed latencies (ms), pooled over its
	// replications; nil when it has no requests.csv.
	Latencies [][]float64
	// Sent[i] is the page requests sent in the replications of run i
	// that have a requests.csv: the total its latency CDF is over.
	Sent []int64
	// Seconds[i][k] is timeseries.csv of run i's replication k.
	Seconds [][][]results.Second
	// Scenarios[i] is run i's scenario.yaml (its first replication's),
	// nil when it has none.
	Scenarios []*scenarios.Scenario
}

// LoadCompare reads the runs' summaries, latencies, time series and
// scenarios.
func LoadCompare(runs []Run) (*CompareData, error) {
	if len(runs) == 0 {
		return nil, errors.New("plots: no runs to compare")
	}
	n := len(runs)
	c := &CompareData{Runs: runs, Summaries: make([][]*results.Summary, n), Latencies: make([][]float64, n),
		Sent: make([]int64, n), Seconds: make([][][]results.Second, n), Scenarios: make([]*scenarios.Scenario, n)}
	for i, r := range runs {
		dirs, err := Replications(r.Dir)
		if err != nil {
			return nil, err
		}
		if c.Scenarios[i], err = loadScenario(dirs[0]); err != nil {
			return nil, err
		}
		for _, d := range dirs {
			s, err := results.ReadSummary(d)
			if err != nil {
				return nil, err
			}
			c.Summaries[i] = append(c.Summaries[i], s)
			lat, err := ReadLatencies(d)
			if err != nil {
				return nil, err
			}
			if lat != nil {
				c.Latencies[i] = append(c.Latencies[i], lat...)
				c.Sent[i] += s.Requests.Sent
			}
			secs, err := results.ReadTimeseries(d)
			if err != nil {
				return nil, err
			}
			c.Seconds[i] = append(c.Seconds[i], secs)
		}
	}
	return c, nil
}

// Compare draws the comparison figures of runs into outDir and returns
// the files written (see CompareFigures), with 95% confidence intervals
// when runs have replications. A run has the same colour in every
// figure: see RunColors.
func Compare(outDir string, runs []Run) ([]string, error) {
	return CompareWith(outDir, runs, par.New(0, nil))
}

// CompareWith is Compare within a writing phase (package report's).
func CompareWith(outDir string, runs []Run, w *par.Writing) ([]string, error) {
	var figs []Figure
	var err error
	w.Do(func() {
		var c *CompareData
		if c, err = LoadCompare(runs); err == nil {
			figs = CompareFigures(c)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	return writeFigures(outDir, figs, w)
}

// CompareFigures computes the comparison figures: the latency CDFs
// overlaid, p50 and p99 per run (log axis), the redirect rate per run,
// p99 against redirect rate (the trade-off a policy makes) and p99 per
// second overlaid with the faults shaded.
func CompareFigures(c *CompareData) []Figure {
	names := make([]string, len(c.Runs))
	for i, r := range c.Runs {
		names[i] = r.Name
	}
	colors := RunColors(c.Summaries)
	var figs []Figure
	cdf := Figure{
		Name:  "compare-latency-cdf",
		Title: "Latency CDF" + cdfNote,
		X:     "latency (ms, log scale)",
		Y:     cdfY,
		LogX:  true,
		YMin:  0,
		YMax:  1,
	}
	for i, lat := range c.Latencies {
		if len(lat) > 0 {
			sent := int64(len(lat)) // without the counts, completed only
			if i < len(c.Sent) && c.Sent[i] > 0 {
				sent = c.Sent[i]
			}
			cdf.Lines = append(cdf.Lines, Series{Name: names[i], Legend: completedLegend(names[i], int64(len(lat)), sent),
				Color: Palette(colors[i]), XY: CDFOver(lat, sent, maxCDFPoints)})
		}
	}
	extendCDFs(cdf.Lines)
	if len(cdf.Lines) > 0 {
		figs = append(figs, cdf)
	}
	for _, m := range []struct {
		key, name, title, y string
		scale               float64
		log                 bool
	}{
		{"p50_ms", "compare-p50", "Median latency (p50)", "p50 latency (ms, log scale)", 1, true},
		{"p99_ms", "compare-p99", "Tail latency (p99)", "p99 latency (ms, log scale)", 1, true},
		{"redirect_rate", "compare-redirect-rate", "Redirect rate", "page requests redirected (%)", 100, false},
	} {
		metric, _ := stats.MetricByKey(m.key)
		lines := MetricPoints(names, c.Summaries, metric, m.scale)
		for i := range lines {
			lines[i].Labels = []string{valueLabel(lines[i].XY[0].Y, m.scale == 100)}
		}
		figs = append(figs, Figure{
			Name:       m.name,
			Title:      m.title + suffixCI(c.Summaries),
			X:          "run",
			Y:          m.y,
			Categories: names,
			LogY:       m.log,
			ZeroY:      !m.log,
			Lines:      lines,
			NoLegend:   true,
		})
	}
	figs = append(figs, Figure{
		Name:     "compare-tradeoff",
		Title:    "Tail latency against redirect rate" + suffixCI(c.Summaries),
		X:        "page requests redirected (%)",
		Y:        "p99 latency (ms, log scale)",
		LogY:     true,
		Lines:    TradeoffPoints(names, c.Summaries),
		NoLegend: true,
	})
	over := Figure{
		Name:  "compare-over-time",
		Title: "p99 latency per second" + suffixReps(c.Summaries),
		X:     "time since run start (s)",
		Y:     "p99 latency (ms, log scale)",
		TimeX: true,
		LogY:  true,
	}
	seen := map[Span]bool{}
	for i := range c.Runs {
		if i < len(c.Seconds) {
			over.Lines = append(over.Lines, Series{Name: names[i], Color: Palette(colors[i]), XY: P99OverTime(c.Seconds[i], c.Summaries[i])})
		}
		if i < len(c.Scenarios) {
			for _, s := range FaultSpans(c.Scenarios[i]) {
				if !seen[s] {
					seen[s] = true
					over.Spans = append(over.Spans, s)
				}
			}
		}
	}
	figs = append(figs, over)
	return figs
}

// extendCDFs continues each CDF flat to the right end of the longest, at
// its top: past a run's slowest completed request its CDF stays where it
// is, short of 1 by the requests that never completed.
func extendCDFs(lines []Series) {
	end := math.Inf(-1)
	for _, l := range lines {
		if len(l.XY) > 0 {
			end = math.Max(end, l.XY[len(l.XY)-1].X)
		}
	}
	for i, l := range lines {
		if n := len(l.XY); n > 0 && l.XY[n-1].X < end {
			lines[i].XY = append(slices.Clip(l.XY), plotter.XY{X: end, Y: l.XY[n-1].Y})
		}
	}
}

// valueLabel writes a point's value beside it: about three significant
// digits, with % for rates.
func valueLabel(v float64, percent bool) string {
	var s string
	switch a := math.Abs(v); {
	case a == 0:
		s = "0"
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if percent {
		s += "%"
	}
	return s
}

// TradeoffPoints is one point per run at X = its redirect rate (%), Y =
// its p99 latency (ms), each the mean over the run's replications with
// their 95% intervals when it has two or more, labelled with the run's
// name and the share of its requests that p99 leaves out (shed,
// rejected, failed): a run that sheds sits at 0% redirected with a short
// tail, and would look free without it.
func TradeoffPoints(names []string, sums [][]*results.Summary) []Series {
	rate, _ := stats.MetricByKey("redirect_rate")
	p99, _ := stats.MetricByKey("p99_ms")
	colors := RunColors(sums)
	out := make([]Series, 0, len(sums))
	for i, s := range sums {
		x, y := rate.Across(s), p99.Across(s)
		label := names[i] + notServed(s)
		sr := Series{Name: names[i], Color: Palette(colors[i]), Points: true, Labels: []string{label},
			XY: plotter.XYs{{X: 100 * x.Mean, Y: y.Mean}}}
		if x.HasCI() && y.HasCI() {
			sr.XLo, sr.XHi = []float64{100 * x.Lo}, []float64{100 * x.Hi}
			sr.Lo, sr.Hi = []float64{y.Lo}, []float64{y.Hi}
		}
		out = append(out, sr)
	}
	return out
}

// notServed is " (9.80% shed, 1.20% rejected)": the mean shares of a
// run's page requests that were shed, rejected, or failed (errors and
// timeouts), those above zero; "" when every request completed.
func notServed(reps []*results.Summary) string {
	var shed, rejected, failed float64
	for _, s := range reps {
		if n := float64(s.Requests.Sent); n > 0 {
			shed += float64(s.Requests.Shed) / n
			rejected += float64(s.Requests.Rejected) / n
			failed += float64(s.Requests.Errors+s.Requests.Timeouts) / n
		}
	}
	var parts []string
	for _, p := range []struct {
		share float64
		what  string
	}{{shed, "shed"}, {rejected, "rejected"}, {failed, "failed"}} {
		if p.share > 0 {
			parts = append(parts, valueLabel(100*p.share/float64(len(reps)), true)+" "+p.what)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// P99OverTime is a run's p99 latency (ms) per second of its measured
// window, at the middle of each second: with replications, the mean of
// the replications' p99 in that second (over those with completions in
// it). Seconds without completions in any replication are left out.
func P99OverTime(reps [][]results.Second, sums []*results.Summary) plotter.XYs {
	type acc struct {
		sum float64
		n   int
	}
	bySecond := map[time.Duration]*acc{}
	var order []time.Duration
	for k, secs := range reps {
		if k < len(sums) {
			secs = Measured(secs, sums[k])
		}
		for _, s := range secs {
			if s.Completed == 0 {
				continue
			}
			a := bySecond[s.T]
			if a == nil {
				a = &acc{}
				bySecond[s.T] = a
				order = append(order, s.T)
			}
			a.sum += ms(s.P99)
			a.n++
		}
	}
	slices.Sort(order)
	xy := make(plotter.XYs, 0, len(order))
	for _, t := range order {
		a := bySecond[t]
		xy = append(xy, plotter.XY{X: sec(t) + 0.5, Y: a.sum / float64(a.n)})
	}
	return xy
}

// suffixReps says in a title when lines are means over replications.
func suffixReps(sums [][]*results.Summary) string {
	for _, s := range sums {
		if len(s) >= 2 {
			return " (mean over replications)"
		}
	}
	return ""
}

// suffixCI says in a title when error bars are 95% intervals.
func suffixCI(sums [][]*results.Summary) string {
	for _, s := range sums {
		if len(s) >= 2 {
			return " (mean over replications, 95% CI)"
		}
	}
	return ""
}

// MetricPoints is one point per run at X = run index, Y = the metric's
// mean over the run's replications times scale, with its 95% interval as
// Lo/Hi when the run has two or more replications.
func MetricPoints(names []string, sums [][]*results.Summary, m stats.Metric, scale float64) []Series {
	colors := RunColors(sums)
	out := make([]Series, 0, len(sums))
	for i, s := range sums {
		iv := m.Across(s)
		sr := Series{Name: names[i], Color: Palette(colors[i]), Points: true, XY: plotter.XYs{{X: float64(i), Y: iv.Mean * scale}}}
		if iv.HasCI() {
			sr.Lo, sr.Hi = []float64{iv.Lo * scale}, []float64{iv.Hi * scale}
		}
		out = append(out, sr)
	}
	return out
}
