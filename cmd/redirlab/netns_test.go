//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/redirlab/redirlab/results"
)

// The parts of a run on separate network stacks: Linux network namespaces
// joined by veth pairs to a bridge (itself in a namespace of its own, so
// nothing of the test touches the host's network), addresses from
// 198.18.0.0/15, the benchmarking range. The manager, each server and each
// load generator run in their own namespace, as on separate hosts.

// netnsScenario: one hot server that the browsers prefer (weight 4 of 6:
// 180/s for 200/s of service) and two others; the hot one redirects above
// two requests. Reports every 50 ms, a view is dropped after 500 ms and a
// silent server marked down after 300 ms.
const netnsScenario = `name: netns
seed: 1
duration: 10s
warmup: 1s
servers:
  - {name: hot, count: 1, workers: 2, queue_capacity: 256, weight: 4, service: {dist: exp, mean: 10ms}}
  - {name: web, count: 2, workers: 2, queue_capacity: 256, weight: 1, service: {dist: exp, mean: 10ms}}
manager: {report_interval: 50ms, view_ttl: 500ms, expire: 300ms}
policy: {condition: queue-length, threshold: 2, target: least-loaded, max_hops: 1}
workload:
  dispatch: weighted
  arrival: {process: poisson, rate: 270/s}
  timeout: 5s
`

const (
	netnsPrefix   = "rln" // namespaces are rln<pid>-<role>
	netnsEnv      = "REDIRLAB_REQUIRE_NETNS"
	netnsSubnet   = "198.18.0.0/24"
	managerAddr   = "198.18.0.1"
	hotServer     = "hot-1" // the partitioned server
	hotAddr       = "198.18.0.11"
	netnsNetemArg = "delay 2ms" // on every node's link, where the kernel has netem
	netnsShards   = 2           // load generators

	viewTTL      = 500 * time.Millisecond // the scenario's view_ttl
	expireAfter  = 300 * time.Millisecond // the scenario's expire
	runLength    = 11 * time.Second       // the scenario's warmup + duration
	partitionAt  = 4 * time.Second        // after the generators' start
	partitionFor = 3 * time.Second
	// clockSlack: a report interval, an exchange in flight, and the
	// generators' lateness against their time zero.
	clockSlack    = 200 * time.Millisecond
	startLead     = 2 * time.Second         // the manager's --start-lead default
	resumeWithin  = 1500 * time.Millisecond // the agent's backoff cap (1 s) and a few redirects' spacing
	netnsDeadline = 40 * time.Second        // the whole run
	netnsWait     = 5 * time.Second         // for a part to listen
	netnsPoll     = 20 * time.Millisecond
)

// netnsSkip skips, or fails where the environment asks for this test.
func netnsSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(netnsEnv) == "1" {
		t.Fatalf("%s=1, but the network namespace test cannot run: %s", netnsEnv, why)
	}
	t.Skipf("network namespace test skipped: %s (set %s=1 to make this a failure)", why, netnsEnv)
}

// sh runs a command, failing the test with its output on error.
func sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// removeStaleNamespaces deletes namespaces of earlier runs of this test
// whose process is gone (a crash leaves them; a run going on keeps its own).
func removeStaleNamespaces(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	re := regexp.MustCompile(`^` + netnsPrefix + `(\d+)-\S+`)
	for _, line := range strings.Split(string(out), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH {
			t.Logf("removing stale namespace %s", m[0])
			// Its processes first: a namespace without a name still runs them.
			if pids, err := exec.Command("ip", "netns", "pids", m[0]).Output(); err == nil {
				for _, f := range strings.Fields(string(pids)) {
					if p, err := strconv.Atoi(f); err == nil {
						syscall.Kill(p, syscall.SIGKILL)
					}
				}
			}
			exec.Command("ip", "netns", "del", m[0]).Run()
		}
	}
}

// syncBuffer is an output buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// netLab is the namespaces of one run.
type netLab struct {
	t     *testing.T
	run   string // rln<pid>
	bin   string
	netem bool
	ctx   context.Context
}

func (l *netLab) ns(role string) string { return l.run + "-" + role }

// node makes a namespace with one interface, eth0 at addr, on the bridge.
func (l *netLab) node(role, addr string, k int) {
	t, ns, sw := l.t, l.ns(role), l.ns("sw")
	sh(t, "ip", "netns", "add", ns)
	port := fmt.Sprintf("p%d", k)
	sh(t, "ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", sw)
	sh(t, "ip", "-n", sw, "link", "set", port, "master", "br0", "up")
	sh(t, "ip", "-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
	sh(t, "ip", "-n", ns, "link", "set", "eth0", "up")
	sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	if l.netem {
		sh(t, append([]string{"ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", "netem"}, strings.Fields(netnsNetemArg)...)...)
	}
}

// start runs redirlab in a namespace; its output is returned as it grows.
// The test's cleanup stops it.
func (l *netLab) start(role string, args ...string) (*exec.Cmd, *syncBuffer) {
	out := &syncBuffer{}
	c := exec.CommandContext(l.ctx, "ip", append([]string{"netns", "exec", l.ns(role), l.bin}, args...)...)
	c.Stdout, c.Stderr = out, out
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	// Should the test binary die without its cleanups (a -timeout panic),
	// its parts die with it; the namespaces go at the next run.
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c.WaitDelay = 5 * time.Second
	if err := c.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.Process.Kill()
			<-done
		}
	})
	return c, out
}

// waitListening waits until a part says it listens.
func (l *netLab) waitListening(role string, out *syncBuffer) {
	deadline := time.Now().Add(netnsWait)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), "listening on") {
			return
		}
		time.Sleep(netnsPoll)
	}
	l.t.Fatalf("%s did not start listening in %v:\n%s", role, netnsWait, out.String())
}

// TestAcrossNetworkNamespaces runs the manager, three servers and two
// load generator shards (started together through the manager) in
// separate network namespaces and merges the shards. It checks that
// browsers are redirected across namespaces, that the merge accounts for
// every request with the quantiles of the pooled records, and, having cut
// the hot server off from the manager for 3 s (its browsers still reach
// it), that it stops redirecting once its view expires and redirects
// again after the partition heals.
func TestAcrossNetworkNamespaces(t *testing.T) {
	switch {
	case os.Geteuid() != 0:
		netnsSkip(t, "creating network namespaces needs root")
	case testing.Short():
		netnsSkip(t, "it runs for about 20 s (-short)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		netnsSkip(t, "no ip command (iproute2)")
	}
	removeStaleNamespaces(t)

	ctx, cancel := context.WithTimeout(context.Background(), netnsDeadline)
	t.Cleanup(cancel)
	l := &netLab{t: t, run: fmt.Sprintf("%s%d", netnsPrefix, os.Getpid()), ctx: ctx}

	// The redirlab binary, built once.
	dir := t.TempDir()
	l.bin = filepath.Join(dir, "redirlab")
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(goCmd, "build", "-o", l.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Every namespace of this run goes when the test ends, however it
	// ends; with them go their interfaces, routes and the bridge.
	roles := []string{"sw", "mgr", "s1", "s2", "s3"}
	for i := 1; i <= netnsShards; i++ {
		roles = append(roles, fmt.Sprintf("g%d", i))
	}
	t.Cleanup(func() {
		for _, r := range roles {
			exec.Command("ip", "netns", "del", l.ns(r)).Run()
		}
	})
	if err := exec.Command("ip", "netns", "add", l.ns("sw")).Run(); err != nil {
		netnsSkip(t, "ip netns add failed: "+err.Error())
	}
	sh(t, "ip", "-n", l.ns("sw"), "link", "add", "br0", "type", "bridge")
	sh(t, "ip", "-n", l.ns("sw"), "link", "set", "br0", "up")
	// netem is optional: this test must not depend on it.
	probe := exec.Command("ip", "netns", "exec", l.ns("sw"), "tc", "qdisc", "add", "dev", "br0", "root", "netem", "delay", "1ms")
	if out, err := probe.CombinedOutput(); err == nil {
		l.netem = true
		exec.Command("ip", "netns", "exec", l.ns("sw"), "tc", "qdisc", "del", "dev", "br0", "root").Run()
		t.Logf("links delayed with netem %s", netnsNetemArg)
	} else {
		t.Logf("no netem here (%s): links without added delay", strings.TrimSpace(string(out)))
	}
	servers := []struct{ name, role, addr string }{
		{hotServer, "s1", hotAddr}, {"web-1", "s2", "198.18.0.12"}, {"web-2", "s3", "198.18.0.13"},
	}
	l.node("mgr", managerAddr, 1)
	for i, s := range servers {
		l.node(s.role, s.addr, 11+i)
	}
	for i := 1; i <= netnsShards; i++ {
		l.node(fmt.Sprintf("g%d", i), fmt.Sprintf("198.18.0.%d", 20+i), 20+i)
	}

	scenario := filepath.Join(dir, "netns.yaml")
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(scenario, []byte(netnsScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(token, []byte("netns-test-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	managerURL := "http://" + managerAddr + ":7070"
	_, mgrOut := l.start("mgr", "manager", scenario, "--listen", managerAddr+":7070", "--allow", netnsSubnet, "--token-file", token)
	l.waitListening("manager", mgrOut)
	var targets []string
	var serverOuts []*syncBuffer
	for _, s := range servers {
		_, out := l.start(s.role, "serve", scenario, "--server", s.name, "--listen", s.addr+":8080", "--manager", managerURL, "--token-file", token)
		serverOuts = append(serverOuts, out)
		targets = append(targets, "--target", "http://"+s.addr+":8080")
	}
	for i, s := range servers {
		l.waitListening(s.name, serverOuts[i])
	}

	// The load generator's shards, started together through the manager:
	// it gives them one time zero, startLead after the last checks in.
	type shard struct {
		dir  string
		out  *syncBuffer
		done chan error
	}
	var shards []shard
	start := time.Now()
	for i := 1; i <= netnsShards; i++ {
		sd := shard{dir: filepath.Join(dir, fmt.Sprintf("shard-%d", i)), done: make(chan error, 1)}
		var gen *exec.Cmd
		gen, sd.out = l.start(fmt.Sprintf("g%d", i), append([]string{"loadgen", scenario,
			"--shard", fmt.Sprintf("%d/%d", i, netnsShards), "--manager", managerURL, "--token-file", token,
			"--out", sd.dir, "--quiet"}, targets...)...)
		go func() { sd.done <- gen.Wait() }()
		shards = append(shards, sd)
	}

	// The partition: blackhole routes between the hot server and the
	// manager, in both namespaces; the generators' routes stay.
	cut := func(op string) {
		sh(t, "ip", "-n", l.ns("mgr"), "route", op, "blackhole", hotAddr+"/32")
		sh(t, "ip", "-n", l.ns("s1"), "route", op, "blackhole", managerAddr+"/32")
	}
	select {
	case <-time.After(time.Until(start.Add(startLead + partitionAt))):
	case err := <-shards[0].done:
		t.Fatalf("loadgen ended before the partition: %v\n%s", err, shards[0].out.String())
	}
	cut("add")
	cutWall := time.Now()
	time.Sleep(partitionFor)
	cut("del")
	healWall := time.Now()

	var dirs []string
	for i, sd := range shards {
		select {
		case err := <-sd.done:
			if err != nil {
				t.Fatalf("loadgen shard %d: %v\n%s", i+1, err, sd.out.String())
			}
		case <-ctx.Done():
			t.Fatalf("loadgen shard %d did not finish in %v:\n%s", i+1, netnsDeadline, sd.out.String())
		}
		dirs = append(dirs, sd.dir)
	}
	for i, s := range servers {
		t.Logf("%s says:\n%s", s.name, serverOuts[i].String())
	}
	merged := filepath.Join(dir, "merged")
	if out, err := exec.CommandContext(ctx, l.bin, append(append([]string{"merge"}, dirs...), "--out", merged)...).CombinedOutput(); err != nil {
		t.Fatalf("redirlab merge: %v\n%s", err, out)
	}
	checkNetnsResults(t, dirs, merged, managerURL, cutWall, healWall)
}

// checkNetnsResults checks the shards' results in dirs, pooled by hand,
// against their merge: the accounting, the quantiles; and from the pooled
// records, the redirects across namespaces and the partition's effect.
func checkNetnsResults(t *testing.T, dirs []string, mergedDir, managerURL string, cutWall, healWall time.Time) {
	t.Helper()
	// The shards' time zero, from the manager: the partition in run time.
	// Each shard converts the manager's time zero with the clock offset it
	// measured, within the round trip it measured it over.
	var t0 time.Time
	for i, d := range dirs {
		s, err := results.ReadSummary(d)
		if err != nil {
			t.Fatal(err)
		}
		if s.Start == nil || s.Start.By != managerURL {
			t.Fatalf("%s: start %+v: want a time zero from %s", d, s.Start, managerURL)
		}
		at, err := time.Parse(time.RFC3339Nano, s.Start.At)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			t0 = at
		} else if d := at.Sub(t0).Abs(); d > time.Duration(s.Start.RTTMS*float64(time.Millisecond))+time.Millisecond {
			t.Errorf("shard %d starts %v from shard 1 (round trip %.3f ms)", i+1, d, s.Start.RTTMS)
		}
	}
	cutAt, healAt := cutWall.Sub(t0), healWall.Sub(t0)
	t.Logf("partition of %s from the manager: from %.3fs to %.3fs of the run", hotServer, cutAt.Seconds(), healAt.Seconds())

	var sent int64
	var lat []float64
	// The pooled records in a histogram as results keeps one: 1 µs to 1 h,
	// 3 significant digits.
	pooled := hdr.New(int64(time.Microsecond), int64(time.Hour), 3)
	ids := map[uint64]bool{}
	hop := map[string]int{}          // "from>to" of redirects
	var hotRedirects []time.Duration // when the hot server decided to redirect
	var intoHot []time.Duration      // when a peer's redirect sent a browser to it
	for _, d := range dirs {
		s, err := results.ReadSummary(d)
		if err != nil {
			t.Fatal(err)
		}
		sent += s.Requests.Sent
		names := map[int]string{}
		for i, sv := range s.Servers {
			names[i] = sv.Name
		}
		n := int64(0)
		err = results.ReadRequests(d, func(q *results.Request) error {
			n++
			if ids[q.ID] {
				t.Errorf("%s: request %d recorded twice", d, q.ID)
			}
			ids[q.ID] = true
			if q.Outcome == results.Completed {
				lat = append(lat, float64(q.Latency())/1e6)
				pooled.RecordValue(int64(q.Latency()))
			}
			for i := 1; i < min(q.NHops, results.MaxRecordedHops); i++ {
				from, to := names[int(q.Hops[i-1].Server)], names[int(q.Hops[i].Server)]
				hop[from+">"+to]++
				// The redirect's answer comes at once: its arrival is when
				// the server decided.
				if from == hotServer {
					hotRedirects = append(hotRedirects, q.Hops[i-1].At)
				}
				if to == hotServer {
					intoHot = append(intoHot, q.Hops[i-1].At)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != s.Requests.Sent {
			t.Errorf("%s: %d records for %d requests sent", d, n, s.Requests.Sent)
		}
	}

	// The merge: every request of every shard, one record each.
	m, err := results.ReadSummary(mergedDir)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Requests
	t.Logf("merged: sent %d = completed %d + errors %d + rejected %d; p50 %.3f ms, p99 %.3f ms; redirect rate %.3f",
		c.Sent, c.Completed, c.Errors, c.Rejected, m.LatencyMS.P50, m.LatencyMS.P99, m.Redirects.Rate)
	if m.Merge == nil || len(m.Merge.Shards) != len(dirs) {
		t.Errorf("merged: merge %+v: want the %d shards", m.Merge, len(dirs))
	}
	for _, n := range m.Notes {
		if strings.Contains(n, "time zero") {
			t.Errorf("merged: the shards started through the manager, yet: %s", n)
		}
	}
	if c.Sent == 0 || c.Sent != c.Completed+c.Errors+c.Rejected {
		t.Errorf("merged: sent %d != completed %d + errors %d + rejected %d", c.Sent, c.Completed, c.Errors, c.Rejected)
	}
	if c.Sent != sent || int64(len(ids)) != sent {
		t.Errorf("merged: sent %d; the shards sent %d in all, with %d distinct records", c.Sent, sent, len(ids))
	}
	mergedIDs := map[uint64]bool{}
	if err := results.ReadRequests(mergedDir, func(q *results.Request) error {
		if mergedIDs[q.ID] || !ids[q.ID] {
			t.Errorf("merged: request %d twice, or in no shard", q.ID)
		}
		mergedIDs[q.ID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(mergedIDs) != len(ids) {
		t.Errorf("merged: %d records, the shards %d", len(mergedIDs), len(ids))
	}
	// Every server is reachable from every generator all along: nothing
	// may fail.
	if c.Errors != 0 {
		t.Errorf("merged: %d requests failed", c.Errors)
	}

	// The merged quantiles against those of the shards' records pooled by
	// hand: exactly the figures of a histogram of them, and within the
	// documented bound of their exact sample quantiles: the same rank (HdrHistogram's: round(q·n), at least 1), and at
	// most 0.1% above it (3 significant digits), give or take
	// requests.csv's rounding to the microsecond.
	slices.Sort(lat)
	if int64(len(lat)) != c.Completed || len(lat) == 0 {
		t.Fatalf("merged: %d completed; the shards' records %d", c.Completed, len(lat))
	}
	for _, q := range []struct {
		q   float64
		got float64
	}{{0.5, m.LatencyMS.P50}, {0.9, m.LatencyMS.P90}, {0.99, m.LatencyMS.P99}, {0.999, m.LatencyMS.P999}, {1, m.LatencyMS.Max}} {
		rank := min(max(int(q.q*float64(len(lat))+0.5), 1), len(lat))
		want := lat[rank-1]
		if q.got < want-0.001 || q.got > want*1.001+0.001 {
			t.Errorf("merged latency quantile %g: %.3f ms; the pooled records' %.3f ms", q.q, q.got, want)
		}
		// And the same figure as the pooled records' histogram gives, kept
		// within their extremes, to the microsecond.
		byHand := math.Round(min(max(float64(pooled.ValueAtQuantile(q.q*100))/1e6, lat[0]), lat[len(lat)-1])*1000) / 1000
		if q.got != byHand {
			t.Errorf("merged latency quantile %g: %.3f ms; the pooled records' histogram %.3f ms", q.q, q.got, byHand)
		}
	}

	// Redirects cross namespaces: from the hot server to each other one.
	t.Logf("redirects across namespaces (from>to: count): %v; %d requests sent", hop, sent)
	for _, to := range []string{"web-1", "web-2"} {
		if hop[hotServer+">"+to] < 20 {
			t.Errorf("%d redirects from %s to %s, want at least 20", hop[hotServer+">"+to], hotServer, to)
		}
	}

	// The partition's effect, in run time, with clockSlack for the
	// reports in flight.
	slices.Sort(hotRedirects)
	quietFrom := cutAt + viewTTL + clockSlack
	quietTo := healAt - clockSlack
	before := count(hotRedirects, time.Second, cutAt-clockSlack)
	during := count(hotRedirects, quietFrom, quietTo)
	after := count(hotRedirects, healAt+time.Second, runLength)
	intoDuring := count(intoHot, cutAt+expireAfter+clockSlack, quietTo)
	// The quiet spell: the longest gap between two of its redirects
	// around the partition.
	var lastBefore, firstAfter time.Duration
	for i := 1; i < len(hotRedirects); i++ {
		a, b := hotRedirects[i-1], hotRedirects[i]
		if a < healAt && b > cutAt && b-a > firstAfter-lastBefore {
			lastBefore, firstAfter = a, b
		}
	}
	t.Logf("%s's redirects: %d before the partition, %d from %.2fs to %.2fs (view expired), %d after it healed; none from %.2fs to %.2fs (the cut at %.2fs, healed at %.2fs); %d redirects into it while it was cut off",
		hotServer, before, during, quietFrom.Seconds(), quietTo.Seconds(), after, lastBefore.Seconds(), firstAfter.Seconds(), cutAt.Seconds(), healAt.Seconds(), intoDuring)
	if before == 0 {
		t.Errorf("%s did not redirect before the partition", hotServer)
	}
	if during != 0 {
		t.Errorf("%s redirected %d times after its view expired, cut off from the manager", hotServer, during)
	}
	if after == 0 {
		t.Errorf("%s did not redirect again after the partition healed", hotServer)
	}
	// Its agent retries at most a second apart (the backoff's cap): the
	// first view after the heal comes within that, and a redirect soon
	// after at 90% load.
	if firstAfter > healAt+resumeWithin {
		t.Errorf("%s redirected again only %.2fs after the partition healed, want within %v", hotServer, (firstAfter - healAt).Seconds(), resumeWithin)
	}
	if intoDuring != 0 {
		t.Errorf("peers redirected %d browsers to %s after the manager marked it down", intoDuring, hotServer)
	}
}

// count counts the times in [from, to).
func count(times []time.Duration, from, to time.Duration) int {
	n := 0
	for _, x := range times {
		if x >= from && x < to {
			n++
		}
	}
	return n
}
