//go:build !windows

package main

import (
	"os"
	"path/filepath"
)

// desktopDir is the user's Desktop folder, or "" when there is none: on
// Linux the one of ~/.config/user-dirs.dirs (whose name follows the
// user's language), else ~/Desktop, as on macOS.
func desktopDir(home string, getenv func(string) string) string {
	config := getenv("XDG_CONFIG_HOME")
	if config == "" {
		config = filepath.Join(home, ".config")
	}
	if d := getenv("XDG_DESKTOP_DIR"); d != "" && isDir(d) {
		return d
	}
	if data, err := os.ReadFile(filepath.Join(config, "user-dirs.dirs")); err == nil {
		if d := parseUserDirs(data, home)["XDG_DESKTOP_DIR"]; d != "" && d != home && isDir(d) {
			return d
		}
	}
	if d := filepath.Join(home, "Desktop"); isDir(d) {
		return d
	}
	return ""
}
