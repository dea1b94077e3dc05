package redirect_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// requireNginx makes a missing nginx fail the test instead of skipping
// it (CI installs nginx and sets it).
const requireNginx = "REDIRLAB_REQUIRE_NGINX"

// nginxConf serves /page from a file, at most 4 MB/s per answer: an
// 80 KB page takes about 8 ms, a real answer time the fronts queue for.
// Everything nginx writes stays in its prefix directory.
const nginxConf = `user root;
worker_processes 1;
daemon off;
master_process on;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen %[2]s;
    location = /page { alias %[1]s/page.html; default_type text/html; limit_rate 4m; sendfile off; }
  }
}
`

// startNginx starts Debian's nginx on a free 127.0.0.1 port with its own
// configuration in a temporary directory, stopped when the test ends.
func startNginx(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			bin, err = "/usr/sbin/nginx", nil
		}
	}
	if err != nil {
		if os.Getenv(requireNginx) != "" {
			t.Fatalf("nginx is required (%s is set) and not installed: apt-get install nginx-light", requireNginx)
		}
		t.Skip("nginx is not installed (apt-get install nginx-light)")
	}
	dir := t.TempDir()
	page := make([]byte, 60000)
	rand.Read(page)
	if err := os.WriteFile(filepath.Join(dir, "page.html"), []byte(base64.StdEncoding.EncodeToString(page)), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		// SIGQUIT: a graceful stop of the master and its worker.
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s", err, log)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not listen within 10s")
		}
	}
}

// TestNginxBehindFronts is TestCPUBackendBehindFronts with nginx as the
// backend.
func TestNginxBehindFronts(t *testing.T) {
	if testing.Short() {
		t.Skip("a real run through fronts")
	}
	backend := startNginx(t)
	if why := checkRedirectsMoveLoad(t, runFronts(t, fmt.Sprintf(frontsScenario, "3s", backend, backend, "110/s"))); why != "" {
		t.Error(why)
	}
}
