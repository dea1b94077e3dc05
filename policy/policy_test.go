package policy

import (
	"math"
	"math/rand/v2"
	"testing"
	"testing/quick"
	"time"
)

// statuses builds a view of up servers with the given queue lengths and
// one worker each.
func statuses(lengths ...int) []Status {
	out := make([]Status, len(lengths))
	for i, l := range lengths {
		out[i] = Status{Server: i, QueueLength: l, Workers: 1, Up: true}
	}
	return out
}

func TestDecide(t *testing.T) {
	length := Config{Condition: QueueLength, LengthThreshold: 4, Target: LeastLoaded, MaxHops: 1, Fraction: 1}
	delay := Config{Condition: QueueDelay, DelayThreshold: 40 * time.Millisecond, Target: LeastLoaded, MaxHops: 1, Fraction: 1}
	central := Config{Condition: QueueLength, LengthThreshold: 4, Target: LeastLoaded, MaxHops: 1, Fraction: 1, Placement: Central}
	view := View{Servers: statuses(9, 3, 1, 7)}
	down := View{Servers: statuses(9, 3, 1, 7)}
	down.Servers[2].Up = false
	allDown := View{Servers: statuses(9, 3, 1, 7)}
	for i := 1; i < 4; i++ {
		allDown.Servers[i].Up = false
	}
	delays := View{Servers: statuses(9, 3, 1, 7)}
	delays.Servers[1].QueueDelay = 5 * time.Millisecond
	delays.Servers[2].QueueDelay = 30 * time.Millisecond
	delays.Servers[3].QueueDelay = time.Millisecond
	flagged := View{Servers: statuses(9, 3, 1, 7), Instructions: []Instruction{{Redirect: true, Target: 1}, {Target: -1}, {Target: -1}, {Target: -1}}}
	flaggedFree := View{Servers: statuses(9, 3, 1, 7), Instructions: []Instruction{{Redirect: true, Target: -1}, {}, {}, {}}}
	flaggedDown := View{Servers: statuses(9, 3, 1, 7), Instructions: []Instruction{{Redirect: true, Target: 2}, {}, {}, {}}}
	flaggedDown.Servers[2].Up = false

	tests := []struct {
		name string
		cfg  Config
		self Status
		view View
		hops int
		want Decision
	}{
		// Below the threshold a server serves.
		{"length below", length, Status{Server: 0, QueueLength: 4, Up: true}, view, 0, Serve},
		// Strictly above it redirects to the least loaded peer.
		{"length above", length, Status{Server: 0, QueueLength: 5, Up: true}, view, 0, Decision{Redirect: true, Target: 2}},
		// A request that has used its hops is served whatever the load.
		{"hop limit", length, Status{Server: 0, QueueLength: 50, Up: true}, view, 1, Serve},
		// A down peer is never chosen, even if least loaded in the view.
		{"skip down peer", length, Status{Server: 0, QueueLength: 5, Up: true}, down, 0, Decision{Redirect: true, Target: 1}},
		// No peer up: serve locally rather than redirect into the void.
		{"no peer up", length, Status{Server: 0, QueueLength: 5, Up: true}, allDown, 0, Serve},
		// The condition none never redirects.
		{"none", Config{MaxHops: 5, Fraction: 1}, Status{Server: 0, QueueLength: 500, Up: true}, view, 0, Serve},
		// Queue delay over its threshold redirects; the target is the
		// peer with the least queue delay, not the shortest queue.
		{"delay above", delay, Status{Server: 0, QueueDelay: 41 * time.Millisecond, Up: true}, delays, 0, Decision{Redirect: true, Target: 3}},
		// Queue delay at the threshold does not hold (strictly greater).
		{"delay at threshold", delay, Status{Server: 0, QueueDelay: 40 * time.Millisecond, Up: true}, delays, 0, Serve},
		// A long queue alone does not trigger the delay condition.
		{"delay ignores length", delay, Status{Server: 0, QueueLength: 100, Up: true}, delays, 0, Serve},
		// Central: a server redirects only when flagged, to the given target,
		// regardless of its own live status.
		{"central flagged", central, Status{Server: 0, QueueLength: 0, Up: true}, flagged, 0, Decision{Redirect: true, Target: 1}},
		// Central: an unflagged server serves even when its own queue is long.
		{"central unflagged", central, Status{Server: 1, QueueLength: 99, Up: true}, flagged, 0, Serve},
		// Central without a named target: the server applies its target rule.
		{"central free target", central, Status{Server: 0, Up: true}, flaggedFree, 0, Decision{Redirect: true, Target: 2}},
		// Central target that has since gone down: fall back to the rule.
		{"central target down", central, Status{Server: 0, Up: true}, flaggedDown, 0, Decision{Redirect: true, Target: 1}},
		// Central with no instructions published yet: serve.
		{"central no view", central, Status{Server: 0, QueueLength: 99, Up: true}, View{}, 0, Serve},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cfg.Decide(tc.self, tc.view, tc.hops, 0, rand.New(rand.NewPCG(1, 1)))
			if got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestLeastLoadedPerWorker: load is compared per worker.
func TestLeastLoadedPerWorker(t *testing.T) {
	cfg := Config{Condition: QueueLength, LengthThreshold: 0, Target: LeastLoaded, MaxHops: 1, Fraction: 1}
	view := statuses(9, 6, 3)
	view[1].Workers = 8 // 6/8 = 0.75 per worker beats 3/1
	got := cfg.Decide(Status{Server: 0, QueueLength: 9, Up: true}, View{Servers: view}, 0, 0, rand.New(rand.NewPCG(1, 1)))
	if got.Target != 1 {
		t.Errorf("target %d, want 1 (fewest requests per worker)", got.Target)
	}
}

// naivePick is the reference for targets that have a deterministic
// answer, and the set of admissible answers for random ones.
func admissible(cfg *Config, self int, servers []Status) map[int]bool {
	ok := map[int]bool{}
	best := math.Inf(1)
	for i, s := range servers {
		if i == self || !s.Up {
			continue
		}
		load := float64(s.QueueLength) / float64(max(s.Workers, 1))
		if cfg.Condition == QueueDelay {
			load = float64(s.QueueDelay)
		}
		switch cfg.Target {
		case LeastLoaded:
			if load < best {
				best = load
				ok = map[int]bool{i: true}
			} else if load == best {
				ok[i] = true
			}
		case Probe:
			if !cfg.Holds(s) {
				ok[i] = true
			}
		default:
			ok[i] = true
		}
	}
	return ok
}

// TestPickProperties checks every target rule against the naive
// reference on random views: the chosen peer is up, not self, and (for
// least-loaded) has minimal load, (for probe) is not in the condition.
func TestPickProperties(t *testing.T) {
	for _, target := range []Target{LeastLoaded, Random, RoundRobin, P2C, Probe} {
		f := func(seed uint64, lens []uint8, downs []bool, selfPick uint8) bool {
			if len(lens) == 0 {
				return true
			}
			servers := make([]Status, len(lens))
			for i, l := range lens {
				servers[i] = Status{Server: i, QueueLength: int(l % 12), Workers: 1 + i%3, Up: i >= len(downs) || !downs[i]}
			}
			self := int(selfPick) % len(servers)
			cfg := Config{Condition: QueueLength, LengthThreshold: 5, Target: target, ProbeLimit: 3, MaxHops: 1, Fraction: 1}
			r := rand.New(rand.NewPCG(seed, 0))
			got := cfg.pick(self, servers, seed, r)
			ok := admissible(&cfg, self, servers)
			if got < 0 {
				// Only probe may come back empty-handed with candidates left.
				return len(ok) == 0 || target == Probe
			}
			return ok[got]
		}
		if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
			t.Errorf("%v: %v", target, err)
		}
	}
}

// TestP2CPrefersLessLoaded: of two sampled peers p2c takes the less
// loaded, so a peer with the least load is chosen at least as often as
// under uniform choice (exactly: 1 - (1 - 1/n)^2 for a unique minimum
// among n peers, here n = 4: 0.4375). 20k draws give a standard error of
// 0.0035; the tolerance is 0.02.
func TestP2CPrefersLessLoaded(t *testing.T) {
	cfg := Config{Condition: QueueLength, Target: P2C, MaxHops: 1, Fraction: 1}
	servers := statuses(9, 1, 5, 6, 7)
	r := rand.New(rand.NewPCG(5, 5))
	hits := 0
	const n = 20000
	for i := 0; i < n; i++ {
		if cfg.pick(0, servers, 0, r) == 1 {
			hits++
		}
	}
	if p := float64(hits) / n; math.Abs(p-0.4375) > 0.02 {
		t.Errorf("p2c chose the least loaded peer %.3f of the time, want 0.4375", p)
	}
}

// TestRoundRobinCycles: consecutive arrival sequence numbers visit every
// up peer once per cycle.
func TestRoundRobinCycles(t *testing.T) {
	cfg := Config{Condition: QueueLength, Target: RoundRobin, MaxHops: 1, Fraction: 1}
	servers := statuses(0, 0, 0, 0, 0)
	servers[3].Up = false
	seen := map[int]int{}
	for seq := uint64(0); seq < 9; seq++ {
		seen[cfg.pick(0, servers, seq, nil)]++
	}
	want := map[int]int{1: 3, 2: 3, 4: 3}
	if len(seen) != len(want) || seen[1] != 3 || seen[2] != 3 || seen[4] != 3 {
		t.Errorf("round robin visits %v, want %v", seen, want)
	}
}

// TestFraction: with fraction f, the share of redirected arrivals among
// those in the condition is f (binomial, 20k draws: sd 0.0035, tol 0.02).
func TestFraction(t *testing.T) {
	cfg := Config{Condition: QueueLength, Target: Random, MaxHops: 1, Fraction: 0.3}
	view := View{Servers: statuses(5, 0, 0)}
	r := rand.New(rand.NewPCG(2, 2))
	red := 0
	const n = 20000
	for i := 0; i < n; i++ {
		if cfg.Decide(Status{Server: 0, QueueLength: 5, Up: true}, view, 0, uint64(i), r).Redirect {
			red++
		}
	}
	if p := float64(red) / n; math.Abs(p-0.3) > 0.02 {
		t.Errorf("redirected %.3f of arrivals, want 0.3", p)
	}
}

// TestProbeLimit: with every peer over the threshold, probe serves
// locally; with one calm peer among many and probe limit 1, it finds it
// with probability 1/(n-1).
func TestProbeLimit(t *testing.T) {
	cfg := Config{Condition: QueueLength, LengthThreshold: 2, Target: Probe, ProbeLimit: 3, MaxHops: 1, Fraction: 1}
	busy := View{Servers: statuses(5, 5, 5, 5)}
	r := rand.New(rand.NewPCG(3, 3))
	if d := cfg.Decide(Status{Server: 0, QueueLength: 5, Up: true}, busy, 0, 0, r); d.Redirect {
		t.Fatalf("probe redirected to %d with every peer busy", d.Target)
	}
	cfg.ProbeLimit = 1
	one := View{Servers: statuses(5, 5, 5, 5, 0)}
	found := 0
	const n = 20000
	for i := 0; i < n; i++ {
		if cfg.Decide(Status{Server: 0, QueueLength: 5, Up: true}, one, 0, 0, r).Redirect {
			found++
		}
	}
	if p := float64(found) / n; math.Abs(p-0.25) > 0.02 {
		t.Errorf("probe found the calm peer %.3f of the time, want 0.25", p)
	}
}

func TestInstruct(t *testing.T) {
	cfg := Config{Condition: QueueLength, LengthThreshold: 4, Placement: Central, MaxHops: 1, Fraction: 1}
	servers := statuses(9, 3, 7, 1, 8)
	servers[4].Up = false // down: neither flagged nor a target
	got := cfg.Instruct(servers, nil)
	// Flagged: 0 and 2 (over 4, up). Calm peers by load: 3 (1), 1 (3).
	want := []Instruction{{true, 3}, {false, -1}, {true, 1}, {false, -1}, {false, -1}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("server %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	none := Config{}
	for i, in := range none.Instruct(servers, nil) {
		if in.Redirect {
			t.Errorf("condition none flagged server %d", i)
		}
	}
}

func TestEstimateDelay(t *testing.T) {
	tests := []struct {
		e    Estimator
		want time.Duration
	}{
		{HOL, 7 * time.Millisecond},        // head-of-line age as given
		{EWMA, 3 * time.Millisecond},       // the moving average as given
		{Predicted, 25 * time.Millisecond}, // 10 waiting × 10ms / 4 workers
	}
	for _, tc := range tests {
		if got := EstimateDelay(tc.e, 7*time.Millisecond, 3*time.Millisecond, 10, 4, 10*time.Millisecond); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.e, got, tc.want)
		}
	}
}

func TestParseNames(t *testing.T) {
	for _, n := range ConditionNames() {
		c, err := ParseCondition(n)
		if err != nil || c.String() != n {
			t.Errorf("condition %q round trip: %v %v", n, c, err)
		}
	}
	for _, n := range TargetNames() {
		c, err := ParseTarget(n)
		if err != nil || c.String() != n {
			t.Errorf("target %q round trip: %v %v", n, c, err)
		}
	}
	if _, err := ParseTarget("closest"); err == nil {
		t.Error("unknown target accepted")
	}
}

// TestShedAndAdaptive: the shed action turns away what redirect would
// send elsewhere, under either placement, and the adaptive condition
// holds once the arrival would exceed the limit.
func TestShedAndAdaptive(t *testing.T) {
	shed := Config{Condition: QueueLength, LengthThreshold: 4, Target: LeastLoaded, MaxHops: 1, Fraction: 1, Action: Shed}
	central := shed
	central.Placement = Central
	adaptive := Config{Condition: Adaptive, Target: LeastLoaded, MaxHops: 1, Fraction: 1, Action: Shed}
	adaptiveRedirect := adaptive
	adaptiveRedirect.Action = Redirect
	view := View{Servers: statuses(9, 3, 1, 7)}
	flagged := View{Servers: statuses(9, 3, 1, 7), Instructions: []Instruction{{Redirect: true, Target: 1}, {Target: -1}, {Target: -1}, {Target: -1}}}
	shedIt := Decision{Shed: true, Target: -1}
	for _, tc := range []struct {
		name string
		cfg  Config
		self Status
		view View
		want Decision
	}{
		// Below the threshold a shedding server serves.
		{"shed below", shed, Status{Server: 0, QueueLength: 4, Up: true}, view, Serve},
		// Above it, it sheds instead of redirecting to the least loaded.
		{"shed above", shed, Status{Server: 0, QueueLength: 5, Up: true}, view, shedIt},
		// Under central placement a flagged server sheds, ignoring its target.
		{"shed flagged", central, Status{Server: 0, QueueLength: 0, Up: true}, flagged, shedIt},
		// An unflagged server serves whatever its queue.
		{"shed unflagged", central, Status{Server: 1, QueueLength: 50, Up: true}, flagged, Serve},
		// Adaptive: 4 in flight with a limit of 5, the arrival makes 5: served.
		{"adaptive under", adaptive, Status{Server: 0, QueueLength: 4, Limit: 5, Up: true}, view, Serve},
		// 5 in flight with a limit of 5: the arrival would be the sixth.
		{"adaptive at", adaptive, Status{Server: 0, QueueLength: 5, Limit: 5, Up: true}, view, shedIt},
		// Adaptive with redirect sends it to the least loaded peer.
		{"adaptive redirect", adaptiveRedirect, Status{Server: 0, QueueLength: 5, Limit: 5, Up: true}, view, Decision{Redirect: true, Target: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.Decide(tc.self, tc.view, 0, 0, rand.New(rand.NewPCG(1, 2))); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// naiveNext is the gradient rule written out step by step, as the docs
// state it, to check Gradient.Next against.
func naiveNext(g Gradient, limit float64, minRTT, sample time.Duration, peak int) float64 {
	if 2*float64(peak) < limit {
		return limit
	}
	gradient := (float64(minRTT) + g.Buffer*float64(minRTT)) / float64(sample)
	if gradient < 0.5 {
		gradient = 0.5
	}
	if gradient > 2 {
		gradient = 2
	}
	estimate := gradient*limit + math.Sqrt(gradient*limit)
	next := limit + g.Smoothing*(estimate-limit)
	if next < g.MinLimit {
		next = g.MinLimit
	}
	if next > g.MaxLimit {
		next = g.MaxLimit
	}
	return next
}

// TestGradientNext: the rule against its naive statement on fixed cases
// (each clamp, the app-limited hold) and on random inputs.
func TestGradientNext(t *testing.T) {
	g := Gradient{Window: 100 * time.Millisecond, InitialLimit: 20, MinLimit: 3, MaxLimit: 1000, Buffer: 0.25, Smoothing: 0.2}
	ms := time.Millisecond
	for _, tc := range []struct {
		name           string
		limit          float64
		minRTT, sample time.Duration
		peak           int
		want           float64
	}{
		// No queueing (sample = minRTT): gradient 1.25, the limit grows.
		{"grow", 20, 10 * ms, 10 * ms, 20, 0.8*20 + 0.2*(25+5)},
		// Latency doubled: gradient 0.625.
		{"shrink", 20, 10 * ms, 20 * ms, 20, 0.8*20 + 0.2*(12.5+math.Sqrt(12.5))},
		// Latency ten times minRTT: the gradient stops at 0.5.
		{"floor", 20, 10 * ms, 100 * ms, 20, 0.8*20 + 0.2*(10+math.Sqrt(10))},
		// A sample far below minRTT (a noisy window): the gradient stops at 2.
		{"ceiling", 20, 10 * ms, 2 * ms, 20, 0.8*20 + 0.2*(40+math.Sqrt(40))},
		// Peak demand below half the limit: the server was not limited, the limit holds.
		{"app-limited", 20, 10 * ms, 50 * ms, 9, 20},
		// Exactly half: limited enough to move.
		{"half", 20, 10 * ms, 50 * ms, 10, 0.8*20 + 0.2*(10+math.Sqrt(10))},
		// Shrinking below min_limit stops there.
		{"min", 3, 10 * ms, 100 * ms, 3, 3},
		// Growing above max_limit stops there.
		{"max", 1000, 10 * ms, 10 * ms, 1000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := g.Next(tc.limit, tc.minRTT, tc.sample, tc.peak)
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Next = %g, want %g", got, tc.want)
			}
		})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		h := g
		h.Buffer = rng.Float64()
		h.Smoothing = 0.01 + 0.99*rng.Float64()
		limit := h.MinLimit + rng.Float64()*(h.MaxLimit-h.MinLimit)
		minRTT := time.Duration(1 + rng.IntN(int(50*ms)))
		sample := time.Duration(1 + rng.IntN(int(500*ms)))
		peak := rng.IntN(2 * int(limit+1))
		got, want := h.Next(limit, minRTT, sample, peak), naiveNext(h, limit, minRTT, sample, peak)
		// Relative: the two orders of floating-point operations differ.
		if math.Abs(got-want) > 1e-9*want {
			t.Fatalf("Next(%g, %v, %v, %d) under %+v = %g, naive %g", limit, minRTT, sample, peak, h, got, want)
		}
	}
}
