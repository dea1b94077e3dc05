package scenarios

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Portable returns the scenario as run, made self-contained for a results
// directory: every data file it read (empirical service times, trace
// offsets) is rewritten as data/<n>-<name> with the values loaded from it,
// and the returned copy names those files. Writing the copy's YAML beside
// the files gives a scenario.yaml that loads anywhere, embedded scenarios
// included.
func (s *Scenario) Portable() (*Scenario, map[string][]byte) {
	c := *s
	files := map[string][]byte{}
	n := 0
	rename := func(orig string, vals []time.Duration) string {
		n++
		name := fmt.Sprintf("data/%d-%s", n, path.Base(strings.ReplaceAll(orig, "\\", "/")))
		var b strings.Builder
		fmt.Fprintf(&b, "# %s as loaded by redirlab from %s (%s)\n", path.Base(name), orig, s.File)
		for _, v := range vals {
			b.WriteString(fmtDuration(v))
			b.WriteByte('\n')
		}
		files[name] = []byte(b.String())
		return name
	}
	c.Servers = append([]ServerGroup(nil), s.Servers...)
	for i := range c.Servers {
		g := &c.Servers[i]
		if g.Service.Dist == "empirical" && g.Service.File != "" {
			g.Service.File = rename(g.Service.File, g.Service.Samples)
		}
		if g.ObjectService.Dist == "empirical" && g.ObjectService.File != "" {
			g.ObjectService.File = rename(g.ObjectService.File, g.ObjectService.Samples)
		}
	}
	if c.Workload.Arrival.Process == "trace" && c.Workload.Arrival.File != "" {
		c.Workload.Arrival.File = rename(c.Workload.Arrival.File, c.Workload.Arrival.Offsets)
	}
	return &c, files
}
