package server

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/scenarios"
)

// testRegistry drives a manager's registry and report checks directly,
// without HTTP or clock.
type testRegistry struct{ m *Manager }

func newTestRegistry(names []string, p policy.Config, expire time.Duration, rng *rand.Rand) *testRegistry {
	workers := make([]int, len(names))
	for i := range workers {
		workers[i] = 1
	}
	m := &Manager{names: names, index: map[string]int{}, allow: LoopbackOnly,
		reg: model.NewRegistry(model.RegistryConfig{Workers: workers, Policy: p, Expire: expire, Rand: rng})}
	for i, n := range names {
		m.index[n] = i
	}
	return &testRegistry{m}
}

func (r *testRegistry) Report(now time.Duration, msg ReportMessage) (int, error) {
	if err := r.m.report(now, msg); err != nil {
		return -1, err
	}
	return r.m.index[msg.Name], nil
}
func (r *testRegistry) Tick(now time.Duration) { r.m.reg.Tick(now) }
func (r *testRegistry) Resume(now time.Duration) {
	r.m.reg.SetOutage(now, true)
	r.m.reg.SetOutage(now, false)
}
func (r *testRegistry) Up(i int) bool     { return r.m.reg.Up(i) }
func (r *testRegistry) View() ViewMessage { return r.m.viewLocked() }

func report(name, url string, length int) ReportMessage {
	return ReportMessage{Name: name, URL: url, Status: StatusMessage{QueueLength: length, Workers: 1, Up: true}}
}

func TestRegistryExpiry(t *testing.T) {
	r := newTestRegistry([]string{"web-1", "web-2"}, policy.Config{}, 300*ms, rand.New(rand.NewPCG(1, 1)))
	if v := r.View(); v.Servers[0].Up || v.Servers[0].URL != "" || v.Servers[0].LastReportNS != -1 {
		t.Fatalf("before any report: %+v", v.Servers[0])
	}
	if i, err := r.Report(0, report("web-2", "http://127.0.0.1:2000/", 4)); err != nil || i != 1 {
		t.Fatalf("report: %d, %v", i, err)
	}
	r.Tick(300 * ms) // silent exactly 300ms: not yet expired
	if !r.Up(1) {
		t.Fatal("expired at exactly the expiry")
	}
	r.Tick(301 * ms)
	if r.Up(1) {
		t.Fatal("not expired after 301ms of silence")
	}
	v := r.View()
	if s := v.Servers[1]; s.Up || s.URL != "http://127.0.0.1:2000" || s.QueueLength != 4 || s.Name != "web-2" || s.LastReportNS != 0 {
		t.Fatalf("expired server in the view: %+v", s)
	}
	// Reporting again brings it back.
	r.Report(400*ms, report("web-2", "http://127.0.0.1:2000", 1))
	if !r.Up(1) {
		t.Fatal("a reporting server stays down")
	}
	// An outage long past the expiry, then Resume: nobody expires at the
	// first tick after it.
	r.Resume(5 * time.Second)
	r.Tick(5*time.Second + 10*ms)
	if !r.Up(1) {
		t.Fatal("expired right after an outage")
	}
	if r.Up(0) {
		t.Fatal("a server that never reported is up")
	}
}

func TestRegistryRefusesBadReports(t *testing.T) {
	r := newTestRegistry([]string{"web-1"}, policy.Config{}, 300*ms, rand.New(rand.NewPCG(1, 1)))
	for _, m := range []ReportMessage{
		report("web-9", "http://127.0.0.1:1", 0),      // unknown server
		report("web-1", "http://evil.com/x?y", 0),     // URL with path and query
		report("web-1", "javascript:alert(1)", 0),     // not http
		report("web-1", "http://user@127.0.0.1:1", 0), // user info
		report("web-1", "", 0),                        // no URL
	} {
		if _, err := r.Report(0, m); err == nil {
			t.Errorf("report %+v accepted", m)
		}
	}
	if r.View().Servers[0].URL != "" {
		t.Fatal("a refused report registered a URL")
	}
}

func TestRegistryCentral(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 2, Placement: policy.Central, MaxHops: 1, Fraction: 1}
	r := newTestRegistry([]string{"a", "b", "c"}, p, time.Second, rand.New(rand.NewPCG(1, 1)))
	r.Report(0, report("a", "http://127.0.0.1:1", 5))
	r.Report(0, report("b", "http://127.0.0.1:2", 1))
	r.Report(0, report("c", "http://127.0.0.1:3", 0))
	if in := r.View().Instructions; len(in) != 3 || in[0].Redirect {
		t.Fatalf("instructions before the first tick: %+v", in)
	}
	r.Tick(10 * ms)
	in := r.View().Instructions
	// a is over the threshold; c is the least loaded calm peer.
	if !in[0].Redirect || in[0].Target != 2 || in[1].Redirect || in[2].Redirect {
		t.Fatalf("instructions %+v, want a → c only", in)
	}
	// c goes silent and expires: a is sent to b instead.
	r.Report(2*time.Second, report("a", "http://127.0.0.1:1", 5))
	r.Report(2*time.Second, report("b", "http://127.0.0.1:2", 1))
	r.Tick(2*time.Second + 10*ms)
	if in := r.View().Instructions; !in[0].Redirect || in[0].Target != 1 {
		t.Fatalf("instructions with c down: %+v, want a → b", in)
	}
	// a calms down: flag cleared.
	r.Report(3*time.Second, report("a", "http://127.0.0.1:1", 0))
	r.Tick(3*time.Second + 10*ms)
	if in := r.View().Instructions; in[0].Redirect {
		t.Fatalf("instructions after a calmed: %+v", in)
	}
}

func post(t *testing.T, url string, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestManagerHTTP(t *testing.T) {
	m := mustManager(t, testScenario())
	hs := httptest.NewServer(m.Handler())
	defer hs.Close()

	b, _ := json.Marshal(report("web-2", "http://127.0.0.1:2000", 3))
	resp, body := post(t, hs.URL+"/v1/report", string(b))
	if resp.StatusCode != 200 {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	var v ViewMessage
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Servers) != 3 || !v.Servers[1].Up || v.Servers[1].URL != "http://127.0.0.1:2000" || v.Servers[1].QueueLength != 3 || v.Servers[0].Up {
		t.Fatalf("view %+v", v)
	}
	for _, bad := range []string{
		`{"name":"web-7","url":"http://127.0.0.1:1","status":{}}`, // unknown server
		`{"name":"web-1","url":"http://127.0.0.1:1","extra":1}`,   // unknown field
		`{"name":"web-1",`, // truncated
		`{"name":"web-1","url":"http://evil.com/path","status":{}}`, // URL with a path
	} {
		if resp, _ := post(t, hs.URL+"/v1/report", bad); resp.StatusCode != 400 {
			t.Errorf("report %s: %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, err := http.Get(hs.URL + "/v1/report"); err != nil || resp.StatusCode != 405 {
		t.Errorf("GET /v1/report: %v %v, want 405", resp.StatusCode, err)
	}

	resp, body = get(t, hs.URL+"/v1/servers")
	var servers []ServerView
	if err := json.Unmarshal([]byte(body), &servers); err != nil || len(servers) != 3 || servers[1].Name != "web-2" {
		t.Fatalf("/v1/servers: %s (%v)", body, err)
	}
	if resp, _ = get(t, hs.URL+"/v1/view"); resp.StatusCode != 200 {
		t.Fatalf("/v1/view: %d", resp.StatusCode)
	}
	_, body = get(t, hs.URL+"/metrics")
	for _, want := range []string{"redirlab_manager_reports_total 1", "redirlab_manager_bad_reports_total 4", "redirlab_manager_servers_up 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	m.SetOutage(true)
	if resp, _ := post(t, hs.URL+"/v1/report", string(b)); resp.StatusCode != 503 {
		t.Fatalf("report during an outage: %d, want 503", resp.StatusCode)
	}
	m.SetOutage(false)
	if resp, _ := post(t, hs.URL+"/v1/report", string(b)); resp.StatusCode != 200 {
		t.Fatalf("report after the outage: %d", resp.StatusCode)
	}
}

// TestManagerRefusesOtherScenario: a report from a server whose scenario
// differs from the manager's in what they share (a threshold given to
// serve alone, other workers) is refused with 412 and why; the manager's
// own digest, and a report without one, are taken.
func TestManagerRefusesOtherScenario(t *testing.T) {
	sc := testScenario()
	hs := httptest.NewServer(mustManager(t, sc).Handler())
	defer hs.Close()
	digest := func(edit func(*scenarios.Scenario)) string {
		c := *sc
		c.Servers = slices.Clone(sc.Servers)
		edit(&c)
		d, err := c.SharedDigest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name   string
		shared string
		want   int
	}{
		// The manager's own scenario.
		{"same", digest(func(*scenarios.Scenario) {}), 200},
		// A report that carries no digest (not redirlab's agent).
		{"none", "", 200},
		// Another threshold.
		{"threshold", digest(func(c *scenarios.Scenario) { c.Policy.Threshold = scenarios.Threshold{Raw: "9", Count: 9} }), 412},
		// Other workers.
		{"workers", digest(func(c *scenarios.Scenario) { c.Servers[0].Workers = 8 }), 412},
		// Another report interval.
		{"interval", digest(func(c *scenarios.Scenario) { ri := 50 * time.Millisecond; c.Manager.ReportInterval = &ri }), 412},
		// Another seed is not shared: the servers draw their own numbers.
		{"seed", digest(func(c *scenarios.Scenario) { c.Seed = 99 }), 200},
	} {
		msg := report("web-1", "http://127.0.0.1:2001", 0)
		msg.Shared = tc.shared
		b, _ := json.Marshal(msg)
		resp, body := post(t, hs.URL+"/v1/report", string(b))
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.want)
		}
		if tc.want == 412 && !strings.Contains(body, "same --set values") {
			t.Errorf("%s: %q does not say why", tc.name, body)
		}
	}
}

// mustManager is a manager of sc with no token, on no listener.
func mustManager(t *testing.T, sc *scenarios.Scenario) *Manager {
	t.Helper()
	m, err := NewManager(ManagerConfig{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
