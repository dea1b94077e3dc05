package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// counterClient reads server counters; it is not one of the browsers.
var counterClient = &http.Client{Timeout: 5 * time.Second}

// RedirectCounter reads a server's own count of redirects answered since
// it started: the sum of the Prometheus counters at baseURL/metrics whose
// name contains "redirect" and ends in "_total"; failing that, the numeric
// field "redirected" or "redirects" of the JSON at baseURL/status.
func RedirectCounter(ctx context.Context, baseURL string) (int64, error) {
	base := strings.TrimRight(baseURL, "/")
	if body, err := get(ctx, base+"/metrics"); err == nil {
		if n, ok := parseRedirectMetrics(body); ok {
			return n, nil
		}
	}
	body, err := get(ctx, base+"/status")
	if err != nil {
		return 0, fmt.Errorf("no redirect counter at %s/metrics or /status: %v", base, err)
	}
	var status map[string]any
	if err := json.Unmarshal(body, &status); err != nil {
		return 0, fmt.Errorf("%s/status: %v", base, err)
	}
	for _, key := range []string{"redirected", "redirects", "Redirected", "Redirects"} {
		if v, ok := status[key].(float64); ok {
			return int64(v), nil
		}
	}
	return 0, fmt.Errorf("no redirect counter at %s/metrics or /status", base)
}

func get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := counterClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	return body, nil
}

// parseRedirectMetrics sums the redirect counters of a Prometheus text
// exposition; ok is false when there is none.
func parseRedirectMetrics(body []byte) (sum int64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if !strings.Contains(name, "redirect") || !strings.HasSuffix(name, "_total") {
			continue
		}
		// The value follows the labels; a timestamp may follow it.
		rest := line[len(name):]
		if j := strings.LastIndexByte(rest, '}'); j >= 0 {
			rest = rest[j+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		sum += int64(v)
		ok = true
	}
	return sum, ok
}

// serverRedirects reads every target's redirect counter.
func (c *closedLoop) serverRedirects(opts *Options) (int64, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	var total int64
	for _, u := range c.bases {
		n, err := opts.ServerCounters(ctx, u.String())
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// serverRedirectSink takes redirect figures counted by the servers
// (*results.Recorder does).
type serverRedirectSink interface {
	ServerRedirects(total, pages int64)
}

// note sets the summary's redirect figures from the servers' own counters
// and says so in the summary.
func (c *closedLoop) note(before, after int64, err error) {
	total := int64(c.nextID)
	head := fmt.Sprintf("closed loop on hey: %d page requests by %d browsers; hey follows redirects silently, "+
		"so per-request hops are not recorded", total, c.sc.Workload.Arrival.Concurrency)
	if err != nil {
		c.rec.Note(head + fmt.Sprintf(", and the servers' redirect counters could not be read (%v): the redirect figures of this summary are 0", err))
	} else {
		per := 0.0
		if total > 0 {
			per = float64(after-before) / float64(total)
		}
		if s, ok := c.rec.(serverRedirectSink); ok {
			s.ServerRedirects(after-before, total)
		}
		c.rec.Note(head + fmt.Sprintf("; the redirect figures come from the servers' own counters (/metrics or /status, read before and after, warmup included): "+
			"%d redirects, %.4f per page request (redirects.rate is that ratio, the fraction redirected if none was redirected twice)", after-before, per))
	}
	if c.failed > 0 {
		c.rec.Note(fmt.Sprintf("closed loop on hey: %d failed requests carry no time in hey's report; "+
			"they are recorded at the end of the hey run that made them", c.failed))
	}
}

// progress calls Options.Progress every ProgressInterval during a closed
// run (figures are per finished hey Work: hey reports at its end).
func (c *closedLoop) progress(opts *Options, total time.Duration) (stop func()) {
	if opts.Progress == nil {
		return func() {}
	}
	report := func() {
		c.mu.Lock()
		n := int64(c.nextID)
		c.mu.Unlock()
		opts.Progress(Progress{Elapsed: c.elapsed(), Total: total, Scheduled: n})
	}
	return reportEvery(c.clock, opts.ProgressInterval, report)
}
