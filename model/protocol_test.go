package model

import "testing"

// TestStreams: the random streams never collide: the fixed ones are
// distinct and below the per-server ranges, and the policy and agent
// ranges are each a million servers wide without overlapping.
func TestStreams(t *testing.T) {
	const servers = 1 << 20
	fixed := []uint64{StreamArrivals, StreamDispatch, StreamManager}
	seen := map[uint64]bool{}
	for _, s := range fixed {
		if seen[s] {
			t.Fatalf("stream %d used twice", s)
		}
		seen[s] = true
		if s >= StreamPolicy {
			t.Fatalf("fixed stream %d inside the policy range", s)
		}
	}
	if StreamPolicy+servers > StreamAgent {
		t.Fatalf("policy streams [%d, %d) overlap agent streams from %d", StreamPolicy, StreamPolicy+servers, StreamAgent)
	}
	if StreamAgent+servers < StreamAgent {
		t.Fatal("agent streams overflow")
	}
}
