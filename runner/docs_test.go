package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/report"
	"github.com/redirlab/redirlab/results/stats"
	"github.com/redirlab/redirlab/scenarios"
)

// The tests here keep docs/results.md true to the results directories
// the runner lays out: comparison.csv, replications.csv and sweep.csv
// (package report), the figures (package plots) and report.html. The
// document's conventions: every file has a section whose heading names it
// in backticks; every CSV column has a table row in its file's section
// whose first cell is the column in backticks; columns repeated per
// metric are documented once as KEY, KEY_ci_low, ... with the metric
// keys in the "Metrics compared" section; the first column of sweep.csv
// (named after the swept key) is PARAMETER; every figure has a row in the
// "Plots" section. results/docs_test.go checks the run's own files.

const resultsDoc = "../docs/results.md"

type docSection struct {
	heading string
	line    int            // 1-based
	rows    map[string]int // first cells that are one name in backticks -> line
}

var docRow = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|")

// readDocSections splits a Markdown file into its sections (a heading and
// what follows up to the next heading of the same or a higher level) with
// their table rows.
func readDocSections(t *testing.T, path string) []docSection {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the documentation: %v", err)
	}
	lines := strings.Split(string(data), "\n")
	type head struct{ level, i int }
	var heads []head
	inFence := make([]bool, len(lines))
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			inFence[i] = true
			continue
		}
		inFence[i] = fenced
		if fenced || !strings.HasPrefix(l, "#") {
			continue
		}
		level := len(l) - len(strings.TrimLeft(l, "#"))
		if level < len(l) && l[level] == ' ' {
			heads = append(heads, head{level, i})
		}
	}
	var out []docSection
	for k, h := range heads {
		end := len(lines)
		for _, n := range heads[k+1:] {
			if n.level <= h.level {
				end = n.i
				break
			}
		}
		s := docSection{heading: lines[h.i], line: h.i + 1, rows: map[string]int{}}
		for i := h.i + 1; i < end; i++ {
			if m := docRow.FindStringSubmatch(lines[i]); m != nil && !inFence[i] {
				if _, dup := s.rows[m[1]]; !dup {
					s.rows[m[1]] = i + 1
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// docSectionHeaded is the section whose heading holds want (a file name in
// backticks, or a title).
func docSectionHeaded(t *testing.T, secs []docSection, want string) (docSection, bool) {
	t.Helper()
	for _, s := range secs {
		if strings.Contains(s.heading, want) {
			return s, true
		}
	}
	t.Errorf("%s: no section headed %s", resultsDoc, want)
	return docSection{}, false
}

const (
	docMetricsHeading = "Metrics compared"
	docPlotsHeading   = "## Plots"
	// docParameterColumn stands for sweep.csv's first column, named after
	// the swept key.
	docParameterColumn = "PARAMETER"
)

// docSameColumns are files documented as having another file's columns.
var docSameColumns = map[string]string{report.ReplicationsFile: report.ComparisonFile}

// docCheckColumns checks that every column of header is documented in
// file's section: by its own row, or, for a column repeated per metric
// (p99_ms_ci_low), by the row of its template (KEY_ci_low) with the
// metric's own row in the metrics section.
func docCheckColumns(t *testing.T, secs []docSection, file string, header []string) {
	t.Helper()
	doc := file
	if other, ok := docSameColumns[file]; ok {
		doc = other
	}
	s, ok := docSectionHeaded(t, secs, "`"+doc+"`")
	if !ok {
		return
	}
	metrics, ok := docSectionHeaded(t, secs, docMetricsHeading)
	if !ok {
		return
	}
	if len(header) == 0 {
		t.Errorf("%s: empty header", file)
	}
	for _, c := range header {
		if _, ok := s.rows[c]; ok {
			continue
		}
		if strings.HasSuffix(c, "_as_run") {
			// One per --set key, named after it.
			if _, ok := s.rows["KEY_as_run"]; ok {
				continue
			}
		}
		documented := false
		template := ""
		for _, m := range stats.Metrics {
			suffix, ok := strings.CutPrefix(c, m.Key)
			if !ok {
				continue
			}
			template = "KEY" + suffix
			_, metric := metrics.rows[m.Key]
			_, tmpl := s.rows[template]
			documented = documented || (metric && tmpl)
		}
		if !documented {
			if template != "" {
				t.Errorf("%s: column %s of %s is not documented: add the metric to %s and a row | `%s` | to the %s section (line %d)", resultsDoc, c, file, docMetricsHeading, template, doc, s.line)
			} else {
				t.Errorf("%s: column %s of %s has no row in the %s section (line %d): add | `%s` | unit | meaning |", resultsDoc, c, file, doc, s.line, c)
			}
		}
	}
}

func TestDocsMetrics(t *testing.T) {
	secs := readDocSections(t, resultsDoc)
	s, ok := docSectionHeaded(t, secs, docMetricsHeading)
	if !ok {
		return
	}
	var keys []string
	for _, m := range stats.Metrics {
		keys = append(keys, m.Key)
		if _, ok := s.rows[m.Key]; !ok {
			t.Errorf("%s: metric %s has no row in %s (line %d)", resultsDoc, m.Key, docMetricsHeading, s.line)
		}
	}
	for k, line := range s.rows {
		if !slices.Contains(keys, k) {
			t.Errorf("%s:%d: %s lists %s, which is not a metric of stats.Metrics", resultsDoc, line, docMetricsHeading, k)
		}
	}
}

func TestDocsComparisonColumns(t *testing.T) {
	secs := readDocSections(t, resultsDoc)
	table := &report.Table{Metrics: stats.Metrics}
	docCheckColumns(t, secs, report.ComparisonFile, table.CSVHeader())
	docCheckColumns(t, secs, report.ReplicationsFile, table.CSVHeader())
}

func TestDocsSweepColumns(t *testing.T) {
	secs := readDocSections(t, resultsDoc)
	table := plots.SweepTable{Parameter: docParameterColumn, Values: []string{"1"},
		Variants: []plots.SweepVariant{{Points: [][]*results.Summary{nil}}}}
	var buf bytes.Buffer
	if err := report.WriteSweepCSV(&buf, table); err != nil {
		t.Fatal(err)
	}
	header, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	docCheckColumns(t, secs, report.SweepFile, header)
}

// docsScenario has variants (one with the queue-delay condition, for
// every figure, one shedding, for the shed figures), replications and an
// empirical distribution (for data/).
const docsScenario = `
name: docs
duration: 1s
warmup: 200ms
replications: 2
servers:
  - {name: web, count: 2, workers: 2, service: {dist: empirical, file: times.txt}}
policy: {condition: queue-length, threshold: 2}
workload:
  arrival: {process: poisson, rate: 300/s}
variants:
  - {name: delay, set: {policy.condition: queue-delay, policy.threshold: 5ms}}
  - {name: shed, set: {policy.action: shed}}
`

// TestDocsResultsDirectory runs a scenario with variants and
// replications, and a sweep, and checks that every file they write is
// documented: its section, every column of its CSV header, every figure.
func TestDocsResultsDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs simulations and draws their figures")
	}
	secs := readDocSections(t, resultsDoc)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "times.txt"), []byte("2ms\n5ms\n8ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(src, "docs.yaml")
	if err := os.WriteFile(file, []byte(docsScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(sets ...string) (*scenarios.Scenario, error) { return scenarios.Load(file, sets...) }
	sc, err := load()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx := context.Background()
	if _, err := Run(ctx, sc, Options{Mode: Sim, Out: filepath.Join(out, "run")}); err != nil {
		t.Fatal(err)
	}
	axes := []Axis{{Key: "workload.arrival.rate", Values: []string{"200/s", "300/s"}}}
	if _, err := Sweep(ctx, func(sets ...string) (*scenarios.Scenario, error) {
		return load(append([]string{"replications=1"}, sets...)...)
	}, axes, Options{Mode: Sim, Out: filepath.Join(out, "sweep"), Variants: []string{"base", "shed"}}); err != nil {
		t.Fatal(err)
	}

	plotsSec, ok := docSectionHeaded(t, secs, docPlotsHeading)
	if !ok {
		return
	}
	figures := map[string]bool{}
	checked := map[string]bool{}
	err = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		switch ext := filepath.Ext(name); {
		case slices.Contains(strings.Split(rel, "/"), "data"):
			// Data files beside scenario.yaml: documented with it.
		case ext == ".png" || ext == ".svg":
			fig := strings.TrimSuffix(name, ext)
			figures[fig] = true
			if _, ok := plotsSec.rows[fig]; !ok && !checked["fig:"+fig] {
				t.Errorf("%s: figure %s (%s) has no row in the Plots section (line %d)", resultsDoc, fig, rel, plotsSec.line)
			}
			checked["fig:"+fig] = true
		case ext == ".csv":
			if checked[name] {
				break
			}
			checked[name] = true
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			header, err := csv.NewReader(bufio.NewReader(f)).Read()
			f.Close()
			if err != nil {
				t.Errorf("%s: header: %v", rel, err)
				break
			}
			if name == report.SweepFile && len(header) > 0 {
				header[0] = docParameterColumn
			}
			docCheckColumns(t, secs, name, header)
		default:
			if !checked[name] {
				checked[name] = true
				docSectionHeaded(t, secs, "`"+name+"`")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{results.SummaryFile, results.RequestsFile, results.ServersFile, results.TimeseriesFile,
		results.ScenarioFile, report.ReportFile, report.ComparisonFile, report.ReplicationsFile, report.SweepFile} {
		if !checked[want] {
			t.Errorf("the runs wrote no %s: the test no longer covers it", want)
		}
	}
	// A row for a figure no run draws is stale.
	for fig, line := range plotsSec.rows {
		if !figures[fig] {
			t.Errorf("%s:%d: the Plots section lists %s, which no run drew: renamed or removed?", resultsDoc, line, fig)
		}
	}
}
