package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadgenManagerUnreachable: a shard whose manager does not answer
// fails (exit 4) before making its --out, so that no directory looking
// like a shard's results is left to merge.
func TestLoadgenManagerUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	file := writeFile(t, "t.yaml", tiny)
	out := filepath.Join(t.TempDir(), "sh1")
	code, _, stderr := runCLI(t, "loadgen", file, "--quiet", "--shard", "1/2", "-t", "http://127.0.0.1:1", "-t", "http://127.0.0.1:2",
		"--manager", "http://"+addr, "--out", out)
	if code != exitFailed || !strings.Contains(stderr, "does not answer") {
		t.Errorf("exit %d, stderr %q; want 4 saying the manager does not answer", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out %s: %v; want it never made", out, err)
	}
}
