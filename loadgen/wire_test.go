package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Tests of wire.go, the HTTP/1.1 client of the open loop. Servers listen
// on 127.0.0.1 only; every wait is bounded (waitFor, holdHandler) and no
// test asserts how fast anything is, only that blocking calls return
// long before what they would otherwise wait for.

// wireTransport is a Transport with the defaults Options.validate would
// fill (newHTTPClient takes the values as they are).
func wireTransport() Transport {
	return Transport{DialTimeout: 2 * time.Second, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
}

// newWireClient is newHTTPClient(ctx, tr), closed when the test ends.
func newWireClient(t *testing.T, ctx context.Context, tr Transport) *httpClient {
	t.Helper()
	c := newHTTPClient(ctx, tr)
	t.Cleanup(c.close)
	return c
}

// waitFor polls cond every millisecond for up to 3 s and fails the test
// if it never holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// poolState is the pool of key ("scheme://host") as the client sees it.
func poolState(c *httpClient, key string) (open, idle, waiters int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[key]
	if h == nil {
		return 0, 0, 0
	}
	return h.open, len(h.idle), len(h.waiters)
}

// checkPoolAtRest fails unless every open connection of key is idle, at
// most maxIdle of them, and nobody waits: nothing leaked. Dials outlive
// the requests they were started for (each ends by the dial timeout, and
// its connection goes to the pool), so it waits up to 3 s for them.
func checkPoolAtRest(t *testing.T, c *httpClient, key string, maxIdle int) {
	t.Helper()
	var open, idle, waiters int
	for end := time.Now().Add(3 * time.Second); ; time.Sleep(time.Millisecond) {
		open, idle, waiters = poolState(c, key)
		if open == idle && idle <= maxIdle && waiters == 0 || time.Now().After(end) {
			break
		}
	}
	if open != idle || idle > maxIdle || waiters != 0 {
		t.Fatalf("pool %s at rest: open %d, idle %d (max %d), waiters %d; want open == idle <= max, no waiters", key, open, idle, maxIdle, waiters)
	}
	c.mu.Lock()
	all := len(c.all)
	c.mu.Unlock()
	if all != open {
		t.Fatalf("client tracks %d connections for cancellation, pool has %d open", all, open)
	}
}

// connCounter counts a server's connections through http.Server.ConnState.
type connCounter struct {
	mu                      sync.Mutex
	news, closed, cur, peak int
}

func (cc *connCounter) hook(_ net.Conn, s http.ConnState) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	switch s {
	case http.StateNew:
		cc.news++
		cc.cur++
		cc.peak = max(cc.peak, cc.cur)
	case http.StateClosed, http.StateHijacked:
		cc.closed++
		cc.cur--
	}
}

// counts are the connections accepted so far, those closed, and the most
// open at once.
func (cc *connCounter) counts() (news, closed, peak int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.news, cc.closed, cc.peak
}

// trackedServer starts an httptest server on 127.0.0.1 whose connections
// are counted, and returns it with its pool key ("http://host:port").
func trackedServer(t *testing.T, h http.Handler) (*httptest.Server, *connCounter, string) {
	t.Helper()
	cc := &connCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = cc.hook
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc, srv.URL
}

// holdHandler answers 200 "ok" after one token from release per request
// (or when the request ends or the test does).
type holdHandler struct {
	entered atomic.Int32
	hold    chan struct{}
	done    chan struct{}
}

func newHoldHandler(t *testing.T) *holdHandler {
	h := &holdHandler{hold: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { close(h.done) }) // runs before the server's Close
	return h
}

func (h *holdHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.entered.Add(1)
	select {
	case <-h.hold:
	case <-r.Context().Done():
		return
	case <-h.done:
	case <-time.After(5 * time.Second):
	}
	w.Header().Set(ServerHeader, "hold")
	w.Write([]byte("ok"))
}

// release lets n held requests answer.
func (h *holdHandler) release(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case h.hold <- struct{}{}:
		case <-time.After(3 * time.Second):
			t.Fatalf("released %d of %d held requests: the others never reached the server", i, n)
		}
	}
}

// releaseLater lets n held requests answer as they come, from a
// goroutine (for a get made on the test's goroutine).
func (h *holdHandler) releaseLater(n int) {
	go func() {
		for range n {
			select {
			case h.hold <- struct{}{}:
			case <-h.done:
				return
			}
		}
	}()
}

// getResult is what a get returned, for gets run in goroutines.
type getResult struct {
	a   answer
	err error
}

// goGet runs c.get in a goroutine; its getResult arrives on the channel.
func goGet(c *httpClient, target string, timeout time.Duration) <-chan getResult {
	ch := make(chan getResult, 1)
	go func() {
		a, err := c.get(target, timeout, nil)
		ch <- getResult{a, err}
	}()
	return ch
}

// awaitGet is the result of a goGet, failing the test if it takes over 3 s.
func awaitGet(t *testing.T, ch <-chan getResult) getResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(3 * time.Second):
		t.Fatal("get did not return within 3 s")
		return getResult{}
	}
}

// rawAction is what a rawServer does with a connection after an answer.
type rawAction int

const (
	rawKeep     rawAction = iota // read the next request
	rawCloseFIN                  // close it (FIN), announcing nothing
	rawCloseRST                  // reset it (SO_LINGER 0)
)

// rawServer is a hand-written HTTP/1.1 server on 127.0.0.1, for
// misbehaviour httptest cannot produce. answer writes the raw answer to
// the n-th request (counted from 1 over the whole server).
type rawServer struct {
	url      string
	accepts  atomic.Int32
	requests atomic.Int32
	mu       sync.Mutex
	conns    map[net.Conn]bool
}

func newRawServer(t *testing.T, answer func(n int, w io.Writer) rawAction) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{url: "http://" + ln.Addr().String(), conns: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		s.closeAll(false)
		wg.Wait()
	})
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			s.mu.Lock()
			s.conns[nc] = true
			s.mu.Unlock()
			wg.Go(func() { s.serve(nc, answer) })
		}
	})
	return s
}

func (s *rawServer) serve(nc net.Conn, answer func(int, io.Writer) rawAction) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		nc.Close()
	}()
	br := bufio.NewReader(nc)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		req.Body.Close()
		switch answer(int(s.requests.Add(1)), nc) {
		case rawCloseFIN:
			return
		case rawCloseRST:
			nc.(*net.TCPConn).SetLinger(0)
			return
		}
	}
}

// closeAll closes the server's open connections, with a reset if rst.
func (s *rawServer) closeAll(rst bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for nc := range s.conns {
		if rst {
			nc.(*net.TCPConn).SetLinger(0)
		}
		nc.Close()
	}
}

const rawOK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Redirlab-Server: raw\r\n\r\nok"

func TestSplitURL(t *testing.T) {
	for _, c := range []struct {
		in                string
		scheme, host, uri string
		ok                bool
	}{
		// plain http, path only
		{"http://h/p", "http", "h", "/p", true},
		// https keeps its scheme
		{"https://h/p", "https", "h", "/p", true},
		// no path: the request URI is "/"
		{"http://h", "http", "h", "/", true},
		// the port stays in the host (it is the pool key and Host header)
		{"http://h:8080/a/b", "http", "h:8080", "/a/b", true},
		// https with a port and no path
		{"https://127.0.0.1:8443", "https", "127.0.0.1:8443", "/", true},
		// query kept as it is
		{"http://h/p?x=1&y=2", "http", "h", "/p?x=1&y=2", true},
		// query without a path: the path "/" is added in front
		{"http://h?x=1", "http", "h", "/?x=1", true},
		// query without a path, with a port
		{"http://h:81?x=1", "http", "h:81", "/?x=1", true},
		// the fragment is never sent
		{"http://h/p#frag", "http", "h", "/p", true},
		// fragment after a query
		{"http://h/p?x=1#frag", "http", "h", "/p?x=1", true},
		// fragment right after the host
		{"http://h#frag", "http", "h", "/", true},
		// '?' inside the fragment is not a query
		{"http://h/p#a?b", "http", "h", "/p", true},
		// IPv6 literal with a port: the colons are not cut
		{"http://[::1]:8080/x", "http", "[::1]:8080", "/x", true},
		// IPv6 literal without a port
		{"https://[::1]/", "https", "[::1]", "/", true},
		// '@' in the path is not userinfo
		{"http://h/a@b", "http", "h", "/a@b", true},
		// not http(s)
		{"ftp://h/p", "", "", "", false},
		// relative reference
		{"/p?x=1", "", "", "", false},
		// no scheme
		{"h/p", "", "", "", false},
		// one slash
		{"http:/h/p", "", "", "", false},
		// empty string
		{"", "", "", "", false},
		// empty host, nothing else
		{"http://", "", "", "", false},
		// empty host before a path
		{"http:///p", "", "", "", false},
		// empty host before a query
		{"https://?x=1", "", "", "", false},
		// empty host before a fragment
		{"http://#f", "", "", "", false},
		// userinfo is refused (it would become the Host header)
		{"http://a@b/", "", "", "", false},
		// userinfo with a password and a port
		{"http://u:p@h:80/", "", "", "", false},
		// space in the host
		{"http://h x/", "", "", "", false},
		// CRLF in the host: header injection
		{"http://h\r\nX-Injected: 1/", "", "", "", false},
		// tab in the host
		{"http://h\t/", "", "", "", false},
		// space in the URI: would end the request line early
		{"http://h/a b", "", "", "", false},
		// CRLF in the URI: header injection
		{"http://h/a\r\nX-Injected: 1", "", "", "", false},
		// LF alone in the query
		{"http://h/?q=\nX-Injected: 1", "", "", "", false},
		// CR alone, no path
		{"http://h?\r", "", "", "", false},
		// tab in the URI
		{"http://h/\tx", "", "", "", false},
	} {
		scheme, host, uri, ok := splitURL(c.in)
		if ok != c.ok || scheme != c.scheme || host != c.host || uri != c.uri {
			t.Errorf("splitURL(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
				c.in, scheme, host, uri, ok, c.scheme, c.host, c.uri, c.ok)
		}
	}
}

func TestHTTPClientRejectsBadURL(t *testing.T) {
	c := newWireClient(t, context.Background(), wireTransport())
	sent := 0
	for _, u := range []string{"ftp://127.0.0.1/", "/relative", "http://a@127.0.0.1/", "http://127.0.0.1/a\r\nX: 1"} {
		if _, err := c.get(u, time.Second, func() { sent++ }); err == nil {
			t.Errorf("get(%q) succeeded; want an error", u)
		}
	}
	if sent != 0 {
		t.Errorf("sent called %d times for refused URLs; want 0", sent)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hosts) != 0 || len(c.all) != 0 {
		t.Errorf("refused URLs left pools %v, connections %d", c.hosts, len(c.all))
	}
}

// TestHTTPClientAnswers: status, Location and ServerHeader come through,
// the request is a well-formed GET, and bodies of every framing are read
// whole, so that one connection carries every request.
func TestHTTPClientAnswers(t *testing.T) {
	big := strings.Repeat("x", 256<<10) // far beyond the 4 KiB read buffer
	type seen struct{ method, host, uri, ua, proto string }
	var mu sync.Mutex
	var got []seen
	srv, cc, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.Method, r.Host, r.RequestURI, r.UserAgent(), r.Proto})
		mu.Unlock()
		w.Header().Set(ServerHeader, "web-"+r.URL.Path[1:])
		switch r.URL.Path {
		case "/redirect":
			w.Header().Set("Location", "http://elsewhere.example/next?id=7")
			w.WriteHeader(http.StatusFound)
		case "/chunked":
			// Flushes make the server send chunks (no Content-Length).
			for i := range 50 {
				fmt.Fprintf(w, "chunk %d %s\n", i, big[:1000])
				w.(http.Flusher).Flush()
			}
		case "/length":
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			io.WriteString(w, big)
		case "/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "try later")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/notmodified":
			w.WriteHeader(http.StatusNotModified)
		default:
			io.WriteString(w, "page")
		}
	}))
	host := strings.TrimPrefix(srv.URL, "http://")
	c := newWireClient(t, context.Background(), wireTransport())
	cases := []struct {
		path, uri, location string
		status              int
	}{
		{"/page?x=1#frag", "/page?x=1", "", 200},
		{"/redirect", "/redirect", "http://elsewhere.example/next?id=7", 302},
		{"/chunked", "/chunked", "", 200},
		{"/length", "/length", "", 200},
		{"/busy", "/busy", "", 503},
		{"/empty", "/empty", "", 204},
		{"/notmodified", "/notmodified", "", 304},
		{"/chunked", "/chunked", "", 200},
		{"/page", "/page", "", 200},
	}
	for _, k := range cases {
		a, err := c.get(srv.URL+k.path, 5*time.Second, nil)
		if err != nil {
			t.Fatalf("get %s: %v", k.path, err)
		}
		name := strings.SplitN(k.uri, "?", 2)[0][1:]
		if a.status != k.status || a.location != k.location || a.server != "web-"+name {
			t.Errorf("get %s = %+v; want status %d, location %q, server %q", k.path, a, k.status, k.location, "web-"+name)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(cases) {
		t.Fatalf("server saw %d requests; want %d", len(got), len(cases))
	}
	for i, s := range got {
		want := seen{"GET", host, cases[i].uri, "redirlab-loadgen", "HTTP/1.1"}
		if s != want {
			t.Errorf("request %d seen as %+v; want %+v", i, s, want)
		}
	}
	if news, _, _ := cc.counts(); news != 1 {
		t.Errorf("%d sequential gets opened %d connections; want 1 (every body read whole, connection kept)", len(cases), news)
	}
	checkPoolAtRest(t, c, key, 1)
	if open, _, _ := poolState(c, key); open != 1 {
		t.Errorf("pool has %d connections; want 1", open)
	}
}

// TestHTTPClientServerConnectionClose: an answer with Connection: close
// ends the connection; the next request dials a new one without error.
func TestHTTPClientServerConnectionClose(t *testing.T) {
	srv, cc, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/last" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "page")
	}))
	c := newWireClient(t, context.Background(), wireTransport())
	for i, p := range []string{"/a", "/last", "/b", "/last", "/c", "/d"} {
		a, err := c.get(srv.URL+p, 5*time.Second, nil)
		if err != nil || a.status != 200 {
			t.Fatalf("get %d (%s) = %+v, %v; want 200", i, p, a, err)
		}
	}
	if news, _, _ := cc.counts(); news != 3 {
		t.Errorf("server saw %d connections; want 3 (a new one after each Connection: close)", news)
	}
	waitFor(t, "the server to see 2 connections closed", func() bool { _, closed, _ := cc.counts(); return closed == 2 })
	checkPoolAtRest(t, c, key, 1)
}

// TestHTTPClientHTTP10UntilClose: an HTTP/1.0 answer without a length
// ends at the close; the body is whole and the connection not reused.
func TestHTTPClientHTTP10UntilClose(t *testing.T) {
	s := newRawServer(t, func(n int, w io.Writer) rawAction {
		io.WriteString(w, "HTTP/1.0 200 OK\r\nX-Redirlab-Server: old\r\n\r\n"+strings.Repeat("y", 10000))
		return rawCloseFIN
	})
	c := newWireClient(t, context.Background(), wireTransport())
	for i := range 3 {
		a, err := c.get(s.url+"/", 5*time.Second, nil)
		if err != nil || a.status != 200 || a.server != "old" {
			t.Fatalf("get %d = %+v, %v; want 200 from old", i, a, err)
		}
	}
	if n := s.accepts.Load(); n != 3 {
		t.Errorf("server accepted %d connections for 3 gets; want 3", n)
	}
	checkPoolAtRest(t, c, "http://"+strings.TrimPrefix(s.url, "http://"), 0)
}

// TestHTTPClientDisableKeepAlives: every request says Connection: close
// and has a connection of its own; none is kept.
func TestHTTPClientDisableKeepAlives(t *testing.T) {
	var notClose atomic.Int32
	srv, cc, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.Close || r.Header.Get("Connection") != "close" {
			notClose.Add(1)
		}
		io.WriteString(w, "page")
	}))
	tr := wireTransport()
	tr.DisableKeepAlives = true
	c := newWireClient(t, context.Background(), tr)
	const n = 5
	for i := range n {
		if a, err := c.get(srv.URL+"/", 5*time.Second, nil); err != nil || a.status != 200 {
			t.Fatalf("get %d = %+v, %v", i, a, err)
		}
	}
	if k := notClose.Load(); k != 0 {
		t.Errorf("%d of %d requests came without Connection: close", k, n)
	}
	if news, _, _ := cc.counts(); news != n {
		t.Errorf("%d gets opened %d connections; want %d", n, news, n)
	}
	checkPoolAtRest(t, c, key, 0)
	waitFor(t, "every connection closed", func() bool { _, closed, _ := cc.counts(); return closed == n })
}

// TestHTTPClientRetriesStaleConn: the server closes a kept-alive
// connection while it is idle, without saying so (a FIN, as servers do
// at their idle timeout): the next get goes again, once, on a fresh
// connection and succeeds.
func TestHTTPClientRetriesStaleConn(t *testing.T) {
	for _, how := range []string{"one answer per connection", "CloseClientConnections"} {
		t.Run(how, func(t *testing.T) {
			var url string
			var accepts func() int
			var closeIdle func()
			if how == "one answer per connection" {
				s := newRawServer(t, func(n int, w io.Writer) rawAction {
					io.WriteString(w, rawOK)
					return rawCloseFIN // no Connection: close
				})
				url, accepts, closeIdle = s.url, func() int { return int(s.accepts.Load()) }, func() {}
			} else {
				srv, cc, _ := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set(ServerHeader, "raw")
					io.WriteString(w, "ok")
				}))
				url = srv.URL
				accepts = func() int { n, _, _ := cc.counts(); return n }
				closeIdle = srv.CloseClientConnections
			}
			c := newWireClient(t, context.Background(), wireTransport())
			var sent atomic.Int32
			for i := range 3 {
				closeIdle()
				time.Sleep(10 * time.Millisecond) // the FIN reaches the client first, as when a server timed out long ago
				before := sent.Load()
				a, err := c.get(url+"/", 5*time.Second, func() { sent.Add(1) })
				if err != nil || a.status != 200 || a.server != "raw" {
					t.Fatalf("get %d after the server closed the idle connection = %+v, %v; want 200 from raw", i, a, err)
				}
				if want := min(i, 1) + 1; int(sent.Load()-before) != want {
					t.Errorf("get %d called sent %d times; want %d", i, sent.Load()-before, want)
				}
			}
			if n := accepts(); n != 3 {
				t.Errorf("server accepted %d connections; want 3", n)
			}
		})
	}
}

// TestHTTPClientRetriesResetConn: the server resets its idle kept-alive
// connections (a restarted server, a middlebox): the next get goes again,
// once, on a fresh connection, and succeeds; sent is called for both
// attempts, each time before the server gets the request.
func TestHTTPClientRetriesResetConn(t *testing.T) {
	var seq, arrived atomic.Int64
	s := newRawServer(t, func(n int, w io.Writer) rawAction {
		arrived.Store(seq.Add(1))
		io.WriteString(w, rawOK)
		return rawKeep
	})
	key := "http://" + strings.TrimPrefix(s.url, "http://")
	c := newWireClient(t, context.Background(), wireTransport())
	var sentAt []int64
	sent := func() { sentAt = append(sentAt, seq.Add(1)) }
	if a, err := c.get(s.url+"/", 5*time.Second, sent); err != nil || a.status != 200 {
		t.Fatalf("first get = %+v, %v", a, err)
	}
	for i := range 3 {
		s.closeAll(true)
		time.Sleep(10 * time.Millisecond)
		sentAt = sentAt[:0]
		a, err := c.get(s.url+"/", 5*time.Second, sent)
		if err != nil || a.status != 200 || a.server != "raw" {
			t.Fatalf("get %d after a reset = %+v, %v; want 200 (retried on a new connection)", i, a, err)
		}
		if len(sentAt) != 2 {
			t.Fatalf("get %d called sent %d times; want 2 (first attempt, retry)", i, len(sentAt))
		}
		if last := arrived.Load(); !(sentAt[0] < sentAt[1] && sentAt[1] < last) {
			t.Errorf("get %d: sent at %v, request arrived at %d; want both sends before the arrival", i, sentAt, last)
		}
	}
	if n, want := s.accepts.Load(), int32(4); n != want {
		t.Errorf("server accepted %d connections; want %d", n, want)
	}
	if n := s.requests.Load(); n != 4 {
		t.Errorf("server saw %d requests; want 4 (a reset connection carries none)", n)
	}
	checkPoolAtRest(t, c, key, 1)
}

// TestHTTPClientResetMidAnswer: a connection reset during the answer is an
// error; on a fresh connection it is not retried at all, on a reused one
// at most once.
func TestHTTPClientResetMidAnswer(t *testing.T) {
	for _, partial := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a part of the body", // in the body
		"HTTP/1.1 200 OK\r\nX-Redirlab-Server: web-1\r\n",                        // in the header
		"", // before any byte
	} {
		t.Run(fmt.Sprintf("%.20q", partial), func(t *testing.T) {
			s := newRawServer(t, func(n int, w io.Writer) rawAction {
				io.WriteString(w, partial)
				time.Sleep(5 * time.Millisecond) // the client reads what was sent
				return rawCloseRST
			})
			key := "http://" + strings.TrimPrefix(s.url, "http://")
			c := newWireClient(t, context.Background(), wireTransport())
			var sent atomic.Int32
			a, err := c.get(s.url+"/", 5*time.Second, func() { sent.Add(1) })
			if err == nil {
				t.Fatalf("get = %+v; want an error for a reset answer", a)
			}
			if n := s.requests.Load(); n != 1 {
				t.Errorf("server saw %d requests; want 1 (no retry on a fresh connection)", n)
			}
			if n := sent.Load(); n != 1 {
				t.Errorf("sent called %d times; want 1", n)
			}
			checkPoolAtRest(t, c, key, 0)
		})
	}
	t.Run("reused", func(t *testing.T) {
		s := newRawServer(t, func(n int, w io.Writer) rawAction {
			if n == 1 {
				io.WriteString(w, rawOK)
				return rawKeep
			}
			io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npart")
			time.Sleep(5 * time.Millisecond)
			return rawCloseRST
		})
		c := newWireClient(t, context.Background(), wireTransport())
		if _, err := c.get(s.url+"/", 5*time.Second, nil); err != nil {
			t.Fatal(err)
		}
		if a, err := c.get(s.url+"/", 5*time.Second, nil); err == nil {
			t.Fatalf("get = %+v; want an error", a)
		}
		// A reset in the body is not stale: the request was processed.
		if n := s.requests.Load(); n != 2 {
			t.Errorf("server saw %d requests; want 2 (no retry after part of an answer)", n)
		}
		checkPoolAtRest(t, c, "http://"+strings.TrimPrefix(s.url, "http://"), 0)
	})
	t.Run("reused, in the header", func(t *testing.T) {
		// Every answer after the first is reset in its header: the get
		// may go again once (as net/http does for a GET), never more.
		s := newRawServer(t, func(n int, w io.Writer) rawAction {
			if n == 1 {
				io.WriteString(w, rawOK)
				return rawKeep
			}
			io.WriteString(w, "HTTP/1.1 200 OK\r\nX-Redirlab-Server: web-1\r\n")
			time.Sleep(5 * time.Millisecond)
			return rawCloseRST
		})
		c := newWireClient(t, context.Background(), wireTransport())
		if _, err := c.get(s.url+"/", 5*time.Second, nil); err != nil {
			t.Fatal(err)
		}
		var sent atomic.Int32
		a, err := c.get(s.url+"/", 5*time.Second, func() { sent.Add(1) })
		if err == nil {
			t.Fatalf("get = %+v; want an error", a)
		}
		n := s.requests.Load()
		t.Logf("server saw %d requests, sent called %d times, error %v", n, sent.Load(), err)
		if n > 3 || n < 2 || sent.Load() != n-1 {
			t.Errorf("server saw %d requests, sent called %d times; want 2 or 3 (at most one retry), one sent per request", n, sent.Load())
		}
		checkPoolAtRest(t, c, "http://"+strings.TrimPrefix(s.url, "http://"), 0)
	})
}

// TestHTTPClientTimeout: an answer later than the timeout fails with
// os.ErrDeadlineExceeded, long before the server would answer.
func TestHTTPClientTimeout(t *testing.T) {
	done := make(chan struct{})
	srv, _, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slowbody" { // the header at once, the body late
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "12345")
			w.(http.Flusher).Flush()
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-r.Context().Done():
		case <-done:
		}
		io.WriteString(w, "67890")
	}))
	t.Cleanup(func() { close(done) }) // before the server's Close
	c := newWireClient(t, context.Background(), wireTransport())
	for _, p := range []string{"/slow", "/slowbody"} {
		start := time.Now()
		a, err := c.get(srv.URL+p, 50*time.Millisecond, nil)
		took := time.Since(start)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("get %s = %+v, %v; want an error wrapping os.ErrDeadlineExceeded", p, a, err)
		}
		if took >= 400*time.Millisecond {
			t.Errorf("get %s with timeout 50ms returned after %v, as if it had waited for the answer", p, took)
		}
	}
	checkPoolAtRest(t, c, key, 0) // timed-out connections are not kept
	// The client still works.
	if a, err := c.get(srv.URL+"/", 5*time.Second, nil); err != nil || a.status != 200 {
		t.Fatalf("get after timeouts = %+v, %v", a, err)
	}
}

// listenNoAccept returns the address of a listener on 127.0.0.1 whose
// accept queue is full, so that a further connect hangs (Linux drops the
// SYN), and the connections filling it.
func listenNoAccept(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux's SYN drop on a full accept queue")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	listen, ok := any(syscall.Listen).(func(int, int) error)
	if !ok {
		t.Skip("no listen(2) here")
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = listen(int(fd), 0) }); err != nil || lerr != nil {
		t.Skipf("cannot shrink the backlog: %v %v", err, lerr)
	}
	addr := ln.Addr().String()
	for range 8 {
		nc, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return addr // full
		}
		t.Cleanup(func() { nc.Close() })
	}
	t.Skip("could not fill the accept queue")
	return ""
}

// TestHTTPClientDialTimeout: a get whose deadline ends before or while
// its connection is set up fails with os.ErrDeadlineExceeded, like any
// other late answer (browsers record a Timeout, not an Error).
func TestHTTPClientDialTimeout(t *testing.T) {
	t.Run("expired before the dial", func(t *testing.T) {
		// A redirect answered just before the request's deadline, to a
		// server without an idle connection: what is left is ≤ 0.
		srv, _, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		c := newWireClient(t, context.Background(), wireTransport())
		for _, timeout := range []time.Duration{time.Nanosecond, 0, -time.Millisecond} {
			a, err := c.get(srv.URL+"/", timeout, nil)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("get with timeout %v = %+v, %v; want an error wrapping os.ErrDeadlineExceeded", timeout, a, err)
			}
		}
		// The dial started for the first request went on and left its
		// connection in the pool, where the others took none (their
		// time was up before they looked).
		checkPoolAtRest(t, c, key, 1)
	})
	t.Run("connect hangs", func(t *testing.T) {
		addr := listenNoAccept(t)
		tr := wireTransport()
		tr.DialTimeout = 300 * time.Millisecond // the dials end soon after the requests
		c := newWireClient(t, context.Background(), tr)
		for i := range 5 {
			start := time.Now()
			a, err := c.get("http://"+addr+"/", 20*time.Millisecond, nil)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("get %d to a server that never accepts = %+v, %v; want an error wrapping os.ErrDeadlineExceeded", i, a, err)
			}
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("get %d with timeout 20ms took %v (the dial timeout is 300ms)", i, took)
			}
		}
		checkPoolAtRest(t, c, "http://"+addr, 0)
	})
}

// TestHTTPClientDialTimeoutFrees: a dial that hangs holds its connection
// slot until the dial timeout, not longer (MaxConnsPerHost 1): requests
// meanwhile time out waiting, and the next one after it dials again.
func TestHTTPClientDialTimeoutFrees(t *testing.T) {
	addr := listenNoAccept(t)
	key := "http://" + addr
	tr := wireTransport()
	tr.MaxConnsPerHost = 1
	tr.DialTimeout = 150 * time.Millisecond
	c := newWireClient(t, context.Background(), tr)
	for i := range 2 {
		start := time.Now()
		if a, err := c.get(key+"/", 50*time.Millisecond, nil); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("get %d to a server that never accepts = %+v, %v; want a timeout", i, a, err)
		}
		if took := time.Since(start); took > 1500*time.Millisecond {
			t.Errorf("get %d with timeout 50ms took %v", i, took)
		}
		if open, _, waiters := poolState(c, key); open != 1 || waiters != 0 {
			t.Fatalf("while the dial lasts: open %d, waiters %d; want 1, 0", open, waiters)
		}
		waitFor(t, "the dial to time out", func() bool { open, _, _ := poolState(c, key); return open == 0 })
	}
}

// TestHTTPClientConnRefused: a refused connection is an error and frees
// its slot.
func TestHTTPClientConnRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tr := wireTransport()
	tr.MaxConnsPerHost = 1
	c := newWireClient(t, context.Background(), tr)
	var sent atomic.Int32
	for i := range 3 {
		if a, err := c.get("http://"+addr+"/", time.Second, func() { sent.Add(1) }); err == nil {
			t.Fatalf("get %d to a closed port = %+v; want an error", i, a)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("sent called %d times without a connection; want 0", n)
	}
	checkPoolAtRest(t, c, "http://"+addr, 0)
}

// TestHTTPClientMaxConnsPerHost: beyond MaxConnsPerHost requests wait for
// a connection; the server never sees more, and every request ends.
func TestHTTPClientMaxConnsPerHost(t *testing.T) {
	h := newHoldHandler(t)
	srv, cc, key := trackedServer(t, h)
	tr := wireTransport()
	tr.MaxConnsPerHost = 2
	c := newWireClient(t, context.Background(), tr)
	var pending []<-chan getResult
	for range 6 {
		pending = append(pending, goGet(c, srv.URL+"/", 5*time.Second))
	}
	waitFor(t, "2 requests at the server and 4 waiting", func() bool {
		_, _, w := poolState(c, key)
		return h.entered.Load() == 2 && w == 4
	})
	time.Sleep(20 * time.Millisecond) // room for a wrong third connection
	if n := h.entered.Load(); n != 2 {
		t.Fatalf("%d requests reached the server with MaxConnsPerHost 2", n)
	}
	h.release(t, 6)
	for i, ch := range pending {
		if r := awaitGet(t, ch); r.err != nil || r.a.status != 200 {
			t.Errorf("get %d = %+v, %v", i, r.a, r.err)
		}
	}
	news, _, peak := cc.counts()
	if peak > 2 || news != 2 {
		t.Errorf("server saw %d connections, %d at once; want 2, at most 2", news, peak)
	}
	checkPoolAtRest(t, c, key, 2)
}

// TestHTTPClientMaxConnsWaiterTimeout: a request whose timeout ends while
// it waits for a connection fails with os.ErrDeadlineExceeded and leaves
// the accounting right: both slots can still be used, and no more.
func TestHTTPClientMaxConnsWaiterTimeout(t *testing.T) {
	h := newHoldHandler(t)
	srv, cc, key := trackedServer(t, h)
	tr := wireTransport()
	tr.MaxConnsPerHost = 2
	c := newWireClient(t, context.Background(), tr)
	for round := range 2 {
		base := h.entered.Load()
		a := goGet(c, srv.URL+"/", 5*time.Second)
		b := goGet(c, srv.URL+"/", 5*time.Second)
		waitFor(t, "both slots in use", func() bool { return h.entered.Load() == base+2 })
		start := time.Now()
		var sent atomic.Int32
		r, err := c.get(srv.URL+"/", 50*time.Millisecond, func() { sent.Add(1) })
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("round %d: waiting get = %+v, %v; want os.ErrDeadlineExceeded", round, r, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("round %d: waiting get with timeout 50ms took %v", round, took)
		}
		if sent.Load() != 0 || h.entered.Load() != base+2 {
			t.Errorf("round %d: the request that timed out waiting was sent (%d) or reached the server (%d)", round, sent.Load(), h.entered.Load()-base)
		}
		if open, _, waiters := poolState(c, key); open != 2 || waiters != 0 {
			t.Errorf("round %d: after the waiter's timeout: open %d, waiters %d; want 2, 0", round, open, waiters)
		}
		h.release(t, 2)
		for _, ch := range []<-chan getResult{a, b} {
			if r := awaitGet(t, ch); r.err != nil || r.a.status != 200 {
				t.Fatalf("round %d: held get = %+v, %v", round, r.a, r.err)
			}
		}
		checkPoolAtRest(t, c, key, 2)
	}
	if news, _, peak := cc.counts(); news != 2 || peak > 2 {
		t.Errorf("server saw %d connections, %d at once; want 2 (kept and reused)", news, peak)
	}
}

// TestHTTPClientMaxConnsHandsOverSlot: when a connection ends (Connection:
// close), a waiting request gets the right to dial a new one.
func TestHTTPClientMaxConnsHandsOverSlot(t *testing.T) {
	h := newHoldHandler(t)
	srv, cc, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		h.ServeHTTP(w, r)
	}))
	tr := wireTransport()
	tr.MaxConnsPerHost = 1
	c := newWireClient(t, context.Background(), tr)
	a := goGet(c, srv.URL+"/", 5*time.Second)
	waitFor(t, "the first request at the server", func() bool { return h.entered.Load() == 1 })
	b := goGet(c, srv.URL+"/", 5*time.Second)
	waitFor(t, "the second request waiting", func() bool { _, _, w := poolState(c, key); return w == 1 })
	h.release(t, 1)
	if r := awaitGet(t, a); r.err != nil {
		t.Fatal(r.err)
	}
	h.release(t, 1)
	if r := awaitGet(t, b); r.err != nil || r.a.status != 200 {
		t.Fatalf("waiting get = %+v, %v", r.a, r.err)
	}
	if news, _, _ := cc.counts(); news != 2 {
		t.Errorf("server saw %d connections; want 2", news)
	}
	checkPoolAtRest(t, c, key, 0)
}

// TestHTTPClientWaiterChurn: many requests with short timeouts against
// MaxConnsPerHost 2, some ending while they wait or while their answer is
// on the way (connections handed over too late): afterwards the pool is
// consistent and both slots, no more, still work.
func TestHTTPClientWaiterChurn(t *testing.T) {
	h := newHoldHandler(t)
	srv, _, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			h.ServeHTTP(w, r)
			return
		}
		time.Sleep(time.Duration(len(r.URL.Path)%3) * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	tr := wireTransport()
	tr.MaxConnsPerHost = 2
	c := newWireClient(t, context.Background(), tr)
	var wg sync.WaitGroup
	var okN, timeoutN, otherN atomic.Int32
	var other atomic.Value
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				timeout := time.Duration(1+(g+i)%4) * time.Millisecond
				_, err := c.get(srv.URL+"/"+strings.Repeat("p", i), timeout, nil)
				switch {
				case err == nil:
					okN.Add(1)
				case errors.Is(err, os.ErrDeadlineExceeded):
					timeoutN.Add(1)
				default:
					otherN.Add(1)
					other.Store(err)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d answered, %d timed out", okN.Load(), timeoutN.Load())
	if otherN.Load() > 0 {
		t.Errorf("%d gets failed other than by their timeout, e.g. %v", otherN.Load(), other.Load())
	}
	checkPoolAtRest(t, c, key, 2)
	a := goGet(c, srv.URL+"/hold", 5*time.Second)
	b := goGet(c, srv.URL+"/hold", 5*time.Second)
	waitFor(t, "2 requests at the server", func() bool { return h.entered.Load() == 2 })
	if _, err := c.get(srv.URL+"/hold", 30*time.Millisecond, nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("third get with both slots held = %v; want it to wait and time out", err)
	}
	h.release(t, 2)
	for _, ch := range []<-chan getResult{a, b} {
		if r := awaitGet(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	checkPoolAtRest(t, c, key, 2)
}

// TestHTTPClientMaxIdleConnsPerHost: connections beyond the idle bound
// close when their request ends.
func TestHTTPClientMaxIdleConnsPerHost(t *testing.T) {
	h := newHoldHandler(t)
	srv, cc, key := trackedServer(t, h)
	tr := wireTransport()
	tr.MaxIdleConnsPerHost = 1
	c := newWireClient(t, context.Background(), tr)
	var pending []<-chan getResult
	for range 3 {
		pending = append(pending, goGet(c, srv.URL+"/", 5*time.Second))
	}
	waitFor(t, "3 requests at the server", func() bool { return h.entered.Load() == 3 })
	h.release(t, 3)
	for _, ch := range pending {
		if r := awaitGet(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	open, idle, _ := poolState(c, key)
	if idle != 1 || open != 1 {
		t.Errorf("after 3 concurrent requests with MaxIdleConnsPerHost 1: %d idle, %d open; want 1, 1", idle, open)
	}
	checkPoolAtRest(t, c, key, 1)
	waitFor(t, "the server to see 2 connections closed", func() bool { _, closed, _ := cc.counts(); return closed == 2 })
	// The idle one is reused.
	h.releaseLater(1)
	if r, err := c.get(srv.URL+"/", 5*time.Second, nil); err != nil || r.status != 200 {
		t.Fatalf("get = %+v, %v", r, err)
	}
	if news, _, _ := cc.counts(); news != 3 {
		t.Errorf("server saw %d connections; want 3 (the idle one reused)", news)
	}
}

// TestHTTPClientIdleConnTimeout: a connection idle for longer than
// IdleConnTimeout is not used again; a new one is dialed and the old one
// closed.
func TestHTTPClientIdleConnTimeout(t *testing.T) {
	srv, cc, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page")
	}))
	tr := wireTransport()
	tr.IdleConnTimeout = 50 * time.Millisecond
	c := newWireClient(t, context.Background(), tr)
	for i := range 2 {
		if i > 0 {
			time.Sleep(120 * time.Millisecond)
		}
		if a, err := c.get(srv.URL+"/", 5*time.Second, nil); err != nil || a.status != 200 {
			t.Fatalf("get %d = %+v, %v", i, a, err)
		}
	}
	if news, _, _ := cc.counts(); news != 2 {
		t.Errorf("server saw %d connections; want 2 (the first expired)", news)
	}
	waitFor(t, "the expired connection closed", func() bool { _, closed, _ := cc.counts(); return closed == 1 })
	checkPoolAtRest(t, c, key, 1)
}

// TestHTTPClientCancel: cancelling the client's context ends the requests
// in flight and those waiting for a connection at once, with the
// context's error.
func TestHTTPClientCancel(t *testing.T) {
	h := newHoldHandler(t)
	srv, cc, key := trackedServer(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := wireTransport()
	tr.MaxConnsPerHost = 1
	c := newWireClient(t, ctx, tr)
	// An idle connection first, so that cancel finds idle and busy ones.
	h.releaseLater(1)
	if _, err := c.get(srv.URL+"/", 5*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	busy := goGet(c, srv.URL+"/", 5*time.Second)
	waitFor(t, "a request at the server", func() bool { return h.entered.Load() == 2 })
	waiting := goGet(c, srv.URL+"/", 5*time.Second)
	waitFor(t, "a request waiting", func() bool { _, _, w := poolState(c, key); return w == 1 })
	start := time.Now()
	cancel()
	for _, ch := range []<-chan getResult{busy, waiting} {
		r := awaitGet(t, ch)
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("get after cancel = %+v, %v; want context.Canceled", r.a, r.err)
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("gets took %v to end after cancel (the server holds them 5s)", took)
	}
	if _, err := c.get(srv.URL+"/", 5*time.Second, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("get after cancel = %v; want context.Canceled", err)
	}
	if n := h.entered.Load(); n != 2 {
		t.Errorf("server saw %d requests; want 2 (none after cancel)", n)
	}
	c.close()
	checkPoolAtRest(t, c, key, 0)
	waitFor(t, "every connection closed", func() bool { news, closed, _ := cc.counts(); return closed == news })
}

// TestHTTPClientCancelDuringDial: cancelling while a request waits for its
// connection to be accepted ends it with the context's error.
func TestHTTPClientCancelDuringDial(t *testing.T) {
	addr := listenNoAccept(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newWireClient(t, ctx, wireTransport())
	ch := goGet(c, "http://"+addr+"/", 5*time.Second)
	time.Sleep(20 * time.Millisecond)
	cancel()
	if r := awaitGet(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Errorf("get cancelled while dialing = %+v, %v; want context.Canceled", r.a, r.err)
	}
	checkPoolAtRest(t, c, "http://"+addr, 0)
}

// TestHTTPClientClose: close closes the idle connections, lets a request
// in flight end (then closes its connection), and refuses new requests.
func TestHTTPClientClose(t *testing.T) {
	h := newHoldHandler(t)
	srv, cc, key := trackedServer(t, h)
	c := newWireClient(t, context.Background(), wireTransport())
	// Two idle connections.
	a := goGet(c, srv.URL+"/", 5*time.Second)
	b := goGet(c, srv.URL+"/", 5*time.Second)
	waitFor(t, "2 requests at the server", func() bool { return h.entered.Load() == 2 })
	h.release(t, 2)
	for _, ch := range []<-chan getResult{a, b} {
		if r := awaitGet(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	// One of them carries a request, the other stays idle.
	busy := goGet(c, srv.URL+"/", 5*time.Second)
	waitFor(t, "a request at the server", func() bool { return h.entered.Load() == 3 })
	if open, idle, _ := poolState(c, key); open != 2 || idle != 1 {
		t.Fatalf("open %d, idle %d; want 2, 1", open, idle)
	}
	c.close()
	waitFor(t, "the idle connection closed", func() bool { _, closed, _ := cc.counts(); return closed == 1 })
	if _, err := c.get(srv.URL+"/", 5*time.Second, nil); !errors.Is(err, errClientClosed) {
		t.Errorf("get after close = %v; want errClientClosed", err)
	}
	h.release(t, 1)
	if r := awaitGet(t, busy); r.err != nil || r.a.status != 200 {
		t.Errorf("request in flight during close = %+v, %v; want it answered", r.a, r.err)
	}
	waitFor(t, "every connection closed", func() bool { news, closed, _ := cc.counts(); return news == 2 && closed == 2 })
	checkPoolAtRest(t, c, key, 0)
	if open, _, _ := poolState(c, key); open != 0 {
		t.Errorf("%d connections open after close and the last answer", open)
	}
}

// TestHTTPClientSentOrder: sent is called once per get, before the server
// has the request.
func TestHTTPClientSentOrder(t *testing.T) {
	var seq atomic.Int64
	var arrivals sync.Map // request path → seq at arrival
	srv, _, _ := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrivals.Store(r.URL.Path, seq.Add(1))
		io.WriteString(w, "page")
	}))
	c := newWireClient(t, context.Background(), wireTransport())
	for i := range 5 {
		var calls int
		var at int64
		path := fmt.Sprintf("/r%d", i)
		if _, err := c.get(srv.URL+path, 5*time.Second, func() { calls++; at = seq.Add(1) }); err != nil {
			t.Fatal(err)
		}
		v, _ := arrivals.Load(path)
		if arrived, _ := v.(int64); calls != 1 || at == 0 || at >= arrived {
			t.Errorf("get %d: sent called %d times at %d, request arrived at %d; want once, before", i, calls, at, arrived)
		}
	}
}

// TestHTTPClientTLS: https targets go over TLS with the configured roots;
// the default roots refuse httptest's certificate.
func TestHTTPClientTLS(t *testing.T) {
	cc := &connCounter{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set(ServerHeader, "tls")
		io.WriteString(w, "secure page")
	}))
	srv.Config.ConnState = cc.hook
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	key := srv.URL // https://127.0.0.1:port

	t.Run("trusted", func(t *testing.T) {
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		tr := wireTransport()
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
		c := newWireClient(t, context.Background(), tr)
		for i := range 3 {
			a, err := c.get(srv.URL+"/page", 5*time.Second, nil)
			if err != nil || a.status != 200 || a.server != "tls" {
				t.Fatalf("https get %d = %+v, %v; want 200 from tls", i, a, err)
			}
		}
		if news, _, _ := cc.counts(); news != 1 {
			t.Errorf("3 https gets opened %d connections; want 1", news)
		}
		if tr.TLSClientConfig.ServerName != "" {
			t.Errorf("the caller's tls.Config was changed: ServerName %q", tr.TLSClientConfig.ServerName)
		}
		checkPoolAtRest(t, c, key, 1)
	})
	t.Run("untrusted", func(t *testing.T) {
		c := newWireClient(t, context.Background(), wireTransport())
		var sent atomic.Int32
		a, err := c.get(srv.URL+"/page", 5*time.Second, func() { sent.Add(1) })
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Errorf("https get with the system roots = %+v, %v; want x509.UnknownAuthorityError", a, err)
		}
		if sent.Load() != 0 {
			t.Errorf("sent called although the handshake failed")
		}
		checkPoolAtRest(t, c, key, 0)
	})
	t.Run("http to https", func(t *testing.T) {
		// The same host and port over plain http is another pool.
		c := newWireClient(t, context.Background(), wireTransport())
		if a, err := c.get("http://"+strings.TrimPrefix(srv.URL, "https://")+"/", 5*time.Second, nil); err == nil && a.status == 200 {
			t.Errorf("plain http to a TLS server answered 200")
		}
	})
}

// TestHTTPClientConcurrent: many goroutines on one client (run with -race).
func TestHTTPClientConcurrent(t *testing.T) {
	srv, cc, key := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(ServerHeader, "web-1")
		if r.URL.Query().Get("i") == "0" {
			w.Header().Set("Location", "/next")
			w.WriteHeader(http.StatusFound)
			return
		}
		io.WriteString(w, "page")
	}))
	tr := wireTransport()
	tr.MaxConnsPerHost = 4
	c := newWireClient(t, context.Background(), tr)
	const goroutines, each = 8, 200
	var failed atomic.Int32
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				var sent int
				a, err := c.get(fmt.Sprintf("%s/p%d?i=%d", srv.URL, g, i%10), 10*time.Second, func() { sent++ })
				want := 200
				if i%10 == 0 {
					want = 302
				}
				if err != nil || a.status != want || a.server != "web-1" || sent != 1 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%+v, %v, sent %d", a, err, sent))
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d gets failed, e.g. %v", n, goroutines*each, firstErr.Load())
	}
	if news, _, peak := cc.counts(); peak > 4 || news > 4 {
		t.Errorf("server saw %d connections, %d at once; want at most 4", news, peak)
	}
	checkPoolAtRest(t, c, key, 4)
}

// TestHTTPClientInterimResponse: a 1xx answer (103 Early Hints) comes
// before the real one; the get returns the final answer and the
// connection stays in step.
func TestHTTPClientInterimResponse(t *testing.T) {
	srv, _, _ := trackedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set(ServerHeader, r.URL.Path)
		io.WriteString(w, "final")
	}))
	c := newWireClient(t, context.Background(), wireTransport())
	for _, p := range []string{"/one", "/two"} {
		a, err := c.get(srv.URL+p, 5*time.Second, nil)
		if err != nil || a.status != 200 || a.server != p {
			t.Errorf("get %s = %+v, %v; want 200 from %s", p, a, err, p)
		}
	}
}
