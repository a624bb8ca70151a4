//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRunReportToFullDisk: triage run --report onto a disk that is full
// exits 3 and says why; no partial report and no temporary file is left.
func TestRunReportToFullDisk(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	full := t.TempDir()
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(full, 0); err != nil {
			t.Errorf("unmount %s: %v", full, err)
		}
	})
	pb := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(pb, []byte(`checks:
  - id: big
    title: Prints a lot
    command: {argv: [sh, -c, "yes evidence | head -c 300000"]}
`), 0o644)
	report := filepath.Join(full, "r.json")
	code, _, errOut := runMain(t, "run", pb, "--report", report)
	if code != exitError {
		t.Errorf("exit %d, want %d\n%s", code, exitError, errOut)
	}
	if !strings.Contains(errOut, "cannot write the report to "+report) || !strings.Contains(errOut, "no space left on device") {
		t.Errorf("stderr does not say the disk is full:\n%s", errOut)
	}
	if left, _ := os.ReadDir(full); len(left) > 0 {
		t.Errorf("left on the full disk: %v", left)
	}
}
