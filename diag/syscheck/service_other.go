//go:build !windows

package syscheck

import (
	"fmt"
	"runtime"

	"github.com/triage-dev/triage/diag"
)

// queryWindowsService asks the Windows service control manager, which
// only Windows has; the service kind asks for it only when this machine
// runs Windows.
func queryWindowsService(string) (winService, error) {
	return winService{}, fmt.Errorf("the service control manager is part of Windows and this is %s: %w", runtime.GOOS, diag.ErrUnsupported)
}
