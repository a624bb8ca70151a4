package syscheck

import (
	"context"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestCompareDotted(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"12", "12", 0},
		{"12", "11", 1},
		{"22.04", "24.04", -1},
		{"22.10", "22.04", 1},
		{"5.15", "5.4", 1},
		{"12.1", "12", 1},
		{"3.19.1", "3.19", 1},
		{"9", "10", -1},
		{"2023", "2", 1},
		{"15.5", "15.05", 0}, // numbers, not decimal fractions
		{"1a", "1", 1},
		{"1a", "1b", -1},
		{"1.a", "1.1", -1}, // a number beats letters
		{"", "1", -1},
	} {
		if got := compareDotted(tc.a, tc.b); got != tc.want {
			t.Errorf("compareDotted(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareDotted(tc.b, tc.a); got != -tc.want {
			t.Errorf("compareDotted(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	for k, want := range map[string]string{"6.1.0-18-amd64": "6.1.0", "5.15.0-91-generic": "5.15.0", "4.19.": "4.19", "x": ""} {
		if got := kernelNumber(k); got != want {
			t.Errorf("kernelNumber(%q) = %q, want %q", k, got, want)
		}
	}
}

func FuzzCompareDotted(f *testing.F) {
	f.Add("22.04", "22.10")
	f.Add("1..2", "1.-2")
	f.Fuzz(func(t *testing.T, a, b string) {
		if compareDotted(a, b) != -compareDotted(b, a) {
			t.Fatalf("compareDotted(%q, %q) is not antisymmetric", a, b)
		}
		if compareDotted(a, a) != 0 {
			t.Fatalf("compareDotted(%q, itself) != 0", a)
		}
	})
}

func TestOSValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    OS
		want []string
	}{
		{"empty", OS{}, nil},
		{"good", OS{Distro: []string{"debian", "ubuntu"}, MinVersion: "22.04", MinKernel: "5.15"}, nil},
		{"capitalised distro", OS{Distro: []string{"Debian"}}, []string{"distro"}},
		{"bad version", OS{MinVersion: ">= 12"}, []string{"min_version"}},
		{"letters", OS{MinKernel: "five"}, nil}, // letters compare too
		{"spaces", OS{MinKernel: "5 15"}, []string{"min_kernel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(tc.o.Validate()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields = %q, want %q", got, tc.want)
			}
		})
	}
}

func ubuntuTarget(t *testing.T) *fakeTarget {
	ft := newFake().withFile(t, "/etc/os-release", "etc/os-release-ubuntu").withFile(t, "/proc/uptime", "uptime/45-days.txt")
	ft.facts.Hostname, ft.facts.Kernel = "web1", "5.15.0-91-generic"
	return ft
}

func TestOSKind(t *testing.T) {
	ft := ubuntuTarget(t)
	r := (&OS{}).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Message != "web1: Ubuntu 22.04.4 LTS, kernel 5.15.0-91-generic, up 45 days" {
		t.Errorf("message %q", r.Message)
	}
	want := map[string]any{
		"os": "linux", "arch": "amd64", "hostname": "web1", "kernel": "5.15.0-91-generic",
		"distro": "ubuntu", "distro_version": "22.04", "pretty_name": "Ubuntu 22.04.4 LTS",
		"id_like": []string{"debian"}, "version_codename": "jammy", "uptime_seconds": int64(3888000),
	}
	if !reflect.DeepEqual(r.Observed, want) {
		t.Errorf("observed\n got %v\nwant %v", r.Observed, want)
	}

	checkResult(t, (&OS{Distro: []string{"debian", "ubuntu"}, MinVersion: "22.04", MinKernel: "5.15"}).Run(context.Background(), ft), diag.Pass)
	r = (&OS{Distro: []string{"debian"}}).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, `distribution "ubuntu" is not one of debian`) {
		t.Errorf("message %q", r.Message)
	}
	r = (&OS{MinVersion: "24.04"}).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "version 22.04 is older than the 24.04 minimum") {
		t.Errorf("message %q", r.Message)
	}
	r = (&OS{MinKernel: "6.1"}).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "kernel 5.15.0-91-generic is older than the 6.1 minimum") {
		t.Errorf("message %q", r.Message)
	}
}

func TestOSRollingRelease(t *testing.T) {
	ft := newFake().withFile(t, "/usr/lib/os-release", "etc/os-release-arch")
	r := (&OS{}).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Observed["distro"] != "arch" || r.Observed["distro_version"] != "" {
		t.Errorf("observed %v", r.Observed)
	}
	// No version to compare is "could not check", not "too old".
	checkResult(t, (&OS{MinVersion: "1"}).Run(context.Background(), ft), diag.Error)
}

func TestOSOtherPlatforms(t *testing.T) {
	ft := newFake()
	ft.facts = diag.Facts{OS: "windows", Arch: "amd64", Hostname: "PC1", Distro: "windows", DistroVersion: "10.0", Kernel: "10.0.19045"}
	r := (&OS{Distro: []string{"windows"}, MinVersion: "10"}).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Message != "PC1: windows 10.0, kernel 10.0.19045" {
		t.Errorf("message %q", r.Message)
	}
	ft.facts = diag.Facts{OS: "darwin", Distro: "macos", Kernel: "23.4.0"}
	checkResult(t, (&OS{MinVersion: "14"}).Run(context.Background(), ft), diag.Error)

	ft.factsErr = context.DeadlineExceeded
	checkResult(t, (&OS{}).Run(context.Background(), ft), diag.Error)
}

func TestOSOnThisMachine(t *testing.T) {
	r := (&OS{}).Run(context.Background(), diag.NewLocal())
	checkResult(t, r, diag.Pass)
	if r.Observed["os"] != runtime.GOOS {
		t.Errorf("os = %v", r.Observed["os"])
	}
	if runtime.GOOS != "linux" {
		return
	}
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		t.Skip("no /etc/os-release here")
	}
	rel := diag.ParseOSRelease(data)
	if r.Observed["distro"] != rel["ID"] || r.Observed["distro_version"] != rel["VERSION_ID"] {
		t.Errorf("observed %v, os-release says %s %s", r.Observed, rel["ID"], rel["VERSION_ID"])
	}
	if _, ok := r.Observed["uptime_seconds"]; !ok {
		t.Error("no uptime on Linux")
	}
}
