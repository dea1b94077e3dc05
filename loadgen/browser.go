package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// ServerHeader names the server that answered, on every redirlab response.
const ServerHeader = model.ServerHeader

// ShedHeader marks a shed 503 (policy.action shed).
const ShedHeader = model.ShedHeader

// classify maps a final HTTP status to an outcome: 2xx is a page, 503 is a
// server turning the request away, shed when it says so (ShedHeader),
// else for lack of room; anything else (other 5xx, 4xx, a redirect with
// nowhere to go) is an error.
func classify(status int, shed bool) results.Outcome {
	switch {
	case status >= 200 && status < 300:
		return results.Completed
	case status == http.StatusServiceUnavailable && shed:
		return results.Shed
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
// (shared by the sessions assigned to each) and the knowledge to tell
// which server answered. Every redirect is followed by hand.
type browsers struct {
	clients      []*httpClient
	pages        []string // page URL per target
	demand       []string // page URL per target with the demand parameter, up to its value
	names        map[string]int
	hosts        map[string]int
	timeout      time.Duration // workload.timeout, per page and per object
	maxRedirects int           // workload.max_redirects
	clock        Clock
	start        time.Time
}

// DemandParam is the query parameter that carries a page request's id to
// the servers, page and objects alike: a server draws the request's
// service time from dist.Uniform(seed, id, part), part 0 for the page and
// k+1 for /object/<k>, so that a real run and a simulation of the same
// scenario serve the same demands (common random numbers).
const DemandParam = model.DemandParam

func newBrowsers(ctx context.Context, p *plan.Plan, bases []*url.URL, t Transport, clock Clock, start time.Time) *browsers {
	b := &browsers{
		names:        serverNames(p.Scenario),
		hosts:        make(map[string]int, len(bases)),
		timeout:      p.Timeout,
		maxRedirects: p.MaxRedirects,
		clock:        clock,
		start:        start,
	}
	for i, u := range bases {
		if _, dup := b.hosts[u.Host]; !dup {
			b.hosts[u.Host] = i
		}
		page := u.ResolveReference(&url.URL{Path: p.PagePath}).String()
		sep := "?"
		if strings.Contains(page, "?") {
			sep = "&"
		}
		b.pages = append(b.pages, page)
		b.demand = append(b.demand, page+sep+DemandParam+"=")
	}
	for range t.Pools {
		b.clients = append(b.clients, newHTTPClient(ctx, t))
	}
	return b
}

// serverNames maps instance names (and the bare name of a group of one) to
// server indexes.
func serverNames(sc *scenarios.Scenario) map[string]int {
	names := map[string]int{}
	for _, in := range sc.Instances() {
		names[in.Name] = in.Index
		if in.Group != nil && in.Group.Count == 1 {
			if _, taken := names[in.Group.Name]; !taken {
				names[in.Group.Name] = in.Index
			}
		}
	}
	return names
}

func (b *browsers) close() {
	for _, c := range b.clients {
		c.close()
	}
}

func (b *browsers) elapsed() time.Duration { return b.clock.Now().Sub(b.start) }

// serverOf tells which server answered: by its header, else by the host
// the request went to, else -1.
func (b *browsers) serverOf(a answer) int {
	if a.server != "" {
		if i, ok := b.names[a.server]; ok {
			return i
		}
	}
	if i, ok := b.hosts[a.host]; ok {
		return i
	}
	return -1
}

// pageTrace is a worker's scratch for the page requests it serves, one
// at a time, so that a request allocates neither its URL buffer nor the
// callback that notes its send.
type pageTrace struct {
	b      *browsers
	r      *results.Request
	onSent func()
	url    []byte // the page URL being built
}

func (b *browsers) newPageTrace() *pageTrace {
	t := &pageTrace{b: b}
	t.onSent = t.sent
	return t
}

// sent runs just before the first hop is written on its connection: a
// wait for a connection (Transport.MaxConnsPerHost) or a dial is the
// generator's lateness too.
func (t *pageTrace) sent() { t.r.Sent = t.b.elapsed() }

// page performs r's page request from server first through pool, following
// up to workload.max_redirects redirects by hand and recording each hop.
// r.ID, r.Scheduled are set by the caller; pt is the caller's scratch.
// It fills Sent, Done, Outcome, Status, Redirects, Final and Hops, and
// returns the scheme://host that answered last ("" if none did).
func (b *browsers) page(pool, first int, r *results.Request, pt *pageTrace) string {
	c := b.clients[pool]
	r.First, r.Final = first, -1
	deadline := r.Scheduled + b.timeout
	// The request id travels in the query (redirects keep it) so that
	// servers draw this request's own demand, as the simulator does.
	pt.url = strconv.AppendUint(append(pt.url[:0], b.demand[first]...), r.ID, 10)
	target := string(pt.url)
	r.Sent = b.elapsed() // until the first hop is written
	pt.r = r
	sent := pt.onSent
	for {
		a, err := c.get(target, deadline-b.elapsed(), sent)
		sent = nil
		now := b.elapsed()
		if err != nil {
			r.AddHop(results.Hop{Server: -1, At: now})
			r.Status = 0
			if c.ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) && now >= deadline-time.Millisecond {
				// Recorded at the timeout, not when the connection noticed.
				r.Outcome, r.Done = results.Timeout, deadline
			} else if c.ctx.Err() != nil {
				// The run was stopped under it: neither success nor failure.
				r.Outcome, r.Done = results.Interrupted, now
			} else {
				r.Outcome, r.Done = results.Error, now
			}
			return ""
		}
		srv := b.serverOf(a)
		r.AddHop(results.Hop{Server: int16(srv), Status: int16(a.status), At: now})
		r.Final, r.Status, r.Done = srv, a.status, now
		if !isRedirect(a.status) {
			r.Outcome = classify(a.status, a.shed)
			return a.origin
		}
		if a.location == "" || r.Redirects >= b.maxRedirects {
			r.Outcome = results.Error
			return ""
		}
		// Relative to the URL that answered, as browsers do.
		next, err := resolve(target, a.location)
		if err != nil {
			r.Outcome = results.Error
			return ""
		}
		r.Redirects++
		target = next
	}
}

// resolve is location relative to base, absolute; only http and https
// are followed.
func resolve(base, location string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	next, err := u.Parse(location)
	if err != nil {
		return "", err
	}
	if next.Scheme != "http" && next.Scheme != "https" {
		return "", errors.New("loadgen: redirect to a non-HTTP URL: " + location)
	}
	return next.String(), nil
}

// objects fetches n embedded objects /object/<k> (k = 0..n-1) from the
// server at origin (scheme://host), up to model.MaxParallelObjects at once over
// pool's keep-alive connections, each bounded by the workload timeout. It
// sets r.Objects to the number fetched with a 2xx answer and
// r.ObjectsDone to when the last one ended.
func (b *browsers) objects(pool int, origin string, n int, r *results.Request) {
	if n <= 0 {
		return
	}
	c := b.clients[pool]
	prefix := origin + "/object/"
	demand := "?" + DemandParam + "=" + strconv.FormatUint(r.ID, 10)
	var next, fetched atomic.Int64
	fetch := func() {
		for {
			k := next.Add(1) - 1
			if k >= int64(n) {
				return
			}
			a, err := c.get(prefix+strconv.FormatInt(k, 10)+demand, b.timeout, nil)
			if err == nil && a.status >= 200 && a.status < 300 {
				fetched.Add(1)
			}
		}
	}
	par := min(n, model.MaxParallelObjects)
	var wg sync.WaitGroup
	for range par - 1 {
		wg.Go(fetch)
	}
	fetch()
	wg.Wait()
	r.Objects = int(fetched.Load())
	r.ObjectsDone = b.elapsed()
}
