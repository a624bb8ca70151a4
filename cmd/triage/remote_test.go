package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/remote/sshtest"
	"github.com/triage-dev/triage/reports"
)

// runMain runs triage in-process with buffers for its streams.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestRunOverSSH runs a playbook on two hosts: one reachable, one not.
// The report has both, in order, and the exit code is the worst status.
func TestRunOverSSH(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := t.TempDir()
	key, keyPEM := sshtest.NewUserKey(t)
	keyPath := filepath.Join(dir, "id")
	os.WriteFile(keyPath, keyPEM, 0o600)
	srv := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	knownHosts := filepath.Join(dir, "known_hosts")
	srv.WriteKnownHosts(t, knownHosts)
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("Host *\n  UserKnownHostsFile %s\n  IdentityFile %s\n", knownHosts, keyPath)), 0o600)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()

	marker := filepath.Join(dir, "marker")
	os.WriteFile(marker, []byte("x"), 0o644)
	pb := filepath.Join(dir, "pb.yaml")
	os.WriteFile(pb, []byte(fmt.Sprintf(`checks:
  - id: marker
    title: Marker on ${host.hostname}
    file: {path: %s}
  - id: echo
    command: {argv: [echo, "$(id)"], stdout_contains: "$(id)"}
`, marker)), 0o644)

	code, stdout, stderr := runMain(t, "run", pb, "-F", cfg, "-o", "json",
		"-H", sshtest.DefaultUser+"@"+srv.Addr+",nobody@"+dead)
	if code != exitError {
		t.Errorf("exit %d, want %d (one host unreachable)\nstderr: %s", code, exitError, stderr)
	}
	rep, err := reports.Read(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(rep.Hosts) != 2 {
		t.Fatalf("%d hosts in the report, want 2", len(rep.Hosts))
	}
	ok, down := rep.Hosts[0], rep.Hosts[1]
	if ok.Target != sshtest.DefaultUser+"@"+srv.Addr || ok.Status != "pass" || len(ok.Results) != 2 {
		t.Errorf("reachable host: %+v", ok)
	}
	host, _ := os.Hostname()
	if ok.Results[0].Title != "Marker on "+host {
		t.Errorf("title = %q", ok.Results[0].Title)
	}
	if down.Status != "error" || !strings.Contains(down.Error, "connection refused") || down.Hint == "" {
		t.Errorf("unreachable host: %+v", down)
	}
	// The playbook's "$(id)" reached the remote echo as text.
	for _, cmd := range srv.ExecCommands() {
		if strings.Contains(cmd, "echo") && !strings.Contains(cmd, `'$(id)'`) {
			t.Errorf("command line not quoted: %s", cmd)
		}
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
}

func TestRunOverSSHUsage(t *testing.T) {
	for _, args := range [][]string{
		{"run", "-H", "a;b"},
		{"run", "-H", "host:99999"},
		{"run", "-H", "host", "--host-key-policy", "yolo"},
	} {
		code, _, stderr := runMain(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
}
