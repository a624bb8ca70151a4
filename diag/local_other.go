//go:build !unix && !windows

package diag

import (
	"context"
	"io/fs"
)

func fileOwner(fs.FileInfo, *FileInfo) {}

func platformFacts(context.Context, *Facts) {}
