package syscheck

import (
	"context"
	"io/fs"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func newDisk(mod func(*Disk)) *Disk {
	k, _ := diag.LookupKind("disk")
	d := k.New().(*Disk)
	if mod != nil {
		mod(d)
	}
	return d
}

const gib = 1 << 30

// usage builds a DiskUsage with the given share used, df-style, and
// plenty of inodes.
func usage(totalGiB uint64, usedPercent float64) diag.DiskUsage {
	total := totalGiB * gib
	used := uint64(float64(total) * usedPercent / 100)
	return diag.DiskUsage{Total: total, Free: total - used, Avail: total - used, Files: 1000, FilesFree: 900}
}

func TestDiskValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Disk)
		want []string
	}{
		{"defaults", nil, nil},
		{"all alone", func(d *Disk) { d.All = true }, nil},
		{"path and all", func(d *Disk) { d.All, d.Path = true, "/var" }, []string{"all"}},
		{"path written as / with all", func(d *Disk) { d.All, d.Path = true, "/" }, []string{"all"}},
		{"warn above fail", func(d *Disk) { d.WarnUsed, d.FailUsed = 96, 90 }, []string{"warn_used"}},
		{"both", func(d *Disk) { d.WarnUsed, d.FailUsed, d.All, d.Path = 96, 90, true, "/x" }, []string{"warn_used", "all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(validate(newDisk(tc.mod))); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields in error = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDiskSinglePath(t *testing.T) {
	ft := newFake()
	ft.disks["/"] = usage(100, 50)
	ft.disks["/var"] = usage(20, 96)
	ft.disks["/full-inodes"] = diag.DiskUsage{Total: 10 * gib, Free: 9 * gib, Avail: 9 * gib, Files: 100, FilesFree: 1}
	ft.diskErrs["/denied"] = syscall.EACCES

	r := newDisk(nil).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Observed["path"] != "/" || r.Observed["used_percent"] != 50.0 {
		t.Errorf("observed = %v", r.Observed)
	}
	for _, k := range []string{"path", "total_bytes", "used_bytes", "free_bytes", "used_percent", "inodes_used_percent"} {
		if _, ok := r.Observed[k]; !ok {
			t.Errorf("observed has no %s", k)
		}
	}

	r = newDisk(func(d *Disk) { d.Path = "/var" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "/var is 96.0% full") || !strings.Contains(r.Hint, "du -xh /var") {
		t.Errorf("message %q, hint %q", r.Message, r.Hint)
	}

	r = newDisk(func(d *Disk) { d.Path = "/var"; d.WarnUsed, d.FailUsed = 90, 99 }).Run(context.Background(), ft)
	checkResult(t, r, diag.Warn)

	r = newDisk(func(d *Disk) { d.Path = "/"; d.MinFree = 60 * gib }).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "less than the 60GiB required free") {
		t.Errorf("message %q", r.Message)
	}

	r = newDisk(func(d *Disk) { d.Path = "/full-inodes" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Hint, "inodes") {
		t.Errorf("hint %q does not speak of inodes", r.Hint)
	}

	r = newDisk(func(d *Disk) { d.Path = "/nowhere" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Hint, "does not exist") {
		t.Errorf("hint %q", r.Hint)
	}
	r = newDisk(func(d *Disk) { d.Path = "/denied" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
}

// desktopTarget is the desktop of testdata/mounts with its disks filled in.
func desktopTarget(t *testing.T) *fakeTarget {
	ft := newFake().withFile(t, "/proc/self/mountinfo", "mounts/desktop.mountinfo")
	ft.disks["/"] = usage(200, 40)
	ft.disks["/boot/efi"] = usage(1, 3)
	ft.disks["/home"] = usage(500, 70)
	ft.disks["/media/alice/My Passport"] = usage(1000, 20)
	ft.disks["/mnt/backup"] = usage(2000, 10)
	ft.disks["/mnt/tab\tand\\backslash"] = usage(10, 5)
	ft.disks["/var/lib/docker/overlay2/4f1c2e/merged"] = usage(200, 40)
	return ft
}

func TestDiskAllPass(t *testing.T) {
	ft := desktopTarget(t)
	r := newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	mounts, ok := r.Observed["mounts"].([]map[string]any)
	if !ok || len(mounts) != 7 {
		t.Fatalf("observed mounts = %#v", r.Observed["mounts"])
	}
	if r.Observed["mount_count"] != 7 {
		t.Errorf("mount_count = %v", r.Observed["mount_count"])
	}
	first := mounts[0]
	for _, k := range []string{"path", "device", "fstype", "total_bytes", "used_bytes", "free_bytes", "used_percent", "inodes_used_percent", "status"} {
		if _, ok := first[k]; !ok {
			t.Errorf("mount entry has no %s: %v", k, first)
		}
	}
	if first["path"] != "/" || first["device"] != "/dev/nvme0n1p2" || first["fstype"] != "ext4" {
		t.Errorf("first mount = %v", first)
	}
	if !strings.Contains(r.Message, "7 local filesystems are within limits; fullest: /home is 70.0% full") {
		t.Errorf("message %q", r.Message)
	}
	for _, cmd := range ft.ran {
		t.Errorf("all: ran a command (%s); it must read files only", cmd)
	}
}

func TestDiskAllWorstWins(t *testing.T) {
	ft := desktopTarget(t)
	ft.disks["/home"] = usage(500, 90)   // warn
	ft.disks["/boot/efi"] = usage(1, 97) // fail
	r := newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.HasPrefix(r.Message, "2 of 7 local filesystems need attention: /boot/efi is 97.0% full") {
		t.Errorf("message does not start with the worst filesystem: %q", r.Message)
	}
	if !strings.Contains(r.Message, "/home is 90.0% full") || !strings.Contains(r.Hint, "du -xh /boot/efi") {
		t.Errorf("message %q, hint %q", r.Message, r.Hint)
	}
	statuses := map[string]string{}
	for _, m := range r.Observed["mounts"].([]map[string]any) {
		statuses[m["path"].(string)] = m["status"].(string)
	}
	if statuses["/home"] != "warn" || statuses["/boot/efi"] != "fail" || statuses["/"] != "pass" {
		t.Errorf("per-mount statuses = %v", statuses)
	}
}

func TestDiskAllUnreadableAndFailing(t *testing.T) {
	ft := desktopTarget(t)
	ft.diskErrs["/media/alice/My Passport"] = syscall.EACCES
	r := newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if !strings.Contains(r.Message, "1 not readable by this user (/media/alice/My Passport)") {
		t.Errorf("message %q", r.Message)
	}
	if got := r.Observed["unreadable"]; !reflect.DeepEqual(got, []string{"/media/alice/My Passport"}) {
		t.Errorf("unreadable = %v", got)
	}

	// An I/O error is not "not mine to read": the check could not be made.
	ft.diskErrs["/mnt/backup"] = syscall.EIO
	r = newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "could not measure /mnt/backup") {
		t.Errorf("message %q", r.Message)
	}
}

func TestDiskAllFallsBackToMounts(t *testing.T) {
	ft := desktopTarget(t)
	delete(ft.files, "/proc/self/mountinfo")
	ft.withFile(t, "/proc/mounts", "mounts/desktop.mounts")
	r := newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Observed["mount_count"] != 6 {
		t.Errorf("mount_count = %v, want 6 from /proc/mounts", r.Observed["mount_count"])
	}

	delete(ft.files, "/proc/mounts")
	r = newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
}

func TestDiskAllSkipsDummyFilesystems(t *testing.T) {
	ft := desktopTarget(t)
	ft.disks["/mnt/tab\tand\\backslash"] = diag.DiskUsage{}
	r := newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Observed["mount_count"] != 6 {
		t.Errorf("a filesystem of 0 blocks was measured: mount_count = %v", r.Observed["mount_count"])
	}
}

func TestDiskAllOtherPlatforms(t *testing.T) {
	ft := newFake()
	ft.facts.OS = "darwin"
	r := newDisk(func(d *Disk) { d.All = true }).Run(context.Background(), ft)
	checkResult(t, r, diag.Skip)
	if !strings.Contains(r.Message, "darwin") {
		t.Errorf("message %q does not name the platform", r.Message)
	}
}

func TestDiskAllCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newDisk(func(d *Disk) { d.All = true }).Run(ctx, desktopTarget(t))
	if r.Status != diag.Error {
		t.Errorf("status %s after cancel: %s", r.Status, r.Message)
	}
}

func TestDiskErrorIsNotFail(t *testing.T) {
	ft := newFake()
	ft.diskErrs["/"] = fs.ErrPermission
	r := newDisk(nil).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
}
