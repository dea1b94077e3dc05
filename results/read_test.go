package results

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// TestRoundTrip: what the recorder writes, the readers give back: every
// counted request in order and equal field by field (times are whole
// microseconds here, the files' resolution), every sample, and the time
// series the recorder built.
func TestRoundTrip(t *testing.T) {
	sc := testScenario()
	_, workers := instances(sc)
	qs := randomRequests(sc, 5000, 8)
	// Also a request with more hops than are kept.
	long := Request{ID: 99999, Scheduled: sc.Warmup + time.Second, Sent: sc.Warmup + time.Second, First: 0, Final: 3, Status: 200, Redirects: 9}
	for h := range 10 {
		long.AddHop(Hop{Server: int16(h % 4), Status: 302, At: long.Scheduled + time.Duration(h+1)*time.Millisecond})
	}
	long.Done = long.Scheduled + 11*time.Millisecond
	qs = append(qs, long)
	samples := samplesFor(sc, workers)
	dir := t.TempDir()
	r := newTestRecorder(t, sc, Options{Dir: dir})
	for i := range qs {
		r.Add(&qs[i])
	}
	for i := range samples {
		r.AddSample(&samples[i])
	}
	want := mustClose(t, r)

	got, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary read back:\n%+v\nwant\n%+v", got, want)
	}

	var counted []Request
	for _, q := range qs {
		if q.Scheduled >= sc.Warmup {
			counted = append(counted, q)
		}
	}
	i := 0
	err = ReadRequests(dir, func(q *Request) error {
		if i >= len(counted) {
			return errors.New("more rows than counted requests")
		}
		if *q != counted[i] {
			t.Errorf("row %d:\n%+v\nwant\n%+v", i, *q, counted[i])
		}
		i++
		return nil
	})
	if err != nil || i != len(counted) {
		t.Fatalf("ReadRequests: %v after %d rows, want %d", err, i, len(counted))
	}

	j := 0
	err = ReadServers(dir, func(s *ServerSample, name string) error {
		if *s != samples[j] || name != r.agg.names[s.Server] {
			t.Errorf("sample %d: %+v %s, want %+v %s", j, *s, name, samples[j], r.agg.names[samples[j].Server])
		}
		j++
		return nil
	})
	if err != nil || j != len(samples) {
		t.Fatalf("ReadServers: %v after %d rows, want %d", err, j, len(samples))
	}

	secs, err := ReadTimeseries(dir)
	if err != nil {
		t.Fatal(err)
	}
	built := r.agg.series.secs
	for k := range built {
		// The files keep microseconds; percentiles are not whole ones.
		built[k].P50 = built[k].P50.Round(time.Microsecond)
		built[k].P99 = built[k].P99.Round(time.Microsecond)
	}
	if !reflect.DeepEqual(secs, built) {
		t.Errorf("time series read back differs: %d rows, want %d", len(secs), len(built))
	}
}

// TestReadErrors: a damaged file gives an error naming file, line and
// column; the callback's error stops reading and comes back unchanged.
func TestReadErrors(t *testing.T) {
	sc := testScenario()
	dir := t.TempDir()
	record(t, sc, Options{Dir: dir}, randomRequests(sc, 50, 9), nil)
	path := filepath.Join(dir, RequestsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")

	stop := errors.New("stop")
	n := 0
	if err := ReadRequests(dir, func(*Request) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("callback error: got %v after %d calls, want stop after 1", err, n)
	}

	for _, c := range []struct {
		name string
		edit func(fields []string) // applied to line 3
		want string
	}{
		// An outcome that is not one of the four.
		{"outcome", func(f []string) { f[4] = "lost" }, `requests.csv:3: outcome: "lost" is not completed`},
		// A latency that is not a number.
		{"latency", func(f []string) { f[3] = "12ms" }, `requests.csv:3: latency_ms: "12ms"`},
		// A server the summary does not list.
		{"server", func(f []string) { f[7] = "web-9" }, `requests.csv:3: first: server "web-9" is not in summary.json's servers`},
		// More hops than nhops says.
		{"hops", func(f []string) { f[9] = "0" }, `requests.csv:3: hops:`},
	} {
		f := strings.Split(lines[2], ",")
		c.edit(f)
		bad := append(append(append([]string{}, lines[:2]...), strings.Join(f, ",")), lines[3:]...)
		if err := os.WriteFile(path, []byte(strings.Join(bad, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		err := ReadRequests(dir, func(*Request) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}

	// A header without a required column.
	if err := os.WriteFile(filepath.Join(dir, TimeseriesFile), []byte("t_s,requests\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTimeseries(dir); err == nil || !strings.Contains(err.Error(), "timeseries.csv:1: header lacks column completed") {
		t.Errorf("short header: %v", err)
	}
	// A summary that is not JSON names its line.
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte("{\n\"scenario\": \"x\",\n!\n}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSummary(dir); err == nil || !strings.Contains(err.Error(), "summary.json:3:") {
		t.Errorf("bad summary: %v", err)
	}
}

// TestGolden pins the exact bytes of every file of a small run; run
// `go test ./results -run Golden -update` after a deliberate format change
// and review the diff.
func TestGolden(t *testing.T) {
	sc := testScenario()
	w := sc.Warmup
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	qs := []Request{
		// Completed directly by web-1.
		{ID: 10, Scheduled: w + ms(1), Sent: w + ms(1.25), Done: w + ms(13.5), Status: 200, First: 0, Final: 0,
			NHops: 1, Hops: [8]Hop{{Server: 0, Status: 200, At: w + ms(13.5)}}},
		// Redirected once, slow-1 to web-2, with two embedded objects.
		{ID: 11, Scheduled: w + ms(2), Sent: w + ms(2), Done: w + ms(30.125), Status: 200, Redirects: 1, First: 3, Final: 1,
			NHops: 2, Hops: [8]Hop{{Server: 3, Status: 302, At: w + ms(2.4)}, {Server: 1, Status: 200, At: w + ms(30.125)}},
			Objects: 2, ObjectsDone: w + ms(35)},
		// Rejected by a full queue.
		{ID: 12, Scheduled: w + ms(900), Sent: w + ms(900), Done: w + ms(900.2), Outcome: Rejected, Status: 503, First: 2, Final: 2,
			NHops: 1, Hops: [8]Hop{{Server: 2, Status: 503, At: w + ms(900.2)}}},
		// Connection refused before any server answered.
		{ID: 13, Scheduled: w + ms(1500), Sent: w + ms(1500), Done: w + ms(1500.1), Outcome: Error, First: 1, Final: -1,
			NHops: 1, Hops: [8]Hop{{Server: -1, At: w + ms(1500.1)}}},
		// Timed out after one redirect.
		{ID: 14, Scheduled: w + ms(1600), Sent: w + ms(1600), Done: w + ms(11600), Outcome: Timeout, Redirects: 1, First: 0, Final: 2,
			NHops: 1, Hops: [8]Hop{{Server: 0, Status: 302, At: w + ms(1600.3)}}},
		// In the warmup: not counted, not written.
		{ID: 9, Scheduled: w - ms(1), Sent: w - ms(1), Done: w + ms(5), Status: 200, First: 0, Final: 0},
	}
	samples := []ServerSample{
		{At: w, Server: 0, QueueLength: 3, InService: 3, QueueDelay: ms(0.5), Served: 40, Up: true, BusyTime: ms(380)},
		{At: w, Server: 3, QueueLength: 9, InService: 2, QueueDelay: ms(41.25), Served: 9, Redirected: 4, Up: true,
			ReportedQueueLength: 7, ReportedQueueDelay: ms(30), BusyTime: ms(200)},
		{At: w + 100*time.Millisecond, Server: 0, QueueLength: 1, InService: 1, Served: 38, Up: true, BusyTime: ms(300)},
		{At: w + 100*time.Millisecond, Server: 3, QueueLength: 11, InService: 2, QueueDelay: ms(52), Served: 10, Redirected: 6,
			Rejected: 1, ReportedQueueLength: 9, ReportedQueueDelay: ms(41.25), BusyTime: ms(200)},
	}
	dir := t.TempDir()
	r := newTestRecorder(t, sc, Options{Dir: dir})
	for i := range qs {
		r.Add(&qs[i])
	}
	for i := range samples {
		r.AddSample(&samples[i])
	}
	r.Note("golden test: hand-made records")
	mustClose(t, r)
	for _, name := range []string{SummaryFile, RequestsFile, ServersFile, TimeseriesFile} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s:\n%s\nwant\n%s", name, golden, got, want)
		}
	}
}
