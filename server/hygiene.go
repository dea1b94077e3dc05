package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Timeouts bound what one client may hold of a server or the manager: a
// client that sends its headers slowly, sends nothing, or stops reading
// loses its connection instead of keeping a file descriptor for ever.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers. Default 10s.
	ReadHeader time.Duration
	// Read bounds reading a whole request. Default 30s.
	Read time.Duration
	// Write bounds the answer, from the end of the headers: queueing,
	// service and writing (a server's default 60s; the manager's 10s).
	Write time.Duration
	// Idle bounds an idle keep-alive connection. Default 30s.
	Idle time.Duration
}

// fill sets the defaults, write the default Write.
func (t *Timeouts) fill(write time.Duration) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Read, 30*time.Second)
	def(&t.Write, write)
	def(&t.Idle, 30*time.Second)
}

// httpServer is an http.Server with t's timeouts and bounded headers.
func (t Timeouts) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
	}
}

// ConfigError is a configuration the server or manager refuses before
// doing anything: bad input, not a failure to run.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// configError marks err (if any) as a ConfigError.
func configError(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Err: err}
}

// maxRequestURI bounds the path and query of a page or object request:
// a redirect repeats them in its Location.
const maxRequestURI = 8 << 10

// onlyGetHead answers 405 to anything but GET and HEAD, and says so.
func onlyGetHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header()["Allow"] = []string{"GET, HEAD"}
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// tokenCheck guards a handler with a bearer token, compared in constant
// time (digests of equal length, whatever the lengths given).
type tokenCheck struct{ want [sha256.Size]byte }

func newTokenCheck(token string) *tokenCheck {
	if token == "" {
		return nil
	}
	return &tokenCheck{want: sha256.Sum256([]byte(token))}
}

// ok reports whether r carries the token.
func (c *tokenCheck) ok(r *http.Request) bool {
	if c == nil {
		return true
	}
	got, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], c.want[:]) == 1 && found
}

// LoopbackOnly is the default of the networks a registered server may be
// at: this host's loopback.
var LoopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ParseAllow reads networks such as "10.0.0.0/24" or a single address.
func ParseAllow(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if p, err := netip.ParsePrefix(s); err == nil {
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("--allow %q: want an address or a network such as 10.0.0.0/24", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// allowedURL checks that a normalized base URL names an address inside
// allow: an IP literal (or localhost, when loopback is allowed). A host
// name is refused: its address could change after the check.
func allowedURL(u string, allow []netip.Prefix) error {
	hostport := u[strings.Index(u, "://")+3:]
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.Trim(hostport, "[]")
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("URL %s: the host must be an IP address (a name could point elsewhere later)", u)
	}
	a = a.Unmap()
	for _, p := range allow {
		if p.Contains(a) {
			return nil
		}
	}
	return fmt.Errorf("URL %s: %s is outside the networks servers may register from (%s); see --allow", u, a, prefixList(allow))
}

func prefixList(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, ", ")
}

// isLoopbackListen reports whether addr (host:port) binds only loopback.
func isLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
