package syscheck

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestRebootLinux(t *testing.T) {
	ctx := context.Background()
	// Debian with update-notifier: a kernel and libc update asked for a
	// restart; the .pkgs file lists the kernel twice, as it does.
	deb := newFake()
	deb.files["/var/run/reboot-required"] = "*** System restart required ***\n"
	deb.files["/var/run/reboot-required.pkgs"] = "linux-image-6.1.0-18-amd64\nlibc6\nlinux-image-6.1.0-18-amd64\n"
	deb.stats["/var/lib/dpkg/status"] = diag.FileInfo{}
	r := (&Reboot{}).Run(ctx, deb)
	checkResult(t, r, diag.Warn)
	if !strings.Contains(r.Message, "updates of linux-image-6.1.0-18-amd64, libc6 asked for a restart") || r.Observed["pending"] != true {
		t.Errorf("message %q, observed %v", r.Message, r.Observed)
	}

	// The same machine after the restart.
	delete(deb.files, "/var/run/reboot-required")
	deb.stats["/lib/modules"] = diag.FileInfo{}
	deb.stats["/lib/modules/6.1.0-18-amd64"] = diag.FileInfo{}
	r = (&Reboot{}).Run(ctx, deb)
	checkResult(t, r, diag.Pass)
	if !strings.Contains(r.Message, "/var/run/reboot-required is absent; the running kernel is still installed") {
		t.Errorf("message %q", r.Message)
	}

	// Arch: the update replaced the running kernel and removed its modules.
	arch := newFake()
	arch.facts.Kernel, arch.facts.Distro = "6.7.4-arch1-1", "arch"
	arch.stats["/lib/modules"] = diag.FileInfo{}
	r = (&Reboot{}).Run(ctx, arch)
	checkResult(t, r, diag.Warn)
	if !strings.Contains(r.Message, "the running kernel 6.7.4-arch1-1 has been replaced") {
		t.Errorf("message %q", r.Message)
	}

	// Fedora with dnf-utils: needs-restarting -r exits 1.
	fed := newFake()
	fed.cmds["needs-restarting -r"] = diag.CommandResult{ExitCode: 1, Stdout: []byte("Core libraries or services have been updated since boot-up:\n  * kernel\n  * systemd\n\nReboot is required to fully utilize these updates.\nMore information: https://access.redhat.com/solutions/27943\n")}
	checkResult(t, (&Reboot{}).Run(ctx, fed), diag.Warn)
	fed.cmds["needs-restarting -r"] = diag.CommandResult{Stdout: []byte("No core libraries or services have been updated since boot-up.\nReboot should not be necessary.\n")}
	checkResult(t, (&Reboot{}).Run(ctx, fed), diag.Pass)

	// A container: no dpkg, no modules, no needs-restarting: no way to know.
	checkResult(t, (&Reboot{}).Run(ctx, newFake()), diag.Skip)
}

func TestRebootElsewhere(t *testing.T) {
	ctx := context.Background()
	for _, os := range []string{"darwin", "windows", "freebsd"} {
		ft := newFake()
		ft.facts = diag.Facts{OS: os}
		// Windows over anything but this machine, macOS and the rest:
		// nothing triage can read.
		checkResult(t, (&Reboot{}).Run(ctx, ft), diag.Skip)
	}
}

func TestWindowsRebootReasons(t *testing.T) {
	// PendingFileRenameOperations as reg query shows it (REG_MULTI_SZ,
	// \0-separated pairs): a driver replaced, and a temporary file to
	// delete, whose destination is empty.
	renames := []string{
		`\??\C:\Windows\System32\DriverStore\Temp\{3c1f}\nvlddmkm.sys`, `!\??\C:\Windows\System32\drivers\nvlddmkm.sys`,
		`\??\C:\Users\alice\AppData\Local\Temp\~DF1A2B.tmp`, ``,
	}
	got := windowsRebootReasons(true, true, renames)
	want := []string{
		"Windows Update installed updates that need a restart",
		"Windows components were updated and need a restart",
		"2 files are to be replaced at the next restart",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := windowsRebootReasons(false, false, nil); len(got) != 0 {
		t.Errorf("nothing pending gave %q", got)
	}
	r := judgeReboot(windowsRebootReasons(false, true, nil), "")
	checkResult(t, r, diag.Warn)
}
