//go:build linux || darwin || freebsd

package diag

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

func diskUsage(path string) (DiskUsage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return DiskUsage{}, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	// Block counts are in units of the fundamental block size (f_frsize),
	// which can differ from the preferred I/O size f_bsize; df uses frsize.
	unit := uint64(statfsBlockSize(&st))
	return DiskUsage{
		Path:      path,
		Total:     uint64(st.Blocks) * unit,
		Free:      uint64(st.Bfree) * unit,
		Avail:     uint64(st.Bavail) * unit,
		Files:     uint64(st.Files),
		FilesFree: uint64(st.Ffree),
	}, nil
}
