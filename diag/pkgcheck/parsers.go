package pkgcheck

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// installedPkg is one installed package as a package database lists it.
type installedPkg struct {
	Name    string
	Arch    string // "" when the source does not say
	Version string // in the manager's own spelling, epoch and release included
	// Broken is set for a package dpkg has only partly installed or
	// configured (its Status word, such as half-configured); such a
	// package is present but not usable.
	Broken string
}

// maxLine caps one line of a database or command output. dpkg's status
// file has long Description and Conffiles continuation lines but no line
// near this long.
const maxLine = 4 << 20

// dpkgStatus is one stanza of /var/lib/dpkg/status.
type dpkgStatus struct {
	Package, Arch, Version, Status string
}

// parseDpkgStatus streams the stanzas of dpkg's status database (deb822:
// "Field: value" lines, continuation lines starting with a space, stanzas
// separated by blank lines) to each, which returns false to stop early.
// Only the fields the package kind needs are kept.
func parseDpkgStatus(r io.Reader, each func(dpkgStatus) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxLine)
	var cur dpkgStatus
	started := false
	flush := func() bool {
		if !started {
			return true
		}
		started = false
		st := cur
		cur = dpkgStatus{}
		return each(st)
	}
	// Lines are looked at as bytes, and only the four values kept become
	// strings: a desktop's database has tens of thousands of lines, and a
	// sweep reads one per host.
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			if !flush() {
				return nil
			}
			continue
		}
		started = true
		if line[0] == ' ' || line[0] == '\t' {
			continue // a continuation of a field the kind does not read
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(k, []byte("Package")):
			cur.Package = string(bytes.TrimSpace(v))
		case bytes.EqualFold(k, []byte("Architecture")):
			cur.Arch = string(bytes.TrimSpace(v))
		case bytes.EqualFold(k, []byte("Version")):
			cur.Version = string(bytes.TrimSpace(v))
		case bytes.EqualFold(k, []byte("Status")):
			cur.Status = string(bytes.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	flush()
	return nil
}

// dpkgState reads a Status field ("want flag status", such as "install ok
// installed" or "hold ok installed") into whether the package is
// installed and, if it is there but broken, the word that says how.
//
// A held package ("hold ok installed") is installed: holding only stops
// upgrades. Pending triggers leave a package installed and configured.
// config-files means removed with its configuration left behind.
func dpkgState(status string) (installed bool, broken string) {
	f := strings.Fields(status)
	if len(f) != 3 {
		return false, ""
	}
	flag, state := f[1], f[2]
	switch state {
	case "installed", "triggers-awaited", "triggers-pending":
		if flag == "reinstreq" {
			return false, "reinstreq"
		}
		return true, ""
	case "half-installed", "unpacked", "half-configured":
		return false, state
	}
	return false, ""
}

// parseRPMQuery reads the output of rpm -q or -qa with rpmQueryFormat: name,
// epoch (empty when none), version, release and arch, tab-separated.
func parseRPMQuery(data []byte) []installedPkg {
	var out []installedPkg
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 || f[0] == "" || f[2] == "" {
			continue
		}
		epoch := f[1]
		if epoch == "(none)" {
			epoch = ""
		}
		v := f[2]
		if epoch != "" {
			v = epoch + ":" + v
		}
		if f[3] != "" && f[3] != "(none)" {
			v += "-" + f[3]
		}
		arch := f[4]
		if arch == "(none)" {
			arch = ""
		}
		out = append(out, installedPkg{Name: f[0], Arch: arch, Version: v})
	}
	return out
}

// parseAPKInstalled reads apk's database, /lib/apk/db/installed: stanzas
// of "X:value" lines separated by blank lines, where P is the name, V the
// version and A the architecture. Only installed packages are listed there.
func parseAPKInstalled(r io.Reader, each func(installedPkg) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxLine)
	var cur installedPkg
	flush := func() bool {
		p := cur
		cur = installedPkg{}
		if p.Name == "" {
			return true
		}
		return each(p)
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if !flush() {
				return nil
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		switch line[0] {
		case 'P':
			cur.Name = line[2:]
		case 'V':
			cur.Version = line[2:]
		case 'A':
			cur.Arch = line[2:]
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	flush()
	return nil
}

// parseNameVersion reads "name version" lines, the output of pacman -Q.
// Lines whose first word is not a pacman package name (letters, digits
// and @._+-, per PKGBUILD(5)), such as a warning, are skipped.
func parseNameVersion(data []byte) []installedPkg {
	var out []installedPkg
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || !pacmanName(f[0]) {
			continue
		}
		out = append(out, installedPkg{Name: f[0], Version: f[1]})
	}
	return out
}

// parseFlatpakList reads `flatpak list --columns=application,version`.
// Without a terminal flatpak prints the columns tab-separated and no
// header; a header line is skipped should a version print one. Runtimes
// and apps without a version have an empty version.
func parseFlatpakList(data []byte) []installedPkg {
	var out []installedPkg
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		var app, ver string
		if a, v, ok := strings.Cut(line, "\t"); ok {
			app, ver = strings.TrimSpace(a), strings.TrimSpace(v)
		} else {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			app = f[0]
			if len(f) > 1 {
				ver = f[1]
			}
		}
		if app == "" || strings.ContainsAny(app, " ") || app == "Application" || strings.HasPrefix(line, "Application ID") {
			continue
		}
		out = append(out, installedPkg{Name: app, Version: ver})
	}
	return out
}

// parseSnapList reads `snap list`: a header line (Name Version Rev
// Tracking Publisher Notes) and one line per snap; names and versions hold
// no spaces. Nothing counts before the header, so that a message such as
// "No snaps are installed yet." is not read as a snap. Snaps whose Notes
// say "disabled" are an inactive revision (listed with --all only).
func parseSnapList(data []byte) []installedPkg {
	var out []installedPkg
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLine)
	header := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "Name" && f[1] == "Version" {
			header = true
			continue
		}
		if !header || len(f) < 2 {
			continue
		}
		if len(f) >= 6 && strings.Contains(f[5], "disabled") {
			continue
		}
		out = append(out, installedPkg{Name: f[0], Version: f[1]})
	}
	return out
}

func pacmanName(s string) bool {
	if s == "" || s[0] == '-' || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("@._+-", rune(c)) {
			return false
		}
	}
	return true
}
