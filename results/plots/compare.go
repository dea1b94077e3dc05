package plots

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/internal/par"
	"github.com/redirlab/redirlab/results/stats"
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
// grandparent for a replication rep-N), 0 when there is none. Figures of
// a single run colour it Palette(VariantIndex(dir)), as Compare does.
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
}

// LoadCompare reads the runs' summaries and latencies.
func LoadCompare(runs []Run) (*CompareData, error) {
	if len(runs) == 0 {
		return nil, errors.New("plots: no runs to compare")
	}
	c := &CompareData{Runs: runs, Summaries: make([][]*results.Summary, len(runs)), Latencies: make([][]float64, len(runs))}
	for i, r := range runs {
		dirs, err := Replications(r.Dir)
		if err != nil {
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
			}
		}
	}
	return c, nil
}

// Compare draws the comparison figures of runs into outDir and returns
// the files written: the latency CDFs overlaid (one line per run), and
// p50, p99 and redirect rate per run with 95% confidence intervals when
// runs have replications. Run i has colour Palette(i) in every figure.
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

// CompareFigures computes the comparison figures.
func CompareFigures(c *CompareData) []Figure {
	names := make([]string, len(c.Runs))
	for i, r := range c.Runs {
		names[i] = r.Name
	}
	var figs []Figure
	cdf := Figure{
		Name:         "compare-latency-cdf",
		Title:        "Latency CDF",
		X:            "latency (ms, log scale)",
		Y:            "fraction of completed page requests",
		LogX:         true,
		ZeroY:        true,
		LegendBottom: true,
	}
	for i, lat := range c.Latencies {
		if len(lat) > 0 {
			cdf.Lines = append(cdf.Lines, Series{Name: names[i], Color: Palette(i), XY: CDF(lat, maxCDFPoints)})
		}
	}
	if len(cdf.Lines) > 0 {
		figs = append(figs, cdf)
	}
	for _, m := range []struct {
		key, name, title, y string
		scale               float64
	}{
		{"p50_ms", "compare-p50", "Median latency (p50)", "p50 latency (ms)", 1},
		{"p99_ms", "compare-p99", "Tail latency (p99)", "p99 latency (ms)", 1},
		{"redirect_rate", "compare-redirect-rate", "Redirect rate", "page requests redirected (%)", 100},
	} {
		metric, _ := stats.MetricByKey(m.key)
		figs = append(figs, Figure{
			Name:       m.name,
			Title:      m.title + suffixCI(c.Summaries),
			X:          "run",
			Y:          m.y,
			Categories: names,
			ZeroY:      true,
			Lines:      MetricPoints(names, c.Summaries, metric, m.scale),
		})
	}
	return figs
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
	out := make([]Series, 0, len(sums))
	for i, s := range sums {
		iv := m.Across(s)
		sr := Series{Name: names[i], Color: Palette(i), Points: true, XY: plotter.XYs{{X: float64(i), Y: iv.Mean * scale}}}
		if iv.HasCI() {
			sr.Lo, sr.Hi = []float64{iv.Lo * scale}, []float64{iv.Hi * scale}
		}
		out = append(out, sr)
	}
	return out
}
