package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// httpClient is one connection pool of the browsers: HTTP/1.1 keep-alive
// connections per host (scheme://host:port), each carrying one request at
// a time. A request is written and its answer read on the requesting
// goroutine itself. net/http's Transport hands every request to two
// goroutines per connection (a writer and a reader) through channels; at
// tens of thousands of requests a second that hand-off was most of the
// generator's CPU (measured on this machine, 16 connections against a
// plain server: Transport.RoundTrip 20–22µs of client CPU per request,
// this 11.5–11.7µs). The wire format is still net/http's: answers are
// parsed by http.ReadResponse (chunked bodies, Connection: close,
// HTTP/1.0), requests are plain GETs.
type httpClient struct {
	dialer      net.Dialer
	tlsConfig   *tls.Config // for https hosts
	maxIdle     int         // idle connections kept per host
	maxConns    int         // connections per host, dialing, busy or idle; 0: no bound
	idleTimeout time.Duration
	keepAlive   bool

	ctx    context.Context // the run's: ends dials, waits and exchanges
	mu     sync.Mutex
	hosts  map[string]*hostConns
	all    map[*conn]struct{} // every open connection, for cancel
	closed bool
	dials  atomic.Int64 // connections opened
	stop   func() bool  // unregisters the cancel hook
}

// hostConns are the connections to one host.
type hostConns struct {
	key, scheme, host string
	idle              []*conn       // most recently used last
	open              int           // dialing, busy or idle
	dialing           int           // of open
	waiters           []chan dialed // requests waiting for a connection, first first
}

// dialed is what a waiting request is handed: a connection, or the error
// of the dial made for it.
type dialed struct {
	cn  *conn
	err error
}

// maxDialsPerHost bounds the connections being set up to one host at
// once, per pool. A burst of requests that find no idle connection (after
// a stall of a few milliseconds at 30,000/s: a hundred) would otherwise
// dial a connection each at once, overflow the server's accept backlog,
// wait a second for the SYN to be sent again, and pile up more requests
// meanwhile: measured, the generator sank to 5–47% of the offered rate
// from 20,000/s up, with 100,000 connections in TIME_WAIT after a few
// runs. Waiting requests take whichever comes first, a new connection
// or one that another request releases.
const maxDialsPerHost = 8

// conn is one HTTP/1.1 connection.
type conn struct {
	nc      net.Conn
	br      *bufio.Reader
	wbuf    []byte
	h       *hostConns // the host it is connected to
	lastUse time.Time
	reused  bool // carried a request before this one
}

// answer is what a browser needs of an HTTP answer.
type answer struct {
	status   int
	location string // Location header
	server   string // ServerHeader
	shed     bool   // ShedHeader present
	origin   string // scheme://host that answered
	host     string // the host part of origin
}

// errClientClosed ends requests after the run's context ended.
var errClientClosed = errors.New("loadgen: connection pool closed")

func newHTTPClient(ctx context.Context, t Transport) *httpClient {
	c := &httpClient{
		ctx:         ctx,
		dialer:      net.Dialer{Timeout: t.DialTimeout, KeepAlive: 30 * time.Second},
		tlsConfig:   t.TLSClientConfig,
		maxIdle:     t.MaxIdleConnsPerHost,
		maxConns:    t.MaxConnsPerHost,
		idleTimeout: t.IdleConnTimeout,
		keepAlive:   !t.DisableKeepAlives,
		hosts:       map[string]*hostConns{},
		all:         map[*conn]struct{}{},
	}
	if c.tlsConfig == nil {
		c.tlsConfig = &tls.Config{}
	}
	// Cancelling the run ends the requests in flight at once: every
	// connection's deadline moves to the past.
	c.stop = context.AfterFunc(ctx, c.interrupt)
	return c
}

// longAgo is a deadline in the past: it fails pending reads and writes.
var longAgo = time.Unix(1, 0)

func (c *httpClient) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cn := range c.all {
		cn.nc.SetDeadline(longAgo)
	}
}

// close closes the idle connections; busy ones close when their request
// ends.
func (c *httpClient) close() {
	c.stop()
	c.mu.Lock()
	c.closed = true
	var idle []*conn
	for _, h := range c.hosts {
		idle = append(idle, c.takeIdleLocked(h)...)
	}
	c.mu.Unlock()
	closeAll(idle)
}

// get sends GET target (an absolute http or https URL) and reads the
// whole answer before timeout. sent is called just before the request is
// written on its connection (again if it is retried). Errors past the
// timeout wrap os.ErrDeadlineExceeded; after the run's context ends they
// are its error.
func (c *httpClient) get(target string, timeout time.Duration, sent func()) (answer, error) {
	scheme, host, uri, ok := splitURL(target)
	if !ok {
		return answer{}, errors.New("loadgen: not an absolute http(s) URL: " + target)
	}
	deadline := time.Now().Add(timeout)
	for attempt := 0; ; attempt++ {
		cn, err := c.acquire(scheme, host, deadline)
		if err != nil {
			return answer{}, c.cause(err)
		}
		if sent != nil {
			sent()
		}
		a, keep, stale, err := c.exchange(cn, uri, deadline)
		if err == nil {
			if keep {
				c.release(cn)
			} else {
				c.discard(cn)
			}
			return a, nil
		}
		c.discard(cn)
		// A kept-alive connection the server had closed before our
		// request reached it: nothing was processed, so the request
		// goes again on a new connection (as net/http does for GET),
		// once; the other idle ones to that host are likely as stale
		// (a restarted server), so they go too.
		if stale && cn.reused && attempt == 0 && c.ctx.Err() == nil {
			c.dropIdle(cn.h)
			continue
		}
		return answer{}, c.cause(err)
	}
}

// cause prefers the run's cancellation to the I/O error it provoked.
func (c *httpClient) cause(err error) error {
	if c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	return err
}

// exchange writes the request on cn and reads the answer, whole. keep
// tells whether cn may carry another request; stale, whether the failure
// came before any byte of an answer (the server had closed cn).
func (c *httpClient) exchange(cn *conn, uri string, deadline time.Time) (a answer, keep, stale bool, err error) {
	if err := cn.nc.SetDeadline(deadline); err != nil {
		return a, false, false, err
	}
	if err := c.ctx.Err(); err != nil { // cancelled before the deadline above was set
		return a, false, false, err
	}
	b := append(cn.wbuf[:0], "GET "...)
	b = append(b, uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, cn.h.host...)
	b = append(b, "\r\nUser-Agent: redirlab-loadgen\r\n"...)
	if !c.keepAlive {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	cn.wbuf = b
	if _, err := cn.nc.Write(b); err != nil {
		return a, false, isBrokenConn(err), err
	}
	// A failure before the answer's first byte means the server had
	// closed cn (ReadResponse would report it as an unexpected EOF).
	if _, err := cn.br.Peek(1); err != nil {
		return a, false, err == io.EOF || isBrokenConn(err), err
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(cn.br, nil)
		if err != nil {
			return a, false, false, err
		}
		// Interim answers (103 Early Hints, 100 Continue) precede the
		// real one; 101 would be a protocol switch, not ours to follow.
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return a, false, false, err
	}
	a = answer{
		status: resp.StatusCode, location: resp.Header.Get("Location"), server: resp.Header.Get(ServerHeader), shed: resp.Header.Get(ShedHeader) != "",
		origin: cn.h.key, host: cn.h.host,
	}
	return a, c.keepAlive && !resp.Close, false, nil
}

// isBrokenConn: the peer had reset or closed the connection.
func isBrokenConn(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// acquire returns an idle connection to scheme://host, or waits for one:
// one that another request releases, or a new one, dialed if fewer than
// maxConns are open (at most maxDialsPerHost at a time).
func (c *httpClient) acquire(scheme, host string, deadline time.Time) (*conn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errClientClosed
	}
	h := c.hostLocked(scheme, host)
	var expired []*conn
	for len(h.idle) > 0 {
		cn := h.idle[len(h.idle)-1]
		h.idle = h.idle[:len(h.idle)-1]
		if c.idleTimeout > 0 && time.Since(cn.lastUse) > c.idleTimeout {
			h.open--
			delete(c.all, cn)
			expired = append(expired, cn)
			continue
		}
		c.mu.Unlock()
		closeAll(expired)
		cn.reused = true
		return cn, nil
	}
	wait := make(chan dialed, 1)
	h.waiters = append(h.waiters, wait)
	c.dialForWaitersLocked(h)
	c.mu.Unlock()
	closeAll(expired)

	var err error
	select {
	case d := <-wait:
		return d.cn, d.err
	case <-c.ctx.Done():
		err = c.ctx.Err()
	default:
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		select {
		case d := <-wait:
			return d.cn, d.err
		case <-c.ctx.Done():
			err = c.ctx.Err()
		case <-timer.C:
			err = os.ErrDeadlineExceeded
		}
	}
	c.leaveQueue(h, wait)
	return nil, err
}

// hostLocked is the connections to scheme://host. c.mu is held.
func (c *httpClient) hostLocked(scheme, host string) *hostConns {
	key := scheme + "://" + host
	h := c.hosts[key]
	if h == nil {
		h = &hostConns{key: key, scheme: scheme, host: host}
		c.hosts[key] = h
	}
	return h
}

// prewarm opens up to n idle connections to the host of base (within
// the idle and connection bounds, at most maxDialsPerHost at a time) and
// returns when they are open or failed: a failure is left for the
// requests to meet.
func (c *httpClient) prewarm(base string, n int) {
	scheme, host, _, ok := splitURL(base)
	if !ok {
		return
	}
	c.mu.Lock()
	h := c.hostLocked(scheme, host)
	n = min(n, c.maxIdle-len(h.idle))
	if c.maxConns > 0 {
		n = min(n, c.maxConns-h.open)
	}
	if c.closed || n <= 0 {
		c.mu.Unlock()
		return
	}
	h.open += n
	c.mu.Unlock()
	deadline := c.dialDeadline()
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxDialsPerHost)
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cn, err := c.connect(h, deadline)
			if err != nil {
				c.mu.Lock()
				h.open--
				c.mu.Unlock()
				return
			}
			c.release(cn)
		})
	}
	wg.Wait()
}

// dialForWaitersLocked starts dials for the waiting requests that no dial
// in progress will serve, within maxConns and maxDialsPerHost. c.mu is
// held.
func (c *httpClient) dialForWaitersLocked(h *hostConns) {
	for h.dialing < len(h.waiters) && h.dialing < maxDialsPerHost && (c.maxConns == 0 || h.open < c.maxConns) && !c.closed {
		h.open++
		h.dialing++
		go c.dial(h)
	}
}

// dial opens a connection for h's waiting requests: the first one gets
// it, or its error; if none waits any more, it goes to the pool. It is
// bounded by the dial timeout and the run's context, not by a request's
// deadline: it serves whoever waits when it is done.
func (c *httpClient) dial(h *hostConns) {
	cn, err := c.connect(h, c.dialDeadline())
	c.mu.Lock()
	h.dialing--
	if err != nil {
		h.open--
		if len(h.waiters) > 0 {
			w := h.waiters[0]
			h.waiters = h.waiters[1:]
			c.dialForWaitersLocked(h)
			c.mu.Unlock()
			w <- dialed{err: err}
			return
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.release(cn)
}

// dialDeadline is when a dial started now times out: none without a
// dial timeout.
func (c *httpClient) dialDeadline() time.Time {
	if c.dialer.Timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(c.dialer.Timeout)
}

// leaveQueue takes wait out of h.waiters, or, if it was served
// meanwhile, passes on what it was given.
func (c *httpClient) leaveQueue(h *hostConns, wait chan dialed) {
	c.mu.Lock()
	for i, w := range h.waiters {
		if w == wait {
			h.waiters = append(h.waiters[:i], h.waiters[i+1:]...)
			c.mu.Unlock()
			return
		}
	}
	c.mu.Unlock()
	if d := <-wait; d.cn != nil {
		c.release(d.cn)
	}
}

// connect opens a connection to h's host, by deadline.
func (c *httpClient) connect(h *hostConns, deadline time.Time) (*conn, error) {
	ctx, scheme, host := c.ctx, h.scheme, h.host
	d := c.dialer
	d.Deadline = deadline
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil && ctx.Err() == nil && !deadline.IsZero() && !time.Now().Before(deadline) && !errors.Is(err, os.ErrDeadlineExceeded) {
		// The deadline cut the dial short: a timeout, as for a read
		// (net reports it as context.DeadlineExceeded).
		err = fmt.Errorf("%w: %w", os.ErrDeadlineExceeded, err)
	}
	if err == nil && scheme == "https" {
		cfg := c.tlsConfig.Clone()
		if cfg.ServerName == "" {
			name, _, serr := net.SplitHostPort(addr)
			if serr != nil {
				name = host
			}
			cfg.ServerName = name
		}
		tc := tls.Client(nc, cfg)
		tc.SetDeadline(deadline)
		if err = tc.HandshakeContext(ctx); err != nil {
			nc.Close()
		}
		nc = tc
	}
	if err != nil {
		return nil, err
	}
	c.dials.Add(1)
	cn := &conn{nc: nc, br: bufio.NewReaderSize(nc, 4096), h: h}
	c.mu.Lock()
	// Registered under the lock that interrupt takes, so that a cancel
	// either finds cn or is seen here.
	closed, cancelled := c.closed, ctx.Err() != nil
	if !closed && !cancelled {
		c.all[cn] = struct{}{}
	}
	c.mu.Unlock()
	if closed || cancelled {
		nc.Close()
		if cancelled {
			return nil, ctx.Err()
		}
		return nil, errClientClosed
	}
	return cn, nil
}

// release returns cn after a complete exchange (or a dial): to the first
// waiting request, to the idle list, or closed if there are enough idle
// ones.
func (c *httpClient) release(cn *conn) {
	cn.lastUse = time.Now()
	h := cn.h
	c.mu.Lock()
	if len(h.waiters) > 0 && !c.closed {
		w := h.waiters[0]
		h.waiters = h.waiters[1:]
		c.mu.Unlock()
		w <- dialed{cn: cn}
		return
	}
	if c.closed || len(h.idle) >= c.maxIdle {
		h.open--
		delete(c.all, cn)
		c.mu.Unlock()
		cn.nc.Close()
		return
	}
	h.idle = append(h.idle, cn)
	c.mu.Unlock()
}

// discard closes cn; waiting requests may get a new connection for it.
func (c *httpClient) discard(cn *conn) {
	c.mu.Lock()
	delete(c.all, cn)
	cn.h.open--
	c.dialForWaitersLocked(cn.h)
	c.mu.Unlock()
	cn.nc.Close()
}

// dropIdle closes h's idle connections.
func (c *httpClient) dropIdle(h *hostConns) {
	c.mu.Lock()
	idle := c.takeIdleLocked(h)
	c.mu.Unlock()
	closeAll(idle)
}

// takeIdleLocked removes h's idle connections from the pool and returns
// them, to be closed once c.mu is released. c.mu is held.
func (c *httpClient) takeIdleLocked(h *hostConns) []*conn {
	idle := h.idle
	h.idle = nil
	h.open -= len(idle)
	for _, cn := range idle {
		delete(c.all, cn)
	}
	return idle
}

func closeAll(conns []*conn) {
	for _, cn := range conns {
		cn.nc.Close()
	}
}

// splitURL splits an absolute http(s) URL into scheme, host (with its
// port, if any) and request URI (path and query, "/" if empty). The
// fragment, which browsers never send, is dropped.
func splitURL(s string) (scheme, host, uri string, ok bool) {
	switch {
	case strings.HasPrefix(s, "http://"):
		scheme, s = "http", s[len("http://"):]
	case strings.HasPrefix(s, "https://"):
		scheme, s = "https", s[len("https://"):]
	default:
		return "", "", "", false
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	i := strings.IndexAny(s, "/?")
	if i < 0 {
		host, uri = s, "/"
	} else {
		host, uri = s[:i], s[i:]
		if uri[0] == '?' {
			uri = "/" + uri
		}
	}
	if host == "" || strings.ContainsAny(host, "@ \t\r\n") || strings.ContainsAny(uri, " \t\r\n") {
		return "", "", "", false
	}
	return scheme, host, uri, true
}
