package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/report"
	"github.com/redirlab/redirlab/scenarios"
)

// Axis is one swept parameter: a dotted scenario path and its values.
type Axis struct {
	Key    string
	Values []string
}

// ParseAxis reads "key=v1,v2,...".
func ParseAxis(s string) (Axis, error) {
	key, vals, ok := strings.Cut(s, "=")
	if !ok || key == "" || vals == "" {
		return Axis{}, fmt.Errorf("sweep --set %q: want key=v1,v2,...", s)
	}
	a := Axis{Key: key}
	for _, v := range strings.Split(vals, ",") {
		if v = strings.TrimSpace(v); v == "" {
			return Axis{}, fmt.Errorf("sweep --set %s: empty value in %q", key, vals)
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// Loader loads the swept scenario with extra overrides applied.
type Loader func(sets ...string) (*scenarios.Scenario, error)

// point is one cell of the grid.
type point struct {
	label string   // "900/s" or "900/s × 4" for several axes
	sets  []string // key=value overrides
}

// grid is the cartesian product of the axes, first axis slowest.
func grid(axes []Axis) []point {
	pts := []point{{}}
	for _, a := range axes {
		var next []point
		for _, p := range pts {
			for _, v := range a.Values {
				label := v
				if p.label != "" {
					label = p.label + " × " + v
				}
				next = append(next, point{label: label, sets: append(append([]string(nil), p.sets...), a.Key+"="+v)})
			}
		}
		pts = next
	}
	return pts
}

// dirName makes a point's label safe as a directory name.
func dirName(i int, label string) string {
	r := strings.NewReplacer("/", "_", " × ", "_", " ", "", "\\", "_")
	return fmt.Sprintf("%02d-%s", i+1, r.Replace(label))
}

// Sweep runs the scenario at every point of the grid (every variant and
// replication at each), simulations on all cores, then writes sweep.csv,
// the sweep figures (p99 and redirect rate against the parameter, one
// line per variant) and report.html into opts.Out.
func Sweep(ctx context.Context, load Loader, axes []Axis, opts Options) (*plots.SweepTable, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return nil, errors.New("sweep needs at least one --set key=v1,v2,...")
	}
	pts := grid(axes)
	var keys []string
	for _, a := range axes {
		keys = append(keys, a.Key)
	}
	table := &plots.SweepTable{Parameter: strings.Join(keys, " × ")}

	// Plan every point first, so that a bad value fails before anything runs.
	var jobs []job
	var jobPoint []int // the point each job belongs to
	var variants []string
	for i, p := range pts {
		sc, err := load(p.sets...)
		if err != nil {
			return nil, err
		}
		pj, err := plan(sc, filepath.Join(opts.Out, dirName(i, p.label)), opts.Variants)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			for _, j := range pj {
				if len(variants) == 0 || variants[len(variants)-1] != j.sc.Variant {
					variants = append(variants, j.sc.Variant)
				}
			}
		}
		table.Values = append(table.Values, p.label)
		jobs = append(jobs, pj...)
		for range pj {
			jobPoint = append(jobPoint, i)
		}
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	res, runErr := runJobs(ctx, jobs, opts)

	// Group the summaries by variant and point.
	index := map[string]int{}
	for i, v := range variants {
		index[v] = i
		table.Variants = append(table.Variants, plots.SweepVariant{Name: v, Points: make([][]*results.Summary, len(pts))})
	}
	runDirs := make([][]string, len(variants))
	for i := range runDirs {
		runDirs[i] = make([]string, len(pts))
	}
	for k, r := range res {
		pi := jobPoint[k]
		vi, ok := index[jobs[k].sc.Variant]
		if !ok || r.Summary == nil {
			continue
		}
		table.Variants[vi].Points[pi] = append(table.Variants[vi].Points[pi], r.Summary)
		dir := filepath.Join(opts.Out, dirName(pi, pts[pi].label))
		if v := jobs[k].sc.Variant; v != "" {
			dir = filepath.Join(dir, v)
		}
		runDirs[vi][pi] = dir
	}
	// Each point's own reports, then the sweep's.
	var repErr []error
	for i, p := range pts {
		var mine []Result
		for k, r := range res {
			if jobPoint[k] == i {
				mine = append(mine, r)
			}
		}
		if err := writeReports(filepath.Join(opts.Out, dirName(i, p.label)), mine); err != nil {
			repErr = append(repErr, err)
		}
	}
	if err := report.WriteSweep(opts.Out, *table, runDirs); err != nil {
		repErr = append(repErr, fmt.Errorf("sweep report: %w", err))
	}
	return table, errors.Join(runErr, errors.Join(repErr...))
}
