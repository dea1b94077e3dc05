package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/stats"
)

// SweepFile is the table of a sweep.
const SweepFile = "sweep.csv"

// AsRunSuffix ends the header of a sweep.csv column that holds a
// setting's value as run (policy.threshold_as_run).
const AsRunSuffix = "_as_run"

// WriteSweep writes a sweep's outcome into outDir: sweep.csv (see
// WriteSweepCSV), the sweep figures (plots.Sweep: p99 and redirect rate
// against the parameter, one line per variant) and report.html showing
// them with links to the runs' own reports, runDirs[i][j] being
// variant i's run at value j ("" where there is none).
func WriteSweep(outDir string, table plots.SweepTable, runDirs [][]string) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var buf bytes.Buffer
	if err := WriteSweepCSV(&buf, table); err != nil {
		return err
	}
	if err := writeFileAtomic(outDir, SweepFile, buf.Bytes(), nil); err != nil {
		return err
	}
	files, err := plots.Sweep(outDir, table)
	if err != nil {
		return err
	}
	p := &page{
		Title:      "Sweep of " + table.Parameter,
		TableTitle: "Sweep",
		Table:      sweepRows(table),
		Legend:     "Means over replications; ± is the 95% CI half-width (Student t); - where a run failed.",
		CSV:        SweepFile,
		Figures:    figureRefs(outDir, files),
	}
	for i, v := range table.Variants {
		for j, val := range table.Values {
			if i < len(runDirs) && j < len(runDirs[i]) && runDirs[i][j] != "" {
				p.Links = append(p.Links, runLink(outDir, plots.Run{Name: variantName(v.Name) + " at " + val, Dir: runDirs[i][j]}))
			}
		}
	}
	return writePage(outDir, p, nil)
}

func variantName(n string) string {
	if n == "" {
		return "base"
	}
	return n
}

// WriteSweepCSV writes a sweep table as CSV: one row per variant and
// value, columns PARAMETER (the value as written), variant, KEY_as_run
// for every key of table.Keys (its value in the scenario as run),
// replications, then for every metric of stats.Metrics KEY (mean over replications),
// KEY_ci_low and KEY_ci_high (empty without replications). A value whose
// run failed has a row with replications 0 and empty figures.
func WriteSweepCSV(w io.Writer, table plots.SweepTable) error {
	cw := csv.NewWriter(w)
	h := []string{table.Parameter, "variant"}
	for _, k := range table.Keys {
		h = append(h, k+AsRunSuffix)
	}
	h = append(h, "replications")
	for _, m := range stats.Metrics {
		h = append(h, m.Key, m.Key+"_ci_low", m.Key+"_ci_high")
	}
	if err := cw.Write(h); err != nil {
		return err
	}
	for _, v := range table.Variants {
		if len(v.Points) != len(table.Values) {
			return fmt.Errorf("report: sweep table: variant %q has %d points for %d values", v.Name, len(v.Points), len(table.Values))
		}
		for j, val := range table.Values {
			sums := v.Points[j]
			rec := []string{val, variantName(v.Name)}
			for k := range table.Keys {
				rec = append(rec, v.Setting(j, k))
			}
			rec = append(rec, strconv.Itoa(len(sums)))
			for _, m := range stats.Metrics {
				if len(sums) == 0 {
					rec = append(rec, "", "", "")
					continue
				}
				iv := m.Across(sums)
				rec = append(rec, csvFloat(iv.Mean))
				if iv.HasCI() {
					rec = append(rec, csvFloat(iv.Lo), csvFloat(iv.Hi))
				} else {
					rec = append(rec, "", "")
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// sweepRows is the sweep as a human table: value and variant, then the
// metrics with ± half-widths.
func sweepRows(table plots.SweepTable) [][]string {
	rows := [][]string{{table.Parameter, "variant"}}
	for _, k := range table.Keys {
		rows[0] = append(rows[0], k+" as run")
	}
	rows[0] = append(rows[0], "reps")
	for _, m := range stats.Metrics {
		rows[0] = append(rows[0], header(m))
	}
	for _, v := range table.Variants {
		for j, val := range table.Values {
			if j >= len(v.Points) {
				break
			}
			sums := v.Points[j]
			row := []string{val, variantName(v.Name)}
			for k := range table.Keys {
				row = append(row, v.Setting(j, k))
			}
			row = append(row, strconv.Itoa(len(sums)))
			for _, m := range stats.Metrics {
				if len(sums) == 0 {
					row = append(row, "-")
					continue
				}
				iv := m.Across(sums)
				s := format(m, iv.Mean)
				if iv.HasCI() {
					s += " ±" + sig2(display(m, iv.HalfWidth()))
				}
				row = append(row, s)
			}
			rows = append(rows, row)
		}
	}
	return rows
}
