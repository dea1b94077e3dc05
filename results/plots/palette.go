package plots

import (
	"image/color"
	"slices"

	"github.com/redirlab/redirlab/results"
)

// palette is Okabe and Ito's colour-blind-safe set (black moved last, as
// it is kept for reference lines), then darker tones for long lists.
var palette = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0xF0, 0xE4, 0x42, 0xff}, // yellow
	{0x66, 0x66, 0x66, 0xff}, // grey
	{0x1B, 0x3A, 0x6B, 0xff}, // navy
	{0x8C, 0x2D, 0x04, 0xff}, // brown
	{0x3B, 0x7A, 0x1E, 0xff}, // dark green
	{0x6A, 0x3D, 0x9A, 0xff}, // purple
}

// Colors of reference lines, apart from the series' palette.
var (
	thresholdColor = color.RGBA{0xC0, 0x00, 0x00, 0xff}
	faultColor     = color.RGBA{0x30, 0x30, 0x30, 0xff}
	warmupColor    = color.RGBA{0x99, 0x99, 0x99, 0xff}
)

// Palette is the colour of index i: a variant's is its place in its
// scenario's variant list, base first (RunColors, VariantColor), so it
// has the same colour in every figure whichever variants were run; a
// server's is its index. Beyond the palette's length colours repeat.
func Palette(i int) color.Color {
	if i < 0 {
		i = -i
	}
	return palette[i%len(palette)]
}

// RunColors is the palette index of each run drawn together, by the
// run's first summary: when every run is a variant of one scenario
// whose summaries list the same variants (results.Summary.Variants) and
// no variant is drawn twice, each run's place in that list; otherwise
// (runs of different scenarios, summaries that do not list their
// variants, a variant twice) the order the runs are given in.
func RunColors(sums [][]*results.Summary) []int {
	idx := make([]int, len(sums))
	for i := range idx {
		idx[i] = i
	}
	var first *results.Summary
	byList := make([]int, len(sums))
	seen := map[int]bool{}
	for i, ss := range sums {
		if len(ss) == 0 || ss[0] == nil {
			return idx
		}
		s := ss[0]
		k, ok := s.ColorIndex()
		if first == nil {
			first = s
		}
		if !ok || seen[k] || s.Scenario != first.Scenario || !slices.Equal(s.Variants, first.Variants) {
			return idx
		}
		seen[k] = true
		byList[i] = k
	}
	return byList
}

// VariantColor is the palette index of the single run in dir whose
// summary is s: its place in its scenario's variant list when s lists
// it, else its place in the comparison.csv above it (VariantIndex).
func VariantColor(dir string, s *results.Summary) int {
	if k, ok := s.ColorIndex(); ok {
		return k
	}
	return VariantIndex(dir)
}
