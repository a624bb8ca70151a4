package pkgcheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// A source is one package manager's view of what is installed, read
// through the Target so that it works the same locally and over SSH.
type source struct {
	name   string
	scheme scheme
	// appStore marks flatpak and snap: they install applications beside
	// the system's own manager, which is asked first.
	appStore bool
	// os is the platform whose software the source lists: "" for the
	// Linux managers, darwin or windows.
	os string
	// query returns every installed package called name. It returns an
	// error wrapping errAbsent when the manager is not on the target.
	query func(ctx context.Context, t diag.Target, name string) ([]installedPkg, error)
	hints func(f diag.Facts) managerHints
}

// errAbsent says a package manager is not installed on the target, which
// is not a failure to read it.
var errAbsent = errors.New("not on this system")

// managerHints are the commands a hint suggests, with %s for the name.
type managerHints struct {
	install, upgrade, remove, pick, repair string
}

// Caps on what is read: dpkg's status file runs to a few MiB on a desktop
// with thousands of packages; 64 MiB is far beyond any real one.
const (
	maxDatabase = 64 << 20
	maxListing  = 16 << 20
)

const (
	dpkgStatusPath   = "/var/lib/dpkg/status"
	apkInstalledPath = "/lib/apk/db/installed"
	pacmanLocalPath  = "/var/lib/pacman/local"
)

// rpmDBPaths are where rpm keeps its database: the classic place, and the
// one Fedora 36+, openSUSE and RHEL 10 moved to.
var rpmDBPaths = []string{"/var/lib/rpm", "/usr/lib/sysimage/rpm"}

// rpmQueryFormat prints one tab-separated line per package. The epoch is
// printed only when the package has one, so "(none)" never appears in it.
const rpmQueryFormat = `%{NAME}\t%|EPOCH?{%{EPOCH}}:{}|\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n`

// sources lists the managers in the order they are asked: the system's
// own database first, then the application stores.
var sources = []source{
	{name: "dpkg", scheme: debianScheme, query: queryDpkg, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "apt-get install %s",
			upgrade: "apt-get install --only-upgrade %s",
			remove:  "apt-get remove %s",
			pick:    "apt-get install %s=VERSION (apt-cache policy %s lists the versions available)",
			repair:  "dpkg --configure -a, then apt-get install -f",
		}
	}},
	{name: "rpm", scheme: rpmScheme, query: queryRPM, hints: rpmHints},
	{name: "apk", scheme: apkScheme, query: queryAPK, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "apk add %s",
			upgrade: "apk upgrade %s",
			remove:  "apk del %s",
			pick:    "apk add %s=VERSION",
			repair:  "apk fix %s",
		}
	}},
	{name: "pacman", scheme: pacmanScheme, query: queryPacman, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "pacman -S %s",
			// Arch does not support upgrading one package on its own.
			upgrade: "pacman -Syu (Arch upgrades the whole system, not %s alone)",
			remove:  "pacman -R %s",
			pick:    "pacman -U with the wanted %s package from /var/cache/pacman/pkg",
			repair:  "pacman -S %s",
		}
	}},
	{name: "flatpak", scheme: genericScheme, appStore: true, query: queryFlatpak, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "flatpak install %s",
			upgrade: "flatpak update %s",
			remove:  "flatpak uninstall %s",
			pick:    "flatpak update --commit=COMMIT %s (flatpak remote-info --log lists the commits)",
			repair:  "flatpak repair",
		}
	}},
	{name: "snap", scheme: genericScheme, appStore: true, query: querySnap, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "snap install %s",
			upgrade: "snap refresh %s",
			remove:  "snap remove %s",
			pick:    "snap refresh --channel=CHANNEL %s, or snap revert %s",
			repair:  "snap refresh %s",
		}
	}},
	{name: "app", scheme: genericScheme, os: "darwin", query: queryApps, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "install %s from the App Store or from its maker's website",
			upgrade: "update %s: the App Store's Updates, or Check for Updates in the app's own menu",
			remove:  "quit %s and drag it from Applications to the Bin",
			pick:    "install the version of %s wanted from its maker's website",
			repair:  "reinstall %s",
		}
	}},
	{name: "pkgutil", scheme: genericScheme, os: "darwin", query: queryPkgutil, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "run the installer (.pkg) that provides %s",
			upgrade: "run the newer installer (.pkg) of %s",
			remove:  "run the uninstaller that came with %s (pkgutil --forget %s only forgets the receipt)",
			pick:    "run the installer of the version of %s wanted",
			repair:  "run the installer of %s again",
		}
	}},
	{name: "brew", scheme: brewScheme, os: "darwin", query: queryBrew, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "brew install %s",
			upgrade: "brew upgrade %s",
			remove:  "brew uninstall %s",
			pick:    "brew install %s@VERSION, where Homebrew has a versioned formula",
			repair:  "brew reinstall %s",
		}
	}},
	{name: "registry", scheme: genericScheme, os: "windows", query: queryRegistry, hints: func(diag.Facts) managerHints {
		return managerHints{
			install: "install %s from Software Center (or Company Portal), or from its maker's website",
			upgrade: "update %s: its own update menu, Software Center, or its maker's website",
			remove:  "uninstall %s in Settings > Apps > Installed apps",
			pick:    "install the version of %s wanted from Software Center or its maker's website",
			repair:  "repair or reinstall %s in Settings > Apps > Installed apps",
		}
	}},
}

// managerNames lists the names the manager parameter accepts.
func managerNames() []string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.name
	}
	return names
}

func sourceByName(name string) (source, bool) {
	for _, s := range sources {
		if s.name == name {
			return s, true
		}
	}
	return source{}, false
}

func rpmHints(f diag.Facts) managerHints {
	tool, upgrade := "dnf", "upgrade"
	if strings.Contains(f.Distro, "suse") || strings.Contains(f.Distro, "sles") {
		tool, upgrade = "zypper", "update"
	}
	return managerHints{
		install: tool + " install %s",
		upgrade: tool + " " + upgrade + " %s",
		remove:  tool + " remove %s",
		pick:    tool + " install %s-VERSION (or " + tool + " downgrade %s)",
		repair:  tool + " reinstall %s",
	}
}

// exists reports whether path is on the target. Any error other than
// "does not exist" is returned: it means the answer is not known.
func exists(ctx context.Context, t diag.Target, path string) (bool, error) {
	_, err := t.Stat(ctx, path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// readDatabase reads a whole package database file. A database cut off
// at the cap would make packages past the cut look absent, so that is an
// error rather than a partial answer.
func readDatabase(ctx context.Context, t diag.Target, path string) ([]byte, error) {
	data, truncated, err := t.ReadFile(ctx, path, maxDatabase)
	if err != nil {
		return nil, err
	}
	if truncated {
		return nil, fmt.Errorf("%s is larger than %s, more than triage reads", path, diag.FormatBytes(maxDatabase))
	}
	return data, nil
}

// splitArch splits dpkg's "name:arch" qualifier.
func splitArch(name string) (string, string) {
	if n, a, ok := strings.Cut(name, ":"); ok {
		return n, a
	}
	return name, ""
}

func queryDpkg(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	// The status file runs to megabytes and only one entry is wanted:
	// where the target can open files, look the entry up by bisection
	// (dpkglook.go), or else parse the file as it streams in, rather than
	// hold a copy per host of a sweep.
	if fsr, ok := t.(diag.FileStreamer); ok {
		f, err := fsr.OpenFile(ctx, dpkgStatusPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, absentOr(nil, dpkgStatusPath+" is missing")
		}
		if err == nil {
			defer f.Close()
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > lookMinSize {
				out, conclusive, err := lookDpkg(f, fi.Size(), name)
				if err != nil {
					return nil, fmt.Errorf("reading %s: %w", dpkgStatusPath, err)
				}
				if conclusive {
					return out, nil
				}
			}
			// ReadAt leaves the file's offset alone: Read starts at 0.
			lr := &io.LimitedReader{R: f, N: maxDatabase + 1}
			out, err := scanDpkg(bufio.NewReaderSize(lr, 256<<10), name)
			if lr.N <= 0 {
				return nil, fmt.Errorf("%s is larger than %s, more than triage reads", dpkgStatusPath, diag.FormatBytes(maxDatabase))
			}
			return out, err
		}
		if !errors.Is(err, diag.ErrUnsupported) {
			return nil, err
		}
	}
	if ok, err := exists(ctx, t, dpkgStatusPath); err != nil || !ok {
		return nil, absentOr(err, dpkgStatusPath+" is missing")
	}
	data, err := readDatabase(ctx, t, dpkgStatusPath)
	if err != nil {
		return nil, err
	}
	return scanDpkg(bytes.NewReader(data), name)
}

// scanDpkg finds the installed (or broken) entries for name in dpkg's
// status database.
func scanDpkg(r io.Reader, name string) ([]installedPkg, error) {
	pkg, arch := splitArch(name)
	var out []installedPkg
	err := parseDpkgStatus(r, func(st dpkgStatus) bool {
		if p, ok := dpkgMatch(st, pkg, arch); ok {
			out = append(out, p)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dpkgStatusPath, err)
	}
	return out, nil
}

// dpkgMatch says whether a status record is package pkg (of arch, unless
// that is ""), installed or there but broken, and returns it if so.
func dpkgMatch(st dpkgStatus, pkg, arch string) (installedPkg, bool) {
	if st.Package != pkg || (arch != "" && st.Arch != arch) {
		return installedPkg{}, false
	}
	installed, broken := dpkgState(st.Status)
	if !installed && broken == "" {
		return installedPkg{}, false
	}
	return installedPkg{Name: st.Package, Arch: st.Arch, Version: st.Version, Broken: broken}, true
}

func queryAPK(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	if ok, err := exists(ctx, t, apkInstalledPath); err != nil || !ok {
		return nil, absentOr(err, apkInstalledPath+" is missing")
	}
	data, err := readDatabase(ctx, t, apkInstalledPath)
	if err != nil {
		return nil, err
	}
	var out []installedPkg
	err = parseAPKInstalled(bytes.NewReader(data), func(p installedPkg) bool {
		if p.Name == name {
			out = append(out, p)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", apkInstalledPath, err)
	}
	return out, nil
}

func queryRPM(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	found := false
	for _, p := range rpmDBPaths {
		ok, err := exists(ctx, t, p)
		if err != nil {
			return nil, err
		}
		if ok {
			found = true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no rpm database", errAbsent)
	}
	listing := []string{"rpm", "-qa", "--queryformat", rpmQueryFormat}
	var out []byte
	var err error
	if rpmName(name) {
		// rpm -q looks the name up in the database's index instead of
		// printing every package, which on a server costs the host tens
		// of milliseconds and triage a copy of the listing per host.
		out, err = queryOne(ctx, t, []string{"rpm", "-q", "--queryformat", rpmQueryFormat, name}, listing,
			func(res diag.CommandResult) bool { return rpmNotInstalled(res, name) })
	} else {
		out, err = runListing(ctx, t, listing...)
	}
	if err != nil {
		return nil, err
	}
	return filterRPM(parseRPMQuery(out), name), nil
}

// filterRPM keeps the packages called name, or name.arch as rpm names a
// package for one architecture. rpm -q also answers for labels such as
// name-version, which are not the package's name.
func filterRPM(pkgs []installedPkg, name string) []installedPkg {
	var out []installedPkg
	for _, p := range pkgs {
		if p.Name == name || (p.Arch != "" && p.Name+"."+p.Arch == name) {
			out = append(out, p)
		}
	}
	return out
}

// rpmName reports whether rpm -q reads name as a package name (or
// name.arch) and nothing else: packageName without dpkg's ":arch",
// since rpm reads a colon as an epoch. Such a name starts with a letter
// or digit, so rpm cannot take it for an option and needs no "--" (which
// popt-based rpm accepts, but triage does not count on every rpm doing).
// Other names go to the whole listing, as they always did.
func rpmName(name string) bool {
	return packageName().MatchString(name) && !strings.Contains(name, ":")
}

// rpmNotInstalled reports whether rpm -q failed only because the package
// is not installed. rpm prints "package NAME is not installed" on stdout
// after failing to open its database too, so errors on stderr mean the
// answer is not known; and it prints it in the target's language, which
// other than English goes to the whole listing (see queryOne).
func rpmNotInstalled(res diag.CommandResult, name string) bool {
	return res.ExitCode == 1 && len(bytes.TrimSpace(res.Stderr)) == 0 &&
		strings.TrimSpace(string(res.Stdout)) == "package "+name+" is not installed"
}

func queryPacman(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	if ok, err := exists(ctx, t, pacmanLocalPath); err != nil || !ok {
		return nil, absentOr(err, pacmanLocalPath+" is missing")
	}
	// A name pacman cannot give a package (one starting with "-" among
	// them) is in no listing; it is not passed to pacman either.
	if !pacmanName(name) {
		return nil, nil
	}
	// pacman's database is one directory per package, which a Target
	// cannot list; pacman -Q NAME reads the one entry.
	out, err := queryOne(ctx, t, []string{"pacman", "-Q", name}, []string{"pacman", "-Q"},
		func(res diag.CommandResult) bool { return pacmanNotFound(res, name) })
	if err != nil {
		return nil, err
	}
	// pacman -Q answers for a package that provides the name when none
	// is called so (bash for sh): that is not the package asked for.
	return filterName(parseNameVersion(out), name), nil
}

// pacmanNotFound reports whether pacman -Q failed only because the
// package is not installed: its error, and the warning it adds when a
// file in its working directory has the package's name.
func pacmanNotFound(res diag.CommandResult, name string) bool {
	if res.ExitCode != 1 || len(bytes.TrimSpace(res.Stdout)) != 0 {
		return false
	}
	lines := strings.Split(strings.TrimSpace(string(res.Stderr)), "\n")
	if lines[0] != "error: package '"+name+"' was not found" {
		return false
	}
	for _, l := range lines[1:] {
		if l != "warning: '"+name+"' is a file, you might want to use -p/--file." {
			return false
		}
	}
	return true
}

func queryFlatpak(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	out, err := runListing(ctx, t, "flatpak", "list", "--columns=application,version")
	if err != nil {
		return nil, err
	}
	return filterName(parseFlatpakList(out), name), nil
}

func querySnap(ctx context.Context, t diag.Target, name string) ([]installedPkg, error) {
	out, err := runListing(ctx, t, "snap", "list")
	var exit *exitError
	if errors.As(err, &exit) && strings.Contains(exit.stderr, "cannot communicate with server") {
		// The snap command is there but snapd is not running: no snap
		// can be in use, and this is the normal state of a Debian box
		// where snapd was installed and never enabled.
		return nil, fmt.Errorf("%w: snapd is not running", errAbsent)
	}
	if err != nil {
		return nil, err
	}
	return filterName(parseSnapList(out), name), nil
}

func filterName(pkgs []installedPkg, name string) []installedPkg {
	var out []installedPkg
	for _, p := range pkgs {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// exitError is a listing command that ran and failed.
type exitError struct {
	argv   []string
	code   int
	stderr string
}

func (e *exitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return fmt.Sprintf("%s exited %d: %s", strings.Join(e.argv, " "), e.code, msg)
}

// runListing runs a manager's listing command and returns its output.
func runListing(ctx context.Context, t diag.Target, argv ...string) ([]byte, error) {
	res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: maxListing})
	if err != nil {
		if errors.Is(err, diag.ErrCommandNotFound) {
			return nil, fmt.Errorf("%w: %s is not installed", errAbsent, argv[0])
		}
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, &exitError{argv: argv, code: res.ExitCode, stderr: string(res.Stderr)}
	}
	if res.Truncated {
		return nil, fmt.Errorf("%s printed more than %s", argv[0], diag.FormatBytes(maxListing))
	}
	return res.Stdout, nil
}

// queryOne asks a manager for one package with argv and returns what it
// printed, or nothing when notInstalled recognises the failure as the
// manager's answer that the package is not there. Any other failure,
// such as that answer in a language other than English, a warning, or
// a damaged database, is left to the whole listing, which tells an
// empty answer from an error by exit status alone: it gives the right
// answer, or fails with the error triage always reported.
func queryOne(ctx context.Context, t diag.Target, argv, listing []string, notInstalled func(diag.CommandResult) bool) ([]byte, error) {
	res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: maxListing})
	if err != nil {
		if errors.Is(err, diag.ErrCommandNotFound) {
			return nil, fmt.Errorf("%w: %s is not installed", errAbsent, argv[0])
		}
		return nil, err
	}
	switch {
	case res.ExitCode == 0 && res.Truncated:
		return nil, fmt.Errorf("%s printed more than %s", argv[0], diag.FormatBytes(maxListing))
	case res.ExitCode == 0:
		return res.Stdout, nil
	case notInstalled(res):
		return nil, nil
	}
	return runListing(ctx, t, listing...)
}

// absentOr returns err when the presence of a database could not be
// determined, and errAbsent with why otherwise.
func absentOr(err error, why string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", errAbsent, why)
}
