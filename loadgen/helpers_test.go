package loadgen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// collector is a sink that keeps copies of every record, for tests.
type collector struct {
	mu    sync.Mutex
	recs  []results.Request
	notes []string
}

func (c *collector) Add(r *results.Request) {
	c.mu.Lock()
	c.recs = append(c.recs, *r)
	c.mu.Unlock()
}

func (c *collector) AddSample(*results.ServerSample) {}

func (c *collector) Note(s string) {
	c.mu.Lock()
	c.notes = append(c.notes, s)
	c.mu.Unlock()
}

// sorted returns the records in ID (schedule) order.
func (c *collector) sorted() []results.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.recs)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (c *collector) count(o results.Outcome) int {
	n := 0
	for _, r := range c.sorted() {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// checkIDs fails unless the records' IDs are exactly 0..n-1, once each.
func checkIDs(t *testing.T, recs []results.Request) {
	t.Helper()
	for i, r := range recs {
		if r.ID != uint64(i) {
			t.Fatalf("record %d has ID %d: IDs must be 0..n-1 with exactly one record each", i, r.ID)
		}
	}
}

// scenario builds a validated-looking scenario by hand (what
// scenarios.Load would fill): n servers of group "web", the given
// arrival process, one page per session.
func scenario(n int, arrival scenarios.Arrival, duration time.Duration) *scenarios.Scenario {
	return &scenarios.Scenario{
		Name:     "loadgen-test",
		Seed:     1,
		Duration: duration,
		Servers:  []scenarios.ServerGroup{{Name: "web", Count: n, Workers: 1, Weight: 1}},
		Workload: scenarios.Workload{
			Dispatch:     "random",
			Arrival:      arrival,
			Session:      scenarios.Session{Pages: 1},
			Timeout:      5 * time.Second,
			MaxInFlight:  10000,
			MaxRedirects: 10,
			Path:         "/page",
		},
	}
}

func constant(rate float64) scenarios.Arrival {
	return scenarios.Arrival{Process: "constant", Rate: scenarios.Rate(rate)}
}

func poisson(rate float64) scenarios.Arrival {
	return scenarios.Arrival{Process: "poisson", Rate: scenarios.Rate(rate)}
}

// servers starts n httptest servers on 127.0.0.1 named web-1..web-n that
// answer with h(i, w, r) (nil: a small page), and returns their URLs.
func servers(t *testing.T, n int, h func(i int, w http.ResponseWriter, r *http.Request)) []string {
	t.Helper()
	var urls []string
	for i := range n {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(ServerHeader, fmt.Sprintf("web-%d", i+1))
			if h != nil {
				h(i, w, r)
				return
			}
			w.Write([]byte("page"))
		}))
		t.Cleanup(s.Close)
		urls = append(urls, s.URL)
	}
	return urls
}
