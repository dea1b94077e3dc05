package model

import (
	"testing"
	"time"
)

func TestSessionNext(t *testing.T) {
	s := Session{Pages: 3, Objects: 2, Think: 100 * ms, Horizon: time.Second}
	for _, tc := range []struct {
		name      string
		after     int
		closed    bool
		end       time.Duration
		due       time.Duration
		afterNext int
		ok        bool
	}{
		// Open session, two pages to come: the next after the think,
		// one more after it.
		{"open, pages left", 2, false, 200 * ms, 300 * ms, 1, true},
		// Open session, one page to come: it is the last.
		{"open, one left", 1, false, 200 * ms, 300 * ms, 0, true},
		// Open session, its last page: nothing follows.
		{"open, last page", 0, false, 200 * ms, 0, 0, false},
		// Closed loop, last page: a new session of Pages pages starts
		// after the think; Pages-1 follow its first.
		{"closed, new session", 0, true, 200 * ms, 300 * ms, 2, true},
		// Closed loop with pages left: the session goes on as an open one.
		{"closed, pages left", 2, true, 200 * ms, 300 * ms, 1, true},
		// The next page would be due one nanosecond before the horizon.
		{"just before horizon", 1, false, 900*ms - 1, time.Second - 1, 0, true},
		// The next page would be due exactly at the horizon: none.
		{"at horizon", 1, false, 900 * ms, 0, 0, false},
		// After the horizon: none.
		{"after horizon", 2, false, 950 * ms, 0, 0, false},
		// A closed-loop browser does not start a session at the horizon.
		{"closed at horizon", 0, true, 900 * ms, 0, 0, false},
	} {
		due, afterNext, ok := s.Next(tc.after, tc.closed, tc.end)
		if due != tc.due || afterNext != tc.afterNext || ok != tc.ok {
			t.Errorf("%s: Next(%d, %v, %v) = %v, %d, %v; want %v, %d, %v", tc.name,
				tc.after, tc.closed, tc.end, due, afterNext, ok, tc.due, tc.afterNext, tc.ok)
		}
	}
	// One-page closed-loop sessions: every page is a session's last.
	one := Session{Pages: 1, Horizon: time.Second}
	if due, afterNext, ok := one.Next(0, true, 10*ms); !ok || due != 10*ms || afterNext != 0 {
		t.Fatalf("one-page closed loop, no think: %v, %d, %v; want 10ms, 0, true", due, afterNext, ok)
	}
}
