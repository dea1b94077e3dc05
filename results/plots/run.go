package plots

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/internal/par"
	"github.com/redirlab/redirlab/scenarios"
)

// RunData is what one run's figures are drawn from, read back from its
// results directory.
type RunData struct {
	// Dir is the results directory.
	Dir string
	// Summary is summary.json.
	Summary *results.Summary
	// Scenario is scenario.yaml, nil when the directory has none.
	Scenario *scenarios.Scenario
	// Latencies are the latencies of completed page requests in
	// milliseconds, in file order; nil when requests.csv is absent
	// (a run with --no-records).
	Latencies []float64
	// Seconds is timeseries.csv.
	Seconds []results.Second
	// Samples[i] are server i's rows of servers.csv (i in summary.json's
	// server order), in time order.
	Samples [][]results.ServerSample
}

// LoadRun reads a run's results directory. summary.json, timeseries.csv
// and servers.csv are required; requests.csv and scenario.yaml are read
// when present.
func LoadRun(dir string) (*RunData, error) {
	sum, err := results.ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	d := &RunData{Dir: dir, Summary: sum, Samples: make([][]results.ServerSample, len(sum.Servers))}
	if d.Scenario, err = loadScenario(dir); err != nil {
		return nil, err
	}
	if d.Latencies, err = ReadLatencies(dir); err != nil {
		return nil, err
	}
	if d.Seconds, err = results.ReadTimeseries(dir); err != nil {
		return nil, err
	}
	err = results.ReadServers(dir, func(s *results.ServerSample, name string) error {
		if s.Server < 0 || s.Server >= len(d.Samples) {
			return fmt.Errorf("%s: server %q is not in summary.json", filepath.Join(dir, results.ServersFile), name)
		}
		d.Samples[s.Server] = append(d.Samples[s.Server], *s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// loadScenario reads dir/scenario.yaml, nil when there is none.
func loadScenario(dir string) (*scenarios.Scenario, error) {
	path := filepath.Join(dir, results.ScenarioFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return scenarios.Load(path)
}

// ReadLatencies returns the latencies of the completed page requests of
// dir/requests.csv in milliseconds, nil (and no error) when the file is
// absent.
func ReadLatencies(dir string) ([]float64, error) {
	if _, err := os.Stat(filepath.Join(dir, results.RequestsFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	lat := []float64{}
	err := results.ReadLatencies(dir, func(d time.Duration) error {
		lat = append(lat, ms(d))
		return nil
	})
	return lat, err
}

func ms(d time.Duration) float64  { return float64(d) / float64(time.Millisecond) }
func sec(d time.Duration) float64 { return d.Seconds() }

// Draw draws the figures of one run's results directory into it and
// returns the files written (PNG and SVG of each figure): latency CDF,
// latency p50/p99 over time, queue length per server, queue delay per
// server (queue-delay runs only), redirect rate, and throughput with
// rejections.
func Draw(dir string) ([]string, error) {
	return DrawWith(dir, par.New(0, nil))
}

// DrawWith is Draw within a writing phase (package report's): loading,
// computing and drawing the figures take w's slots, and each file
// written is reported to it.
func DrawWith(dir string, w *par.Writing) ([]string, error) {
	var figs []Figure
	var err error
	w.Do(func() {
		var d *RunData
		if d, err = LoadRun(dir); err == nil {
			figs = RunFigures(d)
		}
	})
	if err != nil {
		return nil, err
	}
	return writeFigures(dir, figs, w)
}

// RunFigures computes the figures of one run.
func RunFigures(d *RunData) []Figure {
	label := runLabel(d.Summary)
	marks := timeMarks(d.Scenario)
	spans := FaultSpans(d.Scenario)
	var figs []Figure
	if d.Latencies != nil {
		sent := d.Summary.Requests.Sent
		figs = append(figs, Figure{
			Name:  "latency-cdf",
			Title: "Latency CDF: " + label + cdfNote,
			X:     "latency (ms, log scale)",
			Y:     cdfY,
			LogX:  true,
			YMin:  0,
			YMax:  1,
			Lines: []Series{{Name: label, Legend: completedLegend(label, int64(len(d.Latencies)), sent),
				Color: Palette(VariantColor(d.Dir, d.Summary)), XY: CDFOver(d.Latencies, sent, maxCDFPoints)}},
		})
	}
	secs := Measured(d.Seconds, d.Summary)
	p50, p99 := PercentilesOverTime(secs)
	figs = append(figs, Figure{
		Name:  "latency-over-time",
		Title: "Latency per second: " + label,
		X:     "time since run start (s)",
		Y:     "latency (ms, log scale)",
		TimeX: true,
		LogY:  true,
		Lines: []Series{{Name: "p50", Color: Palette(0), XY: p50}, {Name: "p99", Color: Palette(1), XY: p99}},
		Spans: spans,
	})
	names := serverNames(d.Summary)
	ql := Figure{
		Name:   "queue-length",
		Title:  "Queue length per server: " + label,
		X:      "time since run start (s)",
		Y:      "queue length (requests waiting + in service)",
		TimeX:  true,
		ZeroY:  true,
		VLines: marks,
		Spans:  spans,
	}
	var banded bool
	ql.Lines, banded = serverLines(names, d.Samples, func(s *results.ServerSample) float64 { return float64(s.QueueLength) })
	if banded {
		ql.Title = bandTitle("Queue length", len(d.Samples)) + ": " + label
	}
	cond := condition(d.Scenario)
	if cond == "queue-length" {
		thr := d.Scenario.Policy.Threshold.Count
		ql.HLines = []Mark{{Label: fmt.Sprintf("threshold %d", thr), At: float64(thr), Color: thresholdColor}}
	}
	figs = append(figs, ql)
	// Queue delay in every run, whatever the condition: under
	// queue-length it shows what a given length costs in waiting.
	qd := Figure{
		Name:   "queue-delay",
		Title:  "Queue delay per server: " + label,
		X:      "time since run start (s)",
		Y:      "queue delay (ms" + estimatorNote(d.Scenario) + ")",
		TimeX:  true,
		ZeroY:  true,
		VLines: marks,
		Spans:  spans,
	}
	if cond == "queue-delay" {
		thr := d.Scenario.Policy.Threshold.Delay
		qd.HLines = []Mark{{Label: "threshold " + thr.String(), At: ms(thr), Color: thresholdColor}}
	}
	qd.Lines, banded = serverLines(names, d.Samples, func(s *results.ServerSample) float64 { return ms(s.QueueDelay) })
	if banded {
		qd.Title = bandTitle("Queue delay", len(d.Samples)) + ": " + label
	}
	figs = append(figs, qd)
	figs = append(figs, Figure{
		Name:  "redirect-rate",
		Title: "Redirect rate per second: " + label,
		X:     "time since run start (s)",
		Y:     "page requests redirected (%)",
		TimeX: true,
		ZeroY: true,
		Lines: []Series{{Name: "redirected", Color: Palette(0), XY: RedirectRateOverTime(secs)}},
		Spans: spans,
	})
	completed, rejected, errs := ThroughputOverTime(secs)
	tp := Figure{
		Name:  "throughput",
		Title: "Throughput and rejections per second: " + label,
		X:     "time since run start (s)",
		Y:     "page requests (req/s)",
		TimeX: true,
		ZeroY: true,
		Lines: []Series{{Name: "completed", Color: Palette(0), XY: completed}, {Name: "rejected", Color: Palette(1), XY: rejected}},
		Spans: spans,
	}
	if slices.ContainsFunc(errs, func(p plotter.XY) bool { return p.Y > 0 }) {
		tp.Lines = append(tp.Lines, Series{Name: "errors (incl. timeouts)", Color: Palette(3), XY: errs, Dashed: true})
	}
	if shed := ShedOverTime(secs); slices.ContainsFunc(shed, func(p plotter.XY) bool { return p.Y > 0 }) {
		tp.Lines = append(tp.Lines, Series{Name: "shed", Color: Palette(2), XY: shed})
	}
	figs = append(figs, tp)
	return figs
}

// cdfY labels a latency CDF's Y axis: over every page request sent.
const cdfY = "fraction of all page requests sent"

// cdfNote ends a latency CDF's title.
const cdfNote = " (rejected, shed and failed count as +∞)"

// completedLegend names a CDF's line with the share of the sent page
// requests that completed, where it tops out.
func completedLegend(name string, completed, sent int64) string {
	if sent <= 0 {
		return name
	}
	share := 100 * float64(completed) / float64(sent)
	pct := strconv.FormatFloat(share, 'f', 1, 64)
	if completed < sent && pct == "100.0" {
		if pct = strconv.FormatFloat(share, 'f', 2, 64); pct == "100.00" {
			pct = ">99.99"
		}
	}
	return name + " (" + pct + "% completed)"
}

// estimatorNote names the queue delay estimator in an axis label.
func estimatorNote(sc *scenarios.Scenario) string {
	if sc == nil || sc.Policy.Estimator == "" {
		return ""
	}
	return ", estimator " + sc.Policy.Estimator
}

// runLabel names a run in titles: scenario, and variant when there is one.
func runLabel(s *results.Summary) string {
	l := s.Scenario
	if s.Variant != "" {
		l += " / " + s.Variant
	}
	return l + " (" + s.Mode.String() + ")"
}

func serverNames(s *results.Summary) []string {
	names := make([]string, len(s.Servers))
	for i, sv := range s.Servers {
		names[i] = sv.Name
	}
	return names
}

func condition(sc *scenarios.Scenario) string {
	if sc == nil {
		return ""
	}
	return sc.Policy.Condition
}

// timeMarks are the vertical markers of the per-server figures, in
// seconds since run start: the end of the warmup. The per-second
// figures (timeseries.csv's measured window) begin at the warmup's end,
// where the marker would sit on the axis, so they have none.
func timeMarks(sc *scenarios.Scenario) []Mark {
	if sc == nil || sc.Warmup <= 0 {
		return nil
	}
	return []Mark{{Label: "end of warmup", At: sec(sc.Warmup), Color: warmupColor}}
}

// FaultSpans are a scenario's faults as shaded stretches of a time axis
// (s since run start), in file order: from each fault's start to its
// end (a crash also ends at the server's next restart), Open to the end
// of the run when it has none. A restart is the end of a crash, not a
// span of its own; a fault at or after the horizon never happens.
func FaultSpans(sc *scenarios.Scenario) []Span {
	if sc == nil {
		return nil
	}
	horizon := sc.Warmup + sc.Duration
	var spans []Span
	for i, f := range sc.Faults {
		if f.Action == "restart" || f.At >= horizon {
			continue
		}
		end, open := f.At+f.For, f.For <= 0
		if f.Action == "crash" {
			for _, g := range sc.Faults[i+1:] {
				if g.Action == "restart" && g.Server == f.Server && g.At >= f.At && (open || g.At < end) {
					end, open = g.At, false
					break
				}
			}
		}
		what := f.Action
		if f.Server != "" {
			what = f.Server + " " + f.Action
		}
		switch f.Action {
		case "slowdown":
			what += fmt.Sprintf(" ×%g", f.Factor)
		case "lost-reports":
			if f.Loss > 0 && f.Loss < 1 {
				what += fmt.Sprintf(" %g%%", 100*f.Loss)
			}
		}
		s := Span{From: sec(f.At), To: sec(end), Label: fmt.Sprintf("%s, %v–%v", what, f.At, end)}
		if open {
			s.To, s.Open, s.Label = math.Inf(1), true, fmt.Sprintf("%s from %v", what, f.At)
		}
		spans = append(spans, s)
	}
	return spans
}

// maxCDFPoints bounds the points of a CDF line: enough for a smooth curve
// and the whole tail, small enough for a light SVG.
const maxCDFPoints = 2000

// CDF is the empirical CDF of latencies (ms) as points (x, F(x)): the
// sorted samples, the i-th (0-based) at height (i+1)/n. With more than
// maxPoints samples it keeps maxPoints of them: 3/4 evenly spaced by
// rank and the top 1/4 all, so that the tail a log axis shows is exact.
// Latencies below 1 µs are drawn at 1 µs (a log axis has no 0).
func CDF(latencies []float64, maxPoints int) plotter.XYs {
	return CDFOver(latencies, int64(len(latencies)), maxPoints)
}

// CDFOver is the CDF of the latencies of completed requests among total
// requests sent (at least len(latencies)): the others (rejected, failed,
// timed out) count as taking forever, so the i-th sample is at height
// (i+1)/total and the curve tops out at completed/total.
func CDFOver(latencies []float64, total int64, maxPoints int) plotter.XYs {
	n := len(latencies)
	if n == 0 {
		return nil
	}
	total = max(total, int64(n))
	s := slices.Clone(latencies)
	slices.Sort(s)
	point := func(i int) plotter.XY {
		return plotter.XY{X: max(s[i], 0.001), Y: float64(i+1) / float64(total)}
	}
	if n <= maxPoints || maxPoints < 8 {
		xy := make(plotter.XYs, n)
		for i := range s {
			xy[i] = point(i)
		}
		return xy
	}
	tail := maxPoints / 4
	body := maxPoints - tail
	start := n - tail // first index of the tail kept whole
	xy := make(plotter.XYs, 0, maxPoints)
	for k := range body {
		i := k * (start - 1) / (body - 1) // 0 .. start-1 inclusive
		xy = append(xy, point(i))
	}
	for i := start; i < n; i++ {
		xy = append(xy, point(i))
	}
	return xy
}

// Measured is the seconds of timeseries.csv that start within the
// measured window. The seconds after it hold only requests that were
// still in flight at the end, the slowest ones: their percentiles and
// rates describe the drain, not the system, and would dwarf the rest.
func Measured(secs []results.Second, s *results.Summary) []results.Second {
	end := time.Duration(math.Round((s.WarmupS + s.DurationS) * float64(time.Second)))
	n := 0
	for n < len(secs) && secs[n].T < end {
		n++
	}
	return secs[:n]
}

// PercentilesOverTime is p50 and p99 latency (ms) per second of
// timeseries.csv, each drawn at the middle of its second (s since run
// start); seconds without completed requests are left out.
func PercentilesOverTime(secs []results.Second) (p50, p99 plotter.XYs) {
	for _, s := range secs {
		if s.Completed == 0 {
			continue
		}
		x := mid(s)
		p50 = append(p50, plotter.XY{X: x, Y: ms(s.P50)})
		p99 = append(p99, plotter.XY{X: x, Y: ms(s.P99)})
	}
	return p50, p99
}

// RedirectRateOverTime is the percentage of the second's page requests
// that were redirected at least once (redirected / requests), at the
// middle of each second with requests.
func RedirectRateOverTime(secs []results.Second) plotter.XYs {
	var xy plotter.XYs
	for _, s := range secs {
		if s.Requests == 0 {
			continue
		}
		xy = append(xy, plotter.XY{X: mid(s), Y: 100 * float64(s.Redirected) / float64(s.Requests)})
	}
	return xy
}

// ThroughputOverTime is completed, rejected and errored (timeouts
// included) page requests per second, at the middle of every second.
func ThroughputOverTime(secs []results.Second) (completed, rejected, errs plotter.XYs) {
	for _, s := range secs {
		x := mid(s)
		completed = append(completed, plotter.XY{X: x, Y: float64(s.Completed)})
		rejected = append(rejected, plotter.XY{X: x, Y: float64(s.Rejected)})
		errs = append(errs, plotter.XY{X: x, Y: float64(s.Errors)})
	}
	return completed, rejected, errs
}

// ShedOverTime is shed page requests per second, at the middle of every
// second.
func ShedOverTime(secs []results.Second) plotter.XYs {
	var xy plotter.XYs
	for _, s := range secs {
		xy = append(xy, plotter.XY{X: mid(s), Y: float64(s.Shed)})
	}
	return xy
}

func mid(s results.Second) float64 { return sec(s.T) + 0.5 }

// ServerSeries is one line per server of a servers.csv column, named by
// instance and coloured by server index, at each sample's time (s since
// run start).
func ServerSeries(names []string, samples [][]results.ServerSample, value func(*results.ServerSample) float64) []Series {
	lines := make([]Series, 0, len(samples))
	for i, ss := range samples {
		xy := make(plotter.XYs, len(ss))
		for k := range ss {
			xy[k] = plotter.XY{X: sec(ss[k].At), Y: value(&ss[k])}
		}
		name := fmt.Sprintf("server %d", i)
		if i < len(names) {
			name = names[i]
		}
		lines = append(lines, Series{Name: name, Color: Palette(i), XY: xy})
	}
	return lines
}
