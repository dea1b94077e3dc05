// Command bench measures the redirecting server's overhead with wrk
// (Debian package wrk) on 127.0.0.1, side by side:
//
//	(a) plain:    a plain net/http handler writing the same page
//	(b) page:     the redirlab server, zero service time, serving pages
//	(c) redirect: the redirlab server answering every page request with a redirect
//
// The three run in turn, -rounds times, and the best requests/s of each is
// kept (the machine is shared; the best round is the least disturbed).
// Requirements: (b) >= 85% of (a), and (c) >= (b). Exit status 1 when one
// fails, 2 on a usage or setup error.
//
//	go run ./server/bench [-duration 5s] [-connections 32] [-threads 2] [-rounds 3]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

const pageBytes = 2048

func main() {
	duration := flag.Duration("duration", 5*time.Second, "length of each wrk run")
	connections := flag.Int("connections", 32, "wrk connections")
	threads := flag.Int("threads", 2, "wrk threads")
	rounds := flag.Int("rounds", 3, "rounds of (a), (b), (c)")
	wrk := flag.String("wrk", "wrk", "wrk binary")
	flag.Parse()
	if err := run(*wrk, *duration, *connections, *threads, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
}

// scenario: group "web" serves pages at once with plenty of workers;
// group "hot" has one worker that a held request keeps busy, so that with
// threshold 0 it redirects every page request to web-1.
func scenario() *scenarios.Scenario {
	interval := 100 * time.Millisecond
	fraction := 1.0
	g := func(name string, workers int, service time.Duration) scenarios.ServerGroup {
		return scenarios.ServerGroup{
			Name: name, Count: 1, Workers: workers, QueueCapacity: 4096,
			Service:       scenarios.Service{Dist: "const", Mean: service},
			ObjectService: scenarios.Service{Dist: "const"},
			PageBytes:     pageBytes, ObjectBytes: 1024, Weight: 1,
		}
	}
	return &scenarios.Scenario{
		Name: "bench", Seed: 1, Duration: time.Second, Replications: 1, SampleInterval: 100 * time.Millisecond,
		Servers: []scenarios.ServerGroup{g("web", 256, 0), g("hot", 1, time.Hour)},
		Manager: scenarios.Manager{ReportInterval: &interval, Decision: "local", ViewTTL: time.Hour, Expire: time.Second},
		Policy: scenarios.Policy{
			Condition: "queue-length", Threshold: scenarios.Threshold{Raw: "0"}, Estimator: "hol", EWMAWeight: 0.1,
			Target: "least-loaded", ProbeLimit: 3, MaxHops: 1, Fraction: &fraction, Status: 302,
		},
		Workload: scenarios.Workload{Path: "/page", Timeout: 10 * time.Second, MaxInFlight: 10000, MaxRedirects: 10},
	}
}

func run(wrk string, duration time.Duration, connections, threads, rounds int) error {
	if _, err := exec.LookPath(wrk); err != nil {
		return fmt.Errorf("%s not found (apt-get install wrk): %v", wrk, err)
	}
	// (a) plain net/http, the same body and headers a page gets.
	body := make([]byte, pageBytes)
	for i := range body {
		body[i] = 'x'
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	plain := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})}
	go plain.Serve(ln)
	defer plain.Close()

	sc := scenario()
	web, err := server.New(server.Config{Scenario: sc, Index: 0})
	if err != nil {
		return err
	}
	hot, err := server.New(server.Config{Scenario: sc, Index: 1})
	if err != nil {
		return err
	}
	for _, s := range []*server.Server{web, hot} {
		if err := s.Start(); err != nil {
			return err
		}
		defer s.Close()
	}
	view := &server.ViewMessage{Servers: []server.ServerView{
		{StatusMessage: server.StatusMessage{Server: 0, Workers: 256, Up: true}, URL: web.URL()},
		{StatusMessage: server.StatusMessage{Server: 1, Workers: 1, Up: true}, URL: hot.URL()},
	}}
	hot.SetView(view)
	// Hold hot-1's only worker for the whole benchmark.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", hot.URL()+"/page?hold=1", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); hot.Status().InService < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the holding request never reached hot-1")
		}
	}
	// Check each target answers as intended before measuring.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		url  string
		want int
	}{{"http://" + ln.Addr().String() + "/page", 200}, {web.URL() + "/page", 200}, {hot.URL() + "/page", 302}} {
		resp, err := noFollow.Get(c.url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			return fmt.Errorf("%s answered %d, want %d", c.url, resp.StatusCode, c.want)
		}
	}

	targets := []struct{ name, url string }{
		{"(a) plain net/http", "http://" + ln.Addr().String() + "/page"},
		{"(b) redirlab page", web.URL() + "/page"},
		{"(c) redirlab redirect", hot.URL() + "/page"},
	}
	best := make([]float64, len(targets))
	for r := 0; r < rounds; r++ {
		for i, tg := range targets {
			rps, err := measure(wrk, tg.url, duration, connections, threads)
			if err != nil {
				return fmt.Errorf("%s: %v", tg.name, err)
			}
			fmt.Printf("round %d  %-24s %10.0f req/s\n", r+1, tg.name, rps)
			best[i] = max(best[i], rps)
		}
	}
	fmt.Println()
	fmt.Printf("best of %d rounds, wrk -t%d -c%d -d%v on 127.0.0.1:\n", rounds, threads, connections, duration)
	for i, tg := range targets {
		fmt.Printf("  %-24s %10.0f req/s\n", tg.name, best[i])
	}
	ok := true
	b2a, c2b := best[1]/best[0], best[2]/best[1]
	fmt.Printf("  (b)/(a) = %.3f  (requirement >= 0.85) %s\n", b2a, verdict(b2a >= 0.85, &ok))
	fmt.Printf("  (c)/(b) = %.3f  (requirement >= 1.00) %s\n", c2b, verdict(c2b >= 1, &ok))
	if !ok {
		os.Exit(1)
	}
	return nil
}

func verdict(pass bool, ok *bool) string {
	if pass {
		return "ok"
	}
	*ok = false
	return "FAIL"
}

var rpsLine = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// measure runs wrk once against url and returns its requests/s.
func measure(wrk, url string, d time.Duration, connections, threads int) (float64, error) {
	out, err := exec.Command(wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(connections),
		"-d", fmt.Sprintf("%ds", max(int(d.Seconds()), 1)), url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
