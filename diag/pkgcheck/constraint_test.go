package pkgcheck

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseConstraint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want constraint
	}{
		{">= 2.5", constraint{{">=", "2.5"}}},
		{">=2.5", constraint{{">=", "2.5"}}},
		{"< 3", constraint{{"<", "3"}}},
		{">= 1.2, < 2", constraint{{">=", "1.2"}, {"<", "2"}}},
		{">=1.2,<2", constraint{{">=", "1.2"}, {"<", "2"}}},
		{"= 1.2.3", constraint{{"=", "1.2.3"}}},
		{"== 1.2.3", constraint{{"=", "1.2.3"}}},
		{"1.2.3", constraint{{"=", "1.2.3"}}},
		{"!= 1.0", constraint{{"!=", "1.0"}}},
		{">> 1:9.2p1-2", constraint{{">", "1:9.2p1-2"}}},
		{"<< 3.0~rc1", constraint{{"<", "3.0~rc1"}}},
		{"  >   1.0^git1  ", constraint{{">", "1.0^git1"}}},
		{"> 1, != 1.5, <= 2", constraint{{">", "1"}, {"!=", "1.5"}, {"<=", "2"}}},
	} {
		got, err := parseConstraint(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseConstraint(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseConstraintErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		pos int
		msg string
	}{
		{"", 1, "empty constraint"},
		{"   ", 1, "empty constraint"},
		{">=", 3, `no version after ">="`},
		{">= 2.5,", 8, "nothing after the last comma"},
		{", < 2", 1, "nothing before this comma"},
		{">= 1.2,, < 2", 8, "nothing before this comma"},
		{">= 1.2 < 2", 8, `unexpected "< 2" after version 1.2`},
		{">=1.2<2", 6, `unexpected '<' in version "1.2<2"`},
		{"=> 1.0", 1, `unknown operator "=>"`},
		{"~> 1.0", 1, `unknown operator "~>"`},
		{"^1.2", 1, `unknown operator "^"`},
		{"! 1.0", 1, `unknown operator "!"`},
		{">= ...", 4, `"..." is not a version`},
		{">= 1.0, latest stable", 16, `unexpected "stable" after version latest`},
	} {
		_, err := parseConstraint(tc.in)
		var ce *constraintError
		if !errors.As(err, &ce) {
			t.Errorf("parseConstraint(%q) = %v, want a constraintError", tc.in, err)
			continue
		}
		if ce.pos != tc.pos || !strings.Contains(ce.msg, tc.msg) {
			t.Errorf("parseConstraint(%q): at %d %q; want at %d, containing %q", tc.in, ce.pos, ce.msg, tc.pos, tc.msg)
		}
	}
}

func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{">= 2.5", ">= 1.2, < 2", "1.2.3", "!= 1:2.0-1", ",", ">=<", "=> 1", " , "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseConstraint(s)
		if err != nil {
			var ce *constraintError
			if !errors.As(err, &ce) || ce.pos < 1 || ce.pos > len(s)+1 {
				t.Fatalf("parseConstraint(%q): error %v has no position inside the text", s, err)
			}
			return
		}
		// What String writes parses back to the same constraint.
		again, err := parseConstraint(c.String())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("%q -> %q -> %v, %v", s, c.String(), again, err)
		}
		for _, sch := range []scheme{debianScheme, rpmScheme, pacmanScheme, apkScheme, genericScheme} {
			c.satisfied(sch, "1:2.3-4")
		}
	})
}

func TestConstraintSatisfied(t *testing.T) {
	for _, tc := range []struct {
		scheme    scheme
		installed string
		c         string
		want      bool
	}{
		// Debian: parts the constraint leaves out are not compared.
		{debianScheme, "3.0.11-1~deb12u2", ">= 3.0", true},
		{debianScheme, "3.0.11-1~deb12u2", ">= 3.1", false},
		{debianScheme, "3.0.11-1~deb12u2", "= 3.0.11", true},
		{debianScheme, "3.0.11-1~deb12u2", "<= 3.0.11", true},
		{debianScheme, "3.0.11-1~deb12u2", "< 3.0.11-1", true}, // with a revision, it counts
		{debianScheme, "3.0.11-1~deb12u2", ">= 3.0.11-1", false},
		{debianScheme, "1:9.2p1-2+deb12u2", "< 9.3", true}, // the epoch is ignored when not written
		{debianScheme, "1:9.2p1-2+deb12u2", "< 1:9.3", true},
		{debianScheme, "1:9.2p1-2+deb12u2", "> 0:10", true}, // and counts when written
		{debianScheme, "2:9.0.1378-2", ">= 9.0, < 9.1", true},
		{debianScheme, "1.0~rc1-1", ">= 1.0", false},
		{debianScheme, "1.0-1+b1", "> 1.0-1", true},
		{debianScheme, "2.0", "!= 2.0", false},
		// rpm
		{rpmScheme, "1:3.0.7-27.el9", ">= 3.0.7", true},
		{rpmScheme, "1:3.0.7-27.el9", "< 3.1", true},
		{rpmScheme, "1:3.0.7-27.el9", ">= 3.0.7-28.el9", false},
		{rpmScheme, "5.14.0-427.13.1.el9_4", ">= 5.14.0-400", true},
		// apk: -rN is the release
		{apkScheme, "3.1.4-r5", "= 3.1.4", true},
		{apkScheme, "3.1.4-r5", "< 3.1.4-r6", true},
		{apkScheme, "3.1.4-r5", ">= 3.1.5", false},
		{apkScheme, "1.2.4_git20230717-r4", ">= 1.2.4", true},
		// pacman
		{pacmanScheme, "1:1.3.1-1", ">= 1.3", true},
		{pacmanScheme, "6.7.9.arch1-1", ">= 6.7", true},
		{pacmanScheme, "1.0beta-1", ">= 1.0", false},
		// generic
		{genericScheme, "123.0.1-1", ">= 123", true},
		{genericScheme, "1.0.0-rc1", ">= 1.0.0", false},
	} {
		c, err := parseConstraint(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if got, failed := c.satisfied(tc.scheme, tc.installed); got != tc.want {
			t.Errorf("%s: %s %s = %v (failed at %v), want %v", tc.scheme.name, tc.installed, tc.c, got, failed, tc.want)
		}
	}
}
