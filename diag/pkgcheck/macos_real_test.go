package pkgcheck

import (
	"context"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// The files in testdata/macos-real were published by other people from
// real Macs or real application bundles; testdata/macos-real/SOURCES.md
// says where each came from and what, if anything, was changed.

func TestParseInfoPlistRealBundles(t *testing.T) {
	for _, tc := range []struct {
		file                  string
		id, name, version     string
		matches, folder, miss string
	}{
		// Apple's Photo Booth 6.0 (build 517) from OS X 10.9: no
		// CFBundleName, so only its folder name or identifier find it.
		{"PhotoBooth-Info.plist", "com.apple.PhotoBooth", "", "6.0", "Photo Booth", "Photo Booth", "Photo Booth Library"},
		// Sparkle's updater app as Sparkle 1.8.0 ships it: a short
		// version that is not only numbers, and no CFBundleName either.
		{"Sparkle-Autoupdate-Info.plist", "org.sparkle-project.Sparkle.Autoupdate", "", "1.8.0 git-c66524b", "org.sparkle-project.sparkle.autoupdate", "Autoupdate", "Sparkle"},
		// A PyInstaller bundle: PyInstaller's placeholder version 0.0.0,
		// and a display name different from the bundle name.
		{"PyInstaller-Info.plist", "test", "upload_tool", "0.0.0", "upload_tool", "", "upload tool"},
	} {
		bi, err := parseInfoPlist(readTestdata(t, "macos-real/"+tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if bi.ID != tc.id || bi.Name != tc.name || bi.version() != tc.version {
			t.Errorf("%s: id %q name %q version %q, want %q %q %q", tc.file, bi.ID, bi.Name, bi.version(), tc.id, tc.name, tc.version)
		}
		if !bi.matches(tc.matches, tc.folder) {
			t.Errorf("%s: does not match %q (folder %q)", tc.file, tc.matches, tc.folder)
		}
		if bi.matches(tc.miss, "") {
			t.Errorf("%s: matches %q", tc.file, tc.miss)
		}
	}
	sparkle, _ := parseInfoPlist(readTestdata(t, "macos-real/Sparkle-Autoupdate-Info.plist"))
	if sparkle.Version != "1.8.0" {
		t.Errorf("Sparkle CFBundleVersion %q, want 1.8.0", sparkle.Version)
	}
	pyi, _ := parseInfoPlist(readTestdata(t, "macos-real/PyInstaller-Info.plist"))
	if pyi.DisplayName != "test" || !pyi.matches("TEST", "") {
		t.Errorf("PyInstaller display name %q", pyi.DisplayName)
	}
}

// pyInstallerIntegerPlist is an Info.plist around the two lines that
// PyInstaller wrote for version=1, as published in
// pyinstaller/pyinstaller#4466 (PyInstaller-integer-version-fragment.txt).
// The envelope and the other keys are ours; the fragment is as published.
func pyInstallerIntegerPlist(t *testing.T) []byte {
	t.Helper()
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleIdentifier</key>
	<string>com.example.myapp</string>
	<key>CFBundleName</key>
	<string>MyApp</string>
` + string(readTestdata(t, "macos-real/PyInstaller-integer-version-fragment.txt")) + `</dict>
</plist>
`)
}

func TestParseInfoPlistNumericVersion(t *testing.T) {
	// A number where a string belongs used to fail the whole file, and
	// the app read as not installed.
	bi, err := parseInfoPlist(pyInstallerIntegerPlist(t))
	if err != nil {
		t.Fatalf("an integer CFBundleShortVersionString was refused: %v", err)
	}
	if bi.ID != "com.example.myapp" || bi.version() != "1" {
		t.Errorf("read as %+v, version %q", bi, bi.version())
	}
	// The same for a real number in CFBundleVersion, the form
	// plistlib writes for a Python float.
	bi, err = parseInfoPlist([]byte(`<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>a.b</string><key>CFBundleVersion</key><real>2.5</real><key>CFBundleName</key><array><string>odd</string></array></dict></plist>`))
	if err != nil || bi.version() != "2.5" || bi.Name != "" {
		t.Errorf("read as %+v, %v", bi, err)
	}
}

func TestParsePkgutilInfoRealRecordings(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]string
	}{
		// Chef DK's receipt: installed under /opt, so its location is
		// relative to the volume.
		{"pkgutil-pkg-info-chefdk-specinfra-174.txt", map[string]string{
			"package-id": "com.getchef.pkg.chefdk", "version": "0.2.0", "volume": "/",
			"location": "opt/chefdk", "install-time": "1406598641"}},
		// A receipt whose version ends in a dash, as its package was
		// built.
		{"pkgutil-pkg-info-swift-prefs-2.txt", map[string]string{
			"package-id": "com.scriptingosx.swift-prefs-tools", "version": "0.1-", "volume": "/",
			"location": "usr/local/bin/"}},
	} {
		got := parsePkgutilInfo(readTestdata(t, "macos-real/"+tc.file))
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d fields %v, want %d", tc.file, len(got), got, len(tc.want))
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.file, k, got[k], v)
			}
		}
	}
}

func TestParseBrewVersionsRealRecordings(t *testing.T) {
	// A CI Mac that kept old kegs: 32 formulae, 15 of them with two
	// versions, and HEAD builds.
	ros := parseBrewVersions(readTestdata(t, "macos-real/brew-list-versions-ros2-ci-27.txt"))
	if len(ros) != 47 {
		t.Errorf("ros2 CI: %d packages, want 47", len(ros))
	}
	versions := map[string][]string{}
	for _, p := range ros {
		versions[p.Name] = append(versions[p.Name], p.Version)
	}
	for name, want := range map[string]string{
		"boost":   "1.61.0_1 1.63.0",
		"ccache":  "HEAD-8bc5227 HEAD-f253566",
		"openssl": "1.0.2j 1.0.2k",
		"jpeg":    "8d",
		"python3": "3.5.2_2 3.6.0",
	} {
		if got := strings.Join(versions[name], " "); got != want {
			t.Errorf("ros2 CI: %s %q, want %q", name, got, want)
		}
	}

	// A developer's Mac: one version each, some of them dates or with
	// the formula's own suffixes.
	dev := parseBrewVersions(readTestdata(t, "macos-real/brew-list-versions-node-exist-223.txt"))
	if len(dev) != 86 {
		t.Errorf("node-exist: %d packages, want 86", len(dev))
	}
	byName := map[string]string{}
	for _, p := range dev {
		byName[p.Name] = p.Version
	}
	for name, want := range map[string]string{
		"ffmpeg":          "5.0-with-options_1",
		"ffmpeg@4":        "4.4.1",
		"ca-certificates": "2022-02-01",
		"imagemagick":     "7.1.0-26",
		"atomicparsley":   "20210715.151551.e7ad03a",
	} {
		if byName[name] != want {
			t.Errorf("node-exist: %s %q, want %q", name, byName[name], want)
		}
	}
}

// realMac is a Mac with Photo Booth in /Applications (as on OS X 10.9),
// the PyInstaller app with a numeric version, and the Chef DK receipt,
// each as their real files and outputs.
func realMac(t *testing.T) *fakeTarget {
	ft := newFake()
	ft.facts = diag.Facts{OS: "darwin", Arch: "amd64", Distro: "macos", DistroVersion: "10.9.2"}
	ft.dirs["/Applications"] = true
	ft.files["/Applications/Photo Booth.app/Contents/Info.plist"] = readTestdata(t, "macos-real/PhotoBooth-Info.plist")
	ft.files["/Applications/MyApp.app/Contents/Info.plist"] = pyInstallerIntegerPlist(t)
	ft.cmds["ls -1 /Applications"] = diag.CommandResult{Stdout: []byte("MyApp.app\nPhoto Booth.app\n")}
	for _, dir := range []string{"/Applications/Utilities", "/System/Applications", "/System/Applications/Utilities"} {
		ft.cmds["ls -1 "+dir] = diag.CommandResult{ExitCode: 1}
	}
	ft.cmds["pkgutil --pkg-info com.getchef.pkg.chefdk"] = diag.CommandResult{Stdout: readTestdata(t, "macos-real/pkgutil-pkg-info-chefdk-specinfra-174.txt")}
	ft.cmds["pkgutil --pkg-info com.apple.PhotoBooth"] = diag.CommandResult{ExitCode: 1, Stderr: []byte("No receipt for 'com.apple.PhotoBooth' found at '/'.\n")}
	return ft
}

func TestPackageOnRealMac(t *testing.T) {
	mac := realMac(t)
	for _, tc := range []struct {
		name, version string
		status        diag.Status
		fragment      string
	}{
		{"Photo Booth", ">= 6", diag.Pass, "Photo Booth 6.0 is installed (app), as required"},
		{"com.apple.PhotoBooth", ">= 6.1", diag.Fail, "com.apple.PhotoBooth 6.0 is installed (app); required >= 6.1"},
		{"MyApp", ">= 1", diag.Pass, "MyApp 1 is installed (app), as required"},
		{"com.getchef.pkg.chefdk", ">= 0.2", diag.Pass, "com.getchef.pkg.chefdk 0.2.0 is installed (pkgutil)"},
	} {
		r := newPackage(tc.name, func(p *Package) { p.Version = tc.version }).Run(context.Background(), mac)
		checkResult(t, r, tc.status)
		if !strings.Contains(r.Message, tc.fragment) {
			t.Errorf("%s %s: message %q lacks %q", tc.name, tc.version, r.Message, tc.fragment)
		}
	}
}
