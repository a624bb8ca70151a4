//go:build unix && !linux

package diag

import (
	"context"
	"runtime"

	"golang.org/x/sys/unix"
)

func platformFacts(ctx context.Context, f *Facts) {
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if runtime.GOOS == "darwin" {
		f.Distro = "macos"
	}
}
