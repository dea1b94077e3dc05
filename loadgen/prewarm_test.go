package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// TestPrewarmBeforeFirstArrival: the connections prewarmCounts asks for
// are open before the first request reaches the server, and the summary
// counts them apart from those opened during the run; without
// prewarming none are.
func TestPrewarmBeforeFirstArrival(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoPrewarm=%v", off), func(t *testing.T) {
			var mu sync.Mutex
			var conns, atFirst int
			first := true
			s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				if first {
					first, atFirst = false, conns
				}
				mu.Unlock()
				w.Write([]byte("page"))
			}))
			s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					mu.Lock()
					conns++
					mu.Unlock()
				}
			}
			s.Start()
			defer s.Close()
			sc := scenario(1, constant(2000), 300*time.Millisecond)
			sc.Servers[0].Service = scenarios.Service{Dist: "const", Mean: 10 * time.Millisecond}
			rec, err := results.NewRecorder(sc, results.Real, results.Options{})
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{NoPrewarm: off, Start: time.Now().Add(100 * time.Millisecond), Transport: Transport{Pools: 4}}
			if err := Run(context.Background(), sc, []string{s.URL}, rec, opts); err != nil {
				t.Fatal(err)
			}
			sum, err := rec.Close()
			if err != nil {
				t.Fatal(err)
			}
			c := sum.Connections
			if c == nil {
				t.Fatal("no connections in the summary")
			}
			// 2000/s × 10ms × 2 = 40 connections, 10 in each of 4 pools.
			// Without, the first requests open their own (one or more,
			// dialed at once).
			want := int64(40)
			if off {
				want = 0
			}
			mu.Lock()
			defer mu.Unlock()
			if c.Prewarmed != want || int64(atFirst) < max(want, 1) {
				t.Errorf("prewarmed %d, %d open when the first request came; want %d, and at least as many open", c.Prewarmed, atFirst, want)
			}
			if c.Prewarmed+c.OpenedDuring != int64(conns) {
				t.Errorf("summary counts %d + %d connections, the server saw %d", c.Prewarmed, c.OpenedDuring, conns)
			}
		})
	}
}
