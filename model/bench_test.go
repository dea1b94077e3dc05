package model

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redirlab/redirlab/policy"
)

// BenchmarkServerArriveFinish is one page through a server's model: an
// arrival that asks the policy (queue-length, p2c, 100-server view) and
// is admitted, then its service's end.
func BenchmarkServerArriveFinish(b *testing.B) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 2, Target: policy.P2C, MaxHops: 1, Fraction: 1}
	cfg := serverConfig(b, 0, 2, 64, 10*time.Millisecond, p)
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	m := NewServer[int](cfg)
	h := &ViewHolder{TTL: time.Hour}
	v := upView(make([]int, 100)...)
	h.Set(0, v, nil)
	b.ReportAllocs()
	now := time.Duration(0)
	for i := 0; b.Loop(); i++ {
		now += 12 * time.Millisecond // past the last service's end: every page starts at once
		a := m.ArrivePage(now, 0, Demand{ID: uint64(i), OK: true}, i, h)
		if a.Kind == Started {
			m.Finish(a.End, a.Epoch, true, a.End, i)
		}
	}
}
