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
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
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
	// LogX and LogY draw the axis on a log scale (positive data only).
	LogX, LogY bool
	// Categories, when set, make the X axis nominal: X = i is labelled
	// Categories[i].
	Categories []string
	// Lines are the data series, in legend order.
	Lines []Series
	// HLines are horizontal reference lines (thresholds).
	HLines []Mark
	// VLines are vertical markers (fault times, end of warmup).
	VLines []Mark
	// LegendBottom puts the legend at the bottom right, where a CDF has
	// no data; otherwise it is at the top right, above the data.
	LegendBottom bool
	// ZeroY starts the Y axis at 0 (counts, rates, queue lengths).
	ZeroY bool
}

// Series is one named data series.
type Series struct {
	// Name is the legend entry: a variant, a server, a percentile.
	Name string
	// Color is the series' colour; see Palette.
	Color color.Color
	// XY are the points, in increasing X for lines.
	XY plotter.XYs
	// Points draws markers (with error bars when Lo/Hi are set) instead of
	// a line.
	Points bool
	// Lo and Hi, when set (same length as XY), are each point's interval
	// (confidence interval across replications).
	Lo, Hi []float64
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

// Size of every figure: 8 × 4.5 inches, 768 × 432 pixels in PNG.
const (
	width  = 8 * vg.Inch
	height = 4.5 * vg.Inch
)

// Formats are the file formats every figure is written in.
var Formats = []string{"png", "svg"}

// Plot builds the gonum plot of f.
func (f *Figure) Plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text = f.X
	p.Y.Label.Text = f.Y
	p.Legend.Top = !f.LegendBottom
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	if f.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if f.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	for _, s := range f.Lines {
		if err := addSeries(p, s); err != nil {
			return nil, fmt.Errorf("plots: %s: %s: %w", f.Name, s.Name, err)
		}
	}
	fixRange(&p.X.Min, &p.X.Max, f.LogX)
	fixRange(&p.Y.Min, &p.Y.Max, f.LogY)
	if f.Categories != nil {
		p.NominalX(f.Categories...)
		p.X.Min, p.X.Max = -0.5, float64(len(f.Categories))-0.5
	}
	if f.ZeroY && !f.LogY {
		p.Y.Min = math.Min(p.Y.Min, 0)
		if p.Y.Max <= p.Y.Min {
			p.Y.Max = p.Y.Min + 1
		}
	}
	for _, h := range f.HLines {
		p.Y.Max = math.Max(p.Y.Max, h.At*1.05)
		p.Y.Min = math.Min(p.Y.Min, h.At)
	}
	if !f.LegendBottom && !f.LogY {
		// Headroom above the data for the legend, one row per entry.
		rows := len(f.Lines) + len(f.HLines)
		for _, v := range f.VLines {
			if v.At >= p.X.Min && v.At <= p.X.Max {
				rows++
			}
		}
		p.Y.Max += (p.Y.Max - p.Y.Min) * 0.065 * float64(rows)
	}
	for _, h := range f.HLines {
		l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: h.At}, {X: p.X.Max, Y: h.At}})
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %s: %w", f.Name, h.Label, err)
		}
		l.Color = h.Color
		l.Width = vg.Points(1.5)
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(h.Label, l)
	}
	for _, v := range f.VLines {
		if v.At < p.X.Min || v.At > p.X.Max {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: v.At, Y: p.Y.Min}, {X: v.At, Y: p.Y.Max}})
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %s: %w", f.Name, v.Label, err)
		}
		l.Color = v.Color
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		p.Legend.Add(v.Label, l)
	}
	return p, nil
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

func addSeries(p *plot.Plot, s Series) error {
	if len(s.XY) == 0 {
		return nil
	}
	if s.Points {
		sc, err := plotter.NewScatter(s.XY)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.Color, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add(s.Name, sc)
		if len(s.Lo) == len(s.XY) && len(s.Hi) == len(s.XY) {
			eb, err := plotter.NewYErrorBars(errorPoints{s})
			if err != nil {
				return err
			}
			eb.Color = s.Color
			eb.Width = vg.Points(1.5)
			p.Add(eb)
		}
		return nil
	}
	xy := s.XY
	if len(xy) > MaxLinePoints && !(len(xy) <= maxCDFPoints && monotone(xy)) && (len(s.Lo) != len(s.XY) || len(s.Hi) != len(s.XY)) {
		// Too many points to see: the band they span, column by column.
		poly, err := plotter.NewPolygon(envelopePolygon(Envelope(xy, MaxLinePoints/2)))
		if err != nil {
			return err
		}
		poly.Color = translucent(s.Color)
		poly.LineStyle.Width = 0
		p.Add(poly)
		p.Legend.Add(s.Name, poly)
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = s.Color
	l.Width = vg.Points(1.5)
	if s.Dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	if s.Markers {
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add(s.Name, l, sc)
	} else {
		p.Legend.Add(s.Name, l)
	}
	if len(s.Lo) == len(s.XY) && len(s.Hi) == len(s.XY) {
		eb, err := plotter.NewYErrorBars(errorPoints{s})
		if err != nil {
			return err
		}
		eb.Color = s.Color
		p.Add(eb)
	}
	return nil
}

// translucent is c at 60% opacity (premultiplied), so that overlapping
// bands show each other.
func translucent(c color.Color) color.Color {
	r, g, b, a := c.RGBA()
	const k = 0.6
	return color.RGBA64{uint16(float64(r) * k), uint16(float64(g) * k), uint16(float64(b) * k), uint16(float64(a) * k)}
}

// plainTicks are gonum's default ticks labelled without trailing zeros
// (5, 7.5, 10 rather than 5.00, 7.50, 10.00).
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 10, 64)
		}
	}
	return ts
}

// errorPoints adapts a Series with Lo/Hi to gonum's YErrorer.
type errorPoints struct{ s Series }

func (e errorPoints) Len() int                    { return len(e.s.XY) }
func (e errorPoints) XY(i int) (float64, float64) { return e.s.XY[i].X, e.s.XY[i].Y }
func (e errorPoints) YError(i int) (float64, float64) {
	y := e.s.XY[i].Y
	return y - e.s.Lo[i], e.s.Hi[i] - y
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
	p, err := f.Plot()
	if err != nil {
		return "", err
	}
	wt, err := p.WriterTo(width, height, format)
	if err != nil {
		return "", fmt.Errorf("plots: %s.%s: %w", f.Name, format, err)
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
