package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/server"
)

// The control plane's flags: the token the manager, servers and agents
// share, and the connection timeouts.

func tokenFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "token-file", Usage: "file holding the control-plane token the manager and every server share (first line)"},
	}
}

// readToken reads --token-file: its first line, which must not be empty.
func readToken(c *cli.Context) (string, error) {
	path := c.String("token-file")
	if path == "" {
		return "", nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", usagef("--token-file: %v", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > 4096 {
		return "", usagef("--token-file %s: want a regular file of at most 4 KiB", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("--token-file: %v", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	token := strings.TrimSpace(line)
	if len(token) < 16 {
		return "", usagef("--token-file %s: the token must be at least 16 characters (try: head -c 32 /dev/urandom | base64 > %s)", path, path)
	}
	return token, nil
}

func timeoutFlags(write time.Duration) []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "idle-timeout", Value: 30 * time.Second, Usage: "close a keep-alive connection idle this long"},
		&cli.DurationFlag{Name: "read-timeout", Value: 30 * time.Second, Usage: "bound reading one request (headers: 10s)"},
		&cli.DurationFlag{Name: "write-timeout", Value: write, Usage: "bound one answer, queueing and service included"},
	}
}

func timeouts(c *cli.Context) server.Timeouts {
	return server.Timeouts{Idle: c.Duration("idle-timeout"), Read: c.Duration("read-timeout"), Write: c.Duration("write-timeout")}
}

// checkListen checks a --listen address before anything binds it.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q: want host:port, such as 127.0.0.1:8080", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usagef("--listen %q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return usagef("--listen %q: %q is not an IP address", addr, host)
	}
	return nil
}

// badInputIf marks a configuration the server package refused as bad
// input (exit 2).
func badInputIf(err error) error {
	if _, ok := errors.AsType[*server.ConfigError](err); ok {
		return usageError{fmt.Errorf("%w", err)}
	}
	return err
}
