package results

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServersEvery(t *testing.T) {
	for _, c := range []struct {
		name     string
		duration time.Duration
		servers  int
		def      bool
		want     int
	}{
		{"short default run", 20 * time.Second, 4, true, 1},
		{"600 s of 4 servers", 600 * time.Second, 4, true, 1},                   // 24,084 rows
		{"1112 s of 100 servers", 1112 * time.Second, 100, true, 10},            // 1,112,100 rows: 1 s
		{"an hour of 100 servers", time.Hour, 100, true, 20},                    // 3.6 M rows: 2 s
		{"a day of 1,000 servers", 24 * time.Hour, 1000, true, 5000},            // 864 M rows: 500 s
		{"explicit interval, long run", time.Hour, 100, false, 1},               // always honoured
		{"one tick of very many servers", 50 * time.Millisecond, 9999, true, 1}, // every >= ticks
	} {
		sc := testScenario()
		sc.Warmup = 0
		sc.Duration = c.duration
		sc.Servers = sc.Servers[:1]
		sc.Servers[0].Count = c.servers
		sc.SampleIntervalDefault = c.def
		if got := ServersEvery(sc); got != c.want {
			t.Errorf("%s: ServersEvery = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestServersCoarser: a long run whose scenario leaves sample_interval at
// its default gets a servers.csv of one row per ServersEvery samples
// (state at the row's tick, counts and busy time summed, a shorter last
// row), its summary identical to one counting every sample plus a note
// saying so; given explicitly, the same interval is written sample by
// sample.
func TestServersCoarser(t *testing.T) {
	sc := testScenario()
	sc.Duration = 90 * time.Minute
	sc.SampleIntervalDefault = true
	every := ServersEvery(sc)
	if every != 2 {
		t.Fatalf("ServersEvery = %d, want 2 for %d rows", every, (sc.Warmup+sc.Duration)/sc.SampleInterval*4)
	}
	_, workers := instances(sc)
	samples := samplesFor(sc, workers)
	// A last sample at the end, as the simulator takes: an odd count.
	for i := range workers {
		samples = append(samples, ServerSample{At: sc.Warmup + sc.Duration + time.Millisecond, Server: i, Served: 1, QueueLength: 3})
	}
	qs := randomRequests(sc, 500, 3)
	dir := t.TempDir()
	sum := record(t, sc, Options{Dir: dir}, qs, samples)

	explicit := *sc
	explicit.SampleIntervalDefault = false
	full := record(t, &explicit, Options{Dir: t.TempDir()}, qs, samples)
	note := ServersEveryNote(every, sc.SampleInterval)
	if !slices.Equal(sum.Notes, []string{note}) || !strings.Contains(note, "every 200ms, not every 100ms") {
		t.Errorf("notes %q, want %q", sum.Notes, note)
	}
	sum.Notes = nil
	if !reflect.DeepEqual(sum, full) {
		t.Errorf("summary differs from the one of every sample:\n%+v\n%+v", sum, full)
	}

	var got []ServerSample
	if err := ReadServers(dir, func(s *ServerSample, _ string) error {
		got = append(got, *s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byServer := make([][]ServerSample, len(workers))
	for _, s := range samples {
		byServer[s.Server] = append(byServer[s.Server], s)
	}
	var want []ServerSample
	for k := 0; k < len(byServer[0]); k += every {
		for i := range byServer {
			group := byServer[i][k:min(k+every, len(byServer[i]))]
			row := group[len(group)-1]
			row.Served, row.Redirected, row.Rejected, row.BusyTime = 0, 0, 0, 0
			for _, s := range group {
				row.Served += s.Served
				row.Redirected += s.Redirected
				row.Rejected += s.Rejected
				row.BusyTime += s.BusyTime
			}
			want = append(want, row)
		}
	}
	// The rows come in sample order, the last (partial) ones at Close.
	sortRows := func(rows []ServerSample) {
		slices.SortStableFunc(rows, func(a, b ServerSample) int {
			if a.Server != b.Server {
				return a.Server - b.Server
			}
			return int(a.At - b.At)
		})
	}
	sortRows(got)
	sortRows(want)
	if len(got) != len(want) || len(got) >= len(samples) {
		t.Fatalf("%d rows, want %d (of %d samples)", len(got), len(want), len(samples))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestWriterConcurrentClose: Close finishing its files at once writes the
// same files as one at a time, and no temporary file is left.
func TestWriterConcurrentClose(t *testing.T) {
	sc := testScenario()
	_, workers := instances(sc)
	samples := samplesFor(sc, workers)
	qs := randomRequests(sc, 2000, 4)
	var trees []map[string][]byte
	for _, parallel := range []int{1, 4} {
		dir := t.TempDir()
		a, err := NewAggregator(sc, Sim)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(dir, sc, WriterOptions{Parallel: parallel})
		if err != nil {
			t.Fatal(err)
		}
		for i := range qs {
			a.Add(&qs[i])
			w.Add(&qs[i])
		}
		for i := range samples {
			a.AddSample(&samples[i])
			w.AddSample(&samples[i])
		}
		sum, err := a.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(sum, a.Seconds()); err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, name := range listDir(t, dir) {
			if strings.HasSuffix(name, ".tmp") {
				t.Errorf("parallel %d: temporary file %s left", parallel, name)
			}
			files[name], err = os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
		}
		trees = append(trees, files)
	}
	if !reflect.DeepEqual(trees[0], trees[1]) || len(trees[0]) != 5 {
		t.Errorf("files differ between sequential and concurrent Close, or are not the 5 expected: %d and %d files", len(trees[0]), len(trees[1]))
	}
}
