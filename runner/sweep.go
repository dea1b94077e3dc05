package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/report"
	"github.com/redirlab/redirlab/scenarios"
)

// Axis is one --set of a sweep: a dotted scenario path and its values.
// An axis of several values is swept; an axis of one value is a plain
// override, applied at every point.
type Axis struct {
	Key    string
	Values []string
}

// Swept reports whether the axis has more than one value.
func (a Axis) Swept() bool { return len(a.Values) > 1 }

// ParseAxis reads "key=v1,v2,...". A value written as a YAML flow
// mapping or list ({...} or [...]) is one value, commas and all.
func ParseAxis(s string) (Axis, error) {
	key, vals, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || vals == "" {
		return Axis{}, fmt.Errorf("sweep --set %q: want key=v1,v2,...", s)
	}
	a := Axis{Key: key}
	if v := strings.TrimSpace(vals); strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
		a.Values = []string{v}
		return a, nil
	}
	for _, v := range strings.Split(vals, ",") {
		if v = strings.TrimSpace(v); v == "" {
			return Axis{}, fmt.Errorf("sweep --set %s: empty value in %q", key, vals)
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// Loader loads the swept scenario with overrides ("key=value") applied
// in order, and validates the result.
type Loader func(sets ...string) (*scenarios.Scenario, error)

// point is one cell of the grid.
type point struct {
	index int      // in the whole grid: names its directory
	label string   // "900/s", or "900/s × 4" for several swept axes
	sets  []string // key=value of every axis, in the order given
}

// grid is the cartesian product of the axes, first axis slowest. Every
// point carries every axis's value, plain overrides included, so that
// they are applied and validated together; only swept axes name it.
func grid(axes []Axis) []point {
	pts := []point{{}}
	for _, a := range axes {
		var next []point
		for _, p := range pts {
			for _, v := range a.Values {
				label := p.label
				if a.Swept() {
					label = v
					if p.label != "" {
						label = p.label + " × " + v
					}
				}
				next = append(next, point{label: label, sets: append(slices.Clone(p.sets), a.Key+"="+v)})
			}
		}
		pts = next
	}
	for i := range pts {
		pts[i].index = i
	}
	return pts
}

// dirName makes a point's label safe as a directory name: "01-900_s".
func dirName(i int, label string) string {
	r := strings.NewReplacer("/", "_", " × ", "_", " ", "", "\\", "_")
	name := r.Replace(label)
	if name != "" {
		name = SafeName(name)
	}
	return fmt.Sprintf("%02d-%s", i+1, name)
}

// keyPath splits a dotted --set path into its steps, an index written
// [1] or .1 alike ("servers[1].workers" and "servers.1.workers" give
// servers, [1], workers), so that two spellings of a field compare equal.
func keyPath(key string) []string {
	var out []string
	for _, part := range strings.Split(strings.TrimSpace(key), ".") {
		name, idx, _ := strings.Cut(part, "[")
		if name != "" {
			if strings.Trim(name, "0123456789") == "" {
				name = "[" + name + "]"
			}
			out = append(out, name)
		}
		if idx != "" {
			for _, ix := range strings.Split(idx, "[") {
				out = append(out, "["+strings.TrimSuffix(ix, "]")+"]")
			}
		}
	}
	return out
}

// overlap reports whether setting one of the keys can change the
// other's field: they are the same field, or one holds the other.
func overlap(a, b string) bool {
	pa, pb := keyPath(a), keyPath(b)
	n := min(len(pa), len(pb))
	return slices.Equal(pa[:n], pb[:n])
}

// checkAxes rejects a grid whose rows would not run the values they are
// labelled with: a swept key that another --set also sets (the later
// one wins, in whole or in part), or a value given twice.
func checkAxes(axes []Axis) error {
	if !slices.ContainsFunc(axes, Axis.Swept) {
		return inputErrorf("sweep needs a --set key=v1,v2,... with at least two values")
	}
	for i, a := range axes {
		for j, v := range a.Values {
			if slices.Contains(a.Values[:j], v) {
				return inputErrorf("sweep --set %s: the value %s is given twice, so two rows would run the same setting; "+
					"for repeated runs give the scenario replications", a.Key, v)
			}
		}
		for _, b := range axes[i+1:] {
			if (a.Swept() || b.Swept()) && overlap(a.Key, b.Key) {
				return inputErrorf("sweep --set %s and --set %s set the same field; a swept key must be set once", a.Key, b.Key)
			}
		}
	}
	return nil
}

// checkVariants rejects a sweep over a key that one of the variants run
// (only, or all) also sets: a variant's settings are applied after every
// --set, so its own value would silently win over the swept one.
func checkVariants(sc *scenarios.Scenario, axes []Axis, only []string) error {
	for _, a := range axes {
		if !a.Swept() {
			continue
		}
		var clash []string
		for _, v := range sc.Variants {
			if len(only) == 0 || slices.Contains(only, v.Name) {
				clash = appendClash(clash, v, a.Key)
			}
		}
		if len(clash) > 0 {
			return &scenarios.Error{File: sc.File, Field: "--set " + a.Key, Msg: "swept, but " + clashing(clash) +
				", and a variant's own setting wins over --set: those rows would not run the swept values; " +
				"sweep a key the variants leave alone, or leave them out with --variant (such as --variant base)"}
		}
	}
	return nil
}

// setNotes are the notes of sc's run about --set overrides that did not
// change it, though the command line gave them for every run: one whose
// field sc, a variant, sets itself (its own value wins), and one this
// run does not use (CheckEffect refuses only a --set no run uses).
// Refusing them would refuse the plain wish to set the base beside a
// no-redirect variant.
func setNotes(sc *scenarios.Scenario, mode Mode) []string {
	set := sc.VariantSet()
	var notes []string
	for _, key := range sc.SetKeys() {
		if k, ok := overlapping(set, key); ok {
			notes = append(notes, fmt.Sprintf("--set %s did not apply to this run: variant %s sets %s: %s itself, and a variant's own setting wins over --set",
				key, sc.Variant, k, set[k]))
		} else if w := sc.NoEffect(key, mode); w != "" {
			notes = append(notes, fmt.Sprintf("--set %s has no effect on this run: %s", key, w))
		}
	}
	return notes
}

// overlapping is the first key of set (in order) that sets key, or a
// field within or around it.
func overlapping(set map[string]string, key string) (string, bool) {
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if overlap(k, key) {
			return k, true
		}
	}
	return "", false
}

// appendClash appends v's name to clash when v sets key, or a field
// within or around it (naming v's own key then).
func appendClash(clash []string, v scenarios.Variant, key string) []string {
	k, ok := overlapping(v.Set, key)
	switch {
	case !ok:
		return clash
	case keyPathString(k) == keyPathString(key):
		return append(clash, v.Name)
	}
	return append(clash, v.Name+" ("+k+")")
}

// clashing says which variants of clash also set a field.
func clashing(clash []string) string {
	if len(clash) == 1 {
		return "variant " + clash[0] + " also sets it"
	}
	return "variants " + strings.Join(clash, ", ") + " also set it"
}

func keyPathString(key string) string { return strings.Join(keyPath(key), ".") }

// sweepPlan is a sweep checked and laid out: every point loaded with all
// its overrides and validated, every run with its directory.
type sweepPlan struct {
	pts      []point
	first    *scenarios.Scenario // the scenario at the first point
	jobs     []job
	jobPoint []int    // the point each job belongs to
	variants []string // in scenario order
}

// planSweep loads every point (its plain and swept overrides together,
// validated once) and plans its runs under out, so that a bad value or
// a clash fails before anything runs.
// With a shard, every point is still loaded and checked, and only the
// shard's points (point k, from 0, belongs to shard k mod n + 1) are
// kept, under the directories the whole sweep gives them.
func planSweep(load Loader, axes []Axis, out string, only []string, shard loadgen.Shard) (*sweepPlan, error) {
	if err := checkAxes(axes); err != nil {
		return nil, err
	}
	all := grid(axes)
	if shard.Count > len(all) {
		return nil, inputErrorf("sweep --shard %v: the sweep has %d points, fewer than %d shards", shard, len(all), shard.Count)
	}
	p := &sweepPlan{}
	ran := map[string]string{} // swept values as the scenario reads them -> the point's label
	for i, pt := range all {
		sc, err := load(pt.sets...)
		if err != nil {
			return nil, err
		}
		// Values written apart may be one value (500/s and 0.5k/s).
		var as []string
		for _, a := range axes {
			if a.Swept() {
				v, err := Setting(sc, a.Key)
				if err != nil {
					return nil, &InputError{err}
				}
				as = append(as, v)
			}
		}
		if first, ok := ran[strings.Join(as, "\x00")]; ok {
			return nil, inputErrorf("sweep: %s and %s are the same setting (%s as the scenario reads it), so two rows would run it; give each value once",
				first, pt.label, strings.Join(as, " × "))
		}
		ran[strings.Join(as, "\x00")] = pt.label
		if shard.Sharded() && i%shard.Count != shard.Index-1 {
			if i == 0 {
				if err := checkVariants(sc, axes, only); err != nil {
					return nil, err
				}
			}
			continue
		}
		i := len(p.pts)
		p.pts = append(p.pts, pt)
		if i == 0 {
			p.first = sc
			if err := checkVariants(sc, axes, only); err != nil {
				return nil, err
			}
		}
		pj, err := jobsOf(sc, filepath.Join(out, dirName(pt.index, pt.label)), only)
		if err != nil {
			return nil, &InputError{err}
		}
		for _, j := range pj {
			if !slices.Contains(p.variants, j.sc.Variant) {
				p.variants = append(p.variants, j.sc.Variant)
			}
			p.jobs = append(p.jobs, j)
			p.jobPoint = append(p.jobPoint, i)
		}
	}
	return p, nil
}

// CheckSweep plans the sweep Sweep would run, without running it or
// writing anything: every point is loaded and validated, and a swept
// key that a variant run (opts.Variants, or all) also sets is an error.
// It returns the scenario at the first point.
func CheckSweep(load Loader, axes []Axis, opts Options) (*scenarios.Scenario, error) {
	p, err := planSweep(load, axes, "", opts.Variants, opts.Shard)
	if err != nil {
		return nil, err
	}
	if err := checkPoints(p, opts); err != nil {
		return nil, err
	}
	return p.first, nil
}

// checkPoints runs Check at every point: a swept or plain key that no
// run of a point uses, or a point past the budget, is an error.
func checkPoints(p *sweepPlan, opts Options) error {
	byPoint := map[int][]job{}
	for k, j := range p.jobs {
		byPoint[p.jobPoint[k]] = append(byPoint[p.jobPoint[k]], j)
	}
	for i := range p.pts {
		if err := Check(byPoint[i], opts); err != nil {
			return fmt.Errorf("at %s: %w", p.pts[i].label, err)
		}
	}
	return nil
}

// Sweep runs the scenario at every point of the grid of axes (every
// variant and replication at each; opts.Variants picks variants as in
// Run), simulations on all cores, then writes sweep.csv, the sweep
// figures (p99 and redirect rate against the swept parameter, one line
// per variant) and report.html into opts.Out. At each point the axes'
// values, plain overrides included, are applied together and validated
// once. Every row records the value each axis's key had in the scenario
// the run ran (read back from it, after the variant's settings): see
// plots.SweepTable.Keys.
func Sweep(ctx context.Context, load Loader, axes []Axis, opts Options) (*plots.SweepTable, error) {
	opts.sweep = true
	if err := opts.validate(); err != nil {
		return nil, err
	}
	p, err := planSweep(load, axes, opts.Out, opts.Variants, opts.Shard)
	if err != nil {
		return nil, err
	}
	if err := checkPoints(p, opts); err != nil {
		return nil, err
	}
	var swept, keys []string
	for _, a := range axes {
		if a.Swept() {
			swept = append(swept, a.Key)
		}
	}
	keys = append(keys, swept...)
	for _, a := range axes {
		if !a.Swept() {
			keys = append(keys, a.Key)
		}
	}
	table := &plots.SweepTable{Parameter: strings.Join(swept, " × "), Keys: keys}
	for _, pt := range p.pts {
		table.Values = append(table.Values, pt.label)
	}

	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	res, runErr := runJobs(ctx, p.jobs, opts)

	// Group the summaries by variant and point; record the settings of
	// each variant's run at each point.
	index := map[string]int{}
	for i, v := range p.variants {
		index[v] = i
		table.Variants = append(table.Variants, plots.SweepVariant{Name: v,
			Points: make([][]*results.Summary, len(p.pts)), Settings: make([][]string, len(p.pts))})
	}
	runDirs := make([][]string, len(p.variants))
	for i := range runDirs {
		runDirs[i] = make([]string, len(p.pts))
	}
	var setErr []error
	for k, j := range p.jobs {
		pi, vi := p.jobPoint[k], index[j.sc.Variant]
		sv := &table.Variants[vi]
		if sv.Settings[pi] == nil {
			for _, key := range keys {
				val, err := Setting(j.sc, key)
				if err != nil {
					setErr = append(setErr, fmt.Errorf("%s at %s: %w", nameOr(j.sc.Variant, j.sc.Name), p.pts[pi].label, err))
				}
				sv.Settings[pi] = append(sv.Settings[pi], val)
			}
		}
		if r := res[k]; r.Summary != nil {
			sv.Points[pi] = append(sv.Points[pi], r.Summary)
			dir := filepath.Join(opts.Out, dirName(p.pts[pi].index, p.pts[pi].label))
			if j.sc.Variant != "" {
				dir = filepath.Join(dir, j.sc.Variant)
			}
			runDirs[vi][pi] = dir
		}
	}
	// Each point's own reports, then the sweep's.
	repErr := setErr
	for i, pt := range p.pts {
		var mine []Result
		for k, r := range res {
			if p.jobPoint[k] == i && r.sc != nil {
				mine = append(mine, r)
			}
		}
		if len(mine) == 0 {
			continue // a point a stop kept from starting
		}
		if err := writeReportsWith(ctx, filepath.Join(opts.Out, dirName(pt.index, pt.label)), mine, nil); err != nil {
			repErr = append(repErr, err)
		}
		if ctx.Err() != nil {
			break // the rest is drawn later by redirlab plot
		}
	}
	if err := report.WriteSweep(opts.Out, *table, runDirs); err != nil {
		repErr = append(repErr, fmt.Errorf("sweep report: %w", err))
	}
	return table, errors.Join(runErr, errors.Join(repErr...))
}
