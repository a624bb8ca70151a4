package playbooks_test

import (
	"context"
	"fmt"
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

// BenchmarkLoadBuiltins loads every built-in playbook, as 'triage
// playbook list' does.
func BenchmarkLoadBuiltins(b *testing.B) {
	names := playbooks.BuiltinNames()
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range names {
			if _, err := playbooks.LoadBuiltin(name, playbooks.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPlanHost plans the standard playbook for one host with its
// inventory variables, which a sweep does once per host.
func BenchmarkPlanHost(b *testing.B) {
	pb, err := playbooks.LoadBuiltin("standard", playbooks.Options{HostVars: []string{"site"}})
	if err != nil {
		b.Fatal(err)
	}
	facts := diag.Facts{Hostname: "web001", OS: "linux", Arch: "amd64", Distro: "debian", Kernel: "6.1.0-28-amd64"}
	vars := map[string]string{"site": "paris"}
	b.ReportAllocs()
	for b.Loop() {
		if len(pb.PlanHost(facts, vars, playbooks.Selection{})) == 0 {
			b.Fatal("no checks planned")
		}
	}
}

// instant is a check that is done at once: the runner's own cost.
type instant struct{}

func (instant) Run(context.Context, diag.Target) diag.Result {
	return diag.Resultf(diag.Pass, "done").With("value", 1)
}

// BenchmarkRunnerOverhead runs 100 checks that do nothing: what the
// runner itself costs per check (goroutines, timeouts, ordering).
func BenchmarkRunnerOverhead(b *testing.B) {
	checks := make([]diag.Check, 100)
	for i := range checks {
		checks[i] = diag.Check{ID: fmt.Sprintf("c%03d", i), Kind: "instant", Title: "Instant", Severity: diag.Critical, Checker: instant{}}
	}
	t := diag.NewLocal()
	r := &diag.Runner{}
	b.ReportAllocs()
	for b.Loop() {
		if res := r.Run(context.Background(), t, checks); res[99].Status != diag.Pass {
			b.Fatalf("%+v", res[99])
		}
	}
}

// BenchmarkRunDiskLocal runs the built-in disk playbook on this machine:
// local checks only, what 'triage run disk' does after loading.
func BenchmarkRunDiskLocal(b *testing.B) {
	pb, err := playbooks.LoadBuiltin("disk", playbooks.Options{})
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
