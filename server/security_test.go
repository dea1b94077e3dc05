package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDecodeReportStrict: the report decoder takes exactly one report
// with exactly its fields.
func TestDecodeReportStrict(t *testing.T) {
	good := `{"name":"web-1","url":"http://127.0.0.1:1","status":{"queue_length":1}}`
	if _, err := DecodeReport([]byte(good)); err != nil {
		t.Fatalf("good report: %v", err)
	}
	for _, tc := range []struct{ name, body string }{
		{"unknown key", `{"name":"web-1","url":"http://127.0.0.1:1","status":{},"x":1}`},               // a field no report has
		{"unknown nested key", `{"name":"web-1","url":"http://127.0.0.1:1","status":{"load":1}}`},      // nor a status
		{"duplicate key", `{"name":"web-1","name":"web-2","url":"http://127.0.0.1:1","status":{}}`},    // the last would win
		{"other case", `{"NAME":"web-1","url":"http://127.0.0.1:1","status":{}}`},                      // encoding/json would match it
		{"trailing garbage", good + `garbage`},                                                         // after the report
		{"second document", good + good},                                                               // two reports in one
		{"not an object", `["web-1"]`},                                                                 // wrong shape
		{"too large", `{"name":"` + strings.Repeat("a", maxReportBytes) + `","url":"","status":{}}`},   // over the bound
		{"wrong type", `{"name":"web-1","url":"http://127.0.0.1:1","status":{"queue_length":"many"}}`}, // a string for a number
	} {
		if _, err := DecodeReport([]byte(tc.body)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// TestHijackThroughTheManager is the reproduction of a hijack: someone
// who reaches the manager registers web-2 at another address, posts fake
// load, or reports it down. None of it moves one redirect or one view.
func TestHijackThroughTheManager(t *testing.T) {
	sc := testScenario(group("web", 2, 1, 64, constService(20*time.Millisecond)))
	sc.Policy.Threshold.Count = 0 // web-1 redirects whenever it is busy
	c, err := NewCluster(sc, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	web2 := c.Server(1).URL()
	waitFor(t, "both servers registered", func() bool {
		v := c.Manager().View()
		return v.Servers[0].Up && v.Servers[1].Up
	})

	attempts := []struct {
		name  string
		token string
		body  string
		want  int
	}{
		// Without the token: refused before anything is read.
		{"no token", "", `{"name":"web-2","url":"http://evil.example","status":{"up":true,"workers":1}}`, 401},
		// A wrong token of the right length.
		{"wrong token", strings.Repeat("x", 26), `{"name":"web-2","url":"http://evil.example","status":{"up":true,"workers":1}}`, 401},
		// With the token, a host name: refused (it could point anywhere later).
		{"host name", c.manager.cfg.Token, `{"name":"web-2","url":"http://evil.example","status":{"up":true,"workers":1}}`, 400},
		// With the token, an address outside the allowed networks.
		{"outside", c.manager.cfg.Token, `{"name":"web-2","url":"http://192.0.2.7:80","status":{"up":true,"workers":1}}`, 400},
		// With the token, an allowed address that is not the live web-2: its place is held.
		{"take over", c.manager.cfg.Token, `{"name":"web-2","url":"http://127.0.0.1:9","status":{"up":true,"workers":1}}`, 409},
		// With the token, fake figures for web-2 from elsewhere: held too.
		{"fake load", c.manager.cfg.Token, `{"name":"web-2","url":"http://127.0.0.1:9","status":{"up":false,"queue_length":999}}`, 409},
		// Lax JSON that encoding/json would take: trailing garbage.
		{"trailing", c.manager.cfg.Token, `{"name":"web-2","url":"` + web2 + `","status":{"up":false}}xx`, 400},
		// Duplicate keys, the last naming the attacker.
		{"duplicate", c.manager.cfg.Token, `{"name":"web-2","url":"` + web2 + `","url":"http://127.0.0.1:9","status":{}}`, 400},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, a := range attempts {
		for k := 0; k < 20; k++ { // faster than the agent, to steal its slot
			req, _ := http.NewRequest(http.MethodPost, c.ManagerURL()+"/v1/report", strings.NewReader(a.body))
			if a.token != "" {
				req.Header.Set("Authorization", "Bearer "+a.token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != a.want {
				t.Fatalf("%s: %d, want %d", a.name, resp.StatusCode, a.want)
			}
		}
	}
	// The view and the servers still point at the real web-2.
	if v := c.Manager().View(); v.Servers[1].URL != web2 || !v.Servers[1].Up {
		t.Fatalf("web-2 in the view: %+v, want %s up", v.Servers[1], web2)
	}
	// Every redirect web-1 makes goes to the real web-2.
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	redirects := 0
	occupy(c.Server(0), 1) // web-1 is busy: its queue length 1 is above the threshold 0
	for k := 0; k < 40; k++ {
		resp, err := noFollow.Get(c.Server(0).URL() + "/page")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			redirects++
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, web2+"/") {
				t.Fatalf("redirect to %q, want %s", loc, web2)
			}
		}
	}
	if redirects == 0 {
		t.Fatal("web-1 never redirected: the test shows nothing")
	}
	t.Logf("%d hijack attempts refused; %d redirects, all to %s", 20*len(attempts), redirects, web2)
}

// TestManagerRefusesOpenListen: a manager beyond loopback needs a token
// or an explicit --insecure.
func TestManagerRefusesOpenListen(t *testing.T) {
	sc := testScenario()
	if _, err := NewManager(ManagerConfig{Scenario: sc, Listen: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "without a token") {
		t.Fatalf("open listen: %v", err)
	}
	if _, err := NewManager(ManagerConfig{Scenario: sc, Listen: "0.0.0.0:0", Insecure: true}); err != nil {
		t.Fatalf("--insecure: %v", err)
	}
	if _, err := NewManager(ManagerConfig{Scenario: sc, Listen: "0.0.0.0:0", Token: "0123456789abcdef"}); err != nil {
		t.Fatalf("with a token: %v", err)
	}
}

// TestIdleConnectionsClosed: idle and slow connections are closed by the
// timeouts, and new clients are served while 1,000 of them are held.
func TestIdleConnectionsClosed(t *testing.T) {
	sc := testScenario(group("web", 1, 1, 64, constService(0)))
	sc.Policy.Condition = "none"
	s, err := New(Config{Scenario: sc, Timeouts: Timeouts{ReadHeader: 300 * time.Millisecond, Idle: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for k := 0; k < 1000; k++ {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatalf("connection %d: %v", k, err)
		}
		switch k % 3 {
		case 1: // a slow client: half a request line
			fmt.Fprint(c, "GET /page HTTP/1.1\r\nHost: x\r\n")
		case 2: // a kept-alive client that goes quiet after one request
			fmt.Fprint(c, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		held = append(held, c)
	}
	// A new client is served at once.
	client := &http.Client{Timeout: 2 * time.Second}
	start := time.Now()
	resp, err := client.Get(s.URL() + "/page")
	if err != nil {
		t.Fatalf("new client while 1000 connections are held: %v", err)
	}
	resp.Body.Close()
	t.Logf("served a new client in %v beside 1000 held connections", time.Since(start))
	// Every held connection is closed by the server within the timeouts.
	deadline := time.Now().Add(5 * time.Second)
	for k, c := range held {
		c.SetReadDeadline(deadline)
		r := bufio.NewReader(c)
		for {
			if _, err := r.ReadByte(); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("connection %d still open after the timeouts", k)
				}
				break // closed by the server
			}
		}
	}
}

// TestMethodsAndURILength: /status and /metrics answer only GET and
// HEAD; an over-long request URI is refused before the queue.
func TestMethodsAndURILength(t *testing.T) {
	sc := testScenario(group("web", 1, 1, 64, constService(0)))
	sc.Policy.Condition = "none"
	s, err := New(Config{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, path := range []string{"/status", "/metrics", "/page"} {
		resp, err := http.Post(s.URL()+path, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d %q", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	resp, err := http.Get(s.URL() + "/page?q=" + strings.Repeat("a", maxRequestURI))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestURITooLong {
		t.Errorf("long URI: %d, want 414", resp.StatusCode)
	}
	var st StatusMessage
	r2, _ := http.Get(s.URL() + "/status")
	json.NewDecoder(r2.Body).Decode(&st)
	r2.Body.Close()
	if st.QueueLength != 0 {
		t.Errorf("refused requests reached the queue: %+v", st)
	}
}
