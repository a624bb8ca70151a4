package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/triage-dev/triage/playbooks"
)

// TestKindsReferenceIsCurrent fails when docs/kinds.md is not what the
// code generates: a kind or a parameter was added or changed without
// regenerating it. It lives here, not in playbooks, because this binary's
// registry holds exactly the shipped kinds (playbooks' tests add their own).
func TestKindsReferenceIsCurrent(t *testing.T) {
	committed, err := os.ReadFile("../../docs/kinds.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := playbooks.Reference(); !bytes.Equal(committed, want) {
		t.Errorf("docs/kinds.md differs from what the check kinds' code generates\n" +
			"hint: regenerate it with: go run ./cmd/triage playbook docs > docs/kinds.md")
	}
}
