package loadgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/plan"
)

// Shard is the Index-th (from 1) of Count disjoint shares of a run's
// arrivals, for several generators driving one run together. The
// schedule is drawn whole, with the same seed, by every shard, and split
// after: arrival k (from 0, in schedule order) belongs to shard
// k mod Count + 1, with its whole session. So together the shards make
// exactly the one-generator schedule: the same session start times, and
// with one page per session the same request ids (the arrival's index),
// hence the same demands, and the same first servers (every shard draws
// the dispatch stream for every arrival and keeps its own picks; equal as
// long as no request is rejected by the client, which takes no pick).
// With sessions of several pages a page's time follows the previous
// page's end, so the one-generator ids (in due order) depend on the
// servers; a shard numbers its own pages in due order as local·Count +
// Index − 1, unique across shards. The zero value is no sharding.
type Shard struct {
	Index, Count int
}

// Sharded reports whether s splits the run.
func (s Shard) Sharded() bool { return s.Count > 0 }

// String is i/n.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads i/n, 1 <= i <= n. The error says what is wrong,
// without naming the flag (the caller does).
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, erri := strconv.Atoi(strings.TrimSpace(a))
	n, errn := strconv.Atoi(strings.TrimSpace(b))
	if !ok || erri != nil || errn != nil {
		return Shard{}, fmt.Errorf("%q: want i/n, such as 1/2 (the first of two shares)", v)
	}
	s := Shard{Index: i, Count: n}
	return s, s.validate()
}

func (s Shard) validate() error {
	switch {
	case s == Shard{}:
		return nil
	case s.Count < 1:
		return fmt.Errorf("%d/%d: the number of shares must be at least 1", s.Index, s.Count)
	case s.Index < 1 || s.Index > s.Count:
		return fmt.Errorf("%d/%d: the share must be from 1 to %d", s.Index, s.Count, s.Count)
	}
	return nil
}

// owns reports whether arrival k (from 0) is this shard's.
func (s Shard) owns(k uint64) bool {
	return !s.Sharded() || k%uint64(s.Count) == uint64(s.Index-1)
}

// CheckShard refuses the workloads a shard cannot run as its share of
// one generator's schedule.
func CheckShard(s Shard, p *plan.Plan) error {
	if !s.Sharded() {
		return nil
	}
	if p.Closed {
		return fmt.Errorf("--shard %v: workload.arrival.process closed has no schedule drawn in advance to split (hey's browsers pace themselves); run the closed loop from one generator", s)
	}
	if p.Dispatch == dispatch.JSQ || p.Dispatch == dispatch.P2C {
		return fmt.Errorf("--shard %v: workload.dispatch %v compares the generator's own outstanding requests per server, and each shard sees only its own: use random, round-robin or weighted", s, p.Dispatch)
	}
	return nil
}
