package pkgcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// Windows lists installed programs (Settings > Apps, and Programs and
// Features before it) from the Uninstall keys of the registry: HKLM for
// 64-bit programs, its WOW6432Node view for 32-bit ones, and HKCU for
// programs installed for one user. Each subkey is one program.

// uninstallEntry is one subkey of an Uninstall key, with the values that
// decide whether and how it is listed.
type uninstallEntry struct {
	Key             string // the subkey's name: a product code {GUID} or a name
	Hive            string // where it was found, for the evidence
	DisplayName     string
	DisplayVersion  string
	Publisher       string
	SystemComponent uint64 // 1: hidden from the list of programs
	ParentKeyName   string // set on updates of another program
	ReleaseType     string // Update, Hotfix, Security Update...
}

// listed reports whether Windows shows the entry as a program: it has a
// name, is not hidden as a system component, and is not an update of
// another program.
func (e uninstallEntry) listed() bool {
	if strings.TrimSpace(e.DisplayName) == "" || e.SystemComponent == 1 || e.ParentKeyName != "" {
		return false
	}
	switch strings.ToLower(e.ReleaseType) {
	case "update", "hotfix", "security update", "service pack":
		return false
	}
	return true
}

// matchPrograms finds name among the listed programs: by display name or
// key, without regard to case; failing that, by a display name that
// starts with name and goes on with its version or platform ("7-Zip" for
// "7-Zip 23.01 (x64)").
func matchPrograms(entries []uninstallEntry, name string) []installedPkg {
	var exact, prefix []installedPkg
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.listed() {
			continue
		}
		dn := strings.TrimSpace(e.DisplayName)
		pkg := installedPkg{Name: dn, Version: strings.TrimSpace(e.DisplayVersion)}
		id := strings.ToLower(dn + "\x00" + pkg.Version)
		if seen[id] {
			continue // the same program in the 64-bit and 32-bit views
		}
		switch {
		case strings.EqualFold(dn, name) || strings.EqualFold(e.Key, name):
			seen[id] = true
			exact = append(exact, pkg)
		case len(dn) > len(name) && strings.EqualFold(dn[:len(name)], name) && strings.ContainsRune(" (-", rune(dn[len(name)])):
			seen[id] = true
			prefix = append(prefix, pkg)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return prefix
}

func queryRegistry(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	if _, local := t.(*diag.Local); !local {
		return nil, fmt.Errorf("%w: triage reads the registry of this machine only", errAbsent)
	}
	entries, err := readUninstallEntries()
	if err != nil {
		return nil, err
	}
	return matchPrograms(entries, name), nil
}
