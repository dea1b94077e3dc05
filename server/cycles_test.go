package server

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"testing"
	"time"
)

// openFDs counts this process's open file descriptors (Linux).
func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(entries)
}

// TestClusterCyclesLeakNothing: 200 cycles of start, serve, stop of a
// small cluster leave the goroutine and file descriptor counts flat.
func TestClusterCyclesLeakNothing(t *testing.T) {
	sc := testScenario(group("web", 2, 1, 16, constService(time.Millisecond)))
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	cycle := func() {
		c, err := NewCluster(sc, ClusterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, u := range c.URLs() {
			resp, err := client.Get(u + "/page")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		client.CloseIdleConnections()
	}
	settle := func() (int, int) {
		// Closed connections' goroutines end a moment after Close.
		g, f := 0, 0
		for k := 0; k < 50; k++ {
			runtime.GC()
			g, f = runtime.NumGoroutine(), openFDs(t)
			time.Sleep(10 * time.Millisecond)
			if g2, f2 := runtime.NumGoroutine(), openFDs(t); g2 == g && f2 == f {
				break
			}
		}
		return g, f
	}
	for k := 0; k < 10; k++ {
		cycle()
	}
	g0, f0 := settle()
	for k := 0; k < 190; k++ {
		cycle()
	}
	g1, f1 := settle()
	t.Logf("after 10 cycles: %d goroutines, %d fds; after 200: %d goroutines, %d fds", g0, f0, g1, f1)
	if g1 > g0+5 || f1 > f0+5 {
		t.Fatalf("growth over 190 cycles: goroutines %d -> %d, fds %d -> %d", g0, g1, f0, f1)
	}
}
