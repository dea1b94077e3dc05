package redirect

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

func parse(t *testing.T, yaml string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestMiddlewareQueue: in a synctest bubble, requests beyond the workers
// wait in FIFO order, the queue delay is the oldest waiter's real age,
// a full queue answers 503, and a worker passed to a waiter whose client
// left goes on to the next.
func TestMiddlewareQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := parse(t, `name: q
duration: 1s
servers:
  - {name: web, workers: 1, queue_capacity: 4, service: {dist: const}}
policy: {condition: none}
workload: {arrival: {process: poisson, rate: 1/s}}
`)
		var mu sync.Mutex
		var order []string
		gates := map[string]chan struct{}{}
		for _, k := range []string{"a", "b", "c", "d"} {
			gates[k] = make(chan struct{})
		}
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k := r.URL.Query().Get("k")
			mu.Lock()
			order = append(order, k)
			mu.Unlock()
			<-gates[k]
		})
		mw, err := New(Config{Scenario: sc, Server: "web"}, app)
		if err != nil {
			t.Fatal(err)
		}
		codes := make(chan string, 8)
		send := func(k string, r *http.Request) {
			w := httptest.NewRecorder()
			mw.ServeHTTP(w, r)
			codes <- fmt.Sprintf("%s:%d", k, w.Code)
		}
		req := func(k string) *http.Request { return httptest.NewRequest("GET", "/page?k="+k, nil) }
		go send("a", req("a"))
		synctest.Wait()
		time.Sleep(10 * time.Millisecond)
		go send("b", req("b"))
		synctest.Wait()
		time.Sleep(20 * time.Millisecond)
		// c's client leaves while c waits.
		cr := req("c")
		ctx, cancel := context.WithCancel(cr.Context())
		go send("c", cr.WithContext(ctx))
		synctest.Wait()
		go send("d", req("d"))
		synctest.Wait()
		time.Sleep(30 * time.Millisecond)
		st := mw.Status()
		if st.QueueLength != 4 || st.Waiting != 3 || time.Duration(st.QueueDelayNS) != 50*time.Millisecond {
			t.Fatalf("status %+v, want length 4, waiting 3, delay 50ms (b's wait)", st)
		}
		w := httptest.NewRecorder()
		mw.ServeHTTP(w, req("e"))
		if w.Code != http.StatusServiceUnavailable || w.Header().Get(model.ServerHeader) != "web-1" {
			t.Fatalf("full queue: %d %v, want 503 from web-1", w.Code, w.Header())
		}
		cancel()
		synctest.Wait()
		if got := <-codes; got != "c:200" {
			t.Fatalf("the leaving client got %s", got)
		}
		close(gates["a"])
		synctest.Wait()
		close(gates["b"])
		synctest.Wait()
		close(gates["d"])
		synctest.Wait()
		for range 3 {
			<-codes
		}
		if strings.Join(order, "") != "abd" {
			t.Fatalf("served %v, want a, b, d in order (c left)", order)
		}
		if c := mw.Counters(); c.Rejected != 1 || c.Pages != 4 {
			t.Fatalf("counters %+v, want 1 rejected, 4 pages ended (c's of no time)", c)
		}
	})
}

// TestFrontPassesThroughCleanly: the backend gets the browser's path,
// query and headers without redirlab's hop counter or header, the
// request's id included; the browser gets the backend's answer named by
// the front; the exchange is recorded.
func TestFrontPassesThroughCleanly(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(model.ServerHeader, "the-backend")
		w.Header().Set("X-Backend", "yes")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery, "header": r.Header, "host": r.Host})
	}))
	defer echo.Close()
	sc := parse(t, fmt.Sprintf(`name: f
duration: 1s
servers:
  - {name: front, workers: 2, upstream: %q}
workload: {arrival: {process: poisson, rate: 1/s}}
`, echo.URL))
	f, err := NewFront(server.Config{Scenario: sc, Index: 0}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _ := http.NewRequest("GET", f.URL()+"/page/a%20b?x=1&redirlab_req=42&redirlab_hop=1&y=%2F", nil)
	r.Header.Set("X-Custom", "kept")
	r.Header.Set(model.ServerHeader, "spoofed")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Path, Query, Host string
		Header            http.Header
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get(model.ServerHeader) != "front-1" || len(resp.Header[model.ServerHeader]) != 1 || resp.Header.Get("X-Backend") != "yes" {
		t.Errorf("answer %d, headers %v: want 200 named front-1 (once) with the backend's headers", resp.StatusCode, resp.Header)
	}
	if got.Path != "/page/a b" || got.Query != "x=1&redirlab_req=42&y=%2F" {
		t.Errorf("backend got path %q query %q, want /page/a b and x=1&redirlab_req=42&y=%%2F", got.Path, got.Query)
	}
	if got.Header.Get("X-Custom") != "kept" || got.Header.Get(model.ServerHeader) != "" || got.Header.Get("X-Forwarded-For") == "" {
		t.Errorf("backend got headers %v: want X-Custom, X-Forwarded-For, no %s", got.Header, model.ServerHeader)
	}
	if u, _ := url.Parse(echo.URL); got.Host != u.Host {
		t.Errorf("backend got Host %q, want its own %q", got.Host, u.Host)
	}
	recs := f.Records()
	if len(recs) != 1 || recs[0].ID != 42 || !recs[0].HasID || recs[0].Part != 0 || recs[0].Status != 200 || recs[0].Outcome != results.BackendOK || recs[0].Took <= 0 {
		t.Errorf("records %+v, want one ok page exchange of id 42", recs)
	}
}

// TestFrontUpstreamFailures: a backend that does not answer within the
// workload's timeout is a 504 recorded as a timeout; one that drops the
// connection, or is not there, a 502 recorded as an error; one that
// breaks off its answer an error too, though its status was 200.
func TestFrontUpstreamFailures(t *testing.T) {
	hang := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("do") {
		case "hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		case "drop":
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		case "cut":
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("the first bytes"))
			w.(http.Flusher).Flush()
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		}
	}))
	defer backend.Close()
	defer close(hang)
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	goneURL := "http://" + gone.Addr().String()
	gone.Close()
	sc := parse(t, fmt.Sprintf(`name: f
duration: 1s
servers:
  - {name: up, workers: 2, upstream: %q}
  - {name: gone, workers: 1, upstream: %q}
workload: {arrival: {process: poisson, rate: 1/s}, timeout: 300ms}
`, backend.URL, goneURL))
	for _, tc := range []struct {
		server int
		query  string
		status int
		out    results.BackendOutcome
	}{
		{0, "do=hang", 504, results.BackendTimeout}, // no answer within 300ms
		{0, "do=drop", 502, results.BackendError},   // connection closed without an answer
		{0, "do=cut", 200, results.BackendError},    // an answer broken off: the browser's body ends short
		{1, "", 502, results.BackendError},          // nothing listens
	} {
		f, err := NewFront(server.Config{Scenario: sc, Index: tc.server}, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Start(time.Now(), ""); err != nil {
			t.Fatal(err)
		}
		got := 0
		resp, err := http.Get(f.URL() + "/page?redirlab_req=1&" + tc.query)
		if err == nil {
			got = resp.StatusCode
			resp.Body.Close()
		} else if tc.query != "do=cut" {
			t.Fatal(err)
		}
		f.Close()
		recs := f.Records()
		// A broken-off answer may not reach the browser at all.
		if (got != tc.status && tc.query != "do=cut") || len(recs) != 1 || recs[0].Outcome != tc.out || recs[0].Status != tc.status {
			t.Errorf("%s on server %d: %d, records %+v; want %d recorded %v", tc.query, tc.server, got, recs, tc.status, tc.out)
		}
	}
}

// TestMiddlewareSheds: under policy.action shed a page arriving while the
// condition holds is answered 503 with the shed header and never reaches
// the handler; the counters say shed, not rejected.
func TestMiddlewareSheds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := parse(t, `name: shed
duration: 1s
servers:
  - {name: web, workers: 1, service: {dist: const}}
policy: {condition: queue-length, threshold: 0, action: shed}
workload: {arrival: {process: poisson, rate: 1/s}}
`)
		gate := make(chan struct{})
		var mu sync.Mutex
		served := 0
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			served++
			mu.Unlock()
			<-gate
		})
		mw, err := New(Config{Scenario: sc, Server: "web"}, app)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan int, 1)
		go func() {
			w := httptest.NewRecorder()
			mw.ServeHTTP(w, httptest.NewRequest("GET", "/page", nil))
			done <- w.Code
		}()
		synctest.Wait()
		w := httptest.NewRecorder()
		mw.ServeHTTP(w, httptest.NewRequest("GET", "/page", nil))
		if w.Code != http.StatusServiceUnavailable || w.Header().Get(model.ShedHeader) != "1" || w.Header().Get("Retry-After") == "" {
			t.Fatalf("while one is served: %d %v, want 503 with %s and Retry-After", w.Code, w.Header(), model.ShedHeader)
		}
		close(gate)
		if code := <-done; code != http.StatusOK {
			t.Fatalf("the first page got %d", code)
		}
		mu.Lock()
		defer mu.Unlock()
		if served != 1 {
			t.Fatalf("handler ran %d times, want 1 (the shed page never reaches it)", served)
		}
		if c := mw.Counters(); c.Shed != 1 || c.Rejected != 0 {
			t.Fatalf("counters %+v, want 1 shed, 0 rejected", c)
		}
	})
}
