package loadgen

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/rakyll/hey/requester"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results"
)

// Side by side: one page request through the browsers (redirect-aware,
// recorded, with its timeout) and one request through hey, both
// sequential against the same in-process server. The difference is the
// open loop's per-request overhead on top of net/http.

func benchServer(b *testing.B) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(ServerHeader, "web-1")
		w.Write([]byte("page"))
	}))
	b.Cleanup(s.Close)
	return s.URL
}

func BenchmarkBrowserPage(b *testing.B) {
	u, _ := url.Parse(benchServer(b))
	sc := scenario(1, poisson(1), time.Second)
	opts := Options{}
	pl, err := plan.Resolve(sc)
	if err != nil {
		b.Fatal(err)
	}
	if err := opts.validate(pl); err != nil {
		b.Fatal(err)
	}
	br := newBrowsers(context.Background(), pl, []*url.URL{u}, opts.Transport, WallClock, time.Now())
	defer br.close()
	var r results.Request
	pt := br.newPageTrace()
	b.ResetTimer()
	for range b.N {
		r = results.Request{Scheduled: br.elapsed()}
		if br.page(0, 0, &r, pt) == "" || r.Outcome != results.Completed {
			b.Fatalf("record %+v", r)
		}
	}
}

func BenchmarkHeyRequest(b *testing.B) {
	req, _ := http.NewRequest(http.MethodGet, benchServer(b)+"/page", nil)
	b.ResetTimer()
	w := &requester.Work{Request: req, N: b.N, C: 1, Output: "csv", Writer: io.Discard}
	w.Run()
}

// BenchmarkDispatch is the pacer's per-request dispatch decision.
func BenchmarkDispatch(b *testing.B) {
	out := []int64{3, 1, 4, 1, 5, 9, 2, 6}
	f := func(i int) (int64, bool) { return out[i], true }
	for _, p := range []dispatch.Policy{dispatch.Random, dispatch.RoundRobin, dispatch.Weighted, dispatch.JSQ, dispatch.P2C} {
		b.Run(p.String(), func(b *testing.B) {
			d, err := newDispatcher(p, []float64{1, 2, 1, 2, 1, 2, 1, 2}, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				d.pick(f)
			}
		})
	}
}
