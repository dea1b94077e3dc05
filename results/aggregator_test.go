package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestAggregatorMatchesRecorder: for the same records, samples, notes and
// server counters, an Aggregator alone gives the same Summary (the same
// summary.json bytes) and time series as a Recorder, with and without a
// directory, over random inputs of every outcome, with records before
// the warmup, clipped latencies, late completions and bad indices.
func TestAggregatorMatchesRecorder(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			sc := testScenario()
			qs := randomRequests(sc, 200+rng.IntN(3000), seed)
			if seed%3 == 0 {
				// An hour-long latency, a record finishing past the
				// series' limit, an unknown outcome.
				w := sc.Warmup
				qs = append(qs, Request{ID: 1e6, Scheduled: w, Sent: w, Done: w + 2*time.Hour},
					Request{ID: 1e6 + 1, Scheduled: w, Sent: w + time.Millisecond, Done: w + time.Second, Outcome: Outcome(9)})
			}
			samples := samplesFor(sc, []int{4, 4, 4, 2})
			if seed%4 == 1 {
				samples = append(samples, ServerSample{At: sc.Warmup, Server: 17})
			}
			// Interleave records and samples the same random way for both.
			type step struct {
				q *Request
				s *ServerSample
			}
			var steps []step
			for i := range qs {
				steps = append(steps, step{q: &qs[i]})
			}
			for i := range samples {
				steps = append(steps, step{s: &samples[i]})
			}
			rng.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
			notes := []string{"first note", "second note"}
			counters := seed%2 == 0

			feed := func(sink Sink, redirects func(int64, int64)) {
				for i, st := range steps {
					if i == len(steps)/2 {
						sink.Note(notes[0])
					}
					if st.q != nil {
						sink.Add(st.q)
					} else {
						sink.AddSample(st.s)
					}
				}
				sink.Note(notes[1])
				if counters {
					redirects(123, 4567)
				}
			}

			a, err := NewAggregator(sc, Sim)
			if err != nil {
				t.Fatal(err)
			}
			feed(a, a.ServerRedirects)
			want, aggErr := a.Close()

			for _, opts := range []Options{{}, {Dir: t.TempDir()}} {
				r := newTestRecorder(t, sc, opts)
				feed(r, r.ServerRedirects)
				got, recErr := r.Close()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("dir %q: recorder's summary differs from the aggregator's:\n%+v\nwant\n%+v", opts.Dir, got, want)
				}
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(want)
				if !bytes.Equal(gb, wb) {
					t.Errorf("dir %q: summary.json bytes differ", opts.Dir)
				}
				if !reflect.DeepEqual(r.agg.Seconds(), a.Seconds()) {
					t.Errorf("dir %q: time series differ", opts.Dir)
				}
				if (aggErr == nil) != (recErr == nil) || (aggErr != nil && !strings.Contains(recErr.Error(), aggErr.Error())) {
					t.Errorf("dir %q: recorder error %v, aggregator error %v", opts.Dir, recErr, aggErr)
				}
			}
		})
	}
}

// TestAggregatorClose: Close is final and repeatable; records after it
// change nothing.
func TestAggregatorClose(t *testing.T) {
	sc := testScenario()
	a, err := NewAggregator(sc, Real)
	if err != nil {
		t.Fatal(err)
	}
	if a.Seconds() != nil {
		t.Error("Seconds before Close is not nil")
	}
	w := sc.Warmup
	a.Add(&Request{Scheduled: w, Sent: w, Done: w + time.Millisecond})
	s1, err := a.Close()
	if err != nil {
		t.Fatal(err)
	}
	a.Add(&Request{Scheduled: w, Sent: w, Done: w + time.Second})
	a.AddSample(&ServerSample{At: w + time.Second, Server: 0, Served: 5})
	a.Note("late")
	s2, _ := a.Close()
	if s1 != s2 || s2.Requests.Sent != 1 || len(s2.Notes) != 0 || s2.Mode != Real {
		t.Errorf("second Close: %+v, want the first summary unchanged", s2)
	}
	if n := len(a.Seconds()); n != 1 {
		t.Errorf("%d seconds, want 1", n)
	}
}

// TestMode: the mode's text forms, as summary.json has them.
func TestMode(t *testing.T) {
	for _, m := range []Mode{Sim, Real} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
		b, err := json.Marshal(struct {
			M Mode `json:"mode"`
		}{m})
		if err != nil || string(b) != `{"mode":"`+m.String()+`"}` {
			t.Errorf("%v marshals as %s, %v", m, b, err)
		}
		var back struct {
			M Mode `json:"mode"`
		}
		if err := json.Unmarshal(b, &back); err != nil || back.M != m {
			t.Errorf("%s unmarshals as %v, %v", b, back.M, err)
		}
	}
	if Sim.String() != "sim" || Real.String() != "real" {
		t.Errorf("String: %q %q", Sim, Real)
	}
	if _, err := ParseMode("live"); err == nil {
		t.Error("ParseMode(live): no error")
	}
	var m Mode
	if err := json.Unmarshal([]byte(`"live"`), &m); err == nil {
		t.Error(`unmarshalling "live": no error`)
	}
	if _, err := json.Marshal(Mode(9)); err == nil {
		t.Error("marshalling Mode(9): no error")
	}
}
