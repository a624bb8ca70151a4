package diag

import "golang.org/x/sys/unix"

func statfsBlockSize(st *unix.Statfs_t) int64 {
	if st.Frsize > 0 {
		return st.Frsize
	}
	return st.Bsize
}
