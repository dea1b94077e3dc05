// Package report turns results directories into answers: the comparison
// table of `redirlab compare` (text, CSV, JSON, Markdown), comparison.csv
// and sweep.csv, and a self-contained report.html in every results
// directory.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/stats"
)

// Table compares runs: one row per run, one column per metric. Each cell
// holds the metric's mean over the run's replications with its 95%
// interval, and the difference against the first run (the baseline) with
// its interval and significance verdict.
type Table struct {
	// Metrics are the columns, stats.Metrics.
	Metrics []stats.Metric
	// Rows are the runs in the order given; Rows[0] is the baseline.
	Rows []Row
}

// Row is one run.
type Row struct {
	// Name labels the run (a variant name).
	Name string
	// Dir is its results directory.
	Dir string
	// Replications is how many summaries the run has (1 without rep-N).
	Replications int
	// Cells line up with Table.Metrics.
	Cells []Cell
}

// Cell is one metric of one run.
type Cell struct {
	// Value is the mean over replications with its 95% interval
	// (HasCI false for a single run).
	Value stats.Interval
	// Change is Value minus the baseline's by Welch's interval; zero in
	// the baseline row (Baseline true).
	Change stats.Difference
	// Baseline marks the first row's cells.
	Baseline bool
}

// Verdict is the significance of the change against the baseline:
// "baseline", "significant", "not significant" (the 95% interval of the
// difference contains 0) or "no CI" (a run without replications).
func (c Cell) Verdict() string {
	if c.Baseline {
		return "baseline"
	}
	return c.Change.Verdict()
}

// Compare reads runs (each a results directory with summary.json, or
// with rep-N/summary.json replications) and builds their table. Runs
// without a name are named after their directory.
func Compare(runs []plots.Run) (*Table, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("report: no runs to compare")
	}
	sums := make([][]*results.Summary, len(runs))
	for i, r := range runs {
		s, err := plots.RunSummaries(r.Dir)
		if err != nil {
			return nil, err
		}
		sums[i] = s
	}
	return NewTable(named(runs), sums), nil
}

func named(runs []plots.Run) []plots.Run {
	out := make([]plots.Run, len(runs))
	for i, r := range runs {
		if r.Name == "" {
			r.Name = plots.RunName(r.Dir)
		}
		out[i] = r
	}
	return out
}

// NewTable builds the table of runs from their summaries (sums[i] are
// run i's replications; none may be empty).
func NewTable(runs []plots.Run, sums [][]*results.Summary) *Table {
	t := &Table{Metrics: stats.Metrics}
	for i, r := range runs {
		row := Row{Name: r.Name, Dir: r.Dir, Replications: len(sums[i])}
		if slices.ContainsFunc(sums[i], func(s *results.Summary) bool { return s.Partial }) {
			// A stopped run's figures cover less than its duration.
			row.Name += " (partial)"
		}
		for _, m := range t.Metrics {
			v := m.Values(sums[i])
			c := Cell{Value: stats.MeanCI(v, stats.Level), Baseline: i == 0}
			if i > 0 {
				c.Change = stats.Welch(m.Values(sums[0]), v, stats.Level)
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// Formats are the formats Table.Write accepts.
var Formats = []string{"text", "csv", "json", "markdown"}

// Write writes the table as text (aligned columns, for a terminal), csv,
// json or markdown.
func (t *Table) Write(w io.Writer, format string) error {
	switch format {
	case "text", "":
		return t.writeText(w)
	case "csv":
		return t.writeCSV(w)
	case "json":
		return t.writeJSON(w)
	case "markdown", "md":
		return t.writeMarkdown(w)
	}
	return fmt.Errorf("report: format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// isRate reports whether m is a rate or ratio (a fraction without unit:
// redirect rate, utilisation), shown in percent and its changes in
// percentage points.
func isRate(m stats.Metric) bool { return m.Unit == "" }

// header names a metric's column with its unit.
func header(m stats.Metric) string {
	switch {
	case isRate(m):
		return m.Label + " %"
	case m.Unit == "requests":
		return m.Label
	}
	return m.Label + " " + m.Unit
}

// display scales a metric for humans (rates in percent).
func display(m stats.Metric, v float64) float64 {
	if isRate(m) {
		return 100 * v
	}
	return v
}

// num formats a figure with about three significant digits.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "-"
	case v == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// count formats a count (or a mean of counts) without decimals when it
// is whole.
func count(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return num(v)
}

// sig2 formats an interval half-width to two significant digits: more
// would claim a precision the interval itself does not have.
func sig2(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return num(v)
	}
	p := math.Pow10(int(math.Floor(math.Log10(math.Abs(v)))) - 1)
	r := math.Round(v/p) * p // two significant digits; may carry to 1.0e(k+1)
	digits := max(0, 1-int(math.Floor(math.Log10(math.Abs(r)))))
	return strconv.FormatFloat(r, 'f', digits, 64)
}

// format writes a metric's value for humans.
func format(m stats.Metric, v float64) string {
	if m.Unit == "requests" {
		return count(v)
	}
	return num(display(m, v))
}

// change words a cell's change for humans. A rate's is the absolute
// difference in percentage points (19.3% against 0.4% is +18.9 pp, not
// +4725%); any other metric's is relative when the baseline is not 0,
// else the absolute difference.
func change(m stats.Metric, c Cell) string {
	d := c.Change
	if isRate(m) {
		return fmt.Sprintf("%+.1f pp", 100*d.Delta)
	}
	if !math.IsNaN(d.Relative) && !math.IsInf(d.Relative, 0) {
		return fmt.Sprintf("%+.1f%%", 100*d.Relative)
	}
	if d.Delta >= 0 {
		return "+" + format(m, d.Delta)
	}
	return format(m, d.Delta)
}

// mark is the verdict as a one-character suffix: * significant,
// ~ not significant, nothing without replications.
func mark(c Cell) string {
	switch c.Verdict() {
	case "significant":
		return "*"
	case "not significant":
		return "~"
	}
	return ""
}

// humanCell is a cell as text: value, ± half-width, change and mark.
func humanCell(m stats.Metric, c Cell) string {
	s := format(m, c.Value.Mean)
	if c.Value.HasCI() {
		s += " ±" + sig2(display(m, c.Value.HalfWidth()))
	}
	if !c.Baseline {
		s += " (" + change(m, c) + mark(c) + ")"
	}
	return s
}

// legend explains the text and markdown cells.
func (t *Table) legend() string {
	base := ""
	if len(t.Rows) > 0 {
		base = t.Rows[0].Name
	}
	return "± is the 95% CI half-width over replications; (change) is against " + base +
		", in percent, or in percentage points (pp) for rates; * significant, ~ not significant (the 95% CI of the difference contains 0), no mark: too few replications to tell."
}

func (t *Table) humanRows() [][]string {
	rows := [][]string{{"run", "reps"}}
	for _, m := range t.Metrics {
		rows[0] = append(rows[0], header(m))
	}
	for _, r := range t.Rows {
		row := []string{r.Name, strconv.Itoa(r.Replications)}
		for i, m := range t.Metrics {
			row = append(row, humanCell(m, r.Cells[i]))
		}
		rows = append(rows, row)
	}
	return rows
}

func (t *Table) writeText(w io.Writer) error {
	rows := t.humanRows()
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			pad := width[i] - len([]rune(c))
			if i == 0 {
				b.WriteString(c + strings.Repeat(" ", pad))
			} else {
				// Figures right-aligned.
				b.WriteString("  " + strings.Repeat(" ", pad) + c)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString(t.legend() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *Table) writeMarkdown(w io.Writer) error {
	rows := t.humanRows()
	var b strings.Builder
	for k, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		if k == 0 {
			b.WriteString("|---|")
			b.WriteString(strings.Repeat("---:|", len(r)-1))
			b.WriteString("\n")
		}
	}
	b.WriteString("\n" + t.legend() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// csvFloat writes a figure exactly enough for scripts, "" for NaN/Inf.
func csvFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 10, 64)
}

// CSVHeader is the header of comparison.csv and of `compare --format
// csv`: run, replications, then for every metric KEY: KEY (mean over
// replications), KEY_ci_low, KEY_ci_high (empty without replications),
// KEY_change (relative to the first run, empty for it or when its value
// is 0), KEY_diff_ci_low, KEY_diff_ci_high (95% interval of the
// difference, empty when either run lacks replications) and KEY_verdict.
func (t *Table) CSVHeader() []string {
	h := []string{"run", "replications"}
	for _, m := range t.Metrics {
		h = append(h, m.Key, m.Key+"_ci_low", m.Key+"_ci_high", m.Key+"_change", m.Key+"_diff_ci_low", m.Key+"_diff_ci_high", m.Key+"_verdict")
	}
	return h
}

func (t *Table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.CSVHeader()); err != nil {
		return err
	}
	for _, r := range t.Rows {
		rec := []string{r.Name, strconv.Itoa(r.Replications)}
		for _, c := range r.Cells {
			rec = append(rec, csvFloat(c.Value.Mean))
			if c.Value.HasCI() {
				rec = append(rec, csvFloat(c.Value.Lo), csvFloat(c.Value.Hi))
			} else {
				rec = append(rec, "", "")
			}
			if c.Baseline {
				rec = append(rec, "", "", "")
			} else {
				rec = append(rec, csvFloat(c.Change.Relative))
				if c.Change.HasCI() {
					rec = append(rec, csvFloat(c.Change.Lo), csvFloat(c.Change.Hi))
				} else {
					rec = append(rec, "", "")
				}
			}
			rec = append(rec, c.Verdict())
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// JSON shapes: optional figures are null when absent.
type jsonTable struct {
	Baseline string     `json:"baseline"`
	Level    float64    `json:"level"`
	Metrics  []jsonMeta `json:"metrics"`
	Runs     []jsonRow  `json:"runs"`
}

type jsonMeta struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Unit  string `json:"unit"`
}

type jsonRow struct {
	Name         string              `json:"name"`
	Replications int                 `json:"replications"`
	Metrics      map[string]jsonCell `json:"metrics"`
}

type jsonCell struct {
	Mean      *float64 `json:"mean"`
	CILow     *float64 `json:"ci_low"`
	CIHigh    *float64 `json:"ci_high"`
	Delta     *float64 `json:"delta"`
	Change    *float64 `json:"change"`
	DiffCILow *float64 `json:"diff_ci_low"`
	DiffCIHi  *float64 `json:"diff_ci_high"`
	Verdict   string   `json:"verdict"`
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (t *Table) writeJSON(w io.Writer) error {
	jt := jsonTable{Level: stats.Level, Metrics: []jsonMeta{}, Runs: []jsonRow{}}
	if len(t.Rows) > 0 {
		jt.Baseline = t.Rows[0].Name
	}
	for _, m := range t.Metrics {
		jt.Metrics = append(jt.Metrics, jsonMeta{m.Key, m.Label, m.Unit})
	}
	for _, r := range t.Rows {
		jr := jsonRow{Name: r.Name, Replications: r.Replications, Metrics: map[string]jsonCell{}}
		for i, m := range t.Metrics {
			c := r.Cells[i]
			jc := jsonCell{Mean: ptr(c.Value.Mean), Verdict: c.Verdict()}
			if c.Value.HasCI() {
				jc.CILow, jc.CIHigh = ptr(c.Value.Lo), ptr(c.Value.Hi)
			}
			if !c.Baseline {
				jc.Delta, jc.Change = ptr(c.Change.Delta), ptr(c.Change.Relative)
				if c.Change.HasCI() {
					jc.DiffCILow, jc.DiffCIHi = ptr(c.Change.Lo), ptr(c.Change.Hi)
				}
			}
			jr.Metrics[m.Key] = jc
		}
		jt.Runs = append(jt.Runs, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jt)
}
