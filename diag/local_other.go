//go:build !unix && !windows

package diag

import (
	"context"
	"io/fs"
)

func diskUsage(path string) (DiskUsage, error) {
	return DiskUsage{}, &fs.PathError{Op: "disk usage", Path: path, Err: ErrUnsupported}
}

func fileOwner(fs.FileInfo, *FileInfo) {}

func platformFacts(context.Context, *Facts) {}
