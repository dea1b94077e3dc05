package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discard is a ResponseWriter that keeps nothing, so that benchmarks
// measure the handler rather than a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchServer(b *testing.B, overloaded bool) *Server {
	sc := testScenario(group("web", 2, 64, 4096, constService(0)))
	sc.Manager.ViewTTL = time.Hour // no agent refreshes the view
	s, err := New(Config{Scenario: sc, Peers: []string{"", peerBase}})
	if err != nil {
		b.Fatal(err)
	}
	allUp(s, "", peerBase)
	if overloaded {
		occupy(s, 64) // every worker busy: 64 > 0 holds, every page is redirected
	}
	return s
}

func benchHandler(b *testing.B, s *Server, target string, want int) {
	req := httptest.NewRequest("GET", target, nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, req)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("status %d, want %d", rec.Code, want)
	}
}

// BenchmarkServePage is the handler's cost of a page with zero service
// time (no network).
func BenchmarkServePage(b *testing.B) {
	benchHandler(b, benchServer(b, false), "/page?id=1", 200)
}

// BenchmarkRedirect is the handler's cost of answering with a redirect.
func BenchmarkRedirect(b *testing.B) {
	benchHandler(b, benchServer(b, true), "/page?id=1", 302)
}

// BenchmarkLoopbackPage is one page exchange over loopback HTTP with
// keep-alive, zero service time, one request at a time: the per-exchange
// cost a simulation's network.rtt and network.overhead stand for.
func BenchmarkLoopbackPage(b *testing.B) {
	sc := testScenario(group("web", 1, 4, 64, constService(0)))
	s, err := New(Config{Scenario: sc})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{}
	url := s.URL() + "/page"
	for b.Loop() {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
