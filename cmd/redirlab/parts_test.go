package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitUp polls url until it answers, for at most 5 s.
func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", url)
}

// TestPartsAlone runs the manager, each server and the load generator as
// separate commands, as on several hosts (here all on 127.0.0.1), and
// checks that the load generator's results count every request and that
// the servers redirected to each other through the manager's registry.
func TestPartsAlone(t *testing.T) {
	file := writeFile(t, "parts.yaml", `name: parts
duration: 2s
warmup: 500ms
servers:
  - {name: web, count: 2, workers: 2, service: {dist: exp, mean: 5ms}}
  - {name: slow, count: 1, workers: 1, service: {dist: exp, mean: 20ms}}
manager: {report_interval: 50ms}
policy: {condition: queue-length, threshold: 1}
workload:
  arrival: {process: poisson, rate: 250/s}
`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	start := func(args ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			if code := run(ctx, append([]string{"redirlab"}, args...), &out, &errb); code != 0 && ctx.Err() == nil {
				t.Errorf("%v: exit %d: %s", args, code, errb.String())
			}
		}()
	}
	mgr := freeAddr(t)
	start("manager", file, "--listen", mgr)
	waitUp(t, "http://"+mgr+"/v1/view")
	var targets []string
	for _, name := range []string{"web-1", "web-2", "slow-1"} {
		addr := freeAddr(t)
		start("serve", file, "--server", name, "--listen", addr, "--manager", "http://"+mgr)
		waitUp(t, "http://"+addr+"/status")
		targets = append(targets, "http://"+addr)
	}
	time.Sleep(200 * time.Millisecond) // a few reports, so that views name every peer
	out := t.TempDir()
	args := []string{"loadgen", file, "--out", out, "--quiet"}
	for _, u := range targets {
		args = append(args, "--target", u)
	}
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("loadgen: exit %d: %s\n%s", code, stderr, stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	c := s.Requests
	if c.Sent < 300 || c.Sent != c.Completed+c.Errors+c.Rejected+c.Shed {
		t.Errorf("requests %+v: want about 500 sent, all accounted for", c)
	}
	if s.Redirects.Total == 0 {
		t.Errorf("no redirects: the servers did not learn their peers from the manager (%s)", fmt.Sprint(s.Redirects))
	}
}
