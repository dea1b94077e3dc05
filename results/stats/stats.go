// Package stats is the statistics of redirlab's analysis, on top of
// gonum.org/v1/gonum/stat: sample means and quantiles, 95% confidence
// intervals across replications (Student t), and the difference between
// two conditions with its interval (Welch) and a significance verdict.
//
// Everything here is pure: slices in, numbers out. It reads no files.
package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level used throughout redirlab's reports.
const Level = 0.95

// Mean is the arithmetic mean of x, NaN when x is empty.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return stat.Mean(x, nil)
}

// Quantile is the p-quantile (0 <= p <= 1) of sorted, by the empirical
// definition (gonum's stat.Empirical): the smallest sample x such that at
// least a fraction p of the samples are <= x. With n samples that is the
// sample of rank ceil(p·n) (1-based; rank 1 for p = 0). It is the same
// definition HdrHistogram uses for summary.json, so a quantile computed
// here from requests.csv agrees with the summary within the histogram's
// resolution. It never interpolates: every quantile is an observed
// latency. Quantile returns NaN for an empty slice or p outside [0, 1];
// sorted must be in increasing order.
func Quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	return stat.Quantile(p, stat.Empirical, sorted, nil)
}

// Summary describes one sample: the figures of summary.json's latency_ms.
type Summary struct {
	N                             int
	Mean                          float64
	P50, P90, P99, P999, Min, Max float64
}

// Describe summarises x (which it does not modify). All figures are NaN
// for an empty x.
func Describe(x []float64) Summary {
	if len(x) == 0 {
		nan := math.NaN()
		return Summary{Mean: nan, P50: nan, P90: nan, P99: nan, P999: nan, Min: nan, Max: nan}
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return Summary{
		N:    len(s),
		Mean: Mean(s),
		P50:  Quantile(s, 0.50),
		P90:  Quantile(s, 0.90),
		P99:  Quantile(s, 0.99),
		P999: Quantile(s, 0.999),
		Min:  s[0],
		Max:  s[len(s)-1],
	}
}

// TQuantile is the p-quantile of Student's t distribution with df degrees
// of freedom (gonum's distuv.StudentsT). For a two-sided interval at
// level L use TQuantile((1+L)/2, df).
func TQuantile(p, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// Interval is a mean with its confidence interval [Lo, Hi]. With fewer
// than two observations there is no interval: Lo == Hi == Mean and
// HasCI reports false.
type Interval struct {
	// Mean is the sample mean.
	Mean float64
	// Lo and Hi bound the interval.
	Lo, Hi float64
	// N is the number of observations (replications).
	N int
	// Level is the confidence level, 0 without an interval.
	Level float64
}

// HasCI reports whether the interval was estimated (N >= 2).
func (iv Interval) HasCI() bool { return iv.N >= 2 && iv.Level > 0 }

// HalfWidth is half the interval's width (0 without an interval).
func (iv Interval) HalfWidth() float64 { return (iv.Hi - iv.Lo) / 2 }

// MeanCI is the mean of x with its two-sided confidence interval at the
// given level (0.95 for 95%), by Student's t with n-1 degrees of freedom:
// mean ± t((1+level)/2, n-1) · s/√n, s the sample standard deviation. It
// assumes the observations are independent and roughly normal, which
// holds for per-replication means and quantiles of runs with different
// seeds. An empty x gives NaN figures; one observation gives no interval.
func MeanCI(x []float64, level float64) Interval {
	n := len(x)
	switch n {
	case 0:
		nan := math.NaN()
		return Interval{Mean: nan, Lo: nan, Hi: nan}
	case 1:
		return Interval{Mean: x[0], Lo: x[0], Hi: x[0], N: 1}
	}
	m, v := stat.MeanVariance(x, nil)
	h := TQuantile((1+level)/2, float64(n-1)) * math.Sqrt(v/float64(n))
	return Interval{Mean: m, Lo: m - h, Hi: m + h, N: n, Level: level}
}

// Difference is B - A between two conditions, with its confidence
// interval.
type Difference struct {
	// Delta is mean(B) - mean(A).
	Delta float64
	// Lo and Hi bound Delta's interval.
	Lo, Hi float64
	// DF is the Welch–Satterthwaite degrees of freedom (+Inf when both
	// samples have zero variance).
	DF float64
	// Relative is Delta / mean(A) (NaN when mean(A) is 0).
	Relative float64
	// Level is the confidence level, 0 when there is no interval (a
	// sample with fewer than two observations).
	Level float64
}

// HasCI reports whether the difference has an interval.
func (d Difference) HasCI() bool { return d.Level > 0 }

// Significant reports whether the interval excludes 0. A difference
// without an interval is never significant.
func (d Difference) Significant() bool { return d.HasCI() && (d.Lo > 0 || d.Hi < 0) }

// Verdict words the significance of d for tables: "significant", "not
// significant" (the interval contains 0), or "no CI" (too few
// replications to tell).
func (d Difference) Verdict() string {
	switch {
	case !d.HasCI():
		return "no CI"
	case d.Significant():
		return "significant"
	}
	return "not significant"
}

// Welch is the difference mean(b) - mean(a) with its two-sided interval
// at the given level, by Welch's unequal-variance t interval:
//
//	se² = s_a²/n_a + s_b²/n_b
//	df  = se⁴ / ((s_a²/n_a)²/(n_a-1) + (s_b²/n_b)²/(n_b-1))
//	Δ ± t((1+level)/2, df) · se
//
// When either sample has fewer than two observations there is no
// interval (Level 0). When both variances are 0 the interval is the
// point Δ.
func Welch(a, b []float64, level float64) Difference {
	ma, mb := Mean(a), Mean(b)
	d := Difference{Delta: mb - ma, Relative: math.NaN()}
	if ma != 0 {
		d.Relative = d.Delta / ma
	}
	d.Lo, d.Hi = d.Delta, d.Delta
	na, nb := float64(len(a)), float64(len(b))
	if len(a) < 2 || len(b) < 2 {
		return d
	}
	qa := stat.Variance(a, nil) / na
	qb := stat.Variance(b, nil) / nb
	se2 := qa + qb
	d.Level = level
	if se2 == 0 {
		d.DF = math.Inf(1)
		return d
	}
	d.DF = se2 * se2 / (qa*qa/(na-1) + qb*qb/(nb-1))
	h := TQuantile((1+level)/2, d.DF) * math.Sqrt(se2)
	d.Lo, d.Hi = d.Delta-h, d.Delta+h
	return d
}
