//go:build linux

package reports

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// mountFull mounts a 64 KiB tmpfs, too small for a large report, and
// unmounts it at the end of the test. It skips the test unless it runs as
// root (CI does).
func mountFull(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// bigReport is a report whose JSON is far over 64 KiB.
func bigReport() *Report {
	r := bundleReport()
	r.Hosts[0].Results = append(r.Hosts[0].Results, Result{ID: "big", Status: diag.Pass, Evidence: strings.Repeat("evidence line\n", 20000)})
	r.Finish(r.Finished)
	return r
}

// TestWriteToFullDisk: a report or bundle that does not fit is an error,
// the file it was to replace is left as it was, and no temporary file is
// left behind.
func TestWriteToFullDisk(t *testing.T) {
	dir := mountFull(t)
	path := filepath.Join(dir, "r.json")
	if err := WriteFile(path, bundleReport(), Options{}); err != nil {
		t.Fatalf("a small report on the small disk: %v", err)
	}
	before, _ := os.ReadFile(path)

	err := WriteFile(path, bigReport(), Options{})
	if err == nil {
		t.Fatal("a report larger than the disk was written without an error")
	}
	if !strings.Contains(err.Error(), "no space left") {
		t.Errorf("the error does not say the disk is full: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("the old report was changed by the failed write: %d bytes, was %d", len(after), len(before))
	}

	bundle := filepath.Join(dir, "b.tar.gz")
	big := bigReport()
	// Incompressible enough not to fit even gzipped.
	rnd := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 400<<10)
	for i := range noise {
		noise[i] = byte('a' + rnd.IntN(26))
	}
	big.Hosts[0].Results[len(big.Hosts[0].Results)-1].Evidence = string(noise)
	rd, _ := NewRedactor()
	rd.Redact(big)
	if err := WriteBundle(bundle, big, BundleOptions{}); err == nil {
		t.Error("a bundle larger than the disk was written without an error")
	}
	if _, err := os.Stat(bundle); err == nil {
		t.Error("a failed bundle left a file")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "r.json" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
