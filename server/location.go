package server

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/redirlab/redirlab/model"
)

// HopParam and DemandParam are the protocol's query parameters
// (model.HopParam, model.DemandParam).
const (
	HopParam    = model.HopParam
	DemandParam = model.DemandParam
)

// maxHopDigits bounds the hop counter parsed from a query; longer values
// are malformed.
const maxHopDigits = 6

// firstValue returns the raw value of the first key=value parameter of a
// raw query whose key is exactly key.
func firstValue(rawQuery, key string) (string, bool) {
	for rawQuery != "" {
		var piece string
		piece, rawQuery, _ = strings.Cut(rawQuery, "&")
		if k, v, ok := strings.Cut(piece, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// ParseHops returns the value of the first redirlab_hop parameter of a raw
// query, or 0 when it is absent or not a plain decimal number.
func ParseHops(rawQuery string) int {
	value, ok := firstValue(rawQuery, HopParam)
	if !ok || len(value) == 0 || len(value) > maxHopDigits {
		return 0
	}
	n := 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// CleanPath turns a request's decoded path into a rooted, cleaned path:
// "" becomes "/", dot segments and repeated slashes go, so "//evil.com"
// becomes "/evil.com" and can never read as a scheme-relative reference.
func CleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	return path.Clean(p)
}

// pathSafe reports bytes that may appear unescaped in a path segment
// (RFC 3986 pchar plus '/'), minus '%' since the path is already decoded.
func pathSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}

// querySafe reports bytes that may appear unescaped in a query (RFC 3986
// query characters); '%' is handled separately.
func querySafe(c byte) bool {
	return pathSafe(c) || c == '?'
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

const upperhex = "0123456789ABCDEF"

func appendEscaped(dst []byte, c byte) []byte {
	return append(dst, '%', upperhex[c>>4], upperhex[c&15])
}

// AppendLocation appends the redirect target for a request: the peer's
// registered base URL, the request's cleaned path (escaped afresh), the
// request's query without any redirlab_hop parameter, escaped or not (bytes that may not
// appear in a query escaped), and redirlab_hop=hop. Nothing of the
// request can change the scheme or the host: base comes from the
// registry, and the path always starts with a single '/'.
func AppendLocation(dst []byte, base, cleanedPath, rawQuery string, hop int) []byte {
	dst = append(dst, base...)
	for i := 0; i < len(cleanedPath); i++ {
		c := cleanedPath[i]
		if pathSafe(c) {
			dst = append(dst, c)
		} else {
			dst = appendEscaped(dst, c)
		}
	}
	dst = append(dst, '?')
	for rawQuery != "" {
		var piece string
		piece, rawQuery, _ = strings.Cut(rawQuery, "&")
		if piece == "" {
			continue
		}
		if key, _, _ := strings.Cut(piece, "="); IsHopKey(key) {
			continue
		}
		for i := 0; i < len(piece); i++ {
			c := piece[i]
			switch {
			case c == '%' && i+2 < len(piece) && ishex(piece[i+1]) && ishex(piece[i+2]):
				dst = append(dst, c)
			case c != '%' && querySafe(c):
				dst = append(dst, c)
			default:
				dst = appendEscaped(dst, c)
			}
		}
		dst = append(dst, '&')
	}
	dst = append(dst, HopParam...)
	dst = append(dst, '=')
	return strconv.AppendInt(dst, int64(hop), 10)
}

// IsHopKey reports whether a raw query key names the hop counter, escaped
// or not: a Location must carry exactly one, by any parser's reading.
func IsHopKey(key string) bool {
	if key == HopParam {
		return true
	}
	if strings.IndexByte(key, '%') < 0 {
		return false
	}
	k, err := url.QueryUnescape(key)
	return err == nil && k == HopParam
}

// NormalizeBaseURL checks a server's advertised base URL and returns it as
// scheme://host. Only such URLs are ever registered, and only registered
// URLs ever appear in a Location header.
func NormalizeBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("base URL %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("base URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.Opaque != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q: must be scheme://host:port", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("base URL %q: must not have a path, query or fragment", raw)
	}
	for i := 0; i < len(u.Host); i++ {
		c := u.Host[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'
		if !ok {
			return "", fmt.Errorf("base URL %q: host has invalid character %q", raw, c)
		}
	}
	return u.Scheme + "://" + u.Host, nil
}

// ParseDemand reads a request's demand: the id from the first
// redirlab_req parameter of a raw query (absent or malformed: no demand)
// and the part from the path, k+1 for /object/<k>.
func ParseDemand(rawQuery, cleanedPath string, page bool) model.Demand {
	value, ok := firstValue(rawQuery, DemandParam)
	if !ok {
		return model.Demand{}
	}
	id, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return model.Demand{}
	}
	d := model.Demand{ID: id, OK: true}
	if page {
		return d
	}
	k, err := strconv.ParseUint(strings.TrimPrefix(cleanedPath, "/object/"), 10, 32)
	if err != nil {
		return model.Demand{} // an object without a numeric index draws afresh
	}
	d.Part = k + 1
	return d
}
