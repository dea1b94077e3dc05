// Command bench measures the open-loop generator's throughput against
// hey's, by hand (go test does not run it): it starts a plain net/http
// server on 127.0.0.1 in a separate process, measures the requests per
// second the hey command reaches alone against it (-c 50 for
// -hey-duration), then bisects the highest open-loop Poisson rate at which
// loadgen.Run achieves at least 99% of the offered rate with send lag p99
// under 2 ms, and prints both figures with the load average. Each figure
// is the median of -repeat runs (3 by default): one run's p99 send lag at
// a given rate varies by a factor of two from run to run on this machine.
//
//	GOBIN=/tmp/heybin go install github.com/rakyll/hey@v0.1.5
//	go run ./loadgen/bench -hey /tmp/heybin/hey
//
// Records go into a results.Recorder in memory with NoRecords (no
// requests.csv) unless -records is given, which streams requests.csv to a
// temporary directory. -first prints the send lag of the first second
// and of the rest, and the connections opened before and during the run
// (-noprewarm: none before; -service: the server sleeps per answer).
// -rate measures one rate only (with -cpuprofile, to profile the open
// loop at that rate).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

const (
	serverEnv = "REDIRLAB_BENCH_SERVER"
	// serviceEnv is the plain server's time per answer (a sleep: no CPU).
	serviceEnv = "REDIRLAB_BENCH_SERVICE"
)

func main() {
	if os.Getenv(serverEnv) != "" {
		servePlain()
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// servePlain is the plain zero-service server: a small page with the
// server header, nothing else. It stops when its stdin closes.
func servePlain() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", l.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	body := []byte("page")
	service, _ := time.ParseDuration(os.Getenv(serviceEnv))
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if service > 0 {
			time.Sleep(service)
		}
		w.Header().Set(loadgen.ServerHeader, "web-1")
		w.Write(body)
	}))
}

// startServer re-executes this binary as the plain server and returns its
// URL and a function that stops it.
func startServer(service time.Duration) (string, func(), error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serverEnv+"=1", serviceEnv+"="+service.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { stdin.Close(); cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("plain server: %v", err)
	}
	return strings.TrimSpace(line), stop, nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

type config struct {
	hey         string
	heyDuration time.Duration
	conns       int
	duration    time.Duration
	rate        float64
	steps       int
	records     bool
	repeat      int
	pools       int
	maxConns    int
	cpuprofile  string
	noSpin      bool
	gcPercent   int
	noPrewarm   bool
	first       bool
	service     time.Duration
}

func run() error {
	var c config
	flag.StringVar(&c.hey, "hey", "/tmp/heybin/hey", "the hey command (go install github.com/rakyll/hey@v0.1.5); empty: skip hey, give -rate")
	flag.DurationVar(&c.heyDuration, "hey-duration", 5*time.Second, "how long hey runs")
	flag.IntVar(&c.conns, "c", 50, "hey's connections")
	flag.DurationVar(&c.duration, "d", 5*time.Second, "duration of each open-loop run")
	flag.Float64Var(&c.rate, "rate", 0, "measure the open loop at this rate only (no bisection)")
	flag.IntVar(&c.steps, "steps", 5, "bisection steps after the first probe at 90% of hey's rate")
	flag.BoolVar(&c.records, "records", false, "stream requests.csv to a temporary directory (default: NoRecords)")
	flag.IntVar(&c.repeat, "repeat", 3, "runs per figure (hey's rate, each probe); the median counts")
	flag.IntVar(&c.pools, "pools", 0, "loadgen Transport.Pools (0: its default)")
	flag.IntVar(&c.maxConns, "maxconns", 0, "loadgen Transport.MaxConnsPerHost (0: unbounded, its default)")
	flag.BoolVar(&c.noSpin, "nospin", false, "loadgen Options.NoSpin (Go timers only)")
	flag.IntVar(&c.gcPercent, "gcpercent", 0, "loadgen Options.GCPercent (0: its default)")
	flag.DurationVar(&c.service, "service", 0, "the plain server sleeps this long per answer (and the scenario says so, for the generator's prewarm estimate)")
	flag.BoolVar(&c.noPrewarm, "noprewarm", false, "loadgen Options.NoPrewarm (no connections opened before the first arrival)")
	flag.BoolVar(&c.first, "first", false, "print send lag p99 in the first second and after it, and the connections opened before and during the run (implies -records)")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the open-loop runs to this file")
	flag.Parse()
	if c.first {
		c.records = true
	}

	url, stop, err := startServer(c.service)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("plain server %s; GOMAXPROCS default; load average %s\n", url, loadavg())

	// The profile starts after hey, so that only the open loop is in it.
	startProfile := func() error { return nil }
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
		startProfile = func() error { return pprof.StartCPUProfile(f) }
	}

	if c.repeat < 1 {
		return errors.New("-repeat must be at least 1")
	}
	// probe measures the open loop at rate c.repeat times; it passes if
	// the median run does (median achieved ratio and median p99 lag).
	probe := func(rate float64) (bool, error) {
		var ratios, lags []float64
		for range c.repeat {
			m, err := measure(url, rate, c)
			if err != nil {
				return false, err
			}
			fmt.Printf("  open loop %s (load average %s)\n", m, loadavg())
			ratios = append(ratios, m.ratio())
			lags = append(lags, m.sum.SendLagMS.P99)
		}
		ratio, lag := median(ratios), median(lags)
		ok := ratio >= 0.99 && lag < 2
		fmt.Printf("open loop %s at %.0f/s: median achieved %.2f%% of offered, median send lag p99 %.3fms\n",
			map[bool]string{true: "PASS", false: "fail"}[ok], rate, 100*ratio, lag)
		return ok, nil
	}
	if c.rate > 0 {
		if err := startProfile(); err != nil {
			return err
		}
		_, err := probe(c.rate)
		return err
	}
	if c.hey == "" {
		return errors.New("give -hey or -rate")
	}
	var heyRuns []float64
	for range c.repeat {
		rps, err := runHey(c, url)
		if err != nil {
			return err
		}
		fmt.Printf("  hey -c %d -z %v: %.0f requests/s (load average %s)\n", c.conns, c.heyDuration, rps, loadavg())
		heyRuns = append(heyRuns, rps)
	}
	heyRPS := median(heyRuns)
	fmt.Printf("hey -c %d -z %v: median %.0f requests/s\n", c.conns, c.heyDuration, heyRPS)
	if err := startProfile(); err != nil {
		return err
	}
	lo, hi := 0.0, 1.5*heyRPS
	ok, err := probe(0.9 * heyRPS)
	if err != nil {
		return err
	}
	if ok {
		lo = 0.9 * heyRPS
	} else {
		hi = 0.9 * heyRPS
	}
	for range c.steps {
		mid := (lo + hi) / 2
		ok, err := probe(mid)
		if err != nil {
			return err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	fmt.Printf("RESULT hey %.0f/s; open loop highest passing rate about %.0f/s = %.0f%% of hey (requirement: at least 90%%); load average %s\n",
		heyRPS, lo, 100*lo/heyRPS, loadavg())
	return nil
}

func runHey(c config, url string) (float64, error) {
	out, err := exec.Command(c.hey, "-z", c.heyDuration.String(), "-c", strconv.Itoa(c.conns), url+"/page").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("hey: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no Requests/sec in hey's output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// measurement is one open-loop run.
type measurement struct {
	rate     float64
	sum      *results.Summary
	wall     time.Duration // Run's whole time, the drain included
	achieved float64       // completed / max(duration, wall)
	cpu      time.Duration // this process's CPU time (user + system) during Run
}

func (m measurement) ratio() float64 {
	return m.achieved / (float64(m.sum.Requests.Sent) / m.sum.DurationS)
}

func (m measurement) String() string {
	r := m.sum.Requests
	perReq := time.Duration(0)
	if r.Sent > 0 {
		perReq = m.cpu / time.Duration(r.Sent)
	}
	return fmt.Sprintf("target %.0f/s: sent %d completed %d errors %d rejected %d, achieved %.0f/s (%.2f%% of offered); send lag p50 %.3fms p99 %.3fms max %.3fms; latency p99 %.3fms; generator CPU %v per request",
		m.rate, r.Sent, r.Completed, r.Errors, r.Rejected, m.achieved, 100*m.ratio(), m.sum.SendLagMS.P50, m.sum.SendLagMS.P99, m.sum.SendLagMS.Max, m.sum.LatencyMS.P99, perReq)
}

func measure(url string, rate float64, c config) (measurement, error) {
	sc := &scenarios.Scenario{
		Name:     "bench",
		Seed:     1,
		Duration: c.duration,
		Servers:  []scenarios.ServerGroup{{Name: "web", Count: 1, Workers: 1, Weight: 1, Service: scenarios.Service{Dist: "const", Mean: c.service}}},
		Workload: scenarios.Workload{
			Dispatch:     "random",
			Arrival:      scenarios.Arrival{Process: "poisson", Rate: scenarios.Rate(rate)},
			Session:      scenarios.Session{Pages: 1},
			Timeout:      5 * time.Second,
			MaxInFlight:  20000,
			MaxRedirects: 10,
			Path:         "/page",
		},
	}
	ro := results.Options{NoRecords: true}
	if c.records {
		dir, err := os.MkdirTemp("", "loadgen-bench-")
		if err != nil {
			return measurement{}, err
		}
		defer os.RemoveAll(dir)
		ro = results.Options{Dir: dir}
	}
	rec, err := results.NewRecorder(sc, results.Real, ro)
	if err != nil {
		return measurement{}, err
	}
	opts := loadgen.Options{Transport: loadgen.Transport{Pools: c.pools, MaxConnsPerHost: c.maxConns}, NoSpin: c.noSpin, GCPercent: c.gcPercent, NoPrewarm: c.noPrewarm}
	cpu0 := cpuTime()
	start := time.Now()
	if err := loadgen.Run(context.Background(), sc, []string{url}, rec, opts); err != nil {
		return measurement{}, err
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	sum, err := rec.Close()
	if err != nil {
		return measurement{}, err
	}
	m := measurement{rate: rate, sum: sum, wall: wall, cpu: cpu}
	m.achieved = float64(sum.Requests.Completed) / max(c.duration, wall).Seconds()
	if c.first {
		if err := printFirstSecond(ro.Dir, sum); err != nil {
			return m, err
		}
	}
	return m, nil
}

// printFirstSecond prints the send lag p99 of the requests scheduled in
// the first 100 ms, the first second and after it, from requests.csv, and the
// connections opened before and during the run.
func printFirstSecond(dir string, sum *results.Summary) error {
	var start, first, rest []float64
	err := results.ReadRequests(dir, func(q *results.Request) error {
		lag := float64(q.SendLag()) / 1e6
		if q.Scheduled < 100*time.Millisecond {
			start = append(start, lag)
		}
		if q.Scheduled < time.Second {
			first = append(first, lag)
		} else {
			rest = append(rest, lag)
		}
		return nil
	})
	if err != nil {
		return err
	}
	p99 := func(xs []float64) float64 {
		if len(xs) == 0 {
			return 0
		}
		slices.Sort(xs)
		return xs[min(len(xs)-1, int(0.99*float64(len(xs))))]
	}
	conns := "?"
	if c := sum.Connections; c != nil {
		conns = fmt.Sprintf("%d before, %d during", c.Prewarmed, c.OpenedDuring)
	}
	fmt.Printf("  send lag p99: first 100ms %.3fms (%d requests), first second %.3fms (%d), after %.3fms (%d); connections %s\n", p99(start), len(start), p99(first), len(first), p99(rest), len(rest), conns)
	return nil
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// cpuTime is this process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
