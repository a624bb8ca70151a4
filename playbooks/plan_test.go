package playbooks_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/syscheck"
	"github.com/triage-dev/triage/playbooks"
)

const selectionPlaybook = `
checks:
  - id: disk-root
    tags: [net, dns]
    disk: {}
  - id: disk-tmp
    tags: disk
    disk: {path: /tmp}
  - id: hosts
    file: {path: /etc/hosts}
`

func ids(checks []diag.Check) []string {
	out := []string{}
	for _, c := range checks {
		out = append(out, c.ID)
	}
	return out
}

func TestPlanSelection(t *testing.T) {
	pb, err := playbooks.Load("p.yaml", "test", []byte(selectionPlaybook), playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sel  playbooks.Selection
		want []string
	}{
		{"empty selects all, in playbook order", playbooks.Selection{}, []string{"disk-root", "disk-tmp", "hosts"}},
		{"one tag", playbooks.Selection{Tags: []string{"net"}}, []string{"disk-root"}},
		{"any of several tags", playbooks.Selection{Tags: []string{"disk", "dns"}}, []string{"disk-root", "disk-tmp"}},
		{"ids keep playbook order", playbooks.Selection{Only: []string{"hosts", "disk-root"}}, []string{"disk-root", "hosts"}},
		{"ids and tags must both match", playbooks.Selection{Only: []string{"disk-root", "disk-tmp"}, Tags: []string{"disk"}}, []string{"disk-tmp"}},
		{"ids and tags that exclude each other", playbooks.Selection{Only: []string{"hosts"}, Tags: []string{"disk"}}, []string{}},
		{"an unknown id selects nothing", playbooks.Selection{Only: []string{"nope"}}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(pb.Plan(diag.Facts{OS: "linux"}, tc.sel)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("selected %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSelectionCheck(t *testing.T) {
	pb, err := playbooks.Load("p.yaml", "test", []byte(selectionPlaybook), playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	untagged, err := playbooks.Load("q.yaml", "test", []byte("checks: [{id: solo, disk: {}}]"), playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pbs  []*playbooks.Playbook
		sel  playbooks.Selection
		want []string // the error's lines; nil for no error
	}{
		{"empty", []*playbooks.Playbook{pb}, playbooks.Selection{}, nil},
		{"known ids and tags", []*playbooks.Playbook{pb}, playbooks.Selection{Only: []string{"hosts"}, Tags: []string{"dns"}}, nil},
		{"an id from another playbook", []*playbooks.Playbook{pb, untagged}, playbooks.Selection{Only: []string{"solo"}}, nil},
		{
			"misspelt id", []*playbooks.Playbook{pb}, playbooks.Selection{Only: []string{"disk-rot"}},
			[]string{"--only disk-rot: no check has that id (did you mean disk-root?)"},
		},
		{
			"unknown id and unknown tag", []*playbooks.Playbook{pb}, playbooks.Selection{Only: []string{"hosts", "zzz"}, Tags: []string{"nett"}},
			[]string{"--only zzz: no check has that id", "--tags nett: no check has that tag; tags are disk, dns, net"},
		},
		{
			"tag when no check has tags", []*playbooks.Playbook{untagged}, playbooks.Selection{Tags: []string{"net"}},
			[]string{"--tags net: no check has that tag; no check has tags"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sel.Check(tc.pbs)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check = nil, want %q", tc.want)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Check =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestPlanWhen(t *testing.T) {
	linuxDebian := diag.Facts{OS: "linux", Distro: "debian"}
	tests := []struct {
		name     string
		when     string
		facts    diag.Facts
		wantSkip string // "" when the check should run
	}{
		{"os matches", "{os: [linux]}", linuxDebian, ""},
		{"os does not match", "{os: [windows]}", linuxDebian, "runs only on windows; this is linux"},
		{"several os, macos alias", "{os: [windows, macos]}", linuxDebian, "runs only on windows, darwin; this is linux"},
		{"macos alias matches darwin", "{os: [macOS]}", diag.Facts{OS: "darwin", Distro: "macos"}, ""},
		{"unknown os fact", "{os: [linux]}", diag.Facts{}, "runs only on linux; this is unknown"},
		{"distro matches", "{distro: [ubuntu, debian]}", linuxDebian, ""},
		{"distro does not match", "{distro: [ubuntu]}", linuxDebian, "runs only on ubuntu; this is debian"},
		{"unknown distro fact", "{distro: [ubuntu]}", diag.Facts{OS: "linux"}, "runs only on ubuntu; this is unknown"},
		{"os matches, distro does not", "{os: [linux], distro: [rhel]}", linuxDebian, "runs only on rhel; this is debian"},
		{"neither matches: os is the reason", "{os: [freebsd], distro: [rhel]}", linuxDebian, "runs only on freebsd; this is linux"},
		{"empty lists match all", "{os: [], distro: []}", diag.Facts{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, checks := planned(t, "checks:\n  - id: a\n    when: "+tc.when+"\n    file: {path: /etc/hosts}\n", playbooks.Options{}, tc.facts)
			if len(checks) != 1 {
				t.Fatalf("got %d checks, want 1: a check that does not apply is kept and skipped", len(checks))
			}
			if tc.wantSkip == "" {
				fileParams(t, checks[0])
				return
			}
			res := checks[0].Checker.Run(context.Background(), diag.NewLocal())
			if res.Status != diag.Skip || res.Message != tc.wantSkip {
				t.Errorf("got %s %q, want skip %q", res.Status, res.Message, tc.wantSkip)
			}
		})
	}
}

func TestPlanCarriesCheckFields(t *testing.T) {
	_, checks := planned(t, lines(
		"checks:",
		"  - id: a",
		"    title: The A check",
		"    hint: do the thing",
		"    severity: info",
		"    timeout: 2s",
		"    disk: {}",
		"  - id: b",
		"    file: {path: /etc/hosts}",
	), playbooks.Options{}, diag.Facts{OS: "linux"})
	a, b := checks[0], checks[1]
	if a.ID != "a" || a.Kind != "disk" || a.Title != "The A check" || a.Hint != "do the thing" ||
		a.Severity != diag.Info || a.Timeout != 2*time.Second {
		t.Errorf("check a = %+v", a)
	}
	if b.Title != "b" || b.Severity != diag.Critical || b.Timeout != 0 || b.Hint != "" {
		t.Errorf("check b = %+v: title defaults to the id, severity to critical", b)
	}
}

func TestPlanBindsHostFacts(t *testing.T) {
	pb, err := playbooks.Load("p.yaml", "test", []byte(lines(
		"vars: {dir: /etc}",
		"checks:",
		"  - id: release",
		`    file: {path: "${dir}/${host.os}-release", contains: "${ host.hostname }"}`,
		"  - id: skipped",
		"    when: {os: [windows]}",
		`    file: {path: "C:/${host.hostname}"}`,
	)), playbooks.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	linux := pb.Plan(diag.Facts{OS: "linux", Hostname: "alpha"}, playbooks.Selection{})
	bsd := pb.Plan(diag.Facts{OS: "freebsd", Hostname: "beta"}, playbooks.Selection{})
	// Each target gets its own parameters: planning for one host must not
	// change what was planned for another.
	for _, tc := range []struct {
		checks             []diag.Check
		wantPath, wantText string
	}{
		{linux, "/etc/linux-release", "alpha"},
		{bsd, "/etc/freebsd-release", "beta"},
	} {
		f := fileParams(t, tc.checks[0])
		if f.Path != tc.wantPath || f.Contains != tc.wantText || !f.Exists {
			t.Errorf("bound %+v, want path %q contains %q", f, tc.wantPath, tc.wantText)
		}
	}
	if res := linux[1].Checker.Run(context.Background(), diag.NewLocal()); res.Status != diag.Skip {
		t.Errorf("a deferred check whose when: does not match gives %s %q, want skip", res.Status, res.Message)
	}
}

func TestPlanBadFactValue(t *testing.T) {
	src := lines(
		"checks:",
		"  - id: warn",
		`    disk: {warn_used: "${host.distro_version}"}`,
		"  - id: order",
		`    disk: {warn_used: "${host.distro_version}", fail_used: 50%}`,
		"  - id: count",
		`    tkind: {need: x, count: "${host.distro_version}"}`,
	)
	// Nothing is known about the facts at load time: this loads.
	pb, err := playbooks.Load("p.yaml", "test", []byte(src), playbooks.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	good := pb.Plan(diag.Facts{DistroVersion: "12"}, playbooks.Selection{})
	if d, ok := good[0].Checker.(*syscheck.Disk); !ok || d.WarnUsed != 12 {
		t.Errorf("with version 12: Checker %T %+v, want a Disk warning at 12%%", good[0].Checker, good[0].Checker)
	}
	if tk, ok := good[2].Checker.(*tkind); !ok || tk.Count != 12 {
		t.Errorf("with version 12: Checker %T %+v, want count 12", good[2].Checker, good[2].Checker)
	}

	tests := []struct {
		version string
		check   int
		want    string
	}{
		{"sid", 0, `p.yaml:3:23: disk.warn_used: invalid percentage "sid"`},
		{"90", 1, `p.yaml:5:23: disk: warn_used: `},
		{"12.04", 2, `p.yaml:7:29: tkind.count: want a whole number, got "12.04"`},
	}
	for _, tc := range tests {
		checks := pb.Plan(diag.Facts{DistroVersion: tc.version}, playbooks.Selection{})
		res := checks[tc.check].Checker.Run(context.Background(), diag.NewLocal())
		if res.Status != diag.Error || !strings.HasPrefix(res.Message, "parameters are invalid for this host: ") ||
			!strings.Contains(res.Message, tc.want) || !strings.Contains(res.Hint, "${host.*}") {
			t.Errorf("version %q, check %s: got %s %q (hint %q), want error mentioning %q",
				tc.version, checks[tc.check].ID, res.Status, res.Message, res.Hint, tc.want)
		}
	}
}

// TestPlanRun runs a planned playbook through the runner against this
// machine, with files the test controls.
func TestPlanRun(t *testing.T) {
	dir := t.TempDir()
	facts, err := diag.NewLocal().Facts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, facts.OS+".conf"), []byte("hello world\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pb, err := playbooks.Load("p.yaml", "test", []byte(lines(
		"checks:",
		"  - id: present",
		"    file: {path: '${dir}/${host.os}.conf', contains: hello}",
		"  - id: wrong-content",
		"    file: {path: '${dir}/${host.os}.conf', contains: goodbye}",
		"    hint: the playbook's own hint",
		"    severity: warning",
		"  - id: absent",
		"    file: {path: '${dir}/none'}",
		"    severity: info",
		"  - id: elsewhere",
		"    when: {distro: [no-such-distro]}",
		"    file: {path: /x}",
	)), playbooks.Options{Vars: map[string]string{"dir": dir}})
	if err != nil {
		t.Fatal(err)
	}
	results := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), pb.Plan(facts, playbooks.Selection{}))
	want := []struct {
		id     string
		status diag.Status
		hint   string
	}{
		{"present", diag.Pass, ""},
		{"wrong-content", diag.Warn, "the playbook's own hint"},
		{"absent", diag.Pass, ""},
		{"elsewhere", diag.Skip, ""},
	}
	if len(results) != len(want) {
		t.Fatalf("got %d results", len(results))
	}
	for i, w := range want {
		r := results[i]
		if r.ID != w.id || r.Status != w.status || r.Hint != w.hint {
			t.Errorf("result %d = %s %s %q (hint %q), want %s %s hint %q", i, r.ID, r.Status, r.Message, r.Hint, w.id, w.status, w.hint)
		}
	}
}

func TestBuiltinsLoad(t *testing.T) {
	names := playbooks.BuiltinNames()
	if !slices.Contains(names, "standard") {
		t.Fatalf("built-ins %v lack standard", names)
	}
	if !slices.IsSorted(names) {
		t.Errorf("BuiltinNames not sorted: %v", names)
	}
	var described []string
	for _, b := range playbooks.Builtins() {
		described = append(described, b.Name)
	}
	if !reflect.DeepEqual(described, names) {
		t.Errorf("Builtins() names %v, BuiltinNames() %v", described, names)
	}
	facts, err := diag.NewLocal().Facts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			pb, err := playbooks.LoadBuiltin(name, playbooks.Options{})
			if err != nil {
				t.Fatalf("built-in %s does not load:\n%v", name, err)
			}
			if pb.Name != name || pb.Source != "builtin:"+name || pb.Description == "" || len(pb.Checks) == 0 {
				t.Errorf("built-in %s: name %q source %q description %q, %d checks", name, pb.Name, pb.Source, pb.Description, len(pb.Checks))
			}
			if d := playbooks.Builtins()[i].Description; d != pb.Description {
				t.Errorf("Builtins() describes %s as %q, the playbook says %q", name, d, pb.Description)
			}
			for _, c := range pb.Plan(facts, playbooks.Selection{}) {
				if c.Checker == nil {
					t.Errorf("check %s planned without a Checker", c.ID)
				}
			}
		})
	}
	if _, err := playbooks.LoadBuiltin("no-such-playbook", playbooks.Options{}); err == nil {
		t.Error("LoadBuiltin of an unknown name succeeded")
	}
}

// TestPlanMissingFact: a host without a default gateway is a finding about
// the host (fail, with what to do), not a mistake in the playbook; a fact
// whose value is really wrong still says the parameters are invalid.
func TestPlanMissingFact(t *testing.T) {
	pb, err := playbooks.Load("p.yaml", "test", []byte(lines(
		"checks:",
		"  - id: ping-gw",
		"    ping: {host: '${host.gateway}'}",
		"  - id: tcp-gw",
		"    tcp: {host: '${host.gateway}', port: 80}",
		"  - id: version",
		`    disk: {warn_used: "${host.distro_version}"}`,
	)), playbooks.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, c := range pb.Plan(diag.Facts{OS: "linux"}, playbooks.Selection{})[:2] {
		res := c.Checker.Run(context.Background(), diag.NewLocal())
		if res.Status != diag.Fail || !strings.Contains(res.Message, "this host has no default gateway (the fact host.gateway is empty)") ||
			res.Hint == "" || strings.Contains(res.Message, "parameters are invalid") {
			t.Errorf("%s without a gateway: %s %q (hint %q), want fail: no default gateway", c.ID, res.Status, res.Message, res.Hint)
		}
	}
	res := pb.Plan(diag.Facts{OS: "linux"}, playbooks.Selection{})[2].Checker.Run(context.Background(), diag.NewLocal())
	if res.Status != diag.Error || !strings.Contains(res.Message, "host.distro_version is empty") || res.Hint == "" {
		t.Errorf("empty distro_version: %s %q (hint %q)", res.Status, res.Message, res.Hint)
	}
	res = pb.Plan(diag.Facts{OS: "linux", Gateway: "10.0.0.1/24"}, playbooks.Selection{})[0].Checker.Run(context.Background(), diag.NewLocal())
	if res.Status != diag.Error || !strings.HasPrefix(res.Message, "parameters are invalid for this host: ") {
		t.Errorf("a gateway fact that is not an address: %s %q, want parameters are invalid", res.Status, res.Message)
	}
}
