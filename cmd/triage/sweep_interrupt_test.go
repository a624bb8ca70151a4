//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/remote/sshtest"
	"github.com/triage-dev/triage/reports"
)

// TestSweepInterrupted stops a sweep with SIGINT and with SIGTERM while one
// host hangs and another has not started: triage exits 3 and --out and
// --history hold a complete report (the finished host as it was, the rest
// cancelled), with no temporary file left behind. triage runs as its own
// process (the test binary, which testscript.Main turns into triage when
// it is called by that name), so the signal is a real one.
func TestSweepInterrupted(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { sweepInterrupted(t, sig) })
	}
}

func sweepInterrupted(t *testing.T, sig syscall.Signal) {
	t.Setenv("SSH_AUTH_SOCK", "")
	f := newFleet(t)
	marker := filepath.Join(f.dir, "hanging")
	hang := func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		if !strings.Contains(cmd, "triage-hang") {
			return sshtest.ShellExec(ctx, cmd, stdin, stdout, stderr)
		}
		os.WriteFile(marker, nil, 0o644)
		<-ctx.Done()
		return -9
	}
	// With --parallel 1 the hosts go in order: "done" has finished when
	// "hangs" starts its command, and "waiting" has not begun.
	for _, h := range []struct {
		name string
		exec sshtest.ExecFunc
	}{{"done", nil}, {"hangs", hang}, {"waiting", nil}} {
		s := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{f.key.PublicKey()}, Exec: h.exec})
		s.WriteKnownHosts(t, f.knownHosts)
		f.add(h.name, sshtest.DefaultUser, s.Addr)
	}
	f.write(t)
	pb := filepath.Join(f.dir, "hang.yaml")
	os.WriteFile(pb, []byte(`name: hang
checks:
  - id: root
    title: Root exists
    file: {path: /}
  - id: hang
    title: Hangs where it can
    command: {argv: [echo, triage-hang]}
    timeout: 10m
`), 0o644)
	out, history := filepath.Join(f.dir, "out"), filepath.Join(f.dir, "history")

	bin := filepath.Join(t.TempDir(), "triage")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "sweep", "-i", f.inventory, pb, "-F", f.sshConfig, "--parallel", "1",
		"--host-timeout", "10m", "--out", out, "--history", history)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		// Only if the test failed before triage ended.
		cmd.Process.Kill()
		<-exited
	})

	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sweep never reached the hanging command\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		err = waitErr
	case <-time.After(time.Minute):
		t.Fatalf("triage did not end after %v\nstderr:\n%s", sig, &stderr)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("exit: %v, want %d\nstdout:\n%s\nstderr:\n%s", err, exitError, &stdout, &stderr)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say the sweep was interrupted:\n%s", &stderr)
	}

	kept, _ := filepath.Glob(filepath.Join(history, "sweep-*.json"))
	for _, path := range append([]string{filepath.Join(out, "sweep.json")}, kept...) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := reports.Read(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		checkInterruptedSweep(t, path, rep)
	}
	if len(kept) != 1 {
		t.Errorf("--history holds %d reports, want 1", len(kept))
	}
	for _, dir := range []string{out, history} {
		left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
		if len(left) > 0 {
			t.Errorf("temporary files left behind: %v", left)
		}
	}
	for _, name := range sweepOutputs {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}
}

func checkInterruptedSweep(t *testing.T, path string, rep *reports.Report) {
	t.Helper()
	hosts := map[string]reports.Host{}
	for _, h := range rep.Hosts {
		hosts[h.Target] = h
	}
	if len(hosts) != 3 {
		t.Fatalf("%s: %d hosts, want 3: %+v", path, len(hosts), rep.Hosts)
	}
	if h := hosts["done"]; h.Status != "pass" || len(h.Results) != 2 {
		t.Errorf("%s: the finished host: %s with %d results (%s)", path, h.Status, len(h.Results), h.Error)
	}
	h := hosts["hangs"]
	var hung string
	for _, r := range h.Results {
		if r.ID == "hang" {
			hung = fmt.Sprintf("%s %s", r.Status, r.Message)
		}
	}
	if hung != "error cancelled" {
		t.Errorf("%s: the check under way when the signal came: %q, want error cancelled", path, hung)
	}
	if h := hosts["waiting"]; h.Status != "error" || h.ErrorKind != "cancelled" {
		t.Errorf("%s: the host not begun: %s %q (%s)", path, h.Status, h.ErrorKind, h.Error)
	}
}
