//go:build !linux && !darwin && !freebsd && !windows

package diag

import "io/fs"

// diskUsage has no probe on this platform: its statfs differs, and triage
// does not ship for it.
func diskUsage(path string) (DiskUsage, error) {
	return DiskUsage{}, &fs.PathError{Op: "disk usage", Path: path, Err: ErrUnsupported}
}
