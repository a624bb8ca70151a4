package syscheck

import (
	"bufio"
	"context"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestParseMeminfo(t *testing.T) {
	for _, tc := range []struct {
		file                   string
		total, avail           uint64
		estimated              bool
		swapTotal, swapFree    uint64
		availPercent, swapPerc float64
	}{
		{"meminfo/debian12-vm.txt", 24684092 * 1024, 24267584 * 1024, false, 0, 0, 98.3, 0},
		{"meminfo/server-low.txt", 8039968 * 1024, 321540 * 1024, false, 2097148 * 1024, 209712 * 1024, 4.0, 90.0},
		// Kernels before 3.14 have no MemAvailable: free + buffers + cache.
		{"meminfo/centos6-no-memavailable.txt", 1922136 * 1024, (212536 + 80204 + 1101152) * 1024, true, 4063228 * 1024, 4063228 * 1024, 72.5, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			mi, err := parseMeminfo([]byte(readTestdata(t, tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if mi.Total != tc.total || mi.Available != tc.avail || mi.Estimated != tc.estimated ||
				mi.SwapTotal != tc.swapTotal || mi.SwapFree != tc.swapFree {
				t.Errorf("got %+v", mi)
			}
			if got := round1(mi.availablePercent()); got != tc.availPercent {
				t.Errorf("available percent = %v, want %v", got, tc.availPercent)
			}
			if got := round1(mi.swapUsedPercent()); got != tc.swapPerc {
				t.Errorf("swap used percent = %v, want %v", got, tc.swapPerc)
			}
		})
	}
	for _, bad := range []string{"", "MemFree: 10 kB\n", "MemTotal: lots kB\n", "MemTotal: 100 kB\n", "MemTotal: 18446744073709551615 kB\nMemAvailable: 1 kB\n"} {
		if _, err := parseMeminfo([]byte(bad)); err == nil {
			t.Errorf("parseMeminfo(%q) succeeded", bad)
		}
	}
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add([]byte("MemTotal: 1000 kB\nMemAvailable: 500 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n"))
	f.Add([]byte("MemTotal: 1000 kB\nMemFree: 2000 kB\nSwapTotal: 10 kB\nSwapFree: 20 kB\n"))
	f.Add([]byte("MemTotal:\nHugePages_Total: 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mi, err := parseMeminfo(data)
		if err != nil {
			return
		}
		if p := mi.availablePercent(); p < 0 || p > 100 {
			t.Fatalf("available percent %v from %+v", p, mi)
		}
		if p := mi.swapUsedPercent(); p < 0 || p > 100 {
			t.Fatalf("swap used percent %v from %+v", p, mi)
		}
	})
}

func newMemory(mod func(*Memory)) *Memory {
	k, _ := diag.LookupKind("memory")
	m := k.New().(*Memory)
	if mod != nil {
		mod(m)
	}
	return m
}

func TestMemoryKind(t *testing.T) {
	low := newFake().withFile(t, "/proc/meminfo", "meminfo/server-low.txt")
	r := newMemory(nil).Run(context.Background(), low)
	checkResult(t, r, diag.Fail)
	if !strings.HasPrefix(r.Message, "314MiB of 7.7GiB memory available (4.0%), swap 90.0% used of 2GiB: below the 5% minimum") {
		t.Errorf("message %q", r.Message)
	}
	for _, k := range []string{"total_bytes", "available_bytes", "available_percent", "used_percent", "swap_total_bytes", "swap_used_bytes", "swap_used_percent"} {
		if _, ok := r.Observed[k]; !ok {
			t.Errorf("observed has no %s", k)
		}
	}
	checkResult(t, newMemory(func(m *Memory) { m.FailAvailable = 3 }).Run(context.Background(), low), diag.Warn)
	checkResult(t, newMemory(func(m *Memory) { m.FailAvailable, m.WarnAvailable = 1, 2 }).Run(context.Background(), low), diag.Pass)
	r = newMemory(func(m *Memory) { m.FailAvailable, m.WarnAvailable, m.MaxSwapUsed = 1, 2, 50 }).Run(context.Background(), low)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "swap use above the 50% limit") || !strings.Contains(r.Hint, "VmSwap") {
		t.Errorf("message %q, hint %q", r.Message, r.Hint)
	}

	old := newFake().withFile(t, "/proc/meminfo", "meminfo/centos6-no-memavailable.txt")
	r = newMemory(nil).Run(context.Background(), old)
	checkResult(t, r, diag.Pass)
	if !strings.Contains(r.Message, "estimated") || r.Observed["available_estimated"] != true {
		t.Errorf("an estimate is not said to be one: %q", r.Message)
	}

	checkResult(t, newMemory(nil).Run(context.Background(), newFake()), diag.Error)
	garbled := newFake()
	garbled.files["/proc/meminfo"] = "nothing useful\n"
	r = newMemory(nil).Run(context.Background(), garbled)
	checkResult(t, r, diag.Error)
	if r.Evidence == "" {
		t.Error("a file that could not be understood is not in the evidence")
	}

	mac := newFake()
	mac.facts.OS = "darwin"
	checkResult(t, newMemory(nil).Run(context.Background(), mac), diag.Skip)
}

func TestMemoryValidate(t *testing.T) {
	if err := validate(newMemory(nil)); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if f := fieldOf(validate(newMemory(func(m *Memory) { m.FailAvailable, m.WarnAvailable = 20, 10 }))); f != "fail_available" {
		t.Errorf("fail above warn: field %q", f)
	}
}

// TestMemoryMatchesFree compares the kind's figures on this machine with
// free(1), which reads the same file at a slightly different moment.
func TestMemoryMatchesFree(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("memory is read from /proc/meminfo")
	}
	if _, err := exec.LookPath("free"); err != nil {
		t.Skip("free is not installed")
	}
	r := newMemory(nil).Run(context.Background(), diag.NewLocal())
	if r.Status == diag.Error || r.Status == diag.Skip {
		t.Fatalf("%s: %s", r.Status, r.Message)
	}
	out, err := exec.Command("free", "-b").Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 7 && f[0] == "Mem:":
			total, _ := strconv.ParseUint(f[1], 10, 64)
			avail, _ := strconv.ParseUint(f[6], 10, 64)
			if got := r.Observed["total_bytes"].(uint64); got != total {
				t.Errorf("total_bytes = %d, free says %d", got, total)
			}
			if got := r.Observed["available_bytes"].(uint64); !within(got, avail, 0.05) {
				t.Errorf("available_bytes = %d, free says %d", got, avail)
			}
		case len(f) >= 3 && f[0] == "Swap:":
			total, _ := strconv.ParseUint(f[1], 10, 64)
			if got := r.Observed["swap_total_bytes"].(uint64); got != total {
				t.Errorf("swap_total_bytes = %d, free says %d", got, total)
			}
		}
	}
}

// within reports whether got is within share of want.
func within(got, want uint64, share float64) bool {
	d := float64(got) - float64(want)
	if d < 0 {
		d = -d
	}
	return d <= share*float64(want)
}
