package pkgcheck

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

const uninstallKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`

// uninstallViews are the Uninstall keys Windows lists programs from. Any
// user may read them.
var uninstallViews = []struct {
	root   registry.Key
	access uint32
	name   string
}{
	{registry.LOCAL_MACHINE, registry.WOW64_64KEY, `HKLM\` + uninstallKey},
	{registry.LOCAL_MACHINE, registry.WOW64_32KEY, `HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`},
	{registry.CURRENT_USER, 0, `HKCU\` + uninstallKey},
}

// readUninstallEntries reads every program of every Uninstall key.
func readUninstallEntries() ([]uninstallEntry, error) {
	var out []uninstallEntry
	for _, v := range uninstallViews {
		k, err := registry.OpenKey(v.root, uninstallKey, registry.ENUMERATE_SUB_KEYS|registry.QUERY_VALUE|v.access)
		if errors.Is(err, registry.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
		names, err := k.ReadSubKeyNames(-1)
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
		for _, n := range names {
			sk, err := registry.OpenKey(k, n, registry.QUERY_VALUE|v.access)
			if err != nil {
				continue // a key this user may not read is not listed to them either
			}
			e := uninstallEntry{Key: n, Hive: v.name}
			e.DisplayName, _, _ = sk.GetStringValue("DisplayName")
			e.DisplayVersion, _, _ = sk.GetStringValue("DisplayVersion")
			e.Publisher, _, _ = sk.GetStringValue("Publisher")
			e.SystemComponent, _, _ = sk.GetIntegerValue("SystemComponent")
			e.ParentKeyName, _, _ = sk.GetStringValue("ParentKeyName")
			e.ReleaseType, _, _ = sk.GetStringValue("ReleaseType")
			sk.Close()
			out = append(out, e)
		}
		k.Close()
	}
	return out, nil
}
