package results

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// latenciesBySlowPath is the completed latencies as ReadRequests gives them.
func latenciesBySlowPath(t *testing.T, dir string) []time.Duration {
	t.Helper()
	var want []time.Duration
	if err := ReadRequests(dir, func(q *Request) error {
		if q.Outcome == Completed {
			want = append(want, q.Latency())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return want
}

func readLatencies(dir string) ([]time.Duration, error) {
	var got []time.Duration
	err := ReadLatencies(dir, func(d time.Duration) error {
		got = append(got, d)
		return nil
	})
	return got, err
}

// TestReadLatencies: the fast reader gives the completed latencies of
// ReadRequests, in order, also with CRLF line ends, quoted cells,
// reordered columns and no final newline; bad cells are errors with the
// line.
func TestReadLatencies(t *testing.T) {
	sc := testScenario()
	dir := t.TempDir()
	r := newTestRecorder(t, sc, Options{Dir: dir})
	qs := randomRequests(sc, 3000, 5)
	for i := range qs {
		r.Add(&qs[i])
	}
	mustClose(t, r)
	want := latenciesBySlowPath(t, dir)
	got, err := readLatencies(dir)
	if err != nil || !slices.Equal(got, want) || len(want) < 2000 {
		t.Fatalf("ReadLatencies: %d latencies, %v; want ReadRequests' %d", len(got), err, len(want))
	}

	path := filepath.Join(dir, RequestsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	rewrite := func(lines []string, sep string, final bool) {
		s := strings.Join(lines, sep)
		if final {
			s += sep
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// CRLF, a quoted cell, no final newline.
	edited := slices.Clone(lines)
	edited[3] = strings.Replace(edited[3], ",completed,", `,"completed",`, 1)
	edited[4] = strings.Replace(edited[4], ",rejected,", `,"rejected",`, 1)
	rewrite(edited, "\r\n", false)
	if got, err := readLatencies(dir); err != nil || !slices.Equal(got, want) {
		t.Errorf("CRLF and quotes: %d latencies, %v; want %d", len(got), err, len(want))
	}
	// Columns in another order: the last first.
	reordered := make([]string, len(lines))
	for i, l := range lines {
		cells := strings.Split(l, ",")
		reordered[i] = strings.Join(append(cells[len(cells)-1:], cells[:len(cells)-1]...), ",")
	}
	rewrite(reordered, "\n", true)
	if got, err := readLatencies(dir); err != nil || !slices.Equal(got, want) {
		t.Errorf("reordered columns: %d latencies, %v; want %d", len(got), err, len(want))
	}
	// Bad cells.
	for _, c := range []struct{ from, to, want string }{
		{",completed,", ",done,", `.csv:2: outcome: "done" is not completed`},
		{",completed,", ",completed,x", ""}, // a later column: not read
	} {
		bad := slices.Clone(lines)
		for i := 1; i < len(bad); i++ {
			if strings.Contains(bad[i], c.from) {
				bad[i] = strings.Replace(bad[i], c.from, c.to, 1)
				break
			}
		}
		rewrite(bad, "\n", true)
		_, err := readLatencies(dir)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s -> %s: %v, want %q", c.from, c.to, err, c.want)
		}
	}
	// A latency that is not a number, on the first completed row.
	bad := slices.Clone(lines)
	for i := 1; i < len(bad); i++ {
		cells := strings.Split(bad[i], ",")
		if cells[4] == "completed" {
			cells[3] = "1e3x"
			bad[i] = strings.Join(cells, ",")
			break
		}
	}
	rewrite(bad, "\n", true)
	if _, err := readLatencies(dir); err == nil || !strings.Contains(err.Error(), "latency_ms") {
		t.Errorf("a bad latency: %v", err)
	}
	// A header without the columns.
	rewrite([]string{"id,outcome", "1,completed"}, "\n", true)
	if _, err := readLatencies(dir); err == nil || !strings.Contains(err.Error(), "header lacks column") {
		t.Errorf("a short header: %v", err)
	}
}

func TestParseMicros(t *testing.T) {
	for _, c := range []struct {
		s  string
		us int64
		ok bool
	}{
		{"12.345", 12345, true}, {"0.001", 1, true}, {"7", 7000, true}, {"7.5", 7500, true},
		{"-0.250", -250, true}, {"1.2345", 0, false}, {"1e3", 0, false}, {"", 0, false},
		{"-", 0, false}, {".", 0, false}, {"1.2.3", 0, false}, {"+1", 0, false}, {"1234567890123456", 0, false},
	} {
		d, ok := parseMicros(c.s, 3)
		if ok != c.ok || ok && d != time.Duration(c.us)*time.Microsecond {
			t.Errorf("parseMicros(%q) = %v, %v; want %dµs, %v", c.s, d, ok, c.us, c.ok)
		}
	}
}
