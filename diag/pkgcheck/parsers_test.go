package pkgcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDpkgStatus(t *testing.T) {
	var got []dpkgStatus
	err := parseDpkgStatus(bytes.NewReader(readTestdata(t, "dpkg-status")), func(s dpkgStatus) bool {
		got = append(got, s)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []dpkgStatus{
		{"bash", "amd64", "5.2.15-2+b8", "install ok installed"},
		{"libc6", "amd64", "2.36-9+deb12u4", "install ok installed"},
		{"libc6", "i386", "2.36-9+deb12u4", "install ok installed"},
		{"openssh-client", "amd64", "1:9.2p1-2+deb12u2", "hold ok installed"},
		{"vim", "amd64", "2:9.0.1378-2", "install ok installed"},
		{"nginx", "amd64", "1.22.1-9", "install ok half-configured"},
		{"apache2", "amd64", "2.4.57-2", "deinstall ok config-files"},
		{"openssl", "amd64", "3.0.11-1~deb12u2", "install ok installed"},
		{"man-db", "amd64", "2.11.2-2", "install ok triggers-pending"},
		{"libbroken", "amd64", "0.1-1", "install reinstreq half-installed"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}

	// Stopping early stops.
	n := 0
	parseDpkgStatus(bytes.NewReader(readTestdata(t, "dpkg-status")), func(dpkgStatus) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("callback ran %d times after asking to stop at 2", n)
	}
	// A line longer than the cap is an error, not a silent truncation.
	long := "Package: x\nDescription: " + strings.Repeat("a", maxLine+1) + "\n"
	if err := parseDpkgStatus(strings.NewReader(long), func(dpkgStatus) bool { return true }); err == nil {
		t.Error("a line beyond the cap was accepted")
	}
}

func TestDpkgState(t *testing.T) {
	for status, want := range map[string]struct {
		installed bool
		broken    string
	}{
		"install ok installed":             {true, ""},
		"hold ok installed":                {true, ""},
		"install ok triggers-pending":      {true, ""},
		"install ok half-configured":       {false, "half-configured"},
		"install ok unpacked":              {false, "unpacked"},
		"install reinstreq half-installed": {false, "half-installed"},
		"install reinstreq installed":      {false, "reinstreq"},
		"deinstall ok config-files":        {false, ""},
		"purge ok not-installed":           {false, ""},
		"garbage":                          {false, ""},
	} {
		installed, broken := dpkgState(status)
		if installed != want.installed || broken != want.broken {
			t.Errorf("dpkgState(%q) = %v, %q; want %v, %q", status, installed, broken, want.installed, want.broken)
		}
	}
}

func FuzzParseDpkgStatus(f *testing.F) {
	f.Add(readTestdata(f, "dpkg-status"))
	f.Add([]byte("Package: a\n\n\nPackage: b\n Version: 1\nStatus: x y z\n"))
	f.Add([]byte(":\n \n\t\nPackage:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseDpkgStatus(bytes.NewReader(data), func(s dpkgStatus) bool {
			dpkgState(s.Status)
			return true
		})
	})
}

func TestParseRPMQuery(t *testing.T) {
	got := parseRPMQuery(readTestdata(t, "rpm-qa.txt"))
	if len(got) != 10 {
		t.Fatalf("parsed %d packages, want 10: %v", len(got), got)
	}
	for i, want := range map[int]installedPkg{
		0: {Name: "openssl", Arch: "x86_64", Version: "1:3.0.7-27.el9"},
		1: {Name: "bash", Arch: "x86_64", Version: "5.1.8-9.el9"},
		5: {Name: "glibc", Arch: "i686", Version: "2.34-100.el9"},
		6: {Name: "vim-enhanced", Arch: "x86_64", Version: "2:8.2.2637-20.el9_1"},
		7: {Name: "gpg-pubkey", Arch: "", Version: "8483c65d-5ccc5b19"},
		9: {Name: "libstdc++", Arch: "x86_64", Version: "11.4.1-3.el9"},
	} {
		if got[i] != want {
			t.Errorf("package %d = %+v, want %+v", i, got[i], want)
		}
	}
	// rpm prints (none) for a missing tag when asked plainly.
	if p := parseRPMQuery([]byte("x\t(none)\t1.0\t(none)\t(none)\n")); len(p) != 1 || p[0].Version != "1.0" || p[0].Arch != "" {
		t.Errorf("(none) fields: %+v", p)
	}
}

func TestParseAPKInstalled(t *testing.T) {
	var got []installedPkg
	if err := parseAPKInstalled(bytes.NewReader(readTestdata(t, "apk-installed")), func(p installedPkg) bool {
		got = append(got, p)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := []installedPkg{
		{Name: "musl", Arch: "x86_64", Version: "1.2.4_git20230717-r4"},
		{Name: "busybox", Arch: "x86_64", Version: "1.36.1-r15"},
		{Name: "openssl", Arch: "x86_64", Version: "3.1.4-r5"},
		{Name: "curl", Arch: "x86_64", Version: "8.5.0-r0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseNameVersion(t *testing.T) {
	got := parseNameVersion(readTestdata(t, "pacman-Q.txt"))
	if len(got) != 9 || got[8] != (installedPkg{Name: "zlib", Version: "1:1.3.1-1"}) || got[3].Version != "6.7.9.arch1-1" {
		t.Errorf("got %+v", got)
	}
	if got := parseNameVersion([]byte("error: something\nok 1\n")); len(got) != 1 {
		t.Errorf("non-package lines were read: %+v", got)
	}
}

func TestParseFlatpakList(t *testing.T) {
	got := parseFlatpakList(readTestdata(t, "flatpak-list.txt"))
	if len(got) != 6 {
		t.Fatalf("got %d apps: %+v", len(got), got)
	}
	if got[2] != (installedPkg{Name: "org.gnome.Platform"}) || got[3] != (installedPkg{Name: "org.mozilla.firefox", Version: "123.0.1"}) {
		t.Errorf("got %+v", got)
	}
	// The terminal layout, header included.
	tty := "Application ID              Version\norg.mozilla.firefox         123.0.1\n"
	if got := parseFlatpakList([]byte(tty)); len(got) != 1 || got[0].Version != "123.0.1" {
		t.Errorf("tty layout: %+v", got)
	}
}

func TestParseSnapList(t *testing.T) {
	got := parseSnapList(readTestdata(t, "snap-list.txt"))
	if len(got) != 7 {
		t.Fatalf("got %d snaps: %+v", len(got), got)
	}
	if got[2] != (installedPkg{Name: "firefox", Version: "123.0.1-1"}) {
		t.Errorf("got %+v", got[2])
	}
	if got := parseSnapList([]byte("No snaps are installed yet. Try 'snap install hello-world'.\n")); len(got) != 0 {
		t.Errorf("a message was read as a snap: %+v", got)
	}
	all := "Name  Version  Rev  Tracking  Publisher  Notes\nlxd  5.0.2  24322  5.0/stable  canonical  disabled\nlxd  5.0.3  27037  5.0/stable  canonical  -\n"
	if got := parseSnapList([]byte(all)); len(got) != 1 || got[0].Version != "5.0.3" {
		t.Errorf("disabled revisions: %+v", got)
	}
}

func FuzzParseListings(f *testing.F) {
	for _, name := range []string{"rpm-qa.txt", "pacman-Q.txt", "flatpak-list.txt", "snap-list.txt", "apk-installed"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte("\t\t\t\t\n\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parseRPMQuery(data) {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("rpm: empty name or version in %+v", p)
			}
		}
		for _, list := range [][]installedPkg{parseNameVersion(data), parseFlatpakList(data), parseSnapList(data)} {
			for _, p := range list {
				if p.Name == "" {
					t.Fatalf("empty name in %+v", p)
				}
			}
		}
		parseAPKInstalled(bytes.NewReader(data), func(p installedPkg) bool {
			if p.Name == "" {
				t.Fatalf("apk: empty name in %+v", p)
			}
			return true
		})
	})
}
