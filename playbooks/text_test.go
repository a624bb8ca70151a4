package playbooks

import (
	"errors"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/syscheck"
)

// Titles and hints read with their variables filled in, so a report says
// "Gateway 10.0.0.1 answers", not "Gateway ${host.gateway} answers".
func TestTitleAndHintExpand(t *testing.T) {
	src := `
vars: {share: /srv/data}
checks:
  - id: a
    title: "${share} is there"
    hint: "mount ${share} on ${host.hostname}"
    file: {path: "${share}"}
`
	pb, err := Load("t.yaml", "t.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	checks := pb.Plan(diag.Facts{Hostname: "alice-laptop"}, Selection{})
	if got := checks[0].Title; got != "/srv/data is there" {
		t.Errorf("title = %q", got)
	}
	if got := checks[0].Hint; got != "mount /srv/data on alice-laptop" {
		t.Errorf("hint = %q", got)
	}

	_, err = Load("t.yaml", "t.yaml", []byte("checks:\n  - id: a\n    title: ping ${gatway}\n    file: {path: /}\n"), Options{})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Line != 3 || list[0].Col != 17 {
		t.Errorf("undefined variable in a title: got %v, want one error at 3:17", err)
	}
}

// One value where a list is wanted is a list of one, except for argv,
// where "uname -a" would silently become a program named "uname -a".
func TestScalarAsList(t *testing.T) {
	pb, err := Load("t.yaml", "t.yaml", []byte("checks:\n  - id: a\n    http: {url: \"http://127.0.0.1:1/\", status: 204}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if pb.Checks[0].checker == nil {
		t.Fatal("no checker decoded")
	}
	_, err = Load("t.yaml", "t.yaml", []byte("checks:\n  - id: a\n    command: {argv: uname -a}\n"), Options{})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Msg != `command.argv: want a list such as [uname, -a], got "uname -a"` {
		t.Errorf("argv as one string: got %v", err)
	}
}

// Inventory variables: known to exist at load, filled per host, ranked
// above the playbook's own vars and below --var.
func TestPlanHostVars(t *testing.T) {
	src := `
vars: {dir: /default, mode: "0644"}
checks:
  - id: a
    title: ${dir} on ${site}
    file: {path: "${dir}/${site}", mode: "${mode}"}
  - id: b
    file: {path: /}
`
	pb, err := Load("t.yaml", "t.yaml", []byte(src), Options{Vars: map[string]string{"mode": "0600"}, HostVars: []string{"site"}})
	if err != nil {
		t.Fatal(err)
	}
	checks := pb.PlanHost(diag.Facts{}, map[string]string{"site": "paris", "dir": "/srv", "mode": "0777"}, Selection{})
	f := checks[0].Checker.(*syscheck.File)
	if f.Path != "/srv/paris" || f.Mode != "0600" || checks[0].Title != "/srv on paris" {
		t.Errorf("host vars: path %q mode %q title %q", f.Path, f.Mode, checks[0].Title)
	}
	// A host without the variable gets an error for that check only.
	checks = pb.Plan(diag.Facts{}, Selection{})
	res := checks[0].Checker.Run(t.Context(), diag.NewLocal())
	if res.Status != diag.Error || !strings.Contains(res.Message, "undefined variable ${site}") {
		t.Errorf("host without the variable: %s %q", res.Status, res.Message)
	}
	if _, ok := checks[1].Checker.(*syscheck.File); !ok {
		t.Error("a check without variables should keep its shared parameters")
	}
	// Without HostVars, the same playbook is an error at load.
	if _, err := Load("t.yaml", "t.yaml", []byte(src), Options{}); err == nil {
		t.Error("undefined ${site} accepted without HostVars")
	}
}

func TestThresholdsKey(t *testing.T) {
	pb, err := Load("t.yaml", "t.yaml", []byte("checks:\n  - id: a\n    disk: {path: /}\n    thresholds:\n      used_percent: {warn: 80, crit: \"@95:100\"}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := pb.Checks[0].Limits["used_percent"]
	if l.Warn.String() != "80" || l.Crit.String() != "@95:100" {
		t.Errorf("limits %v", l)
	}
	if c := pb.Plan(diag.Facts{}, Selection{}); c[0].Limits == nil {
		t.Error("limits not planned")
	}
	_, err = Load("t.yaml", "t.yaml", []byte("checks:\n  - id: a\n    disk: {path: /}\n    thresholds:\n      used_percent: {warn: 80:70, critical: 90}\n      x: 5\n"), Options{})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("got %v, want 3 errors", err)
	}
	for i, want := range []string{"t.yaml:5:28: thresholds.used_percent.warn: invalid range \"80:70\": the start is above the end", "t.yaml:5:35: thresholds.used_percent: unknown key \"critical\"; use warn and crit", "t.yaml:6:10: thresholds.x: want {warn: RANGE, crit: RANGE}"} {
		if !strings.HasPrefix(list[i].Error(), want) {
			t.Errorf("error %d: %s\nwant %s", i, list[i].Error(), want)
		}
	}
}
