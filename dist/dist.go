// Package dist draws service times from the distributions a scenario
// names: const, exp, lognormal, bounded pareto and empirical. Samplers
// are pure: randomness comes from the *rand.Rand passed in, so the
// simulator and the real server draw the same sequence from the same seed.
package dist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/redirlab/redirlab/scenarios"
)

// Sampler draws service times.
type Sampler interface {
	// Sample draws one service time.
	Sample(r *rand.Rand) time.Duration
	// Mean is the distribution's mean.
	Mean() time.Duration
	// Quantile is the inverse CDF at u in [0, 1): the service time of a
	// request whose demand is u. Drawing u per request (Uniform) rather
	// than per server gives a request the same demand in every run and
	// on every server it might reach: common random numbers, which make
	// sim and real runs, and variants, differ by the system alone.
	Quantile(u float64) time.Duration
}

// Uniform is a request's demand in [0, 1): a pure function of the run's
// seed, the request's id and which part of the request it is (0 for the
// page, k for its k-th embedded object). It is a SplitMix64 finaliser over
// the three, so neighbouring ids give independent values.
func Uniform(seed, id, part uint64) float64 {
	x := seed*0x9e3779b97f4a7c15 ^ id*0xbf58476d1ce4e5b9 ^ (part+1)*0x94d049bb133111eb
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// New returns the sampler for a validated service description. An empty
// Dist means const 0 (for example an object served from memory).
func New(s scenarios.Service) (Sampler, error) {
	switch s.Dist {
	case "", "const":
		return constant(s.Mean), nil
	case "exp":
		return exponential(s.Mean), nil
	case "lognormal":
		cv := s.CV
		if cv < 0 {
			return nil, fmt.Errorf("lognormal: cv must be >= 0, got %g", cv)
		}
		if cv == 0 {
			return constant(s.Mean), nil
		}
		// For X = exp(mu + sigma Z): CV^2 = exp(sigma^2) - 1, mean = exp(mu + sigma^2/2).
		s2 := math.Log1p(cv * cv)
		return lognormal{mean: s.Mean, mu: math.Log(float64(s.Mean)) - s2/2, sigma: math.Sqrt(s2)}, nil
	case "pareto":
		return newPareto(s)
	case "empirical":
		if len(s.Samples) == 0 {
			return nil, fmt.Errorf("empirical: no samples loaded from %q", s.File)
		}
		var sum float64
		for _, d := range s.Samples {
			sum += float64(d)
		}
		// Sorted, so that Quantile is the inverse CDF: a larger demand is
		// a longer service, on every server (common random numbers).
		sorted := slices.Clone(s.Samples)
		slices.Sort(sorted)
		return empirical{samples: sorted, mean: time.Duration(sum / float64(len(s.Samples)))}, nil
	}
	return nil, fmt.Errorf("unknown service distribution %q", s.Dist)
}

type constant time.Duration

func (c constant) Sample(*rand.Rand) time.Duration { return time.Duration(c) }
func (c constant) Mean() time.Duration             { return time.Duration(c) }
func (c constant) Quantile(float64) time.Duration  { return time.Duration(c) }

type exponential time.Duration

func (e exponential) Sample(r *rand.Rand) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(e))
}
func (e exponential) Mean() time.Duration { return time.Duration(e) }
func (e exponential) Quantile(u float64) time.Duration {
	return time.Duration(-math.Log1p(-u) * float64(e))
}

type lognormal struct {
	mean      time.Duration
	mu, sigma float64
}

func (l lognormal) Sample(r *rand.Rand) time.Duration {
	return time.Duration(math.Exp(l.mu + l.sigma*r.NormFloat64()))
}
func (l lognormal) Mean() time.Duration { return l.mean }
func (l lognormal) Quantile(u float64) time.Duration {
	if u <= 0 {
		return 0
	}
	// The standard normal quantile is √2·erfinv(2u−1).
	return time.Duration(math.Exp(l.mu + l.sigma*math.Sqrt2*math.Erfinv(2*u-1)))
}

// pareto is the bounded Pareto on [lo, hi] with tail index alpha.
type pareto struct {
	lo, hi, alpha float64
	ratio         float64 // (lo/hi)^alpha
	mean          time.Duration
}

// paretoMean is the mean of a bounded Pareto on [lo, hi].
func paretoMean(lo, hi, alpha float64) float64 {
	if alpha == 1 {
		return lo * hi / (hi - lo) * math.Log(hi/lo)
	}
	return math.Pow(lo, alpha) / (1 - math.Pow(lo/hi, alpha)) * alpha / (alpha - 1) *
		(math.Pow(lo, 1-alpha) - math.Pow(hi, 1-alpha))
}

func newPareto(s scenarios.Service) (Sampler, error) {
	alpha := s.Alpha
	if alpha <= 0 {
		alpha = 1.5
	}
	lo, hi := float64(s.Min), float64(s.Max)
	switch {
	case lo > 0 && hi == 0:
		hi = 1000 * lo
	case lo == 0:
		if s.Mean <= 0 {
			return nil, fmt.Errorf("pareto: needs mean or min")
		}
		ratio := 1000.0
		if hi > 0 {
			// Solve for lo with hi fixed: the mean grows with lo, so bisect.
			a, b := 0.0, hi
			for i := 0; i < 200; i++ {
				m := (a + b) / 2
				if paretoMean(m, hi, alpha) < float64(s.Mean) {
					a = m
				} else {
					b = m
				}
			}
			lo = (a + b) / 2
			break
		}
		// With hi = ratio x lo the mean is linear in lo.
		lo = float64(s.Mean) / paretoMean(1, ratio, alpha)
		hi = ratio * lo
	}
	if !(lo > 0 && hi > lo) {
		return nil, fmt.Errorf("pareto: need 0 < min < max, got min %v max %v", time.Duration(lo), time.Duration(hi))
	}
	return pareto{lo: lo, hi: hi, alpha: alpha, ratio: math.Pow(lo/hi, alpha),
		mean: time.Duration(paretoMean(lo, hi, alpha))}, nil
}

func (p pareto) Sample(r *rand.Rand) time.Duration {
	// Inverse CDF of the bounded Pareto.
	u := r.Float64()
	return time.Duration(p.lo * math.Pow(1-u*(1-p.ratio), -1/p.alpha))
}
func (p pareto) Mean() time.Duration { return p.mean }
func (p pareto) Quantile(u float64) time.Duration {
	return time.Duration(p.lo * math.Pow(1-u*(1-p.ratio), -1/p.alpha))
}

type empirical struct {
	samples []time.Duration
	mean    time.Duration
}

func (e empirical) Sample(r *rand.Rand) time.Duration { return e.samples[r.IntN(len(e.samples))] }
func (e empirical) Mean() time.Duration               { return e.mean }

func (e empirical) Quantile(u float64) time.Duration {
	return e.samples[min(int(u*float64(len(e.samples))), len(e.samples)-1)]
}
