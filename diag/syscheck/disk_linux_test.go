package syscheck

import (
	"context"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/triage-dev/triage/diag"
)

// within1 reports whether got is within 1% of want; the filesystem is in
// use while the test runs, so its figures move between two readings.
func within1(got, want uint64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(float64(got)-float64(want)) <= 0.01*float64(want)
}

func TestDiskRootMatchesStatfs(t *testing.T) {
	r := newDisk(nil).Run(context.Background(), diag.NewLocal())
	if r.Status == diag.Error || r.Status == diag.Skip {
		t.Fatalf("disk / on this machine: %s: %s", r.Status, r.Message)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		t.Fatal(err)
	}
	bs := uint64(st.Bsize)
	total, avail := uint64(st.Blocks)*bs, uint64(st.Bavail)*bs
	used := total - uint64(st.Bfree)*bs
	for name, c := range map[string]struct{ got, want uint64 }{
		"total_bytes": {r.Observed["total_bytes"].(uint64), total},
		"free_bytes":  {r.Observed["free_bytes"].(uint64), avail},
		"used_bytes":  {r.Observed["used_bytes"].(uint64), used},
	} {
		if !within1(c.got, c.want) {
			t.Errorf("%s = %d, statfs says %d", name, c.got, c.want)
		}
	}
}

func TestDiskRootMatchesDf(t *testing.T) {
	if _, err := exec.LookPath("df"); err != nil {
		t.Skip("df is not installed")
	}
	out, err := exec.Command("df", "-B1", "-P", "/").Output()
	if err != nil {
		t.Fatalf("df: %v", err)
	}
	// Filesystem 1-blocks Used Available Capacity Mounted-on
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 6 {
		t.Fatalf("unexpected df output %q", out)
	}
	num := func(s string) uint64 {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("df field %q: %v", s, err)
		}
		return v
	}
	dfTotal, dfUsed, dfAvail := num(f[1]), num(f[2]), num(f[3])
	dfPct, _ := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)

	r := newDisk(nil).Run(context.Background(), diag.NewLocal())
	if got := r.Observed["total_bytes"].(uint64); !within1(got, dfTotal) {
		t.Errorf("total_bytes = %d, df says %d", got, dfTotal)
	}
	if got := r.Observed["used_bytes"].(uint64); !within1(got, dfUsed) {
		t.Errorf("used_bytes = %d, df says %d", got, dfUsed)
	}
	if got := r.Observed["free_bytes"].(uint64); !within1(got, dfAvail) {
		t.Errorf("free_bytes = %d, df says Available %d", got, dfAvail)
	}
	// df rounds Use% up to a whole percent.
	if got := r.Observed["used_percent"].(float64); got > dfPct || got < dfPct-1.01 {
		t.Errorf("used_percent = %v, df says %v%%", got, dfPct)
	}
}

func TestDiskAllOnThisMachine(t *testing.T) {
	r := newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), diag.NewLocal())
	if r.Status == diag.Error || r.Status == diag.Skip {
		t.Fatalf("disk all on this machine: %s: %s (hint %s)", r.Status, r.Message, r.Hint)
	}
	mounts := r.Observed["mounts"].([]map[string]any)
	found := false
	for _, m := range mounts {
		switch m["fstype"] {
		case "proc", "sysfs", "tmpfs", "devtmpfs", "cgroup", "cgroup2", "devpts":
			t.Errorf("pseudo filesystem %v at %v was measured", m["fstype"], m["path"])
		}
		found = found || m["path"] == "/"
	}
	if !found {
		t.Errorf("/ is not among the measured filesystems: %v", mounts)
	}
}
