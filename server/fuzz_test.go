package server

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecodeReport: whatever the body, the decoder returns a report or an
// error, never panics; what it accepts is one report that encodes back to
// the same report.
func FuzzDecodeReport(f *testing.F) {
	for _, s := range []string{
		`{"name":"web-1","url":"http://127.0.0.1:1","status":{"queue_length":1,"up":true}}`,
		`{"name":"web-1","name":"web-2"}`, `{"NAME":"x"}`, `{}x`, `null`, `[]`, `{"status":{"queue_delay_ns":-1}}`,
		`{"name":"` + strings.Repeat("a", 100) + `"}`, "\xff", `{"url":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := DecodeReport(body)
		if err != nil {
			return
		}
		if len(body) > maxReportBytes {
			t.Fatalf("accepted %d bytes", len(body))
		}
		again, err := json.Marshal(msg)
		if err != nil {
			t.Fatalf("accepted report does not encode: %v", err)
		}
		back, err := DecodeReport(again)
		if err != nil || back != msg {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", msg, again, back, err)
		}
	})
}

// FuzzQuery: the hop counter and the demand read from any query are in
// range, and agree with a naive reading of the first parameters.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"redirlab_hop=1", "redirlab_hop=-1", "redirlab_hop=99999999999", "redirlab_hop=1&redirlab_hop=5",
		"redirlab_req=42&redirlab_hop=2", "redirlab_req=18446744073709551616", "a=b&redirlab%5Fhop=3", "&&&=", "redirlab_hop=%31",
	} {
		f.Add(s, "/page")
		f.Add(s, "/object/3")
	}
	f.Fuzz(func(t *testing.T, q, p string) {
		hops := ParseHops(q)
		if hops < 0 || hops > 999999 {
			t.Fatalf("ParseHops(%q) = %d", q, hops)
		}
		naive := 0
		for _, kv := range strings.Split(q, "&") {
			if v, ok := strings.CutPrefix(kv, HopParam+"="); ok {
				digits := v != "" && strings.Trim(v, "0123456789") == ""
				if n, err := strconv.Atoi(v); err == nil && digits && len(v) <= maxHopDigits {
					naive = n
				}
				break
			}
		}
		if hops != naive {
			t.Fatalf("ParseHops(%q) = %d, naive %d", q, hops, naive)
		}
		cleaned := CleanPath(p)
		page := !strings.HasPrefix(cleaned, "/object/")
		d := ParseDemand(q, cleaned, page)
		if !d.OK && (d.ID != 0 || d.Part != 0) {
			t.Fatalf("no demand, yet %+v", d)
		}
		if d.OK && page && d.Part != 0 {
			t.Fatalf("a page with part %d", d.Part)
		}
	})
}
