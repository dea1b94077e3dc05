package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/internal/par"
	"github.com/redirlab/redirlab/results/internal/tempfile"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/scenarios"
)

// Files written by this package.
const (
	// ReportFile is the HTML report of a results directory.
	ReportFile = "report.html"
	// ComparisonFile is the comparison table of a directory of variants,
	// in the CSV format of Table.Write (see Table.CSVHeader). Its run
	// column fixes the variants' order (their colours come from their
	// summaries' variant lists: see plots.RunColors).
	ComparisonFile = plots.ComparisonFile
	// ReplicationsFile is, in a directory of replications, the run's
	// metrics as means over the replications with their 95% intervals
	// (one row, in the CSV format of Table.Write).
	ReplicationsFile = "replications.csv"
)

// Write (re)draws the figures of a results directory and writes its
// report.html, whatever the layout a run left:
//
//   - a run (summary.json): plots.Draw, then a report with the scenario,
//     the summary and the figures;
//   - replications (rep-N/summary.json): every replication as a run, then
//     a report with the table of means and 95% intervals over
//     replications, overlay figures of the replications and links;
//   - variants (sub-directories that are runs or replications): every
//     variant as above, then WriteComparison of the variants in the
//     order of comparison.csv when there is one (else base first, then by
//     name).
//
// It reads only the saved files, so `redirlab plot DIR` is Write(DIR).
// Files and figures are written concurrently (see Options).
func Write(dir string) error { return WriteWith(dir, Options{}) }

// Options configure WriteWith.
type Options struct {
	// Runs, when set, are the variants of a directory of variants, in
	// order (as the run that made them knows them), instead of Discover's.
	Runs []plots.Run
	// Parallel bounds the files and figures being made at once. Default
	// GOMAXPROCS.
	Parallel int
	// Progress, if set, is called after every file written, never
	// concurrently.
	Progress func(Progress)
	// Stop, when closed, ends the writing early: the files being written
	// are finished, the others left out, and WriteWith returns ErrStopped.
	Stop <-chan struct{}
}

// ErrStopped is a WriteWith ended early by Options.Stop.
var ErrStopped = errors.New("report: stopped before every figure was drawn")

// Progress is the state of a WriteWith after one more file: files
// written so far, the one just written, time since the start.
type Progress = par.Progress

// WriteWith is Write with options. The files written do not depend on
// Parallel: every figure and page is a pure function of the saved data.
func WriteWith(dir string, o Options) error {
	w := par.New(o.Parallel, o.Progress).StopOn(o.Stop)
	err := write(dir, o.Runs, w)
	if w.Stopped() {
		return errors.Join(err, ErrStopped)
	}
	return err
}

func write(dir string, runs []plots.Run, w *par.Writing) error {
	if exists(filepath.Join(dir, results.SummaryFile)) {
		return writeRun(dir, w)
	}
	if reps, err := plots.Replications(dir); err == nil {
		return writeReplications(dir, reps, w)
	}
	if len(runs) == 0 {
		var err error
		if runs, err = Discover(dir); err != nil {
			return err
		}
	}
	// comparison.csv first: it gives a variant whose summary does not
	// list its scenario's variants its colour in the variant's own
	// figures (plots.VariantColor). Then the comparison's figures and page and
	// every variant at once.
	runs = named(runs)
	t, err := writeComparisonTable(dir, runs, w)
	if err != nil {
		return err
	}
	errs := make([]error, len(runs)+1)
	par.All(len(runs)+1, func(i int) {
		if i == len(runs) {
			errs[i] = writeComparisonPage(dir, runs, t, w)
		} else {
			errs[i] = write(runs[i].Dir, nil, w)
		}
	})
	return errors.Join(errs...)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Discover lists the variants of a results directory: its
// sub-directories that hold a run (summary.json) or replications
// (rep-N/summary.json), named after the sub-directory. They are ordered
// as in dir/comparison.csv when it exists (the order the run wrote
// them), else as in dir/scenario.yaml's variants (base first) when it
// exists, else "base" first and the rest by name.
func Discover(dir string) ([]plots.Run, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var runs []plots.Run
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		d := filepath.Join(dir, e.Name())
		if _, err := plots.Replications(d); err == nil {
			runs = append(runs, plots.Run{Name: e.Name(), Dir: d})
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("report: %s holds no results: no %s, no rep-N/%s, no variant sub-directories", dir, results.SummaryFile, results.SummaryFile)
	}
	order := plots.ComparisonOrder(filepath.Join(dir, ComparisonFile))
	if order == nil {
		order = scenarioOrder(filepath.Join(dir, results.ScenarioFile))
	}
	rank := func(r plots.Run) int {
		if i := slices.Index(order, r.Name); i >= 0 {
			return i
		}
		if r.Name == "base" {
			return len(order)
		}
		return len(order) + 1
	}
	slices.SortStableFunc(runs, func(a, b plots.Run) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Name, b.Name)
	})
	return runs, nil
}

// scenarioOrder is base then the variants of a scenario file, nil when
// there is none or it does not load.
func scenarioOrder(path string) []string {
	if !exists(path) {
		return nil
	}
	sc, err := scenarios.Load(path)
	if err != nil || len(sc.Variants) == 0 {
		return nil
	}
	names := []string{"base"}
	for _, v := range sc.Variants {
		names = append(names, v.Name)
	}
	return names
}

// WriteComparison compares runs (the first is the baseline) into
// outDir: comparison.csv, the comparison figures (plots.Compare), and
// report.html with the table, the figures and links to each run's own
// report. It returns the table.
func WriteComparison(outDir string, runs []plots.Run) (*Table, error) {
	w := par.New(0, nil)
	runs = named(runs)
	t, err := writeComparisonTable(outDir, runs, w)
	if err != nil {
		return nil, err
	}
	return t, writeComparisonPage(outDir, runs, t, w)
}

// writeComparisonTable writes comparison.csv of runs (named) into outDir.
func writeComparisonTable(outDir string, runs []plots.Run, w *par.Writing) (*Table, error) {
	var t *Table
	var err error
	w.Do(func() { t, err = Compare(runs) })
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var csvBuf bytes.Buffer
	if err := t.Write(&csvBuf, "csv"); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(outDir, ComparisonFile, csvBuf.Bytes(), w); err != nil {
		return nil, err
	}
	return t, nil
}

// writeComparisonPage draws the comparison figures of runs (named) and
// writes outDir's report.html with the table t.
func writeComparisonPage(outDir string, runs []plots.Run, t *Table, w *par.Writing) error {
	files, err := plots.CompareWith(outDir, runs, w)
	if err != nil {
		return err
	}
	p := &page{
		Title:        "Comparison of " + joinNames(runs),
		Scenario:     firstScenario(outDir, runs),
		ScenarioNote: "As run for " + runs[0].Name + "; each run's own report shows its scenario.",
		Table:        t.humanRows(),
		Legend:       t.legend(),
		Figures:      figureRefs(outDir, files),
		CSV:          ComparisonFile,
	}
	for _, r := range runs {
		p.Links = append(p.Links, runLink(outDir, r))
	}
	return writePage(outDir, p, w)
}

func joinNames(runs []plots.Run) string {
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// firstScenario is the scenario shown atop a comparison: outDir's own
// scenario.yaml, else the first run's (or its first replication's).
func firstScenario(outDir string, runs []plots.Run) string {
	if s := readScenario(outDir); s != "" {
		return s
	}
	if len(runs) > 0 {
		if reps, err := plots.Replications(runs[0].Dir); err == nil {
			return readScenario(reps[0])
		}
	}
	return ""
}

func readScenario(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, results.ScenarioFile))
	if err != nil {
		return ""
	}
	return string(data)
}

// runLink links a run's report from outDir.
func runLink(outDir string, r plots.Run) link {
	l := link{Name: r.Name, Href: href(outDir, filepath.Join(r.Dir, ReportFile))}
	if reps, err := plots.Replications(r.Dir); err == nil && len(reps) > 1 {
		l.Note = fmt.Sprintf("%d replications", len(reps))
	}
	return l
}

// href is target relative to dir as a URL path, or a file URL when it
// has no relative path.
func href(dir, target string) string {
	if rel, err := filepath.Rel(dir, target); err == nil {
		return filepath.ToSlash(rel)
	}
	abs, _ := filepath.Abs(target)
	return "file://" + filepath.ToSlash(abs)
}

// writeRun draws one run and writes its report.
func writeRun(dir string, w *par.Writing) error {
	files, err := plots.DrawWith(dir, w)
	if err != nil {
		return err
	}
	sum, err := results.ReadSummary(dir)
	if err != nil {
		return err
	}
	title := sum.Scenario
	if sum.Variant != "" {
		title += " / " + sum.Variant
	}
	mode := sum.Mode.String()
	if sum.Partial {
		// A stopped run must not pass for a whole one in its report.
		mode += ", partial"
	}
	p := &page{
		Title:    title + " (" + mode + ")",
		Scenario: readScenario(dir),
		Summary:  summaryRows(sum),
		Servers:  serverRows(sum),
		Notes:    sum.Notes,
		Figures:  figureRefs(dir, files),
	}
	if sum.WarmupS <= 0 {
		for i := range p.Figures {
			p.Figures[i].Caption = strings.Replace(p.Figures[i].Caption, warmupNote, "", 1)
		}
	}
	if !exists(filepath.Join(dir, results.RequestsFile)) {
		p.Notes = append(p.Notes, "No requests.csv (run with --no-records): no latency CDF.")
	}
	return writePage(dir, p, w)
}

// writeReplications writes every replication's report, then dir's with
// the table over replications and the replications overlaid.
func writeReplications(dir string, reps []string, w *par.Writing) error {
	errs := make([]error, len(reps))
	runs := make([]plots.Run, len(reps))
	par.All(len(reps), func(i int) {
		errs[i] = writeRun(reps[i], w)
		runs[i] = plots.Run{Name: filepath.Base(reps[i]), Dir: reps[i]}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	whole := plots.Run{Name: plots.RunName(dir), Dir: dir}
	var t *Table
	var err error
	w.Do(func() { t, err = Compare([]plots.Run{whole}) })
	if err != nil {
		return err
	}
	var csvBuf bytes.Buffer
	if err := t.Write(&csvBuf, "csv"); err != nil {
		return err
	}
	if err := writeFileAtomic(dir, ReplicationsFile, csvBuf.Bytes(), w); err != nil {
		return err
	}
	files, err := plots.CompareWith(dir, runs, w)
	if err != nil {
		return err
	}
	p := &page{
		Title:      fmt.Sprintf("%s: %d replications", whole.Name, len(reps)),
		TableTitle: "Over replications",
		CSV:        ReplicationsFile,
		Scenario:   readScenario(reps[0]),
		Table:      t.humanRows(),
		Legend:     "Means over replications; ± is the 95% CI half-width (Student t). The figures overlay the replications.",
		Figures:    recaption(figureRefs(dir, files), replicationCaptions),
		Notes:      []string{"Replication k runs with seed = scenario seed + k - 1; the scenario shown is replication 1's."},
	}
	for _, r := range runs {
		p.Links = append(p.Links, runLink(dir, r))
	}
	return writePage(dir, p, w)
}

// faultsNote says how time-series figures mark faults; warmupNote how
// the per-server figures, which begin at run start, mark the end of the
// warmup (the per-second ones begin there). A run without a warmup has
// no such line, and its captions leave warmupNote out (writeRun).
const (
	faultsNote = " Shaded: faults, from a solid line (start) to a dashed one (end)."
	warmupNote = " Dotted: end of warmup."
)

// captions say what each figure shows.
var captions = map[string]string{
	"latency-cdf":           "Latency CDF over every page request sent, log latency axis: rejected, shed and failed requests count as +∞ (they never complete), so the curve tops out below 1 by their share; the legend gives the share completed.",
	"latency-over-time":     "p50 and p99 latency (log axis) of the page requests completed in each second." + faultsNote,
	"queue-length":          "Queue length (waiting + in service) per server, or with more than 8 servers its max, p90, median and min over the servers; a line of more points than can be seen is drawn as the band it spans; dashed red: the threshold." + faultsNote + warmupNote,
	"queue-delay":           "Queue delay per server by the configured estimator, in every run whatever the condition, or with more than 8 servers its max, p90, median and min over the servers; dashed red: the threshold under queue-delay." + faultsNote + warmupNote,
	"redirect-rate":         "Share of each second's page requests that were redirected at least once." + faultsNote,
	"throughput":            "Page requests completed and rejected per second (and shed and errors, when there are any)." + faultsNote,
	"compare-latency-cdf":   "Latency CDFs overlaid (replications pooled), log latency axis, over every page request sent: rejected, shed and failed requests count as +∞, so each curve tops out at its run's share completed (in the legend) and stays flat past its slowest request.",
	"compare-p50":           "Median latency per run, log axis (mean over replications, 95% CI bars).",
	"compare-p99":           "p99 latency of completed requests per run, log axis (mean over replications, 95% CI bars); requests shed, rejected or failed are not in it (see the request counts and the CDF).",
	"compare-redirect-rate": "Redirect rate per run (mean over replications, 95% CI bars).",
	"compare-tradeoff":      "The trade-off: p99 latency of completed requests (log axis) against redirect rate, one labelled point per run (mean over replications, 95% CI bars both ways); lower is a shorter tail, further left fewer redirects. A run that sheds or rejects turns requests away instead of redirecting them: they are on neither axis, so each label gives the share of requests shed, rejected or failed (see also the request counts and the CDF).",
	"compare-over-time":     "p99 latency per second of every run overlaid, log axis (with replications, the mean of their p99 in each second)." + faultsNote,
	"sweep-p99":             "p99 latency of completed requests (log axis) against the swept parameter, one line per variant; what a variant shed is in the shed-rate figure, not here.",
	"sweep-redirect-rate":   "Redirect rate against the swept parameter, one line per variant.",
	"sweep-shed-rate":       "Shed rate against the swept parameter, one line per variant: the share of page requests a shed action turned away, which the p99 figure leaves out.",
}

// replicationCaptions replace the comparison captions on a page of
// replications, where each run is one replication.
var replicationCaptions = map[string]string{
	"compare-latency-cdf":   "Latency CDF of each replication over every page request sent, log latency axis; rejected, shed and failed requests count as +∞, so each tops out at its share completed.",
	"compare-p50":           "Median latency of each replication, log axis.",
	"compare-p99":           "p99 latency of completed requests of each replication, log axis.",
	"compare-redirect-rate": "Redirect rate of each replication.",
	"compare-tradeoff":      "p99 latency of completed requests (log axis) against redirect rate of each replication; requests shed or rejected are on neither axis, and each label gives their share.",
	"compare-over-time":     "p99 latency per second of each replication, log axis." + faultsNote,
}

func recaption(refs []figureRef, captions map[string]string) []figureRef {
	for i := range refs {
		if c, ok := captions[refs[i].Name]; ok {
			refs[i].Caption = c
		}
	}
	return refs
}

// figureRefs turns the PNG files written into image references relative
// to dir, with their SVG twin.
func figureRefs(dir string, files []string) []figureRef {
	var refs []figureRef
	for _, f := range files {
		if filepath.Ext(f) != ".png" {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".png")
		svg := strings.TrimSuffix(f, ".png") + ".svg"
		r := figureRef{Name: name, PNG: href(dir, f), Caption: captions[name]}
		if slices.Contains(files, svg) {
			r.SVG = href(dir, svg)
		}
		refs = append(refs, r)
	}
	return refs
}

// summaryRows are summary.json's run-wide figures as label/value rows.
func summaryRows(s *results.Summary) [][2]string {
	f := func(v float64) string { return num(v) }
	rows := [][2]string{
		{"mode", s.Mode.String()},
		{"seed", fmt.Sprint(s.Seed)},
		{"measured / warmup", fmt.Sprintf("%gs / %gs", s.DurationS, s.WarmupS)},
		{"page requests sent", fmt.Sprint(s.Requests.Sent)},
		{"completed / errors / rejected / shed / timeouts", fmt.Sprintf("%d / %d / %d / %d / %d (timeouts are errors too)", s.Requests.Completed, s.Requests.Errors, s.Requests.Rejected, s.Requests.Shed, s.Requests.Timeouts)},
		{"latency mean / p50 / p90 (ms)", fmt.Sprintf("%s / %s / %s", f(s.LatencyMS.Mean), f(s.LatencyMS.P50), f(s.LatencyMS.P90))},
		{"latency p99 / p99.9 / max (ms)", fmt.Sprintf("%s / %s / %s", f(s.LatencyMS.P99), f(s.LatencyMS.P999), f(s.LatencyMS.Max))},
		{"redirect rate (requests redirected at least once)", fmt.Sprintf("%.2f%% (%d redirects)", 100*s.Redirects.Rate, s.Redirects.Total)},
		{"throughput (completed/s)", f(s.ThroughputRPS)},
		{"send lag p50 / p99 / max (ms)", fmt.Sprintf("%s / %s / %s", f(s.SendLagMS.P50), f(s.SendLagMS.P99), f(s.SendLagMS.Max))},
	}
	if s.Partial {
		// Right after the mode: the run was stopped, and the requests in
		// flight then are neither completed nor failed.
		rows = slices.Insert(rows, 1, [2]string{"partial", fmt.Sprintf("stopped by a signal after %gs of the measured window; %d page requests in flight then (interrupted)", s.DurationS, s.Requests.Interrupted)})
	}
	return rows
}

func serverRows(s *results.Summary) [][]string {
	rows := [][]string{{"server", "workers", "served", "redirected", "rejected", "mean queue length", "max queue length",
		"mean queue delay (ms)", "p99 queue delay (ms)", "max queue delay (ms)", "utilisation"}}
	for _, sv := range s.Servers {
		rows = append(rows, []string{sv.Name, fmt.Sprint(sv.Workers), fmt.Sprint(sv.Served), fmt.Sprint(sv.Redirected), fmt.Sprint(sv.Rejected),
			num(sv.MeanQueueLength), fmt.Sprint(sv.MaxQueueLength),
			num(sv.MeanQueueDelayMS), num(sv.P99QueueDelayMS), num(sv.MaxQueueDelayMS), fmt.Sprintf("%.1f%%", 100*sv.Utilization)})
	}
	return rows
}

// page is what the report template shows; empty parts are left out.
type page struct {
	Title    string
	Scenario string
	// ScenarioNote says whose scenario is shown when several ran.
	ScenarioNote string
	Summary      [][2]string
	Servers      [][]string
	Table        [][]string // header row first
	// TableTitle heads Table (default "Comparison").
	TableTitle string
	Legend     string
	CSV        string // the table as CSV, relative link
	Figures    []figureRef
	Links      []link
	Notes      []string
}

type figureRef struct {
	Name, PNG, SVG, Caption string
}

type link struct {
	Name, Href, Note string
}

func writePage(dir string, p *page, w *par.Writing) error {
	if w.Stopping() {
		return nil // a page of figures left out would mislead
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return fmt.Errorf("report: %s: %w", filepath.Join(dir, ReportFile), err)
	}
	return writeFileAtomic(dir, ReportFile, buf.Bytes(), w)
}

// writeFileAtomic replaces dir/name with data, through a temporary file
// (created 0666 less the umask) renamed when complete, and reports it to w.
func writeFileAtomic(dir, name string, data []byte, w *par.Writing) (err error) {
	f, err := tempfile.Create(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		} else {
			w.Wrote(filepath.Join(dir, name))
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("report: writing %s: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("report: closing %s: %w", name, err)
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// pageTemplate is the whole report: no scripts, no network; images are
// relative to the report.
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>redirlab: {{.Title}}</title>
<link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f3f3f3; text-align: left; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; }
</style>
</head>
<body>
<h1>redirlab: {{.Title}}</h1>
{{with .Notes}}<ul class="note">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .Summary}}<h2>Summary</h2>
<table>{{range .}}<tr><th>{{index . 0}}</th><td class="n">{{index . 1}}</td></tr>{{end}}</table>{{end}}
{{with .Servers}}<h2>Servers</h2>
<table>{{range $i, $r := .}}<tr>{{range $r}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td class="n">{{.}}</td>{{end}}{{end}}</tr>{{end}}</table>{{end}}
{{with .Table}}<h2>{{or $.TableTitle "Comparison"}}</h2>
<table>{{range $i, $r := .}}<tr>{{range $r}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td class="n">{{.}}</td>{{end}}{{end}}</tr>{{end}}</table>{{end}}
{{with .Legend}}<p class="note">{{.}}</p>{{end}}
{{with .CSV}}<p class="note">The table as CSV: <a href="{{.}}">{{.}}</a>.</p>{{end}}
{{with .Links}}<h2>Runs</h2>
<ul>{{range .}}<li><a href="{{.Href}}">{{.Name}}</a>{{with .Note}} ({{.}}){{end}}</li>{{end}}</ul>{{end}}
{{with .Figures}}<h2>Figures</h2>
{{range .}}<figure id="{{.Name}}"><img src="{{.PNG}}" alt="{{.Name}}" width="768" height="432">
<figcaption>{{.Caption}}{{with .SVG}} <a href="{{.}}">SVG</a>{{end}}</figcaption></figure>
{{end}}{{end}}
{{with .Scenario}}<h2>Scenario</h2>
{{with $.ScenarioNote}}<p class="note">{{.}}</p>{{end}}<pre>{{.}}</pre>{{end}}
</body>
</html>
`))
