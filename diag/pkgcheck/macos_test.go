package pkgcheck

import (
	"context"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/triage-dev/triage/diag"
)

// slackPlist is Slack's Info.plist written as a binary property list, the
// form Xcode produces when a project asks for it.
func slackPlist(t *testing.T) []byte {
	t.Helper()
	data, err := plist.Marshal(map[string]any{
		"CFBundleIdentifier":         "com.tinyspeck.slackmacgap",
		"CFBundleName":               "Slack",
		"CFBundleShortVersionString": "4.36.140",
		"CFBundleVersion":            "436140",
		"LSMinimumSystemVersion":     "10.15",
		"NSHighResolutionCapable":    true,
	}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "bplist00") {
		t.Fatalf("not a binary plist: %q", data[:8])
	}
	return data
}

func TestParseInfoPlist(t *testing.T) {
	for _, tc := range []struct {
		name          string
		data          []byte
		id, version   string
		matches, miss string
	}{
		{"XML", readTestdata(t, "macos/Firefox-Info.plist"), "org.mozilla.firefox", "121.0.1", "firefox", "Safari"},
		{"binary", slackPlist(t), "com.tinyspeck.slackmacgap", "4.36.140", "com.tinyspeck.slackmacgap", "Slack Beta"},
		{"OpenStep", readTestdata(t, "macos/OldTool-Info.plist"), "com.example.oldtool", "2.4", "old tool", "oldtool"},
	} {
		bi, err := parseInfoPlist(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if bi.ID != tc.id || bi.version() != tc.version {
			t.Errorf("%s: %+v", tc.name, bi)
		}
		if !bi.matches(tc.matches, "") || bi.matches(tc.miss, "") {
			t.Errorf("%s: matches(%q)=%v matches(%q)=%v", tc.name, tc.matches, bi.matches(tc.matches, ""), tc.miss, bi.matches(tc.miss, ""))
		}
	}
	if _, err := parseInfoPlist([]byte("<plist><dict><key>LSUIElement</key><true/></dict></plist>")); err == nil {
		t.Error("an Info.plist without identifier or name was accepted")
	}
	if _, err := parseInfoPlist([]byte("not a plist at all \x00\x01")); err == nil {
		t.Error("garbage was accepted")
	}
}

func FuzzParseInfoPlist(f *testing.F) {
	f.Add(readTestdata(f, "macos/Firefox-Info.plist"))
	f.Add(readTestdata(f, "macos/OldTool-Info.plist"))
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bi, err := parseInfoPlist(data)
		if err == nil && bi.ID == "" && bi.Name == "" {
			t.Fatal("accepted an Info.plist that names nothing")
		}
	})
}

func TestParseMacOSListings(t *testing.T) {
	apps := parseAppList(readTestdata(t, "macos/ls-Applications.txt"))
	want := []string{"Firefox", "Google Chrome", "Microsoft Teams", "Old Tool", "Safari", "Slack", "zoom.us"}
	if strings.Join(apps, "|") != strings.Join(want, "|") {
		t.Errorf("apps %q, want %q", apps, want)
	}
	info := parsePkgutilInfo(readTestdata(t, "macos/pkgutil-pkg-info-teams.txt"))
	if info["package-id"] != "com.microsoft.teams2" || info["version"] != "24004.1403.2634.2418" || info["volume"] != "/" {
		t.Errorf("pkgutil info %v", info)
	}
	brew := parseBrewVersions(readTestdata(t, "macos/brew-list-versions-openssl.txt"))
	if len(brew) != 2 || brew[0] != (installedPkg{Name: "openssl@3", Version: "3.2.1"}) || brew[1].Version != "3.2.0" {
		t.Errorf("brew %+v", brew)
	}
	if got := parseBrewVersions([]byte("\n")); len(got) != 0 {
		t.Errorf("an empty line gave %+v", got)
	}
}

// macTarget is a Mac with Firefox (XML plist), Slack (binary plist) and an
// old tool (OpenStep plist) in /Applications, the Teams installer receipt
// and Homebrew's openssl@3.
func macTarget(t *testing.T) *fakeTarget {
	ft := newFake()
	ft.facts = diag.Facts{OS: "darwin", Arch: "arm64", Distro: "macos", DistroVersion: "14.4.1"}
	ft.dirs["/Applications"] = true
	ft.files["/Applications/Firefox.app/Contents/Info.plist"] = readTestdata(t, "macos/Firefox-Info.plist")
	ft.files["/Applications/Slack.app/Contents/Info.plist"] = slackPlist(t)
	ft.files["/Applications/Old Tool.app/Contents/Info.plist"] = readTestdata(t, "macos/OldTool-Info.plist")
	ft.cmds["ls -1 /Applications"] = diag.CommandResult{Stdout: readTestdata(t, "macos/ls-Applications.txt")}
	ft.cmds["ls -1 /Applications/Utilities"] = diag.CommandResult{Stdout: []byte("Terminal.app\n")}
	ft.cmds["ls -1 /System/Applications"] = diag.CommandResult{ExitCode: 1, Stderr: []byte("ls: /System/Applications: No such file or directory\n")}
	ft.cmds["ls -1 /System/Applications/Utilities"] = diag.CommandResult{ExitCode: 1}
	ft.cmds["pkgutil --pkg-info com.microsoft.teams2"] = diag.CommandResult{Stdout: readTestdata(t, "macos/pkgutil-pkg-info-teams.txt")}
	ft.cmds["pkgutil --pkg-info org.mozilla.firefox"] = diag.CommandResult{ExitCode: 1, Stderr: []byte("No receipt for 'org.mozilla.firefox' found at '/'.\n")}
	ft.cmds["pkgutil --pkg-info com.tinyspeck.slackmacgap"] = diag.CommandResult{ExitCode: 1, Stderr: []byte("No receipt for 'com.tinyspeck.slackmacgap' found at '/'.\n")}
	ft.cmds["pkgutil --pkg-info com.example.nothing"] = diag.CommandResult{ExitCode: 1, Stderr: readTestdata(t, "macos/pkgutil-no-receipt.txt")}
	// brew is not on the PATH of a program started from the Dock, but in
	// Homebrew's prefix for Apple silicon.
	ft.cmds["/opt/homebrew/bin/brew list --versions openssl@3"] = diag.CommandResult{Stdout: readTestdata(t, "macos/brew-list-versions-openssl.txt")}
	for _, n := range []string{"Firefox", "org.mozilla.firefox", "Slack", "com.tinyspeck.slackmacgap", "com.microsoft.teams2", "com.example.nothing", "Old Tool", "Keynote"} {
		ft.cmds["/opt/homebrew/bin/brew list --versions "+n] = diag.CommandResult{ExitCode: 1}
	}
	return ft
}

func TestPackageOnMacOS(t *testing.T) {
	mac := macTarget(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, version string
		status        diag.Status
		fragment      string
	}{
		{"Firefox", ">= 120", diag.Pass, "Firefox 121.0.1 is installed (app), as required"},
		{"Firefox", ">= 122", diag.Fail, "Firefox 121.0.1 is installed (app); required >= 122"},
		// By bundle identifier: every app's Info.plist is read, binary too.
		{"com.tinyspeck.slackmacgap", "", diag.Pass, "com.tinyspeck.slackmacgap 4.36.140 is installed (app)"},
		{"Old Tool", "", diag.Pass, "Old Tool 2.4 is installed (app)"},
		{"com.microsoft.teams2", ">= 24000", diag.Pass, "com.microsoft.teams2 24004.1403.2634.2418 is installed (pkgutil)"},
		{"openssl@3", ">= 3.2", diag.Pass, "openssl@3 3.2.1 is installed (brew)"},
		{"Keynote", "", diag.Fail, "Keynote is not installed (asked app, brew)"},
	} {
		r := newPackage(tc.name, func(p *Package) { p.Version = tc.version }).Run(ctx, mac)
		checkResult(t, r, tc.status)
		if !strings.Contains(r.Message, tc.fragment) {
			t.Errorf("%s %s: message %q lacks %q", tc.name, tc.version, r.Message, tc.fragment)
		}
	}
	r := newPackage("Keynote", nil).Run(ctx, mac)
	if !strings.Contains(r.Hint, "App Store") {
		t.Errorf("hint %q", r.Hint)
	}
	// A receipt that is not there.
	r = newPackage("com.example.nothing", func(p *Package) { p.Manager = "pkgutil" }).Run(ctx, mac)
	checkResult(t, r, diag.Fail)
	// Homebrew refusing to run is not "not installed".
	mac.cmds["/opt/homebrew/bin/brew list --versions Keynote"] = diag.CommandResult{ExitCode: 1, Stderr: []byte("Error: Running Homebrew as root is extremely dangerous and no longer supported.\n")}
	checkResult(t, newPackage("Keynote", nil).Run(ctx, mac), diag.Error)
}

func FuzzParseMacOSListings(f *testing.F) {
	f.Add(readTestdata(f, "macos/brew-list-versions-openssl.txt"))
	f.Add(readTestdata(f, "macos/pkgutil-pkg-info-teams.txt"))
	f.Add(readTestdata(f, "macos/ls-Applications.txt"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parseBrewVersions(data) {
			if p.Name == "" || p.Version == "" || strings.ContainsAny(p.Version, " \t\n") {
				t.Fatalf("brew package %+v", p)
			}
		}
		for _, a := range parseAppList(data) {
			if strings.TrimSpace(a) == "" {
				t.Fatalf("an app without a name from %q", data)
			}
		}
		parsePkgutilInfo(data)
	})
}
