package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHeapAgainstSortedReference pushes and pops random events (with many
// equal times) and checks every pop against a naive reference: a slice
// kept sorted by (time, scheduling order). The length is looked at only
// now and then, so that a push often follows a pop directly (the popped
// event is then replaced in place).
func TestHeapAgainstSortedReference(t *testing.T) {
	type ref struct {
		at   time.Duration
		seq  uint64
		slot int32
	}
	for seed := uint64(1); seed <= 50; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		var h eventHeap
		var naive []ref
		var seq uint64
		for step := 0; step < 2000; step++ {
			if r.IntN(3) != 0 || len(naive) == 0 {
				// Few distinct times, so that ties are common.
				at := time.Duration(r.IntN(20))
				slot := int32(r.IntN(1000))
				k := kind(r.IntN(8))
				h.push(at, k, slot, uint32(step))
				seq++
				naive = append(naive, ref{at, seq, slot})
				slices.SortStableFunc(naive, func(a, b ref) int {
					if a.at != b.at {
						return int(a.at - b.at)
					}
					return int(a.seq) - int(b.seq)
				})
				continue
			}
			got := h.pop()
			want := naive[0]
			naive = naive[1:]
			if got.at != want.at || got.key>>kindBits != want.seq || got.slot != want.slot {
				t.Fatalf("seed %d step %d: pop = (at %v seq %d slot %d), want (at %v seq %d slot %d)",
					seed, step, got.at, got.key>>kindBits, got.slot, want.at, want.seq, want.slot)
			}
			if r.IntN(4) == 0 {
				if h.len() != len(naive) {
					t.Fatalf("seed %d: len %d, want %d", seed, h.len(), len(naive))
				}
			}
		}
	}
}

// TestHeapTiesFireInSchedulingOrder: events due at the same instant pop
// in the order they were pushed, whatever their kind or slot.
func TestHeapTiesFireInSchedulingOrder(t *testing.T) {
	var h eventHeap
	kinds := []kind{evSample, evDone, evReach, evFault, evResponse, evPage, evReport}
	for i, k := range kinds {
		h.push(5, k, int32(100-i), 0)
	}
	h.push(4, evSample, 999, 0) // earlier time first, though pushed last
	if e := h.pop(); e.at != 4 || e.slot != 999 {
		t.Fatalf("first pop = %+v, want the event at 4", e)
	}
	for i, k := range kinds {
		e := h.pop()
		if e.kind() != k || e.slot != int32(100-i) {
			t.Fatalf("pop %d = kind %d slot %d, want kind %d slot %d", i, e.kind(), e.slot, k, 100-i)
		}
	}
	if h.len() != 0 {
		t.Fatalf("heap not empty: %d", h.len())
	}
}

// TestRingFIFO checks the ring buffer against a slice through growth and
// wrap-around.
func TestRingFIFO(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var q ring[int32]
	var ref []int32
	for i := 0; i < 10000; i++ {
		if r.IntN(5) < 3 {
			q.push(int32(i))
			ref = append(ref, int32(i))
		} else if len(ref) > 0 {
			if *q.front() != ref[0] {
				t.Fatalf("front %d, want %d", *q.front(), ref[0])
			}
			if got := q.pop(); got != ref[0] {
				t.Fatalf("pop %d, want %d", got, ref[0])
			}
			ref = ref[1:]
		}
		if q.len() != len(ref) {
			t.Fatalf("len %d, want %d", q.len(), len(ref))
		}
	}
}
