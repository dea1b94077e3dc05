package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/scenarios"
)

// TestDispatchSharedStream: the open loop's dispatcher, as newOpenLoop
// builds it from a scenario, is the shared dispatch.Dispatcher over the
// group weights, drawing from the stream (seed, 2), with the generator's
// outstanding requests as load and every server up. The simulator's
// TestPickIsShared checks its side against the same reference, so for
// the same loads both pick the same servers with the same draws.
func TestDispatchSharedStream(t *testing.T) {
	weights := []float64{1, 1, 1, 3}
	for _, name := range dispatch.Names() {
		t.Run(name, func(t *testing.T) {
			sc := scenario(3, constant(100), time.Second)
			sc.Servers = append(sc.Servers, scenarios.ServerGroup{Name: "big", Count: 1, Workers: 1, Weight: 3})
			sc.Seed = 42
			sc.Workload.Dispatch = name
			opts := Options{}
			pl, err := plan.Resolve(sc)
			if err != nil {
				t.Fatal(err)
			}
			if err := opts.validate(pl); err != nil {
				t.Fatal(err)
			}
			bases := make([]*url.URL, len(weights))
			for i := range bases {
				bases[i] = &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", i+1)}
			}
			o, _, err := newOpenLoop(context.Background(), pl, bases, &collector{}, &opts)
			if err != nil {
				t.Fatal(err)
			}
			defer o.b.close()
			p, err := dispatch.Parse(name)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := dispatch.New(p, weights)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(sc.Seed, 2))
			load := func(i int) (int64, bool) { return o.outstanding[i].Load(), true }
			for k := range 500 {
				got, want := o.disp.pick(o.outFn), ref.Pick(load, rng)
				if got != want {
					t.Fatalf("pick %d: generator picked %d, shared dispatcher %d", k, got, want)
				}
				// The request joins its server and an older one leaves
				// some server, so loads move and tie now and then.
				o.outstanding[got].Add(1)
				if j := k % len(bases); o.outstanding[j].Load() > 0 {
					o.outstanding[j].Add(-1)
				}
			}
		})
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
		{"unknown", "dns", []float64{1}, `workload.dispatch: unknown dispatch "dns"`},
		// Weighted dispatch needs some weight.
		{"no weight", "weighted", []float64{0, 0}, "positive weight"},
		// Negative weights make no sense.
		{"negative", "weighted", []float64{1, -1}, "negative"},
		// Nothing to dispatch to.
		{"no servers", "random", nil, "workload.dispatch: no servers"},
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
