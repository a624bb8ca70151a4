package diag

import (
	"context"

	"golang.org/x/sys/unix"
)

func platformFacts(ctx context.Context, f *Facts) {
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	f.Distro = "macos"
	// kern.osproductversion (macOS 10.13.4 and later) is what sw_vers
	// prints as ProductVersion, without running it.
	if v, err := unix.Sysctl("kern.osproductversion"); err == nil {
		f.DistroVersion = v
	}
	f.PrettyName = MacOSPrettyName(f.DistroVersion)
	if out, err := commandOutput(ctx, &Local{}, "/sbin/route", "-n", "get", "default"); err == nil {
		f.Gateway = ParseRouteGetDefault(out)
	}
}
