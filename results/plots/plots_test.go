package plots

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/internal/fixture"
	"github.com/redirlab/redirlab/results/stats"
)

func writeFixture(t *testing.T, dir string, o fixture.Options) (*results.Summary, []float64) {
	t.Helper()
	sum, lat, err := fixture.Write(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return sum, lat
}

func figureNames(figs []Figure) []string {
	var n []string
	for _, f := range figs {
		n = append(n, f.Name)
	}
	return n
}

func figure(t *testing.T, figs []Figure, name string) *Figure {
	t.Helper()
	for i := range figs {
		if figs[i].Name == name {
			return &figs[i]
		}
	}
	t.Fatalf("no figure %s among %v", name, figureNames(figs))
	return nil
}

func TestRunFiguresQueueLength(t *testing.T) {
	dir := t.TempDir()
	sum, lat := writeFixture(t, dir, fixture.Options{})
	d, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	figs := RunFigures(d)
	if got, want := figureNames(figs), []string{"latency-cdf", "latency-over-time", "queue-length", "queue-delay", "redirect-rate", "throughput"}; !slices.Equal(got, want) {
		t.Fatalf("figures %v, want %v (a queue-delay figure whatever the condition)", got, want)
	}
	for _, f := range figs {
		if !strings.Contains(f.X, "(") || !strings.Contains(f.Y, "(") && f.Name != "latency-cdf" {
			t.Errorf("%s: axis labels %q / %q lack units", f.Name, f.X, f.Y)
		}
		if f.Name != "latency-cdf" && !f.TimeX {
			t.Errorf("%s: a time axis without time ticks", f.Name)
		}
	}

	// CDF: the completed latencies, sorted, at heights i/sent: the
	// rejected requests count as +∞, so it tops out at completed/sent.
	cdf := figure(t, figs, "latency-cdf")
	if !cdf.LogX || len(cdf.Lines) != 1 || cdf.YMin != 0 || cdf.YMax != 1 {
		t.Fatalf("latency-cdf: LogX %v, %d lines, Y [%v, %v]", cdf.LogX, len(cdf.Lines), cdf.YMin, cdf.YMax)
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	xy := cdf.Lines[0].XY
	if len(xy) != len(sorted) || int64(len(sorted)) != sum.Requests.Completed || sum.Requests.Rejected == 0 {
		t.Fatalf("CDF has %d points, want %d completed requests (summary %+v)", len(xy), len(sorted), sum.Requests)
	}
	sent := float64(sum.Requests.Sent)
	for i, p := range xy {
		if math.Abs(p.X-sorted[i]) > 1e-9 || p.Y != float64(i+1)/sent {
			t.Fatalf("CDF point %d = %v, want (%v, %v)", i, p, sorted[i], float64(i+1)/sent)
		}
	}
	if top, want := xy[len(xy)-1].Y, float64(sum.Requests.Completed)/sent; top != want || top >= 1 {
		t.Errorf("CDF tops out at %v, want completed/sent = %v", top, want)
	}
	if l := cdf.Lines[0].Legend; !strings.Contains(l, fmt.Sprintf("(%.1f%% completed)", 100*float64(sum.Requests.Completed)/sent)) {
		t.Errorf("CDF legend %q does not give the completed share", l)
	}
	if !strings.Contains(cdf.Title, "+∞") {
		t.Errorf("CDF title %q does not say where the rest are", cdf.Title)
	}
	// The CDF crosses 1/2 at the summary's p50 (HdrHistogram, 0.1%).
	med := xy[sort50(len(xy))].X
	if math.Abs(med-sum.LatencyMS.P50) > 0.002*sum.LatencyMS.P50+0.001 {
		t.Errorf("CDF median %v, summary p50 %v", med, sum.LatencyMS.P50)
	}

	// Queue length: one line per server, the threshold and the fault.
	ql := figure(t, figs, "queue-length")
	if len(ql.Lines) != len(fixture.Servers) {
		t.Fatalf("queue-length has %d lines, want %d", len(ql.Lines), len(fixture.Servers))
	}
	ticks := int((fixture.Warmup + fixture.Duration) / (100 * time.Millisecond))
	for i, l := range ql.Lines {
		if l.Name != fixture.Servers[i] || l.Color != Palette(i) || len(l.XY) != ticks {
			t.Errorf("line %d: %s colour %v, %d points; want %s, %v, %d", i, l.Name, l.Color, len(l.XY), fixture.Servers[i], Palette(i), ticks)
		}
	}
	// web-2 queues 10 more during its slowdown (fixture's design).
	var during, outside []float64
	for _, p := range ql.Lines[1].XY {
		if p.X >= fixture.FaultAt.Seconds() && p.X < (fixture.FaultAt+fixture.FaultFor).Seconds() {
			during = append(during, p.Y)
		} else {
			outside = append(outside, p.Y)
		}
	}
	if stats.Mean(during)-stats.Mean(outside) < 8 {
		t.Errorf("web-2 queue during the slowdown %.1f, outside %.1f: fault not visible", stats.Mean(during), stats.Mean(outside))
	}
	if len(ql.HLines) != 1 || ql.HLines[0].At != fixture.QueueThreshold {
		t.Errorf("threshold lines %+v, want one at %d", ql.HLines, fixture.QueueThreshold)
	}
	if len(ql.VLines) != 1 || ql.VLines[0].At != 1 {
		t.Errorf("vertical marks %+v, want the end of the warmup at 1s", ql.VLines)
	}
	wantSpan := Span{Label: "web-2 slowdown ×3, 3s–5s", From: 3, To: 5}
	for _, f := range figs[1:] {
		if len(f.Spans) != 1 || f.Spans[0] != wantSpan {
			t.Errorf("%s: fault spans %+v, want %+v", f.Name, f.Spans, wantSpan)
		}
	}

	// Queue delay per server, without a threshold under queue-length.
	qd := figure(t, figs, "queue-delay")
	if len(qd.HLines) != 0 || len(qd.Lines) != len(fixture.Servers) || !strings.Contains(qd.Y, "ms") {
		t.Errorf("queue-delay of a queue-length run: %d thresholds, %d lines, Y %q", len(qd.HLines), len(qd.Lines), qd.Y)
	}
	for i, l := range qd.Lines {
		for k, p := range l.XY {
			if s := d.Samples[i][k]; p.X != s.At.Seconds() || p.Y != float64(s.QueueDelay)/1e6 {
				t.Fatalf("%s queue delay point %v, sample at %v: %v", l.Name, p, s.At, s.QueueDelay)
			}
		}
	}

	// Percentiles: one point per second with completions, from timeseries.csv.
	all, err := results.ReadTimeseries(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Only the seconds of the measured window: 1s..7s.
	secs := Measured(all, sum)
	if len(secs) != 6 || secs[0].T != fixture.Warmup || len(all) < len(secs) {
		t.Fatalf("measured seconds %d from %v (of %d)", len(secs), secs[0].T, len(all))
	}
	lt := figure(t, figs, "latency-over-time")
	if !lt.LogY {
		t.Error("latency-over-time: linear latency axis")
	}
	p50, p99 := lt.Lines[0].XY, lt.Lines[1].XY
	if lt.Lines[0].Name != "p50" || lt.Lines[1].Name != "p99" || len(p50) != len(p99) {
		t.Fatalf("latency-over-time lines %s/%s", lt.Lines[0].Name, lt.Lines[1].Name)
	}
	k := 0
	for _, s := range secs {
		if s.Completed == 0 {
			continue
		}
		if p50[k].X != s.T.Seconds()+0.5 || p50[k].Y != float64(s.P50)/1e6 || p99[k].Y != float64(s.P99)/1e6 {
			t.Errorf("second %v: points %v %v, want p50 %v p99 %v", s.T, p50[k], p99[k], s.P50, s.P99)
		}
		k++
	}
	if k != len(p50) || k < 6 {
		t.Errorf("%d percentile points for %d seconds with completions", len(p50), k)
	}

	// Throughput: completed and rejected per measured second.
	tp := figure(t, figs, "throughput")
	var completed, rejected, wantCompleted, wantRejected float64
	for i := range tp.Lines[0].XY {
		completed += tp.Lines[0].XY[i].Y
		rejected += tp.Lines[1].XY[i].Y
	}
	for _, s := range secs {
		wantCompleted += float64(s.Completed)
		wantRejected += float64(s.Rejected)
	}
	if completed != wantCompleted || rejected != wantRejected || len(tp.Lines[0].XY) != len(secs) {
		t.Errorf("throughput series sum to %v completed, %v rejected; timeseries %v, %v", completed, rejected, wantCompleted, wantRejected)
	}
	// Nearly all requests finish inside the window (10ms latencies).
	if completed < 0.99*float64(sum.Requests.Completed) {
		t.Errorf("measured seconds hold %v of %d completed requests", completed, sum.Requests.Completed)
	}
	if len(tp.Lines) != 2 {
		t.Errorf("an error-free run has %d throughput lines, want 2", len(tp.Lines))
	}

	// Redirect rate: redirected/requests of each second with requests;
	// weighted by requests it is the summary's rate (exact counts, so
	// only float rounding: 1e-9).
	rr := figure(t, figs, "redirect-rate").Lines[0].XY
	k = 0
	var redirected, requests float64
	for _, s := range secs {
		if s.Requests == 0 {
			continue
		}
		want := 100 * float64(s.Redirected) / float64(s.Requests)
		if rr[k].X != s.T.Seconds()+0.5 || math.Abs(rr[k].Y-want) > 1e-9 {
			t.Errorf("redirect rate point %v, want %v%% at %v", rr[k], want, s.T)
		}
		redirected += rr[k].Y / 100 * float64(s.Requests)
		requests += float64(s.Requests)
		k++
	}
	if k != len(rr) {
		t.Errorf("%d redirect-rate points for %d seconds with requests", len(rr), k)
	}
	// Weighted by requests it is the run's rate (within the few requests
	// finishing after the window).
	if got := redirected / requests; math.Abs(got-sum.Redirects.Rate) > 0.01 {
		t.Errorf("weighted redirect rate %v, summary %v", got, sum.Redirects.Rate)
	}
}

func sort50(n int) int { return int(math.Ceil(0.5*float64(n))) - 1 }

func TestRunFiguresQueueDelay(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, fixture.Options{Condition: "queue-delay"})
	d, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	figs := RunFigures(d)
	qd := figure(t, figs, "queue-delay")
	if len(qd.HLines) != 1 || qd.HLines[0].At != 40 || !strings.Contains(qd.Y, "ms") {
		t.Errorf("queue-delay threshold %+v (want 40 ms), Y %q", qd.HLines, qd.Y)
	}
	if len(qd.Lines) != 3 || qd.Lines[1].Name != "web-2" {
		t.Fatalf("queue-delay lines %d", len(qd.Lines))
	}
	// The fixture's delay is 5ms per request beyond two.
	for k, p := range qd.Lines[0].XY {
		ql := d.Samples[0][k].QueueLength
		if want := float64(max(ql-2, 0) * 5); p.Y != want {
			t.Fatalf("web-1 delay at %v = %v, want %v", p.X, p.Y, want)
		}
	}
	if ql := figure(t, figs, "queue-length"); len(ql.HLines) != 0 {
		t.Errorf("queue-length figure of a queue-delay run draws a count threshold: %+v", ql.HLines)
	}
}

func TestRunFiguresNoRecords(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, fixture.Options{NoRecords: true, Condition: "none"})
	d, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := figureNames(RunFigures(d))
	if slices.Contains(names, "latency-cdf") || !slices.Contains(names, "queue-delay") {
		t.Errorf("without requests.csv, condition none: figures %v", names)
	}
	for _, name := range []string{"queue-length", "queue-delay"} {
		if f := figure(t, RunFigures(d), name); len(f.HLines) != 0 {
			t.Errorf("condition none draws a threshold in %s", name)
		}
	}
}

func TestCDFDownsampling(t *testing.T) {
	const n = 100_000
	lat := make([]float64, n)
	for i := range lat {
		lat[i] = float64((i*7919)%n) / 100 // a permutation of 0 .. 999.99
	}
	xy := CDF(lat, 2000)
	if len(xy) != 2000 {
		t.Fatalf("%d points, want 2000", len(xy))
	}
	if xy[0].X != 0.001 || xy[0].Y != 1.0/n {
		t.Errorf("first point %v: want the minimum (0, drawn at 1µs) at 1/n", xy[0])
	}
	if last := xy[len(xy)-1]; last.X != 999.99 || last.Y != 1 {
		t.Errorf("last point %v, want (999.99, 1)", last)
	}
	for i := 1; i < len(xy); i++ {
		if xy[i].X < xy[i-1].X || xy[i].Y <= xy[i-1].Y {
			t.Fatalf("not increasing at %d: %v %v", i, xy[i-1], xy[i])
		}
	}
	// Every kept point is exact: F(x) = rank/n (all samples distinct).
	for _, p := range xy[1:] {
		if want := (p.X*100 + 1) / n; math.Abs(p.Y-want) > 1e-12 {
			t.Fatalf("point %v: F = %v", p, want)
		}
	}
	// The top quarter of the points is the top 500 samples, all of them.
	tail := xy[len(xy)-500:]
	for i, p := range tail {
		if want := float64(n-500+i) / 100; math.Abs(p.X-want) > 1e-9 {
			t.Fatalf("tail point %d = %v, want x %v", i, p, want)
		}
	}
	if CDF(nil, 10) != nil {
		t.Error("empty CDF")
	}
}

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		x    float64
		unit string
		ok   bool
	}{
		{"900/s", 900, "req/s", true},     // a rate per second
		{"1.5k/s", 1500, "req/s", true},   // with a k multiplier
		{"54000/min", 900, "req/s", true}, // per minute
		{"40ms", 40, "ms", true},          // a duration in ms
		{"1.5s", 1500, "ms", true},        // seconds become ms
		{"0.8", 0.8, "", true},            // a plain number
		{"8", 8, "", true},                // a count
		{"queue-delay", 0, "", false},     // a name: categorical
		{"9/fortnight", 0, "", false},     // an unknown rate unit
	} {
		x, unit, ok := ParseValue(tc.in)
		if ok != tc.ok || (ok && (math.Abs(x-tc.x) > 1e-9 || unit != tc.unit)) {
			t.Errorf("ParseValue(%q) = %v %q %v, want %v %q %v", tc.in, x, unit, ok, tc.x, tc.unit, tc.ok)
		}
	}
	if _, _, numeric := ParseValues([]string{"900/s", "40ms"}); numeric {
		t.Error("mixed units must be categorical")
	}
}

// checkImages asserts that files are valid PNG (768×432) and SVG files
// of sensible size.
func checkImages(t *testing.T, files []string) {
	t.Helper()
	checkImagesSized(t, files, 2_000)
}

// checkImagesSized is checkImages with the smallest size accepted.
func checkImagesSized(t *testing.T, files []string, minBytes int) {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("no files written")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if b := img.Bounds(); b.Dx() != 768 || b.Dy() != 432 || len(data) < minBytes || len(data) > 2_000_000 {
				t.Errorf("%s: %d×%d, %d bytes", f, b.Dx(), b.Dy(), len(data))
			}
		case ".svg":
			if err := checkSVG(data); err != nil || len(data) < minBytes || len(data) > 5_000_000 {
				t.Errorf("%s: %v, %d bytes", f, err, len(data))
			}
		default:
			t.Errorf("unexpected file %s", f)
		}
	}
}

func checkSVG(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" && root == "svg" {
				return nil
			}
			if root != "svg" {
				return errorString("root element " + root + ", want svg")
			}
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestDrawWritesImagesIdentically(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, fixture.Options{Condition: "queue-delay"})
	files, err := Draw(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 12 {
		t.Errorf("%d files, want 6 figures × 2 formats: %v", len(files), files)
	}
	checkImages(t, files)
	first := map[string][]byte{}
	for _, f := range files {
		first[f], _ = os.ReadFile(f)
	}
	again, err := Draw(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, again) {
		t.Fatalf("second draw wrote %v", again)
	}
	for _, f := range again {
		if b, _ := os.ReadFile(f); !bytes.Equal(b, first[f]) {
			t.Errorf("%s differs when redrawn from the same files", filepath.Base(f))
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func TestDrawMissingDir(t *testing.T) {
	if _, err := Draw(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "summary.json") {
		t.Errorf("Draw of a missing dir: %v", err)
	}
}

// compareFixture writes three runs: "no-redirect" single, "queue-length"
// with 3 replications, "queue-delay" with 3 replications.
func compareFixture(t *testing.T) []Run {
	root := t.TempDir()
	runs := []Run{{"no-redirect", filepath.Join(root, "no-redirect")}, {"queue-length", filepath.Join(root, "queue-length")}, {"queue-delay", filepath.Join(root, "queue-delay")}}
	writeFixture(t, runs[0].Dir, fixture.Options{Variant: "no-redirect", Condition: "none", Latency: 30 * time.Millisecond, Redirected: 1e-9})
	for k := 1; k <= 3; k++ {
		writeFixture(t, filepath.Join(runs[1].Dir, "rep-"+string(rune('0'+k))), fixture.Options{Variant: "queue-length", Seed: uint64(k)})
		writeFixture(t, filepath.Join(runs[2].Dir, "rep-"+string(rune('0'+k))), fixture.Options{Variant: "queue-delay", Condition: "queue-delay", Seed: uint64(10 + k), Latency: 8 * time.Millisecond})
	}
	return runs
}

func TestCompare(t *testing.T) {
	runs := compareFixture(t)
	c, err := LoadCompare(runs)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Summaries[0]) != 1 || len(c.Summaries[1]) != 3 || len(c.Summaries[2]) != 3 {
		t.Fatalf("replications found: %d %d %d", len(c.Summaries[0]), len(c.Summaries[1]), len(c.Summaries[2]))
	}
	figs := CompareFigures(c)
	if got, want := figureNames(figs), []string{"compare-latency-cdf", "compare-p50", "compare-p99", "compare-redirect-rate", "compare-tradeoff", "compare-over-time"}; !slices.Equal(got, want) {
		t.Fatalf("figures %v, want %v", got, want)
	}
	cdf := figure(t, figs, "compare-latency-cdf")
	var end float64
	for _, lat := range c.Latencies {
		end = math.Max(end, slices.Max(lat))
	}
	for i, l := range cdf.Lines {
		if l.Name != runs[i].Name || l.Color != Palette(i) {
			t.Errorf("CDF line %d: %s %v, want %s %v", i, l.Name, l.Color, runs[i].Name, Palette(i))
		}
		// Pooled replications, over every request sent: the line tops
		// out at completed/sent, flat to the longest line's end.
		var completed, sent int64
		for _, s := range c.Summaries[i] {
			completed += s.Requests.Completed
			sent += s.Requests.Sent
		}
		if got := int64(len(c.Latencies[i])); got != completed {
			t.Errorf("%s: pooled latencies %d, completed %d", l.Name, got, completed)
		}
		last := l.XY[len(l.XY)-1]
		if want := float64(completed) / float64(sent); last.Y != want || last.X != end || want >= 1 {
			t.Errorf("%s: CDF ends at %v, want (%v, completed/sent = %v)", l.Name, last, end, want)
		}
		if !strings.HasPrefix(l.Legend, l.Name+" (") || !strings.HasSuffix(l.Legend, "% completed)") {
			t.Errorf("%s: CDF legend %q", l.Name, l.Legend)
		}
	}
	if !cdf.LogX || cdf.YMax != 1 || !strings.Contains(cdf.Title, "+∞") {
		t.Errorf("CDF: log X %v, Y up to %v, title %q", cdf.LogX, cdf.YMax, cdf.Title)
	}
	for _, m := range []struct {
		fig string
		of  func(*results.Summary) float64
	}{
		{"compare-p50", func(s *results.Summary) float64 { return s.LatencyMS.P50 }},
		{"compare-p99", func(s *results.Summary) float64 { return s.LatencyMS.P99 }},
	} {
		f := figure(t, figs, m.fig)
		if !f.LogY || !f.NoLegend {
			t.Errorf("%s: log Y %v, no legend %v: want a log axis, the categories naming the runs", m.fig, f.LogY, f.NoLegend)
		}
		if !slices.Equal(f.Categories, []string{"no-redirect", "queue-length", "queue-delay"}) {
			t.Errorf("%s: categories %v", m.fig, f.Categories)
		}
		for i, l := range f.Lines {
			if l.Color != Palette(i) || !l.Points || l.XY[0].X != float64(i) {
				t.Errorf("%s point %d: %+v", m.fig, i, l)
			}
			var vals []float64
			for _, s := range c.Summaries[i] {
				vals = append(vals, m.of(s))
			}
			iv := stats.MeanCI(vals, stats.Level)
			if l.XY[0].Y != iv.Mean || len(l.Labels) != 1 || l.Labels[0] != valueLabel(iv.Mean, false) {
				t.Errorf("%s %s: %v labelled %q, mean over replications %v", m.fig, l.Name, l.XY[0].Y, l.Labels, iv.Mean)
			}
			if hasCI := l.Lo != nil; hasCI != (i > 0) {
				t.Errorf("%s %s: error bars %v with %d replications", m.fig, l.Name, hasCI, len(vals))
			} else if hasCI && (l.Lo[0] != iv.Lo || l.Hi[0] != iv.Hi) {
				t.Errorf("%s %s: bars [%v, %v], CI [%v, %v]", m.fig, l.Name, l.Lo[0], l.Hi[0], iv.Lo, iv.Hi)
			}
		}
	}

	// The trade-off: one point per run at (redirect rate %, p99), the
	// means over replications with both intervals, labelled by name.
	to := figure(t, figs, "compare-tradeoff")
	if !to.LogY || !to.NoLegend || len(to.Lines) != len(runs) {
		t.Fatalf("tradeoff: log Y %v, no legend %v, %d series", to.LogY, to.NoLegend, len(to.Lines))
	}
	for i, l := range to.Lines {
		var rates, p99s []float64
		for _, s := range c.Summaries[i] {
			rates, p99s = append(rates, s.Redirects.Rate), append(p99s, s.LatencyMS.P99)
		}
		x, y := stats.MeanCI(rates, stats.Level), stats.MeanCI(p99s, stats.Level)
		if len(l.XY) != 1 || l.XY[0].X != 100*x.Mean || l.XY[0].Y != y.Mean || !slices.Equal(l.Labels, []string{runs[i].Name + notServed(c.Summaries[i])}) || !l.Points {
			t.Errorf("tradeoff %d: %v %q, want (%v, %v) %q", i, l.XY, l.Labels, 100*x.Mean, y.Mean, runs[i].Name)
		}
		if i == 0 && (l.Lo != nil || l.XLo != nil) {
			t.Errorf("tradeoff: a single run has error bars")
		}
		if i > 0 && (len(l.XLo) != 1 || l.XLo[0] != 100*x.Lo || l.XHi[0] != 100*x.Hi || l.Lo[0] != y.Lo || l.Hi[0] != y.Hi) {
			t.Errorf("tradeoff %s: bars x [%v, %v] y [%v, %v], want x [%v, %v] y [%v, %v]", l.Name, l.XLo, l.XHi, l.Lo, l.Hi, 100*x.Lo, 100*x.Hi, y.Lo, y.Hi)
		}
	}

	// Over time: each run's p99 per measured second (the mean over its
	// replications), and the fault shaded.
	ot := figure(t, figs, "compare-over-time")
	if !ot.LogY || !ot.TimeX || len(ot.Lines) != len(runs) {
		t.Fatalf("over-time: log Y %v, time X %v, %d lines", ot.LogY, ot.TimeX, len(ot.Lines))
	}
	if want := (Span{Label: "web-2 slowdown ×3, 3s–5s", From: 3, To: 5}); len(ot.Spans) != 1 || ot.Spans[0] != want {
		t.Errorf("over-time spans %+v, want the fixture's fault once: %+v", ot.Spans, want)
	}
	for i, l := range ot.Lines {
		sums := map[float64][]float64{}
		for k, secs := range c.Seconds[i] {
			for _, s := range Measured(secs, c.Summaries[i][k]) {
				if s.Completed > 0 {
					sums[s.T.Seconds()+0.5] = append(sums[s.T.Seconds()+0.5], float64(s.P99)/1e6)
				}
			}
		}
		if len(l.XY) != len(sums) || len(sums) != int(fixture.Duration/time.Second) {
			t.Errorf("over-time %s: %d points for %d seconds", l.Name, len(l.XY), len(sums))
		}
		for _, p := range l.XY {
			if want := stats.Mean(sums[p.X]); math.Abs(p.Y-want) > 1e-9 {
				t.Errorf("over-time %s at %v: %v, want the replications' mean p99 %v", l.Name, p.X, p.Y, want)
			}
		}
	}
	// Colours are the same in every figure for a run.
	for _, f := range figs {
		for i, l := range f.Lines {
			if l.Color != Palette(slices.IndexFunc(runs, func(r Run) bool { return r.Name == l.Name })) {
				t.Errorf("%s: %s has colour %v at position %d", f.Name, l.Name, l.Color, i)
			}
		}
	}
	out := t.TempDir()
	files, err := Compare(out, runs)
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)
}

func TestReplicationsErrors(t *testing.T) {
	if _, err := Replications(t.TempDir()); err == nil || !strings.Contains(err.Error(), "rep-N") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := Compare(t.TempDir(), nil); err == nil {
		t.Error("Compare of no runs succeeded")
	}
}

func TestSweep(t *testing.T) {
	root := t.TempDir()
	values := []string{"100/s", "200/s", "300/s"}
	table := SweepTable{Parameter: "workload.arrival.rate", Values: values}
	for vi, v := range []struct {
		name string
		cond string
		reps int
	}{{"no-redirect", "none", 1}, {"queue-delay", "queue-delay", 2}} {
		sv := SweepVariant{Name: v.name, Points: make([][]*results.Summary, len(values))}
		for i := range values {
			if vi == 0 && i == 1 {
				continue // a failed run leaves a gap
			}
			for k := range v.reps {
				dir := filepath.Join(root, v.name, values[i][:3], "rep"+string(rune('0'+k)))
				sum, _ := writeFixture(t, dir, fixture.Options{Condition: v.cond, Seed: uint64(100*vi + 10*i + k + 1), Latency: time.Duration(i+1) * 5 * time.Millisecond})
				sv.Points[i] = append(sv.Points[i], sum)
			}
		}
		table.Variants = append(table.Variants, sv)
	}
	figs, err := SweepFigures(table)
	if err != nil {
		t.Fatal(err)
	}
	p99 := figure(t, figs, "sweep-p99")
	if p99.X != "workload.arrival.rate (req/s)" || p99.Categories != nil || !p99.LogY {
		t.Errorf("X %q, categories %v", p99.X, p99.Categories)
	}
	nr, qd := p99.Lines[0], p99.Lines[1]
	if nr.Name != "no-redirect" || len(nr.XY) != 2 || nr.XY[0].X != 100 || nr.XY[1].X != 300 || nr.Lo != nil {
		t.Errorf("no-redirect line %+v: want 2 points at 100 and 300, no error bars", nr)
	}
	if nr.XY[1].Y != table.Variants[0].Points[2][0].LatencyMS.P99 {
		t.Errorf("no-redirect p99 at 300/s %v", nr.XY[1].Y)
	}
	if len(qd.XY) != 3 || len(qd.Lo) != 3 || qd.Color != Palette(1) || !qd.Markers {
		t.Errorf("queue-delay line %+v: want 3 points with CIs", qd)
	}
	want := stats.MeanCI([]float64{table.Variants[1].Points[0][0].Redirects.Rate, table.Variants[1].Points[0][1].Redirects.Rate}, stats.Level)
	rr := figure(t, figs, "sweep-redirect-rate").Lines[1]
	if math.Abs(rr.XY[0].Y-100*want.Mean) > 1e-9 || math.Abs(rr.Hi[0]-100*want.Hi) > 1e-9 {
		t.Errorf("redirect rate point %v [%v], want %v%% [..%v]", rr.XY[0], rr.Hi[0], 100*want.Mean, 100*want.Hi)
	}
	files, err := Sweep(t.TempDir(), table)
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)

	bad := table
	bad.Variants = []SweepVariant{{Name: "x", Points: make([][]*results.Summary, 1)}}
	if _, err := Sweep(t.TempDir(), bad); err == nil || !strings.Contains(err.Error(), `"x" has 1 points for 3 values`) {
		t.Errorf("mis-shaped table: %v", err)
	}
	// Categorical values still plot, in sweep order.
	cat := SweepTable{Parameter: "policy.target", Values: []string{"random", "p2c"}, Variants: []SweepVariant{{Name: "base", Points: [][]*results.Summary{{table.Variants[1].Points[0][0]}, {table.Variants[1].Points[1][0]}}}}}
	figs, err = SweepFigures(cat)
	if err != nil {
		t.Fatal(err)
	}
	if f := figure(t, figs, "sweep-p99"); !slices.Equal(f.Categories, cat.Values) || f.Lines[0].XY[1].X != 1 {
		t.Errorf("categorical sweep: %v %v", f.Categories, f.Lines[0].XY)
	}
}

// Figures without data (a run in which nothing completed) still draw:
// no panic from gonum's ranges or log scales.
func TestEmptyFigures(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []Figure{
		// Linear axes, a threshold and a fault mark, no lines.
		{Name: "empty-marks", X: "time (s)", Y: "queue length", ZeroY: true,
			HLines: []Mark{{Label: "threshold 8", At: 8, Color: thresholdColor}},
			VLines: []Mark{{Label: "fault", At: 0.5, Color: faultColor}}},
		// A log axis and an empty series.
		{Name: "empty-log", X: "latency (ms)", Y: "fraction", LogX: true, LogY: true, Lines: []Series{{Name: "a", Color: Palette(0)}}},
		// Categories without points.
		{Name: "empty-categories", X: "variant", Y: "p99 (ms)", Categories: []string{"a", "b"}},
	} {
		files, err := f.Write(dir)
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
			continue
		}
		checkImagesSized(t, files, 1_000)
	}
	// Non-finite data is an error, not a crash.
	bad := Figure{Name: "nan", Lines: []Series{{Name: "x", XY: plotter.XYs{{X: 1, Y: math.NaN()}}}}}
	if _, err := bad.Write(dir); err == nil {
		t.Error("NaN data drew without error")
	}
}

// A variant's own CDF has its colour from the comparison above it.
func TestVariantIndex(t *testing.T) {
	root := t.TempDir()
	csv := "run,replications\nno-redirect,1\nqueue-length,3\nqueue-delay,3\n"
	if err := os.WriteFile(filepath.Join(root, ComparisonFile), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		want int
	}{
		{filepath.Join(root, "queue-length"), 1},         // a variant
		{filepath.Join(root, "queue-delay", "rep-2"), 2}, // a replication of a variant
		{filepath.Join(root, "other"), 0},                // not in the comparison
		{t.TempDir(), 0},                                 // no comparison at all
	} {
		if got := VariantIndex(tc.dir); got != tc.want {
			t.Errorf("VariantIndex(%s) = %d, want %d", tc.dir, got, tc.want)
		}
	}
	dir := filepath.Join(root, "queue-delay", "rep-1")
	writeFixture(t, dir, fixture.Options{Variant: "queue-delay"})
	d, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := figure(t, RunFigures(d), "latency-cdf").Lines[0].Color; c != Palette(2) {
		t.Errorf("queue-delay's CDF colour %v, want %v", c, Palette(2))
	}
}

// TestNotServed: the trade-off's labels give the mean shares of requests
// its p99 leaves out, those above zero, in a fixed order.
func TestNotServed(t *testing.T) {
	sum := func(sent, shed, rejected, errors, timeouts int64) *results.Summary {
		return &results.Summary{Requests: results.RequestCounts{Sent: sent, Shed: shed, Rejected: rejected, Errors: errors, Timeouts: timeouts}}
	}
	for _, tc := range []struct {
		reps []*results.Summary
		want string
	}{
		// Every request served: no label.
		{[]*results.Summary{sum(1000, 0, 0, 0, 0)}, ""},
		// A shedding run.
		{[]*results.Summary{sum(1000, 98, 0, 0, 0)}, " (9.80% shed)"},
		// Rejections and failures (errors and timeouts together).
		{[]*results.Summary{sum(1000, 0, 120, 3, 2)}, " (12.0% rejected, 0.50% failed)"},
		// The mean over replications.
		{[]*results.Summary{sum(1000, 100, 0, 0, 0), sum(2000, 0, 0, 0, 0)}, " (5.00% shed)"},
		// Nothing sent: nothing to say.
		{[]*results.Summary{sum(0, 0, 0, 0, 0)}, ""},
	} {
		if got := notServed(tc.reps); got != tc.want {
			t.Errorf("notServed(%v) = %q, want %q", tc.reps[0].Requests, got, tc.want)
		}
	}
}
