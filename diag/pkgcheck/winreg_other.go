//go:build !windows

package pkgcheck

import (
	"fmt"
	"runtime"
)

// readUninstallEntries reads the Windows registry, which only Windows
// has; queryRegistry asks for it only on the local machine, so here it
// says the registry is not there.
func readUninstallEntries() ([]uninstallEntry, error) {
	return nil, fmt.Errorf("%w: the registry is part of Windows and this is %s", errAbsent, runtime.GOOS)
}
