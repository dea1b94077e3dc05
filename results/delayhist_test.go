package results

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestDelayHistAgainstExact: the histogram's quantiles are the exact
// nearest-rank ones or at most 0.1% above, within the exact extremes;
// mean and max are exact; the order values arrive in changes nothing.
func TestDelayHistAgainstExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 200 {
		n := 1 + rng.IntN(3000)
		vals := make([]time.Duration, n)
		for i := range vals {
			switch rng.IntN(4) {
			case 0: // idle: no wait
			case 1: // sub-2µs: kept exactly
				vals[i] = time.Duration(rng.IntN(2048))
			default: // a wide spread of waits, up to minutes
				vals[i] = time.Duration(math.Exp(rng.Float64() * 25))
			}
		}
		var h, rev delayHist
		var sum float64
		for i, v := range vals {
			h.add(v)
			rev.add(vals[n-1-i])
			sum += float64(v)
		}
		sorted := slices.Clone(vals)
		slices.Sort(sorted)
		for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
			exact := sorted[max(int(math.Ceil(q*float64(n)))-1, 0)]
			got := h.quantile(q)
			if got < exact || float64(got-exact) > float64(exact)/1024 || got > sorted[n-1] {
				t.Fatalf("trial %d: q %v of %d values: %v, exact %v", trial, q, n, got, exact)
			}
			if rev.quantile(q) != got {
				t.Fatalf("trial %d: q %v depends on the order: %v and %v", trial, q, got, rev.quantile(q))
			}
		}
		if h.ext.max != sorted[n-1] || math.Abs(h.meanNS()-sum/float64(n)) > 1e-6*sum/float64(n)+1e-9 {
			t.Fatalf("trial %d: max %v (want %v), mean %v (want %v)", trial, h.ext.max, sorted[n-1], h.meanNS(), sum/float64(n))
		}
	}
	var empty delayHist
	if empty.quantile(0.99) != 0 || empty.meanNS() != 0 {
		t.Error("an empty histogram reads non-zero")
	}
	// Buckets order as their values and hold their tops.
	for v := uint64(0); v < 1<<20; v += 1 + v/300 {
		if b := delayBucket(v); delayBucketTop(b) < int64(v) || (v > 0 && delayBucket(v-1) > b) {
			t.Fatalf("bucket of %d: %d (top %d)", v, b, delayBucketTop(b))
		}
	}
}
