package syscheck

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// nativeTarget is a machine that answers memory, uptime and home-folder
// questions from its own interfaces, as the local target does on macOS and
// Windows, with the figures of a recorded machine.
type nativeTarget struct {
	*fakeTarget
	mem    diag.MemoryStats
	memErr error
	up     time.Duration
	upErr  error
	home   string
}

func (n *nativeTarget) MemoryStats(context.Context) (diag.MemoryStats, error) { return n.mem, n.memErr }
func (n *nativeTarget) Uptime(context.Context) (time.Duration, error)         { return n.up, n.upErr }
func (n *nativeTarget) HomeDir(context.Context) (string, error)               { return n.home, nil }

func newNative(os string) *nativeTarget {
	ft := newFake()
	ft.facts = diag.Facts{OS: os, Hostname: "laptop"}
	return &nativeTarget{fakeTarget: ft}
}

func TestMemoryNative(t *testing.T) {
	ctx := context.Background()
	const gib = 1 << 30
	mac := newNative("darwin")
	// A 16 GiB Mac as sysctl and vm_stat describe it, with 6.3 GiB
	// available and normal pressure.
	mac.mem = diag.MemoryStats{Total: 16 * gib, Available: 6732955648, SwapTotal: 2 * gib, SwapUsed: 768 << 20, Pressure: "normal", Source: "sysctl hw.memsize, vm.swapusage and vm_stat"}
	r := newMemory(nil).Run(ctx, mac)
	checkResult(t, r, diag.Pass)
	if !strings.Contains(r.Message, "6.3GiB of 16GiB memory available (39.2%), swap 37.5% used of 2GiB") || r.Observed["pressure"] != "normal" {
		t.Errorf("message %q, observed %v", r.Message, r.Observed)
	}

	// Plenty available by the numbers, but macOS says pressure is
	// critical: the system's own judgement counts.
	mac.mem.Pressure = "critical"
	r = newMemory(nil).Run(ctx, mac)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "critical memory pressure") || !strings.Contains(r.Hint, "Activity Monitor") {
		t.Errorf("critical pressure: %q; hint %q", r.Message, r.Hint)
	}
	mac.mem.Pressure = "warn"
	checkResult(t, newMemory(nil).Run(ctx, mac), diag.Warn)

	// Windows, 8 GiB with 300 MiB left (GlobalMemoryStatusEx).
	win := newNative("windows")
	win.mem = diag.MemoryStats{Total: 8 * gib, Available: 300 << 20, SwapTotal: 4 * gib, SwapUsed: 3 * gib, Source: "GlobalMemoryStatusEx"}
	r = newMemory(nil).Run(ctx, win)
	checkResult(t, r, diag.Fail)
	if strings.Contains(r.Hint, "/proc") || strings.Contains(r.Hint, "ps aux") {
		t.Errorf("Linux tools in a Windows hint: %q", r.Hint)
	}

	// Linux: the local target has no native figures, so /proc/meminfo is read.
	lin := newNative("linux")
	lin.memErr = diag.ErrUnsupported
	lin.withFile(t, "/proc/meminfo", "meminfo/server-low.txt")
	checkResult(t, newMemory(nil).Run(ctx, lin), diag.Fail)

	broken := newNative("darwin")
	broken.memErr = errors.New("sysctl hw.memsize: operation not permitted")
	checkResult(t, newMemory(nil).Run(ctx, broken), diag.Error)
	broken.memErr = nil
	checkResult(t, newMemory(nil).Run(ctx, broken), diag.Error) // a total of 0
}

func TestUptimeNative(t *testing.T) {
	ctx := context.Background()
	win := newNative("windows")
	win.up = 23 * 24 * time.Hour
	r := (&Uptime{WarnAbove: diag.Duration(14 * 24 * time.Hour)}).Run(ctx, win)
	checkResult(t, r, diag.Warn)
	if !strings.Contains(r.Message, "up 23 days") || strings.Contains(r.Hint, "needrestart") || !strings.Contains(r.Hint, "restart") {
		t.Errorf("message %q, hint %q", r.Message, r.Hint)
	}
	win.up = 2 * time.Hour
	checkResult(t, (&Uptime{WarnAbove: diag.Duration(14 * 24 * time.Hour)}).Run(ctx, win), diag.Pass)

	lin := newNative("linux")
	lin.upErr = diag.ErrUnsupported
	lin.withFile(t, "/proc/uptime", "uptime/45-days.txt")
	r = (&Uptime{WarnAbove: diag.Duration(30 * 24 * time.Hour)}).Run(ctx, lin)
	checkResult(t, r, diag.Warn)
	if !strings.Contains(r.Hint, "reboot-required") {
		t.Errorf("Linux hint %q", r.Hint)
	}

	// The os kind reports the uptime of a Mac too.
	mac := newNative("darwin")
	mac.up = 90 * time.Minute
	r = (&OS{}).Run(ctx, mac)
	checkResult(t, r, diag.Pass)
	if r.Observed["uptime_seconds"] != int64(5400) || !strings.Contains(r.Message, "up 1 hour 30 minutes") {
		t.Errorf("os on a Mac: %q %v", r.Message, r.Observed)
	}
}

func TestDiskHome(t *testing.T) {
	ctx := context.Background()
	mac := newNative("darwin")
	mac.home = "/Users/alice"
	mac.disks["/Users/alice"] = usage(500, 96)
	mac.disks["/Users/alice/Library"] = usage(500, 50)
	r := newDisk(func(d *Disk) { d.Path = "~" }).Run(ctx, mac)
	checkResult(t, r, diag.Fail)
	if r.Observed["path"] != "/Users/alice" {
		t.Errorf("path %v, want the home folder", r.Observed["path"])
	}
	checkResult(t, newDisk(func(d *Disk) { d.Path = "~/Library" }).Run(ctx, mac), diag.Pass)

	// A target that cannot say where home is cannot check it.
	r = newDisk(func(d *Disk) { d.Path = "~" }).Run(ctx, newFake())
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Hint, "full path") {
		t.Errorf("hint %q", r.Hint)
	}
}
