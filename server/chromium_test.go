package server

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium. Without it the browser test is
// skipped, except in CI (env CI set), where it must run.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: the browser test must run (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); CI is unset, so the browser test is skipped")
	return ""
}

// TestBrowserFollowsRedirect: headless Chromium asks an overloaded server
// for a page and ends on the page its peer served; the first server's
// metrics count the redirect.
func TestBrowserFollowsRedirect(t *testing.T) {
	path := chromiumPath(t)
	// hot-1 serves pages for a minute (so one request holds its only
	// worker); cool-1 serves at once. Threshold 0: hot-1 redirects as soon
	// as it has a request.
	sc := testScenario(
		group("hot", 1, 1, 16, constService(time.Minute)),
		group("cool", 1, 1, 16, constService(0)),
	)
	c, err := NewCluster(sc, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hot, cool := c.Server(0), c.Server(1)

	// Wait until hot-1's view from the manager names cool-1 as up.
	waitFor(t, "hot-1 to see cool-1 up", func() bool {
		hot.mu.Lock()
		defer hot.mu.Unlock()
		v := hot.view.Current(hot.now())
		return len(v.Servers) == 2 && v.Servers[1].Up
	})

	// Hold hot-1's worker with a real request.
	holdCtx, release := context.WithCancel(ctx)
	defer release()
	go func() {
		req, _ := http.NewRequestWithContext(holdCtx, "GET", hot.URL()+"/page?holder=1", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, "the holder to be in service", func() bool { return hot.Status().InService == 1 })

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	if err := chromedp.Do(browser,
		chromedp.Navigate(hot.URL()+"/page?from=browser"),
		chromedp.WaitReady(chromedp.CSS("h1")),
	); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	title, err := chromedp.Run(browser, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if title != "redirlab cool-1" || heading != "redirlab cool-1" {
		t.Fatalf("browser ended on title %q, heading %q; want cool-1's page", title, heading)
	}
	if want := cool.URL() + "/page?from=browser&redirlab_hop=1"; location != want {
		t.Fatalf("browser ended at %s, want %s", location, want)
	}

	resp, err := http.Get(hot.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^redirlab_redirects_total\{server="hot-1"\} (\d+)$`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("hot-1's /metrics has no redirect counter:\n%s", body)
	}
	if n, _ := strconv.Atoi(m[1]); n < 1 {
		t.Fatalf("hot-1 counted %d redirects, want at least 1", n)
	}
	if !strings.Contains(string(body), `redirlab_queue_length{server="hot-1"} 1`) {
		t.Fatal("hot-1's queue length is not the held request")
	}
	if cool.Counters().Pages < 1 {
		t.Fatal("cool-1 served no page")
	}
}

// waitFor polls cond every 5ms for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
