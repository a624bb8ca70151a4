//go:build unix

package diag

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

func diskUsage(path string) (DiskUsage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return DiskUsage{}, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	bsize := uint64(st.Bsize)
	return DiskUsage{
		Path:      path,
		Total:     uint64(st.Blocks) * bsize,
		Free:      uint64(st.Bfree) * bsize,
		Avail:     uint64(st.Bavail) * bsize,
		Files:     uint64(st.Files),
		FilesFree: uint64(st.Ffree),
	}, nil
}

func fileOwner(fi fs.FileInfo, info *FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		info.UID, info.GID = int(st.Uid), int(st.Gid)
	}
}
