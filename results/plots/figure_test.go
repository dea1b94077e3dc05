package plots

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/redirlab/redirlab/results/internal/fixture"
	"github.com/redirlab/redirlab/scenarios"
)

func labels(ticks []plot.Tick) []string {
	var out []string
	for _, t := range ticks {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

// Ticks are labelled at round values in plain decimals: whole seconds,
// minutes or hours on time axes, 1-2-5 steps on linear axes, 1-2-5 or
// powers of ten on log axes, never with exponents or trailing zeros.
func TestTicksReadable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ticker   plot.Ticker
		min, max float64
		want     []string
	}{
		{"a 22 s run", timeTicks{}, 0.1, 22.2, []string{"5", "10", "15", "20"}},
		{"its measured window", timeTicks{}, 2.5, 11.5, []string{"4", "6", "8", "10"}},
		{"a minute", timeTicks{}, 0, 60, []string{"0", "10", "20", "30", "40", "50", "60"}},
		{"ten hours, in 2 h steps", timeTicks{}, 0, 36000, []string{"0", "7200", "14400", "21600", "28800", "36000"}},
		{"half a second", timeTicks{}, 0, 0.5, []string{"0", "0.1", "0.2", "0.3", "0.4", "0.5"}},
		{"rates", linearTicks{5}, -4, 54, []string{"0", "10", "20", "30", "40", "50"}},
		{"small values", linearTicks{5}, 0.0000123, 0.0000567, []string{"0.00002", "0.00003", "0.00004", "0.00005"}},
		{"p99 from 96 to 1457 ms", logTicks{}, 85, 1830, []string{"100", "200", "500", "1000"}},
		{"p50 from 7 to 12 ms", logTicks{}, 7, 12.9, []string{"7", "8", "9", "10", "11", "12"}},
		{"latencies over 4 decades", logTicks{}, 0.2, 2700, []string{"1", "10", "100", "1000"}},
	} {
		ticks := tc.ticker.Ticks(tc.min, tc.max)
		if got := labels(ticks); !slices.Equal(got, tc.want) {
			t.Errorf("%s [%v, %v]: labels %v, want %v", tc.name, tc.min, tc.max, got, tc.want)
		}
		for _, tk := range ticks {
			if tk.Value < tc.min-1e-9 || tk.Value > tc.max+1e-9 {
				t.Errorf("%s: tick %v outside [%v, %v]", tc.name, tk.Value, tc.min, tc.max)
			}
			if tk.Label == "" {
				continue
			}
			if strings.ContainsAny(tk.Label, "eE") || (strings.Contains(tk.Label, ".") && strings.HasSuffix(tk.Label, "0")) {
				t.Errorf("%s: label %q", tc.name, tk.Label)
			}
			if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Errorf("%s: label %q for %v", tc.name, tk.Label, tk.Value)
			}
		}
	}
	// Degenerate ranges do not loop or panic.
	for _, r := range [][2]float64{{5, 5}, {0, 1e12}, {-1, 1}} {
		_ = timeTicks{}.Ticks(r[0], r[1])
		_ = linearTicks{5}.Ticks(r[0], r[1])
		_ = logTicks{}.Ticks(r[0], r[1])
	}
}

// FaultSpans: each fault from its start to its end; a crash ends at the
// next restart of its server; a fault without end lasts to the end; one
// at or after the horizon never happens.
func TestFaultSpans(t *testing.T) {
	src := fixture.ScenarioYAML("queue-length")
	src = strings.Replace(src, "faults:\n", `faults:
  - {at: 2s, server: web-1, action: crash}
  - {at: 2500ms, action: lost-reports, loss: 0.5, for: 1s}
  - {at: 4s, server: web-1, action: restart}
  - {at: 5s, action: manager-outage}
  - {at: 7s, server: slow-1, action: crash}
`, 1)
	sc, err := scenarios.Parse("spans.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := FaultSpans(sc)
	want := []Span{
		{Label: "web-1 crash, 2s–4s", From: 2, To: 4},
		{Label: "lost-reports 50%, 2.5s–3.5s", From: 2.5, To: 3.5},
		{Label: "manager-outage from 5s", From: 5, To: math.Inf(1), Open: true},
		{Label: "web-2 slowdown ×3, 3s–5s", From: 3, To: 5},
	}
	if !slices.Equal(got, want) {
		t.Errorf("spans\n%+v\nwant\n%+v", got, want)
	}
	if FaultSpans(nil) != nil {
		t.Error("spans without a scenario")
	}
}

// The legend is never drawn over the data: the plot gonum draws has no
// legend of its own (Draw puts it below), for every figure of a run and
// of a comparison.
func TestLegendOutsideData(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, fixture.Options{Condition: "queue-delay"})
	d, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCompare(compareFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	canvas := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: width, Y: height}}}
	for _, f := range append(RunFigures(d), CompareFigures(c)...) {
		p, entries, err := f.build()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if r := p.Legend.Rectangle(canvas); r.Size().X != 0 || r.Size().Y != 0 {
			t.Errorf("%s: gonum's legend has entries (%v): it would sit over the data", f.Name, r)
		}
		if f.NoLegend != (len(entries) == 0) {
			t.Errorf("%s: %d legend entries, NoLegend %v", f.Name, len(entries), f.NoLegend)
		}
		if !f.NoLegend && len(entries) < len(f.Lines) {
			t.Errorf("%s: %d legend entries for %d lines", f.Name, len(entries), len(f.Lines))
		}
	}
}

// On a log axis, points at or below 0 are left out and error bars that
// reach below 0 end under the lowest value: the figure still draws.
func TestLogAxisIntervals(t *testing.T) {
	f := Figure{Name: "log-ci", X: "run", Y: "p99 (ms)", LogY: true, Categories: []string{"a", "b", "c"}, Lines: []Series{
		{Name: "a", Points: true, Color: Palette(0), XY: plotter.XYs{{X: 0, Y: 100}}, Lo: []float64{-50}, Hi: []float64{250}, Labels: []string{"100"}},
		{Name: "b", Points: true, Color: Palette(1), XY: plotter.XYs{{X: 1, Y: 1457}}, Lo: []float64{1400}, Hi: []float64{1500}, Labels: []string{"1457"}},
		{Name: "c", Points: true, Color: Palette(2), XY: plotter.XYs{{X: 2, Y: 0}}, Labels: []string{"0"}},
	}}
	floor := f.logFloor()
	if floor != 100/1.5 {
		t.Errorf("floor %v, want under the lowest value 100", floor)
	}
	if s := f.positive(f.Lines[0], floor); s.Lo[0] != floor || s.Hi[0] != 250 {
		t.Errorf("interval [%v, %v], want [%v, 250]", s.Lo[0], s.Hi[0], floor)
	}
	if s := f.positive(f.Lines[2], floor); len(s.XY) != 0 || len(s.Labels) != 0 {
		t.Errorf("a 0 on a log axis kept: %+v", s)
	}
	p, err := f.Plot()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Y.Scale.(plot.LogScale); !ok || p.Y.Min <= 0 || p.Y.Min > floor || p.Y.Max < 1500 {
		t.Errorf("Y axis %T [%v, %v]", p.Y.Scale, p.Y.Min, p.Y.Max)
	}
	files, err := f.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)
}

// Labels beside points overlap neither each other nor the points when
// there is room: two points close together get labels on either side,
// and one at the right edge its label on the left.
func TestPointLabelsApart(t *testing.T) {
	bounds := vg.Rectangle{Max: vg.Point{X: 600, Y: 300}}
	at := []vg.Point{{X: 300, Y: 100}, {X: 310, Y: 102}, {X: 595, Y: 200}, {X: 300, Y: 250}}
	sizes := []vg.Point{{X: 60, Y: 10}, {X: 50, Y: 10}, {X: 55, Y: 10}, {X: 40, Y: 10}}
	var taken []vg.Rectangle
	for _, p := range at {
		taken = append(taken, vg.Rectangle{Min: vg.Point{X: p.X - 4, Y: p.Y - 4}, Max: vg.Point{X: p.X + 4, Y: p.Y + 4}})
	}
	// A vertical error bar through the last point.
	taken = append(taken, vg.Rectangle{Min: vg.Point{X: 297, Y: 200}, Max: vg.Point{X: 303, Y: 290}})
	boxes := placeLabels(at, sizes, taken, bounds, 7)
	for i, b := range boxes {
		if b.Min.X < 0 || b.Max.X > 600 || b.Min.Y < 0 || b.Max.Y > 300 || b.Size() != sizes[i] {
			t.Errorf("label %d at %v: outside the data area or resized", i, b)
		}
		for _, o := range taken {
			if overlap(b, o) > 0 {
				t.Errorf("label %d at %v covers %v", i, b, o)
			}
		}
		for j := range i {
			if overlap(b, boxes[j]) > 0 {
				t.Errorf("labels %d %v and %d %v overlap", i, b, j, boxes[j])
			}
		}
	}
	if boxes[2].Max.X > at[2].X {
		t.Errorf("the label of a point at the right edge is at %v, not on its left", boxes[2])
	}
}
