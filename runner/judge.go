package runner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redirlab/redirlab/gate"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// JudgeError is a run that is not a pass: a threshold failed (exit 1),
// the run could not judge its thresholds (inconclusive, exit 3), or no
// request completed at all (the run failed, exit 4).
type JudgeError struct {
	// Failed are the failed thresholds, Inconclusive the ones that could
	// not be judged, each "run: why".
	Failed, Inconclusive []string
	// NothingCompleted: every request of every run failed.
	NothingCompleted bool
}

func (e *JudgeError) Error() string {
	switch {
	case e.NothingCompleted:
		return "no page request completed: every one failed (is anything listening?)"
	case len(e.Failed) > 0:
		return fmt.Sprintf("%d threshold(s) failed: %s", len(e.Failed), strings.Join(e.Failed, "; "))
	}
	return fmt.Sprintf("inconclusive: %s", strings.Join(e.Inconclusive, "; "))
}

// judge judges each variant's thresholds over its replications, writes
// the verdicts into their summaries, and says what is not a pass. A run
// without thresholds has no verdict to be inconclusive about: a load
// generator that fell behind is noted in its summary instead, since its
// latencies then hold the generator's lateness too.
func judge(res []Result, opts Options) error {
	je := &JudgeError{NothingCompleted: len(res) > 0}
	type group struct {
		results []Result
		sc      *scenarios.Scenario
	}
	var order []string
	groups := map[string]*group{}
	for _, r := range res {
		if r.Summary == nil {
			je.NothingCompleted = false
			continue
		}
		if r.Summary.Requests.Completed > 0 || r.Summary.Requests.Sent == 0 {
			je.NothingCompleted = false
		}
		g := groups[r.Variant]
		if g == nil {
			g = &group{sc: r.sc}
			groups[r.Variant] = g
			order = append(order, r.Variant)
		}
		g.results = append(g.results, r)
	}
	if je.NothingCompleted {
		return je
	}
	var errs []error
	for _, v := range order {
		g := groups[v]
		var sums []*results.Summary
		for _, r := range g.results {
			sums = append(sums, r.Summary)
		}
		name := v
		if name == "" {
			name = g.sc.Name
		}
		limits := g.sc.Limits
		if len(limits) == 0 {
			for _, r := range g.results {
				noted := false
				for _, p := range opts.Health.Problems(r.Summary) {
					if strings.HasPrefix(p, "the load generator") {
						r.Summary.Notes = append(r.Summary.Notes, p+": latencies include its own lateness")
						noted = true
					}
				}
				if noted {
					if err := results.WriteSummary(r.Dir, r.Summary); err != nil {
						errs = append(errs, err)
					}
				}
			}
			continue
		}
		verdicts := gate.CheckLimits(name, limits, sums, opts.Health)
		var written []results.ThresholdVerdict
		for _, lr := range verdicts {
			written = append(written, results.ThresholdVerdict{
				Metric: lr.Limit.Metric, Threshold: lr.Limit.Raw, Value: lr.Value, Bound: lr.Bound,
				Verdict: strings.ToLower(lr.Verdict.String()), Why: lr.Why,
			})
			switch lr.Verdict {
			case gate.Fail:
				je.Failed = append(je.Failed, name+": "+lr.Why)
			case gate.Inconclusive:
				je.Inconclusive = append(je.Inconclusive, fmt.Sprintf("%s: %s %s: %s", name, lr.Limit.Metric, lr.Limit.Raw, lr.Why))
			}
		}
		for _, r := range g.results {
			r.Summary.Thresholds = written
			if err := results.WriteSummary(r.Dir, r.Summary); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(je.Failed) > 0 || len(je.Inconclusive) > 0 {
		return je
	}
	return nil
}
