package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/scenarios"
)

// noFollow is a client that returns redirects instead of following them.
var noFollow = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// startServer starts server index of sc on 127.0.0.1 with the given
// static peers and no manager.
func startServer(t *testing.T, sc *scenarios.Scenario, index int, peers ...string) *Server {
	t.Helper()
	s, err := New(Config{Scenario: sc, Index: index, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// held is a request occupy admitted.
type held struct {
	w     *waiter
	end   time.Duration
	epoch uint64
}

// occupy admits n requests that never finish by themselves (never
// redirected): the first take workers, the rest wait. It returns those
// that took a worker, for release.
func occupy(s *Server, n int) []held {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []held
	for i := 0; i < n; i++ {
		w := &waiter{ch: make(chan time.Duration, 1)}
		if a := s.m.ArriveHeld(s.now(), w); a.Kind == model.Started {
			out = append(out, held{w: w, end: a.End, epoch: a.Epoch})
		}
	}
	return out
}

// release finishes a request occupy admitted. s.mu is held.
func release(s *Server, h held) {
	s.m.Finish(s.now(), h.epoch, false, h.end, h.w)
}

// allUp installs a view in which every server is up and idle, at the
// given URLs.
func allUp(s *Server, urls ...string) {
	v := &ViewMessage{}
	for i, u := range urls {
		v.Servers = append(v.Servers, ServerView{StatusMessage: StatusMessage{Server: i, Workers: 1, Up: true}, URL: u})
	}
	s.SetView(v)
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := noFollow.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestRedirectOverThreshold(t *testing.T) {
	for _, status := range []int{302, 307} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			sc := testScenario(group("web", 2, 2, 16, constService(0)))
			sc.Policy.Status = status
			s := startServer(t, sc, 0, "", peerBase)
			allUp(s, "", peerBase)

			// Below the threshold (queue length 0 is not > 0): served.
			resp, body := get(t, s.URL()+"/page?id=5")
			if resp.StatusCode != 200 || !strings.Contains(body, "<title>redirlab web-1</title>") {
				t.Fatalf("idle server: %d %q", resp.StatusCode, body[:min(len(body), 80)])
			}
			if len(body) != 2048 || resp.Header.Get("Content-Length") != "2048" {
				t.Fatalf("page body %d bytes, want PageBytes 2048", len(body))
			}

			// One request in service: 1 > 0 holds, redirect to the peer.
			occupy(s, 1)
			resp, _ = get(t, s.URL()+"/page/x?id=5&redirlab_hop=0")
			if resp.StatusCode != status {
				t.Fatalf("overloaded: status %d, want %d", resp.StatusCode, status)
			}
			if loc := resp.Header.Get("Location"); loc != peerBase+"/page/x?id=5&redirlab_hop=1" {
				t.Fatalf("Location %q", loc)
			}
			if got := resp.Header.Get("X-Redirlab-Server"); got != "web-1" {
				t.Fatalf("X-Redirlab-Server %q", got)
			}
			// An empty body, delimited (so keep-alive goes on at once).
			if resp.Header.Get("Content-Length") != "0" || len(resp.TransferEncoding) > 0 {
				t.Fatalf("redirect framing: Content-Length %q, Transfer-Encoding %v", resp.Header.Get("Content-Length"), resp.TransferEncoding)
			}

			// At the hop limit (max_hops 1): served even though overloaded.
			resp, body = get(t, s.URL()+"/page?redirlab_hop=1")
			if resp.StatusCode != 200 || !strings.Contains(body, "web-1") {
				t.Fatalf("at hop limit: %d", resp.StatusCode)
			}

			// Embedded objects are never redirected.
			resp, body = get(t, s.URL()+"/object/3")
			if resp.StatusCode != 200 || len(body) != 512 {
				t.Fatalf("object: %d, %d bytes", resp.StatusCode, len(body))
			}
			if c := s.Counters(); c.Redirected != 1 || c.Pages != 2 || c.Served != 3 {
				t.Fatalf("counters %+v, want 1 redirect, 2 pages and 3 requests served", c)
			}
		})
	}
}

func TestNoViewNoRedirect(t *testing.T) {
	sc := testScenario(group("web", 2, 2, 16, constService(0)))
	s := startServer(t, sc, 0, "", peerBase)
	occupy(s, 1)
	// Overloaded, a peer configured, but no view from a manager: the
	// server cannot know the peer is up, so it serves.
	if resp, _ := get(t, s.URL()+"/page"); resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
}

func TestRejectWhenFull(t *testing.T) {
	sc := testScenario(group("web", 1, 1, 2, constService(0)))
	s := startServer(t, sc, 0)
	occupy(s, 2) // one in service, one waiting: capacity 2 reached
	resp, _ := get(t, s.URL()+"/page")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-Redirlab-Server") != "web-1" {
		t.Fatalf("full queue: %d, Retry-After %q, server %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("X-Redirlab-Server"))
	}
	if resp, _ := get(t, s.URL()+"/object/1"); resp.StatusCode != 503 {
		t.Fatalf("object on a full queue: %d, want 503", resp.StatusCode)
	}
	if c := s.Counters(); c.Rejected != 2 {
		t.Fatalf("rejected %d, want 2", c.Rejected)
	}
}

func TestRoutes(t *testing.T) {
	sc := testScenario(group("web", 1, 1, 4, constService(0)))
	s := startServer(t, sc, 0)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/page", 200},                // the page
		{"GET", "/page/a/b", 200},            // under the page path
		{"GET", "/pages", 404},               // a sibling is not under it
		{"GET", "/", 404},                    // elsewhere
		{"GET", "/object/", 404},             // object without a key
		{"GET", "/object/k", 200},            // object
		{"HEAD", "/page", 200},               // HEAD
		{"POST", "/page", 405},               // other methods
		{"GET", "/status", 200},              // status
		{"GET", "/metrics", 200},             // metrics
		{"GET", "/x/../page", 200},           // cleaned before routing
		{"GET", "/favicon.ico", 404},         // what browsers ask for
		{"DELETE", "/object/1", 405},         // other methods on objects
		{"GET", "/page?redirlab_hop=x", 200}, // malformed hop: 0
	} {
		req, _ := http.NewRequest(tc.method, s.URL()+tc.path, nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
		if resp.Header.Get("X-Redirlab-Server") != "web-1" {
			t.Errorf("%s %s: no X-Redirlab-Server header", tc.method, tc.path)
		}
	}
}

func TestStatusAndMetrics(t *testing.T) {
	sc := testScenario(group("web", 2, 1, 3, constService(0)))
	s := startServer(t, sc, 0, "", peerBase)
	allUp(s, "", peerBase)
	occupy(s, 1)
	get(t, s.URL()+"/page")     // redirected
	occupy(s, 2)                // now full: 1 in service, 2 waiting
	get(t, s.URL()+"/page")     // full, but the policy comes first: redirected
	get(t, s.URL()+"/object/1") // objects are not redirected: rejected

	resp, body := get(t, s.URL()+"/status")
	var st StatusMessage
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("status %q: %v", body, err)
	}
	if resp.Header.Get("Content-Type") != "application/json" || st.Name != "web-1" || st.Server != 0 ||
		st.QueueLength != 3 || st.Waiting != 2 || st.InService != 1 || st.Workers != 1 || !st.Up || st.QueueDelayNS <= 0 {
		t.Fatalf("status %+v", st)
	}

	_, body = get(t, s.URL()+"/metrics")
	for _, want := range []string{
		`redirlab_queue_length{server="web-1"} 3`,
		`redirlab_queue_waiting{server="web-1"} 2`,
		`redirlab_in_service{server="web-1"} 1`,
		`redirlab_redirects_total{server="web-1"} 2`,
		`redirlab_rejections_total{server="web-1"} 1`,
		`redirlab_up{server="web-1"} 1`,
		`redirlab_queue_delay_seconds{server="web-1"}`,
		`redirlab_request_duration_seconds_bucket{kind="page",server="web-1",le="0.0001"}`,
		`redirlab_served_total{server="web-1"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestHostileRequests sends raw requests whose target, query and Host
// header try to steer the redirect elsewhere. Every redirect must name the
// registered peer.
func TestHostileRequests(t *testing.T) {
	sc := testScenario(group("web", 2, 2, 64, constService(0)))
	sc.Workload.Path = "/" // every path is a page: the widest surface
	s := startServer(t, sc, 0, "", peerBase)
	allUp(s, "", peerBase)
	occupy(s, 1)
	for _, tc := range []struct{ target, host string }{
		{"//evil.com", "127.0.0.1"},                           // scheme-relative path
		{"//evil.com/page", "evil.com"},                       // and a hostile Host
		{"///evil.com", "127.0.0.1"},                          // three slashes
		{"/\\evil.com", "127.0.0.1"},                          // backslash
		{"/page/..//evil.com", "127.0.0.1"},                   // dot segments
		{"http://evil.com/page", "evil.com"},                  // absolute-form target
		{"http://evil.com//evil.com", "127.0.0.1"},            // both
		{"/page?next=//evil.com", "127.0.0.1"},                // URL in the query
		{"/page?redirlab_hop=0&redirlab_hop=0", "evil.com"},   // repeated hop
		{"/%2F%2Fevil.com", "127.0.0.1"},                      // escaped slashes
		{"/%5Cevil.com", "127.0.0.1"},                         // escaped backslash
		{"/page%0d%0aLocation:%20http://evil.com", "x"},       // escaped CRLF
		{"/page?a=%0d%0aLocation:http://evil.com", "x"},       // CRLF in the query
		{"/@evil.com", "127.0.0.1"},                           // userinfo-looking path
		{"/page#frag", "127.0.0.1"},                           // fragment in the target
		{"/page", "evil.com:80"},                              // Host header only
		{"/page", "127.0.0.1:4321@evil.com"},                  // Host with userinfo
		{"/.%2e/.%2e//evil.com", "127.0.0.1"},                 // escaped dots
		{"/page?x=" + strings.Repeat("a", 4000), "127.0.0.1"}, // long query
	} {
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", tc.target, tc.host)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatalf("%s (Host %s): %v", tc.target, tc.host, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 3 {
			checkLocation(t, resp.Header.Get("Location"), 1)
		} else if resp.StatusCode != 400 {
			// Go's server answers malformed requests with 400 itself;
			// anything our handler answers must be a redirect here.
			t.Errorf("%s (Host %s): status %d, want a redirect", tc.target, tc.host, resp.StatusCode)
		}
	}
}

// TestFIFOService checks in virtual time that one worker serves three
// simultaneous requests one after the other, 30ms each.
func TestFIFOService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := testScenario(group("web", 1, 1, 8, constService(30*ms)))
		s, err := New(Config{Scenario: sc, NoAlarm: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close() // its completer ends with it
		start := time.Now()
		done := make([]time.Duration, 3)
		var wg sync.WaitGroup
		for i := range done {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, httptest.NewRequest("GET", "/page", nil))
				if rec.Code != 200 {
					t.Errorf("request %d: %d", i, rec.Code)
				}
				done[i] = time.Since(start)
			}()
			synctest.Wait() // admit in order i
		}
		wg.Wait()
		for i, d := range done {
			if want := time.Duration(i+1) * 30 * ms; d != want {
				t.Errorf("request %d done at %v, want %v", i, d, want)
			}
		}
		// Slowdown applies to services that start after it.
		s.SetSlowdown(2)
		rec := httptest.NewRecorder()
		t0 := time.Now()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/page", nil))
		if d := time.Since(t0); d != 60*ms {
			t.Errorf("slowed-down service took %v, want 60ms", d)
		}
		if c := s.Counters(); c.Busy != 150*ms {
			t.Errorf("busy %v, want 150ms", c.Busy)
		}
	})
}

func TestCrashFailsInFlight(t *testing.T) {
	sc := testScenario(group("web", 1, 1, 8, constService(time.Hour)))
	s := startServer(t, sc, 0)
	addr := s.Addr()
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			resp, err := noFollow.Get(s.URL() + "/page")
			if err == nil {
				resp.Body.Close()
				err = fmt.Errorf("unexpected answer %d", resp.StatusCode)
				errs <- err
				return
			}
			errs <- nil
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Status().QueueLength < 3 {
		if time.Now().After(deadline) {
			t.Fatal("requests never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	s.Crash()
	for i := 0; i < 3; i++ {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("an in-flight request survived the crash")
		}
	}
	if _, err := noFollow.Get(s.URL() + "/status"); err == nil {
		t.Fatal("a crashed server answered")
	}
	if c := s.Counters(); c.Failed != 3 {
		t.Fatalf("failed %d, want 3", c.Failed)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	resp, _ := get(t, s.URL()+"/object/1") // objects are not redirected: rejected
	if resp.StatusCode != 200 {
		t.Fatalf("after restart: %d", resp.StatusCode)
	}
	if st := s.Status(); !st.Up || st.QueueLength != 0 {
		t.Fatalf("after restart: %+v", st)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		// No scenario at all.
		{"no scenario", func(c *Config) { c.Scenario = nil }, "server: no scenario"},
		// An index past the last instance.
		{"index", func(c *Config) { c.Index = 3 }, "server: index 3 out of range: the scenario has 3 servers"},
		// Zero workers (a hand-built scenario; Load would refuse it first).
		{"workers", func(c *Config) { c.Scenario.Servers[0].Workers = -1 }, "server web-1: workers: must be at least 1, got -1"},
		// An unknown service distribution.
		{"service", func(c *Config) { c.Scenario.Servers[0].Service.Dist = "gamma" }, `server web-1: service: unknown service distribution "gamma"`},
		// A redirect status other than 302 and 307.
		{"status", func(c *Config) { c.Scenario.Policy.Status = 301 }, "policy.status: must be 302 or 307, got 301"},
		// A peer URL with a path.
		{"peer", func(c *Config) { c.Peers = []string{"", "http://127.0.0.1:1/x"} }, `server web-1: peer 1: base URL "http://127.0.0.1:1/x": must not have a path, query or fragment`},
		// More peers than servers.
		{"peers", func(c *Config) { c.Peers = make([]string, 4) }, "server web-1: 4 peer URLs for 3 servers"},
		// A manager URL that is not http.
		{"manager", func(c *Config) { c.ManagerURL = "ftp://127.0.0.1:1" }, `server web-1: manager: base URL "ftp://127.0.0.1:1": scheme must be http or https`},
		// A page path that is not rooted.
		{"path", func(c *Config) { c.Scenario.Workload.Path = "page" }, `workload.path: must start with '/', got "page"`},
	} {
		cfg := Config{Scenario: testScenario()}
		tc.mut(&cfg)
		if _, err := New(cfg); err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
