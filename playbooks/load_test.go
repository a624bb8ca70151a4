package playbooks_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/diag/syscheck"
	"github.com/triage-dev/triage/playbooks"
)

// tkind is a check kind registered only in these tests, with a parameter
// of every type the loader knows how to fill, so that the decoder is tested
// independently of the shipped kinds' parameter lists.
type tkind struct {
	Need   string            `yaml:"need" required:"true"`
	Wait   diag.Duration     `yaml:"wait"`
	Flag   bool              `yaml:"flag"`
	Count  int               `yaml:"count"`
	Small  uint8             `yaml:"small"`
	Ratio  float64           `yaml:"ratio"`
	Names  []string          `yaml:"names"`
	Labels map[string]string `yaml:"labels"`
	hidden string            // unexported: not a parameter
}

func (k *tkind) Validate() error {
	var errs []error
	if k.Count < 0 {
		errs = append(errs, diag.FieldErrorf("count", "must not be negative"))
	}
	if k.Need == "forbidden" {
		errs = append(errs, diag.FieldErrorf("", "need must not be forbidden"))
	}
	return errors.Join(errs...)
}

func (k *tkind) Run(context.Context, diag.Target) diag.Result {
	return diag.Resultf(diag.Pass, "need=%s hidden=%s", k.Need, k.hidden)
}

func init() {
	diag.Register(diag.Kind{Name: "tkind", Summary: "test kind", New: func() diag.Checker { return &tkind{Count: 1} }})
}

// lines joins its arguments into a YAML document, one argument a line, so
// that the line numbers of expected errors can be read off the test table.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

type loadCase struct {
	name string
	yaml string
	opts playbooks.Options
	// want lists every expected error, in order, as
	// "file:line:col: message-substring" or "file:line: ..." or "file: ...".
	want []string
}

var loadErrorCases = []loadCase{
	{
		name: "unknown top-level key",
		yaml: lines(
			"name: x",
			"descripton: y",
			"checks:",
			"  - id: a",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:1: unknown key "descripton" (did you mean "description"?)`},
	},
	{
		name: "misspelt checks key is one mistake",
		yaml: lines(
			"name: x",
			"chekcs:",
			"  - id: a",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:1: unknown key "chekcs" (did you mean "checks"?)`},
	},
	{
		name: "no checks",
		yaml: lines("name: x"),
		want: []string{`p.yaml:1:1: playbook has no checks: list`},
	},
	{
		name: "empty checks list",
		yaml: lines("checks: []"),
		want: []string{`p.yaml:1:9: checks: the list is empty`},
	},
	{
		name: "unknown check key with did-you-mean",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    titel: A",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:5: unknown key "titel" (did you mean "title"?)`},
	},
	{
		name: "misspelt kind is one mistake",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    dsik: {path: /}",
		),
		want: []string{`p.yaml:3:5: unknown key "dsik" (did you mean "disk"?)`},
	},
	{
		name: "unknown kind parameter",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {pth: /}",
		),
		want: []string{`p.yaml:3:12: disk: unknown parameter "pth" (did you mean "path"?); disk takes path,`},
	},
	{
		name: "kind parameter given twice",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {path: /, path: /tmp}",
		),
		want: []string{`p.yaml:3:21: disk: parameter "path" given twice (first at line 3)`},
	},
	{
		name: "check key given twice",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    title: A",
			"    title: B",
			"    disk: {}",
		),
		want: []string{`p.yaml:4:5: check: key "title" given twice (first at line 3)`},
	},
	{
		name: "top-level key given twice",
		yaml: lines(
			"name: a",
			"checks: [{id: a, disk: {}}]",
			"name: b",
		),
		want: []string{`p.yaml:3:1: playbook: key "name" given twice (first at line 1)`},
	},
	{
		name: "two kinds in one check",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {}",
			"    file: {path: /etc/hosts}",
		),
		want: []string{`p.yaml:4:5: check "a" has more than one check kind (disk and file): split it`},
	},
	{
		name: "no kind",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    title: A",
		),
		want: []string{`p.yaml:2:5: check "a" has no check kind: add one of `},
	},
	{
		name: "missing id",
		yaml: lines(
			"checks:",
			"  - title: A",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:5: check has no id: add one such as "id: disk-1"`},
	},
	{
		name: "bad id",
		yaml: lines(
			"checks:",
			`  - id: "disk root"`,
			"    disk: {}",
		),
		want: []string{`p.yaml:2:9: id "disk root": use letters, digits`},
	},
	{
		name: "empty id",
		yaml: lines(
			"checks:",
			`  - id: ""`,
			"    disk: {}",
		),
		want: []string{`p.yaml:2:9: id "": use letters, digits`},
	},
	{
		name: "id a list",
		yaml: lines(
			"checks:",
			"  - id: [a]",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:9: id: want a string, got a list`},
	},
	{
		name: "duplicate id at the second use",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {}",
			"  - id: b",
			"    disk: {}",
			"  - id: a",
			"    file: {path: /etc/hosts}",
		),
		want: []string{`p.yaml:6:9: duplicate check id "a" (first used at line 2)`},
	},
	{
		name: "timeout without unit",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    timeout: 3",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:14: timeout: duration "3" has no unit: write 3s or 3ms`},
	},
	{
		name: "timeout not a duration",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    timeout: soon",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:14: timeout: invalid duration "soon"`},
	},
	{
		name: "timeout negative",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    timeout: -1s",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:14: timeout: duration "-1s" must be positive`},
	},
	{
		name: "timeout empty string",
		yaml: lines(
			"checks:",
			"  - id: a",
			`    timeout: ""`,
			"    disk: {}",
		),
		want: []string{`p.yaml:3:14: timeout: invalid duration ""`},
	},
	{
		name: "bad duration in a kind parameter",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    tkind: {need: x, wait: 5 minutes}",
		),
		want: []string{`p.yaml:3:28: tkind.wait: invalid duration "5 minutes"`},
	},
	{
		name: "bad percentage",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {warn_used: lots}",
		),
		want: []string{`p.yaml:3:23: disk.warn_used: invalid percentage "lots"`},
	},
	{
		name: "percentage over 100",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {fail_used: 120%}",
		),
		want: []string{`p.yaml:3:23: disk.fail_used: percentage "120%" is out of range (want 0 to 100)`},
	},
	{
		name: "bad size",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {min_free: 5 parsecs}",
		),
		want: []string{`p.yaml:3:22: disk.min_free: invalid size "5 parsecs"`},
	},
	{
		name: "cross-field problem placed on its field",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {warn_used: 96%, fail_used: 90%}",
		),
		want: []string{`p.yaml:3:23: disk: warn_used: `},
	},
	{
		name: "a bad value does not also fail cross-field validation",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: {warn_used: 99%, fail_used: soon}",
		),
		want: []string{`p.yaml:3:39: disk.fail_used: invalid percentage "soon"`},
	},
	{
		name: "an undefined variable in argv is one mistake",
		yaml: lines(
			"checks:",
			"  - id: a",
			`    command: {argv: ["${prog}"]}`,
		),
		want: []string{`p.yaml:3:23: undefined variable ${prog}: define it under vars: or pass --var prog=VALUE`},
	},
	{
		name: "missing required parameter",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file: {}",
		),
		want: []string{`p.yaml:3:5: file: missing required parameter "path"`},
	},
	{
		name: "kind validation without a field and with several problems",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    tkind:",
			"      need: forbidden",
			"      count: -2",
		),
		want: []string{
			`p.yaml:3:5: tkind: need must not be forbidden`,
			`p.yaml:5:14: tkind: count: must not be negative`,
		},
	},
	{
		name: "every parameter type, wrong",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    tkind:",
			"      need: x",
			"      flag: maybe",
			"      count: 1.5",
			"      small: 300",
			"      ratio: half",
			"      labels: [a]",
			"      names: [a, [b]]",
		),
		want: []string{
			`p.yaml:5:13: tkind.flag: want true or false, got "maybe"`,
			`p.yaml:6:14: tkind.count: want a whole number, got "1.5"`,
			`p.yaml:7:14: tkind.small: want a whole number from 0 to 255, got "300"`,
			`p.yaml:8:14: tkind.ratio: want a number, got "half"`,
			`p.yaml:9:15: tkind.labels: want a mapping, got a list`,
			`p.yaml:10:18: tkind.names[1]: want a string, got a list`,
		},
	},
	{
		name: "undefined variable in a plain scalar",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			"      path: /srv/${nope}/x",
		),
		want: []string{`p.yaml:4:18: undefined variable ${nope}: define it under vars: or pass --var nope=VALUE`},
	},
	{
		name: "undefined variable in a double-quoted scalar",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			`      path: "/srv/${nope}/x"`,
		),
		want: []string{`p.yaml:4:19: undefined variable ${nope}`},
	},
	{
		name: "undefined variable in a single-quoted scalar",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			`      path: '/srv/${nope}/x'`,
		),
		want: []string{`p.yaml:4:19: undefined variable ${nope}`},
	},
	{
		name: "column counts characters, not bytes",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			"      path: /etc/motd",
			`      contains: "Grüße ${nope}"`,
		),
		want: []string{`p.yaml:5:24: undefined variable ${nope}`},
	},
	{
		name: "two undefined variables in one scalar",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			"      path: /${a}/${b}",
		),
		want: []string{
			`p.yaml:4:14: undefined variable ${a}`,
			`p.yaml:4:19: undefined variable ${b}`,
		},
	},
	{
		name: "misspelt variable",
		yaml: lines(
			"vars:",
			"  gateway: 10.0.0.1",
			"checks:",
			"  - id: a",
			`    file: {path: "/x/${gatway}"}`,
		),
		want: []string{`p.yaml:5:22: undefined variable ${gatway} (did you mean ${gateway}?)`},
	},
	{
		name: "invalid variable name",
		yaml: lines(
			"checks:",
			"  - id: a",
			`    file: {path: "/x/${1x}"}`,
		),
		want: []string{`p.yaml:3:22: invalid variable name ${1x}`},
	},
	{
		name: "unknown host fact",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			"      path: /etc/${host.oss}",
		),
		want: []string{`p.yaml:4:18: unknown host fact ${host.oss} (did you mean ${host.os}?); facts are arch, distro,`},
	},
	{
		name: "undefined variable next to a host fact",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			"      path: /${host.os}/${nope}",
		),
		want: []string{`p.yaml:4:25: undefined variable ${nope}`},
	},
	{
		name: "unclosed reference",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file:",
			"      path: /srv/${nope",
		),
		want: []string{`p.yaml:4:18: unclosed ${: end the variable name with }, or write $${ for a literal ${`},
	},
	{
		name: "vars cycle",
		yaml: lines(
			"vars:",
			"  a: ${b}/x",
			"  b: ${a}/y",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:6: vars.a: refers to itself through a -> b -> a`},
	},
	{
		name: "var refers to itself",
		yaml: lines(
			"vars:",
			"  a: x${a}",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:6: vars.a: refers to itself through a -> a`},
	},
	{
		name: "var refers to an undefined var",
		yaml: lines(
			"vars:",
			"  a: /srv/${nope}",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:11: vars.a: undefined variable ${nope}`},
	},
	{
		name: "var refers to a host fact",
		yaml: lines(
			"vars:",
			"  a: ${host.os}",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:6: vars.a: a variable cannot refer to host facts`},
	},
	{
		name: "var refers to an unknown host fact: one mistake",
		yaml: lines(
			"vars:",
			"  a: x-${host.oss}",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:8: vars.a: unknown host fact ${host.oss} (did you mean ${host.os}?)`},
	},
	{
		name: "vars that expand without bound",
		yaml: expansionBomb(),
		want: []string{`p.yaml:6:37: vars.v4: the value grows longer than 64KiB where ${v3} is substituted`},
	},
	{
		name: "a parameter that expands without bound",
		yaml: lines(
			"vars:",
			"  big: "+strings.Repeat("x", 10000),
			"checks:",
			"  - id: a",
			"    file:",
			"      path: "+strings.Repeat("${big}", 7),
		),
		want: []string{`p.yaml:6:49: the value grows longer than 64KiB where ${big} is substituted`},
	},
	{
		name: "invalid var name",
		yaml: lines(
			"vars:",
			"  1a: x",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:3: vars: invalid variable name "1a"`},
	},
	{
		name: "var value a list",
		yaml: lines(
			"vars:",
			"  a: [x]",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:2:6: vars.a: want a single value, got a list`},
	},
	{
		name: "vars a list",
		yaml: lines(
			"vars: [a, b]",
			"checks:",
			"  - id: c",
			"    disk: {}",
		),
		want: []string{`p.yaml:1:7: vars: want a mapping of names to values, got a list`},
	},
	{
		name: "checks a mapping",
		yaml: lines("checks: {a: b}"),
		want: []string{`p.yaml:1:9: checks: want a list of checks, got a mapping`},
	},
	{
		name: "check a scalar",
		yaml: lines("checks: [disk]"),
		want: []string{`p.yaml:1:10: a check is a mapping with an id, a title and one check kind`},
	},
	{
		name: "kind parameters a list",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    disk: [/]",
		),
		want: []string{`p.yaml:3:11: disk: want a mapping of parameters (such as {path: ...}), got a list`},
	},
	{
		name: "list parameter a scalar",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    command: {argv: ls}",
		),
		want: []string{`p.yaml:3:21: command.argv: want a list such as [ls], got "ls"`},
	},
	{
		name: "string parameter a list",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    file: {path: [a]}",
		),
		want: []string{`p.yaml:3:18: file.path: want a string, got a list`},
	},
	{
		name: "playbook a list",
		yaml: lines("- a", "- b"),
		want: []string{`p.yaml:1:1: a playbook is a mapping with name, description, vars and checks; got a list`},
	},
	{
		name: "playbook a scalar",
		yaml: lines("hello"),
		want: []string{`p.yaml:1:1: a playbook is a mapping with name, description, vars and checks; got "hello"`},
	},
	{
		name: "name a list",
		yaml: lines(
			"name: [x]",
			"checks: [{id: a, disk: {}}]",
		),
		want: []string{`p.yaml:1:7: name: want a string, got a list`},
	},
	{
		name: "unknown severity",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    severity: fatal",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:15: severity: unknown severity "fatal" (want critical, warning or info)`},
	},
	{
		name: "empty severity is one mistake",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    severity:",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:14: severity: want a string, got nothing`},
	},
	{
		name: "severity a list",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    severity: [warning]",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:15: severity: want a string, got a list`},
	},
	{
		name: "unknown os in when",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    when: {os: [linux, macso]}",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:24: when.os: unknown operating system "macso" (did you mean "macos"?)`},
	},
	{
		name: "unknown os in when, single value",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    when: {os: plan9}",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:16: when.os: unknown operating system "plan9"`},
	},
	{
		name: "unknown when condition",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    when: {oss: [linux]}",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:12: when: unknown condition "oss" (did you mean "os"?); use os, distro or vars`},
	},
	{
		name: "when a scalar",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    when: linux",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:11: when: want a mapping such as {os: [linux]}, got "linux"`},
	},
	{
		name: "when distro a mapping",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    when: {distro: {a: b}}",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:20: when.distro: want a list of words`},
	},
	{
		name: "tags a mapping",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    tags: {a: b}",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:11: tags: want a list of words (such as [network, vpn]), got a mapping`},
	},
	{
		name: "tag not a word",
		yaml: lines(
			"checks:",
			"  - id: a",
			"    tags: [a, {b: c}]",
			"    disk: {}",
		),
		want: []string{`p.yaml:3:15: tags: want a word, got a mapping`},
	},
	{
		name: "YAML syntax error",
		yaml: lines(
			"name: a",
			"name2: b: c",
		),
		want: []string{`p.yaml:2: YAML syntax error: mapping values are not allowed in this context`},
	},
	{
		name: "YAML tab indentation",
		yaml: lines(
			"name: a",
			"\tchecks:",
		),
		want: []string{`p.yaml:2: YAML syntax error: found a tab character`},
	},
	{
		name: "empty file",
		yaml: "",
		want: []string{`p.yaml: playbook is empty: it needs at least a checks: list`},
	},
	{
		name: "only comments",
		yaml: lines("# a playbook", "", "  # to be written"),
		want: []string{`p.yaml: playbook is empty`},
	},
	{
		name: "only a document marker",
		yaml: lines("---"),
		want: []string{`p.yaml: playbook is empty`},
	},
	{
		name: "BOM-prefixed file with a mistake",
		yaml: "\ufeff" + lines(
			"nmae: x",
			"checks: [{id: a, disk: {}}]",
		),
		want: []string{`p.yaml:1:1: unknown key "nmae" (did you mean "name"?)`},
	},
	{
		name: "second YAML document",
		yaml: lines(
			"name: a",
			"checks: [{id: a, disk: {}}]",
			"---",
			"checks: [{id: b, disk: {}}]",
		),
		want: []string{`p.yaml:4:1: the file holds more than one YAML document`},
	},
	{
		name: "the acceptance case: every mistake at once",
		yaml: lines(
			"name: acceptance",
			"descripton: several mistakes at once",
			"vars:",
			"  base: /srv",
			"checks:",
			"  - id: root-disk",
			"    disk: {path: /, min_free: 5GiB}",
			"  - id: slow",
			"    timeout: 3 seconds",
			`    command: {argv: [sleep, "1"]}`,
			"  - id: root-disk",
			"    disk: {path: /tmp}",
			"  - id: data",
			`    file: {path: "${bsae}/data"}`,
		),
		want: []string{
			`p.yaml:2:1: unknown key "descripton" (did you mean "description"?)`,
			`p.yaml:9:14: timeout: invalid duration "3 seconds"`,
			`p.yaml:11:9: duplicate check id "root-disk" (first used at line 6)`,
			`p.yaml:14:19: undefined variable ${bsae} (did you mean ${base}?)`,
		},
	},
}

// expansionBomb is a playbook whose vars each repeat the one before ten
// times: a few hundred bytes that would expand to 100MB.
func expansionBomb() string {
	ls := []string{"vars:", "  v0: xxxxxxxxxx"}
	for i := 1; i <= 7; i++ {
		ls = append(ls, fmt.Sprintf("  v%d: %s", i, strings.Repeat(fmt.Sprintf("${v%d}", i-1), 10)))
	}
	return lines(append(ls, "checks: [{id: a, disk: {}}]")...)
}

var wantRe = regexp.MustCompile(`^([^:]+):(?:(\d+):)?(?:(\d+):)? (.*)$`)

func TestLoadErrors(t *testing.T) {
	for _, tc := range loadErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			pb, err := playbooks.Load("p.yaml", "test", []byte(tc.yaml), tc.opts)
			if err == nil {
				t.Fatalf("Load succeeded, want errors:\n%s", strings.Join(tc.want, "\n"))
			}
			if pb != nil {
				t.Errorf("Load returned a playbook with its errors")
			}
			var list playbooks.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want playbooks.ErrorList: %v", err, err)
			}
			if len(list) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v\nwant:\n%s", len(list), len(tc.want), err, strings.Join(tc.want, "\n"))
			}
			for i, w := range tc.want {
				m := wantRe.FindStringSubmatch(w)
				if m == nil {
					t.Fatalf("bad want %q", w)
				}
				line, _ := strconv.Atoi(m[2])
				col, _ := strconv.Atoi(m[3])
				got := list[i]
				if got.File != m[1] || got.Line != line || got.Col != col || !strings.Contains(got.Msg, m[4]) {
					t.Errorf("error %d:\n got %s:%d:%d: %s\nwant %s", i, got.File, got.Line, got.Col, got.Msg, w)
				}
				// The printed form is the one editors jump to.
				if !strings.HasPrefix(got.Error(), strings.TrimSuffix(w[:len(w)-len(m[4])], " ")) {
					t.Errorf("error %d prints as %q, want it to start with %q", i, got.Error(), w[:len(w)-len(m[4])])
				}
			}
			if lines := strings.Split(err.Error(), "\n"); len(lines) != len(tc.want) {
				t.Errorf("ErrorList.Error() has %d lines, want %d", len(lines), len(tc.want))
			}
		})
	}
}

// planned loads a playbook that must be valid and plans it for facts.
func planned(t *testing.T, src string, opts playbooks.Options, facts diag.Facts) (*playbooks.Playbook, []diag.Check) {
	t.Helper()
	pb, err := playbooks.Load("p.yaml", "test", []byte(src), opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return pb, pb.Plan(facts, playbooks.Selection{})
}

func fileParams(t *testing.T, c diag.Check) *syscheck.File {
	t.Helper()
	f, ok := c.Checker.(*syscheck.File)
	if !ok {
		t.Fatalf("check %s: Checker is %T, want *syscheck.File", c.ID, c.Checker)
	}
	return f
}

func TestLoadValid(t *testing.T) {
	src := "\ufeff" + lines(
		"# a comment",
		"name: web",
		"description: Is the web server healthy?",
		"vars:",
		"  root: /srv/www",
		"  index: ${root}/index.html",
		"  port: 8080",
		"checks:",
		"  - id: index",
		"    title: Index page present",
		"    file: {path: '${index}', contains: '<html>'}",
		"    hint: Redeploy the site.",
		"    severity: warning",
		"    timeout: 1500ms",
		"    tags: web",
		"    when: {os: [Linux, macos], distro: [debian]}",
		"  - id: disk.data_1",
		"    disk:",
		"    tags: [disk, web]",
		"    severity: info",
		"  - id: listen",
		"    command:",
		"      argv: [ss, -ltn, 'sport = :${port}']",
		"      exit_code: 0",
	)
	pb, err := playbooks.Load("p.yaml", "src.yaml", []byte(src), playbooks.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	sum := sha256.Sum256([]byte(src))
	if pb.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, want the digest of the file as given", pb.SHA256)
	}
	if pb.Name != "web" || pb.Description != "Is the web server healthy?" || pb.Source != "src.yaml" {
		t.Errorf("got name %q, description %q, source %q", pb.Name, pb.Description, pb.Source)
	}
	wantVars := map[string]string{"root": "/srv/www", "index": "/srv/www/index.html", "port": "8080"}
	if !reflect.DeepEqual(pb.Vars, wantVars) {
		t.Errorf("Vars = %v, want %v", pb.Vars, wantVars)
	}
	if len(pb.Checks) != 3 {
		t.Fatalf("got %d checks, want 3", len(pb.Checks))
	}
	c := pb.Checks[0]
	want := playbooks.Check{
		ID: "index", Title: "Index page present", Kind: "file", Hint: "Redeploy the site.",
		Severity: diag.Warning, Timeout: 1500 * time.Millisecond, Tags: []string{"web"},
		When: playbooks.When{OS: []string{"linux", "darwin"}, Distro: []string{"debian"}},
	}
	if c.ID != want.ID || c.Title != want.Title || c.Kind != want.Kind || c.Hint != want.Hint ||
		c.Severity != want.Severity || c.Timeout != want.Timeout || !reflect.DeepEqual(c.Tags, want.Tags) ||
		!reflect.DeepEqual(c.When, want.When) {
		t.Errorf("check 0 = %+v\nwant %+v", *c, want)
	}
	d := pb.Checks[1]
	if d.Title != "disk.data_1" || d.Severity != diag.Info || d.Kind != "disk" || d.Timeout != 0 || !reflect.DeepEqual(d.Tags, []string{"disk", "web"}) {
		t.Errorf("check 1 = %+v", *d)
	}
	if pb.Checks[2].Severity != diag.Critical {
		t.Errorf("default severity = %q, want critical", pb.Checks[2].Severity)
	}

	checks := pb.Plan(diag.Facts{OS: "linux", Distro: "debian"}, playbooks.Selection{})
	if got := fileParams(t, checks[0]); got.Path != "/srv/www/index.html" || got.Contains != "<html>" || !got.Exists {
		t.Errorf("file params = %+v", got)
	}
	diskKind, _ := diag.LookupKind("disk")
	if got, want := checks[1].Checker, diskKind.New(); !reflect.DeepEqual(got, want) {
		t.Errorf("an empty disk: keeps the kind's defaults: got %+v, want %+v", got, want)
	}
	cmd, ok := checks[2].Checker.(*syscheck.Command)
	if !ok {
		t.Fatalf("command Checker is %T", checks[2].Checker)
	}
	if !reflect.DeepEqual(cmd.Argv, []string{"ss", "-ltn", "sport = :8080"}) {
		t.Errorf("argv = %q", cmd.Argv)
	}
}

func TestLoadKindParameterTypes(t *testing.T) {
	_, checks := planned(t, lines(
		"vars: {n: '7'}",
		"checks:",
		"  - id: a",
		"    tkind:",
		"      need: yes please",
		"      wait: 250ms",
		"      flag: true",
		"      count: ${n}",
		"      small: 255",
		"      ratio: 0.25",
		"      names: [a, '${n}', &x b, *x]",
		"      labels: {k: v, n: '${n}'}",
	), playbooks.Options{}, diag.Facts{})
	got, ok := checks[0].Checker.(*tkind)
	if !ok {
		t.Fatalf("Checker is %T", checks[0].Checker)
	}
	want := &tkind{
		Need: "yes please", Wait: diag.Duration(250 * time.Millisecond), Flag: true, Count: 7, Small: 255, Ratio: 0.25,
		Names: []string{"a", "7", "b", "b"}, Labels: map[string]string{"k": "v", "n": "7"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant    %+v", got, want)
	}
}

func TestLoadVars(t *testing.T) {
	src := lines(
		"vars:",
		"  host: example.com",
		"  url: https://${host}/${path}",
		"  path: index",
		"  price: 5$",
		"checks:",
		"  - id: a",
		"    file: {path: '/x/${url}'}",
		"  - id: literal",
		"    file: {path: '/tmp/$${host}-$${host.os}'}",
	)
	tests := []struct {
		name     string
		vars     map[string]string
		wantVars map[string]string
		wantPath string
	}{
		{
			name:     "playbook vars resolve through each other",
			wantVars: map[string]string{"host": "example.com", "url": "https://example.com/index", "path": "index", "price": "5$"},
			wantPath: "/x/https://example.com/index",
		},
		{
			name:     "--var overrides a var that others refer to",
			vars:     map[string]string{"host": "other.org"},
			wantVars: map[string]string{"host": "other.org", "url": "https://other.org/index", "path": "index", "price": "5$"},
			wantPath: "/x/https://other.org/index",
		},
		{
			name:     "--var values are literal and may define new vars",
			vars:     map[string]string{"url": "${host}", "extra": "1"},
			wantVars: map[string]string{"host": "example.com", "url": "${host}", "path": "index", "price": "5$", "extra": "1"},
			wantPath: "/x/${host}",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pb, checks := planned(t, src, playbooks.Options{Vars: tc.vars}, diag.Facts{OS: "linux"})
			if !reflect.DeepEqual(pb.Vars, tc.wantVars) {
				t.Errorf("Vars = %v\nwant %v", pb.Vars, tc.wantVars)
			}
			if got := fileParams(t, checks[0]).Path; got != tc.wantPath {
				t.Errorf("path = %q, want %q", got, tc.wantPath)
			}
			if got := fileParams(t, checks[1]).Path; got != "/tmp/${host}-${host.os}" {
				t.Errorf("$${ gives %q, want a literal ${", got)
			}
		})
	}
}

func TestLoadVarDefinedOnlyByOverride(t *testing.T) {
	src := lines(
		"checks:",
		"  - id: a",
		"    file: {path: '/etc/${app}.conf'}",
	)
	if _, err := playbooks.Load("p.yaml", "test", []byte(src), playbooks.Options{}); err == nil ||
		!strings.Contains(err.Error(), "p.yaml:3:24: undefined variable ${app}") {
		t.Fatalf("without --var: got %v, want the undefined variable at 3:24", err)
	}
	_, checks := planned(t, src, playbooks.Options{Vars: map[string]string{"app": "nginx"}}, diag.Facts{})
	if got := fileParams(t, checks[0]).Path; got != "/etc/nginx.conf" {
		t.Errorf("path = %q", got)
	}
}

func TestLoadVarLiteralDollarBrace(t *testing.T) {
	pb, _ := planned(t, lines(
		"vars: {tmpl: 'echo $${host.os} $${x}'}",
		"checks: [{id: a, disk: {}}]",
	), playbooks.Options{}, diag.Facts{})
	if got := pb.Vars["tmpl"]; got != "echo ${host.os} ${x}" {
		t.Errorf("tmpl = %q", got)
	}
}

func TestLoadFileAndOpen(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.yml")
	if err := os.WriteFile(good, []byte(lines("checks: [{id: a, disk: {}}]")), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(lines("checks: [{id: a, dsk: {}}]")), 0o644); err != nil {
		t.Fatal(err)
	}

	pb, err := playbooks.Open(good, playbooks.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", good, err)
	}
	if pb.Name != "mine" || pb.Source != good {
		t.Errorf("name %q source %q: a file without name: is named after the file", pb.Name, pb.Source)
	}

	_, err = playbooks.Open(bad, playbooks.Options{})
	var list playbooks.ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].File != bad || list[0].Line != 1 || list[0].Col != 18 {
		t.Errorf("Open(bad) = %v, want one error at %s:1:18", err, bad)
	}

	missing := filepath.Join(dir, "missing.yaml")
	_, err = playbooks.LoadFile(missing, playbooks.Options{})
	var re *playbooks.ReadError
	if !errors.As(err, &re) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFile(missing) = %T %v, want a ReadError wrapping fs.ErrNotExist", err, err)
	}
	if _, err := playbooks.Open(missing, playbooks.Options{}); !errors.As(err, &re) {
		t.Errorf("Open of a missing path = %T %v, want a ReadError", err, err)
	}

	pb, err = playbooks.Open("standard", playbooks.Options{})
	if err != nil || pb.Source != "builtin:standard" || pb.Name != "standard" {
		t.Errorf("Open(standard) = %v, %v", pb, err)
	}
	_, err = playbooks.Open("standrd", playbooks.Options{})
	var nf *playbooks.NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), `(did you mean "standard"?)`) {
		t.Errorf("Open(standrd) = %v, want a NotFoundError suggesting standard", err)
	}
}
