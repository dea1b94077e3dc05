package dist

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redirlab/redirlab/scenarios"
)

// TestMoments draws 200k samples per distribution and compares the sample
// mean and CV with the configured ones. With n = 200k the standard error of
// the mean is cv/sqrt(n) ≈ 0.2% of the mean for cv = 1, so 2% is over five
// standard errors even for lognormal cv 1.5 (whose heavy tail inflates the
// error of the CV estimate, hence its looser bound).
func TestMoments(t *testing.T) {
	tests := []struct {
		name   string
		svc    scenarios.Service
		wantCV float64
		cvTol  float64
	}{
		// const: every sample equals the mean.
		{"const", scenarios.Service{Dist: "const", Mean: 10 * time.Millisecond}, 0, 0.001},
		// exp: CV is 1 by definition.
		{"exp", scenarios.Service{Dist: "exp", Mean: 10 * time.Millisecond}, 1, 0.03},
		// lognormal with the requested CV.
		{"lognormal", scenarios.Service{Dist: "lognormal", Mean: 20 * time.Millisecond, CV: 1.5}, 1.5, 0.15},
		// bounded Pareto with min derived from the mean (max = 1000 min).
		{"pareto", scenarios.Service{Dist: "pareto", Mean: 5 * time.Millisecond, Alpha: 1.5}, -1, 0},
		// empirical: mean of the file's samples.
		{"empirical", scenarios.Service{Dist: "empirical", Samples: []time.Duration{time.Millisecond, 3 * time.Millisecond}}, 0.5, 0.02},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.svc)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			const n = 200_000
			var sum, sq float64
			for i := 0; i < n; i++ {
				x := float64(s.Sample(r))
				if x < 0 {
					t.Fatalf("negative service time %v", x)
				}
				sum += x
				sq += x * x
			}
			mean := sum / n
			want := float64(s.Mean())
			// Pareto's tail makes its sample mean converge slowly: allow 5%.
			tol := 0.02
			if tc.name == "pareto" {
				tol = 0.05
			}
			if math.Abs(mean-want)/want > tol {
				t.Errorf("sample mean %v, want %v ± %.0f%%", time.Duration(mean), time.Duration(want), tol*100)
			}
			if tc.svc.Mean > 0 && math.Abs(want-float64(tc.svc.Mean))/float64(tc.svc.Mean) > 1e-6 {
				t.Errorf("Mean() %v, want configured %v", s.Mean(), tc.svc.Mean)
			}
			if tc.wantCV >= 0 {
				cv := math.Sqrt(sq/n-mean*mean) / mean
				if math.Abs(cv-tc.wantCV) > tc.cvTol {
					t.Errorf("sample cv %.3f, want %.3f ± %.3f", cv, tc.wantCV, tc.cvTol)
				}
			}
		})
	}
}

// TestParetoBounds checks that the bounded Pareto stays in [min, max].
func TestParetoBounds(t *testing.T) {
	s, err := New(scenarios.Service{Dist: "pareto", Min: time.Millisecond, Max: 50 * time.Millisecond, Alpha: 1.1})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100_000; i++ {
		x := s.Sample(r)
		if x < time.Millisecond || x > 50*time.Millisecond+time.Microsecond {
			t.Fatalf("sample %v outside [1ms, 50ms]", x)
		}
	}
}

// TestDeterministic: the same seed draws the same sequence.
func TestDeterministic(t *testing.T) {
	s, _ := New(scenarios.Service{Dist: "lognormal", Mean: time.Millisecond, CV: 2})
	a, b := rand.New(rand.NewPCG(9, 9)), rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 1000; i++ {
		if x, y := s.Sample(a), s.Sample(b); x != y {
			t.Fatalf("draw %d: %v != %v", i, x, y)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, svc := range []scenarios.Service{
		{Dist: "weibull", Mean: time.Millisecond},      // unknown name
		{Dist: "empirical"},                            // no samples
		{Dist: "pareto"},                               // neither mean nor min
		{Dist: "pareto", Min: 5, Max: 2, Alpha: 1.5},   // max below min
		{Dist: "lognormal", Mean: time.Second, CV: -1}, // negative cv
	} {
		if _, err := New(svc); err == nil {
			t.Errorf("%+v: no error", svc)
		}
	}
}

// TestQuantileIsMonotone: every distribution's Quantile is an inverse
// CDF, non-decreasing in u; the empirical one too, whatever the order of
// its file.
func TestQuantileIsMonotone(t *testing.T) {
	ms := time.Millisecond
	for _, sv := range []scenarios.Service{
		{Dist: "const", Mean: 5 * ms},
		{Dist: "exp", Mean: 10 * ms},
		{Dist: "lognormal", Mean: 10 * ms, CV: 1.5},
		{Dist: "pareto", Mean: 10 * ms, Alpha: 1.5, Min: 2 * ms, Max: 2000 * ms},
		{Dist: "empirical", File: "x", Samples: []time.Duration{9 * ms, 1 * ms, 30 * ms, 2 * ms, 2 * ms}},
	} {
		s, err := New(sv)
		if err != nil {
			t.Fatalf("%s: %v", sv.Dist, err)
		}
		prev := time.Duration(-1)
		for k := 0; k < 1000; k++ {
			q := s.Quantile(float64(k) / 1000)
			if q < prev {
				t.Fatalf("%s: Quantile(%v) = %v below Quantile of a smaller u (%v)", sv.Dist, float64(k)/1000, q, prev)
			}
			prev = q
		}
	}
}
