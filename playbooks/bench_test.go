package playbooks_test

import (
	"context"
	"testing"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/playbooks"
)

// BenchmarkLoadStandard measures parsing and validating the standard
// playbook, which every run pays once.
func BenchmarkLoadStandard(b *testing.B) {
	for b.Loop() {
		if _, err := playbooks.LoadBuiltin("standard", playbooks.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunStandardLocal runs the standard playbook's checks that need
// no network on this machine: the target is under 100 ms a run.
func BenchmarkRunStandardLocal(b *testing.B) {
	pb, err := playbooks.LoadBuiltin("standard", playbooks.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t := diag.NewLocal()
	facts, _ := t.Facts(context.Background())
	checks := pb.Plan(facts, playbooks.Selection{})
	r := &diag.Runner{}
	for b.Loop() {
		for _, res := range r.Run(context.Background(), t, checks) {
			if res.Status == diag.Error {
				b.Fatalf("%s: %s", res.ID, res.Message)
			}
		}
	}
}
