package pkgcheck

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

type vcase struct {
	a, b string
	want int
}

// checkCompare runs a table both ways round: every comparer must be
// antisymmetric.
func checkCompare(t *testing.T, name string, cmp func(a, b string) int, cases []vcase) {
	t.Helper()
	for _, c := range cases {
		if got := cmp(c.a, c.b); got != c.want {
			t.Errorf("%s(%q, %q) = %d, want %d", name, c.a, c.b, got, c.want)
		}
		if got := cmp(c.b, c.a); got != -c.want {
			t.Errorf("%s(%q, %q) = %d, want %d", name, c.b, c.a, got, -c.want)
		}
	}
}

// Debian Policy 5.6.12 and dpkg's own test suite (t-version.c).
var debianCases = []vcase{
	{"1.0", "1.0", 0},
	{"1.0", "1.1", -1},
	{"1.0~rc1", "1.0", -1}, // ~ sorts before the end
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~~", "1.0~", -1}, // ~~ before ~
	{"1.0~~a", "1.0~~", 1},
	{"1.0~", "1.0", -1},
	{"1.0", "1.0a", -1},  // the end before a letter
	{"1.0a", "1.0+", -1}, // letters before non-letters
	{"1.0+", "1.0.", -1}, // other characters by ASCII: + (43) < . (46)
	{"1:0.9", "2.0", 1},  // the epoch decides first
	{"0:2.0", "2.0", 0},  // a missing epoch is 0
	{"1:1.0", "2:0.1", -1},
	{"1.0-1", "1.0-1+b1", -1}, // binNMU is newer
	{"1.0-1", "1.0-2", -1},
	{"1.0", "1.0-0", 0}, // an empty revision compares as 0
	{"1.0-1", "1.0", 1},
	{"3.0.11-1~deb12u2", "3.0.11-1", -1}, // a stable update sorts before the unstable upload
	{"3.0.11-1~deb12u2", "3.0.11-1~deb12u1", 1},
	{"2.36-9+deb12u4", "2.36-9", 1},
	{"1.2.10", "1.2.9", 1}, // digits by value
	{"1.02", "1.2", 0},     // leading zeros do not count
	{"9.2p1", "9.2", 1},
	{"1:9.2p1-2+deb12u2", "1:9.3p1-1", -1},
	{"1.0-1-1", "1.0-1-2", -1}, // the revision is after the last hyphen
	{"a", "1", 1},              // a letter before a digit run: letters weigh more than "end of non-digits"
	{"", "0", 0},
	{"99999999999999999999", "100000000000000000000", -1}, // no overflow
	{"10:1", "9:1", 1},
}

func TestCompareDebian(t *testing.T) {
	checkCompare(t, "compareDebian", compareDebian, debianCases)
}

// TestCompareDebianWithDpkg asks dpkg itself about every pair, where
// dpkg is installed, so the table cannot drift from the real rules.
func TestCompareDebianWithDpkg(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg is not installed")
	}
	for _, c := range debianCases {
		if c.a == "" || c.b == "" {
			continue // dpkg rejects empty versions
		}
		for op, holds := range map[string]bool{"lt": c.want < 0, "eq": c.want == 0, "gt": c.want > 0} {
			err := exec.Command("dpkg", "--compare-versions", c.a, op, c.b).Run()
			if got := err == nil; got != holds {
				t.Errorf("dpkg --compare-versions %s %s %s: %v, table says %v", c.a, op, c.b, got, holds)
			}
		}
	}
}

// rpm's own test suite, tests/rpmvercmp.at.
var rpmvercmpCases = []vcase{
	{"1.0", "1.0", 0},
	{"1.0", "2.0", -1},
	{"2.0.1", "2.0", 1},
	{"2.0.1a", "2.0.1", 1}, // letters left over are newer, unlike pacman
	{"5.5p1", "5.5p2", -1},
	{"5.5p10", "5.5p1", 1},
	{"10xyz", "10.1xyz", -1},
	{"xyz10", "xyz10.1", -1},
	{"xyz.4", "8", -1}, // digits beat letters
	{"xyz.4", "2", -1},
	{"5.6p1", "5.5p2", 1},
	{"6.0.rc1", "6.0", 1},
	{"10b2", "10a1", 1},
	{"10a2", "10b2", -1},
	{"1.0a", "1.0b", -1},
	{"1.0aa", "1.0a", 1},
	{"10.0001", "10.1", 0},
	{"10.0001", "10.0039", -1},
	{"4.999.9", "5.0", -1},
	{"20101121", "20101122", -1},
	{"2_0", "2.0", 0}, // separators are all alike
	{"a+", "a_", 0},
	{"+a", "_a", 0},
	{"+_", "_+", 0},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~rc1~git123", "1.0~rc1", -1},
	{"1.0^", "1.0", 1},
	{"1.0^git1", "1.0", 1},
	{"1.0^git1", "1.0^git2", -1},
	{"1.0^git1", "1.01", -1},
	{"1.0^20160101", "1.0.1", -1},
	{"1.0^20160102", "1.0^20160101^git1", 1},
	{"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0^git1~pre", "1.0^git1", -1},
}

func TestRpmvercmp(t *testing.T) {
	checkCompare(t, "rpmvercmp", rpmvercmp, rpmvercmpCases)
}

var rpmEVRCases = []vcase{
	{"1:3.0.7-27.el9", "3.1.0-1.el9", 1}, // epoch first
	{"3.0.7-27.el9", "3.0.7-28.el9", -1},
	{"3.0.7-27.el9", "3.0.7", 1}, // a release sorts after none
	{"0:3.0.7-1", "3.0.7-1", 0},
	{"5.14.0-427.13.1.el9_4", "5.14.0-362.8.1.el9_3", 1},
	{"2:8.2.2637-20.el9_1", "9.0-1", 1},
	{"1.0~rc1-1", "1.0-1", -1},
}

func TestCompareRPM(t *testing.T) {
	checkCompare(t, "compareRPM", compareRPM, rpmEVRCases)
}

// TestCompareRPMWithRPM asks rpm itself (rpm.vercmp in its Lua, which
// parses epoch and release) about every pair, where rpm is installed.
func TestCompareRPMWithRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm is not installed")
	}
	cases := append(append([]vcase{}, rpmvercmpCases...), rpmEVRCases...)
	var lua strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&lua, "print(rpm.vercmp(%q, %q)..\",\") ", c.a, c.b)
	}
	out, err := exec.Command("rpm", "--eval", "%{lua: "+lua.String()+"}").Output()
	if err != nil {
		t.Fatalf("rpm --eval: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(strings.TrimSpace(string(out)), ","), ",")
	if len(got) != len(cases) {
		t.Fatalf("rpm answered %d comparisons for %d cases: %q", len(got), len(cases), out)
	}
	for i, c := range cases {
		if want := strconv.Itoa(c.want); got[i] != want {
			t.Errorf("rpm.vercmp(%q, %q) = %s, table says %s", c.a, c.b, got[i], want)
		}
		if mine := compareRPM(c.a, c.b); strconv.Itoa(mine) != got[i] {
			t.Errorf("compareRPM(%q, %q) = %d, rpm says %s", c.a, c.b, mine, got[i])
		}
	}
}

// pacman's test suite, test/util/vercmptest.sh.
func TestComparePacman(t *testing.T) {
	checkCompare(t, "comparePacman", comparePacman, []vcase{
		{"1.5.0", "1.5.0", 0},
		{"1.5.1", "1.5.0", 1},
		{"1.5.1", "1.5", 1},
		{"1.5.0-1", "1.5.0-2", -1},
		{"1.5-1", "1.5.1-1", -1},
		{"1.5", "1.5-1", 0}, // pkgrel only when both have one
		{"1.1-1", "1.1", 0},
		{"1.0-1", "1.1", -1},
		{"1.5b-1", "1.5-1", -1}, // letters left over are older, unlike rpm
		{"1.5b", "1.5", -1},
		{"1.5b", "1.5.1", -1},
		{"1.0a", "1.0alpha", -1},
		{"1.0alpha", "1.0b", -1},
		{"1.0b", "1.0beta", -1},
		{"1.0beta", "1.0rc", -1},
		{"1.0rc", "1.0", -1},
		{"1.5.a", "1.5", 1},
		{"1.5.b", "1.5.a", 1},
		{"1.5.1", "1.5.b", 1},
		{"1.5.b-1", "1.5.b", 0},
		{"1.5-1", "1.5.b", -1},
		{"2.0", "2_0", 0},
		{"2.0_a", "2_0.a", 0},
		{"2.0a", "2.0.a", -1},
		{"2___a", "2_a", 1}, // a longer separator is newer
		{"0:1.0", "0:1.0", 0},
		{"1:1.0", "0:1.1", 1},
		{"1:1.0", "2:1.1", -1},
		{"1:1.0", "0:1.0-1", 1},
		{"0:1.0", "1.0", 0},
		{"1:1.1", "1.1", 1},
		{"1:1.3.1-1", "1.3.1-1", 1},
	})
}

// apk-tools' test suite, test/version.data, a selection.
func TestCompareAPK(t *testing.T) {
	checkCompare(t, "compareAPK", compareAPK, []vcase{
		{"2.34", "0.1.0_alpha", 1},
		{"23_foo", "4_beta", 1},
		{"1.0", "1.0bc", -1}, // 1.0bc is invalid from the second letter
		{"0.1.0_alpha", "0.1.0_alpha", 0},
		{"0.1.0_alpha2", "0.1.0_alpha", 1},
		{"2.2.39-r1", "1.0.4-r3", 1},
		{"1.0.4-r3", "1.0.4-r4", -1},
		{"1.1", "1.1_alpha1", 1},
		{"1.2.1", "1.2", 1},
		{"1.3_alpha2", "1.3_alpha3", -1},
		{"0.8_beta1", "0.8_beta2", -1},
		{"3.10.18-r1", "2.3.0b-r1", 1},
		{"2.3.0b-r1", "2.3.0b-r2", -1},
		{"0.12.3", "0.12", 1},
		{"1.2.2-r1", "1.2.2", 1},
		{"3.1_p16", "3.1_p17", -1},
		{"1.06-r6", "006", -1},
		{"20050718-r1", "20050718-r2", -1},
		{"2.01.01_alpha10", "0.94", 1},
		{"0.99.3.20040818", "0.7", 1},
		{"2.5.1-r8", "2.5.1a-r1", -1},
		{"0.10.0", "0.10.1_rc1", -1},
		{"1.7", "1.7b", -1},
		{"1.8.5", "1.8.5_p2", -1},
		{"4.5_p1-r1", "4.5_p1", 1},
		{"0.9.8c-r1", "0.9.8d", -1},
		{"3.0.20060720", "20060720", -1},
		{"2.10.1", "02.08.01b", 1},
		{"1.2.07.8", "1.2.12.04", -1}, // a leading zero compares as text
		{"1.3-r0", "1.3.1-r0", -1},
		{"1.3_pre1-r1", "1.3.2", -1},
		{"1.0_p10-r0", "1.0_p9-r0", 1},
		{"0.1.0_alpha_pre2", "0.1.0_alpha", -1},
		{"1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1},
		{"1.2.4_git20230717-r4", "1.2.4-r4", 1},
		{"3.1.4-r5", "3.1.4-r10", -1},
	})
	for v, want := range map[string]bool{
		"1.2.4_git20230717-r4": true, "3.1.4-r5": true, "1.0~abc123": true, "1.0bc": false, "1.0-2": false, "": false, "_rc1": false,
	} {
		if got := validAPK(v); got != want {
			t.Errorf("validAPK(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestCompareGeneric(t *testing.T) {
	checkCompare(t, "compareGeneric", compareGeneric, []vcase{
		{"123.0.1", "123.0", 1},
		{"1.0.0-rc1", "1.0.0", -1}, // semver pre-release
		{"1.0.0-alpha", "1.0.0-beta", -1},
		{"123.0.1-1", "123.0.1", 1}, // a build number after the hyphen
		{"v1.2", "1.2", 0},
		{"2.61.2", "2.61.10", -1},
		{"20240111", "20231212", 1},
		{"0+git.510a601", "0", 1},
		{"23.08.15", "23.08.9", 1},
	})
}

func TestCompareBrew(t *testing.T) {
	checkCompare(t, "compareBrew", compareBrew, []vcase{
		{"5.0-with-options_1", "5.0", 1}, // a keg built with options is no pre-release
		{"5.0-with-options_1", "5.0.1", -1},
		{"5.0_1", "5.0", 1}, // a revision is a rebuild
		{"5.0_10", "5.0_9", 1},
		{"5.0_0", "5.0", 0},
		{"1.0rc1", "1.0", -1},
		{"1.0-beta2", "1.0", -1},
		{"1.0.alpha", "1.0", -1},
		{"1.0a1", "1.0", -1},
		{"1.1.1w", "1.1.1", 1}, // OpenSSL's letters are later releases
		{"1.0.2k", "1.0.2a", 1},
		{"v2.1", "2.1", 0},
		{"23.4_1", "23.10", -1},
	})
	// A constraint without a revision ignores the installed one.
	for _, tt := range []struct {
		constraint, installed string
		ok                    bool
	}{
		{">= 5.0", "5.0-with-options_1", true},
		{"= 5.0", "5.0_1", true},
		{"= 5.0_1", "5.0_1", true},
		{">= 5.0_2", "5.0_1", false},
		{"< 1.0", "1.0rc1", true},
	} {
		c, err := parseConstraint(tt.constraint)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.satisfied(brewScheme, tt.installed); ok != tt.ok {
			t.Errorf("%s %s: %v, want %v", tt.installed, tt.constraint, ok, tt.ok)
		}
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, c := range debianCases {
		f.Add(c.a, c.b)
	}
	for _, c := range rpmvercmpCases {
		f.Add(c.a, c.b)
	}
	f.Add("1.0_alpha_pre2-r1", "1.0~abc-r2")
	f.Add("1:2:3-4-5", "::--")
	f.Add("5.0-with-options_1", "1.0rc1_")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, s := range []scheme{debianScheme, rpmScheme, pacmanScheme, apkScheme, brewScheme, genericScheme} {
			ab, ba := s.compare(a, b), s.compare(b, a)
			if ab != -ba || ab < -1 || ab > 1 {
				t.Fatalf("%s: compare(%q, %q) = %d but compare(%q, %q) = %d", s.name, a, b, ab, b, a, ba)
			}
			if s.compare(a, a) != 0 {
				t.Fatalf("%s: %q does not equal itself", s.name, a)
			}
			if got := s.join(s.split(a)); got != a {
				t.Fatalf("%s: split and join of %q gave %q", s.name, a, got)
			}
		}
	})
}
