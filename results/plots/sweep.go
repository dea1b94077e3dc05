package plots

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/internal/par"
	"github.com/redirlab/redirlab/results/stats"
)

// SweepTable is the outcome of a sweep: one swept parameter, its values,
// and for every variant the summaries of the runs at each value.
type SweepTable struct {
	// Parameter is the swept dotted key (workload.arrival.rate). For a
	// grid over several keys, name them together (rate × threshold) and
	// make Values the combinations.
	Parameter string
	// Values are the parameter's values as written on the command line
	// (900/s, 40ms, 0.8), in sweep order.
	Values []string
	// Variants are the lines, in scenario order (base first), coloured
	// as in Compare (SweepColors).
	Variants []SweepVariant
	// Keys, if any, are the settings each run records as it ran (the
	// swept keys, then the plain overrides): see SweepVariant.Settings.
	Keys []string
}

// SweepVariant is one variant's runs across the sweep.
type SweepVariant struct {
	// Name of the variant ("" or "base" for a scenario without
	// variants).
	Name string
	// Points[i] are the summaries at Values[i], one per replication;
	// empty where the run failed.
	Points [][]*results.Summary
	// Settings[i][k] is the value of the table's Keys[k] in the scenario
	// this variant ran at Values[i]; missing where unknown.
	Settings [][]string
}

// Setting is the value of the table's k-th key in variant v's run at
// value i, "" where unknown.
func (v *SweepVariant) Setting(i, k int) string {
	if i < len(v.Settings) && k < len(v.Settings[i]) {
		return v.Settings[i][k]
	}
	return ""
}

// validate checks the table's shape.
func (t *SweepTable) validate() error {
	if t.Parameter == "" {
		return errors.New("plots: sweep table: no parameter")
	}
	if len(t.Values) == 0 {
		return errors.New("plots: sweep table: no values")
	}
	for _, v := range t.Variants {
		if len(v.Points) != len(t.Values) {
			return fmt.Errorf("plots: sweep table: variant %q has %d points for %d values", v.Name, len(v.Points), len(t.Values))
		}
	}
	return nil
}

// Sweep draws p99 latency and redirect rate against the swept parameter,
// one line per variant (with 95% intervals when there are replications),
// into outDir as sweep-p99 and sweep-redirect-rate, and returns the files
// written.
func Sweep(outDir string, table SweepTable) ([]string, error) {
	figs, err := SweepFigures(table)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	return writeFigures(outDir, figs, par.New(0, nil))
}

// SweepFigures computes the sweep figures. The X axis is numeric when
// every value parses (see ParseValue), else the values are categories in
// sweep order.
func SweepFigures(table SweepTable) ([]Figure, error) {
	if err := table.validate(); err != nil {
		return nil, err
	}
	xs, unit, numeric := ParseValues(table.Values)
	xlabel := table.Parameter
	if unit != "" {
		xlabel += " (" + unit + ")"
	}
	var cats []string
	if !numeric {
		cats = table.Values
		for i := range xs {
			xs[i] = float64(i)
		}
	}
	colors := SweepColors(table)
	var figs []Figure
	for _, m := range []struct {
		key, name, title, y string
		scale               float64
		log                 bool
	}{
		// p99 on a log axis: a variant without redirects can be 10x the rest.
		{"p99_ms", "sweep-p99", "p99 latency against " + table.Parameter, "p99 latency (ms, log scale)", 1, true},
		{"redirect_rate", "sweep-redirect-rate", "Redirect rate against " + table.Parameter, "page requests redirected (%)", 100, false},
		// Only when a variant sheds: its p99 leaves the shed requests out.
		{"shed_rate", "sweep-shed-rate", "Shed rate against " + table.Parameter, "page requests shed (%)", 100, false},
	} {
		if m.key == "shed_rate" && !sheds(table) {
			continue
		}
		metric, _ := stats.MetricByKey(m.key)
		f := Figure{Name: m.name, Title: m.title, X: xlabel, Y: m.y, Categories: cats, ZeroY: !m.log, LogY: m.log}
		for i, v := range table.Variants {
			f.Lines = append(f.Lines, SweepLine(v, colors[i], xs, metric, m.scale))
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// sheds reports whether any run of the sweep shed a request.
func sheds(table SweepTable) bool {
	for _, v := range table.Variants {
		for _, sums := range v.Points {
			for _, s := range sums {
				if s.Requests.Shed > 0 {
					return true
				}
			}
		}
	}
	return false
}

// SweepColors is the palette index of each of the table's variants:
// RunColors of their first summaries, so that a variant has the colour
// it has in the comparisons of the sweep's points and of other runs.
func SweepColors(table SweepTable) []int {
	sums := make([][]*results.Summary, len(table.Variants))
	for i, v := range table.Variants {
		for _, p := range v.Points {
			if len(p) > 0 {
				sums[i] = p[:1]
				break
			}
		}
	}
	return RunColors(sums)
}

// SweepLine is variant v's line of metric m (times scale) at xs: at each
// value with runs, the mean over replications, with its 95% interval
// when there are two or more. Values without runs are skipped.
func SweepLine(v SweepVariant, index int, xs []float64, m stats.Metric, scale float64) Series {
	name := v.Name
	if name == "" {
		name = "base"
	}
	s := Series{Name: name, Color: Palette(index), Markers: true}
	var lo, hi []float64
	ci := false
	for i, sums := range v.Points {
		if len(sums) == 0 {
			continue
		}
		iv := m.Across(sums)
		s.XY = append(s.XY, plotter.XY{X: xs[i], Y: iv.Mean * scale})
		lo, hi = append(lo, iv.Lo*scale), append(hi, iv.Hi*scale)
		ci = ci || iv.HasCI()
	}
	if ci {
		s.Lo, s.Hi = lo, hi
	}
	return s
}

// ParseValues parses every value with ParseValue. numeric is false when
// some value does not parse or the values mix units.
func ParseValues(values []string) (xs []float64, unit string, numeric bool) {
	xs = make([]float64, len(values))
	numeric = true
	for i, v := range values {
		x, u, ok := ParseValue(v)
		if !ok || (i > 0 && u != unit) {
			numeric = false
		}
		xs[i], unit = x, u
	}
	if !numeric {
		unit = ""
	}
	return xs, unit, numeric
}

// ParseValue reads a swept value as a number for an axis: a rate (900/s,
// 1.5k/s, 54000/min) in req/s, a duration (40ms, 1s) in ms, or a plain
// number (0.8, 8) without unit.
func ParseValue(v string) (x float64, unit string, ok bool) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f, "", true
	}
	if num, per, found := strings.Cut(v, "/"); found {
		mult := 1.0
		if k, ok := strings.CutSuffix(num, "k"); ok {
			num, mult = k, 1000
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, "", false
		}
		switch per {
		case "s":
		case "min":
			mult /= 60
		case "h":
			mult /= 3600
		default:
			return 0, "", false
		}
		return f * mult, "req/s", true
	}
	if d, err := time.ParseDuration(v); err == nil {
		return ms(d), "ms", true
	}
	return 0, "", false
}
