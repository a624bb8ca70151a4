package pkgcheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	// Info.plist files in application bundles are XML or binary property
	// lists (Xcode writes binary ones when a project asks for it, and many
	// shipping apps do), and a few are in the old OpenStep text form.
	// howett.net/plist reads all three; a reader of the XML form alone
	// would call those apps missing.
	"howett.net/plist"

	"github.com/triage-dev/triage/diag"
)

// The macOS sources read through the Target like the Linux ones, so they
// work on this Mac and on a Mac over SSH: application bundles by their
// Info.plist, installer receipts with pkgutil, and Homebrew.

// appDirs are where macOS keeps applications for every user, in the
// order Launch Services looks.
var appDirs = []string{"/Applications", "/Applications/Utilities", "/System/Applications", "/System/Applications/Utilities"}

// maxPlist caps an Info.plist; real ones are a few KiB.
const maxPlist = 1 << 20

// bundleInfo is what an application's Info.plist says about it.
type bundleInfo struct {
	Name         string // CFBundleName
	DisplayName  string // CFBundleDisplayName
	ID           string // CFBundleIdentifier
	ShortVersion string // CFBundleShortVersionString
	Version      string // CFBundleVersion
}

// parseInfoPlist reads an application's Info.plist, in any of the forms
// macOS writes.
//
// The keys are read as whatever type they hold, not decoded into strings:
// the version keys should be strings, but tools write numbers there too
// (PyInstaller wrote <integer>1</integer> as CFBundleShortVersionString
// for version=1, pyinstaller/pyinstaller#4466), and one number would make
// the whole file fail to decode and the app look missing.
func parseInfoPlist(data []byte) (bundleInfo, error) {
	var raw map[string]any
	if _, err := plist.Unmarshal(data, &raw); err != nil {
		return bundleInfo{}, err
	}
	bi := bundleInfo{
		Name:         plistText(raw["CFBundleName"]),
		DisplayName:  plistText(raw["CFBundleDisplayName"]),
		ID:           plistText(raw["CFBundleIdentifier"]),
		ShortVersion: plistText(raw["CFBundleShortVersionString"]),
		Version:      plistText(raw["CFBundleVersion"]),
	}
	if bi.ID == "" && bi.Name == "" {
		return bundleInfo{}, errors.New("neither CFBundleIdentifier nor CFBundleName is set")
	}
	return bi, nil
}

// plistText is a property list value as text: strings as they are,
// numbers as written; anything else (arrays, dictionaries, dates) is not
// a name or a version.
func plistText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case uint64:
		return strconv.FormatUint(v, 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// version is the version a person sees in the app's About box.
func (bi bundleInfo) version() string {
	if bi.ShortVersion != "" {
		return bi.ShortVersion
	}
	return bi.Version
}

// matches reports whether name designates the app: its bundle identifier,
// or its name as shown, without regard to case.
func (bi bundleInfo) matches(name, folder string) bool {
	for _, n := range []string{bi.ID, bi.Name, bi.DisplayName, folder} {
		if n != "" && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func queryApps(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	if ok, err := exists(ctx, t, "/Applications"); err != nil || !ok {
		return nil, absentOr(err, "/Applications is missing")
	}
	// The common case, the app named as its folder is, costs one read.
	for _, dir := range appDirs {
		p := path.Join(dir, name+".app", "Contents", "Info.plist")
		data, _, err := t.ReadFile(ctx, p, maxPlist)
		if err != nil {
			continue
		}
		if bi, err := parseInfoPlist(data); err == nil {
			return []installedPkg{{Name: name, Version: bi.version()}}, nil
		}
	}
	// Otherwise, by bundle identifier or displayed name: every app's
	// Info.plist is read.
	var out []installedPkg
	for _, dir := range appDirs {
		res, err := t.Run(ctx, diag.Command{Argv: []string{"ls", "-1", dir}, MaxOutput: maxListing})
		if err != nil {
			return nil, err
		}
		if res.ExitCode != 0 {
			continue
		}
		for _, folder := range parseAppList(res.Stdout) {
			data, _, err := t.ReadFile(ctx, path.Join(dir, folder+".app", "Contents", "Info.plist"), maxPlist)
			if err != nil {
				continue
			}
			if bi, err := parseInfoPlist(data); err == nil && bi.matches(name, folder) {
				out = append(out, installedPkg{Name: name, Version: bi.version()})
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseAppList reads `ls -1` of an applications folder into the names of
// the application bundles in it, without .app.
func parseAppList(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if name, ok := strings.CutSuffix(strings.TrimSpace(sc.Text()), ".app"); ok && name != "" {
			out = append(out, name)
		}
	}
	return out
}

// queryPkgutil asks for the installer receipt of a package identifier
// such as com.microsoft.teams2: what installers from .pkg files leave.
func queryPkgutil(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	if !strings.Contains(name, ".") || strings.Contains(name, " ") {
		// Receipts are named in reverse-DNS form; a plain name cannot
		// be one, so there is nothing to ask.
		return nil, fmt.Errorf("%w: %q is not a receipt identifier", errAbsent, name)
	}
	res, err := t.Run(ctx, diag.Command{Argv: []string{"pkgutil", "--pkg-info", name}, MaxOutput: 64 << 10})
	if err != nil {
		if errors.Is(err, diag.ErrCommandNotFound) {
			return nil, fmt.Errorf("%w: pkgutil is not installed", errAbsent)
		}
		return nil, err
	}
	out := string(res.Stdout) + string(res.Stderr)
	if res.ExitCode != 0 {
		if strings.Contains(out, "No receipt") {
			return nil, nil
		}
		return nil, &exitError{argv: []string{"pkgutil", "--pkg-info", name}, code: res.ExitCode, stderr: string(res.Stderr)}
	}
	info := parsePkgutilInfo(res.Stdout)
	if info["package-id"] == "" {
		return nil, fmt.Errorf("pkgutil --pkg-info %s printed no package-id", name)
	}
	return []installedPkg{{Name: info["package-id"], Version: info["version"]}}, nil
}

// parsePkgutilInfo reads `pkgutil --pkg-info`: "key: value" lines.
func parsePkgutilInfo(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// brewPaths are where Homebrew's command lives: on the PATH of a login
// shell, and in its default prefixes for Apple silicon and Intel Macs,
// which a program started from the Dock does not have on its PATH.
var brewPaths = []string{"brew", "/opt/homebrew/bin/brew", "/usr/local/bin/brew"}

func queryBrew(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	for _, brew := range brewPaths {
		argv := []string{brew, "list", "--versions", name}
		res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: 64 << 10})
		if errors.Is(err, diag.ErrCommandNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		switch stderr := strings.TrimSpace(string(res.Stderr)); {
		case res.ExitCode == 0:
			return parseBrewVersions(res.Stdout), nil
		case res.ExitCode == 1 && (stderr == "" || strings.Contains(stderr, "No such keg")):
			// Not installed: brew says nothing, or that there is no keg.
			return nil, nil
		default:
			return nil, &exitError{argv: argv, code: res.ExitCode, stderr: stderr}
		}
	}
	return nil, fmt.Errorf("%w: Homebrew is not installed", errAbsent)
}

// parseBrewVersions reads `brew list --versions`: a formula or cask and
// every version of it installed, "openssl@3 3.2.0 3.1.4".
func parseBrewVersions(data []byte) []installedPkg {
	var out []installedPkg
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for _, v := range f[min(1, len(f)):] {
			out = append(out, installedPkg{Name: f[0], Version: v})
		}
	}
	return out
}
