package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/runner"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

// The load generator's time zero: a wall-clock time given, or one the
// manager gives every shard of a run once all have checked in.

func startFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "start-at", Usage: "RFC 3339 time to start the load at, such as 2026-12-01T21:00:00Z (every shard given the same)"},
		&cli.StringFlag{Name: "manager", Usage: "manager URL to start from: every shard checks in and the manager releases them together, e.g. http://10.0.0.1:7070"},
		&cli.DurationFlag{Name: "start-timeout", Value: time.Minute, Usage: "with --manager: how long to wait for every shard to check in"},
	}
}

// maxStartAhead bounds --start-at and --start-lead: a start further
// ahead is a typo.
const maxStartAhead = 24 * time.Hour

// startOf reads --start-at or --manager (with --token-file) into the
// function that gives the run its time zero; nil without either.
func startOf(c *cli.Context, shard loadgen.Shard, now time.Time) (runner.StartFunc, error) {
	at, mgr := c.String("start-at"), c.String("manager")
	switch {
	case at != "" && mgr != "":
		return nil, usagef("--start-at and --manager both set a start: give one")
	case at != "":
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, usagef("--start-at %q: want an RFC 3339 time such as 2026-12-01T21:00:00Z: %v", at, err)
		}
		if d := t.Sub(now); d < 0 {
			return nil, usagef("--start-at %s: %v in the past (this host's clock reads %s)", at, -d.Round(time.Millisecond), now.UTC().Format(time.RFC3339Nano))
		} else if d > maxStartAhead {
			return nil, usagef("--start-at %s: %v ahead, more than %v", at, d.Round(time.Second), maxStartAhead)
		}
		return func(context.Context, *scenarios.Scenario) (time.Time, results.Start, error) {
			return t, results.Start{At: t.Format(time.RFC3339Nano), By: "start-at"}, nil
		}, nil
	case mgr != "":
		base, err := server.NormalizeBaseURL(mgr)
		if err != nil {
			return nil, usagef("--manager %q: %v", mgr, err)
		}
		if c.Duration("start-timeout") <= 0 {
			return nil, usagef("--start-timeout %v: must be positive", c.Duration("start-timeout"))
		}
		token, err := readToken(c)
		if err != nil {
			return nil, err
		}
		if !shard.Sharded() {
			shard = loadgen.Shard{Index: 1, Count: 1}
		}
		// Before --out is made: a shard that cannot check in leaves
		// no directory that looks like a shard's results.
		if err := (server.StartClient{ManagerURL: base, Token: token}).Check(c.Context); err != nil {
			return nil, err
		}
		var gen [8]byte
		rand.Read(gen[:])
		return func(ctx context.Context, sc *scenarios.Scenario) (time.Time, results.Start, error) {
			run, err := runName(sc)
			if err != nil {
				return time.Time{}, results.Start{}, err
			}
			cl := server.StartClient{ManagerURL: base, Token: token, Timeout: c.Duration("start-timeout"),
				CheckIn: server.StartCheckIn{Run: run, Shard: shard.Index, Shards: shard.Count, Generator: hex.EncodeToString(gen[:])}}
			st, err := cl.Await(ctx)
			if err != nil {
				return time.Time{}, results.Start{}, err
			}
			return st.At, results.Start{At: st.At.Format(time.RFC3339Nano), By: base,
				ClockOffsetMS: float64(st.Offset.Microseconds()) / 1e3, RTTMS: float64(st.RTT.Microseconds()) / 1e3}, nil
		}, nil
	}
	return nil, nil
}

// runName names a run to the manager: its scenario, variant and seed,
// and a digest of the scenario as run, so that only shards of the same
// settings start together.
func runName(sc *scenarios.Scenario) (string, error) {
	portable, _ := sc.Portable()
	data, err := portable.YAML()
	if err != nil {
		return "", fmt.Errorf("start: scenario %s as YAML: %w", sc.Name, err)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s variant %q seed %d scenario %s", sc.Name, sc.Variant, sc.Seed, hex.EncodeToString(sum[:6])), nil
}
