package server

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// startManager starts a manager on 127.0.0.1 with a token, a short
// start lead and a short poll, for the start tests.
func startManager(t *testing.T, lead time.Duration) *Manager {
	t.Helper()
	m, err := NewManager(ManagerConfig{Scenario: testScenario(), Token: testToken, StartLead: lead})
	if err != nil {
		t.Fatal(err)
	}
	m.starts.poll = 50 * time.Millisecond
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

const testToken = "start-test-token-0123456789"

func startClient(m *Manager, run string, shard, shards int, gen string) StartClient {
	return StartClient{ManagerURL: m.URL(), Token: testToken, Timeout: 2 * time.Second,
		CheckIn: StartCheckIn{Run: run, Shard: shard, Shards: shards, Generator: gen}}
}

// TestStartReleasesAllTogether: three shards checking in at different
// times all get the same time zero, the lead after the last check-in,
// converted to this host's clock within the round trip.
func TestStartReleasesAllTogether(t *testing.T) {
	m := startManager(t, 200*time.Millisecond)
	var wg sync.WaitGroup
	got := make([]StartTime, 3)
	errs := make([]error, 3)
	var last time.Time
	var mu sync.Mutex
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 80 * time.Millisecond)
			mu.Lock()
			last = time.Now()
			mu.Unlock()
			got[i], errs[i] = startClient(m, "run-a", i+1, 3, string(rune('a'+i))).Await(context.Background())
		}()
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i+1, errs[i])
		}
		if !got[i].ManagerAt.Equal(got[0].ManagerAt) {
			t.Errorf("shard %d got time zero %v, shard 1 %v", i+1, got[i].ManagerAt, got[0].ManagerAt)
		}
		if d := got[i].At.Sub(got[i].ManagerAt).Abs(); d > got[i].RTT+time.Millisecond {
			t.Errorf("shard %d: local time zero %v is %v from the manager's on one clock, beyond its round trip %v", i+1, got[i].At, d, got[i].RTT)
		}
	}
	// The last check-in came at last (up to its request's way there).
	if d := got[0].ManagerAt.Sub(last); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("time zero %v after the last check-in, want the 200ms lead", d)
	}
}

// TestStartRefuses: a wait that runs out names how many checked in and
// the other runs waiting; a shard count that disagrees, a missing token
// and a bad check-in are refused with the manager's reason.
func TestStartRefuses(t *testing.T) {
	m := startManager(t, 100*time.Millisecond)
	// Another run's shard waits (its own settings), in the background.
	ctx, cancel := context.WithCancel(context.Background())
	other := make(chan struct{})
	go func() {
		defer close(other)
		startClient(m, "run-other", 1, 2, "o").Await(ctx)
	}()
	defer func() { cancel(); <-other }()
	time.Sleep(20 * time.Millisecond)

	c := startClient(m, "run-b", 1, 2, "x")
	c.Timeout = 200 * time.Millisecond
	_, err := c.Await(context.Background())
	if err == nil || !strings.Contains(err.Error(), "1 of 2 checked in") || !strings.Contains(err.Error(), "run-other") {
		t.Errorf("timeout: %v, want 1 of 2 checked in and the other run named", err)
	}
	// run-other's shard 1 is still waiting, for 2 shards.
	c = startClient(m, "run-other", 2, 3, "y")
	if _, err := c.Await(context.Background()); err == nil || !strings.Contains(err.Error(), "has 2 shards") {
		t.Errorf("disagreeing shard count: %v", err)
	}
	c = startClient(m, "run-b", 2, 2, "y")
	c.Token = ""
	if _, err := c.Await(context.Background()); err == nil || !strings.Contains(err.Error(), "without a token (401)") {
		t.Errorf("no token: %v", err)
	}
	c = startClient(m, "run-b", 3, 2, "y")
	if _, err := c.Await(context.Background()); err == nil || !strings.Contains(err.Error(), "want 1 <= shard <= shards") {
		t.Errorf("shard beyond the count: %v", err)
	}
}

// TestStartAnew: once a run is released, its shards asking again get the
// same time zero, and a new generator of the same run (the experiment
// run again) waits for a new release instead of a time zero past.
func TestStartAnew(t *testing.T) {
	m := startManager(t, 50*time.Millisecond)
	first, err := startClient(m, "run-c", 1, 1, "g1").Await(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again, err := startClient(m, "run-c", 1, 1, "g1").Await(context.Background())
	if err != nil || !again.ManagerAt.Equal(first.ManagerAt) {
		t.Fatalf("the same generator asking again: %v, %v; want %v", again.ManagerAt, err, first.ManagerAt)
	}
	time.Sleep(60 * time.Millisecond)
	next, err := startClient(m, "run-c", 1, 1, "g2").Await(context.Background())
	if err != nil || !next.ManagerAt.After(first.ManagerAt) {
		t.Fatalf("a new generator: %v, %v; want a time zero after %v", next.ManagerAt, err, first.ManagerAt)
	}
}

// TestStartGateLive: the gate releases a run only when all its shards
// are checked in at once. Every row drives a gate on a fake clock (a
// check-in is held until left); the last check-in is shard 2's.
func TestStartGateLive(t *testing.T) {
	const expire = 3 * time.Second
	in := func(shard int, gen string) StartCheckIn {
		return StartCheckIn{Run: "r", Shard: shard, Shards: 2, Generator: gen}
	}
	for _, tc := range []struct {
		name     string
		before   func(g *startGate, now *time.Time) // shard 1's doings
		released bool
		arrived  int
	}{
		// Shard 1 asked and was answered 1 s ago: live, released.
		{"renewed", func(g *startGate, now *time.Time) {
			r, _ := g.checkIn(in(1, "a"))
			g.leave(in(1, "a"), r, false)
			*now = now.Add(time.Second)
		}, true, 2},
		// Shard 1's request is still held: live however long.
		{"held", func(g *startGate, now *time.Time) {
			g.checkIn(in(1, "a"))
			*now = now.Add(time.Minute)
		}, true, 2},
		// Shard 1 stopped asking 4 s ago (killed, or gave up without a
		// word): dropped, shard 2 waits alone.
		{"expired", func(g *startGate, now *time.Time) {
			r, _ := g.checkIn(in(1, "a"))
			g.leave(in(1, "a"), r, false)
			*now = now.Add(expire + time.Second)
		}, false, 1},
		// Shard 1 closed its held request (killed: no withdrawal):
		// dropped at once.
		{"abandoned", func(g *startGate, now *time.Time) {
			r, _ := g.checkIn(in(1, "a"))
			g.leave(in(1, "a"), r, true)
		}, false, 1},
		// Shard 1 withdrew (interrupted, timed out): dropped at once.
		{"withdrawn", func(g *startGate, now *time.Time) {
			r, _ := g.checkIn(in(1, "a"))
			g.leave(in(1, "a"), r, false)
			g.withdraw(in(1, "a"))
		}, false, 1},
		// A Job's new pod for shard 1 replaces the dead one: counted once.
		{"replaced", func(g *startGate, now *time.Time) {
			r, _ := g.checkIn(in(1, "a"))
			g.leave(in(1, "a"), r, false)
			g.checkIn(in(1, "b"))
		}, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
			g := newStartGate(func() time.Time { return now }, time.Second)
			g.expire = expire
			tc.before(g, &now)
			r, err := g.checkIn(in(2, "z"))
			if err != nil {
				t.Fatal(err)
			}
			a := g.answer("r", r)
			if released := !a.Start.IsZero(); released != tc.released || a.Arrived != tc.arrived {
				t.Errorf("released %v with %d arrived, want %v with %d", released, a.Arrived, tc.released, tc.arrived)
			}
		})
	}
	// The replaced generator asking again is told so.
	now := time.Now()
	g := newStartGate(func() time.Time { return now }, time.Second)
	g.checkIn(in(1, "a"))
	g.checkIn(in(1, "b"))
	if _, err := g.checkIn(in(1, "a")); err == nil || !strings.Contains(err.Error(), "replaced this one") {
		t.Errorf("a replaced generator checking in: %v", err)
	}
}

// TestStartWithdraws: a shard interrupted while waiting, and one whose
// wait ran out, withdraw their check-ins, so the other shard, coming
// later, waits for them instead of starting alone.
func TestStartWithdraws(t *testing.T) {
	m := startManager(t, 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := startClient(m, "run-w", 1, 2, "a").Await(ctx); err == nil {
		t.Fatal("an interrupted wait gave a time zero")
	}
	c := startClient(m, "run-t", 1, 2, "b")
	c.Timeout = 100 * time.Millisecond
	if _, err := c.Await(context.Background()); err == nil {
		t.Fatal("a wait that ran out gave a time zero")
	}
	for _, run := range []string{"run-w", "run-t"} {
		c := startClient(m, run, 2, 2, "z")
		c.Timeout = 100 * time.Millisecond
		if st, err := c.Await(context.Background()); err == nil || !strings.Contains(err.Error(), "1 of 2 checked in") {
			t.Errorf("%s: shard 2 alone: %v, %v; want it to wait for shard 1", run, st.ManagerAt, err)
		}
	}
}

// TestStartCheck: the check made before a shard's results directory
// passes with the token, and says so when the manager refuses the token
// or does not answer.
func TestStartCheck(t *testing.T) {
	m := startManager(t, time.Second)
	ctx := context.Background()
	if err := (StartClient{ManagerURL: m.URL(), Token: testToken}).Check(ctx); err != nil {
		t.Errorf("the right token: %v", err)
	}
	if err := (StartClient{ManagerURL: m.URL(), Token: "wrong-token-0123456789"}).Check(ctx); err == nil || !strings.Contains(err.Error(), "refused the token (401)") {
		t.Errorf("a wrong token: %v", err)
	}
	if err := (StartClient{ManagerURL: m.URL()}).Check(ctx); err == nil || !strings.Contains(err.Error(), "without a token (401)") {
		t.Errorf("no token: %v", err)
	}
	url := m.URL()
	m.Close()
	if err := (StartClient{ManagerURL: url, Token: testToken}).Check(ctx); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("a manager gone: %v", err)
	}
}
