package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// chromium returns the browser to test with; without one the test is
// skipped, except in CI (env CI set) where it must run.
func chromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		} else if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and there is no %s or chromium on PATH: the report must be checked in a real browser", chromiumPath)
		} else {
			t.Skipf("no %s and no chromium on PATH (set CI to make this a failure)", chromiumPath)
		}
	}
	return path
}

type image struct {
	Src          string  `json:"src"`
	Complete     bool    `json:"complete"`
	NaturalWidth float64 `json:"naturalWidth"`
}

// TestReportInChromium opens the reports of a variants directory in
// headless Chromium: every image must load (naturalWidth > 0) and the
// console must stay free of errors.
func TestReportInChromium(t *testing.T) {
	exe := chromium(t)
	root := t.TempDir()
	runs := variantsFixture(t, root)
	if _, err := WriteComparison(root, runs); err != nil {
		t.Fatal(err)
	}
	if err := Write(root); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("allow-file-access-from-files", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledType("error") {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console.error: "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}

	for _, tc := range []struct {
		dir    string
		images int
	}{
		{root, 6},                                // the comparison: p50, p99, redirect rate, trade-off, over time, CDF
		{runs[0].Dir, 6},                         // a single run, queue delay included
		{runs[1].Dir, 6},                         // replications: the comparison's six, of the replications
		{filepath.Join(runs[2].Dir, "rep-1"), 6}, // one replication of a queue-delay run
	} {
		url := "file://" + filepath.ToSlash(filepath.Join(tc.dir, ReportFile))
		if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		title, err := chromedp.Run(bctx, chromedp.Title())
		if err != nil {
			t.Fatalf("%s: title: %v", url, err)
		}
		imgs, err := chromedp.Run(bctx, chromedp.Evaluate[[]image](`Array.from(document.images).map(i => ({src: i.src, complete: i.complete, naturalWidth: i.naturalWidth}))`))
		if err != nil {
			t.Fatalf("%s: images: %v", url, err)
		}
		if !strings.HasPrefix(title, "redirlab: ") {
			t.Errorf("%s: title %q", url, title)
		}
		if len(imgs) != tc.images {
			t.Errorf("%s: %d images, want %d", url, len(imgs), tc.images)
		}
		for _, im := range imgs {
			if !im.Complete || im.NaturalWidth <= 0 {
				t.Errorf("%s: image %s did not load (complete %v, naturalWidth %v)", url, im.Src, im.Complete, im.NaturalWidth)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}
