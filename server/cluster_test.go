package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// outcome of one page request as a browser sees it.
type outcome int

const (
	completed outcome = iota
	rejected
	failed
	nOutcomes
)

// browse fetches url following redirects by hand, as loadgen's browsers
// do, and returns the outcome, the number of redirects and the final
// server's name.
func browse(client *http.Client, url string, allowed map[string]bool, maxRedirects int) (outcome, int, string, error) {
	for hops := 0; ; hops++ {
		resp, err := client.Get(url)
		if err != nil {
			return failed, hops, "", nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		server := resp.Header.Get("X-Redirlab-Server")
		switch {
		case resp.StatusCode == 200:
			return completed, hops, server, nil
		case resp.StatusCode == 503:
			return rejected, hops, server, nil
		case resp.StatusCode == 302 || resp.StatusCode == 307:
			loc := resp.Header.Get("Location")
			base := loc[:strings.Index(loc[len("http://"):], "/")+len("http://")]
			if !allowed[base] {
				return failed, hops, server, &locationError{loc}
			}
			if hops >= maxRedirects {
				return failed, hops, server, nil
			}
			url = loc
		default:
			return failed, hops, server, nil
		}
	}
}

type locationError struct{ loc string }

func (e *locationError) Error() string { return "redirect to an unregistered place: " + e.loc }

// TestClusterCrash runs 3 servers and a manager for real on 127.0.0.1,
// sends 300 paced page requests, crashes web-2 (a scenario fault) in the
// middle and restarts it, and checks that every request got exactly one
// outcome.
func TestClusterCrash(t *testing.T) {
	sc := testScenario(group("web", 3, 2, 64, scenarios.Service{Dist: "exp", Mean: 8 * ms}))
	sc.Policy.Threshold = scenarios.Threshold{Raw: "1", Count: 1}
	sc.Faults = []scenarios.Fault{{At: 150 * ms, Server: "web-2", Action: "crash", For: 250 * ms, ServerIndex: 1}}
	reg := prometheus.NewRegistry()
	c, err := NewCluster(sc, ClusterOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	urls := c.URLs()
	allowed := map[string]bool{}
	for _, u := range urls {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("server URL %s is not on 127.0.0.1", u)
		}
		allowed[u] = true
	}
	if !strings.HasPrefix(c.ManagerURL(), "http://127.0.0.1:") {
		t.Fatalf("manager URL %s", c.ManagerURL())
	}

	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
	}
	const n = 300
	var counts [n][nOutcomes]atomic.Int32
	var redirects atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := c.RunStart()
	for i := 0; i < n; i++ {
		// Paced every 2ms: 0..600ms, across the crash at 150..400ms.
		time.Sleep(time.Until(start.Add(time.Duration(i) * 2 * ms)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, hops, _, err := browse(client, urls[i%3]+"/page?id="+strconv.Itoa(i), allowed, 10)
			if err != nil {
				errs <- err
			}
			counts[i][o].Add(1)
			redirects.Add(int64(hops))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var total [nOutcomes]int
	for i := range counts {
		got := 0
		for o := range counts[i] {
			k := int(counts[i][o].Load())
			got += k
			total[o] += k
		}
		if got != 1 {
			t.Fatalf("request %d has %d outcomes", i, got)
		}
	}
	t.Logf("completed %d, rejected %d, failed %d, redirects %d", total[completed], total[rejected], total[failed], redirects.Load())
	if total[completed]+total[rejected]+total[failed] != n {
		t.Fatalf("outcomes %v do not add up to %d", total, n)
	}
	// web-2 was down 250ms of the 600ms; a third of the requests went to it
	// first: some must have failed, and most requests must have completed.
	if total[failed] == 0 || total[completed] < n/2 {
		t.Fatalf("outcomes %v: want some failures and mostly completions", total)
	}

	// web-2 came back on the same address.
	deadline := time.Now().Add(5 * time.Second)
	for !c.Server(1).Up() {
		if time.Now().After(deadline) {
			t.Fatal("web-2 did not restart")
		}
		time.Sleep(10 * ms)
	}
	if errs := c.FaultErrors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if urls[1] != c.URLs()[1] {
		t.Fatalf("web-2 moved from %s to %s", urls[1], c.URLs()[1])
	}
	resp, err := client.Get(urls[1] + "/page")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("web-2 after restart: %v %v", resp, err)
	}
	resp.Body.Close()

	// Samples come from the servers' own counters.
	samples := c.Sample(time.Second)
	var served int
	var all []results.ServerSample
	for i, s := range samples {
		if s.Server != i || s.At != time.Second || !s.Up {
			t.Fatalf("sample %d: %+v", i, s)
		}
		served += s.Served
		all = append(all, s)
	}
	// One more page after the restart. A request whose service ended as
	// web-2 crashed counts as served but fails at the client.
	if served < total[completed]+1 || served > total[completed]+1+total[failed] {
		t.Fatalf("servers served %d pages, clients completed %d (+1) and saw %d failures", served, total[completed], total[failed])
	}
	if again := c.Sample(2 * time.Second); again[0].Served != 0 {
		t.Fatalf("counts are not per interval: %+v", again[0])
	}
	// The cluster-wide registry has every server's metrics.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() == "redirlab_served_total" {
			for _, m := range mf.Metric {
				servers[m.GetLabel()[0].GetValue()] = true
			}
		}
	}
	if len(servers) != 3 {
		t.Fatalf("cluster registry has served_total for %v", servers)
	}
}

// TestClusterFaultSteps checks the fault schedule and what each step does,
// without waiting for it.
func TestClusterFaultSteps(t *testing.T) {
	sc := testScenario()
	sc.Faults = []scenarios.Fault{
		{At: 300 * ms, Server: "web-1", Action: "slowdown", Factor: 3, For: 100 * ms, ServerIndex: 0},
		{At: 100 * ms, Action: "manager-outage", For: 50 * ms, ServerIndex: -1},
		{At: 200 * ms, Server: "web-3", Action: "lost-reports", Loss: 0.5, ServerIndex: 2},
		{At: 200 * ms, Server: "web-2", Action: "crash", ServerIndex: 1},
		{At: 500 * ms, Server: "web-2", Action: "restart", ServerIndex: 1},
	}
	c, err := NewCluster(sc, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	steps := c.faultActions()
	var got []string
	for _, s := range steps {
		got = append(got, s.at.String()+" "+s.what)
	}
	want := []string{
		"100ms faults[1] manager-outage",
		"150ms faults[1] manager-outage ends",
		"200ms faults[2] lost-reports",
		"200ms faults[3] crash",
		"300ms faults[0] slowdown",
		"400ms faults[0] slowdown ends",
		"500ms faults[4] restart",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	steps[0].do()
	if !c.manager.outage.Load() {
		t.Fatal("outage step did not start an outage")
	}
	steps[1].do()
	if c.manager.outage.Load() {
		t.Fatal("outage did not end")
	}
	steps[4].do()
	c.servers[0].mu.Lock()
	slow := c.servers[0].m.Slowdown()
	c.servers[0].mu.Unlock()
	if slow != 3 {
		t.Fatalf("slowdown %v, want 3", slow)
	}

	// lost-reports without a server loses every agent's reports.
	sc = testScenario()
	sc.Faults = []scenarios.Fault{{At: ms, Action: "lost-reports", Loss: 0.25, ServerIndex: -1}}
	all, err := NewCluster(sc, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	steps = all.faultActions()
	if len(steps) != 1 {
		t.Fatalf("steps %v", steps)
	}
	steps[0].do()
	for _, s := range all.servers {
		if s.loss != 0.25 {
			t.Fatalf("%s: loss %v, want 0.25", s.name, s.loss)
		}
	}

	for _, tc := range []struct {
		f    scenarios.Fault
		want string
	}{
		{scenarios.Fault{Action: "explode", Server: "web-1", ServerIndex: 0}, `faults[0].action: unknown action "explode"`},
		{scenarios.Fault{Action: "crash", Server: "web-9", ServerIndex: -1}, `faults[0].server: unknown server "web-9"`},
		{scenarios.Fault{Action: "slowdown", Server: "web-1", ServerIndex: 0}, `faults[0].factor: must be above 0, got 0`},
	} {
		sc := testScenario()
		sc.Faults = []scenarios.Fault{tc.f}
		if _, err := NewCluster(sc, ClusterOptions{}); err == nil || err.Error() != tc.want {
			t.Errorf("fault %+v: error %v, want %q", tc.f, err, tc.want)
		}
	}
}

// TestServeAlone runs two servers as `redirlab serve` would, against a
// manager: they register their own URLs, and learn each other's from the
// manager's registry.
func TestServeAlone(t *testing.T) {
	sc := testScenario(group("web", 2, 1, 8, constService(0)))
	m, err := NewManager(ManagerConfig{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	for _, name := range []string{"web-1", "web-2"} {
		go func() {
			done <- Serve(ctx, Config{Scenario: sc, Listen: "127.0.0.1:0", ManagerURL: m.URL()}, name, nil, nil)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := m.View()
		if v.Servers[0].Up && v.Servers[1].Up {
			for _, s := range v.Servers {
				if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
					t.Fatalf("registered URL %q", s.URL)
				}
			}
			// The other server answers at the URL it registered.
			resp, err := http.Get(v.Servers[1].URL + "/status")
			if err != nil {
				t.Fatal(err)
			}
			var st StatusMessage
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Name != "web-2" {
				t.Fatalf("web-2's URL answers as %q", st.Name)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("servers did not register")
		}
		time.Sleep(10 * ms)
	}
	cancel()
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := Serve(context.Background(), Config{Scenario: sc, Listen: "127.0.0.1:0", ManagerURL: m.URL()}, "web-7", nil, nil); err == nil || !strings.Contains(err.Error(), "web-7") {
		t.Fatalf("unknown server: %v", err)
	}
}

func TestAdvertiseURL(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string // prefix
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"}, // a specific address advertises itself
		{"0.0.0.0:8080", "http://127.0.0.1:8080"},   // every interface: the route to a loopback manager
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := AdvertiseURL(a, "http://127.0.0.1:9000"); got != tc.want {
			t.Errorf("AdvertiseURL(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// TestApplyFaults: a schedule relative to a start an hour ago applies
// every step at once, replacing the one Start made.
func TestApplyFaults(t *testing.T) {
	sc := testScenario()
	sc.Duration = time.Hour // faults after the horizon never happen
	sc.Faults = []scenarios.Fault{
		{At: 10 * time.Minute, Server: "web-3", Action: "slowdown", Factor: 2, ServerIndex: 2},
		{At: 20 * time.Minute, Action: "manager-outage", ServerIndex: -1},
	}
	c, err := NewCluster(sc, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyFaults(context.Background(), time.Now()); err == nil {
		t.Fatal("ApplyFaults before Start succeeded")
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.ApplyFaults(context.Background(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the outage", c.manager.outage.Load)
	s := c.Server(2)
	s.mu.Lock()
	slow := s.m.Slowdown()
	s.mu.Unlock()
	if slow != 2 {
		t.Fatalf("slowdown %v, want 2", slow)
	}
}
