package scenarios

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxFileLines bounds the data lines read from one service or trace file.
const maxFileLines = 50_000_000

// maxFileBytes bounds a service or trace file.
const maxFileBytes = 1 << 30

// readRegular reads a regular file of at most maxFileBytes, so that a
// scenario naming /dev/zero or a FIFO fails instead of hanging.
func readRegular(name string) ([]byte, error) {
	// Stat before opening: opening a FIFO would block.
	if st, err := os.Stat(name); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxFileBytes)
	}
	return io.ReadAll(io.LimitReader(f, maxFileBytes))
}

// readFile reads a file named by the field at path (relative to the
// scenario) and parses it. Errors name the scenario field and the data
// file's own line.
func (r *reader) readFile(path, name string, parse func([]byte) ([]time.Duration, int, string)) ([]time.Duration, error) {
	if r.open == nil {
		return nil, r.errf(path, "cannot read %s: the scenario has no directory to read files from", name)
	}
	data, err := r.open(name)
	if err != nil {
		return nil, r.errf(path, "cannot read %s: %v", name, err)
	}
	vals, line, msg := parse(data)
	if msg != "" {
		if line > 0 {
			return nil, r.errf(path, "%s:%d: %s", name, line, msg)
		}
		return nil, r.errf(path, "%s: %s", name, msg)
	}
	return vals, nil
}

// dataLines calls fn for every line that is neither blank nor a #
// comment, with its 1-based number; fn's message stops the scan.
func dataLines(data []byte, fn func(no int, line string) string) (int, string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	no, n := 0, 0
	for sc.Scan() {
		no++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if n++; n > maxFileLines {
			return no, fmt.Sprintf("more than %d lines", maxFileLines)
		}
		if msg := fn(no, line); msg != "" {
			return no, msg
		}
	}
	if err := sc.Err(); err != nil {
		return no + 1, err.Error()
	}
	return 0, ""
}

// firstField is a line's first comma-, tab- or space-separated field.
func firstField(line string) string {
	if i := strings.IndexAny(line, ", \t;"); i >= 0 {
		return line[:i]
	}
	return line
}

// isHeader reports whether a first data line is a CSV header (a name
// rather than a value).
func isHeader(field string) bool {
	if field == "" {
		return false
	}
	c := field[0]
	return (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '"') && !strings.ContainsAny(field, "0123456789")
}

// parseSamples reads service times, one per line: a duration (1.5ms) or
// a bare number of milliseconds. A header line is skipped.
func parseSamples(data []byte) ([]time.Duration, int, string) {
	var out []time.Duration
	first := true
	line, msg := dataLines(data, func(_ int, l string) string {
		f := firstField(l)
		if first && isHeader(f) {
			first = false
			return ""
		}
		first = false
		if ms, err := strconv.ParseFloat(f, 64); err == nil {
			if ms < 0 || ms != ms || ms > 1e12 {
				return fmt.Sprintf("service time %s ms out of range", f)
			}
			out = append(out, time.Duration(ms*float64(time.Millisecond)))
			return ""
		}
		d, msg := parseDuration(f)
		if msg != "" {
			return fmt.Sprintf("not a service time (a duration such as 1.5ms, or milliseconds): %q", f)
		}
		out = append(out, d)
		return ""
	})
	if msg != "" {
		return nil, line, msg
	}
	if len(out) == 0 {
		return nil, 0, "no service times in file"
	}
	return out, 0, ""
}

// accessLogTime is the timestamp layout of common and combined logs.
const accessLogTime = "02/Jan/2006:15:04:05 -0700"

// parseTrace reads arrival offsets: one per line as seconds (0.0123) or a
// duration (12.3ms), never decreasing; or a common/combined access log,
// whose [02/Jan/2006:15:04:05 -0700] timestamps become offsets from the
// earliest one (requests of the same second spread evenly over it).
func parseTrace(data []byte) ([]time.Duration, int, string) {
	var out []time.Duration
	var stamps []time.Time
	first, accessLog := true, false
	line, msg := dataLines(data, func(_ int, l string) string {
		if first {
			accessLog = strings.Contains(l, "[") && strings.Contains(l, "]")
		}
		if accessLog {
			first = false
			open := strings.IndexByte(l, '[')
			end := strings.IndexByte(l, ']')
			if open < 0 || end < open {
				return "not an access-log line: no [timestamp]"
			}
			t, err := time.Parse(accessLogTime, l[open+1:end])
			if err != nil {
				return fmt.Sprintf("access-log timestamp %q is not like [02/Jan/2006:15:04:05 -0700]", l[open+1:end])
			}
			stamps = append(stamps, t)
			return ""
		}
		f := firstField(l)
		if first && isHeader(f) {
			first = false
			return ""
		}
		first = false
		var d time.Duration
		if sec, err := strconv.ParseFloat(f, 64); err == nil {
			if sec < 0 || sec != sec || sec > 1e9 {
				return fmt.Sprintf("offset %s s out of range", f)
			}
			d = time.Duration(sec * float64(time.Second))
		} else {
			var msg string
			if d, msg = parseDuration(f); msg != "" {
				return fmt.Sprintf("not an offset (seconds such as 0.0123, or a duration such as 12.3ms): %q", f)
			}
		}
		if n := len(out); n > 0 && d < out[n-1] {
			return fmt.Sprintf("offset %s is before the previous one (%s): offsets must not decrease", fmtDuration(d), fmtDuration(out[n-1]))
		}
		out = append(out, d)
		return ""
	})
	if msg != "" {
		return nil, line, msg
	}
	if accessLog {
		// Logs are written as requests finish, so stamps may be slightly
		// out of order: offsets count from the earliest. Stamps have 1s
		// resolution, so the k requests logged in one second are spread
		// evenly across it rather than sent as one burst.
		slices.SortStableFunc(stamps, func(a, b time.Time) int { return a.Compare(b) })
		for i := 0; i < len(stamps); {
			j := i
			for j < len(stamps) && stamps[j].Equal(stamps[i]) {
				j++
			}
			base := stamps[i].Sub(stamps[0])
			for k := i; k < j; k++ {
				out = append(out, base+time.Duration(k-i)*time.Second/time.Duration(j-i))
			}
			i = j
		}
	}
	if len(out) == 0 {
		return nil, 0, "no arrivals in file"
	}
	return out, 0, ""
}

// fmtDuration writes a duration the way scenario files do (200us, not
// 200µs).
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return strings.ReplaceAll(d.String(), "µ", "u")
}
