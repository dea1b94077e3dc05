package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/redirect"
	"github.com/redirlab/redirlab/runner"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

// The parts of a real run, alone, for runs across several hosts: one
// manager, one `serve` per server, and `loadgen` against their URLs. All
// read the same scenario file.

func managerCommand() *cli.Command {
	return &cli.Command{
		Name:      "manager",
		Usage:     "run the scenario's central manager alone (multi-host runs)",
		ArgsUsage: "SCENARIO",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:7070", Usage: "address to listen on"},
			&cli.StringSliceFlag{Name: "allow", Usage: "network servers may register from, such as 10.0.0.0/24 (repeat; default loopback)"},
			&cli.BoolFlag{Name: "insecure", Usage: "listen beyond loopback without a token (anyone who reaches the manager steers the browsers)"},
			&cli.DurationFlag{Name: "start-lead", Value: 2 * time.Second, Usage: "time from the last load generator's check-in (loadgen --manager) to the start it gives them all"},
			setFlag,
		}, append(tokenFlags(), timeoutFlags(10*time.Second)...)...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("manager takes one SCENARIO")
			}
			sc, err := loadScenario(c)
			if err != nil {
				return err
			}
			noteFaults(c, sc, "manager")
			if lead := c.Duration("start-lead"); lead <= 0 || lead > maxStartAhead {
				return usagef("--start-lead %v: must be positive and at most %v (a longer lead is a typo)", lead, maxStartAhead)
			}
			cfg := server.ManagerConfig{Scenario: sc, Listen: c.String("listen"), Insecure: c.Bool("insecure"), StartLead: c.Duration("start-lead")}
			if cfg.Token, err = readToken(c); err != nil {
				return err
			}
			if cfg.Allow, err = server.ParseAllow(c.StringSlice("allow")); err != nil {
				return usagef("%v", err)
			}
			if err := checkListen(cfg.Listen); err != nil {
				return err
			}
			cfg.Timeouts = timeouts(c)
			return badInputIf(server.RunManager(c.Context, cfg, func(addr string) {
				fmt.Fprintf(c.App.ErrWriter, "manager of %s listening on %s\n", sc.Name, addr)
			}))
		},
	}
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "run one server of the scenario alone (multi-host runs)",
		ArgsUsage: "SCENARIO",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "server", Required: true, Usage: "instance name in the scenario, e.g. web-2"},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "address to listen on"},
			&cli.StringFlag{Name: "manager", Required: true, Usage: "manager URL, e.g. http://10.0.0.1:7070"},
			&cli.StringFlag{Name: "upstream", Usage: "run the server as a front for this backend (base URL, e.g. http://127.0.0.1:8081), in place of its group's upstream"},
			setFlag,
		}, append(tokenFlags(), timeoutFlags(time.Minute)...)...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("serve takes one SCENARIO")
			}
			sc, err := loadScenario(c)
			if err != nil {
				return err
			}
			noteFaults(c, sc, "serve")
			if _, ok := sc.Lookup(c.String("server")); !ok {
				return usagef("--server %q: %s has servers %v", c.String("server"), sc.File, instanceNames(sc))
			}
			if err := checkListen(c.String("listen")); err != nil {
				return err
			}
			cfg := server.Config{Scenario: sc, Listen: c.String("listen"), ManagerURL: c.String("manager"), Timeouts: timeouts(c)}
			if cfg.Token, err = readToken(c); err != nil {
				return err
			}
			name := c.String("server")
			warn := func(msg string) { fmt.Fprintf(c.App.ErrWriter, "redirlab: %s: %s\n", name, msg) }
			i, _ := sc.Lookup(name)
			if up := c.String("upstream"); up != "" || sc.Instances()[i].Group.Upstream != "" {
				return serveFront(c, cfg, i, up, warn)
			}
			return badInputIf(server.Serve(c.Context, cfg, name, func(addr string) {
				fmt.Fprintf(c.App.ErrWriter, "%s of %s listening on %s, reporting to %s\n", name, sc.Name, addr, cfg.ManagerURL)
			}, warn))
		},
	}
}

func loadgenCommand() *cli.Command {
	return &cli.Command{
		Name:      "loadgen",
		Usage:     "drive servers already running with the scenario's workload; write a results directory",
		ArgsUsage: "SCENARIO",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "target", Aliases: []string{"t"}, Required: true,
				Usage: "base URL of each server, in the scenario's server order (repeat)"},
			outFlag, forceFlag, setFlag, variantFlag, noRecordsFlag, quietFlag,
			shardFlag("the i-th of n disjoint shares of the arrivals (several generators, merged later with redirlab merge)"),
		}, append(append(startFlags(), tokenFlags()...), budgetFlags()...)...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("loadgen takes one SCENARIO")
			}
			shard, err := parseShard(c)
			if err != nil {
				return err
			}
			sc, err := loadScenario(c)
			if err != nil {
				return err
			}
			targets := c.StringSlice("target")
			if names := instanceNames(sc); len(targets) != len(names) {
				return usagef("%d --target URLs for %d servers: give one per server, in order %v", len(targets), len(names), names)
			}
			for i, t := range targets {
				n, err := server.NormalizeBaseURL(t)
				if err != nil {
					return usagef("--target %q: %v", t, err)
				}
				targets[i] = n
			}
			// Last of the checks: it asks the manager.
			start, err := startOf(c, shard, time.Now())
			if err != nil {
				return err
			}
			label := "loadgen"
			if shard.Sharded() {
				label = fmt.Sprintf("loadgen-%d-of-%d", shard.Index, shard.Count)
			}
			return runScenarioWith(c, sc, runner.Real, targets, label, func(o *runner.Options) { o.Shard, o.Start = shard, start })
		},
	}
}

func shardFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "shard", Usage: "i/n: " + usage}
}

// parseShard reads --shard i/n; absent, no sharding.
func parseShard(c *cli.Context) (loadgen.Shard, error) {
	if !c.IsSet("shard") {
		return loadgen.Shard{}, nil
	}
	s, err := loadgen.ParseShard(c.String("shard"))
	if err != nil {
		return s, usagef("--shard %v", err)
	}
	return s, nil
}

// instanceNames lists the scenario's servers in index order.
func instanceNames(sc *scenarios.Scenario) []string {
	var names []string
	for _, in := range sc.Instances() {
		names = append(names, in.Name)
	}
	return names
}

// serveFront runs server i as a front for upstream ("" for its group's).
// Alone it writes no results, so it keeps no backend records.
func serveFront(c *cli.Context, cfg server.Config, i int, upstream string, warn func(string)) error {
	p, err := plan.Resolve(cfg.Scenario)
	if err != nil {
		return usageError{err}
	}
	cfg.Index = i
	f, err := redirect.NewFront(cfg, upstream)
	if err != nil {
		return badInputIf(err)
	}
	f.KeepRecords(false)
	name := p.Servers[i].Name
	if upstream == "" {
		upstream = p.Servers[i].Upstream
	}
	return badInputIf(server.ServeFront(c.Context, f, cfg.ManagerURL, p.Manager.RealInterval, func(addr string) {
		fmt.Fprintf(c.App.ErrWriter, "%s of %s listening on %s, a front for %s, reporting to %s\n", name, cfg.Scenario.Name, addr, upstream, cfg.ManagerURL)
	}, warn))
}

// noteFaults says, once at start, that a part run alone applies none of
// the scenario's faults (loadgen refuses such a scenario; a server or
// manager has no results to mark).
func noteFaults(c *cli.Context, sc *scenarios.Scenario, part string) {
	if n := len(sc.Faults); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "redirlab: note: %s has %d fault(s), which %s run alone does not apply (only redirlab run and sim do)\n", sc.File, n, part)
	}
}
