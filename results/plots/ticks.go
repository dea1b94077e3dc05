package plots

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// Tick marks. gonum's defaults label about three ticks at steps that
// need not be round for the unit (4, 12, 20 s) and format them with
// trailing zeros or exponents; these label round values in plain
// decimals: 1, 2 or 5 times a power of ten on linear axes, whole
// seconds, minutes or hours on time axes, and 1-2-5 or powers of ten on
// log axes.

// maxTicks bounds the ticks of one axis, against a degenerate range.
const maxTicks = 500

// linearTicks labels about n round values (1, 2 or 5 × 10^k apart: the
// step nearest a range's n-th),
// with unlabelled minor ticks between them.
type linearTicks struct{ n int }

func (t linearTicks) Ticks(min, max float64) []plot.Tick {
	step, div := niceStep((max - min) / float64(t.n))
	return stepTicks(min, max, step, div)
}

// timeTicks label a time axis in seconds at round steps: 1, 2, 5, 10,
// 15, 20 or 30 s, whole minutes or whole hours, about eight labels over
// the range; below a second, 1-2-5 fractions.
type timeTicks struct{}

// timeSteps are the steps of a time axis of seconds, with the minor
// ticks per step.
var timeSteps = []struct{ step, div float64 }{
	{1, 5}, {2, 4}, {5, 5}, {10, 5}, {15, 3}, {20, 4}, {30, 3},
	{60, 4}, {120, 4}, {300, 5}, {600, 5}, {900, 3}, {1200, 4}, {1800, 3},
	{3600, 4}, {7200, 4}, {10800, 3}, {21600, 6}, {43200, 4}, {86400, 4},
}

func (timeTicks) Ticks(min, max float64) []plot.Tick {
	raw := (max - min) / 8
	if raw < 1 {
		step, div := niceStep(raw)
		if step < raw { // at most eight labels
			step, div = niceStep(2.01 * step)
		}
		return stepTicks(min, max, step, div)
	}
	for _, s := range timeSteps {
		if s.step >= raw {
			return stepTicks(min, max, s.step, s.div)
		}
	}
	step, div := niceStep(raw / 86400) // days
	return stepTicks(min, max, step*86400, div)
}

// logTicks label a log axis: over less than a factor of 5, round values
// as on a linear axis (96, 100, ... 140 ms); up to about three decades,
// 1, 2 and 5 × 10^k with minor ticks at the other multiples; beyond,
// the powers of ten.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) || math.IsInf(max, 0) {
		return linearTicks{5}.Ticks(min, max)
	}
	if max/min < 5 {
		return linearTicks{5}.Ticks(min, max)
	}
	decades := math.Log10(max / min)
	labelled := func(m int) bool { return m == 1 || (decades <= 3.2 && (m == 2 || m == 5)) }
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)) && len(ticks) < maxTicks; e++ {
		base := math.Pow10(int(e))
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if labelled(m) {
				t.Label = tickLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// niceStep is the round step (1, 2 or 5 × 10^k) nearest raw (by ratio),
// and how many minor ticks divide it.
func niceStep(raw float64) (step, div float64) {
	if !(raw > 0) || math.IsInf(raw, 0) {
		return 1, 5
	}
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	best := math.Inf(1)
	for _, m := range []struct{ m, div float64 }{{1, 5}, {2, 4}, {5, 5}, {10, 5}} {
		if d := math.Abs(math.Log(m.m * mag / raw)); d < best {
			best, step, div = d, m.m*mag, m.div
		}
	}
	return step, div
}

// stepTicks labels the multiples of step within [min, max], with div-1
// minor ticks between neighbours.
func stepTicks(min, max, step, div float64) []plot.Tick {
	if !(max >= min) || !(step > 0) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	minor := step / div
	if (max-min)/minor > maxTicks {
		minor = step
		div = 1
	}
	if (max-min)/step > maxTicks {
		return []plot.Tick{{Value: min, Label: tickLabel(min)}, {Value: max, Label: tickLabel(max)}}
	}
	var ticks []plot.Tick
	for k := math.Ceil(min/minor - 1e-9); k*minor <= max+minor*1e-9; k++ {
		v := k * minor
		if math.Abs(v) < minor*1e-9 {
			v = 0
		}
		t := plot.Tick{Value: v}
		if r := math.Mod(k, div); math.Abs(r) < 1e-9 || math.Abs(math.Abs(r)-div) < 1e-9 {
			t.Label = tickLabel(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// tickLabel writes a tick's value as a plain decimal (0.3, 20, 36000),
// without trailing zeros, exponent or floating-point noise.
func tickLabel(v float64) string {
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v, 'g', 12, 64)
	if strings.ContainsRune(s, 'e') {
		f, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}
