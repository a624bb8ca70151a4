package pkgcheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// fakeTarget is a Target made of recorded files and command outputs; what
// is not recorded does not exist.
type fakeTarget struct {
	facts    diag.Facts
	files    map[string][]byte
	fileErrs map[string]error
	dirs     map[string]bool
	cmds     map[string]diag.CommandResult

	mu  sync.Mutex
	ran []string
}

func newFake() *fakeTarget {
	return &fakeTarget{
		facts:    diag.Facts{OS: "linux", Arch: "amd64", Distro: "debian"},
		files:    map[string][]byte{},
		fileErrs: map[string]error{},
		dirs:     map[string]bool{},
		cmds:     map[string]diag.CommandResult{},
	}
}

func (f *fakeTarget) Name() string                              { return "fake" }
func (f *fakeTarget) Facts(context.Context) (diag.Facts, error) { return f.facts, nil }

func (f *fakeTarget) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	key := strings.Join(c.Argv, " ")
	f.mu.Lock()
	f.ran = append(f.ran, key)
	f.mu.Unlock()
	if res, ok := f.cmds[key]; ok {
		return res, nil
	}
	return diag.CommandResult{}, &fs.PathError{Op: "exec", Path: c.Argv[0], Err: diag.ErrCommandNotFound}
}

func (f *fakeTarget) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if err, ok := f.fileErrs[path]; ok {
		return nil, false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	b, ok := f.files[path]
	if !ok {
		return nil, false, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	if int64(len(b)) > limit {
		return b[:limit], true, nil
	}
	return b, false, nil
}

func (f *fakeTarget) Stat(ctx context.Context, path string) (diag.FileInfo, error) {
	if _, ok := f.files[path]; ok || f.dirs[path] {
		return diag.FileInfo{Path: path}, nil
	}
	if _, ok := f.fileErrs[path]; ok {
		return diag.FileInfo{Path: path}, nil
	}
	return diag.FileInfo{}, &fs.PathError{Op: "stat", Path: path, Err: fs.ErrNotExist}
}

func (f *fakeTarget) DiskUsage(context.Context, string) (diag.DiskUsage, error) {
	return diag.DiskUsage{}, diag.ErrUnsupported
}

func (f *fakeTarget) Dial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no network")
}

// The commands the fake target is asked to run, as the key of its cmds.
func rpmListArgv() string             { return "rpm -qa --queryformat " + rpmQueryFormat }
func rpmQueryArgv(name string) string { return "rpm -q --queryformat " + rpmQueryFormat + " " + name }

// rpmNotInstalledResult is what rpm -q does for a package it does not have.
func rpmNotInstalledResult(name string) diag.CommandResult {
	return diag.CommandResult{ExitCode: 1, Stdout: []byte("package " + name + " is not installed\n")}
}

// pacmanNotFoundResult is what pacman -Q does for a package it does not have.
func pacmanNotFoundResult(name string) diag.CommandResult {
	return diag.CommandResult{ExitCode: 1, Stderr: []byte("error: package '" + name + "' was not found\n")}
}

// The machines of testdata, one per package manager.
func dpkgTarget(t *testing.T) *fakeTarget {
	ft := newFake()
	ft.files[dpkgStatusPath] = readTestdata(t, "dpkg-status")
	return ft
}

func rpmTarget(t *testing.T) *fakeTarget {
	ft := newFake()
	ft.facts.Distro = "rhel"
	ft.dirs["/var/lib/rpm"] = true
	// What rpm -q prints, on the machine of rpm-qa.txt, for the names the
	// tests ask about: every installed version of the name, or the one
	// architecture of name.arch.
	for name, out := range map[string]string{
		"openssl":    "openssl\t1\t3.0.7\t27.el9\tx86_64\n",
		"kernel":     "kernel\t\t5.14.0\t362.8.1.el9_3\tx86_64\nkernel\t\t5.14.0\t427.13.1.el9_4\tx86_64\n",
		"glibc":      "glibc\t\t2.34\t100.el9\tx86_64\nglibc\t\t2.34\t100.el9\ti686\n",
		"glibc.i686": "glibc\t\t2.34\t100.el9\ti686\n",
		"libstdc++":  "libstdc++\t\t11.4.1\t3.el9\tx86_64\n",
		// rpm -q reads a label, name-version, as well as a name.
		"kernel-5.14.0": "kernel\t\t5.14.0\t362.8.1.el9_3\tx86_64\nkernel\t\t5.14.0\t427.13.1.el9_4\tx86_64\n",
	} {
		ft.cmds[rpmQueryArgv(name)] = diag.CommandResult{Stdout: []byte(out)}
	}
	for _, name := range []string{"nginx", "made-up-pkg"} {
		ft.cmds[rpmQueryArgv(name)] = rpmNotInstalledResult(name)
	}
	return ft
}

func apkTarget(t *testing.T) *fakeTarget {
	ft := newFake()
	ft.facts.Distro = "alpine"
	ft.files[apkInstalledPath] = readTestdata(t, "apk-installed")
	return ft
}

func pacmanTarget(t *testing.T) *fakeTarget {
	ft := newFake()
	ft.facts.Distro = "arch"
	ft.dirs[pacmanLocalPath] = true
	// What pacman -Q NAME prints on the machine of pacman-Q.txt.
	for _, line := range strings.Split(strings.TrimSpace(string(readTestdata(t, "pacman-Q.txt"))), "\n") {
		name, _, _ := strings.Cut(line, " ")
		ft.cmds["pacman -Q "+name] = diag.CommandResult{Stdout: []byte(line + "\n")}
	}
	for _, name := range []string{"nginx", "made-up-pkg"} {
		ft.cmds["pacman -Q "+name] = pacmanNotFoundResult(name)
	}
	// pacman -Q answers for a package providing the name when no package
	// is called so.
	ft.cmds["pacman -Q sh"] = diag.CommandResult{Stdout: []byte("bash 5.2.026-2\n")}
	return ft
}

func desktopTarget(t *testing.T) *fakeTarget {
	ft := dpkgTarget(t)
	ft.cmds["flatpak list --columns=application,version"] = diag.CommandResult{Stdout: readTestdata(t, "flatpak-list.txt")}
	ft.cmds["snap list"] = diag.CommandResult{Stdout: readTestdata(t, "snap-list.txt")}
	return ft
}

func checkResult(t *testing.T, r diag.Result, want diag.Status) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status = %s, want %s; message: %s; hint: %s", r.Status, want, r.Message, r.Hint)
	}
	if r.Message == "" {
		t.Error("no message")
	}
	if r.Status != diag.Pass && r.Hint == "" {
		t.Errorf("%s without a hint: %s", r.Status, r.Message)
	}
}

func newPackage(name string, mod func(*Package)) *Package {
	k, _ := diag.LookupKind("package")
	p := k.New().(*Package)
	p.Name = name
	if mod != nil {
		mod(p)
	}
	return p
}

func TestPackageValidate(t *testing.T) {
	for _, tc := range []struct {
		p      *Package
		fields []string
		msg    string
	}{
		{newPackage("openssl", func(p *Package) { p.Version = ">= 3.0, < 4" }), nil, ""},
		{newPackage("libc6:amd64", nil), nil, ""},
		{newPackage("libstdc++", func(p *Package) { p.Manager = "rpm" }), nil, ""},
		{newPackage("openssl", func(p *Package) { p.Version = ">= 3.0 < 4" }), []string{"version"}, "at character 8"},
		{newPackage("openssl", func(p *Package) { p.Version = "~> 3" }), []string{"version"}, "unknown operator"},
		{newPackage("openssl", func(p *Package) { p.State = "latest" }), []string{"state"}, "installed or absent"},
		{newPackage("openssl", func(p *Package) { p.Manager = "yum" }), []string{"manager"}, "dpkg, rpm, apk, pacman, flatpak, snap, app, pkgutil, brew, registry"},
		{newPackage("openssl", func(p *Package) { p.Manager = "brew" }), nil, ""},
		// Program names of macOS and Windows have spaces and brackets,
		// which a Linux package manager's names never do.
		{newPackage("Microsoft Visual C++ 2015-2022 Redistributable (x64)", nil), nil, ""},
		{newPackage("Google Chrome", func(p *Package) { p.Manager = "registry" }), nil, ""},
		{newPackage("open ssl", func(p *Package) { p.Manager = "dpkg" }), []string{"name"}, "not a package name"},
		{newPackage("bad\tname", nil), []string{"name"}, "control characters"},
		{newPackage("-rf", nil), []string{"name"}, ""},
		{newPackage("-e", func(p *Package) { p.Manager = "rpm" }), []string{"name"}, "starting with a letter or digit"},
		{newPackage("--eval=%(id)", func(p *Package) { p.Manager = "rpm" }), []string{"name"}, "starting with a letter or digit"},
		{newPackage("-Syu", func(p *Package) { p.Manager = "pacman" }), []string{"name"}, "starting with a letter or digit"},
		{newPackage("--version", nil), []string{"name"}, "start with a letter or digit"},
		{newPackage("", nil), []string{"name"}, ""},
		{newPackage("libc6:amd64", func(p *Package) { p.Manager = "rpm" }), []string{"name"}, "only dpkg"},
		{newPackage("openssl", func(p *Package) { p.Manager, p.Version = "apk", ">= 3.1.4-r1" }), nil, ""},
		{newPackage("openssl", func(p *Package) { p.Manager, p.Version = "apk", ">= 3.1.4-1" }), []string{"version"}, "not an apk version"},
	} {
		err := tc.p.Validate()
		var fields []string
		if err != nil {
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var fe *diag.FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("%v is not a FieldError", e)
				}
				fields = append(fields, fe.Field)
			}
		}
		if !reflect.DeepEqual(fields, tc.fields) || (err != nil && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%+v: fields %q, error %v; want %q containing %q", *tc.p, fields, err, tc.fields, tc.msg)
		}
	}
}

func TestPackageKind(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target func(*testing.T) *fakeTarget
		p      *Package
		want   diag.Status
		msg    string
		hint   string
		source string
	}{
		// dpkg
		{"dpkg installed", dpkgTarget, newPackage("bash", nil), diag.Pass,
			"bash 5.2.15-2+b8 is installed (dpkg)", "", "dpkg"},
		{"dpkg too old", dpkgTarget, newPackage("openssl", func(p *Package) { p.Version = ">= 3.1" }), diag.Fail,
			"openssl 3.0.11-1~deb12u2 is installed (dpkg); required >= 3.1", "apt-get install --only-upgrade openssl", "dpkg"},
		{"dpkg range", dpkgTarget, newPackage("openssl", func(p *Package) { p.Version = ">= 3.0.11, < 3.1" }), diag.Pass,
			"openssl 3.0.11-1~deb12u2 is installed (dpkg), as required (>= 3.0.11, < 3.1)", "", "dpkg"},
		{"dpkg too new", dpkgTarget, newPackage("openssl", func(p *Package) { p.Version = "< 3" }), diag.Fail,
			"openssl 3.0.11-1~deb12u2 is installed (dpkg); required < 3", "apt-get install openssl=VERSION", "dpkg"},
		{"dpkg epoch not written", dpkgTarget, newPackage("vim", func(p *Package) { p.Version = ">= 9.0, < 9.1" }), diag.Pass,
			"vim 2:9.0.1378-2 is installed (dpkg), as required", "", "dpkg"},
		{"dpkg held counts", dpkgTarget, newPackage("openssh-client", func(p *Package) { p.Version = "< 9.3" }), diag.Pass,
			"openssh-client 1:9.2p1-2+deb12u2 is installed (dpkg)", "", "dpkg"},
		{"dpkg half-configured", dpkgTarget, newPackage("nginx", nil), diag.Fail,
			"nginx 1.22.1-9 is only partly installed (dpkg state half-configured)", "dpkg --configure -a", "dpkg"},
		{"dpkg removed, config left", dpkgTarget, newPackage("apache2", nil), diag.Fail,
			"apache2 is not installed (asked dpkg)", "apt-get install apache2", ""},
		{"dpkg multiarch", dpkgTarget, newPackage("libc6:i386", nil), diag.Pass,
			"libc6:i386 2.36-9+deb12u4 is installed (dpkg)", "", "dpkg"},
		{"absent as required", dpkgTarget, newPackage("telnetd", func(p *Package) { p.State = "absent" }), diag.Pass,
			"telnetd is not installed (asked dpkg), as required", "", ""},
		{"present but should be absent", dpkgTarget, newPackage("bash", func(p *Package) { p.State = "absent" }), diag.Fail,
			"bash 5.2.15-2+b8 is installed (dpkg) but should be absent", "apt-get remove bash", "dpkg"},
		{"vulnerable range absent", dpkgTarget, newPackage("openssl", func(p *Package) { p.State, p.Version = "absent", "< 3.0.7" }), diag.Pass,
			"openssl 3.0.11-1~deb12u2 is installed (dpkg), none matching < 3.0.7, as required", "", "dpkg"},
		{"vulnerable range present", dpkgTarget, newPackage("openssl", func(p *Package) { p.State, p.Version = "absent", "< 3.0.12" }), diag.Fail,
			"openssl 3.0.11-1~deb12u2 is installed (dpkg); no version matching < 3.0.12 should be", "apt-get install --only-upgrade openssl", "dpkg"},

		// rpm
		{"rpm epoch", rpmTarget, newPackage("openssl", func(p *Package) { p.Version = ">= 3.1" }), diag.Fail,
			"openssl 1:3.0.7-27.el9 is installed (rpm); required >= 3.1", "dnf upgrade openssl", "rpm"},
		{"rpm kernels", rpmTarget, newPackage("kernel", func(p *Package) { p.Version = ">= 5.14.0-400" }), diag.Pass,
			"kernel 5.14.0-427.13.1.el9_4 is installed (rpm), as required", "", "rpm"},
		{"rpm older kernel decides", rpmTarget, newPackage("kernel", func(p *Package) { p.Version = "< 5.14.0-400" }), diag.Pass,
			"kernel 5.14.0-362.8.1.el9_3 is installed (rpm), as required (< 5.14.0-400); newer installed: 5.14.0-427.13.1.el9_4", "", "rpm"},
		{"rpm name.arch", rpmTarget, newPackage("glibc.i686", nil), diag.Pass,
			"glibc.i686 2.34-100.el9 is installed (rpm)", "", "rpm"},
		{"rpm missing", rpmTarget, newPackage("nginx", nil), diag.Fail,
			"nginx is not installed (asked rpm)", "dnf install nginx", ""},
		{"rpm both arches", rpmTarget, newPackage("glibc", nil), diag.Pass,
			"glibc 2.34-100.el9 is installed (rpm)", "", "rpm"},
		{"rpm plus in name", rpmTarget, newPackage("libstdc++", func(p *Package) { p.Manager = "rpm" }), diag.Pass,
			"libstdc++ 11.4.1-3.el9 is installed (rpm)", "", "rpm"},
		{"rpm label is not a name", rpmTarget, newPackage("kernel-5.14.0", nil), diag.Fail,
			"kernel-5.14.0 is not installed (asked rpm)", "dnf install kernel-5.14.0", ""},

		// apk
		{"apk", apkTarget, newPackage("openssl", func(p *Package) { p.Version = ">= 3.1.4, < 3.2" }), diag.Pass,
			"openssl 3.1.4-r5 is installed (apk), as required", "", "apk"},
		{"apk too old", apkTarget, newPackage("curl", func(p *Package) { p.Version = ">= 8.6" }), diag.Fail,
			"curl 8.5.0-r0 is installed (apk); required >= 8.6", "apk upgrade curl", "apk"},
		{"apk missing", apkTarget, newPackage("bash", nil), diag.Fail,
			"bash is not installed (asked apk)", "apk add bash", ""},

		// pacman
		{"pacman", pacmanTarget, newPackage("linux", func(p *Package) { p.Version = ">= 6.7" }), diag.Pass,
			"linux 6.7.9.arch1-1 is installed (pacman), as required", "", "pacman"},
		{"pacman too old", pacmanTarget, newPackage("openssl", func(p *Package) { p.Version = ">= 3.3" }), diag.Fail,
			"openssl 3.2.1-1 is installed (pacman); required >= 3.3", "pacman -Syu", "pacman"},
		{"pacman epoch", pacmanTarget, newPackage("zlib", func(p *Package) { p.Version = ">= 1.3" }), diag.Pass,
			"zlib 1:1.3.1-1 is installed (pacman), as required", "", "pacman"},
		{"pacman missing", pacmanTarget, newPackage("nginx", nil), diag.Fail,
			"nginx is not installed (asked pacman)", "pacman -S nginx", ""},
		{"pacman provider is not the package", pacmanTarget, newPackage("sh", nil), diag.Fail,
			"sh is not installed (asked pacman)", "pacman -S sh", ""},
		{"pacman absent as required", pacmanTarget, newPackage("made-up-pkg", func(p *Package) { p.State = "absent" }), diag.Pass,
			"made-up-pkg is not installed (asked pacman), as required", "", ""},

		// application stores beside dpkg
		{"flatpak", desktopTarget, newPackage("org.mozilla.firefox", func(p *Package) { p.Version = ">= 120" }), diag.Pass,
			"org.mozilla.firefox 123.0.1 is installed (flatpak), as required", "", "flatpak"},
		{"snap", desktopTarget, newPackage("firefox", nil), diag.Pass,
			"firefox 123.0.1-1 is installed (snap)", "", "snap"},
		{"snap only when asked", desktopTarget, newPackage("bash", func(p *Package) { p.Manager = "snap" }), diag.Fail,
			"bash is not installed (asked snap)", "snap install bash", ""},
		{"none of them", desktopTarget, newPackage("made-up-pkg", nil), diag.Fail,
			"made-up-pkg is not installed (asked dpkg, flatpak, snap)", "apt-get install made-up-pkg", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); err != nil {
				t.Fatalf("invalid test parameters: %v", err)
			}
			r := tc.p.Run(context.Background(), tc.target(t))
			checkResult(t, r, tc.want)
			if !strings.HasPrefix(r.Message, tc.msg) {
				t.Errorf("message %q\nwant it to start %q", r.Message, tc.msg)
			}
			if !strings.Contains(r.Hint, tc.hint) {
				t.Errorf("hint %q does not contain %q", r.Hint, tc.hint)
			}
			if r.Observed["name"] != tc.p.Name {
				t.Errorf("observed name = %v", r.Observed["name"])
			}
			if _, ok := r.Observed["installed"]; !ok {
				t.Error("observed has no installed")
			}
			if src, _ := r.Observed["source"].(string); src != tc.source {
				t.Errorf("observed source = %q, want %q", src, tc.source)
			}
		})
	}
}

func TestPackageStopsAtSystemManager(t *testing.T) {
	ft := desktopTarget(t)
	checkResult(t, newPackage("bash", nil).Run(context.Background(), ft), diag.Pass)
	if len(ft.ran) != 0 {
		t.Errorf("asked the application stores although dpkg had the package: %v", ft.ran)
	}
	// Proving absence asks everyone.
	checkResult(t, newPackage("made-up-pkg", func(p *Package) { p.State = "absent" }).Run(context.Background(), ft), diag.Pass)
	if len(ft.ran) != 2 {
		t.Errorf("ran %v, want flatpak and snap", ft.ran)
	}
}

// TestPackageStopsAtFirstManager: the first manager that has the package
// decides the verdict, so on a machine with rpm beside dpkg, rpm is not
// asked once dpkg has it, whatever the state or version required.
func TestPackageStopsAtFirstManager(t *testing.T) {
	for _, tc := range []struct {
		p    *Package
		want diag.Status
	}{
		{newPackage("bash", nil), diag.Pass},
		{newPackage("bash", func(p *Package) { p.State = "absent" }), diag.Fail},
		{newPackage("bash", func(p *Package) { p.Version = ">= 99" }), diag.Fail},
	} {
		ft := dpkgTarget(t)
		ft.dirs["/var/lib/rpm"] = true
		checkResult(t, tc.p.Run(context.Background(), ft), tc.want)
		if len(ft.ran) != 0 {
			t.Errorf("%s (state %s, version %q): asked %v after dpkg had it", tc.p.Name, tc.p.State, tc.p.Version, ft.ran)
		}
	}
	// Not in dpkg: rpm is asked.
	ft := dpkgTarget(t)
	ft.dirs["/var/lib/rpm"] = true
	ft.cmds[rpmQueryArgv("made-up-pkg")] = rpmNotInstalledResult("made-up-pkg")
	checkResult(t, newPackage("made-up-pkg", nil).Run(context.Background(), ft), diag.Fail)
	if !slices.Contains(ft.ran, rpmQueryArgv("made-up-pkg")) {
		t.Errorf("ran %v, want rpm asked for a package dpkg lacks", ft.ran)
	}
}

func TestPackageCannotCheck(t *testing.T) {
	// No manager at all.
	r := newPackage("bash", nil).Run(context.Background(), newFake())
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "found no package manager") {
		t.Errorf("message %q", r.Message)
	}

	// An unreadable database is an error, never "not installed".
	ft := newFake()
	ft.fileErrs[dpkgStatusPath] = fs.ErrPermission
	r = newPackage("bash", nil).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "dpkg:") || !strings.Contains(r.Message, "permission denied") {
		t.Errorf("message %q", r.Message)
	}
	checkResult(t, newPackage("bash", func(p *Package) { p.State = "absent" }).Run(context.Background(), ft), diag.Error)

	// A database beyond the cap would hide packages past the cut.
	ft = newFake()
	ft.files[dpkgStatusPath] = bytes.Repeat([]byte("x"), maxDatabase+1)
	checkResult(t, newPackage("bash", nil).Run(context.Background(), ft), diag.Error)

	// rpm fails while dpkg does not have the package.
	ft = dpkgTarget(t)
	ft.dirs["/usr/lib/sysimage/rpm"] = true
	// rpm says the package is not installed after failing to open its
	// database, too; the listing then fails the same way.
	ft.cmds[rpmQueryArgv("made-up-pkg")] = diag.CommandResult{ExitCode: 1,
		Stdout: []byte("package made-up-pkg is not installed\n"),
		Stderr: []byte("error: cannot open Packages database in /usr/lib/sysimage/rpm\n")}
	ft.cmds[rpmListArgv()] = diag.CommandResult{ExitCode: 1, Stderr: []byte("error: cannot open Packages database in /usr/lib/sysimage/rpm\n")}
	r = newPackage("made-up-pkg", nil).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "cannot open Packages database") {
		t.Errorf("message %q", r.Message)
	}
	// but the package dpkg has is still found.
	checkResult(t, newPackage("bash", nil).Run(context.Background(), ft), diag.Pass)

	// A manager asked for by name and not there.
	r = newPackage("bash", func(p *Package) { p.Manager = "apk" }).Run(context.Background(), dpkgTarget(t))
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "apk is not available") {
		t.Errorf("message %q", r.Message)
	}

	// A Mac with none of its sources (see macos_test.go for those that are).
	ft = newFake()
	ft.facts.OS = "darwin"
	r = newPackage("bash", nil).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if r.Message != "found no package manager: none of app, pkgutil, brew is on this system" {
		t.Errorf("message %q", r.Message)
	}
	// Platforms without any source.
	ft.facts.OS = "openbsd"
	checkResult(t, newPackage("bash", nil).Run(context.Background(), ft), diag.Skip)

	// Cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	checkResult(t, newPackage("bash", nil).Run(ctx, dpkgTarget(t)), diag.Error)
}

func TestPackageSnapdNotRunning(t *testing.T) {
	ft := dpkgTarget(t)
	ft.cmds["snap list"] = diag.CommandResult{ExitCode: 1, Stderr: []byte("error: cannot communicate with server: Get \"http://localhost/v2/snaps\": dial unix /run/snapd.socket: connect: no such file or directory\n")}
	r := newPackage("made-up-pkg", nil).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if r.Message != "made-up-pkg is not installed (asked dpkg)" {
		t.Errorf("message %q", r.Message)
	}
}

func TestPackageSuseHints(t *testing.T) {
	ft := rpmTarget(t)
	ft.facts.Distro = "opensuse-leap"
	r := newPackage("nginx", nil).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if r.Hint != "install it: zypper install nginx" {
		t.Errorf("hint %q", r.Hint)
	}
}

// TestPackageRealDpkg runs the kind against this machine's own dpkg
// database and compares it with dpkg-query.
func TestPackageRealDpkg(t *testing.T) {
	if _, err := os.Stat(dpkgStatusPath); err != nil {
		t.Skip("no dpkg database on this machine")
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query is not installed")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "bash").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	want := string(out)
	local := diag.NewLocal()

	r := newPackage("bash", nil).Run(context.Background(), local)
	checkResult(t, r, diag.Pass)
	if r.Observed["version"] != want || r.Observed["source"] != "dpkg" || r.Observed["installed"] != true {
		t.Errorf("observed %v; dpkg-query says bash %s", r.Observed, want)
	}
	checkResult(t, newPackage("bash", func(p *Package) { p.Version = "= " + want }).Run(context.Background(), local), diag.Pass)
	checkResult(t, newPackage("bash", func(p *Package) { p.Version = ">= 4, < 99" }).Run(context.Background(), local), diag.Pass)
	r = newPackage("bash", func(p *Package) { p.Version = ">= 99" }).Run(context.Background(), local)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Hint, "apt-get install --only-upgrade bash") {
		t.Errorf("hint %q", r.Hint)
	}

	r = newPackage("triage-made-up-package", nil).Run(context.Background(), local)
	checkResult(t, r, diag.Fail)
	if r.Observed["installed"] != false {
		t.Errorf("observed %v", r.Observed)
	}
	checkResult(t, newPackage("triage-made-up-package", func(p *Package) { p.State = "absent" }).Run(context.Background(), local), diag.Pass)
}

// TestDpkgParserMatchesDpkgQuery reads this machine's whole dpkg database
// and compares every installed package with what dpkg-query lists.
func TestDpkgParserMatchesDpkgQuery(t *testing.T) {
	data, err := os.ReadFile(dpkgStatusPath)
	if err != nil {
		t.Skip("no dpkg database on this machine")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}\t${Package}:${Architecture}\t${Version}\n").Output()
	if err != nil {
		t.Skipf("dpkg-query: %v", err)
	}
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		// The second letter is the state: i installed, W and T installed
		// with triggers awaited or pending; a third letter R means it
		// needs reinstalling. The first (the wanted state) does not matter.
		st := f[0]
		if len(f) == 3 && len(st) >= 2 && strings.IndexByte("iWT", st[1]) >= 0 && (len(st) < 3 || st[2] != 'R') {
			want[f[1]] = f[2]
		}
	}
	got := map[string]string{}
	err = parseDpkgStatus(bytes.NewReader(data), func(s dpkgStatus) bool {
		if ok, _ := dpkgState(s.Status); ok {
			got[s.Package+":"+s.Arch] = s.Version
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("dpkg-query lists no installed package")
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: parsed %q, dpkg-query says %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s is installed by the parser's reading, not by dpkg-query's", k)
		}
	}
}

// TestPackageSharedAcrossGoroutines runs one parameter struct from many
// goroutines, as a sweep does; with -race it catches a Run that writes to
// its receiver.
func TestPackageSharedAcrossGoroutines(t *testing.T) {
	ft := desktopTarget(t)
	p := newPackage("openssl", func(p *Package) { p.Version = ">= 3.0, < 4" })
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := p.Run(context.Background(), ft); r.Status != diag.Pass {
				t.Errorf("%s: %s", r.Status, r.Message)
			}
		}()
	}
	wg.Wait()
}

// TestPackageAsksForOnePackage checks that rpm and pacman are asked for
// the one package, not for the list of everything installed.
func TestPackageAsksForOnePackage(t *testing.T) {
	for _, tc := range []struct {
		target func(*testing.T) *fakeTarget
		p      *Package
		want   diag.Status
		ran    string
	}{
		{rpmTarget, newPackage("kernel", nil), diag.Pass, rpmQueryArgv("kernel")},
		{rpmTarget, newPackage("nginx", nil), diag.Fail, rpmQueryArgv("nginx")},
		{rpmTarget, newPackage("nginx", func(p *Package) { p.State = "absent" }), diag.Pass, rpmQueryArgv("nginx")},
		{pacmanTarget, newPackage("linux", nil), diag.Pass, "pacman -Q linux"},
		{pacmanTarget, newPackage("nginx", nil), diag.Fail, "pacman -Q nginx"},
	} {
		ft := tc.target(t)
		r := tc.p.Run(context.Background(), ft)
		checkResult(t, r, tc.want)
		if ran := systemManagerRuns(ft); !reflect.DeepEqual(ran, []string{tc.ran}) {
			t.Errorf("%s: ran %q, want only %q", tc.p.Name, ran, tc.ran)
		}
	}
}

// TestRPMTargetIsRPMQA checks the fake's rpm -q answers against the
// machine they stand for: each line is one rpm -qa printed there.
func TestRPMTargetIsRPMQA(t *testing.T) {
	qa := strings.SplitAfter(string(readTestdata(t, "rpm-qa.txt")), "\n")
	for cmd, res := range rpmTarget(t).cmds {
		if res.ExitCode != 0 {
			continue
		}
		for _, line := range strings.SplitAfter(strings.TrimSpace(string(res.Stdout))+"\n", "\n") {
			if line != "" && !slices.Contains(qa, line) {
				t.Errorf("%s prints %q, which is not in rpm-qa.txt", cmd, line)
			}
		}
	}
}

// systemManagerRuns is what the fake target ran of rpm and pacman, leaving
// out the application stores asked after them.
func systemManagerRuns(ft *fakeTarget) []string {
	var out []string
	for _, cmd := range ft.ran {
		if strings.HasPrefix(cmd, "rpm ") || strings.HasPrefix(cmd, "pacman ") {
			out = append(out, cmd)
		}
	}
	return out
}

// TestPackageQueryFailures checks how a failed rpm -q or pacman -Q is
// read: "not installed" only when the manager says so and nothing else;
// anything else goes to the whole listing, which answers or fails.
func TestPackageQueryFailures(t *testing.T) {
	const dbError = "error: cannot open Packages database in /var/lib/rpm\n"
	for _, tc := range []struct {
		name   string
		target func(*testing.T) *fakeTarget
		pkg    string
		cmds   map[string]diag.CommandResult
		want   diag.Status
		msg    string // the message contains it
		ran    []string
	}{
		{"rpm in German", rpmTarget, "nginx", map[string]diag.CommandResult{
			rpmQueryArgv("nginx"): {ExitCode: 1, Stdout: []byte("Das Paket nginx ist nicht installiert\n")},
			rpmListArgv():         {Stdout: readTestdata(t, "rpm-qa.txt")},
		}, diag.Fail, "nginx is not installed (asked rpm)", []string{rpmQueryArgv("nginx"), rpmListArgv()}},
		{"rpm in German, installed", rpmTarget, "bash", map[string]diag.CommandResult{
			rpmQueryArgv("bash"): {ExitCode: 1, Stdout: []byte("Das Paket bash ist nicht installiert\n")},
			rpmListArgv():        {Stdout: readTestdata(t, "rpm-qa.txt")},
		}, diag.Pass, "bash 5.1.8-9.el9 is installed (rpm)", []string{rpmQueryArgv("bash"), rpmListArgv()}},
		{"rpm warns", rpmTarget, "nginx", map[string]diag.CommandResult{
			rpmQueryArgv("nginx"): {ExitCode: 1, Stdout: []byte("package nginx is not installed\n"),
				Stderr: []byte("warning: Found bdb Packages database while attempting sqlite backend: using bdb backend.\n")},
			rpmListArgv(): {Stdout: readTestdata(t, "rpm-qa.txt")},
		}, diag.Fail, "nginx is not installed (asked rpm)", []string{rpmQueryArgv("nginx"), rpmListArgv()}},
		{"rpm database damaged", rpmTarget, "nginx", map[string]diag.CommandResult{
			rpmQueryArgv("nginx"): {ExitCode: 1, Stdout: []byte("package nginx is not installed\n"), Stderr: []byte(dbError)},
			rpmListArgv():         {ExitCode: 1, Stderr: []byte(dbError)},
		}, diag.Error, "rpm: rpm -qa --queryformat", []string{rpmQueryArgv("nginx"), rpmListArgv()}},
		{"rpm database locked", rpmTarget, "kernel", map[string]diag.CommandResult{
			rpmQueryArgv("kernel"): {ExitCode: 1, Stderr: []byte("error: sqlite failure: database is locked\n")},
			rpmListArgv():          {ExitCode: 1, Stderr: []byte("error: sqlite failure: database is locked\n")},
		}, diag.Error, "database is locked", []string{rpmQueryArgv("kernel"), rpmListArgv()}},
		{"rpm not installed twice", rpmTarget, "nginx", map[string]diag.CommandResult{
			rpmQueryArgv("nginx"): {ExitCode: 1, Stdout: []byte("package nginx is not installed\npackage nginx is not installed\n")},
			rpmListArgv():         {ExitCode: 1, Stderr: []byte(dbError)},
		}, diag.Error, "cannot open Packages database", []string{rpmQueryArgv("nginx"), rpmListArgv()}},
		{"rpm killed", rpmTarget, "nginx", map[string]diag.CommandResult{
			rpmQueryArgv("nginx"): {ExitCode: 137},
			rpmListArgv():         {ExitCode: 137},
		}, diag.Error, "exited 137", []string{rpmQueryArgv("nginx"), rpmListArgv()}},
		{"rpm program missing", rpmTarget, "nginx", map[string]diag.CommandResult{
			rpmQueryArgv("nginx"): {}, // replaced by "not found" below
		}, diag.Error, "found no package manager", []string{rpmQueryArgv("nginx")}},
		{"pacman file in the working directory", pacmanTarget, "nginx", map[string]diag.CommandResult{
			"pacman -Q nginx": {ExitCode: 1, Stderr: []byte("error: package 'nginx' was not found\nwarning: 'nginx' is a file, you might want to use -p/--file.\n")},
		}, diag.Fail, "nginx is not installed (asked pacman)", []string{"pacman -Q nginx"}},
		{"pacman in German", pacmanTarget, "nginx", map[string]diag.CommandResult{
			"pacman -Q nginx": {ExitCode: 1, Stderr: []byte("Fehler: Paket »nginx« wurde nicht gefunden\n")},
			"pacman -Q":       {Stdout: readTestdata(t, "pacman-Q.txt")},
		}, diag.Fail, "nginx is not installed (asked pacman)", []string{"pacman -Q nginx", "pacman -Q"}},
		{"pacman broken entry", pacmanTarget, "nginx", map[string]diag.CommandResult{
			"pacman -Q nginx": {ExitCode: 1, Stderr: []byte("error: could not open file /var/lib/pacman/local/nginx-1.24.0-1/desc: No such file or directory\nerror: package 'nginx' was not found\n")},
			"pacman -Q":       {Stdout: []byte("nginx 1.24.0-1\n")},
		}, diag.Pass, "nginx 1.24.0-1 is installed (pacman)", []string{"pacman -Q nginx", "pacman -Q"}},
		{"pacman cannot start", pacmanTarget, "nginx", map[string]diag.CommandResult{
			"pacman -Q nginx": {ExitCode: 1, Stderr: []byte("error: failed to initialize alpm library:\n(root: /, dbpath: /var/lib/pacman/)\ncould not find or read directory\n")},
			"pacman -Q":       {ExitCode: 1, Stderr: []byte("error: failed to initialize alpm library:\n(root: /, dbpath: /var/lib/pacman/)\ncould not find or read directory\n")},
		}, diag.Error, "pacman: pacman -Q exited 1: error: failed to initialize alpm library", []string{"pacman -Q nginx", "pacman -Q"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := tc.target(t)
			for k, v := range tc.cmds {
				ft.cmds[k] = v
			}
			if tc.name == "rpm program missing" {
				delete(ft.cmds, rpmQueryArgv("nginx"))
			}
			r := newPackage(tc.pkg, nil).Run(context.Background(), ft)
			checkResult(t, r, tc.want)
			if !strings.Contains(r.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", r.Message, tc.msg)
			}
			if ran := systemManagerRuns(ft); !reflect.DeepEqual(ran, tc.ran) {
				t.Errorf("ran %q, want %q", ran, tc.ran)
			}
		})
	}
}

// TestPackageNameNeverAnOption checks that a name starting with "-",
// should one get past Validate, is never passed to rpm or pacman.
func TestPackageNameNeverAnOption(t *testing.T) {
	for _, name := range []string{"-e", "--eval=%(id)", "-Syu", "--", "-"} {
		ft := rpmTarget(t)
		ft.cmds[rpmListArgv()] = diag.CommandResult{Stdout: readTestdata(t, "rpm-qa.txt")}
		ft.dirs[pacmanLocalPath] = true
		for _, q := range []func(context.Context, diag.Target, string) ([]installedPkg, error){queryRPM, queryPacman} {
			if pkgs, err := q(context.Background(), ft, name); err != nil || len(pkgs) != 0 {
				t.Errorf("%q: %v, %v", name, pkgs, err)
			}
		}
		// The kind, run without Validate, asks every manager.
		checkResult(t, newPackage(name, func(p *Package) { p.State = "absent" }).Run(context.Background(), ft), diag.Pass)
		for _, cmd := range ft.ran {
			switch cmd {
			case rpmListArgv(), "flatpak list --columns=application,version", "snap list":
			default:
				t.Errorf("%q: ran %q", name, cmd)
			}
		}
	}
}

func TestRPMNotInstalled(t *testing.T) {
	for _, tc := range []struct {
		res  diag.CommandResult
		want bool
	}{
		{rpmNotInstalledResult("nginx"), true},
		{diag.CommandResult{ExitCode: 1, Stdout: []byte("package nginx is not installed")}, true},
		{diag.CommandResult{ExitCode: 0, Stdout: []byte("package nginx is not installed\n")}, false},
		{diag.CommandResult{ExitCode: 2, Stdout: []byte("package nginx is not installed\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stdout: []byte("package nginx-core is not installed\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stdout: []byte("package nginx is not installed\n"), Stderr: []byte("error: cannot open Packages index using db5 - (-30973)\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stderr: []byte("error: rpmdb: BDB0113 Thread/process 1/2 failed\n")}, false},
		{diag.CommandResult{ExitCode: 1}, false},
	} {
		if got := rpmNotInstalled(tc.res, "nginx"); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.res, got, tc.want)
		}
	}
}

func TestPacmanNotFound(t *testing.T) {
	for _, tc := range []struct {
		res  diag.CommandResult
		want bool
	}{
		{pacmanNotFoundResult("nginx"), true},
		{diag.CommandResult{ExitCode: 1, Stderr: []byte("error: package 'nginx' was not found\nwarning: 'nginx' is a file, you might want to use -p/--file.\n")}, true},
		{diag.CommandResult{ExitCode: 0, Stderr: []byte("error: package 'nginx' was not found\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stderr: []byte("error: package 'nginx-mainline' was not found\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stdout: []byte("nginx 1.24.0-1\n"), Stderr: []byte("error: package 'nginx' was not found\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stderr: []byte("warning: config file /etc/pacman.conf, line 12: directive 'X' in section 'options' not recognized.\nerror: package 'nginx' was not found\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stderr: []byte("error: package 'nginx' was not found\nerror: could not open file\n")}, false},
		{diag.CommandResult{ExitCode: 1, Stderr: []byte("error: could not load package 'nginx': invalid or corrupted package\n")}, false},
		{diag.CommandResult{ExitCode: 1}, false},
	} {
		if got := pacmanNotFound(tc.res, "nginx"); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.res, got, tc.want)
		}
	}
}

// rpmDBTarget is this machine with rpm pointed at a database of the
// test's own: rpm's database directories are said to be there, and every
// rpm command is given --dbpath.
type rpmDBTarget struct {
	*diag.Local
	dbpath string

	mu  sync.Mutex
	ran [][]string
}

func (r *rpmDBTarget) Stat(ctx context.Context, path string) (diag.FileInfo, error) {
	if slices.Contains(rpmDBPaths, path) {
		path = r.dbpath
	}
	return r.Local.Stat(ctx, path)
}

func (r *rpmDBTarget) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	r.mu.Lock()
	r.ran = append(r.ran, c.Argv)
	r.mu.Unlock()
	if c.Argv[0] == "rpm" {
		c.Argv = append([]string{"rpm", "--dbpath", r.dbpath}, c.Argv[1:]...)
	}
	return r.Local.Run(ctx, c)
}

// buildRPMDB builds empty packages with rpmbuild and records them in a new
// rpm database, touching nothing else: the names, epochs, versions and
// architectures of real packages, asked of real rpm.
func buildRPMDB(t *testing.T) string {
	t.Helper()
	// CI installs rpm and sets TRIAGE_REQUIRE_RPM=1: there, not being able
	// to use it is a failure, not a reason to skip.
	skip := t.Skipf
	if os.Getenv("TRIAGE_REQUIRE_RPM") == "1" {
		skip = t.Fatalf
	}
	for _, tool := range []string{"rpm", "rpmbuild"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s is not installed (apt-get install rpm, dnf install rpm-build)", tool)
		}
	}
	dir := t.TempDir()
	run := func(argv ...string) {
		t.Helper()
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			skip("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	for i, pkg := range []struct{ name, epoch, version, release, target string }{
		{"triage-probe", "2", "1.2", "3", "noarch"},
		{"triage-probe", "2", "1.10", "3", "x86_64"},
		{"triage-probe", "2", "1.10", "3", "i686"},
		{"triage-plain++", "", "0.9", "1.fc40", "x86_64"},
	} {
		spec := "Name: " + pkg.name + "\nVersion: " + pkg.version + "\nRelease: " + pkg.release + "\n"
		if pkg.epoch != "" {
			spec += "Epoch: " + pkg.epoch + "\n"
		}
		spec += "Summary: a package for triage's tests\nLicense: MIT\n%description\nNothing.\n%files\n"
		path := filepath.Join(dir, fmt.Sprintf("p%d.spec", i))
		if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		run("rpmbuild", "-bb", "--quiet", "--target", pkg.target,
			"--define", "_topdir "+filepath.Join(dir, "build"),
			"--define", "debug_package %{nil}", path)
	}
	rpms, _ := filepath.Glob(filepath.Join(dir, "build", "RPMS", "*", "*.rpm"))
	if len(rpms) != 4 {
		t.Fatalf("rpmbuild made %q", rpms)
	}
	db := filepath.Join(dir, "db")
	run("rpm", "--dbpath", db, "--initdb")
	run(append([]string{"rpm", "--dbpath", db, "-i", "--justdb", "--nodeps", "--noscripts", "--ignorearch", "--ignoreos"}, rpms...)...)
	return db
}

// TestQueryRPMReal asks real rpm, and checks that rpm -q answers as the
// whole listing does for names, name.arch, labels and missing packages.
func TestQueryRPMReal(t *testing.T) {
	db := buildRPMDB(t)
	ctx := context.Background()
	target := &rpmDBTarget{Local: diag.NewLocal(), dbpath: db}
	all, err := runListing(ctx, target, "rpm", "-qa", "--queryformat", rpmQueryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(parseRPMQuery(all)); n != 4 {
		t.Fatalf("rpm -qa lists %d packages, want 4:\n%s", n, all)
	}
	for name, want := range map[string][]installedPkg{
		"triage-probe": {
			{Name: "triage-probe", Arch: "noarch", Version: "2:1.2-3"},
			{Name: "triage-probe", Arch: "x86_64", Version: "2:1.10-3"},
			{Name: "triage-probe", Arch: "i686", Version: "2:1.10-3"},
		},
		"triage-probe.i686":   {{Name: "triage-probe", Arch: "i686", Version: "2:1.10-3"}},
		"triage-probe.noarch": {{Name: "triage-probe", Arch: "noarch", Version: "2:1.2-3"}},
		"triage-plain++":      {{Name: "triage-plain++", Arch: "x86_64", Version: "0.9-1.fc40"}},
		// rpm -q answers these with the package; they are not its name.
		"triage-probe-1.2":    nil,
		"triage-probe-1.10-3": nil,
		"triage-probe.s390x":  nil,
		"triage-probe.bogus":  nil,
		"triage-probe.*":      nil,
		"triage-missing":      nil,
	} {
		target.ran = nil
		got, err := queryRPM(ctx, target, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sortPkgs := func(p []installedPkg) {
			slices.SortFunc(p, func(a, b installedPkg) int { return strings.Compare(a.Arch+a.Version, b.Arch+b.Version) })
		}
		sortPkgs(got)
		sortPkgs(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: rpm -q gives %+v, want %+v", name, got, want)
		}
		// The whole listing, as triage read it before, agrees.
		listed := filterRPM(parseRPMQuery(all), name)
		sortPkgs(listed)
		if !reflect.DeepEqual(got, listed) {
			t.Errorf("%s: rpm -q gives %+v, rpm -qa %+v", name, got, listed)
		}
		// rpm's own "not installed" is recognised, with no listing after.
		if rpmName(name) && (len(target.ran) != 1 || target.ran[0][1] != "-q") {
			t.Errorf("%s: ran %q", name, target.ran)
		}
	}

	p := newPackage("triage-probe", func(p *Package) { p.Manager, p.Version = "rpm", "< 1.5" })
	r := p.Run(ctx, target)
	checkResult(t, r, diag.Pass)
	if want := "triage-probe 2:1.2-3 is installed (rpm), as required (< 1.5); newer installed: 2:1.10-3"; r.Message != want {
		t.Errorf("message %q, want %q", r.Message, want)
	}
	checkResult(t, newPackage("triage-missing", func(p *Package) { p.Manager = "rpm" }).Run(ctx, target), diag.Fail)

	// A damaged database is an error, never "not installed", although
	// rpm -q says "package triage-missing is not installed" too.
	files, _ := filepath.Glob(filepath.Join(db, "*"))
	for _, f := range files {
		if err := os.WriteFile(f, bytes.Repeat([]byte("not a database "), 512), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = newPackage("triage-missing", func(p *Package) { p.Manager = "rpm" }).Run(ctx, target)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "rpm: rpm -qa") {
		t.Errorf("message %q", r.Message)
	}
}
