package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// isDir reports whether path is an existing folder.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// parseUserDirs reads the XDG_*_DIR lines of ~/.config/user-dirs.dirs, the
// file desktop environments on Linux keep the user's folders in, as
//
//	XDG_DESKTOP_DIR="$HOME/Schreibtisch"
//
// Values are "$HOME/..." or absolute paths (xdg-user-dirs(5)).
func parseUserDirs(data []byte, home string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch {
		case v == "$HOME":
			v = home
		case strings.HasPrefix(v, "$HOME/"):
			v = filepath.Join(home, v[len("$HOME/"):])
		case !strings.HasPrefix(v, "/"):
			continue
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}
