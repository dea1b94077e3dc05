package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// Fitted is what Fit made of a run through fronts.
type Fitted struct {
	// Scenario is the fitted scenario file written; Files the service
	// time files beside it.
	Scenario string
	Files    []string
	// Groups are the fitted groups, in scenario order.
	Groups []FittedGroup
	// RTT is the fitted network.rtt: over the requests answered by a
	// front at the first hop (Direct counts them), the median time from
	// sending to the answer less the front's service of those that found
	// a worker free.
	RTT    time.Duration
	Direct int
}

// FittedGroup is one front group turned into servers serving its
// backend's measured times.
type FittedGroup struct {
	// Name is the group's; Upstream the backend it fronted.
	Name, Upstream string
	// Pages and Objects count the measured services fitted (ok
	// exchanges in the measured window); Failed the exchanges left out
	// (error, timeout, canceled).
	Pages, Objects, Failed int
	// Mean, P50 and P99 are of the page services fitted.
	Mean, P50, P99 time.Duration
}

// Fit turns dir, the results of one run through fronts (servers with an
// upstream), into a scenario at out whose front groups are servers with
// empirical service distributions: the services their fronts measured
// in the measured window (backend.csv), pooled over each group's
// instances, pages and objects apart; and whose network.rtt is the time
// requests spent outside their service when they did not wait (see
// Fitted.RTT). Everything else is the scenario as run, so simulating it
// answers what-if questions about the measured system. The samples go
// to files beside out, named after it.
func Fit(dir, out string) (*Fitted, error) {
	sum, err := results.ReadSummary(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &InputError{fmt.Errorf("fit: %s is not one run's results directory (no %s; a run with variants has one per variant, such as %s)", dir, results.SummaryFile, filepath.Join(dir, "base"))}
		}
		return nil, &InputError{err}
	}
	if sum.Partial {
		return nil, &InputError{fmt.Errorf("fit: %s is a partial run (stopped by a signal): its services cover only part of the load", dir)}
	}
	sc, err := scenarios.Load(filepath.Join(dir, results.ScenarioFile))
	if err != nil {
		return nil, &InputError{err}
	}
	if !sc.HasUpstream() {
		return nil, &InputError{fmt.Errorf("fit: %s has no fronts (servers[].upstream): its services are the scenario's own", dir)}
	}
	if _, err := os.Stat(filepath.Join(dir, results.BackendFile)); err != nil {
		return nil, &InputError{fmt.Errorf("fit: %s has no %s: run without --no-records to record the backend's times", dir, results.BackendFile)}
	}
	insts := sc.Instances()
	group := make([]int, len(insts)) // instance → group index
	for i, in := range insts {
		group[i] = slices.IndexFunc(sc.Servers, func(g scenarios.ServerGroup) bool { return g.Name == in.Group.Name })
	}
	warmup := time.Duration(sum.WarmupS * float64(time.Second))
	pages := make([][]time.Duration, len(sc.Servers))
	objects := make([][]time.Duration, len(sc.Servers))
	failed := make([]int, len(sc.Servers))
	// A page's service at the front that answered it, by request id.
	type key struct {
		id     uint64
		server int
	}
	took := map[key]time.Duration{}
	busy := make([]time.Duration, len(insts))
	err = results.ReadBackend(dir, func(b *results.Backend, name string) error {
		if b.Server < 0 || b.Server >= len(insts) || b.At < warmup {
			return nil
		}
		busy[b.Server] += b.Took
		if b.HasID && b.Part == 0 && b.Outcome == results.BackendOK {
			took[key{b.ID, b.Server}] = b.Took
		}
		g := group[b.Server]
		switch {
		case b.Outcome != results.BackendOK:
			failed[g]++
		case b.Part == 0:
			pages[g] = append(pages[g], b.Took)
		default:
			objects[g] = append(objects[g], b.Took)
		}
		return nil
	})
	if err != nil {
		return nil, &InputError{err}
	}
	// What a request spends outside its service without waiting is the
	// network's and the servers' own handling: the simulator's rtt. The
	// requests that did not wait are the quickest; under Poisson arrivals
	// a share 1 - utilization of them found a worker free, so the median
	// of those is the (1 - utilization)/2 quantile of all, utilization
	// weighed over the fronts by the requests they answered.
	var outside []time.Duration
	var idle float64
	span := float64(time.Duration(sum.DurationS * float64(time.Second)))
	if _, err := os.Stat(filepath.Join(dir, results.RequestsFile)); err == nil {
		err = results.ReadRequests(dir, func(q *results.Request) error {
			if q.Outcome != results.Completed || q.NHops != 1 {
				return nil
			}
			if d, ok := took[key{q.ID, q.Final}]; ok {
				outside = append(outside, max(q.Done-q.Sent-d, 0))
				util := float64(busy[q.Final]) / (span * float64(insts[q.Final].Group.Workers))
				idle += max(1-util, 0)
			}
			return nil
		})
		if err != nil {
			return nil, &InputError{err}
		}
	}
	if len(outside) == 0 {
		return nil, &InputError{fmt.Errorf("fit: %s: no request answered at its first hop with a recorded service (requests.csv and %s): the network cannot be fitted", dir, results.BackendFile)}
	}
	slices.Sort(outside)
	rtt := nearestRank(outside, min(max(idle/float64(len(outside))/2, 0.02), 0.5))
	base := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
	fit := &Fitted{Scenario: out, RTT: rtt, Direct: len(outside)}
	sc.Network.RTT, sc.Network.Overhead = rtt, 0
	var files []struct {
		path string
		data []byte
	}
	for g := range sc.Servers {
		grp := &sc.Servers[g]
		if grp.Upstream == "" {
			continue
		}
		if len(pages[g]) == 0 {
			return nil, &InputError{fmt.Errorf("fit: %s: no page served by group %s's fronts in the measured window (%d failed): nothing to fit", dir, grp.Name, failed[g])}
		}
		fg := FittedGroup{Name: grp.Name, Upstream: grp.Upstream, Pages: len(pages[g]), Objects: len(objects[g]), Failed: failed[g]}
		sorted := slices.Clone(pages[g])
		slices.Sort(sorted)
		var total time.Duration
		for _, d := range sorted {
			total += d
		}
		fg.Mean = total / time.Duration(len(sorted))
		fg.P50, fg.P99 = nearestRank(sorted, 0.5), nearestRank(sorted, 0.99)
		fit.Groups = append(fit.Groups, fg)

		pageFile := base + "." + grp.Name + ".page-ms.txt"
		files = append(files, struct {
			path string
			data []byte
		}{pageFile, serviceFile(pages[g])})
		*grp = scenarios.ServerGroup{Name: grp.Name, Count: grp.Count, Workers: grp.Workers, QueueCapacity: grp.QueueCapacity,
			Weight: grp.Weight, PageBytes: 2048, ObjectBytes: 8192,
			Service: scenarios.Service{Dist: "empirical", File: pageFile}, ObjectService: scenarios.Service{Dist: "const"}}
		if len(objects[g]) > 0 {
			objFile := base + "." + grp.Name + ".object-ms.txt"
			files = append(files, struct {
				path string
				data []byte
			}{objFile, serviceFile(objects[g])})
			grp.ObjectService = scenarios.Service{Dist: "empirical", File: objFile}
		}
	}
	sc.Description = strings.TrimSpace(fmt.Sprintf("Fitted by redirlab fit from %s: each front serves the times its backend took. %s", dir, sc.Description))
	yaml, err := sc.YAML()
	if err != nil {
		return nil, err
	}
	outDir := filepath.Dir(out)
	for _, f := range files {
		p := filepath.Join(outDir, f.path)
		if err := os.WriteFile(p, f.data, 0o666); err != nil {
			return nil, fmt.Errorf("fit: %w", err)
		}
		fit.Files = append(fit.Files, p)
	}
	if err := os.WriteFile(out, yaml, 0o666); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	// What was written must load as written.
	if _, err := scenarios.Load(out); err != nil {
		return nil, fmt.Errorf("fit: the fitted scenario does not load: %w", err)
	}
	return fit, nil
}

// serviceFile writes service times, one per line in milliseconds, in the
// order measured.
func serviceFile(ds []time.Duration) []byte {
	b := []byte("service_ms\n")
	for _, d := range ds {
		b = strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', 3, 64)
		b = append(b, '\n')
	}
	return b
}

// nearestRank is the q quantile of sorted by nearest rank.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	k := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}
