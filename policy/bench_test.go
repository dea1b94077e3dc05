package policy

import (
	"math/rand/v2"
	"testing"
	"time"
)

// decideCases are the conditions and targets (and central placement) the
// benchmarks and the allocation test cover, on a 100-server view.
func decideCases() []struct {
	name string
	cfg  Config
} {
	var out []struct {
		name string
		cfg  Config
	}
	for _, cond := range []Condition{QueueLength, QueueDelay} {
		for _, tg := range []Target{LeastLoaded, Random, RoundRobin, P2C, Probe} {
			c := Config{Condition: cond, LengthThreshold: 2, DelayThreshold: 20 * time.Millisecond, Target: tg, ProbeLimit: 3, MaxHops: 1, Fraction: 1}
			out = append(out, struct {
				name string
				cfg  Config
			}{cond.String() + "/" + tg.String(), c})
		}
	}
	c := Config{Condition: QueueLength, LengthThreshold: 2, Target: LeastLoaded, MaxHops: 1, Fraction: 0.5, Placement: Central}
	out = append(out, struct {
		name string
		cfg  Config
	}{"central/fraction", c})
	return out
}

// decideInputs is a view of 100 servers, a few busy, and a busy self.
func decideInputs(cfg Config) (Status, View) {
	servers := make([]Status, 100)
	for i := range servers {
		servers[i] = Status{Server: i, QueueLength: i % 5, Waiting: max(i%5-1, 0), QueueDelay: time.Duration(i%7) * 5 * time.Millisecond, Workers: 1, Up: i%13 != 0}
	}
	v := View{Servers: servers}
	if cfg.Placement == Central {
		v.Instructions = make([]Instruction, 100)
		v.Instructions[0] = Instruction{Redirect: true, Target: -1}
	}
	return Status{Server: 0, QueueLength: 4, Waiting: 3, QueueDelay: 40 * time.Millisecond, Workers: 1, Up: true}, v
}

// BenchmarkDecide is the decision per condition and target.
func BenchmarkDecide(b *testing.B) {
	for _, tc := range decideCases() {
		b.Run(tc.name, func(b *testing.B) {
			self, view := decideInputs(tc.cfg)
			r := rand.New(rand.NewPCG(1, 1))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				tc.cfg.Decide(self, view, 0, uint64(i), r)
			}
		})
	}
}

// TestDecideAllocatesNothing: the decision runs on every arrival of
// both drivers; it must not allocate.
func TestDecideAllocatesNothing(t *testing.T) {
	for _, tc := range decideCases() {
		self, view := decideInputs(tc.cfg)
		r := rand.New(rand.NewPCG(1, 1))
		seq := uint64(0)
		if n := testing.AllocsPerRun(200, func() { tc.cfg.Decide(self, view, 0, seq, r); seq++ }); n != 0 {
			t.Errorf("%s: %v allocations per decision", tc.name, n)
		}
	}
}
