package runner

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// shardDir is one shard's results directory, read and checked.
type shardDir struct {
	dir      string
	sum      *results.Summary
	scenario []byte // scenario.yaml as run
}

// Merge combines the results directories of the n shards of one run
// (loadgen --shard i/n) into out: every shard's requests.csv is read, the
// records interleaved in completion order and fed through the Recorder
// one generator's run uses, so that the summary, requests.csv and
// timeseries.csv are by construction what one generator sending them all
// would have written (at requests.csv's microsecond resolution); the
// figures and report.html are drawn from them. It refuses, as bad input,
// directories that are not complete results of shards of arrivals, that
// ran another scenario (scenario.yaml differs), variant, seed or shard
// count, that were stopped early or kept no records, and a shard missing
// or given twice. out must be ready for writing (see PrepareDir).
func Merge(ctx context.Context, dirs []string, out string) (*results.Summary, error) {
	shards, err := readShards(dirs)
	if err != nil {
		return nil, err
	}
	sc, err := scenarios.Parse(filepath.Join(shards[0].dir, results.ScenarioFile), shards[0].scenario)
	if err != nil {
		return nil, &InputError{err}
	}
	sc.Variant = shards[0].sum.Variant
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	rec, err := results.NewRecorder(sc, shards[0].sum.Mode, results.Options{Dir: out})
	if err != nil {
		return nil, err
	}
	info := &results.Merge{}
	var conns *results.Connections
	for k, s := range shards {
		info.Shards = append(info.Shards, results.MergedShard{Dir: s.dir, Index: s.sum.Shard.Index, Sent: s.sum.Requests.Sent, Start: s.sum.Start})
		if c := s.sum.Connections; c != nil {
			if k == 0 {
				conns = &results.Connections{}
			}
			if conns != nil {
				conns.Prewarmed += c.Prewarmed
				conns.OpenedDuring += c.OpenedDuring
			}
		} else {
			conns = nil
		}
	}
	rec.Describe(results.RunInfo{Merge: info, Connections: conns})
	if note := startNote(shards); note != "" {
		rec.Note(note)
	}
	feedErr := feedInOrder(ctx, shards, rec)
	sum, closeErr := rec.Close()
	if err := errors.Join(feedErr, closeErr); err != nil {
		return sum, err
	}
	var want int64
	for _, s := range shards {
		want += s.sum.Requests.Sent
	}
	if sum.Requests.Sent != want {
		return sum, &InputError{fmt.Errorf("merge: the shards' requests.csv hold %d records, their summaries count %d: a requests.csv is not its run's", sum.Requests.Sent, want)}
	}
	if notes := mergeNotes(shards, sum.Notes); len(notes) > len(sum.Notes) {
		sum.Notes = notes
		if err := results.WriteSummary(out, sum); err != nil {
			return sum, err
		}
	}
	// Judged as one generator's run: its thresholds, and whether the
	// generators together kept up.
	res := []Result{{Dir: out, Variant: sum.Variant, Summary: sum, sc: sc}}
	judgeErr := judge(res, Options{Mode: sum.Mode})
	return sum, errors.Join(writeReportsWith(ctx, out, res, nil), judgeErr)
}

// readShards reads and checks the directories: complete results of
// shards of one run, each shard once.
func readShards(dirs []string) ([]shardDir, error) {
	if len(dirs) == 0 {
		return nil, inputErrorf("merge: no shard directories given")
	}
	var shards []shardDir
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, results.SummaryFile)); errors.Is(err, fs.ErrNotExist) {
			return nil, inputErrorf("merge: %s is not a complete results directory: it has no %s (a run still going, or stopped before it wrote its results)", d, results.SummaryFile)
		}
		sum, err := results.ReadSummary(d)
		if err != nil {
			return nil, &InputError{fmt.Errorf("merge: %w", err)}
		}
		switch {
		case sum.Shard == nil:
			return nil, inputErrorf("merge: %s is not a shard (its summary.json has no shard): merge reads the directories of loadgen --shard i/n", d)
		case sum.Shard.Of != results.ShardArrivals:
			return nil, inputErrorf("merge: %s is shard %d/%d of a sweep's points, a whole run of its point: there is nothing to merge", d, sum.Shard.Index, sum.Shard.Count)
		case sum.Partial:
			return nil, inputErrorf("merge: %s was stopped before its end (partial): its share of the schedule is incomplete", d)
		case sum.Merge != nil:
			return nil, inputErrorf("merge: %s is already a merge", d)
		case sum.NotStarted:
			return nil, inputErrorf("merge: %s is shard %d/%d that never started its load (not_started: it got no time zero; see its notes): it holds none of its share, run it again", d, sum.Shard.Index, sum.Shard.Count)
		case sum.Requests.Sent == 0:
			return nil, inputErrorf("merge: %s is shard %d/%d that sent nothing: it holds none of its share, run it again", d, sum.Shard.Index, sum.Shard.Count)
		}
		if _, err := os.Stat(filepath.Join(d, results.RequestsFile)); err != nil {
			return nil, inputErrorf("merge: %s has no %s (run with --no-records?): merging needs every record", d, results.RequestsFile)
		}
		yaml, err := os.ReadFile(filepath.Join(d, results.ScenarioFile))
		if err != nil {
			return nil, inputErrorf("merge: %s is not a complete results directory: %v", d, err)
		}
		shards = append(shards, shardDir{dir: d, sum: sum, scenario: yaml})
	}
	first := shards[0]
	n := first.sum.Shard.Count
	for _, s := range shards[1:] {
		a, b := first.sum, s.sum
		var what string
		switch {
		case a.Scenario != b.Scenario:
			what = fmt.Sprintf("scenario %q, not %q", b.Scenario, a.Scenario)
		case a.Variant != b.Variant:
			what = fmt.Sprintf("variant %q, not %q", b.Variant, a.Variant)
		case a.Seed != b.Seed:
			what = fmt.Sprintf("seed %d, not %d", b.Seed, a.Seed)
		case a.Mode != b.Mode:
			what = fmt.Sprintf("mode %v, not %v", b.Mode, a.Mode)
		case b.Shard.Count != n:
			what = fmt.Sprintf("shard %d/%d, not one of %d", b.Shard.Index, b.Shard.Count, n)
		case !bytes.Equal(first.scenario, s.scenario):
			what = "another scenario.yaml (the same scenario with other settings)"
		}
		if what != "" {
			return nil, inputErrorf("merge: %s ran %s as %s did: shards of one run share the scenario, its settings, seed and shard count", s.dir, what, first.dir)
		}
	}
	byIndex := map[int]string{}
	for _, s := range shards {
		if prev, dup := byIndex[s.sum.Shard.Index]; dup {
			return nil, inputErrorf("merge: shard %d/%d given twice: %s and %s", s.sum.Shard.Index, n, prev, s.dir)
		}
		byIndex[s.sum.Shard.Index] = s.dir
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		return nil, inputErrorf("merge: shard %s missing: the shards together make the run, so give all %d", strings.Join(missing, ", "), n)
	}
	slices.SortFunc(shards, func(a, b shardDir) int { return a.sum.Shard.Index - b.sum.Shard.Index })
	if err := sameStart(shards); err != nil {
		return nil, err
	}
	return shards, nil
}

// OtherStart is how far apart two shards' given time zeros may be and
// still be one start: beyond it they are shards of different starts
// (run again with the same settings), not clocks that disagree.
const OtherStart = time.Second

// sameStart refuses shards whose given time zeros are more than
// OtherStart apart. Shards without one are left to startNote.
func sameStart(shards []shardDir) error {
	var first, last *shardDir
	var firstAt, lastAt time.Time
	for k := range shards {
		s := &shards[k]
		if s.sum.Start == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, s.sum.Start.At)
		if err != nil {
			continue
		}
		if first == nil || at.Before(firstAt) {
			first, firstAt = s, at
		}
		if last == nil || at.After(lastAt) {
			last, lastAt = s, at
		}
	}
	if first == nil {
		return nil
	}
	if d := lastAt.Sub(firstAt); d > OtherStart {
		return inputErrorf("merge: %s started at %s and %s at %s, %v apart: shards of different starts of the run (more than %v apart is no clock error), merge the shards of one start",
			first.dir, first.sum.Start.At, last.dir, last.sum.Start.At, d.Round(time.Millisecond), OtherStart)
	}
	return nil
}

// StartSpread is how far apart the shards' time zeros may be before a
// merge says so.
const StartSpread = 10 * time.Millisecond

// startNote says when the shards did not share a time zero: their times
// count from their own starts, which a merge cannot line up.
func startNote(shards []shardDir) string {
	var without []string
	var first, last time.Time
	for _, s := range shards {
		if s.sum.Start == nil {
			without = append(without, fmt.Sprintf("%d/%d", s.sum.Shard.Index, s.sum.Shard.Count))
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, s.sum.Start.At)
		if err != nil {
			without = append(without, fmt.Sprintf("%d/%d", s.sum.Shard.Index, s.sum.Shard.Count))
			continue
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if last.IsZero() || at.After(last) {
			last = at
		}
	}
	if len(without) > 0 {
		return fmt.Sprintf("shard %s had no given time zero (loadgen --start-at or --manager): its times count from its own start, so the arrivals did not interleave as planned and the time series may not line up", strings.Join(without, ", "))
	}
	if d := last.Sub(first); d > StartSpread {
		return fmt.Sprintf("the shards' time zeros were %.1f ms apart (clocks as each host read them): the arrivals did not interleave exactly as planned", float64(d.Microseconds())/1e3)
	}
	return ""
}

// recordedAt is when a generator records a request: once its page and
// objects are done.
func recordedAt(q *results.Request) time.Duration { return max(q.Done, q.ObjectsDone) }

// stream is one shard's records, read one at a time.
type stream struct {
	next func() (results.Request, bool)
	head results.Request
}

type streams []*stream

func (h streams) Len() int           { return len(h) }
func (h streams) Less(i, j int) bool { return recordedAt(&h[i].head) < recordedAt(&h[j].head) }
func (h streams) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *streams) Push(x any)        { *h = append(*h, x.(*stream)) }
func (h *streams) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// feedInOrder adds every shard's records to rec, interleaved by the
// time each was recorded; each shard's own order is kept. Memory holds
// one record per shard.
func feedInOrder(ctx context.Context, shards []shardDir, rec *results.Recorder) error {
	errs := make([]error, len(shards))
	var h streams
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	for k, s := range shards {
		seq := func(yield func(results.Request) bool) {
			errs[k] = results.ReadRequests(s.dir, func(q *results.Request) error {
				if !yield(*q) {
					return errStopped
				}
				return nil
			})
		}
		next, stop := iter.Pull(iter.Seq[results.Request](seq))
		stops = append(stops, stop)
		st := &stream{next: next}
		if q, ok := next(); ok {
			st.head = q
			h = append(h, st)
		}
	}
	heap.Init(&h)
	for n := 0; h.Len() > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		st := h[0]
		rec.Add(&st.head)
		if q, ok := st.next(); ok {
			st.head = q
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	for k := range errs {
		if errors.Is(errs[k], errStopped) {
			errs[k] = nil
		}
		if errs[k] != nil {
			errs[k] = &InputError{fmt.Errorf("merge: %w", errs[k])}
		}
	}
	return errors.Join(errs...)
}

var errStopped = errors.New("stopped")

// mergeNotes adds the shards' notes to the merged summary's own: a note
// every shard has, once; another with the shard it is about.
func mergeNotes(shards []shardDir, own []string) []string {
	notes := slices.Clone(own)
	add := func(n string) {
		if !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	for _, s := range shards {
		for _, n := range s.sum.Notes {
			all := true
			for _, o := range shards {
				all = all && slices.Contains(o.sum.Notes, n)
			}
			if all {
				add(n)
			} else {
				add(fmt.Sprintf("shard %d/%d: %s", s.sum.Shard.Index, s.sum.Shard.Count, n))
			}
		}
	}
	return notes
}
