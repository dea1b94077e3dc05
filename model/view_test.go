package model

import (
	"testing"
	"time"

	"github.com/redirlab/redirlab/policy"
)

// TestViewHolderTTL: a view exactly TTL old is still used; one
// nanosecond older it is not; before any view there is none.
func TestViewHolderTTL(t *testing.T) {
	h := &ViewHolder{TTL: time.Second}
	if v := h.Current(0); v != &NoView {
		t.Fatalf("before any view: %+v, want NoView", v)
	}
	if _, ok := h.Age(5 * ms); ok {
		t.Fatal("Age says there is a view before any")
	}
	h.Set(10*ms, upView(0, 1), nil)
	for _, tc := range []struct {
		name string
		now  time.Duration
		used bool
	}{
		// Received this instant.
		{"fresh", 10 * ms, true},
		// Half the TTL.
		{"half", 510 * ms, true},
		// Exactly TTL old: still used.
		{"exactly TTL", 10*ms + time.Second, true},
		// One nanosecond past the TTL: ignored.
		{"TTL+1ns", 10*ms + time.Second + 1, false},
		// Long past.
		{"long past", time.Hour, false},
	} {
		v := h.Current(tc.now)
		if used := v != &NoView; used != tc.used {
			t.Errorf("%s: used %v, want %v", tc.name, used, tc.used)
		}
		if tc.used && len(v.Servers) != 2 {
			t.Errorf("%s: view %+v, want the 2 servers set", tc.name, v)
		}
		if got := h.ViewFor(7, tc.now); got != v {
			t.Errorf("%s: ViewFor differs from Current", tc.name)
		}
		if age, ok := h.Age(tc.now); !ok || age != tc.now-10*ms {
			t.Errorf("%s: age %v (%v), want %v", tc.name, age, ok, tc.now-10*ms)
		}
	}
	// A new view restarts the clock.
	h.Set(time.Hour, upView(0), nil)
	if v := h.Current(time.Hour + time.Second); v == &NoView || len(v.Servers) != 1 {
		t.Fatalf("after a new view: %+v", v)
	}
	// TTL 0: only at the instant it was received.
	z := &ViewHolder{}
	z.Set(3*ms, upView(0), nil)
	if z.Current(3*ms) == &NoView || z.Current(3*ms+1) != &NoView {
		t.Fatal("TTL 0: want the view at its instant only")
	}
}

// TestViewHolderURLs: a peer without a URL is down in the held view; nil
// urls name every peer; a URL does not bring up a peer reported down.
func TestViewHolderURLs(t *testing.T) {
	for _, tc := range []struct {
		name string
		up   []bool // the view's servers' Up
		urls []string
		want []bool
	}{
		// nil: the simulator, every peer nameable.
		{"nil urls", []bool{true, true, true}, nil, []bool{true, true, true}},
		// All named.
		{"all named", []bool{true, true, true}, urlsFor(3), []bool{true, true, true}},
		// Peer 1 has an empty URL.
		{"empty url", []bool{true, true, true}, []string{"a", "", "c"}, []bool{true, false, true}},
		// urls shorter than the view: peer 2 has none.
		{"short urls", []bool{true, true, true}, []string{"a", "b"}, []bool{true, true, false}},
		// Empty but non-nil: nobody named.
		{"no urls", []bool{true, true, true}, []string{}, []bool{false, false, false}},
		// Down in the view stays down, URL or not.
		{"down stays down", []bool{true, false, true}, urlsFor(3), []bool{true, false, true}},
	} {
		v := upView(0, 0, 0)
		for i, u := range tc.up {
			v.Servers[i].Up = u
		}
		h := &ViewHolder{TTL: time.Second}
		h.Set(0, v, tc.urls)
		got := h.Current(0)
		for i, want := range tc.want {
			if got.Servers[i].Up != want {
				t.Errorf("%s: server %d up %v, want %v", tc.name, i, got.Servers[i].Up, want)
			}
		}
		// The source is not marked.
		for i, u := range tc.up {
			if v.Servers[i].Up != u {
				t.Errorf("%s: Set changed the source's server %d", tc.name, i)
			}
		}
	}
}

// TestViewHolderCopies: Set copies the view's slices, so changing the
// source afterwards does not change the held view, also when Set reuses
// its buffers.
func TestViewHolderCopies(t *testing.T) {
	h := &ViewHolder{TTL: time.Second}
	for round := range 2 {
		v := upView(1, 2, 3)
		v.Instructions = []policy.Instruction{{Target: -1}, {Redirect: true, Target: 2}, {Target: -1}}
		v.At = time.Duration(round+5) * ms
		h.Set(0, v, nil)
		v.Servers[0].QueueLength, v.Servers[1].Up = 99, false
		v.Instructions[1] = policy.Instruction{Target: -1}
		got := h.Current(0)
		if got.Servers[0].QueueLength != 1 || !got.Servers[1].Up {
			t.Fatalf("round %d: held servers follow the source: %+v", round, got.Servers)
		}
		if !got.Instructions[1].Redirect || got.Instructions[1].Target != 2 {
			t.Fatalf("round %d: held instructions follow the source: %+v", round, got.Instructions)
		}
		if got.At != v.At {
			t.Fatalf("round %d: At %v, want %v", round, got.At, v.At)
		}
	}
	// A smaller view without instructions replaces all of it.
	h.Set(0, upView(7), nil)
	if got := h.Current(0); len(got.Servers) != 1 || got.Servers[0].QueueLength != 7 || got.Instructions != nil {
		t.Fatalf("after a smaller local view: %+v", got)
	}
}
