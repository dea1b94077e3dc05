package results

import (
	"math"
	"math/bits"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Streaming statistics used while recording. Latencies go into
// HdrHistograms: memory stays flat however long the run, and every
// quantile is within the histogram's resolution of the exact one (see
// newLatencyHistogram). The analysis layer (gonum/stat) works on finished
// summaries and on requests.csv.

const (
	// histLowest is the lowest discernible latency: values below it are
	// still recorded, at a resolution of 512 ns.
	histLowest = int64(time.Microsecond)
	// histHighest is the highest trackable latency; longer values are
	// recorded as histHighest and counted as clipped.
	histHighest = int64(time.Hour)
)

// newLatencyHistogram covers 1µs..1h with 3 significant figures: a
// quantile read back is at most 0.1% (or 512 ns, below 1 ms) above the
// exact sample quantile. It takes about 190 KB.
func newLatencyHistogram() *hdr.Histogram { return hdr.New(histLowest, histHighest, 3) }

// newLagHistogram covers 1ns..1h with 3 significant figures for send lag,
// which is often a few microseconds or exactly 0 (simulation): below 2 µs
// values are exact. It takes about 260 KB.
func newLagHistogram() *hdr.Histogram { return hdr.New(1, histHighest, 3) }

// newSecondHistogram is the small per-second histogram of the time
// series: 2 significant figures (1% resolution), about 28 KB, cheap to
// reset every second.
func newSecondHistogram() *hdr.Histogram { return hdr.New(histLowest, histHighest, 2) }

// clampHist brings d into the histogram's range; clipped reports whether
// it had to be shortened (negative values become 0 without counting:
// they are clock noise, not lost data).
func clampHist(d time.Duration) (v int64, clipped bool) {
	switch {
	case d < 0:
		return 0, false
	case int64(d) > histHighest:
		return histHighest, true
	}
	return int64(d), false
}

// quantile reads the q-quantile (0 <= q <= 1) of a latency histogram:
// the highest value equivalent to the sample quantile.
func quantile(h *hdr.Histogram, q float64) time.Duration {
	return time.Duration(h.ValueAtQuantile(q * 100))
}

// quantileIn is quantile kept within the exact extremes [lo, hi] of the
// recorded values, so that a p99 never exceeds the max it sits beside
// and an all-zero series reads 0, not the 511 ns its bucket ends at.
func quantileIn(h *hdr.Histogram, q float64, lo, hi time.Duration) time.Duration {
	return min(max(quantile(h, q), lo), hi)
}

// extremes tracks the exact minimum and maximum of recorded values.
type extremes struct {
	min, max time.Duration
	any      bool
}

func (e *extremes) add(v int64) {
	d := time.Duration(v)
	if !e.any {
		e.min, e.max, e.any = d, d, true
		return
	}
	if d < e.min {
		e.min = d
	}
	if d > e.max {
		e.max = d
	}
}

// durationSum is an exact sum of durations that cannot overflow over any
// realistic run (128 bits: 10^19 requests of an hour each fit).
type durationSum struct{ hi, lo uint64 }

func (s *durationSum) add(d int64) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, uint64(d), 0)
	s.hi += carry
}

// float returns the sum in nanoseconds.
func (s durationSum) float() float64 {
	return float64(s.hi)*0x1p64 + float64(s.lo)
}

// mean is sum / n, 0 when n is 0.
func mean(sum, n float64) float64 {
	if n == 0 {
		return 0
	}
	return sum / n
}

// roundTo rounds x to the given number of decimals, so that a figure
// printed in summary.json does not depend on floating-point noise in its
// last bits. Dividing the rounded integer by an exact power of ten gives
// the double nearest that decimal, which prints as exactly that decimal.
func roundTo(x float64, decimals int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow10(decimals)
	r := math.Round(x*p) / p
	if r == 0 {
		return 0 // no -0 in JSON
	}
	return r
}

// ms converts a duration to milliseconds rounded to microseconds.
func ms(d time.Duration) float64 { return roundTo(float64(d)/1e6, 3) }

// msFloat converts nanoseconds to milliseconds rounded to microseconds.
func msFloat(ns float64) float64 { return roundTo(ns/1e6, 3) }

// ratio rounds a fraction to 6 decimals.
func ratio(x float64) float64 { return roundTo(x, 6) }

// latencyStats reads the summary figures of a latency histogram; mean and
// max are exact (from the sum and extremes kept alongside), quantiles from h.
func latencyStats(h *hdr.Histogram, sum durationSum, e extremes) LatencyStats {
	n := float64(h.TotalCount())
	q := func(p float64) float64 { return ms(quantileIn(h, p, e.min, e.max)) }
	return LatencyStats{
		Mean: msFloat(mean(sum.float(), n)),
		P50:  q(0.50),
		P90:  q(0.90),
		P99:  q(0.99),
		P999: q(0.999),
		Max:  ms(e.max),
	}
}

// delayHist is a sparse histogram of durations (a server's sampled queue
// delays): values below 2048 ns are kept exactly, larger ones in buckets
// 1/1024 of their power of two wide, so a quantile read back is at most
// 0.1% above the exact nearest-rank one. Its size grows with the buckets
// the values fall into (at most 1024 per power of two they span), never
// with their number; the mean and max are exact. Quantiles read the
// buckets in value order, so they do not depend on the map's order.
type delayHist struct {
	counts map[uint32]int64
	n      int64
	sum    durationSum
	ext    extremes
}

// delaySubBits is the bits of a value a bucket keeps: 11, so that a
// bucket's width is under 1/1024 of its values.
const delaySubBits = 11

// delayBucket is the bucket of v; buckets order as their values do.
func delayBucket(v uint64) uint32 {
	if v < 1<<delaySubBits {
		return uint32(v)
	}
	s := bits.Len64(v) - delaySubBits // >= 1
	return uint32(s)<<delaySubBits | uint32(v>>s)
}

// delayBucketTop is the highest value in bucket b.
func delayBucketTop(b uint32) int64 {
	if b < 1<<delaySubBits {
		return int64(b)
	}
	s, m := b>>delaySubBits, uint64(b&(1<<delaySubBits-1))
	return int64((m+1)<<s - 1)
}

// add records d (negative as 0).
func (h *delayHist) add(d time.Duration) {
	v := max(int64(d), 0)
	if h.counts == nil {
		h.counts = make(map[uint32]int64)
	}
	h.counts[delayBucket(uint64(v))]++
	h.n++
	h.sum.add(v)
	h.ext.add(v)
}

// meanNS is the exact mean in nanoseconds, 0 without values.
func (h *delayHist) meanNS() float64 { return mean(h.sum.float(), float64(h.n)) }

// quantile is the q-quantile by nearest rank (the ceil(q·n)-th smallest
// value), read as the highest value of its bucket and kept within the
// exact extremes; 0 without values.
func (h *delayHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := max(int64(math.Ceil(q*float64(h.n))), 1)
	keys := make([]uint32, 0, len(h.counts))
	for k := range h.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var seen int64
	top := keys[len(keys)-1]
	for _, k := range keys {
		if seen += h.counts[k]; seen >= rank {
			top = k
			break
		}
	}
	return min(max(time.Duration(delayBucketTop(top)), h.ext.min), h.ext.max)
}
