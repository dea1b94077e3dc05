package model

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/redirlab/redirlab/policy"
)

const ms = time.Millisecond

// constSampler is a dist.Sampler of one fixed service time. Its Quantile
// is also the constant, as dist's const distribution is; the tests keep
// their own so that package model's tests import nothing that might one
// day import model.
type constSampler time.Duration

func (c constSampler) Sample(*rand.Rand) time.Duration { return time.Duration(c) }
func (c constSampler) Mean() time.Duration             { return time.Duration(c) }
func (c constSampler) Quantile(float64) time.Duration  { return time.Duration(c) }

// linearSampler tells demands from draws: Quantile(u) is u seconds and
// Sample is always 7ms, so a test sees which one a service time came from.
type linearSampler struct{}

func (linearSampler) Sample(*rand.Rand) time.Duration { return 7 * ms }
func (linearSampler) Mean() time.Duration             { return 7 * ms }
func (linearSampler) Quantile(u float64) time.Duration {
	return time.Duration(u * float64(time.Second))
}

// noRedirect is the policy that never redirects.
var noRedirect = policy.Config{Condition: policy.None, MaxHops: 1, Fraction: 1}

// serverConfig is the port of server's machineConfig: server index with
// the given workers, capacity, constant page service and policy; objects
// take no time; ewma weight 0.5.
func serverConfig(t testing.TB, index, workers, capacity int, service time.Duration, p policy.Config) ServerConfig {
	t.Helper()
	return ServerConfig{
		Index: index, Workers: workers, Capacity: capacity,
		Page: constSampler(service), Object: constSampler(0),
		Policy: p, EWMAWeight: 0.5, Rand: rand.New(rand.NewPCG(1, 2)),
	}
}

// upView is a view in which every server is up with the given queue
// lengths and one worker.
func upView(lengths ...int) policy.View {
	v := policy.View{Servers: make([]policy.Status, len(lengths))}
	for i, l := range lengths {
		v.Servers[i] = policy.Status{Server: i, QueueLength: l, Workers: 1, Up: true}
	}
	return v
}

// urlsFor names n servers.
func urlsFor(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "http://127.0.0.1:" + strconv.Itoa(1000*(i+1))
	}
	return out
}

// fixedView is a ViewSource that always gives one view and counts the
// times it was asked.
type fixedView struct {
	v     policy.View
	asked int
}

func (f *fixedView) ViewFor(int, time.Duration) *policy.View {
	f.asked++
	return &f.v
}
