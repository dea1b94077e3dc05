package plots

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/redirlab/redirlab/results"
)

// TestEnvelopeKeepsExtremes: a line's band has at most the columns asked
// for, in increasing X, holds every point between its lo and hi around
// it, and keeps the line's exact extremes: a one-point spike or dip
// anywhere survives.
func TestEnvelopeKeepsExtremes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 1 + rng.IntN(20000)
		columns := 1 + rng.IntN(1000)
		xy := make(plotter.XYs, n)
		for i := range xy {
			xy[i] = plotter.XY{X: float64(i) * 0.1, Y: rng.NormFloat64()}
		}
		spike, dip := rng.IntN(n), rng.IntN(n)
		xy[spike].Y = 1e6
		if dip != spike {
			xy[dip].Y = -1e6
		}
		lo, hi := Envelope(xy, columns)
		if len(lo) != len(hi) || len(lo) > max(columns, 0) && n > columns {
			t.Fatalf("trial %d: %d points into %d columns: %d lo, %d hi", trial, n, columns, len(lo), len(hi))
		}
		maxY, minY := math.Inf(-1), math.Inf(1)
		for i := range lo {
			if i > 0 && lo[i].X <= lo[i-1].X {
				t.Fatalf("trial %d: X not increasing at column %d", trial, i)
			}
			if lo[i].X != hi[i].X || lo[i].Y > hi[i].Y {
				t.Fatalf("trial %d: column %d: lo %v, hi %v", trial, i, lo[i], hi[i])
			}
			maxY, minY = math.Max(maxY, hi[i].Y), math.Min(minY, lo[i].Y)
		}
		if maxY != 1e6 {
			t.Errorf("trial %d: the spike at %d of %d points did not survive into %d columns: max %v", trial, spike, n, columns, maxY)
		}
		if dip != spike && minY != -1e6 {
			t.Errorf("trial %d: the dip did not survive: min %v", trial, minY)
		}
	}
	short := plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 2}}
	if lo, hi := Envelope(short, 10); !slices.Equal(lo, short) || !slices.Equal(hi, short) {
		t.Errorf("a short line is not its own envelope: %v %v", lo, hi)
	}
}

// TestServerBands: the bands are the max, p90, median and min over the
// servers at each tick, by nearest rank, whether or not every server has
// the same ticks.
func TestServerBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const servers, ticks = 13, 50
	samples := make([][]results.ServerSample, servers)
	for i := range samples {
		for k := range ticks {
			samples[i] = append(samples[i], results.ServerSample{At: time.Duration(k+1) * 100 * time.Millisecond, Server: i, QueueLength: rng.IntN(40)})
		}
	}
	ql := func(s *results.ServerSample) float64 { return float64(s.QueueLength) }
	check := func(name string, lines []Series, samples [][]results.ServerSample) {
		t.Helper()
		if len(lines) != 4 || lines[0].Name != "max over servers" || lines[3].Name != "min over servers" {
			t.Fatalf("%s: lines %v", name, lines)
		}
		byTick := map[time.Duration][]float64{}
		for _, ss := range samples {
			for k := range ss {
				byTick[ss[k].At] = append(byTick[ss[k].At], ql(&ss[k]))
			}
		}
		if len(lines[0].XY) != len(byTick) {
			t.Fatalf("%s: %d points, want %d ticks", name, len(lines[0].XY), len(byTick))
		}
		for k, p := range lines[0].XY {
			vals := byTick[time.Duration(math.Round(p.X*1e9))]
			slices.Sort(vals)
			rank := func(q float64) float64 { return vals[max(int(math.Ceil(q*float64(len(vals))))-1, 0)] }
			want := []float64{vals[len(vals)-1], rank(0.9), rank(0.5), vals[0]}
			for j := range 4 {
				if got := lines[j].XY[k].Y; got != want[j] {
					t.Errorf("%s: tick %v: %s = %v, want %v", name, p.X, lines[j].Name, got, want[j])
				}
			}
		}
	}
	lines, banded := serverLines(make([]string, servers), samples, ql)
	if !banded {
		t.Fatal("13 servers are not banded")
	}
	check("aligned", lines, samples)
	// One server sampled less often: the ticks are matched by time.
	uneven := slices.Clone(samples)
	uneven[4] = slices.DeleteFunc(slices.Clone(samples[4]), func(s results.ServerSample) bool { return s.At%(300*time.Millisecond) == 0 })
	check("uneven", ServerBands(uneven, ql), uneven)
	if _, banded := serverLines(make([]string, MaxServerLines), samples[:MaxServerLines], ql); banded {
		t.Errorf("%d servers are banded, want one line each", MaxServerLines)
	}
}

// longRun is a run of 100 servers over ten hours: timeseries of 36,000
// seconds, 100 × 6,000 samples (one every 6 s, about the tool's
// interval for such a run), 100,000 latencies.
func longRun() *RunData {
	rng := rand.New(rand.NewPCG(7, 8))
	const servers, seconds, ticks = 100, 36000, 6000
	d := &RunData{Summary: &results.Summary{Scenario: "long", Mode: results.Sim, DurationS: seconds}}
	for i := range servers {
		d.Summary.Servers = append(d.Summary.Servers, results.ServerSummary{Name: fmt.Sprintf("web-%d", i+1)})
		var ss []results.ServerSample
		for k := range ticks {
			ss = append(ss, results.ServerSample{At: time.Duration(k+1) * 6 * time.Second, Server: i,
				QueueLength: rng.IntN(30), QueueDelay: time.Duration(rng.IntN(100)) * time.Millisecond})
		}
		d.Samples = append(d.Samples, ss)
	}
	for s := range seconds {
		d.Seconds = append(d.Seconds, results.Second{T: time.Duration(s) * time.Second, Requests: 9000, Completed: 8990, Rejected: 10,
			Redirected: int64(rng.IntN(4000)), P50: time.Duration(10+rng.IntN(10)) * time.Millisecond,
			P99: time.Duration(50+rng.IntN(500)) * time.Millisecond, Max: time.Second})
	}
	for range 100000 {
		d.Latencies = append(d.Latencies, rng.ExpFloat64()*20)
	}
	return d
}

// TestFigureSizeBounded: the figures of a ten-hour 100-server run stay
// small, every SVG under 150 KB and every PNG under 200 KB (the 600 s
// default run's are 2-120 KB), as no line of more than MaxLinePoints
// points is drawn as one.
func TestFigureSizeBounded(t *testing.T) {
	figs := RunFigures(longRun())
	// Per-server figures of more than MaxServerLines servers draw the
	// servers' spread, queue delay as queue length.
	for _, name := range []string{"queue-length", "queue-delay"} {
		f := figure(t, figs, name)
		if len(f.Lines) != 4 || f.Lines[0].Name != bandNames[0] || !strings.Contains(f.Title, "across 100 servers") {
			t.Errorf("%s of 100 servers: %d lines (%q), want 4 bands", name, len(f.Lines), f.Title)
		}
	}
	qd := figure(t, figs, "queue-delay")
	want := ServerBands(longRun().Samples, func(s *results.ServerSample) float64 { return float64(s.QueueDelay) / 1e6 })
	for j := range want {
		if !slices.Equal(qd.Lines[j].XY, want[j].XY) {
			t.Errorf("queue-delay band %s differs from ServerBands of the queue delays", want[j].Name)
		}
	}
	dir := t.TempDir()
	files, err := writeFigures(dir, figs, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		limit := int64(150_000)
		if filepath.Ext(f) == ".png" {
			limit = 200_000
		}
		t.Logf("%s: %d bytes", filepath.Base(f), fi.Size())
		if fi.Size() > limit {
			t.Errorf("%s: %d bytes, want at most %d", filepath.Base(f), fi.Size(), limit)
		}
	}
}
