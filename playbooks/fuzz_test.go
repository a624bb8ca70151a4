package playbooks_test

import (
	"errors"
	"testing"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/playbooks"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and
// it must either return a playbook or a non-empty ErrorList whose entries
// all name the file.
func FuzzLoad(f *testing.F) {
	for _, name := range playbooks.BuiltinNames() {
		data, _ := playbooks.BuiltinSource(name)
		f.Add(data)
	}
	for _, tc := range loadErrorCases {
		f.Add([]byte(tc.yaml))
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pb, err := playbooks.Load("f.yaml", "fuzz", data, playbooks.Options{Vars: map[string]string{"v": "x"}})
		if err != nil {
			if pb != nil {
				t.Fatalf("Load returned a playbook and an error: %v", err)
			}
			var list playbooks.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Load error is not a non-empty ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.File != "f.yaml" || e.Msg == "" || e.Line < 0 || e.Col < 0 {
					t.Fatalf("malformed error %+v", e)
				}
			}
			return
		}
		if pb == nil {
			t.Fatal("Load returned neither a playbook nor an error")
		}
		// A loaded playbook must plan without panicking, whatever the facts.
		for _, facts := range fuzzFacts {
			checks := pb.Plan(facts, playbooks.Selection{})
			if len(checks) != len(pb.Checks) {
				t.Fatalf("Plan returned %d checks for %d", len(checks), len(pb.Checks))
			}
			for _, c := range checks {
				if c.Checker == nil {
					t.Fatalf("check %q planned without a Checker", c.ID)
				}
			}
		}
	})
}

// fuzzSeeds are inputs that once took, or could take, the loader down
// unusual paths: anchors and aliases, self-referring aliases, merge keys,
// deferred host facts, odd bytes.
var fuzzSeeds = []string{
	"checks: [{id: a, command: {argv: &a [*a]}}]",
	"checks: [{id: a, tkind: &m {need: x, labels: *m}}]",
	"checks: [{id: a, tkind: {need: x, names: &n [a, *n]}}]",
	"base: &b {id: a, disk: {}}\nchecks: [*b, {<<: *b, id: b}]",
	"checks:\n  - &c {id: a, disk: {}}\n  - *c\n",
	"vars: &v {a: b}\nchecks: [{id: a, file: {path: '${a}'}}]\nx: *v",
	"checks: [{id: a, file: {path: '/etc/${host.os}-${host.distro_version}'}, when: {os: [linux]}}]",
	"checks: [{id: a, disk: {warn_used: '${host.distro_version}', fail_used: 50%}}]",
	"checks: [{id: a, tkind: {need: '${host.hostname}', count: '${host.distro_version}'}}]",
	"vars: {a: '${b}', b: '${a}'}\nchecks: [{id: a, disk: {}}]",
	"vars: {a: '$${host.os}${v}'}\nchecks: [{id: a, file: {path: '${a}${'}}]",
	"checks: [{id: a, file: {path: '${${}}${host.}${ v }'}}]",
	"checks: [{id: a, file: {path: \"Gr\u00fc\u00dfe\\t${x}\"}}]",
	"checks: [{id: a, file: {path: |\n    multi ${x}\n    line\n  }}]",
	"checks:\n- id: a\n  disk: {}\n---\n---\nchecks: 1\n",
	"\xef\xbb\xbf\xef\xbb\xbfchecks: []",
	"checks: [{id: a, disk: {}}]\x00",
	"{? [a]: b, checks: [{[x]: y, id: a, disk: {[k]: v}}]}",
	"checks: [{id: a, tkind: {need: x, small: -1, count: 99999999999999999999, ratio: NaN, flag: 1}}]",
	"checks: [{id: a, tkind: {need: x, labels: {a: [b], c: {d: e}}}}]",
	"checks: [{id: a, disk: !!binary aGVsbG8=}]",
	"checks: [{id: a, disk: {path: !!int 3}, when: {os: !!seq [linux]}}]",
}

var fuzzFacts = []diag.Facts{
	{},
	{OS: "linux", Arch: "amd64", Distro: "debian", DistroVersion: "12", Hostname: "h", Gateway: "10.0.0.1"},
	{OS: "windows", Distro: "x}${", DistroVersion: "${host.os}", Hostname: "$${"},
}
