package pkgcheck

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// regQueryEntries reads a recording of `reg query KEY /s` into the entries
// the Windows source reads from the same keys with the registry API.
func regQueryEntries(t *testing.T, data []byte) []uninstallEntry {
	t.Helper()
	var out []uninstallEntry
	var cur *uninstallEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "HKEY_") {
			if cur != nil {
				out = append(out, *cur)
			}
			hive, key, _ := strings.Cut(line, `\Uninstall\`)
			cur = &uninstallEntry{Key: key, Hive: hive}
			continue
		}
		f := strings.SplitN(strings.TrimSpace(line), "    ", 3)
		if cur == nil || len(f) < 2 {
			continue
		}
		val := ""
		if len(f) == 3 {
			val = f[2]
		}
		switch f[0] {
		case "DisplayName":
			cur.DisplayName = val
		case "DisplayVersion":
			cur.DisplayVersion = val
		case "Publisher":
			cur.Publisher = val
		case "ParentKeyName":
			cur.ParentKeyName = val
		case "ReleaseType":
			cur.ReleaseType = val
		case "SystemComponent":
			n, err := strconv.ParseUint(strings.TrimPrefix(val, "0x"), 16, 64)
			if err != nil {
				t.Fatalf("SystemComponent %q", val)
			}
			cur.SystemComponent = n
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

func TestMatchPrograms(t *testing.T) {
	entries := regQueryEntries(t, readTestdata(t, "windows/reg-query-uninstall.txt"))
	if len(entries) != 13 {
		t.Fatalf("read %d entries from the recording", len(entries))
	}
	for _, tc := range []struct {
		name string
		want []installedPkg
	}{
		{"Google Chrome", []installedPkg{{Name: "Google Chrome", Version: "120.0.6099.217"}}}, // in both views, listed once
		{"google chrome", []installedPkg{{Name: "Google Chrome", Version: "120.0.6099.217"}}},
		{"7-Zip", []installedPkg{{Name: "7-Zip 23.01 (x64)", Version: "23.01"}}},
		{"Mozilla Firefox", []installedPkg{{Name: "Mozilla Firefox (x64 en-US)", Version: "121.0.1"}}},
		// By the key's name.
		{"Notepad++", []installedPkg{{Name: "Notepad++ (32-bit x86)", Version: "8.6.2"}}},
		{"{90160000-008C-0000-1000-0000000FF1CE}", []installedPkg{{Name: "Microsoft Office Professional Plus 2016", Version: "16.0.4266.1001"}}},
		{"Microsoft Visual C++ 2015-2022 Redistributable (x64)", []installedPkg{{Name: "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33130", Version: "14.38.33130.0"}}},
		{"Zoom", []installedPkg{{Name: "Zoom", Version: "5.17.5 (31030)"}}}, // HKCU
		// Hidden system components and updates are not programs.
		{"Microsoft Visual C++ 2022 X64 Minimum Runtime", nil},
		{"Security Update for Microsoft Office 2016", nil},
		{"Connection Manager", nil},
		// A prefix must end at a word: "Zoo" is not Zoom.
		{"Zoo", nil},
	} {
		got := matchPrograms(entries, tc.name)
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPackageOnWindows(t *testing.T) {
	// The registry is read on this machine only: a Windows target reached
	// some other way has no source.
	win := newFake()
	win.facts = diag.Facts{OS: "windows"}
	r := newPackage("Google Chrome", nil).Run(context.Background(), win)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "none of registry") {
		t.Errorf("message %q", r.Message)
	}
	// The versions Windows programs carry compare as upstream versions.
	if genericScheme.compare("120.0.6099.217", "120.0.6099.109") <= 0 || genericScheme.compare("5.17.5 (31030)", "5.17.11 (1234)") >= 0 {
		t.Error("generic versions compare wrongly")
	}
}
