package alarm

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

// bound caps every wait in these tests: an alarm that does not fire
// within it is broken, not slow.
const bound = 10 * time.Second

func newAlarm(t *testing.T) *Alarm {
	t.Helper()
	a, err := New()
	if runtime.GOOS != "linux" {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("New on %s: %v, want ErrUnsupported", runtime.GOOS, err)
		}
		t.Skip("timerfds are Linux only")
	}
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// waitTick waits for a tick, failing after bound.
func waitTick(t *testing.T, a *Alarm) {
	t.Helper()
	select {
	case <-a.C():
	case <-time.After(bound):
		t.Fatalf("no tick within %v", bound)
	}
}

// TestFiresNotEarly: the alarm fires, and never before its due time as
// time.Since measures it (both read CLOCK_MONOTONIC).
func TestFiresNotEarly(t *testing.T) {
	a := newAlarm(t)
	defer a.Close()
	for _, d := range []time.Duration{
		-time.Millisecond,      // past due: at once
		0,                      // due now: at once
		1,                      // the shortest wait there is
		100 * time.Microsecond, // below the netpoller's 1 ms resolution
		2 * time.Millisecond,   // above it
	} {
		start := time.Now()
		if err := a.Set(d); err != nil {
			t.Fatal(err)
		}
		waitTick(t, a)
		if el := time.Since(start); el < d {
			t.Errorf("Set(%v) fired after %v: early", d, el)
		}
	}
}

// TestSetReplaces: a later Set replaces the earlier due time, both
// earlier and later.
func TestSetReplaces(t *testing.T) {
	a := newAlarm(t)
	defer a.Close()

	// An hour, then 1 ms: the alarm fires, after the 1 ms.
	start := time.Now()
	a.Set(time.Hour)
	a.Set(time.Millisecond)
	waitTick(t, a)
	if el := time.Since(start); el < time.Millisecond {
		t.Errorf("fired after %v, before the 1ms", el)
	}

	// 50 ms, then an hour: no tick in the next 100 ms.
	start = time.Now()
	a.Set(50 * time.Millisecond)
	a.Set(time.Hour)
	if time.Since(start) >= 50*time.Millisecond {
		t.Skip("the machine is too loaded to re-arm within 50ms")
	}
	select {
	case <-a.C():
		t.Fatal("fired at the replaced due time")
	case <-time.After(100 * time.Millisecond):
	}
}

// TestTicksDoNotPileUp: expiries nobody waits for leave one tick and
// never block the reader, so Close still returns.
func TestTicksDoNotPileUp(t *testing.T) {
	a := newAlarm(t)
	for range 3 {
		a.Set(0)
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(bound):
		t.Fatal("Close did not return: the reader is stuck")
	}
	if n := len(a.C()); n > 1 {
		t.Errorf("%d ticks waiting, want at most 1", n)
	}
}

// TestClosed: Set and Close fail after Close.
func TestClosed(t *testing.T) {
	a := newAlarm(t)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(time.Millisecond); err == nil {
		t.Error("Set after Close succeeded")
	}
	if err := a.Close(); err == nil {
		t.Error("second Close succeeded")
	}
}

// BenchmarkLateness waits out 300µs per op, with a Go timer alone and
// with an alarm beside it, and reports how late the wake-up was. On an
// idle Linux machine the timer alone is about 0.5 ms late on average.
func BenchmarkLateness(b *testing.B) {
	const d = 300 * time.Microsecond
	for _, withAlarm := range []bool{false, true} {
		name := "timer"
		if withAlarm {
			name = "timer+alarm"
		}
		b.Run(name, func(b *testing.B) {
			var tick <-chan struct{}
			var a *Alarm
			if withAlarm {
				var err error
				if a, err = New(); err != nil {
					b.Skip(err)
				}
				defer a.Close()
				tick = a.C()
			}
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			var late time.Duration
			for b.Loop() {
				due := time.Now().Add(d)
				for {
					left := time.Until(due)
					if left <= 0 {
						break
					}
					if a != nil {
						a.Set(left)
					}
					timer.Reset(left)
					select {
					case <-timer.C:
					case <-tick:
					}
				}
				late += time.Since(due)
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "late-µs/op")
		})
	}
}
