package server

import (
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestEndHeap checks the heap against a naive reference (a slice searched
// for its minimum) over random pushes and pops, ties included.
func TestEndHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for round := range 200 {
		var h endHeap
		var ref []time.Duration
		for range 300 {
			if len(ref) > 0 && r.IntN(3) == 0 {
				got := h.pop().end
				i := slices.Index(ref, slices.Min(ref))
				want := ref[i]
				ref = slices.Delete(ref, i, i+1)
				if got != want {
					t.Fatalf("round %d: pop %v, want %v", round, got, want)
				}
				continue
			}
			end := time.Duration(r.IntN(50)) // few values: many ties
			h.push(&waiter{end: end})
			ref = append(ref, end)
		}
		for len(ref) > 0 {
			m := slices.Min(ref)
			if got := h.pop().end; got != m {
				t.Fatalf("round %d: draining: pop %v, want %v", round, got, m)
			}
			ref = slices.Delete(ref, slices.Index(ref, m), slices.Index(ref, m)+1)
		}
		if len(h) != 0 {
			t.Fatalf("round %d: %d left after draining", round, len(h))
		}
	}
}

// serveAt serves one page request in a goroutine and records, relative
// to start, when its answer was written.
func serveAt(s *Server, start time.Time, wg *sync.WaitGroup, done *time.Duration, code *int) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/page", nil))
		*done, *code = time.Since(start), rec.Code
	}()
}

// TestEarlierEndWakesCompleter: the completer sleeps until the earliest
// end; a service that will end sooner than the one it sleeps for must
// wake it. Two workers; A is served 100ms (slowdown 5 × 20ms), B arrives
// at 10ms and is served 20ms: B ends at 30ms, not when A does.
func TestEarlierEndWakesCompleter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := testScenario(group("web", 1, 2, 8, constService(20*ms)))
		s, err := New(Config{Scenario: sc, NoAlarm: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		start := time.Now()
		var wg sync.WaitGroup
		var doneA, doneB time.Duration
		var codeA, codeB int
		s.SetSlowdown(5)
		serveAt(s, start, &wg, &doneA, &codeA)
		synctest.Wait()
		s.SetSlowdown(1)
		time.Sleep(10 * ms)
		serveAt(s, start, &wg, &doneB, &codeB)
		wg.Wait()
		if codeA != 200 || codeB != 200 {
			t.Fatalf("statuses %d, %d", codeA, codeB)
		}
		if doneA != 100*ms || doneB != 30*ms {
			t.Errorf("A done at %v (want 100ms), B at %v (want 30ms)", doneA, doneB)
		}
	})
}

// TestCompleterLingers: an idle completer ends after completerLinger, a
// new service starts another, and Close ends it at once.
func TestCompleterLingers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := testScenario(group("web", 1, 1, 8, constService(5*ms)))
		s, err := New(Config{Scenario: sc, NoAlarm: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		running := func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.completing
		}
		serve := func() {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", "/page", nil))
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
		}
		serve()
		time.Sleep(completerLinger - 10*ms)
		synctest.Wait()
		if !running() {
			t.Fatal("the completer ended before its linger")
		}
		time.Sleep(20 * ms)
		synctest.Wait()
		if running() {
			t.Fatal("the completer outlived its linger")
		}
		serve() // starts another
		if !running() {
			t.Fatal("no completer after a service")
		}
		s.Close()
		if running() {
			t.Fatal("the completer outlived Close")
		}
	})
}

// TestServiceEndsNotEarly serves pages on real time with the alarm: each
// answer comes after its service time (never early), and every one comes.
// Then a crash fails a request in service, and after a restart services
// end again.
func TestServiceEndsNotEarly(t *testing.T) {
	const service = 2 * ms
	sc := testScenario(group("web", 1, 2, 64, constService(service)))
	s := startServer(t, sc, 0)
	var wg sync.WaitGroup
	took := make([]time.Duration, 20)
	for i := range took {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 300 * time.Microsecond) // staggered ends
			t0 := time.Now()
			resp, _ := get(t, s.URL()+"/page")
			took[i] = time.Since(t0)
			if resp.StatusCode != 200 {
				t.Errorf("request %d: status %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	for i, d := range took {
		if d < service {
			t.Errorf("request %d answered after %v, before its %v service", i, d, service)
		}
	}
	if c := s.Counters(); c.Served != int64(len(took)) {
		t.Errorf("served %d, want %d", c.Served, len(took))
	}

	s.SetSlowdown(1e6) // the next service lasts 2000s
	failed := make(chan error, 1)
	go func() {
		resp, err := noFollow.Get(s.URL() + "/page")
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for s.Status().QueueLength < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the request never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	s.Crash()
	select {
	case err := <-failed:
		if err == nil {
			t.Fatal("a request in service was answered despite the crash")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a request in service survived the crash")
	}
	s.SetSlowdown(1)
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if resp, _ := get(t, s.URL()+"/page"); resp.StatusCode != 200 {
		t.Fatalf("after restart: status %d", resp.StatusCode)
	}
	if d := time.Since(t0); d < service {
		t.Errorf("after restart: answered after %v, before its %v service", d, service)
	}
}

// BenchmarkServiceEnd serves one page at a time with a 200µs service and
// reports how late its answer is written, with the completer's alarm and
// on Go timers alone (up to 1 ms late when the process is idle).
func BenchmarkServiceEnd(b *testing.B) {
	const service = 200 * time.Microsecond
	for _, noAlarm := range []bool{false, true} {
		name := "alarm"
		if noAlarm {
			name = "timers"
		}
		b.Run(name, func(b *testing.B) {
			sc := testScenario(group("web", 1, 1, 8, constService(service)))
			s, err := New(Config{Scenario: sc, NoAlarm: noAlarm})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			req := httptest.NewRequest("GET", "/page", nil)
			w := &discard{h: make(map[string][]string)}
			var late time.Duration
			for b.Loop() {
				clear(w.h)
				t0 := time.Now()
				s.ServeHTTP(w, req)
				late += time.Since(t0) - service
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "late-µs/op")
		})
	}
}
