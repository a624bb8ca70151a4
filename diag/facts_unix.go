//go:build unix && !linux && !darwin

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
}
