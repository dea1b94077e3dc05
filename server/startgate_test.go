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
	c = startClient(m, "run-b", 2, 3, "y")
	if _, err := c.Await(context.Background()); err == nil || !strings.Contains(err.Error(), "has 2 shards") {
		t.Errorf("disagreeing shard count: %v", err)
	}
	c = startClient(m, "run-b", 2, 2, "y")
	c.Token = ""
	if _, err := c.Await(context.Background()); err == nil || !strings.Contains(err.Error(), "refused the token") {
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
