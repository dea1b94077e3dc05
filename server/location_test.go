package server

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseHops(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 0},                                              // absent
		{"redirlab_hop=2", 2},                                // plain
		{"a=1&redirlab_hop=3&b=2", 3},                        // among others
		{"redirlab_hop=1&redirlab_hop=5", 1},                 // the first one counts
		{"redirlab_hop=-1", 0},                               // negative: malformed
		{"redirlab_hop=1e3", 0},                              // not decimal digits
		{"redirlab_hop=", 0},                                 // empty value
		{"redirlab_hop", 0},                                  // no value
		{"redirlab_hop=9999999", 0},                          // too long: malformed
		{"redirlab_hop=999999", 999999},                      // longest accepted
		{"xredirlab_hop=4", 0},                               // another key
		{"redirlab%5Fhop=4", 0},                              // escaped key is another key
		{"redirlab_hop=%32", 0},                              // escaped value: malformed
		{"redirlab_hop=0x1", 0},                              // hex: malformed
		{"redirlab_hop=+1", 0},                               // sign: malformed
		{"&&redirlab_hop=7&&", 7},                            // empty pieces skipped
		{"redirlab_hop=1;redirlab_hop=4", 0},                 // ';' is not a separator
		{"redirlab_hop=01", 1},                               // leading zero is fine
		{"q=redirlab_hop=5", 0},                              // inside another value
		{"redirlab_hop=2#frag", 0},                           // fragment bytes: malformed
		{"redirlab_hop=3&redirlab_hop=bad", 3},               // first wins even if later is bad
		{"redirlab_hop=bad&redirlab_hop=3", 0},               // first is bad: 0
		{"REDIRLAB_HOP=3", 0},                                // keys are case-sensitive
		{"redirlab_hop=4&x=%zz", 4},                          // bad escapes elsewhere do not matter
		{"redirlab_hop=12345a", 0},                           // trailing junk
		{"redirlab_hop= 1", 0},                               // space
		{"redirlab_hop=1&", 1},                               // trailing separator
		{"=1&redirlab_hop=2", 2},                             // empty key first
		{"redirlab_hop=000000", 0},                           // six zeros: zero
		{"redirlab_hop=0000001", 0},                          // seven digits: malformed
		{"redirlab_hop==1", 0},                               // value starts with '='
		{"redirlab_hop=1=1", 0},                              // '=' inside value
		{"redirlab_hop=\x00", 0},                             // control byte
		{strings.Repeat("a=b&", 1000) + "redirlab_hop=6", 6}, // long query
	} {
		if got := ParseHops(tc.query); got != tc.want {
			t.Errorf("ParseHops(%q) = %d, want %d", tc.query, got, tc.want)
		}
	}
}

const peerBase = "http://127.0.0.1:4321"

// checkLocation asserts that loc names peerBase with a rooted path that
// cannot be read as scheme-relative, and carries redirlab_hop=hop.
func checkLocation(t *testing.T, loc string, hop int) *url.URL {
	t.Helper()
	if !strings.HasPrefix(loc, peerBase+"/") || strings.HasPrefix(loc[len(peerBase):], "//") {
		t.Fatalf("Location %q does not start with %s and a single '/'", loc, peerBase)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", loc, err)
	}
	if u.Scheme != "http" || u.Host != "127.0.0.1:4321" || u.User != nil || u.Fragment != "" {
		t.Fatalf("Location %q names %s://%s (user %v, fragment %q)", loc, u.Scheme, u.Host, u.User, u.Fragment)
	}
	// A browser resolves Location against the URL it asked; the result
	// must still be the peer.
	base, _ := url.Parse("http://127.0.0.1:9999/page")
	if r := base.ResolveReference(u); r.Host != u.Host {
		t.Fatalf("Location %q resolves to host %s", loc, r.Host)
	}
	if got := ParseHops(u.RawQuery); got != hop {
		t.Fatalf("Location %q carries hop %d, want %d", loc, got, hop)
	}
	n := 0
	for _, piece := range strings.Split(u.RawQuery, "&") {
		if key, _, _ := strings.Cut(piece, "="); key == HopParam {
			n++
		}
	}
	if n != 1 || len(u.Query()[HopParam]) != 1 {
		t.Fatalf("Location %q has %d hop parameters (%d decoded)", loc, n, len(u.Query()[HopParam]))
	}
	return u
}

func TestAppendLocation(t *testing.T) {
	for _, tc := range []struct {
		path, query string
		wantPath    string // decoded path of the Location
	}{
		{"/page", "", "/page"},                                       // plain
		{"/page", "redirlab_hop=0&id=7", "/page"},                    // old hop dropped
		{"//evil.com", "", "/evil.com"},                              // scheme-relative attempt
		{"///evil.com/x", "", "/evil.com/x"},                         // more slashes
		{"/page/../../evil.com", "", "/evil.com"},                    // dot segments
		{"/\\evil.com", "", "/\\evil.com"},                           // backslash is escaped, stays in the path
		{"evil.com", "", "/evil.com"},                                // unrooted
		{"", "", "/"},                                                // empty
		{"/@evil.com", "", "/@evil.com"},                             // userinfo attempt
		{"/page", "next=http://evil.com/&a=b", "/page"},              // URL in the query stays a query
		{"/page", "a=%0d%0aLocation:%20http://evil.com", "/page"},    // header injection in the query
		{"/pa ge#frag?x", "", "/pa ge#frag?x"},                       // '#' and '?' escaped in the path
		{"/page", "x=1#frag", "/page"},                               // '#' escaped in the query
		{"/page\r\nSet-Cookie: a=b", "", "/page\r\nSet-Cookie: a=b"}, // CRLF escaped in the path
		{"/page", "a=\r\nb", "/page"},                                // CRLF escaped in the query
		{"/%2F%2Fevil.com", "", "/%2F%2Fevil.com"},                   // decoded '%' is escaped again
		{"/page", "%zz=1&%41=2", "/page"},                            // bad escapes in the query
		{"/page", "redirlab_hop=5&redirlab_hop=6", "/page"},          // every old hop dropped
		{"/page", "redirlab%5Fhop=5&redirlab%5fhop=6", "/page"},      // escaped hop keys dropped too
		{"/ünïcode", "q=ü", "/ünïcode"},                              // non-ASCII escaped
	} {
		loc := string(AppendLocation(nil, peerBase, CleanPath(tc.path), tc.query, 3))
		u := checkLocation(t, loc, 3)
		if u.Path != tc.wantPath {
			t.Errorf("path %q → Location %q with path %q, want %q", tc.path, loc, u.Path, tc.wantPath)
		}
		if strings.ContainsAny(loc, "\r\n \x00#") {
			t.Errorf("Location %q contains bytes a header or URL must not", loc)
		}
	}
}

func TestNormalizeBaseURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means an error
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},         // plain
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},        // trailing slash dropped
		{"https://web-1.example:443", "https://web-1.example:443"}, // https and names
		{"http://[::1]:80", "http://[::1]:80"},                     // IPv6
		{"ftp://127.0.0.1", ""},                                    // scheme
		{"//127.0.0.1:80", ""},                                     // no scheme
		{"http://", ""},                                            // no host
		{"http://u:p@127.0.0.1", ""},                               // user info
		{"http://127.0.0.1/x", ""},                                 // path
		{"http://127.0.0.1?x", ""},                                 // query
		{"http://127.0.0.1#x", ""},                                 // fragment
		{"http:127.0.0.1", ""},                                     // opaque
		{"http://127.0.0.1:80\r\n", ""},                            // control bytes
		{"http://ex%41mple.com", ""},                               // escaped host
	} {
		got, err := NormalizeBaseURL(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("NormalizeBaseURL(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeBaseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzLocation: whatever the request's path and query, the Location names
// the peer, keeps the cleaned path and carries exactly one hop counter.
func FuzzLocation(f *testing.F) {
	for _, s := range [][2]string{
		{"/page", ""}, {"//evil.com", "a=b"}, {"/\\evil.com", "redirlab_hop=1"},
		{"/../..//x", "%zz"}, {"/p", "x=\r\n"}, {"@evil", "#"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, q string) {
		cleaned := CleanPath(p)
		if cleaned == "" || cleaned[0] != '/' || strings.HasPrefix(cleaned, "//") {
			t.Fatalf("CleanPath(%q) = %q", p, cleaned)
		}
		loc := string(AppendLocation(nil, peerBase, cleaned, q, 1))
		u := checkLocation(t, loc, 1)
		if u.Path != cleaned {
			t.Fatalf("path %q: Location %q decodes to path %q, want %q", p, loc, u.Path, cleaned)
		}
		for i := 0; i < len(loc); i++ {
			if c := loc[i]; c <= ' ' || c >= 0x7f || c == '#' {
				t.Fatalf("Location %q has byte %q", loc, c)
			}
		}
	})
}
