package runner

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/report"
)

// IsSweep reports whether dir is the results directory of a sweep: it
// holds sweep.csv.
func IsSweep(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, report.SweepFile))
	return err == nil && st.Mode().IsRegular()
}

// SweepDir is a sweep's results directory as read back from its files.
type SweepDir struct {
	// Table is the sweep: parameter, values, settings as run (from
	// sweep.csv), and the summaries of every run (from the point
	// directories).
	Table plots.SweepTable
	// Points[i] is the directory of the runs at Table.Values[i].
	Points []string
	// RunDirs[v][i] is variant v's run at Table.Values[i], "" where it
	// failed.
	RunDirs [][]string
}

// ReadSweep reads a sweep's results directory: sweep.csv for the
// parameter, its values, the variants and the settings as run, and the
// point directories (NN-value, numbered from 01 in sweep order) for
// each run's summaries.
func ReadSweep(dir string) (*SweepDir, error) {
	f, err := os.Open(filepath.Join(dir, report.SweepFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, report.SweepFile), err)
	}
	if len(recs) < 2 || len(recs[0]) < 3 || recs[0][1] != "variant" {
		return nil, fmt.Errorf("%s: not a sweep table (want a header PARAMETER, variant, ... and rows)", filepath.Join(dir, report.SweepFile))
	}
	head := recs[0]
	s := &SweepDir{Table: plots.SweepTable{Parameter: head[0]}}
	for _, h := range head[2:] {
		k, ok := strings.CutSuffix(h, report.AsRunSuffix)
		if !ok {
			break
		}
		s.Table.Keys = append(s.Table.Keys, k)
	}
	// Rows run variant by variant, each over every value in order.
	var variants []string
	rows := map[string][][]string{}
	for _, r := range recs[1:] {
		if len(r) < 2+len(s.Table.Keys) {
			return nil, fmt.Errorf("%s: short row %v", filepath.Join(dir, report.SweepFile), r)
		}
		if !slices.Contains(variants, r[1]) {
			variants = append(variants, r[1])
		}
		rows[r[1]] = append(rows[r[1]], r)
	}
	for _, r := range rows[variants[0]] {
		s.Table.Values = append(s.Table.Values, r[0])
	}
	s.Points, err = pointDirs(dir, len(s.Table.Values))
	if err != nil {
		return nil, err
	}
	for _, name := range variants {
		if len(rows[name]) != len(s.Table.Values) {
			return nil, fmt.Errorf("%s: variant %s has %d rows for %d values", filepath.Join(dir, report.SweepFile), name, len(rows[name]), len(s.Table.Values))
		}
		v := plots.SweepVariant{Name: name}
		runDirs := make([]string, len(s.Points))
		for i, r := range rows[name] {
			v.Settings = append(v.Settings, slices.Clone(r[2:2+len(s.Table.Keys)]))
			var sums []*results.Summary
			d := variantDir(s.Points[i], name)
			if d != "" {
				sums, err = plots.RunSummaries(d)
			}
			if d == "" || err != nil {
				v.Points = append(v.Points, nil) // the run failed
				continue
			}
			v.Points = append(v.Points, sums)
			runDirs[i] = d
		}
		s.Table.Variants = append(s.Table.Variants, v)
		s.RunDirs = append(s.RunDirs, runDirs)
	}
	return s, nil
}

// pointDirs finds the n point directories of a sweep, NN-label, by
// their number.
func pointDirs(dir string, n int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	pts := make([]string, n)
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "-")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || !e.IsDir() || i < 1 || i > n || pts[i-1] != "" {
			continue
		}
		pts[i-1] = filepath.Join(dir, e.Name())
	}
	for i, p := range pts {
		if p == "" {
			return nil, fmt.Errorf("%s: no directory %02d-... for the sweep's value %d", dir, i+1, i+1)
		}
	}
	return pts, nil
}

// variantDir is the directory of variant name's run in a point
// directory: its sub-directory, or, for a scenario without variants
// (written "base" in sweep.csv), the point directory itself. "" when
// there is none.
func variantDir(point, name string) string {
	if d := filepath.Join(point, name); isRun(d) {
		return d
	}
	if name == "base" && isRun(point) {
		return point
	}
	return ""
}

// isRun reports whether dir holds a run or its replications.
func isRun(dir string) bool {
	_, err := plots.Replications(dir)
	return err == nil
}

// SweepRuns lists the runs of a sweep's results directory for compare,
// in sweep order (value by value, each value's variants in scenario
// order), named "VALUE" or, with variants, "VARIANT at VALUE". Runs that
// failed are left out.
func SweepRuns(dir string) ([]plots.Run, error) {
	s, err := ReadSweep(dir)
	if err != nil {
		return nil, err
	}
	var runs []plots.Run
	for i, val := range s.Table.Values {
		for v, sv := range s.Table.Variants {
			d := s.RunDirs[v][i]
			if d == "" {
				continue
			}
			name := val
			if d != s.Points[i] {
				name = sv.Name + " at " + val
			}
			runs = append(runs, plots.Run{Name: name, Dir: d})
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s: a sweep none of whose runs has results", dir)
	}
	return runs, nil
}

// Redraw (re)draws the figures and report.html of a results directory
// from its saved files: for a sweep, every point directory's (as
// report.Write does a run's, its replications' or its variants'), then
// the sweep's figures and report from sweep.csv and the points' runs;
// for anything else, report.Write.
func Redraw(dir string) error {
	if !IsSweep(dir) {
		return report.Write(dir)
	}
	s, err := ReadSweep(dir)
	if err != nil {
		return err
	}
	var errs []error
	for i, p := range s.Points {
		if slices.ContainsFunc(s.RunDirs, func(d []string) bool { return d[i] != "" }) {
			errs = append(errs, report.Write(p))
		}
	}
	errs = append(errs, report.WriteSweep(dir, s.Table, s.RunDirs))
	return errors.Join(errs...)
}
