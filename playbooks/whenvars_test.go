package playbooks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
)

// orgPlaybook has a check that needs a value the playbook cannot guess,
// such as an organisation's intranet name: empty by default.
var orgPlaybook = lines(
	"vars:",
	"  org_name: ''",
	"checks:",
	"  - id: org",
	"    title: Organisation names",
	"    tkind: {need: '${org_name}', count: -1}",
	"    when: {vars: [org_name]}",
	"  - id: always",
	"    tkind: {need: here}",
)

func planOne(t *testing.T, pb *playbooks.Playbook, hostVars map[string]string) diag.Result {
	t.Helper()
	checks := pb.PlanHost(diag.Facts{OS: "linux"}, hostVars, playbooks.Selection{Only: []string{"org"}})
	if len(checks) != 1 {
		t.Fatalf("planned %d checks", len(checks))
	}
	return checks[0].Checker.Run(context.Background(), nil)
}

func TestWhenVars(t *testing.T) {
	// Empty, the check is skipped, and its parameters (count: -1 would
	// not validate) are not held against the playbook.
	pb, err := playbooks.Load("org.yaml", "org.yaml", []byte(orgPlaybook), playbooks.Options{})
	if err != nil {
		t.Fatalf("a check skipped for an empty variable made the playbook invalid: %v", err)
	}
	r := planOne(t, pb, nil)
	if r.Status != diag.Skip || !strings.Contains(r.Message, "org_name is empty") || !strings.Contains(r.Hint, "--var org_name=VALUE") {
		t.Errorf("empty org_name: %s: %s (hint %q)", r.Status, r.Message, r.Hint)
	}

	// Set with --var, the check runs and its parameters are validated.
	_, err = playbooks.Load("org.yaml", "org.yaml", []byte(orgPlaybook), playbooks.Options{Vars: map[string]string{"org_name": "intranet.example.com"}})
	if err == nil || !strings.Contains(err.Error(), "org.yaml:6:41: tkind: count: must not be negative") {
		t.Errorf("with org_name set, the bad parameter was not reported: %v", err)
	}
	good := strings.Replace(orgPlaybook, "count: -1", "count: 2", 1)
	pb, err = playbooks.Load("org.yaml", "org.yaml", []byte(good), playbooks.Options{Vars: map[string]string{"org_name": "intranet.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := planOne(t, pb, nil); r.Status != diag.Pass || !strings.Contains(r.Message, "need=intranet.example.com") {
		t.Errorf("with org_name set: %s: %s", r.Status, r.Message)
	}

	// A host that sets the variable gets the check, validated for it.
	pb, err = playbooks.Load("org.yaml", "org.yaml", []byte(orgPlaybook), playbooks.Options{HostVars: []string{"org_name"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := planOne(t, pb, map[string]string{"org_name": "intranet.example.com"}); r.Status != diag.Error || !strings.Contains(r.Message, "count: must not be negative") {
		t.Errorf("a host's own org_name: %s: %s", r.Status, r.Message)
	}
	if r := planOne(t, pb, map[string]string{"org_name": " "}); r.Status != diag.Skip {
		t.Errorf("a host's blank org_name: %s: %s", r.Status, r.Message)
	}
}

func TestWhenVarsUndefined(t *testing.T) {
	src := lines(
		"vars: {org_name: ''}",
		"checks:",
		"  - id: org",
		"    tkind: {need: x}",
		"    when: {vars: [org_nam, org_name]}",
	)
	_, err := playbooks.Load("p.yaml", "p.yaml", []byte(src), playbooks.Options{})
	want := `p.yaml:5:19: when.vars: undefined variable "org_nam" (did you mean "org_name"?)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}
