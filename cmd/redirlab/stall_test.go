package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
)

// stallScenario: two one-worker servers, reports every 50ms, a server
// silent for 300ms is marked down.
const stallScenario = `name: stall
duration: 7s
servers:
  - {name: web, count: 2, workers: 1, queue_capacity: 64, service: {dist: exp, mean: 5ms}}
manager: {report_interval: 50ms, expire: 300ms, view_ttl: 1s}
policy: {condition: queue-length, threshold: 0}
workload:
  arrival: {process: poisson, rate: 120/s}
  timeout: 2s
`

// freePort is a port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// child starts this test binary as `redirlab args...`.
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := exec.Command(self, args...)
	c.Env = append(os.Environ(), "REDIRLAB_AS_MAIN=1")
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Process.Signal(syscall.SIGCONT)
		c.Process.Kill()
		c.Wait()
	})
	return c, &out
}

// upServers asks the manager which servers it believes up.
func upServers(t *testing.T, managerURL, token string) []string {
	req, _ := http.NewRequest(http.MethodGet, managerURL+"/v1/servers", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var servers []struct {
		Name string `json:"name"`
		Up   bool   `json:"up"`
	}
	if err := decodeJSON(resp, &servers); err != nil {
		return nil
	}
	var up []string
	for _, s := range servers {
		if s.Up {
			up = append(up, s.Name)
		}
	}
	return up
}

// TestStalledServerAndManagerOutage runs the parts as separate processes
// (manager, two servers, the load generator) and stalls web-2 with
// SIGSTOP for 3 s, as a frozen process would stall: every scheduled
// request has one record, and once the manager has marked web-2 down no
// browser is redirected to it. Then the manager is killed and started
// again: both agents register again by themselves.
func TestStalledServerAndManagerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of real load")
	}
	dir := t.TempDir()
	sc := filepath.Join(dir, "stall.yaml")
	tok := filepath.Join(dir, "token")
	const token = "0123456789abcdef-stall"
	os.WriteFile(sc, []byte(stallScenario), 0o644)
	os.WriteFile(tok, []byte(token+"\n"), 0o600)
	maddr, a1, a2 := freePort(t), freePort(t), freePort(t)
	murl := "http://" + maddr
	mgr, _ := child(t, "manager", sc, "--listen", maddr, "--token-file", tok)
	web1, _ := child(t, "serve", sc, "--server", "web-1", "--listen", a1, "--manager", murl, "--token-file", tok)
	web2, _ := child(t, "serve", sc, "--server", "web-2", "--listen", a2, "--manager", murl, "--token-file", tok)
	waitUntil(t, 10*time.Second, "both servers up at the manager", func() bool { return len(upServers(t, murl, token)) == 2 })

	out := filepath.Join(dir, "run")
	done := make(chan struct{})
	var code int
	var stdout, stderr string
	go func() {
		defer close(done)
		code, stdout, stderr = runCLI(t, "loadgen", sc, "--target", "http://"+a1, "--target", "http://"+a2, "--out", out, "--quiet")
	}()
	const stallAt, stallFor = 2 * time.Second, 3 * time.Second
	start := time.Now()
	time.Sleep(stallAt)
	if err := web2.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(stallFor)
	web2.Process.Signal(syscall.SIGCONT)
	<-done
	if code != exitOK {
		t.Fatalf("loadgen: exit %d\n%s%s", code, stdout, stderr)
	}
	s, err := results.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uint64]int{}
	late := 0
	// The stall began at about stallAt after our start; the run's zero is
	// a little later. web-2 is expired 300ms after its last report, and
	// web-1 hears it within its next report: allow 0.6 s.
	calm, resume := stallAt+600*time.Millisecond, stallAt+stallFor-200*time.Millisecond
	err = results.ReadRequests(out, func(r *results.Request) error {
		ids[r.ID]++
		for k := 1; k < r.NHops; k++ {
			if prev, h := r.Hops[k-1], r.Hops[k]; prev.Status == 302 && h.Server == 1 && h.At > calm && h.At < resume {
				late++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Requests
	if int64(len(ids)) != c.Sent || c.Sent != c.Completed+c.Errors+c.Rejected+c.Shed {
		t.Fatalf("accounting: %d records for %+v", len(ids), c)
	}
	for id, n := range ids {
		if n != 1 || id >= uint64(c.Sent) {
			t.Fatalf("request %d has %d records", id, n)
		}
	}
	if late > 0 {
		t.Fatalf("%d redirects went to web-2 while the manager had it down", late)
	}
	if c.Errors == 0 {
		t.Fatalf("no request noticed the stall: %+v", c)
	}
	t.Logf("web-2 stopped for %v from %v (run took %v): %+v, %d redirects to web-2 while it was down", stallFor, stallAt, time.Since(start).Round(time.Millisecond), c, late)

	// The manager goes away and comes back on the same address.
	mgr.Process.Kill()
	mgr.Wait()
	child(t, "manager", sc, "--listen", maddr, "--token-file", tok)
	waitUntil(t, 10*time.Second, "both agents to register again", func() bool { return len(upServers(t, murl, token)) == 2 })

	// SIGTERM stops a server gracefully: exit 0, at once when idle.
	web1.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- web1.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("web-1 after SIGTERM: %v", err)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("web-1 did not stop within 6 s of SIGTERM")
	}
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	return jsonDecode(resp.Body, v)
}

func jsonDecode(r interface{ Read([]byte) (int, error) }, v any) error {
	return json.NewDecoder(r).Decode(v)
}
