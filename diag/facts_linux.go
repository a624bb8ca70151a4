package diag

import (
	"context"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func platformFacts(ctx context.Context, f *Facts) {
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		ApplyOSRelease(f, ParseOSRelease(data))
	} else if data, err := os.ReadFile("/usr/lib/os-release"); err == nil {
		ApplyOSRelease(f, ParseOSRelease(data))
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if data, err := os.ReadFile("/proc/net/route"); err == nil {
		f.Gateway = ParseProcNetRoute(data)
	}
	f.Hostname = strings.TrimSpace(f.Hostname)
}
