package loadgen

import (
	"math"
	"sync"
	"time"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
)

// Before its first arrival the open loop opens the connections its
// first second will need, so that its first requests do not each wait
// for a connection set-up, queued behind maxDialsPerHost others: a
// storm of set-ups that a warm run never sees. Connections opened then
// and during the run are counted apart in summary.json (connections), so
// a run shows whether the warm set fell short; go run ./loadgen/bench
// -first [-noprewarm] prints the send lag of the first second and of
// the rest.

const (
	// prewarmMargin multiplies the connections in use on average
	// (Little's law: rate × latency): arrivals come in bursts.
	prewarmMargin = 2
	// maxPrewarmPerTarget bounds the connections opened ahead to one
	// server, over all pools.
	maxPrewarmPerTarget = 256
	// prewarmAhead is how long before the time zero the connections are
	// opened at the earliest: servers close idle connections (30 s by
	// default), so a start far ahead waits first.
	prewarmAhead = 5 * time.Second
	// minLatency is the latency assumed of a server whose service is
	// faster: a loopback exchange takes about this long.
	minLatency = 200 * time.Microsecond
)

// prewarmCounts is the connections to open ahead to each target, per
// pool: the shard's share of the mean exchange rate, split by dispatch
// share, times the expected latency (the page's mean service and the
// network's round trip, at least minLatency), times prewarmMargin; at
// least one per pool and target, at most maxPrewarmPerTarget per target
// and the pool's idle bound.
func prewarmCounts(p *plan.Plan, targets, pools, maxIdle int, shard Shard) []int {
	est := p.Estimate()
	rate := est.Requests / max(est.Seconds, 1e-9)
	if shard.Sharded() {
		rate /= float64(shard.Count)
	}
	w := targetWeights(p, targets)
	var sum float64
	for i := range w {
		if p.Dispatch != dispatch.Weighted {
			w[i] = 1
		}
		sum += w[i]
	}
	out := make([]int, targets)
	for i := range out {
		lat := minLatency
		if i < len(p.Servers) {
			lat = max(p.Servers[i].Page.Mean()+p.RTT, minLatency)
		}
		share := 0.0
		if sum > 0 {
			share = w[i] / sum
		}
		need := prewarmMargin * rate * share * lat.Seconds()
		perPool := int(math.Ceil(min(need, maxPrewarmPerTarget) / float64(pools)))
		out[i] = min(max(perPool, 1), maxIdle, max(maxPrewarmPerTarget/pools, 1))
	}
	return out
}

// warm opens the connections of prewarmCounts in every pool, at once,
// no earlier than prewarmAhead before the time zero.
func (o *openLoop) warm() {
	if o.opts.NoPrewarm {
		return
	}
	if d := o.start.Sub(o.clock.Now()) - prewarmAhead; d > 0 && !sleep(o.ctx, o.clock, d) {
		return
	}
	var wg sync.WaitGroup
	for _, c := range o.b.clients {
		for i, n := range o.warmCounts {
			wg.Go(func() { c.prewarm(o.b.pages[i], n) })
		}
	}
	wg.Wait()
}

// dials is the connections opened so far, over all pools.
func (o *openLoop) dials() int64 {
	var n int64
	for _, c := range o.b.clients {
		n += c.dials.Load()
	}
	return n
}

// describer is a sink that takes run information (a Recorder).
type describer interface{ Describe(results.RunInfo) }

// reportConnections tells the sink how many connections were opened
// before the first arrival and after.
func (o *openLoop) reportConnections(before int64) {
	if d, ok := o.rec.(describer); ok {
		d.Describe(results.RunInfo{Connections: &results.Connections{Prewarmed: before, OpenedDuring: o.dials() - before}})
	}
}
