package main

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// desktopDir is the user's Desktop folder: where Explorer shows it, which
// OneDrive or a roaming profile may have moved, else %USERPROFILE%\Desktop.
// It returns "" when there is none.
func desktopDir(home string, getenv func(string) string) string {
	if d, err := windows.KnownFolderPath(windows.FOLDERID_Desktop, 0); err == nil && isDir(d) {
		return d
	}
	profile := getenv("USERPROFILE")
	if profile == "" {
		profile = home
	}
	if d := filepath.Join(profile, "Desktop"); isDir(d) {
		return d
	}
	return ""
}
