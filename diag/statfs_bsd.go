//go:build darwin || freebsd

package diag

import "golang.org/x/sys/unix"

// On the BSDs and macOS, f_bsize is the fundamental block size.
func statfsBlockSize(st *unix.Statfs_t) int64 { return int64(st.Bsize) }
