package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/remote"
)

// TestHostTimeoutDuringHandshake: --host-timeout reached while a host
// that accepted TCP never speaks SSH is reported as the handshake's
// timeout, naming the host timeout; and an unreachable host's JSON has an
// empty list of results, not null.
func TestHostTimeoutDuringHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c // accepted, and never a byte
		}
	}()
	defer func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	}()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := remote.NewDialer(remote.Options{ConfigFile: cfg, Home: dir, KnownHostsFiles: []string{filepath.Join(dir, "known_hosts")}, ConnectTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	hr := &hostRunner{dialer: d, hostTimeout: 300 * time.Millisecond}
	h := hr.checkRemote(context.Background(), hostJob{Spec: "u@" + ln.Addr().String()})
	if h.ErrorKind != string(remote.ErrHandshakeTimeout) {
		t.Errorf("error_kind %q, want %q (%s)", h.ErrorKind, remote.ErrHandshakeTimeout, h.Error)
	}
	if !strings.Contains(h.Error, "host timeout (300ms) was reached during the SSH handshake") || strings.Contains(h.Error, "cancelled") {
		t.Errorf("error %q", h.Error)
	}
	if h.Hint == "" {
		t.Error("no hint")
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"results":[]`) {
		t.Errorf("an unreachable host's results are not an empty list: %s", b)
	}
}
