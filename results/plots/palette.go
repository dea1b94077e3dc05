package plots

import "image/color"

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

// Palette is the colour of the i-th variant (or server): variants keep
// their colour in every figure because every figure orders them the same
// way, the order of the scenario's variants (base first), which is the
// order of the runs handed to Compare and of SweepTable.Variants. Beyond
// the palette's length colours repeat.
func Palette(i int) color.Color {
	if i < 0 {
		i = -i
	}
	return palette[i%len(palette)]
}
