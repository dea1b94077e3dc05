package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// ServerHeader names the server that answered, on every redirlab response.
const ServerHeader = "X-Redirlab-Server"

// maxParallelObjects is how many embedded objects a browser fetches at
// once from one server (the per-host connection limit of browsers).
const maxParallelObjects = 6

// classify maps a final HTTP status to an outcome: 2xx is a page, 503 is a
// server turning the request away for lack of room, anything else
// (other 5xx, 4xx, a redirect with nowhere to go) is an error.
func classify(status int) results.Outcome {
	switch {
	case status >= 200 && status < 300:
		return results.Completed
	case status == http.StatusServiceUnavailable:
		return results.Rejected
	}
	return results.Error
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// browsers are the HTTP side of the open-loop generator: connection pools
// (one http.Transport each, shared by the sessions assigned to it) and the
// knowledge to tell which server answered. Requests go to the transports
// directly: an http.Client would only copy headers and wrap contexts per
// request, and every redirect is followed by hand anyway.
type browsers struct {
	transports []*http.Transport
	pages      []string // page URL per target
	demand     []string // page URL per target with the demand parameter, up to its value
	names      map[string]int
	hosts      map[string]int
	workload   scenarios.Workload
	clock      Clock
	start      time.Time
}

// DemandParam is the query parameter that carries a page request's id to
// the servers, page and objects alike: a server draws the request's
// service time from dist.Uniform(seed, id, part), part 0 for the page and
// k+1 for /object/<k>, so that a real run and a simulation of the same
// scenario serve the same demands (common random numbers).
const DemandParam = "redirlab_req"

func newBrowsers(sc *scenarios.Scenario, bases []*url.URL, t Transport, clock Clock, start time.Time) *browsers {
	b := &browsers{
		names:    serverNames(sc),
		hosts:    make(map[string]int, len(bases)),
		workload: sc.Workload,
		clock:    clock,
		start:    start,
	}
	path := sc.Workload.Path
	if path == "" {
		path = "/page"
	}
	for i, u := range bases {
		if _, dup := b.hosts[u.Host]; !dup {
			b.hosts[u.Host] = i
		}
		page := u.ResolveReference(&url.URL{Path: path}).String()
		sep := "?"
		if strings.Contains(page, "?") {
			sep = "&"
		}
		b.pages = append(b.pages, page)
		b.demand = append(b.demand, page+sep+DemandParam+"=")
	}
	for range t.Pools {
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: t.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: t.MaxIdleConnsPerHost,
			MaxConnsPerHost:     t.MaxConnsPerHost,
			IdleConnTimeout:     t.IdleConnTimeout,
			DisableKeepAlives:   t.DisableKeepAlives,
		}
		b.transports = append(b.transports, tr)
	}
	return b
}

// serverNames maps instance names (and the bare name of a group of one) to
// server indexes.
func serverNames(sc *scenarios.Scenario) map[string]int {
	names := map[string]int{}
	for _, in := range instancesOf(sc) {
		names[in.Name] = in.Index
		if in.Group != nil && in.Group.Count == 1 {
			if _, taken := names[in.Group.Name]; !taken {
				names[in.Group.Name] = in.Index
			}
		}
	}
	return names
}

// instancesOf is sc.Instances(), or the same naming rule ("<group>-<i>",
// in file order) for a scenarios package built without it.
func instancesOf(sc *scenarios.Scenario) []scenarios.Instance {
	if x, ok := any(sc).(interface{ Instances() []scenarios.Instance }); ok {
		return x.Instances()
	}
	var out []scenarios.Instance
	for gi := range sc.Servers {
		g := &sc.Servers[gi]
		for i := 1; i <= max(g.Count, 1); i++ {
			out = append(out, scenarios.Instance{Index: len(out), Name: g.Name + "-" + strconv.Itoa(i), Group: g})
		}
	}
	return out
}

func (b *browsers) close() {
	for _, t := range b.transports {
		t.CloseIdleConnections()
	}
}

func (b *browsers) elapsed() time.Duration { return b.clock.Now().Sub(b.start) }

// serverOf tells which server answered: by its header, else by the host
// the request went to, else -1.
func (b *browsers) serverOf(resp *http.Response, u *url.URL) int {
	if name := resp.Header.Get(ServerHeader); name != "" {
		if i, ok := b.names[name]; ok {
			return i
		}
	}
	if i, ok := b.hosts[u.Host]; ok {
		return i
	}
	return -1
}

// exchange sends one GET (a redirect is an answer like any other) and
// reads the whole body, so the connection goes back to the pool.
func exchange(ctx context.Context, t *http.Transport, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return roundTrip(t, req)
}

// roundTrip sends req and reads the whole body.
func roundTrip(t *http.Transport, req *http.Request) (*http.Response, error) {
	resp, err := t.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return resp, err
}

// pageTrace notes when a page request's first hop gets its connection.
// A worker keeps one for all the requests it serves, so that a request
// allocates no trace of its own.
type pageTrace struct {
	b     *browsers
	r     *results.Request
	sent  bool
	trace httptrace.ClientTrace
	url   []byte // the page URL being built
}

func (b *browsers) newPageTrace() *pageTrace {
	t := &pageTrace{b: b}
	t.trace.GotConn = t.gotConn
	return t
}

// gotConn runs on the goroutine of the request (Transport.RoundTrip calls
// it before returning), never after the request ended.
func (t *pageTrace) gotConn(httptrace.GotConnInfo) {
	if !t.sent {
		t.sent = true
		t.r.Sent = t.b.elapsed()
	}
}

// page performs r's page request from server first through pool, following
// up to workload.max_redirects redirects by hand and recording each hop.
// r.ID, r.Scheduled are set by the caller; pt is the caller's trace (used
// by one request at a time). It fills Sent, Done, Outcome, Status,
// Redirects, Final and Hops, and returns the URL that answered last.
func (b *browsers) page(ctx context.Context, pool, first int, r *results.Request, pt *pageTrace) *url.URL {
	c := b.transports[pool]
	r.First, r.Final = first, -1
	deadline := r.Scheduled + b.workload.Timeout
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, deadline-b.elapsed())
	defer cancel()
	// The request id travels in the query (redirects keep it) so that
	// servers draw this request's own demand, as the simulator does.
	pt.url = strconv.AppendUint(append(pt.url[:0], b.demand[first]...), r.ID, 10)
	target := string(pt.url)
	var u *url.URL
	ctx = httptrace.WithClientTrace(ctx, &pt.trace)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	// With everything ready, wait for the due time (a request may be
	// handed over a little early, see openLoop.handOverEarly), yielding
	// the P: what is left until the send is the transport's own work, so
	// that two requests due a few microseconds apart leave as close.
	for b.elapsed() < r.Scheduled {
		runtime.Gosched()
	}
	// Sent is when the first hop gets its connection and goes on the
	// wire: a wait for a connection (Transport.MaxConnsPerHost) or a
	// dial is the generator's lateness too. Until then, now.
	r.Sent = b.elapsed()
	pt.r, pt.sent = r, false
	for {
		var resp *http.Response
		if err == nil {
			resp, err = roundTrip(c, req)
		}
		now := b.elapsed()
		if err != nil {
			r.AddHop(results.Hop{Server: -1, At: now})
			r.Status = 0
			if parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// Recorded at the timeout, not when the transport noticed.
				r.Outcome, r.Done = results.Timeout, deadline
			} else {
				r.Outcome, r.Done = results.Error, now
			}
			return nil
		}
		u = resp.Request.URL
		srv := b.serverOf(resp, u)
		r.AddHop(results.Hop{Server: int16(srv), Status: int16(resp.StatusCode), At: now})
		r.Final, r.Status, r.Done = srv, resp.StatusCode, now
		if !isRedirect(resp.StatusCode) {
			r.Outcome = classify(resp.StatusCode)
			return u
		}
		loc := resp.Header.Get("Location")
		next, err := u.Parse(loc) // relative to the URL that answered, as browsers do
		if loc == "" || err != nil || r.Redirects >= b.workload.MaxRedirects {
			r.Outcome = results.Error
			return nil
		}
		r.Redirects++
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
	}
}

// objects fetches n embedded objects /object/<k> (k = 0..n-1) from the
// server at u, up to maxParallelObjects at once over pool's keep-alive
// connections, each bounded by the workload timeout. It sets r.Objects to
// the number fetched with a 2xx answer and r.ObjectsDone to when the last
// one ended.
func (b *browsers) objects(ctx context.Context, pool int, u *url.URL, n int, r *results.Request) {
	if n <= 0 {
		return
	}
	c := b.transports[pool]
	prefix := u.Scheme + "://" + u.Host + "/object/"
	demand := "?" + DemandParam + "=" + strconv.FormatUint(r.ID, 10)
	var next, fetched atomic.Int64
	fetch := func() {
		for {
			k := next.Add(1) - 1
			if k >= int64(n) {
				return
			}
			octx, cancel := context.WithTimeout(ctx, b.workload.Timeout)
			resp, err := exchange(octx, c, prefix+strconv.FormatInt(k, 10)+demand)
			cancel()
			if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
				fetched.Add(1)
			}
		}
	}
	par := min(n, maxParallelObjects)
	var wg sync.WaitGroup
	for range par - 1 {
		wg.Go(fetch)
	}
	fetch()
	wg.Wait()
	r.Objects = int(fetched.Load())
	r.ObjectsDone = b.elapsed()
}
