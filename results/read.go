package results

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// BadFile is a results file that is not what redirlab writes: truncated,
// mistyped or corrupt. It is bad input to whoever asked to read it, not
// a failure of the reader.
type BadFile struct{ Err error }

func (e *BadFile) Error() string { return e.Err.Error() }
func (e *BadFile) Unwrap() error { return e.Err }

// Readers for the analysis layer. They read what Close wrote, at the
// files' microsecond resolution; errors name the file, line and column.

// ReadSummary reads dir/summary.json.
func ReadSummary(dir string) (*Summary, error) {
	path := filepath.Join(dir, SummaryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, SummaryJSONError(path, data, err)
	}
	if err := s.Check(); err != nil {
		return nil, &BadFile{fmt.Errorf("%s: not a redirlab summary: %w", path, err)}
	}
	return &s, nil
}

// SummaryJSONError is the BadFile for err, from decoding the summary
// data read from path: a syntax error names its line, a value of the
// wrong kind its line, its path in summary.json and the kind wanted, in
// JSON's terms (requests.completed: want a whole number, got a string).
func SummaryJSONError(path string, data []byte, err error) *BadFile {
	line := func(off int64) int {
		return 1 + strings.Count(string(data[:min(max(off, 0), int64(len(data)))]), "\n")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &BadFile{fmt.Errorf("%s:%d: %v", path, line(se.Offset), err)}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &BadFile{fmt.Errorf("%s:%d: %s: want %s, got %s", path, line(te.Offset), jsonPath(reflect.TypeFor[Summary](), te.Field, te.Type), wantKind(te.Type), gotKind(te.Value))}
	}
	return &BadFile{fmt.Errorf("%s: %w", path, err)}
}

// jsonPath is the summary.json path of a decoding error's field as
// docs/results.md writes it: field is encoding/json's dotted path of
// JSON names, without list indices, which this adds as [] after every
// list (servers[].name); t is the type decoded into, want the type the
// value was to fill.
func jsonPath(t reflect.Type, field string, want reflect.Type) string {
	if field == "" {
		return "the summary"
	}
	var b strings.Builder
	names := strings.Split(field, ".")
	for i, name := range names {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
		t = jsonField(t, name)
		last := i == len(names)-1
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice) && (!last || t != want) {
			if t.Kind() == reflect.Slice {
				b.WriteString("[]") // a list, the value one of its elements
			}
			t = t.Elem()
		}
	}
	return b.String()
}

// jsonField is the type of the field of struct t named name in JSON,
// nil when there is none.
func jsonField(t reflect.Type, name string) reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name || (tag == "" && f.Name == name) {
			return f.Type
		}
	}
	return nil
}

// wantKind says in JSON's terms what a value of Go type t must be.
func wantKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, not negative"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another kind of value"
}

// gotKind says what encoding/json found (UnmarshalTypeError.Value):
// "string", "number", "number 1.5" (a number out of the type's range
// or not whole), "bool", "array", "object".
func gotKind(v string) string {
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n
	}
	return v
}

// Check says what makes s impossible as a run's summary: no scenario or
// mode, a negative count or latency, counts that do not add up,
// latency percentiles out of order, a rate or utilization outside
// [0, 1], a throughput that is not completed / duration_s. Each error
// names the field. Figures are compared within what their rounding in
// summary.json allows.
func (s *Summary) Check() error {
	c := s.Requests
	l := s.LatencyMS
	switch {
	case s.Scenario == "":
		return errors.New("no scenario")
	case !s.Mode.Valid():
		return errors.New("no mode (sim or real)")
	case s.DurationS < 0 || (s.DurationS == 0 && !s.Partial):
		return fmt.Errorf("duration_s %g", s.DurationS)
	case negative(counts(c)) != "":
		return errors.New(negative(counts(c)))
	case c.Sent != c.Completed+c.Errors+c.Rejected+c.Shed+c.Interrupted:
		return fmt.Errorf("requests do not add up: sent %d, completed %d + errors %d + rejected %d + shed %d + interrupted %d", c.Sent, c.Completed, c.Errors, c.Rejected, c.Shed, c.Interrupted)
	case l.Mean < 0 || l.P50 < 0 || l.P90 < 0 || l.P99 < 0 || l.P999 < 0 || l.Max < 0:
		return fmt.Errorf("negative latencies %+v", l)
	case !inUnit(s.Redirects.Rate):
		return fmt.Errorf("redirects.rate %g outside [0, 1]", s.Redirects.Rate)
	}
	if c.Completed > 0 {
		// Rounding is monotonic, so the rounded quantiles keep their
		// order exactly; the slack covers the mean's last decimal.
		order := []struct {
			name string
			v    float64
		}{{"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}, {"p999", l.P999}, {"max", l.Max}}
		for i := 1; i < len(order); i++ {
			lo, hi := order[i-1], order[i]
			if lo.v > hi.v+msSlack(hi.v) {
				return fmt.Errorf("latency_ms.%s %g is above latency_ms.%s %g: percentiles must not decrease", lo.name, lo.v, hi.name, hi.v)
			}
		}
		if l.Mean > l.Max+msSlack(l.Max) {
			return fmt.Errorf("latency_ms.mean %g is above latency_ms.max %g", l.Mean, l.Max)
		}
	}
	if s.Redirects.Rate > 0 && s.Redirects.Total <= 0 {
		return fmt.Errorf("redirects.rate %g with redirects.total %d: a redirected request was redirected at least once", s.Redirects.Rate, s.Redirects.Total)
	}
	for i, sv := range s.Servers {
		if n := negative(map[string]float64{
			fmt.Sprintf("servers[%d].workers", i): float64(sv.Workers), fmt.Sprintf("servers[%d].served", i): float64(sv.Served),
			fmt.Sprintf("servers[%d].redirected", i): float64(sv.Redirected), fmt.Sprintf("servers[%d].rejected", i): float64(sv.Rejected),
			fmt.Sprintf("servers[%d].mean_queue_length", i): sv.MeanQueueLength, fmt.Sprintf("servers[%d].max_queue_length", i): float64(sv.MaxQueueLength),
			fmt.Sprintf("servers[%d].mean_queue_delay_ms", i): sv.MeanQueueDelayMS, fmt.Sprintf("servers[%d].p99_queue_delay_ms", i): sv.P99QueueDelayMS,
			fmt.Sprintf("servers[%d].max_queue_delay_ms", i): sv.MaxQueueDelayMS,
		}); n != "" {
			return fmt.Errorf("%s (%s)", n, sv.Name)
		}
		if !inUnit(sv.Utilization) {
			return fmt.Errorf("servers[%d].utilization %g (%s) outside [0, 1]", i, sv.Utilization, sv.Name)
		}
	}
	if lo, hi, ok := throughputRange(c.Completed, s.DurationS); ok && (s.ThroughputRPS < lo || s.ThroughputRPS > hi) {
		return fmt.Errorf("throughput_rps %g is not requests.completed / duration_s = %d / %g = %.3f", s.ThroughputRPS, c.Completed, s.DurationS, float64(c.Completed)/s.DurationS)
	}
	return nil
}

// counts are the request counts by summary.json path.
func counts(c RequestCounts) map[string]float64 {
	return map[string]float64{"requests.sent": float64(c.Sent), "requests.completed": float64(c.Completed), "requests.errors": float64(c.Errors),
		"requests.rejected": float64(c.Rejected), "requests.shed": float64(c.Shed), "requests.timeouts": float64(c.Timeouts), "requests.interrupted": float64(c.Interrupted)}
}

// negative names the first field of fields (by path, in order) that is
// negative, which no figure of a summary can be; "" when none is.
func negative(fields map[string]float64) string {
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if fields[k] < 0 {
			return fmt.Sprintf("%s %g is negative", k, fields[k])
		}
	}
	return ""
}

// unitSlack is how far beyond [0, 1] a fraction rounded to 6 decimals
// may read: only floating-point noise, as rounding keeps [0, 1].
const unitSlack = 1e-9

func inUnit(x float64) bool { return x >= -unitSlack && x <= 1+unitSlack }

// msSlack is how far a latency figure rounded to 3 decimals may sit
// from another it cannot exceed: one unit of the last decimal (the
// exact mean can round up past a max it equals in floating point), and
// a relative 1e-12 for the noise of large values.
func msSlack(v float64) float64 { return 1e-3 + 1e-12*math.Abs(v) }

// throughputRange is the range of throughput_rps a run with completed
// requests over a window written as durationS can have: the exact
// window is within half a microsecond of durationS (6 decimals), and
// the quotient is rounded to 3 decimals. ok is false when durationS is
// 0 (a partial run stopped at its warmup's end: nothing to check).
func throughputRange(completed int64, durationS float64) (lo, hi float64, ok bool) {
	if durationS <= 0 {
		return 0, 0, false
	}
	const halfMicro, halfMilli = 5e-7, 5e-4
	n := float64(completed)
	lo = n/(durationS+halfMicro) - halfMilli
	if d := durationS - halfMicro; d > 0 {
		hi = n/d + halfMilli
	} else {
		hi = math.Inf(1)
	}
	// Floating-point noise in the quotients.
	return lo - 1e-9*math.Abs(lo), hi + 1e-9*math.Abs(hi), true
}

// ReadRequests calls fn for every row of dir/requests.csv, in file order,
// stopping at the first error fn returns. fn gets the same *Request each
// time, refilled: copy what it keeps. Server names map to indices by the
// order of summary.json's servers, so the directory needs its summary.
func ReadRequests(dir string, fn func(*Request) error) error {
	index, err := serverIndex(dir)
	if err != nil {
		return err
	}
	var q Request
	return readCSV(filepath.Join(dir, RequestsFile), requestsHeader, func(row *csvRow) error {
		q = Request{}
		q.ID = row.uint("id")
		q.Scheduled = row.seconds("scheduled_s")
		q.Sent = q.Scheduled + row.millis("sent_lag_ms")
		q.Done = q.Scheduled + row.millis("latency_ms")
		if o, ok := ParseOutcome(row.get("outcome")); ok {
			q.Outcome = o
		} else {
			row.fail("outcome", fmt.Errorf("%q is not completed, error, rejected, timeout, interrupted or shed", row.get("outcome")))
		}
		q.Status = int(row.int("status"))
		q.Redirects = int(row.int("redirects"))
		q.First = row.server("first", index)
		q.Final = row.server("final", index)
		q.NHops = int(row.int("nhops"))
		hops, times := row.list("hops"), row.list("hop_times_ms")
		if n := min(max(q.NHops, 0), MaxRecordedHops); len(hops) != n || len(times) != n {
			row.fail("hops", fmt.Errorf("%d hops and %d hop times listed, nhops %d: want min(nhops, %d) of each", len(hops), len(times), q.NHops, MaxRecordedHops))
		} else {
			for i, h := range hops {
				name, status, ok := strings.Cut(h, ":")
				st, err := strconv.ParseInt(status, 10, 16)
				if !ok || err != nil {
					row.fail("hops", fmt.Errorf("hop %q: want server:status", h))
					break
				}
				q.Hops[i] = Hop{
					Server: int16(row.lookup("hops", name, index)),
					Status: int16(st),
					At:     q.Scheduled + row.parseMillis("hop_times_ms", times[i]),
				}
			}
		}
		q.Objects = int(row.int("objects"))
		if q.Objects > 0 {
			q.ObjectsDone = q.Scheduled + row.millis("objects_ms")
		}
		if row.err != nil {
			return row.err
		}
		return fn(&q)
	})
}

// ReadServers calls fn for every row of dir/servers.csv with the sample
// and its server's name, stopping at the first error fn returns. fn gets
// the same *ServerSample each time, refilled.
func ReadServers(dir string, fn func(s *ServerSample, name string) error) error {
	index, err := serverIndex(dir)
	if err != nil {
		return err
	}
	var s ServerSample
	return readCSV(filepath.Join(dir, ServersFile), serversHeader, func(row *csvRow) error {
		name := row.get("server")
		s = ServerSample{
			At:                  row.seconds("t_s"),
			Server:              row.lookup("server", name, index),
			QueueLength:         int(row.int("queue_length")),
			InService:           int(row.int("in_service")),
			QueueDelay:          row.millis("queue_delay_ms"),
			Served:              int(row.int("served")),
			Redirected:          int(row.int("redirected")),
			Rejected:            int(row.int("rejected")),
			Up:                  row.int("up") != 0,
			ReportedQueueLength: int(row.int("reported_queue_length")),
			ReportedQueueDelay:  row.millis("reported_queue_delay_ms"),
			BusyTime:            row.millis("busy_ms"),
		}
		if row.err != nil {
			return row.err
		}
		return fn(&s, name)
	})
}

// ReadTimeseries reads dir/timeseries.csv.
func ReadTimeseries(dir string) ([]Second, error) {
	var secs []Second
	err := readCSV(filepath.Join(dir, TimeseriesFile), timeseriesHeader, func(row *csvRow) error {
		secs = append(secs, Second{
			T:          row.seconds("t_s"),
			Requests:   row.int("requests"),
			Completed:  row.int("completed"),
			Errors:     row.int("errors"),
			Rejected:   row.int("rejected"),
			Shed:       row.int("shed"),
			Timeouts:   row.int("timeouts"),
			Redirected: row.int("redirected"),
			Redirects:  row.int("redirects"),
			P50:        row.optMillis("p50_ms"),
			P99:        row.optMillis("p99_ms"),
			Max:        row.optMillis("max_ms"),
		})
		return row.err
	})
	if err != nil {
		return nil, err
	}
	return secs, nil
}

// serverIndex maps instance names to indices by summary.json's order.
func serverIndex(dir string) (map[string]int, error) {
	s, err := ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(s.Servers))
	for i, sv := range s.Servers {
		index[sv.Name] = i
	}
	return index, nil
}

// csvRow is one record being decoded; the first field error sticks.
type csvRow struct {
	path   string
	cols   map[string]int
	fields []string
	line   int
	err    error
}

func (r *csvRow) fail(col string, err error) {
	if r.err == nil {
		r.err = &BadFile{fmt.Errorf("%s:%d: %s: %v", r.path, r.line, col, err)}
	}
}

func (r *csvRow) get(col string) string { return r.fields[r.cols[col]] }

func (r *csvRow) int(col string) int64 {
	v, err := strconv.ParseInt(r.get(col), 10, 64)
	if err != nil {
		r.fail(col, err)
	}
	return v
}

func (r *csvRow) uint(col string) uint64 {
	v, err := strconv.ParseUint(r.get(col), 10, 64)
	if err != nil {
		r.fail(col, err)
	}
	return v
}

func (r *csvRow) seconds(col string) time.Duration { return r.fixed(col, r.get(col), 1e6) }
func (r *csvRow) millis(col string) time.Duration  { return r.fixed(col, r.get(col), 1e3) }

// optMillis reads an optional cell; empty is 0.
func (r *csvRow) optMillis(col string) time.Duration {
	if r.get(col) == "" {
		return 0
	}
	return r.millis(col)
}

func (r *csvRow) parseMillis(col, s string) time.Duration {
	return r.fixed(col, s, 1e3)
}

// fixed reads a decimal number of seconds or milliseconds as whole
// microseconds; perUnit is microseconds per unit (1e6 or 1e3).
func (r *csvRow) fixed(col, s string, perUnit float64) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f*perUnit) > math.MaxInt64/1e3) {
		err = errors.New("out of range")
	}
	if err != nil {
		r.fail(col, fmt.Errorf("%q: %v", s, err))
		return 0
	}
	return time.Duration(math.Round(f*perUnit)) * time.Microsecond
}

// list splits a '>'-joined cell; an empty cell is an empty list.
func (r *csvRow) list(col string) []string {
	v := r.get(col)
	if v == "" {
		return nil
	}
	return strings.Split(v, ">")
}

// server maps a name cell to its index, "" to -1.
func (r *csvRow) server(col string, index map[string]int) int {
	return r.lookup(col, r.get(col), index)
}

func (r *csvRow) lookup(col, name string, index map[string]int) int {
	if name == "" {
		return -1
	}
	i, ok := index[name]
	if !ok {
		r.fail(col, fmt.Errorf("server %q is not in summary.json's servers", name))
		return -1
	}
	return i
}

// readCSV reads a results CSV whose header holds at least the columns
// want (in any order; extra columns are ignored) and calls fn per row.
func readCSV(path string, want []string, fn func(*csvRow) error) error {
	f, err := os.Open(path)
	if err != nil {
		return &BadFile{fmt.Errorf("results: %w", err)} // a results directory without its file
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return &BadFile{fmt.Errorf("%s:1: empty file, want a header", path)}
	}
	if err != nil {
		return &BadFile{fmt.Errorf("%s: %w", path, err)}
	}
	row := &csvRow{path: path, cols: make(map[string]int, len(header))}
	for i, c := range header {
		row.cols[c] = i
	}
	for _, c := range want {
		if _, ok := row.cols[c]; !ok {
			return &BadFile{fmt.Errorf("%s:1: header lacks column %s", path, c)}
		}
	}
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &BadFile{fmt.Errorf("%s: %w", path, err)} // csv.ParseError names the line
		}
		row.fields, row.err = fields, nil
		row.line, _ = cr.FieldPos(0)
		if err := fn(row); err != nil {
			return err
		}
	}
}

// ReadLatencies calls fn with the latency of every completed page request
// of dir/requests.csv, in file order, stopping at the first error fn
// returns. It reads only the outcome and latency_ms columns, several
// times faster than ReadRequests, for the latency CDFs; a malformed
// outcome or latency is an error naming the file and line, as there.
func ReadLatencies(dir string, fn func(latency time.Duration) error) error {
	path := filepath.Join(dir, RequestsFile)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	line, err := readLine(br)
	if err == io.EOF {
		return fmt.Errorf("%s:1: empty file, want a header", path)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	header, err := splitCSVLine(line)
	if err != nil {
		return fmt.Errorf("%s:1: %w", path, err)
	}
	row := &csvRow{path: path, cols: make(map[string]int, len(header)), line: 1}
	for i, c := range header {
		row.cols[c] = i
	}
	for _, c := range requestsHeader {
		if _, ok := row.cols[c]; !ok {
			return &BadFile{fmt.Errorf("%s:1: header lacks column %s", path, c)}
		}
	}
	iOut, iLat := row.cols["outcome"], row.cols["latency_ms"]
	last := max(iOut, iLat)
	fields := make([]string, len(header))
	for {
		line, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		row.line++
		row.err = nil
		if bytes.IndexByte(line, '"') >= 0 {
			// Quoted cells: never written by this package, but valid CSV.
			if row.fields, err = splitCSVLine(line); err != nil {
				return fmt.Errorf("%s:%d: %w", path, row.line, err)
			}
		} else {
			n := 0
			for n <= last {
				i := bytes.IndexByte(line, ',')
				if i < 0 {
					fields[n] = string(line)
					n++
					break
				}
				fields[n] = unsafeString(line[:i])
				line = line[i+1:]
				n++
			}
			row.fields = fields[:n]
		}
		if len(row.fields) <= last {
			return fmt.Errorf("%s:%d: %d fields, want %d", path, row.line, len(row.fields), len(header))
		}
		switch o := row.fields[iOut]; o {
		case "completed":
			lat, ok := parseMicros(row.fields[iLat], 3)
			if !ok {
				lat = row.millis("latency_ms")
				if row.err != nil {
					return row.err
				}
			}
			if err := fn(lat); err != nil {
				return err
			}
		case "error", "rejected", "timeout", "interrupted", "shed":
		default:
			return fmt.Errorf("%s:%d: outcome: %q is not completed, error, rejected, timeout, interrupted or shed", path, row.line, o)
		}
	}
}

// readLine returns the next line without its line ending; the slice is
// valid until the next call.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer: gather it.
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err == io.EOF && len(line) > 0 {
		err = nil // a last line without a newline
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// splitCSVLine parses one CSV record.
func splitCSVLine(line []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(line))
	r.FieldsPerRecord = -1
	return r.Read()
}

// unsafeString views b as a string without copying; the string is only
// valid while b is, which ReadLatencies guarantees by using it at once.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// parseMicros reads a plain decimal of milliseconds with at most dec
// (3) decimals, as this package writes them, as the duration it stands
// for. It reports false for anything else (exponents, other signs, more
// decimals), which the caller then reads the slow way.
func parseMicros(s string, dec int) (time.Duration, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var v int64
	seenDot, frac, digits := false, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*10 + int64(c-'0')
			digits++
			if seenDot {
				frac++
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || frac > dec {
		return 0, false
	}
	for ; frac < dec; frac++ {
		v *= 10
	}
	if neg {
		v = -v
	}
	return time.Duration(v) * time.Microsecond, true
}
