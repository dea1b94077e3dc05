package plots

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/redirlab/redirlab/results"
)

// MaxLinePoints is the most points a line is drawn through, unless it
// never decreases (a CDF: cheap to draw, and drawn whole up to its
// maxCDFPoints, and the flat end extendCDFs may give it); a longer one is drawn as its Envelope, a band of MaxLinePoints/2 columns, so
// that a figure's size and drawing time stay bounded however long the
// run. At 700 pixels of plot width, a column is about two pixels wide:
// more points than that are no more visible, only slower to draw (a
// stroked zigzag of thousands of points takes seconds to rasterise).
const MaxLinePoints = 800

// MaxServerLines is the most servers a per-server figure draws one line
// each for; with more it draws their spread (ServerBands).
const MaxServerLines = 8

// Envelope aggregates a line of points in increasing X into at most
// columns runs of consecutive points, each drawn at its middle X: lo
// holds each run's lowest Y, hi its highest. A spike or a dip of a
// single point survives, and the line's extremes are the band's. A line
// of at most columns points is its own envelope (lo and hi are xy).
func Envelope(xy plotter.XYs, columns int) (lo, hi plotter.XYs) {
	n := len(xy)
	if n <= columns || columns < 1 {
		return xy, xy
	}
	lo = make(plotter.XYs, 0, columns)
	hi = make(plotter.XYs, 0, columns)
	for b := range columns {
		first, last := b*n/columns, (b+1)*n/columns
		if first == last {
			continue
		}
		x := (xy[first].X + xy[last-1].X) / 2
		ymin, ymax := xy[first].Y, xy[first].Y
		for _, p := range xy[first+1 : last] {
			ymin = math.Min(ymin, p.Y)
			ymax = math.Max(ymax, p.Y)
		}
		lo = append(lo, plotter.XY{X: x, Y: ymin})
		hi = append(hi, plotter.XY{X: x, Y: ymax})
	}
	return lo, hi
}

// monotone reports whether a line's Y never decreases (a CDF): such a
// line is cheap to draw however many points it has, and drawn whole.
func monotone(xy plotter.XYs) bool {
	for i := 1; i < len(xy); i++ {
		if xy[i].Y < xy[i-1].Y {
			return false
		}
	}
	return true
}

// envelopePolygon is the closed outline of a band: along hi, back along lo.
func envelopePolygon(lo, hi plotter.XYs) plotter.XYs {
	ring := make(plotter.XYs, 0, len(lo)+len(hi))
	ring = append(ring, hi...)
	for i := len(lo) - 1; i >= 0; i-- {
		ring = append(ring, lo[i])
	}
	return ring
}

// serverLines is a per-server figure's lines: one per server
// (ServerSeries) up to MaxServerLines servers, their spread
// (ServerBands) beyond; banded says which.
func serverLines(names []string, samples [][]results.ServerSample, value func(*results.ServerSample) float64) (lines []Series, banded bool) {
	if len(samples) > MaxServerLines {
		return ServerBands(samples, value), true
	}
	return ServerSeries(names, samples, value), false
}

// bandNames name ServerBands' lines, in legend (top to bottom) order.
var bandNames = []string{"max over servers", "p90 over servers", "median server", "min over servers"}

// ServerBands is the spread of a servers.csv column across servers at
// each sampling tick: four lines, the max, p90, median (p50) and min
// over the servers sampled at that tick (nearest rank: the p-quantile of
// n values is the ceil(p·n)-th smallest), at each tick's time (s since
// run start).
func ServerBands(samples [][]results.ServerSample, value func(*results.ServerSample) float64) []Series {
	type point struct {
		at time.Duration
		v  float64
	}
	var pts []point
	aligned := true
	for _, ss := range samples {
		aligned = aligned && len(ss) == len(samples[0])
	}
	if aligned && len(samples) > 0 {
		// Every server sampled at the same ticks, as sim and the
		// cluster do: the k-th samples belong together.
		for k := range samples[0] {
			at := samples[0][k].At
			for _, ss := range samples {
				aligned = aligned && ss[k].At == at
			}
		}
	}
	var ticks []time.Duration
	var vals [][]float64
	if aligned && len(samples) > 0 {
		for k := range samples[0] {
			col := make([]float64, len(samples))
			for i, ss := range samples {
				col[i] = value(&ss[k])
			}
			ticks = append(ticks, samples[0][k].At)
			vals = append(vals, col)
		}
	} else {
		for _, ss := range samples {
			for k := range ss {
				pts = append(pts, point{ss[k].At, value(&ss[k])})
			}
		}
		slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(a.at, b.at) })
		for i := 0; i < len(pts); {
			j := i
			var col []float64
			for ; j < len(pts) && pts[j].at == pts[i].at; j++ {
				col = append(col, pts[j].v)
			}
			ticks = append(ticks, pts[i].at)
			vals = append(vals, col)
			i = j
		}
	}
	qs := []float64{1, 0.9, 0.5, 0}
	lines := make([]Series, len(qs))
	colors := []int{1, 4, 0, 2}
	for j := range qs {
		lines[j] = Series{Name: bandNames[j], Color: Palette(colors[j]), XY: make(plotter.XYs, len(ticks)), Dashed: qs[j] == 0 || qs[j] == 1}
	}
	for k, col := range vals {
		slices.Sort(col)
		for j, q := range qs {
			lines[j].XY[k] = plotter.XY{X: sec(ticks[k]), Y: nearestRank(col, q)}
		}
	}
	return lines
}

// nearestRank is the q-quantile of sorted values: the ceil(q·n)-th
// smallest (the smallest for q = 0).
func nearestRank(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// bandTitle names a banded per-server figure.
func bandTitle(what string, servers int) string {
	return fmt.Sprintf("%s across %d servers (max, p90, median, min)", what, servers)
}
