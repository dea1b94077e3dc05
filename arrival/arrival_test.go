package arrival

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/redirlab/redirlab/scenarios"
)

func collect(t *testing.T, a scenarios.Arrival, horizon time.Duration, seed uint64) []time.Duration {
	t.Helper()
	p, err := New(a, horizon, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Duration
	last := time.Duration(-1)
	for {
		at, ok := p.Next()
		if !ok {
			return out
		}
		if at < last {
			t.Fatalf("arrival %d at %v before previous %v", len(out), at, last)
		}
		if at >= horizon {
			t.Fatalf("arrival %v at or past horizon %v", at, horizon)
		}
		last = at
		out = append(out, at)
	}
}

// count returns the arrivals in [from, to).
func count(ts []time.Duration, from, to time.Duration) int {
	lo := sort.Search(len(ts), func(i int) bool { return ts[i] >= from })
	hi := sort.Search(len(ts), func(i int) bool { return ts[i] >= to })
	return hi - lo
}

// within checks a Poisson count against its expectation with a 5-sigma
// band: sigma = sqrt(expected), so a correct process fails about once in
// 3.5 million runs, and a rate off by a few percent fails at these sizes.
func within(t *testing.T, what string, got int, expected float64) {
	t.Helper()
	if d := math.Abs(float64(got) - expected); d > 5*math.Sqrt(expected)+1 {
		t.Errorf("%s: %d arrivals, want %.0f ± %.0f", what, got, expected, 5*math.Sqrt(expected))
	}
}

func TestConstantIsExact(t *testing.T) {
	ts := collect(t, scenarios.Arrival{Process: "constant", Rate: 1000}, 10*time.Second, 1)
	if len(ts) != 10000 {
		t.Fatalf("got %d arrivals, want exactly 10000", len(ts))
	}
	for i, at := range ts {
		if want := time.Duration(i) * time.Millisecond; at != want {
			t.Fatalf("arrival %d at %v, want %v", i, at, want)
		}
	}
}

// TestPoissonGaps checks the count and runs a Kolmogorov–Smirnov test of
// the gaps against Exp(rate). The critical value at alpha = 0.001 is
// 1.95/sqrt(n).
func TestPoissonGaps(t *testing.T) {
	const rate = 2000.0
	ts := collect(t, scenarios.Arrival{Process: "poisson", Rate: rate}, 50*time.Second, 7)
	within(t, "poisson", len(ts), rate*50)
	gaps := make([]float64, len(ts)-1)
	for i := range gaps {
		gaps[i] = (ts[i+1] - ts[i]).Seconds()
	}
	sort.Float64s(gaps)
	var d float64
	n := float64(len(gaps))
	for i, g := range gaps {
		cdf := 1 - math.Exp(-rate*g)
		d = math.Max(d, math.Max(math.Abs(float64(i+1)/n-cdf), math.Abs(cdf-float64(i)/n)))
	}
	if crit := 1.95 / math.Sqrt(n); d > crit {
		t.Errorf("KS statistic %.5f > critical %.5f: gaps are not exponential", d, crit)
	}
}

// TestPoissonMatchesNaive compares the piecewise implementation with the
// naive cumulative sum of exponential gaps from the same stream.
func TestPoissonMatchesNaive(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		ts := collect(t, scenarios.Arrival{Process: "poisson", Rate: 321}, 5*time.Second, seed)
		r := rand.New(rand.NewPCG(seed, 1))
		var cum float64
		for i := 0; ; i++ {
			cum += r.ExpFloat64() / 321
			if cum >= 5 {
				if i != len(ts) {
					t.Fatalf("seed %d: %d arrivals, naive %d", seed, len(ts), i)
				}
				break
			}
			if d := ts[i] - seconds(cum); d < -time.Nanosecond || d > time.Nanosecond {
				t.Fatalf("seed %d arrival %d: %v, naive %v", seed, i, ts[i], seconds(cum))
			}
		}
	}
}

func TestSteps(t *testing.T) {
	a := scenarios.Arrival{Process: "steps", Steps: []scenarios.Step{
		{Rate: 1000, For: 10 * time.Second},
		{Rate: 0, For: 5 * time.Second},
		{Rate: 4000, For: time.Second}, // the last rate holds to the end
	}}
	ts := collect(t, a, 30*time.Second, 3)
	within(t, "step 1", count(ts, 0, 10*time.Second), 10000)
	if n := count(ts, 10*time.Second, 15*time.Second); n != 0 {
		t.Errorf("rate-0 step has %d arrivals", n)
	}
	within(t, "last step held", count(ts, 15*time.Second, 30*time.Second), 4000*15)
}

// TestRamp compares counts in each tenth of the horizon with the integral
// of the linear rate over it.
func TestRamp(t *testing.T) {
	for _, tc := range []struct{ from, to float64 }{
		{100, 5000}, // rising
		{5000, 100}, // falling
		{0, 2000},   // from zero
		{800, 800},  // flat: plain Poisson
	} {
		h := 20.0
		ts := collect(t, scenarios.Arrival{Process: "ramp", From: scenarios.Rate(tc.from), To: scenarios.Rate(tc.to)}, 20*time.Second, 5)
		for k := 0; k < 10; k++ {
			a, b := float64(k)*h/10, float64(k+1)*h/10
			lam := func(x float64) float64 { return tc.from*x + (tc.to-tc.from)*x*x/(2*h) }
			within(t, "ramp", count(ts, seconds(a), seconds(b)), lam(b)-lam(a))
		}
	}
}

// TestMMPPMeanRate: with uniform switching among states, the long-run
// share of time in state i is proportional to its mean dwell, so the mean
// rate is Σ rate_i·dwell_i / Σ dwell_i. Dwell times dominate the variance:
// over 20,000 s about 5,700 visits to the busy state each bring
// Exp(1,500) arrivals, a standard deviation of about 1% of the total, so
// 5% is five standard deviations.
func TestMMPPMeanRate(t *testing.T) {
	a := scenarios.Arrival{Process: "mmpp", States: []scenarios.MMPPState{
		{Rate: 200, Dwell: 2 * time.Second},
		{Rate: 3000, Dwell: 500 * time.Millisecond},
		{Rate: 0, Dwell: time.Second},
	}}
	const horizon = 20000
	p, err := New(a, horizon*time.Second, rand.New(rand.NewPCG(11, 1)))
	if err != nil {
		t.Fatal(err)
	}
	perSecond := make([]float64, horizon)
	n := 0
	for at, ok := p.Next(); ok; at, ok = p.Next() {
		perSecond[int(at/time.Second)]++
		n++
	}
	want := (200*2 + 3000*0.5 + 0) / 3.5 * horizon
	if got := float64(n); math.Abs(got-want)/want > 0.05 {
		t.Errorf("mmpp: %.0f arrivals, want %.0f ± 5%%", got, want)
	}
	// Burstiness: the index of dispersion of counts per second exceeds 1.
	var sum, sq float64
	for _, c := range perSecond {
		sum += c
		sq += c * c
	}
	mean := sum / horizon
	if disp := (sq/horizon - mean*mean) / mean; disp < 5 {
		t.Errorf("mmpp index of dispersion %.1f, want a bursty process (> 5)", disp)
	}
}

func TestTrace(t *testing.T) {
	offs := []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 9 * time.Second}
	ts := collect(t, scenarios.Arrival{Process: "trace", Offsets: offs}, 5*time.Second, 1)
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if len(ts) != len(want) {
		t.Fatalf("trace: %v, want %v", ts, want)
	}
	for i := range want {
		if ts[i] != want[i] {
			t.Fatalf("trace: %v, want %v", ts, want)
		}
	}
	if offs[0] != 3*time.Second {
		t.Error("trace sorted the caller's offsets in place")
	}
}

func TestDeterministic(t *testing.T) {
	a := scenarios.Arrival{Process: "mmpp", States: []scenarios.MMPPState{{Rate: 100, Dwell: time.Second}, {Rate: 900, Dwell: time.Second}}}
	x, y := collect(t, a, 30*time.Second, 4), collect(t, a, 30*time.Second, 4)
	if len(x) != len(y) {
		t.Fatalf("same seed, %d vs %d arrivals", len(x), len(y))
	}
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("same seed, arrival %d differs", i)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, a := range []scenarios.Arrival{
		{Process: "closed", Concurrency: 5}, // closed loop has no schedule
		{Process: "poisson"},                // no rate
		{Process: "steps"},                  // no steps
		{Process: "mmpp", States: []scenarios.MMPPState{{Rate: 1, Dwell: time.Second}}}, // one state
	} {
		if _, err := New(a, time.Second, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
}
