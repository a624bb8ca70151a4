package playbooks_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
)

// TestNeedsValidation: every mistake in needs: is reported at once, with
// file:line:col.
func TestNeedsValidation(t *testing.T) {
	src := `name: t
vars: {org: ''}
checks:
  - id: a
    file: {path: /etc/hosts}
    needs: [c, b]
  - id: b
    file: {path: /etc/hosts}
    needs: [a]
  - id: c
    file: {path: /etc/hosts}
    when: {os: [windows]}
  - id: d
    file: {path: /etc/hosts}
    needs: [zz, d, orgc]
  - id: orgc
    file: {path: /etc/hosts}
    when: {vars: [org]}
  - id: e
    file: {path: /etc/hosts}
    when: {os: [windows]}
    needs: c
`
	_, err := playbooks.Load("t.yaml", "", []byte(src), playbooks.Options{})
	if err == nil {
		t.Fatal("loaded")
	}
	want := []string{
		`t.yaml:6:13: needs: "c" runs only on windows, but "a" runs everywhere`,
		`t.yaml:9:13: needs: a cycle: a -> b -> a`,
		`t.yaml:15:13: needs: no check has the id "zz"`,
		`t.yaml:15:17: needs: check "d" cannot need itself`,
		`t.yaml:15:20: needs: "orgc" runs only when the variable org is set, but "d" runs everywhere`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != len(want) {
		t.Errorf("%d errors, want %d (e needs c on the same platform, which is fine):\n%s", n, len(want), got)
	}
}

// TestNeedsPlanned: needs reach the plan, scoped by the playbook.
func TestNeedsPlanned(t *testing.T) {
	pb, err := playbooks.Open("selfcheck", playbooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pb.Plan(diag.Facts{OS: "linux", Distro: "debian"}, playbooks.Selection{}) {
		if c.Group != pb.Source {
			t.Errorf("%s: group %q, want the playbook's source", c.ID, c.Group)
		}
		if c.ID == "https" && !slices.Contains(c.Needs, "internet") {
			t.Errorf("https needs %v, want internet among them", c.Needs)
		}
	}
}
