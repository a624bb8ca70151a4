package syscheck

import (
	"errors"

	"golang.org/x/sys/windows/registry"
)

// windowsRebootPending reads the pending-restart flags of this machine's
// registry. They are under HKLM, which any user may read.
func windowsRebootPending() ([]string, error) {
	exists := func(path string) (bool, error) {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE)
		if errors.Is(err, registry.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		k.Close()
		return true, nil
	}
	servicing, err := exists(`SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`)
	if err != nil {
		return nil, err
	}
	update, err := exists(`SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`)
	if err != nil {
		return nil, err
	}
	var renames []string
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Session Manager`, registry.QUERY_VALUE)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	renames, _, err = k.GetStringsValue("PendingFileRenameOperations")
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return nil, err
	}
	return windowsRebootReasons(servicing, update, renames), nil
}
