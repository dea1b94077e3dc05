package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/internal/fixture"
	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// variantsFixture writes three variants (see fixture.Variants) and
// returns the runs in scenario order.
func variantsFixture(t *testing.T, root string) []plots.Run {
	t.Helper()
	names, dirs, err := fixture.Variants(root)
	if err != nil {
		t.Fatal(err)
	}
	runs := make([]plots.Run, len(names))
	for i := range names {
		runs[i] = plots.Run{Name: names[i], Dir: dirs[i]}
	}
	return runs
}

func TestCompareTable(t *testing.T) {
	runs := variantsFixture(t, t.TempDir())
	tab, err := Compare(runs)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 3 || tab.Rows[0].Replications != 1 || tab.Rows[1].Replications != 3 {
		t.Fatalf("rows %d, replications %d %d", len(tab.Rows), tab.Rows[0].Replications, tab.Rows[1].Replications)
	}
	p99 := slices.IndexFunc(tab.Metrics, func(m stats.Metric) bool { return m.Key == "p99_ms" })
	sums, err := plots.RunSummaries(runs[1].Dir)
	if err != nil {
		t.Fatal(err)
	}
	var v []float64
	for _, s := range sums {
		v = append(v, s.LatencyMS.P99)
	}
	base, _ := results.ReadSummary(runs[0].Dir)
	c := tab.Rows[1].Cells[p99]
	if want := stats.MeanCI(v, stats.Level); c.Value != want {
		t.Errorf("queue-length p99 %+v, want %+v", c.Value, want)
	}
	// The baseline has one run: the difference has no interval, so no verdict.
	if want := stats.Welch([]float64{base.LatencyMS.P99}, v, stats.Level); c.Change.Delta != want.Delta || c.Verdict() != "no CI" {
		t.Errorf("change %+v (%s), want delta %v and no CI", c.Change, c.Verdict(), want.Delta)
	}
	if got := tab.Rows[0].Cells[p99].Verdict(); got != "baseline" {
		t.Errorf("baseline verdict %q", got)
	}

	// Against a baseline with replications there are verdicts: the
	// fixture's queue-delay latencies are 20% lower (8ms vs 10ms mean),
	// which three replications of ~1200 requests resolve for the mean.
	tab2, err := Compare(runs[1:])
	if err != nil {
		t.Fatal(err)
	}
	mean := slices.IndexFunc(tab2.Metrics, func(m stats.Metric) bool { return m.Key == "mean_ms" })
	if c := tab2.Rows[1].Cells[mean]; c.Verdict() != "significant" || c.Change.Delta >= 0 {
		t.Errorf("mean latency change %+v: %s, want a significant decrease", c.Change, c.Verdict())
	}
	// Both redirect about 20% of requests: not significant.
	rate := slices.IndexFunc(tab2.Metrics, func(m stats.Metric) bool { return m.Key == "redirect_rate" })
	if c := tab2.Rows[1].Cells[rate]; c.Verdict() != "not significant" {
		t.Errorf("redirect rate change %+v: %s, want not significant", c.Change, c.Verdict())
	}
}

// Golden files for every format; run `go test ./results/report -update`
// after an intended change and review the diff.
func TestTableGolden(t *testing.T) {
	tab, err := Compare(variantsFixture(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, file string }{
		{"text", "compare.txt"},
		{"csv", "compare.csv"},
		{"json", "compare.json"},
		{"markdown", "compare.md"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tab.Write(&buf, tc.format); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from %s:\n%s", tc.format, path, buf.String())
			}
		})
	}
}

func TestTableFormatsParse(t *testing.T) {
	tab, err := Compare(variantsFixture(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tab.Write(&buf, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 4 || !slices.Equal(recs[0], tab.CSVHeader()) {
		t.Fatalf("csv: %v, %d records", err, len(recs))
	}
	buf.Reset()
	if err := tab.Write(&buf, "json"); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Baseline string
		Runs     []struct {
			Name    string
			Metrics map[string]struct {
				Mean    *float64
				CILow   *float64 `json:"ci_low"`
				Verdict string
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j.Baseline != "no-redirect" || len(j.Runs) != 3 || j.Runs[0].Metrics["p99_ms"].CILow != nil || j.Runs[1].Metrics["p99_ms"].CILow == nil {
		t.Errorf("json: %+v", j)
	}
	// Text columns line up: every line of the table has the same width.
	buf.Reset()
	if err := tab.Write(&buf, "text"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for _, l := range lines[1:4] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("text line %q is %d wide, header %d", l, len([]rune(l)), len([]rune(lines[0])))
		}
	}
	if err := tab.Write(&buf, "yaml"); err == nil || !strings.Contains(err.Error(), "text, csv, json, markdown") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestSig2(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{6.57, "6.6"},       // one digit before the point: one after
		{0.625, "0.63"},     // below 1: two significant digits, half away from zero
		{17.4, "17"},        // two digits: none after
		{246, "250"},        // three digits: rounded to tens
		{0.00123, "0.0012"}, // small widths keep two digits
		{0.996, "1.0"},      // rounding carries into the next decade
		{0, "0"},            // a zero-width interval (constant replications)
	} {
		if got := sig2(tc.in); got != tc.want {
			t.Errorf("sig2(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := count(12.5); got != "12.5" {
		t.Errorf("count(12.5) = %q", got)
	}
	if got := count(13); got != "13" {
		t.Errorf("count(13) = %q", got)
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{1234.5, "1234"},   // large: no decimals (rounds half to even)
		{12.34, "12.3"},    // two digits before the point: one after
		{1.2345, "1.23"},   // one digit: two after
		{0.01234, "0.012"}, // below 1: three decimals
		{13, "13.0"},       // two digits: one decimal even when whole
		{math.NaN(), "-"},  // missing
		{-12.34, "-12.3"},  // negative differences
	} {
		if got := num(tc.in); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

var imgSrc = regexp.MustCompile(`<img src="([^"]+)"`)
var hrefAttr = regexp.MustCompile(`href="([^"]+)"`)

// checkReport asserts that dir/report.html exists, names its images and
// links by relative paths that exist, and loads nothing from a network.
func checkReport(t *testing.T, dir string, wantImages int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	imgs := imgSrc.FindAllStringSubmatch(page, -1)
	if len(imgs) != wantImages {
		t.Errorf("%s: %d images, want %d", dir, len(imgs), wantImages)
	}
	for _, m := range append(imgs, hrefAttr.FindAllStringSubmatch(page, -1)...) {
		if strings.HasPrefix(m[1], "data:") {
			continue
		}
		if strings.Contains(m[1], "://") || filepath.IsAbs(m[1]) {
			t.Errorf("%s: non-relative reference %s", dir, m[1])
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(m[1]))); err != nil {
			t.Errorf("%s: reference %s: %v", dir, m[1], err)
		}
	}
	if strings.Contains(page, "<script") {
		t.Errorf("%s: report has a script", dir)
	}
	return page
}

func TestWriteVariants(t *testing.T) {
	root := t.TempDir()
	runs := variantsFixture(t, root)
	// The runner writes the comparison in scenario order first; Write
	// (redirlab plot) keeps that order.
	if _, err := WriteComparison(root, runs); err != nil {
		t.Fatal(err)
	}
	if err := Write(root); err != nil {
		t.Fatal(err)
	}
	// The top: comparison table, 6 comparison figures, links to variants.
	page := checkReport(t, root, 6)
	for _, r := range runs {
		if !strings.Contains(page, `href="`+r.Name+`/report.html"`) {
			t.Errorf("top report does not link %s", r.Name)
		}
	}
	if !strings.Contains(page, "name: fixture") || !strings.Contains(page, "Comparison") {
		t.Error("top report lacks the scenario or the comparison")
	}
	recs := readCSV(t, filepath.Join(root, ComparisonFile))
	if len(recs) != 4 || recs[1][0] != "no-redirect" || recs[3][0] != "queue-delay" {
		t.Errorf("comparison.csv rows %v", recs)
	}
	// A single run: 6 figures (queue delay whatever the condition).
	p := checkReport(t, runs[0].Dir, 6)
	if !strings.Contains(p, "web-2") || !strings.Contains(p, "condition: none") {
		t.Error("run report lacks the servers table or the scenario")
	}
	// Replications: 6 overlay figures, each replication its own report,
	// and the means with their intervals in replications.csv.
	if p := checkReport(t, runs[2].Dir, 6); !strings.Contains(p, "Median latency of each replication, log axis.") || !strings.Contains(p, "Over replications") {
		t.Error("replications page lacks its table heading or captions")
	}
	reps := readCSV(t, filepath.Join(runs[2].Dir, ReplicationsFile))
	if len(reps) != 2 || reps[1][0] != "queue-delay" || reps[1][1] != "3" || reps[1][3] == "" {
		t.Errorf("replications.csv %v", reps)
	}
	checkReport(t, filepath.Join(runs[2].Dir, "rep-2"), 6)

	// Discover keeps comparison.csv's order, not the names' order.
	got, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, runs) {
		t.Errorf("Discover = %v, want %v", got, runs)
	}
	// Redrawing gives the same report.
	before, _ := os.ReadFile(filepath.Join(root, ReportFile))
	if err := Write(root); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(root, ReportFile)); !bytes.Equal(before, after) {
		t.Error("report.html changed when redrawn from the same files")
	}
}

func TestDiscoverOrderWithoutComparison(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"zeta", "base", "alpha"} {
		if _, _, err := fixture.Write(filepath.Join(root, n), fixture.Options{Variant: n}); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(root, "not-a-run"), 0o755)
	runs, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	if want := []string{"base", "alpha", "zeta"}; !slices.Equal(names, want) {
		t.Errorf("order %v, want %v (base first, then by name)", names, want)
	}
}

// A scenario.yaml at the top orders the variants when there is no
// comparison.csv yet.
func TestDiscoverScenarioOrder(t *testing.T) {
	root := t.TempDir()
	runs := variantsFixture(t, root)
	src := fixture.ScenarioYAML("none") + "variants:\n  - {name: queue-length, set: {policy.condition: queue-length}}\n  - {name: queue-delay, set: {policy.condition: queue-delay, policy.threshold: 40ms}}\n"
	if err := os.WriteFile(filepath.Join(root, results.ScenarioFile), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// no-redirect is not a variant of that file: it sorts after them.
	got, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []plots.Run{runs[1], runs[2], runs[0]}; !slices.Equal(got, want) {
		t.Errorf("Discover = %v, want %v", got, want)
	}
}

func TestWriteErrors(t *testing.T) {
	empty := t.TempDir()
	if err := Write(empty); err == nil || !strings.Contains(err.Error(), "no summary.json") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := Compare(nil); err == nil {
		t.Error("Compare of nothing succeeded")
	}
	// A broken summary names its file and line.
	dir := t.TempDir()
	if _, _, err := fixture.Write(dir, fixture.Options{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, results.SummaryFile), []byte("{\n\"scenario\": oops}"), 0o644)
	if err := Write(dir); err == nil || !strings.Contains(err.Error(), "summary.json:2") {
		t.Errorf("broken summary: %v", err)
	}
}

func TestWriteSweep(t *testing.T) {
	root := t.TempDir()
	table := plots.SweepTable{Parameter: "workload.arrival.rate", Values: []string{"100/s", "200/s"}}
	dirs := make([][]string, 2)
	for i, cond := range []string{"none", "queue-length"} {
		v := plots.SweepVariant{Name: cond, Points: make([][]*results.Summary, 2)}
		dirs[i] = make([]string, 2)
		for j := range table.Values {
			if i == 0 && j == 1 {
				continue // a failed run
			}
			d := filepath.Join(root, cond, table.Values[j][:3])
			sum, _, err := fixture.Write(d, fixture.Options{Condition: cond, Seed: uint64(i*10 + j + 1)})
			if err != nil {
				t.Fatal(err)
			}
			if err := Write(d); err != nil {
				t.Fatal(err)
			}
			v.Points[j] = []*results.Summary{sum}
			dirs[i][j] = d
		}
		table.Variants = append(table.Variants, v)
	}
	out := filepath.Join(root, "sweep")
	if err := WriteSweep(out, table, dirs); err != nil {
		t.Fatal(err)
	}
	checkReport(t, out, 2)
	recs := readCSV(t, filepath.Join(out, SweepFile))
	if len(recs) != 5 || recs[0][0] != "workload.arrival.rate" || recs[2][2] != "0" || recs[2][3] != "" {
		t.Errorf("sweep.csv %v", recs)
	}
	if recs[1][3] != csvFloat(table.Variants[0].Points[0][0].LatencyMS.P50) {
		t.Errorf("sweep.csv p50 %s, summary %v", recs[1][3], table.Variants[0].Points[0][0].LatencyMS.P50)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// The servers table of a run's report shows each server's queue delay
// (mean, p99, max) from summary.json.
func TestServerRowsQueueDelay(t *testing.T) {
	dir := t.TempDir()
	sum, _, err := fixture.Write(dir, fixture.Options{Condition: "queue-delay"})
	if err != nil {
		t.Fatal(err)
	}
	rows := serverRows(sum)
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("no column %q in %v", name, rows[0])
		}
		return i
	}
	mean, p99, mx := col("mean queue delay (ms)"), col("p99 queue delay (ms)"), col("max queue delay (ms)")
	for i, sv := range sum.Servers {
		r := rows[i+1]
		if sv.MaxQueueDelayMS <= 0 || r[mean] != num(sv.MeanQueueDelayMS) || r[p99] != num(sv.P99QueueDelayMS) || r[mx] != num(sv.MaxQueueDelayMS) {
			t.Errorf("%s: row %v, summary mean %v p99 %v max %v", sv.Name, r, sv.MeanQueueDelayMS, sv.P99QueueDelayMS, sv.MaxQueueDelayMS)
		}
	}
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	if page := checkReport(t, dir, 6); !strings.Contains(page, "<th>p99 queue delay (ms)</th>") {
		t.Error("the run's report has no queue delay column")
	}
}

// A rate's change is in percentage points, whatever the baseline: a
// redirect rate from 0.39% to 19.66% is +19.3 pp, not +4942.7%.
func TestRateChangeInPoints(t *testing.T) {
	sum := func(rate, p99 float64) []*results.Summary {
		return []*results.Summary{{Redirects: results.RedirectStats{Rate: rate}, LatencyMS: results.LatencyStats{P99: p99}}}
	}
	tab := NewTable([]plots.Run{{Name: "a"}, {Name: "b"}, {Name: "c"}}, [][]*results.Summary{sum(0.0039, 100), sum(0.1966, 150), sum(0.0039, 50)})
	rows := tab.humanRows()
	rate := slices.Index(rows[0], "redirect rate %")
	p99 := slices.Index(rows[0], "p99 ms")
	if rate < 0 || p99 < 0 {
		t.Fatalf("header %v", rows[0])
	}
	if got := rows[2][rate]; got != "19.7 (+19.3 pp)" {
		t.Errorf("rate cell %q, want 19.7 (+19.3 pp)", got)
	}
	if got := rows[3][rate]; got != "0.390 (+0.0 pp)" {
		t.Errorf("unchanged rate cell %q", got)
	}
	if got := rows[2][p99]; got != "150 (+50.0%)" {
		t.Errorf("p99 cell %q: latencies change in percent", got)
	}
	for _, r := range rows[1:] {
		if strings.Contains(r[rate], "%") {
			t.Errorf("rate cell %q in percent", r[rate])
		}
	}
}

// Every figure a run or a comparison draws has a caption, and the
// latency CDFs' say where the requests that did not complete are.
func TestEveryFigureCaptioned(t *testing.T) {
	d, c := fixtureData(t)
	for _, f := range append(plots.RunFigures(d), plots.CompareFigures(c)...) {
		if captions[f.Name] == "" {
			t.Errorf("%s has no caption", f.Name)
		}
		if _, ok := replicationCaptions[f.Name]; strings.HasPrefix(f.Name, "compare-") && !ok {
			t.Errorf("%s has no caption for a page of replications", f.Name)
		}
	}
	for _, name := range []string{"latency-cdf", "compare-latency-cdf"} {
		if !strings.Contains(captions[name], "+∞") || !strings.Contains(replicationCaptions["compare-latency-cdf"], "+∞") {
			t.Errorf("%s: caption %q does not say that rejected and failed requests count as +∞", name, captions[name])
		}
	}
}

// TestReportMarksPartial: a stopped run's report says so in its title
// and says how many requests were in flight, so that its counts add up
// to what was sent.
func TestReportMarksPartial(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := fixture.Write(dir, fixture.Options{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, results.SummaryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	req := m["requests"].(map[string]any)
	req["sent"] = req["sent"].(float64) + 30
	req["interrupted"] = 30.0
	m["partial"] = true
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{", partial)", "30 page requests in flight then (interrupted)"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html of a partial run lacks %q", want)
		}
	}
}

// TestCompareMarksPartial: a stopped run is marked in the comparison
// table (and so in comparison.csv), not shown as a whole run.
func TestCompareMarksPartial(t *testing.T) {
	whole := &results.Summary{}
	stopped := &results.Summary{Partial: true}
	tab := NewTable([]plots.Run{{Name: "base"}, {Name: "shed"}}, [][]*results.Summary{{whole}, {stopped}})
	if got := tab.Rows[0].Name; got != "base" {
		t.Errorf("whole run named %q", got)
	}
	if got := tab.Rows[1].Name; got != "shed (partial)" {
		t.Errorf("stopped run named %q, want %q", got, "shed (partial)")
	}
}

// TestWarmupCaptionsMatchFigures: a caption says "end of warmup" only
// where its figure draws that line within the span of its data: the
// per-server figures, which begin at run start, and not the per-second
// ones or the over-time comparison, which begin at the warmup's end.
func TestWarmupCaptionsMatchFigures(t *testing.T) {
	d, c := fixtureData(t)
	if d.Summary.WarmupS <= 0 {
		t.Fatal("setup: the fixture has no warmup")
	}
	for _, f := range append(plots.RunFigures(d), plots.CompareFigures(c)...) {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, l := range f.Lines {
			for _, p := range l.XY {
				lo, hi = math.Min(lo, p.X), math.Max(hi, p.X)
			}
		}
		drawn := false
		for _, v := range f.VLines {
			drawn = drawn || (v.Label == "end of warmup" && v.At >= lo && v.At <= hi)
		}
		for page, caps := range map[string]map[string]string{"run or comparison": captions, "replications": replicationCaptions} {
			caption, ok := caps[f.Name]
			if !ok {
				continue
			}
			if says := strings.Contains(strings.ToLower(caption), "end of warmup"); says != drawn {
				t.Errorf("%s (%s page): caption says end of warmup %v, figure draws it within its data (%g to %g s) %v", f.Name, page, says, lo, hi, drawn)
			}
		}
	}
}

// fixtureData loads the variants fixture's first run and its comparison.
func fixtureData(t *testing.T) (*plots.RunData, *plots.CompareData) {
	t.Helper()
	runs := variantsFixture(t, t.TempDir())
	c, err := plots.LoadCompare(runs)
	if err != nil {
		t.Fatal(err)
	}
	d, err := plots.LoadRun(runs[0].Dir)
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}
