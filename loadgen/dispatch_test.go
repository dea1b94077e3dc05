package loadgen

import (
	"math"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

func counts(t *testing.T, p dispatchPolicy, weights []float64, outstanding []int64, picks int) []int {
	t.Helper()
	d, err := newDispatcher(p, weights, rand.New(rand.NewPCG(7, 2)))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int, len(weights))
	for range picks {
		got[d.pick(func(i int) int64 { return outstanding[i] })]++
	}
	return got
}

func TestDispatchShares(t *testing.T) {
	const picks = 60000
	tests := []struct {
		name        string
		policy      dispatchPolicy
		weights     []float64
		outstanding []int64
		want        []float64 // expected share per server
	}{
		// Random: uniform whatever the load.
		{"random", dispatchRandom, []float64{1, 1, 1}, []int64{0, 9, 9}, []float64{1. / 3, 1. / 3, 1. / 3}},
		// Weighted by group weight; a zero weight gets nothing.
		{"weighted", dispatchWeighted, []float64{1, 3, 0}, []int64{0, 0, 0}, []float64{0.25, 0.75, 0}},
		// JSQ: always the shortest queue.
		{"jsq", dispatchJSQ, []float64{1, 1, 1}, []int64{4, 2, 3}, []float64{0, 1, 0}},
		// JSQ ties are broken at random among the shortest.
		{"jsq ties", dispatchJSQ, []float64{1, 1, 1}, []int64{2, 2, 3}, []float64{0.5, 0.5, 0}},
		// P2C over 3 servers: the least loaded wins both pairs it is in
		// (2 of 3), the middle one its pair with the most loaded (1 of 3),
		// the most loaded never.
		{"p2c", dispatchP2C, []float64{1, 1, 1}, []int64{0, 5, 10}, []float64{2. / 3, 1. / 3, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := counts(t, tc.policy, tc.weights, tc.outstanding, picks)
			for i, w := range tc.want {
				// Tolerance: 5 binomial standard deviations (plus one pick),
				// a false alarm about once in 3 million runs.
				sd := math.Sqrt(picks * w * (1 - w))
				if math.Abs(float64(got[i])-w*picks) > 5*sd+1 {
					t.Errorf("server %d got %d of %d picks, want %.0f ± %.0f", i, got[i], picks, w*picks, 5*sd+1)
				}
			}
		})
	}
}

func TestDispatchRoundRobinCycles(t *testing.T) {
	d, err := newDispatcher(dispatchRoundRobin, []float64{1, 1, 1}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 7 {
		got = append(got, d.pick(nil))
	}
	if want := []int{0, 1, 2, 0, 1, 2, 0}; !slices.Equal(got, want) {
		t.Fatalf("round-robin picked %v, want %v", got, want)
	}
}

// TestJSQAgainstNaive: on random loads, jsq picks one of the servers a
// naive scan finds least loaded.
func TestJSQAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	d, err := newDispatcher(dispatchJSQ, make([]float64, 5), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		out := make([]int64, 5)
		for i := range out {
			out[i] = r.Int64N(4)
		}
		got := d.pick(func(i int) int64 { return out[i] })
		if out[got] != slices.Min(out) {
			t.Fatalf("loads %v: jsq picked %d (load %d), want a least-loaded server", out, got, out[got])
		}
	}
}

func TestDispatchErrors(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		weights []float64
		want    string
	}{
		// Names are checked against the schema's list.
		{"unknown", "dns", []float64{1}, "workload.dispatch"},
		// Weighted dispatch needs some weight.
		{"no weight", "weighted", []float64{0, 0}, "positive weight"},
		// Negative weights make no sense.
		{"negative", "weighted", []float64{1, -1}, "negative"},
		// Nothing to dispatch to.
		{"no servers", "random", nil, "no servers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseDispatch(tc.policy)
			if err == nil {
				_, err = newDispatcher(p, tc.weights, rand.New(rand.NewPCG(1, 2)))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseRedirectMetrics(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   int64
		wantOK bool
	}{
		// Counters with labels are summed; help and type lines skipped.
		{"labelled", "# HELP x\n# TYPE redirlab_redirects_total counter\nredirlab_redirects_total{server=\"web-1\"} 3\nredirlab_redirects_total{server=\"web-2\"} 4\n", 7, true},
		// A bare counter with a timestamp.
		{"timestamp", "redirects_total 12 1700000000000\n", 12, true},
		// Labels may contain spaces and braces in values.
		{"odd labels", "redirlab_redirects_total{to=\"a b\",x=\"}\"} 5\n", 5, true},
		// Other metrics do not count, not even redirect histograms.
		{"other", "redirlab_served_total 9\nredirlab_redirect_hops_bucket{le=\"1\"} 3\n", 0, false},
		// Exponent notation, as Prometheus writes large counts.
		{"exponent", "redirlab_redirects_total 1.5e+06\n", 1500000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseRedirectMetrics([]byte(tc.body))
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("got %d %v, want %d %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestTuneGCRestores: overlapping runs share the highest GOGC, and the
// original setting comes back when the last one ends.
func TestTuneGCRestores(t *testing.T) {
	orig := debug.SetGCPercent(150)
	defer debug.SetGCPercent(orig)
	undoA := tuneGC(800)
	undoB := tuneGC(400)
	if got := debug.SetGCPercent(-2); got != 800 {
		t.Errorf("GOGC %d during both runs, want the higher 800", got)
	}
	debug.SetGCPercent(800)
	undoA()
	undoB()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC %d after the runs, want 150 back", got)
	}
}
