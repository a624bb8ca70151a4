//go:build !windows

package syscheck

import (
	"fmt"
	"runtime"

	"github.com/triage-dev/triage/diag"
)

// windowsRebootPending reads the Windows registry, which only Windows has;
// the reboot kind asks for it only when this machine runs Windows.
func windowsRebootPending() ([]string, error) {
	return nil, fmt.Errorf("the registry is a Windows store and this is %s: %w", runtime.GOOS, diag.ErrUnsupported)
}
