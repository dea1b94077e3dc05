package loadgen

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// scheduled is what the schedule fixes of a page request: its id (and so
// its demand, drawn by the servers from the id), its time and its first
// server.
type scheduled struct {
	id    uint64
	at    time.Duration
	first int
}

func scheduleOf(recs []results.Request) []scheduled {
	var out []scheduled
	for _, r := range recs {
		out = append(out, scheduled{r.ID, r.Scheduled, r.First})
	}
	slices.SortFunc(out, func(a, b scheduled) int { return int(a.id) - int(b.id) })
	return out
}

// TestShardsSplitTheSchedule: for each dispatch policy that can be
// sharded, three shards together send exactly the one-generator
// schedule (same ids, times and first servers), disjointly, each
// request k in shard k mod 3 + 1.
func TestShardsSplitTheSchedule(t *testing.T) {
	for _, dispatch := range []string{"random", "round-robin", "weighted"} {
		t.Run(dispatch, func(t *testing.T) {
			sc := scenario(4, poisson(2000), time.Second)
			sc.Workload.Dispatch = dispatch
			one := scheduleOf(runFakeTargets(t, sc, 4, time.Millisecond, Options{}))
			if len(one) < 1500 {
				t.Fatalf("one generator sent %d requests, want about 2000", len(one))
			}
			var union []scheduled
			for i := 1; i <= 3; i++ {
				share := scheduleOf(runFakeTargets(t, sc, 4, time.Millisecond, Options{Shard: Shard{Index: i, Count: 3}}))
				for _, s := range share {
					if int(s.id%3) != i-1 {
						t.Fatalf("shard %d/3 sent request %d, which is shard %d's", i, s.id, s.id%3+1)
					}
				}
				union = append(union, share...)
			}
			slices.SortFunc(union, func(a, b scheduled) int { return int(a.id) - int(b.id) })
			if !slices.Equal(union, one) {
				n := min(len(union), len(one))
				for k := range n {
					if union[k] != one[k] {
						t.Fatalf("shards' request %d is %+v, one generator's %+v (of %d and %d)", k, union[k], one[k], len(union), len(one))
					}
				}
				t.Fatalf("shards sent %d requests, one generator %d", len(union), len(one))
			}
		})
	}
}

// TestShardsKeepSessionsWhole: with sessions of three pages, each
// session's pages stay in one shard, and the shards together start the
// one-generator sessions at the same times, with ids unique across
// shards.
func TestShardsKeepSessionsWhole(t *testing.T) {
	sc := scenario(2, poisson(200), time.Second)
	sc.Workload.Session = scenarios.Session{Pages: 3, Think: 10 * time.Millisecond}
	starts := func(recs []results.Request) []time.Duration {
		// A session's first page is the only one due at an arrival time;
		// with a fixed 1ms service, follow-ups are at start + k·11ms.
		var out []time.Duration
		for _, r := range recs {
			out = append(out, r.Scheduled)
		}
		slices.Sort(out)
		return out
	}
	one := runFakeTargets(t, sc, 2, time.Millisecond, Options{})
	var union []results.Request
	ids := map[uint64]int{}
	for i := 1; i <= 2; i++ {
		share := runFakeTargets(t, sc, 2, time.Millisecond, Options{Shard: Shard{Index: i, Count: 2}})
		for _, r := range share {
			if prev, dup := ids[r.ID]; dup {
				t.Fatalf("id %d sent by shards %d and %d", r.ID, prev, i)
			}
			ids[r.ID] = i
		}
		union = append(union, share...)
	}
	if a, b := starts(union), starts(one); !slices.Equal(a, b) {
		t.Fatalf("shards scheduled %d pages, one generator %d, or at other times", len(a), len(b))
	}
}

// TestParseShard: the forms --shard takes and refuses.
func TestParseShard(t *testing.T) {
	tests := []struct {
		in, err string // err: a part of the message, "" for ok
	}{
		{"1/2", ""},             // the first of two
		{"3/3", ""},             // the last
		{"1/1", ""},             // one share: the whole run
		{"0/2", "from 1 to 2"},  // shares count from 1
		{"3/2", "from 1 to 2"},  // beyond n
		{"1/0", "at least 1"},   // no shares
		{"-1/-1", "at least 1"}, // negative
		{"2", "want i/n"},       // no count
		{"a/b", "want i/n"},     // not numbers
		{"1/2/3", "want i/n"},   // too many parts
		{"", "want i/n"},        // empty
		{"1.5/2", "want i/n"},   // not whole
	}
	for _, tc := range tests {
		_, err := ParseShard(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseShard(%q): %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseShard(%q) = %v, want an error containing %q", tc.in, err, tc.err)
		}
	}
}
