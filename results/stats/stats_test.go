package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestQuantileDefinition(t *testing.T) {
	x := []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	for _, tc := range []struct {
		p, want float64
	}{
		{0, 10},     // p=0 is the minimum
		{0.1, 10},   // rank ceil(0.1·10)=1
		{0.15, 20},  // rank ceil(1.5)=2: never interpolates
		{0.5, 50},   // rank 5: the lower median for even n
		{0.51, 60},  // just past the half: rank 6
		{0.99, 100}, // rank ceil(9.9)=10
		{1, 100},    // p=1 is the maximum
	} {
		if got := Quantile(x, tc.p); got != tc.want {
			t.Errorf("Quantile(p=%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) || !math.IsNaN(Quantile(x, 1.5)) || !math.IsNaN(Quantile(x, math.NaN())) {
		t.Error("empty slice or p outside [0,1] must give NaN")
	}
}

// naiveQuantile is the definition written out: the sample of rank
// ceil(p·n), rank 1 for p=0.
func naiveQuantile(sorted []float64, p float64) float64 {
	r := int(math.Ceil(p * float64(len(sorted))))
	if r < 1 {
		r = 1
	}
	return sorted[r-1]
}

func TestQuantileAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	for range 500 {
		n := 1 + r.IntN(50)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(20)) // ties on purpose
		}
		slices.Sort(x)
		for _, p := range []float64{0, r.Float64(), 0.5, 0.9, 0.99, 0.999, 1} {
			if got, want := Quantile(x, p), naiveQuantile(x, p); got != want {
				t.Fatalf("n=%d p=%v: Quantile=%v naive=%v (x=%v)", n, p, got, want, x)
			}
		}
	}
}

// Exponential samples' quantiles against the closed form
// q(p) = -ln(1-p)/λ. The tolerance is 5 standard errors of a sample
// quantile, sqrt(p(1-p)/n)/f(q) with f(q) = λ(1-p) the density there:
// a correct estimator misses it with probability below 1e-6.
func TestDescribeExponentialQuantiles(t *testing.T) {
	const (
		n    = 200_000
		mean = 10.0 // ms
	)
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, n)
	for i := range x {
		x[i] = r.ExpFloat64() * mean
	}
	s := Describe(x)
	if s.N != n {
		t.Fatalf("N = %d", s.N)
	}
	for _, c := range []struct {
		name string
		p    float64
		got  float64
	}{
		{"p50", 0.50, s.P50},
		{"p90", 0.90, s.P90},
		{"p99", 0.99, s.P99},
		{"p99.9", 0.999, s.P999},
	} {
		want := -math.Log(1-c.p) * mean
		se := math.Sqrt(c.p*(1-c.p)/n) / ((1 - c.p) / mean)
		if math.Abs(c.got-want) > 5*se {
			t.Errorf("%s = %.4f, closed form %.4f, tolerance %.4f (5 SE)", c.name, c.got, want, 5*se)
		}
	}
	// The mean's SE is mean/√n.
	if se := mean / math.Sqrt(n); math.Abs(s.Mean-mean) > 5*se {
		t.Errorf("mean = %.4f, want %.4f ± %.4f", s.Mean, mean, 5*se)
	}
	if s.Min < 0 || s.Max < s.P999 {
		t.Errorf("min %v max %v p99.9 %v out of order", s.Min, s.Max, s.P999)
	}
}

func TestTQuantileTable(t *testing.T) {
	// Values from a printed t table (6 significant figures).
	for _, tc := range []struct {
		p, df, want float64
	}{
		{0.975, 1, 12.7062},   // the widest: one degree of freedom
		{0.975, 8, 2.30600},   // used by the Welch case below
		{0.975, 9, 2.26216},   // n=10 replications
		{0.95, 30, 1.69726},   // one-sided 95%
		{0.975, 1e6, 1.95996}, // tends to the normal quantile
	} {
		if got := TQuantile(tc.p, tc.df); math.Abs(got-tc.want) > 5e-5*tc.want {
			t.Errorf("t(%v, %v) = %.6f, want %.6f", tc.p, tc.df, got, tc.want)
		}
	}
}

// Coverage: 2000 replications of n=10 normal samples; the 95% interval
// must contain the true mean in about 95% of them. The count of covering
// intervals is Binomial(2000, 0.95), standard deviation
// sqrt(0.95·0.05/2000) ≈ 0.0049, so [0.93, 0.97] is about ±4 standard
// deviations: a correct interval fails this with probability ~1e-4, while
// using the normal quantile 1.96 instead of t(9)=2.26 (coverage ≈ 0.92)
// or forgetting √n fails it.
func TestMeanCICoverage(t *testing.T) {
	const (
		reps  = 2000
		n     = 10
		mu    = 50.0
		sigma = 7.0
	)
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, n)
	covered := 0
	for range reps {
		for i := range x {
			x[i] = mu + sigma*r.NormFloat64()
		}
		iv := MeanCI(x, Level)
		if !iv.HasCI() || iv.N != n {
			t.Fatalf("no interval from %d samples", n)
		}
		if iv.Lo <= mu && mu <= iv.Hi {
			covered++
		}
	}
	c := float64(covered) / reps
	t.Logf("coverage %.4f over %d replications", c, reps)
	if c < 0.93 || c > 0.97 {
		t.Errorf("coverage %.4f outside [0.93, 0.97]", c)
	}
}

func TestMeanCISmall(t *testing.T) {
	if iv := MeanCI(nil, Level); !math.IsNaN(iv.Mean) || iv.HasCI() {
		t.Errorf("empty: %+v", iv)
	}
	if iv := MeanCI([]float64{4}, Level); iv.Mean != 4 || iv.HasCI() || iv.HalfWidth() != 0 {
		t.Errorf("one observation: %+v", iv)
	}
	// Two observations 1 and 3: mean 2, s = √2, half-width t(.975,1)·s/√2 = 12.7062.
	iv := MeanCI([]float64{1, 3}, Level)
	if iv.Mean != 2 || math.Abs(iv.HalfWidth()-12.7062) > 1e-3 {
		t.Errorf("two observations: %+v (half-width %v)", iv, iv.HalfWidth())
	}
}

func TestWelch(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5} // mean 3, variance 2.5
	for _, tc := range []struct {
		name        string
		b           []float64
		delta       float64
		df          float64
		halfWidth   float64
		significant bool
		verdict     string
	}{
		// b = a+3: equal variances and sizes, se² = 2.5/5+2.5/5 = 1,
		// df = 1/(2·0.5²/4) = 8, half-width t(.975,8)·1 = 2.306004.
		{"shifted by 3", []float64{4, 5, 6, 7, 8}, 3, 8, 2.306004, true, "significant"},
		// b = a+1: same interval shape around 1, which contains 0.
		{"shifted by 1", []float64{2, 3, 4, 5, 6}, 1, 8, 2.306004, false, "not significant"},
		// b = 2a+1: mean 7, variance 10; se² = 0.5+2 = 2.5,
		// df = 6.25/(0.25/4+4/4) = 100/17, t(.975,100/17) lies between
		// t(.975,6)=2.4469 and t(.975,5)=2.5706; checked separately below.
		{"unequal variances", []float64{3, 5, 7, 9, 11}, 4, 100.0 / 17, -1, true, "significant"},
		// b = a shifted down by 4: a negative difference is significant too.
		{"shifted by -4", []float64{-3, -2, -1, 0, 1}, -4, 8, 2.306004, true, "significant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Welch(a, tc.b, Level)
			if d.Delta != tc.delta {
				t.Errorf("delta %v, want %v", d.Delta, tc.delta)
			}
			if math.Abs(d.DF-tc.df) > 1e-9 {
				t.Errorf("df %v, want %v", d.DF, tc.df)
			}
			hw := (d.Hi - d.Lo) / 2
			if tc.halfWidth > 0 && math.Abs(hw-tc.halfWidth) > 1e-5 {
				t.Errorf("half-width %.6f, want %.6f", hw, tc.halfWidth)
			}
			if tc.halfWidth < 0 {
				lo, hi := 2.4469*math.Sqrt(2.5), 2.5706*math.Sqrt(2.5)
				if hw <= lo || hw >= hi {
					t.Errorf("half-width %.4f outside (%.4f, %.4f)", hw, lo, hi)
				}
			}
			if math.Abs((d.Lo+d.Hi)/2-d.Delta) > 1e-12 {
				t.Errorf("interval [%v, %v] not centred on %v", d.Lo, d.Hi, d.Delta)
			}
			if d.Significant() != tc.significant || d.Verdict() != tc.verdict {
				t.Errorf("significant=%v verdict %q, want %v %q", d.Significant(), d.Verdict(), tc.significant, tc.verdict)
			}
			if want := tc.delta / 3; math.Abs(d.Relative-want) > 1e-12 {
				t.Errorf("relative %v, want %v", d.Relative, want)
			}
		})
	}
}

func TestWelchDegenerate(t *testing.T) {
	// One replication: no interval, never significant.
	d := Welch([]float64{1}, []float64{5, 6}, Level)
	if d.HasCI() || d.Significant() || d.Verdict() != "no CI" || d.Delta != 4.5 {
		t.Errorf("one replication: %+v %s", d, d.Verdict())
	}
	// Zero variance on both sides: the interval is the point.
	d = Welch([]float64{2, 2, 2}, []float64{3, 3}, Level)
	if !d.HasCI() || d.Lo != 1 || d.Hi != 1 || !d.Significant() {
		t.Errorf("constant samples: %+v", d)
	}
	d = Welch([]float64{2, 2}, []float64{2, 2}, Level)
	if d.Significant() || d.Verdict() != "not significant" {
		t.Errorf("identical constant samples: %+v %s", d, d.Verdict())
	}
	// A zero baseline has no relative change.
	if d := Welch([]float64{0, 0}, []float64{1, 2}, Level); !math.IsNaN(d.Relative) {
		t.Errorf("relative against 0: %v", d.Relative)
	}
}

// Welch's interval covers the true difference about 95% of the time even
// with unequal variances and sizes (where the pooled-variance interval
// does not). Tolerance as in TestMeanCICoverage.
func TestWelchCoverage(t *testing.T) {
	const reps = 2000
	r := rand.New(rand.NewPCG(5, 6))
	a, b := make([]float64, 5), make([]float64, 15)
	covered := 0
	for range reps {
		for i := range a {
			a[i] = 10 + 6*r.NormFloat64()
		}
		for i := range b {
			b[i] = 12 + 1*r.NormFloat64()
		}
		d := Welch(a, b, Level)
		if d.Lo <= 2 && 2 <= d.Hi {
			covered++
		}
	}
	c := float64(covered) / reps
	t.Logf("Welch coverage %.4f", c)
	if c < 0.93 || c > 0.97 {
		t.Errorf("coverage %.4f outside [0.93, 0.97]", c)
	}
}
