package model

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/redirlab/redirlab/policy"
)

// TestServerShed: under the shed action a server over its threshold
// answers Shed, counts it, and uses no worker and no queue slot for it.
func TestServerShed(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 2, MaxHops: 1, Fraction: 1, Action: policy.Shed}
	m := NewServer[int](serverConfig(t, 0, 1, 10, 10*ms, p))
	views := &fixedView{v: upView(0, 0)}
	var kinds []ArrivalKind
	for i := 0; i < 5; i++ {
		kinds = append(kinds, m.ArrivePage(0, 0, Demand{}, i, views).Kind)
	}
	want := []ArrivalKind{Started, Queued, Queued, Shed, Shed}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("arrival kinds %v, want %v", kinds, want)
		}
	}
	if c := m.Counters(0); c.Shed != 2 || c.Redirected != 0 || c.Rejected != 0 {
		t.Errorf("counters %+v, want 2 shed and nothing redirected or rejected", c)
	}
	if st := m.Status(0); st.QueueLength != 3 {
		t.Errorf("queue length %d, want 3: shed requests take no place", st.QueueLength)
	}
}

// TestServerAdaptiveAgainstReference drives one server with a seeded
// overload (2 workers, random services, arrivals faster than it serves)
// and keeps, beside it, a naive reference of the adaptive limit: every
// request's arrival in a map, the latencies of each window in a list,
// the window's peak demand, the minRTT measurement with the limit pinned,
// and the rule as the docs state it. At every
// arrival the model must shed exactly when the reference's in-flight
// count would exceed its limit, and the limits must agree throughout.
func TestServerAdaptiveAgainstReference(t *testing.T) {
	g := policy.Gradient{Window: 50 * ms, InitialLimit: 20, MinLimit: 2, MaxLimit: 100, MinRTTRequests: 30, Buffer: 0.25, Smoothing: 0.5}
	p := policy.Config{Condition: policy.Adaptive, MaxHops: 1, Fraction: 1, Action: policy.Shed, Gradient: g}
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := serverConfig(t, 0, 2, 1000, 0, p)
	cfg.Page = expSampler(10 * ms)
	m := NewServer[int](cfg)
	views := &fixedView{v: upView(0, 0)}

	// The reference.
	arrivedAt := map[int]time.Duration{}
	limit, minRTT := g.MinLimit, time.Duration(0) // pinned while minRTT is measured
	var rtts, lats []time.Duration
	peak, inFlight := 0, 0
	windowEnd := g.Window
	closeWindows := func(now time.Duration) {
		for windowEnd <= now {
			if len(lats) > 0 {
				limit = naiveLimit(g, limit, minRTT, mean(lats), peak)
			}
			lats, peak = nil, 0
			windowEnd += g.Window // the empty windows between pass one by one
		}
	}

	type service struct {
		end   time.Duration
		h     int
		epoch uint64
	}
	var busy []service
	finishDue := func(now time.Duration) {
		for len(busy) > 0 {
			sort.Slice(busy, func(i, j int) bool { return busy[i].end < busy[j].end })
			s := busy[0]
			if s.end > now {
				return
			}
			busy = busy[1:]
			closeWindows(s.end)
			if lat := s.end - arrivedAt[s.h]; minRTT > 0 {
				lats = append(lats, lat)
			} else if rtts = append(rtts, lat); len(rtts) == g.MinRTTRequests {
				minRTT, limit, peak = mean(rtts), g.InitialLimit, 0
			}
			inFlight--
			if next, end, ok := m.Finish(s.end, s.epoch, true, s.end, s.h); ok {
				busy = append(busy, service{end, next, s.epoch})
			}
		}
	}
	var now time.Duration
	shed, admitted := 0, 0
	for h := 0; h < 20000; h++ {
		now += time.Duration(rng.ExpFloat64() * float64(4*ms)) // 250/s against 200/s of service
		finishDue(now)
		closeWindows(now)
		peak = max(peak, inFlight+1)
		wantShed := float64(inFlight) >= math.Floor(limit)
		a := m.ArrivePage(now, 0, Demand{}, h, views)
		if (a.Kind == Shed) != wantShed {
			t.Fatalf("arrival %d at %v: %v with %d in flight, reference limit %g", h, now, a.Kind, inFlight, limit)
		}
		if got := m.Limit(now); got != int(limit) {
			t.Fatalf("arrival %d at %v: limit %d, reference %g", h, now, got, limit)
		}
		switch a.Kind {
		case Shed:
			shed++
			continue
		case Started:
			busy = append(busy, service{a.End, h, a.Epoch})
		}
		admitted++
		arrivedAt[h] = now
		inFlight++
	}
	// The run must have exercised the rule: the limit left its start and
	// requests were both shed and admitted.
	if shed < 500 || admitted < 5000 || int(limit) == int(g.InitialLimit) {
		t.Fatalf("too little exercised: %d shed, %d admitted, limit %g", shed, admitted, limit)
	}
	t.Logf("%d shed, %d admitted, final limit %g, minRTT %v", shed, admitted, limit, minRTT)
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// naiveLimit is the rule of docs/scenario.md, term by term.
func naiveLimit(g policy.Gradient, limit float64, minRTT, sample time.Duration, peak int) float64 {
	if float64(peak) < limit/2 {
		return limit
	}
	gradient := math.Max(0.5, math.Min(2, float64(minRTT)*(1+g.Buffer)/float64(sample)))
	estimate := gradient*limit + math.Sqrt(gradient*limit)
	return math.Max(g.MinLimit, math.Min(g.MaxLimit, (1-g.Smoothing)*limit+g.Smoothing*estimate))
}

// expSampler draws exponential service times of the given mean.
type expSampler time.Duration

func (e expSampler) Sample(r *rand.Rand) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(e))
}
func (e expSampler) Mean() time.Duration { return time.Duration(e) }
func (e expSampler) Quantile(u float64) time.Duration {
	return time.Duration(-math.Log(1-u) * float64(e))
}
