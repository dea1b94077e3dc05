// Package plots draws redirlab's figures with gonum.org/v1/plot, as PNG
// and SVG, from the files of a results directory only: drawing the same
// directory twice gives the same figures, so `redirlab plot DIR` redraws
// what a run drew.
//
// Every figure is first computed as a Figure (its data series, reference
// lines and labels) by a pure function of the saved data, then rendered.
// Tests check the Figures; rendering is gonum/plot's business.
package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/redirlab/redirlab/results/internal/par"
	"github.com/redirlab/redirlab/results/internal/tempfile"
)

// Figure is one plot, described by its data.
type Figure struct {
	// Name is the file name without extension (latency-cdf): the figure
	// is written as Name.png and Name.svg.
	Name string
	// Title, X and Y label the plot; axis labels carry units.
	Title, X, Y string
	// LogX and LogY draw the axis on a log scale (positive data only:
	// points at or below 0 are left out).
	LogX, LogY bool
	// TimeX marks the X axis as a time in seconds: its ticks fall on
	// round seconds, minutes or hours.
	TimeX bool
	// Categories, when set, make the X axis nominal: X = i is labelled
	// Categories[i].
	Categories []string
	// Lines are the data series, in legend order.
	Lines []Series
	// HLines are horizontal reference lines (thresholds).
	HLines []Mark
	// VLines are vertical markers (the end of the warmup).
	VLines []Mark
	// Spans are shaded stretches of the X axis (faults), drawn under the
	// data: a solid line where each starts, a dashed one where it ends.
	Spans []Span
	// ZeroY starts the Y axis at 0 (counts, rates, queue lengths).
	ZeroY bool
	// YMin and YMax, when YMax > YMin, fix the Y axis (a CDF's [0, 1]).
	YMin, YMax float64
	// NoLegend draws no legend: the categories or the points' labels
	// name the series. Otherwise the legend is drawn below the plot,
	// never over the data.
	NoLegend bool
}

// Series is one named data series.
type Series struct {
	// Name is the series: a variant, a server, a percentile. It is the
	// legend entry unless Legend is set.
	Name string
	// Legend, when set, is the legend entry instead of Name (a CDF's
	// "base: 99.1% of sent completed").
	Legend string
	// Color is the series' colour; see Palette.
	Color color.Color
	// XY are the points, in increasing X for lines.
	XY plotter.XYs
	// Points draws markers (with error bars when Lo/Hi are set) instead of
	// a line.
	Points bool
	// Lo and Hi, when set (same length as XY), are each point's interval
	// in Y (confidence interval across replications).
	Lo, Hi []float64
	// XLo and XHi, when set (same length as XY), are each point's
	// interval in X.
	XLo, XHi []float64
	// Labels, when set (same length as XY), are written beside the
	// points, placed where they overlap neither each other nor a point.
	Labels []string
	// Dashed draws a dashed line.
	Dashed bool
	// Markers marks each point of a line (sweeps: where the runs are).
	Markers bool
}

// Mark is a labelled reference line at a position on one axis.
type Mark struct {
	Label string
	At    float64
	Color color.Color
}

// Span is a labelled stretch of the X axis, from From to To; Open when
// it lasts to the end of the run (To is then +Inf), so it has no end.
type Span struct {
	Label    string
	From, To float64
	Open     bool
}

// Size of every figure: 8 × 4.5 inches, 768 × 432 pixels in PNG.
const (
	width  = 8 * vg.Inch
	height = 4.5 * vg.Inch
)

// Formats are the file formats every figure is written in.
var Formats = []string{"png", "svg"}

// Styles shared by the figures.
var (
	// spanFill shades a fault: grey, translucent, so that overlapping
	// faults show darker and the data above stays legible.
	spanFill = color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0x40}
	// spanStart and spanEnd mark where a fault starts (solid) and ends
	// (dashed).
	spanStart = draw.LineStyle{Color: faultColor, Width: vg.Points(1)}
	spanEnd   = draw.LineStyle{Color: faultColor, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}
)

// textStyle is the plain text style of size pt.
func textStyle(pt float64) text.Style {
	return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(pt)), Handler: plot.DefaultTextHandler}
}

// legendEntry is one entry of the legend drawn below a figure.
type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// Plot builds the gonum plot of f, with an empty legend: Draw lays the
// legend out below it.
func (f *Figure) Plot() (*plot.Plot, error) {
	p, _, err := f.build()
	return p, err
}

// build is Plot and the legend's entries.
func (f *Figure) build() (*plot.Plot, []legendEntry, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = f.X
	p.Y.Label.Text = f.Y
	p.Y.Label.Padding = vg.Points(3) // from the tick labels
	p.X.Tick.Marker = linearTicks{8}
	p.Y.Tick.Marker = linearTicks{5}
	if f.TimeX {
		p.X.Tick.Marker = timeTicks{}
	}
	if f.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if f.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	var legend []legendEntry
	add := func(name string, thumbs ...plot.Thumbnailer) {
		legend = append(legend, legendEntry{name, thumbs})
	}
	p.Add(plotter.NewGrid())
	// Spans first, under the data; they take the axes' range when drawn.
	// Their legend entries come last.
	var spans []legendEntry
	for _, s := range f.Spans {
		v := &span{s}
		p.Add(v)
		spans = append(spans, legendEntry{s.Label, []plot.Thumbnailer{v}})
	}
	floor := f.logFloor()
	var labelled []labelledPoint
	var obstacles []Series
	for _, s := range f.Lines {
		s = f.positive(s, floor)
		name := s.Name
		if s.Legend != "" {
			name = s.Legend
		}
		thumbs, err := addSeries(p, s)
		if err != nil {
			return nil, nil, fmt.Errorf("plots: %s: %s: %w", f.Name, s.Name, err)
		}
		if len(thumbs) > 0 {
			add(name, thumbs...)
		}
		if s.Points {
			obstacles = append(obstacles, s)
		}
		if len(s.Labels) == len(s.XY) {
			for i, xy := range s.XY {
				labelled = append(labelled, labelledPoint{xy, s.Labels[i]})
			}
		}
	}
	fixRange(&p.X.Min, &p.X.Max, f.LogX)
	fixRange(&p.Y.Min, &p.Y.Max, f.LogY)
	if f.Categories != nil {
		p.NominalX(f.Categories...)
		p.X.Min, p.X.Max = -0.5, float64(len(f.Categories))-0.5
	} else if f.onlyPoints() {
		// Room around scattered points (and their labels).
		padRange(&p.X.Min, &p.X.Max, f.LogX, 0.08)
	}
	if f.onlyPoints() {
		padRange(&p.Y.Min, &p.Y.Max, f.LogY, 0.08)
	}
	if f.ZeroY && !f.LogY {
		p.Y.Min = math.Min(p.Y.Min, 0)
		if p.Y.Max <= p.Y.Min {
			p.Y.Max = p.Y.Min + 1
		}
	}
	for _, h := range f.HLines {
		if f.LogY && h.At <= 0 {
			continue
		}
		p.Y.Max = math.Max(p.Y.Max, h.At*1.05)
		p.Y.Min = math.Min(p.Y.Min, h.At)
	}
	if f.YMax > f.YMin {
		p.Y.Min, p.Y.Max = f.YMin, f.YMax
	} else if !f.onlyPoints() {
		// Headroom: the highest point of a line below the frame.
		lo := p.Y.Min
		padRange(&lo, &p.Y.Max, f.LogY, 0.04)
	}
	for _, h := range f.HLines {
		if f.LogY && h.At <= 0 {
			continue
		}
		l := &refLine{at: h.At, horizontal: true, style: draw.LineStyle{Color: h.Color, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}}
		p.Add(l)
		add(h.Label, l)
	}
	for _, v := range f.VLines {
		if v.At < p.X.Min || v.At > p.X.Max {
			continue
		}
		l := &refLine{at: v.At, style: draw.LineStyle{Color: v.Color, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}}
		p.Add(l)
		add(v.Label, l)
	}
	if len(labelled) > 0 {
		p.Add(&pointLabels{points: labelled, obstacles: obstacles, style: textStyle(10)})
	}
	legend = append(legend, spans...)
	if f.NoLegend {
		legend = nil
	}
	return p, legend, nil
}

// onlyPoints reports whether every series is drawn as points.
func (f *Figure) onlyPoints() bool {
	for _, s := range f.Lines {
		if !s.Points {
			return false
		}
	}
	return len(f.Lines) > 0
}

// logFloor is where error bars that reach 0 or below end on a log Y
// axis: under the lowest positive value drawn. 0 on a linear axis.
func (f *Figure) logFloor() float64 {
	if !f.LogY {
		return 0
	}
	lo := math.Inf(1)
	for _, s := range f.Lines {
		for i, p := range s.XY {
			if p.Y > 0 {
				lo = math.Min(lo, p.Y)
			}
			if i < len(s.Lo) && s.Lo[i] > 0 {
				lo = math.Min(lo, s.Lo[i])
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 0
	}
	return lo / 1.5
}

// positive leaves out the points a log axis cannot show (at or below 0)
// and ends error bars below 0 at floor.
func (f *Figure) positive(s Series, floor float64) Series {
	if !f.LogX && !f.LogY {
		return s
	}
	keep := func(p plotter.XY) bool { return (!f.LogX || p.X > 0) && (!f.LogY || p.Y > 0) }
	out := s
	out.XY, out.Labels = nil, nil
	withLo, withHi := len(s.Lo) == len(s.XY), len(s.Hi) == len(s.XY)
	withXLo, withXHi := len(s.XLo) == len(s.XY), len(s.XHi) == len(s.XY)
	withLabels := len(s.Labels) == len(s.XY)
	out.Lo, out.Hi, out.XLo, out.XHi = nil, nil, nil, nil
	for i, p := range s.XY {
		if !keep(p) {
			continue
		}
		out.XY = append(out.XY, p)
		if withLo {
			lo := s.Lo[i]
			if f.LogY && lo <= 0 {
				lo = floor
			}
			out.Lo = append(out.Lo, lo)
		}
		if withHi {
			out.Hi = append(out.Hi, s.Hi[i])
		}
		if withXLo {
			lo := s.XLo[i]
			if f.LogX && lo <= 0 {
				lo = p.X / 10
			}
			out.XLo = append(out.XLo, lo)
		}
		if withXHi {
			out.XHi = append(out.XHi, s.XHi[i])
		}
		if withLabels {
			out.Labels = append(out.Labels, s.Labels[i])
		}
	}
	return out
}

// fixRange gives an axis without data (a run with no completed request)
// a range gonum can draw: [0, 1], or [1, 10] on a log scale.
func fixRange(lo, hi *float64, log bool) {
	if math.IsInf(*lo, 0) || math.IsInf(*hi, 0) || *lo > *hi {
		*lo, *hi = 0, 1
		if log {
			*lo, *hi = 1, 10
		}
	}
	if log && *lo <= 0 {
		*lo = math.Min(*hi, 1) / 10
	}
}

// padRange widens [lo, hi] by frac of its span on each side (of its
// decades on a log scale); a single value gets a span around it.
func padRange(lo, hi *float64, log bool, frac float64) {
	if log {
		a, b := math.Log10(*lo), math.Log10(*hi)
		d := math.Max(b-a, 0.2)
		*lo, *hi = math.Pow(10, a-frac*d), math.Pow(10, b+frac*d)
		return
	}
	d := *hi - *lo
	if d <= 0 {
		d = math.Max(math.Abs(*hi), 1)
	}
	*lo, *hi = *lo-frac*d, *hi+frac*d
}

// addSeries adds s to p and returns its legend thumbnails (none for an
// empty series).
func addSeries(p *plot.Plot, s Series) ([]plot.Thumbnailer, error) {
	if len(s.XY) == 0 {
		return nil, nil
	}
	if s.Points {
		sc, err := plotter.NewScatter(s.XY)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.Color, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		if len(s.Lo) == len(s.XY) && len(s.Hi) == len(s.XY) {
			eb, err := plotter.NewYErrorBars(errorPoints{s})
			if err != nil {
				return nil, err
			}
			eb.Color = s.Color
			eb.Width = vg.Points(1.5)
			p.Add(eb)
		}
		if len(s.XLo) == len(s.XY) && len(s.XHi) == len(s.XY) {
			eb, err := plotter.NewXErrorBars(errorPoints{s})
			if err != nil {
				return nil, err
			}
			eb.Color = s.Color
			eb.Width = vg.Points(1.5)
			p.Add(eb)
		}
		p.Add(sc)
		return []plot.Thumbnailer{sc}, nil
	}
	xy := s.XY
	if len(xy) > MaxLinePoints && !(len(xy) <= maxCDFPoints+1 && monotone(xy)) && (len(s.Lo) != len(s.XY) || len(s.Hi) != len(s.XY)) {
		// Too many points to see: the band they span, column by column.
		poly, err := plotter.NewPolygon(envelopePolygon(Envelope(xy, MaxLinePoints/2)))
		if err != nil {
			return nil, err
		}
		poly.Color = translucent(s.Color)
		poly.LineStyle.Width = 0
		p.Add(poly)
		return []plot.Thumbnailer{poly}, nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color = s.Color
	l.Width = vg.Points(1.5)
	if s.Dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	thumbs := []plot.Thumbnailer{l}
	if s.Markers {
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		thumbs = append(thumbs, sc)
	}
	if len(s.Lo) == len(s.XY) && len(s.Hi) == len(s.XY) {
		eb, err := plotter.NewYErrorBars(errorPoints{s})
		if err != nil {
			return nil, err
		}
		eb.Color = s.Color
		p.Add(eb)
	}
	return thumbs, nil
}

// translucent is c at 60% opacity (premultiplied), so that overlapping
// bands show each other.
func translucent(c color.Color) color.Color {
	r, g, b, a := c.RGBA()
	const k = 0.6
	return color.RGBA64{uint16(float64(r) * k), uint16(float64(g) * k), uint16(float64(b) * k), uint16(float64(a) * k)}
}

// errorPoints adapts a Series with Lo/Hi (XLo/XHi) to gonum's YErrorer
// (XErrorer).
type errorPoints struct{ s Series }

func (e errorPoints) Len() int                    { return len(e.s.XY) }
func (e errorPoints) XY(i int) (float64, float64) { return e.s.XY[i].X, e.s.XY[i].Y }
func (e errorPoints) YError(i int) (float64, float64) {
	y := e.s.XY[i].Y
	return y - e.s.Lo[i], e.s.Hi[i] - y
}
func (e errorPoints) XError(i int) (float64, float64) {
	x := e.s.XY[i].X
	return x - e.s.XLo[i], e.s.XHi[i] - x
}

// span draws a Span across the data area: shaded, a solid line at its
// start and a dashed one at its end, within the X axis' range as drawn.
type span struct{ s Span }

func (v *span) Plot(c draw.Canvas, p *plot.Plot) {
	from, to := math.Max(v.s.From, p.X.Min), math.Min(v.s.To, p.X.Max)
	if from > to {
		return
	}
	tx, _ := p.Transforms(&c)
	x0, x1 := tx(from), tx(to)
	c.FillPolygon(spanFill, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x0, Y: c.Max.Y}, {X: x1, Y: c.Max.Y}, {X: x1, Y: c.Min.Y}})
	if v.s.From >= p.X.Min {
		c.StrokeLine2(spanStart, x0, c.Min.Y, x0, c.Max.Y)
	}
	if !v.s.Open && v.s.To <= p.X.Max {
		c.StrokeLine2(spanEnd, x1, c.Min.Y, x1, c.Max.Y)
	}
}

// Thumbnail is the span in small: shaded, solid at the left (start),
// dashed at the right (end).
func (v *span) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(spanFill, []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}})
	c.StrokeLine2(spanStart, r.Min.X, r.Min.Y, r.Min.X, r.Max.Y)
	if !v.s.Open {
		c.StrokeLine2(spanEnd, r.Max.X, r.Min.Y, r.Max.X, r.Max.Y)
	}
}

// refLine is a reference line across the data area at a value of one
// axis (Y when horizontal, else X), whatever the other axis' range.
type refLine struct {
	at         float64
	horizontal bool
	style      draw.LineStyle
}

func (l *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	if l.horizontal {
		y := ty(l.at)
		c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
		return
	}
	x := tx(l.at)
	c.StrokeLine2(l.style, x, c.Min.Y, x, c.Max.Y)
}

func (l *refLine) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}

// labelledPoint is a point with its label.
type labelledPoint struct {
	xy    plotter.XY
	label string
}

// pointLabels writes each label beside its point: to the right if it
// fits there, else left, above, below or diagonally, wherever it
// overlaps no other label and no point and stays in the data area (the
// least overlap when nowhere is free). Placement is in label order, so
// it is deterministic.
type pointLabels struct {
	points    []labelledPoint
	obstacles []Series // their points and error bars
	style     text.Style
}

func (l *pointLabels) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	const r = 4 // glyph radius, points
	gap := vg.Points(r + 3)
	var taken []vg.Rectangle
	box := func(x0, y0, x1, y1 vg.Length) vg.Rectangle {
		return vg.Rectangle{Min: vg.Point{X: min(x0, x1), Y: min(y0, y1)}, Max: vg.Point{X: max(x0, x1), Y: max(y0, y1)}}
	}
	bar := vg.Points(3) // an error bar's thickness, its caps included
	for _, s := range l.obstacles {
		for i, q := range s.XY {
			x, y := tx(q.X), ty(q.Y)
			taken = append(taken, box(x-vg.Points(r), y-vg.Points(r), x+vg.Points(r), y+vg.Points(r)))
			if i < len(s.Lo) && i < len(s.Hi) {
				taken = append(taken, box(x-bar, ty(s.Lo[i]), x+bar, ty(s.Hi[i])))
			}
			if i < len(s.XLo) && i < len(s.XHi) {
				taken = append(taken, box(tx(s.XLo[i]), y-bar, tx(s.XHi[i]), y+bar))
			}
		}
	}
	at := make([]vg.Point, len(l.points))
	sizes := make([]vg.Point, len(l.points))
	origins := make([]vg.Rectangle, len(l.points))
	for i, lp := range l.points {
		at[i] = vg.Point{X: tx(lp.xy.X), Y: ty(lp.xy.Y)}
		origins[i] = l.style.Rectangle(lp.label) // relative to the text's origin
		sizes[i] = origins[i].Size()
	}
	for i, r := range placeLabels(at, sizes, taken, c.Rectangle, gap) {
		c.FillText(l.style, r.Min.Sub(origins[i].Min), l.points[i].label)
	}
}

// placeLabels places a box of each size beside its point, in order: the
// first of right, left, above, below and the four diagonals (gap away)
// that stays within bounds and overlaps neither taken nor a box placed
// before it, else the one overlapping least.
func placeLabels(at, sizes []vg.Point, taken []vg.Rectangle, bounds vg.Rectangle, gap vg.Length) []vg.Rectangle {
	taken = slices.Clone(taken)
	out := make([]vg.Rectangle, len(at))
	for i, p := range at {
		x, y, w, h := p.X, p.Y, sizes[i].X, sizes[i].Y
		// Lower-left corners of the candidate boxes.
		cands := []vg.Point{
			{X: x + gap, Y: y - h/2},           // right
			{X: x - gap - w, Y: y - h/2},       // left
			{X: x - w/2, Y: y + gap},           // above
			{X: x - w/2, Y: y - gap - h},       // below
			{X: x + gap, Y: y + gap/2},         // upper right
			{X: x + gap, Y: y - gap/2 - h},     // lower right
			{X: x - gap - w, Y: y + gap/2},     // upper left
			{X: x - gap - w, Y: y - gap/2 - h}, // lower left
		}
		var best vg.Rectangle
		bestCost := math.Inf(1)
		for _, ll := range cands {
			rect := vg.Rectangle{Min: ll, Max: vg.Point{X: ll.X + w, Y: ll.Y + h}}
			cost := 0.0
			if rect.Min.X < bounds.Min.X || rect.Max.X > bounds.Max.X || rect.Min.Y < bounds.Min.Y || rect.Max.Y > bounds.Max.Y {
				cost += 1e9
			}
			for _, t := range taken {
				cost += overlap(rect, t)
			}
			if cost < bestCost {
				best, bestCost = rect, cost
			}
			if cost == 0 {
				break
			}
		}
		taken = append(taken, best)
		out[i] = best
	}
	return out
}

// overlap is the area two rectangles share.
func overlap(a, b vg.Rectangle) float64 {
	w := math.Min(float64(a.Max.X), float64(b.Max.X)) - math.Max(float64(a.Min.X), float64(b.Min.X))
	h := math.Min(float64(a.Max.Y), float64(b.Max.Y)) - math.Max(float64(a.Min.Y), float64(b.Min.Y))
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// Draw draws f onto c: the plot, and its legend below the data area.
func (f *Figure) Draw(c draw.Canvas) error {
	p, legend, err := f.build()
	if err != nil {
		return err
	}
	c = draw.Crop(c, vg.Points(4), -vg.Points(8), vg.Points(4), -vg.Points(4))
	area := c // the plot's: c less the legend and a Y label drawn here
	var ylabel func()
	if f.LogY && p.Y.Label.Text != "" {
		// gonum pads a log axis for its label as if the label sat at
		// the arithmetic middle of the range, near the top: a wide gap
		// under the title. The label is drawn here, where gonum would.
		sty := p.Y.Label.TextStyle
		label := p.Y.Label.Text
		p.Y.Label.Text = ""
		sty.Rotation += math.Pi / 2
		h := p.Y.Label.TextStyle.Height(label)
		x := c.Min.X + h - p.Y.Label.TextStyle.FontExtents().Descent
		area = draw.Crop(area, h+p.Y.Label.TextStyle.FontExtents().Descent+p.Y.Label.Padding, 0, 0, 0)
		ylabel = func() {
			dc := p.DataCanvas(area)
			c.FillText(sty, vg.Point{X: x, Y: dc.Center().Y}, label)
		}
	}
	if len(legend) > 0 {
		// The legend flows like text under the data area: entries left
		// to right, each as wide as it needs, on as many rows as it
		// takes.
		sty := textStyle(10)
		thumb := vg.Points(20)
		em := sty.Rectangle(" ").Max.X
		var rowH vg.Length
		widths := make([]vg.Length, len(legend))
		for i, e := range legend {
			r := sty.Rectangle(e.name)
			widths[i] = thumb + em + r.Max.X - r.Min.X + vg.Points(14)
			rowH = max(rowH, r.Max.Y-r.Min.Y)
		}
		rowH += vg.Points(3)
		left := p.DataCanvas(area).Min.X
		type place struct {
			x   vg.Length
			row int
		}
		places := make([]place, len(legend))
		x, row := left, 0
		for i, w := range widths {
			if x > left && x+w > c.Max.X {
				x, row = left, row+1
			}
			places[i] = place{x, row}
			x += w
		}
		legH := vg.Length(row+1)*rowH + vg.Points(6)
		area = draw.Crop(area, 0, 0, legH, 0)
		top := c.Min.Y + legH - vg.Points(4)
		for i, e := range legend {
			leg := plot.NewLegend()
			leg.TextStyle = sty
			leg.Left, leg.Top = true, true
			leg.ThumbnailWidth = thumb
			leg.Add(e.name, e.thumbs...)
			y := top - vg.Length(places[i].row)*rowH
			leg.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: places[i].x, Y: y - rowH},
				Max: vg.Point{X: places[i].x + widths[i], Y: y},
			}})
		}
	}
	p.Draw(area)
	if ylabel != nil {
		ylabel()
	}
	return nil
}

// Write renders f into dir as Name.png and Name.svg and returns the
// paths written. Each file is written whole to a temporary name and
// renamed, so a reader never sees half a figure.
func (f *Figure) Write(dir string) (files []string, err error) {
	files, errs := writeFigures(dir, []Figure{*f}, par.New(0, nil))
	return files, errs
}

// render draws f in one format into a file of dir.
func (f *Figure) render(dir, format string, w *par.Writing) (file string, err error) {
	// gonum/plot panics on some degenerate inputs; a figure that cannot
	// be drawn is an error, never a crash of the run that asked for it.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: %s: drawing failed: %v", f.Name, r)
		}
	}()
	// Each format draws its own plot, so that formats can be drawn at
	// once without sharing gonum's state.
	wt, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return "", fmt.Errorf("plots: %s.%s: %w", f.Name, format, err)
	}
	if err := f.Draw(draw.New(wt)); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("plots: %s.%s: %w", f.Name, format, err)
	}
	name := f.Name + "." + format
	if err := writeFileAtomic(dir, name, buf.Bytes()); err != nil {
		return "", err
	}
	file = filepath.Join(dir, name)
	w.Wrote(file)
	return file, nil
}

// writeFigures writes every figure in every format, as many at once as w
// allows, and returns the files written in figure then format order
// whatever order they finish in; it carries on past a failed figure and
// joins the errors (in the same order).
func writeFigures(dir string, figs []Figure, w *par.Writing) ([]string, error) {
	n := len(Formats)
	files := make([]string, len(figs)*n)
	errs := make([]error, len(figs)*n)
	w.EachUnlessStopped(len(files), func(i int) {
		files[i], errs[i] = figs[i/n].render(dir, Formats[i%n], w)
	})
	var out []string
	for _, f := range files {
		if f != "" {
			out = append(out, f)
		}
	}
	return out, errors.Join(errs...)
}

func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := tempfile.Create(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("plots: writing %s: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("plots: closing %s: %w", name, err)
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
