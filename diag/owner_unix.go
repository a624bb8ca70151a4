//go:build unix

package diag

import (
	"io/fs"
	"syscall"
)

func fileOwner(fi fs.FileInfo, info *FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		info.UID, info.GID = int(st.Uid), int(st.Gid)
	}
}
