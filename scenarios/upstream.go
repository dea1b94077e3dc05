package scenarios

import (
	"fmt"
	"net/url"
	"strconv"
)

// A server group with an upstream is a front for a real backend: its
// answers, and the time they take, are the backend's. What would size or
// time a redirlab server's own answers has no effect on a front, and the
// simulator has no backend to ask.

// frontFields are a server group's fields that a front does not use.
var frontFields = []string{"service", "object_service", "page_bytes", "object_bytes"}

// validateUpstream checks a front's group: its upstream URL, and that
// nothing a front ignores is set. Its service distributions become const
// 0 placeholders: the plan needs samplers, and a front never draws.
func (g *ServerGroup) validateUpstream(r *reader, path string) error {
	up := joinPath(path, "upstream")
	u, err := url.Parse(g.Upstream)
	switch {
	case g.Upstream == "":
		return r.errf(up, "must be a backend's base URL, such as http://127.0.0.1:8080")
	case err != nil:
		return r.errf(up, "not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return r.errf(up, "%q: the scheme must be http or https", g.Upstream)
	case u.User != nil:
		return r.errf(up, "%q: must not carry a user or password: a front passes the browser's own headers", g.Upstream)
	case u.Host == "" || u.Opaque != "" || u.Hostname() == "":
		return r.errf(up, "%q: must be scheme://host[:port], optionally with a path", g.Upstream)
	case u.Port() != "" && !validPort(u.Port()):
		return r.errf(up, "%q: port %s is not one a backend can listen on (1 to 65535)", g.Upstream, u.Port())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return r.errf(up, "%q: must not have a query or fragment", g.Upstream)
	}
	for _, f := range frontFields {
		if r.has(joinPath(path, f)) {
			return r.errf(joinPath(path, f), "has no effect: servers[].upstream makes this group a front, whose answers and their times are the backend's; remove %s (redirlab fit measures the service from a run)", f)
		}
	}
	g.Service = Service{Dist: "const"}
	g.ObjectService = Service{Dist: "const"}
	return nil
}

// HasUpstream reports whether any server group is a front for a real
// backend.
func (s *Scenario) HasUpstream() bool {
	for i := range s.Servers {
		if s.Servers[i].Upstream != "" {
			return true
		}
	}
	return false
}

// checkFrontFault refuses a fault on a front that redirlab cannot apply:
// it neither slows nor crashes someone else's backend.
func checkFrontFault(r *reader, path string, f *Fault, in Instance) error {
	if in.Group.Upstream == "" {
		return nil
	}
	switch f.Action {
	case "slowdown", "crash", "restart":
		return r.errf(path, "%s is a front for %s (servers[].upstream): redirlab cannot slow down, crash or restart a real backend", in.Name, in.Group.Upstream)
	}
	return nil
}

// checkFrontPolicy refuses the predicted estimator with fronts: it
// multiplies by the configured mean service time, and a front has none.
func (s *Scenario) checkFrontPolicy(r *reader) error {
	if s.Policy.Estimator != "predicted" {
		return nil
	}
	for i := range s.Servers {
		if s.Servers[i].Upstream != "" {
			return r.errf("policy.estimator", "predicted needs each server's mean service time, and servers[%d] (%s) is a front whose service is its backend's; use hol or ewma", i, s.Servers[i].Name)
		}
	}
	return nil
}

// CheckUpstream refuses to simulate a scenario with fronts: the
// simulator has no backend. A run through the fronts measures one, and
// redirlab fit turns its results into a scenario to simulate.
func CheckUpstream(s *Scenario, mode Mode) error {
	if mode != Sim {
		return nil
	}
	for i := range s.Servers {
		if s.Servers[i].Upstream == "" {
			continue
		}
		field := fmt.Sprintf("servers[%d].upstream", i)
		line := 0
		if s.src != nil {
			line = s.src.lines[field]
		}
		return &Error{File: s.File, Line: line, Field: field,
			Msg: fmt.Sprintf("%s is a front for a real backend (%s), which the simulator cannot run: run the scenario (redirlab run), then fit a simulatable one from its results with redirlab fit DIR --out fitted.yaml", s.Servers[i].Name, s.Servers[i].Upstream)}
	}
	return nil
}

// validPort reports whether p is a TCP port number from 1 to 65535.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}
