package diag_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// TestRunnerNeeds: a check whose need failed, could not check or was
// blocked is not run and names the root of the chain; a need that passed
// or warned lets it run.
func TestRunnerNeeds(t *testing.T) {
	var ran atomic.Int32
	counting := func(s diag.Status) diag.Checker {
		return checker(func(context.Context, diag.Target) diag.Result {
			ran.Add(1)
			return diag.Resultf(s, "%s", s)
		})
	}
	checks := []diag.Check{
		{ID: "link", Title: "Link", Checker: counting(diag.Pass)},
		{ID: "gateway", Title: "Gateway", Checker: counting(diag.Fail), Needs: []string{"link"}},
		{ID: "dns", Title: "DNS", Checker: counting(diag.Pass), Needs: []string{"gateway"}},
		{ID: "web", Title: "Web", Checker: counting(diag.Pass), Needs: []string{"dns", "link"}},
		{ID: "slow", Title: "Slow", Checker: counting(diag.Warn), Needs: []string{"link"}},
		{ID: "after-warn", Title: "After warn", Checker: counting(diag.Pass), Needs: []string{"slow"}},
		{ID: "probe", Title: "Probe", Checker: counting(diag.Error)},
		{ID: "after-error", Title: "After error", Checker: counting(diag.Pass), Needs: []string{"probe"}},
		{ID: "missing", Title: "Missing", Checker: counting(diag.Pass), Needs: []string{"not-selected"}},
	}
	results := (&diag.Runner{Parallel: 2}).Run(context.Background(), diag.NewLocal(), checks)
	want := map[string]struct {
		status    diag.Status
		blockedBy string
	}{
		"link": {diag.Pass, ""}, "gateway": {diag.Fail, ""},
		"dns": {diag.Skip, "gateway"}, "web": {diag.Skip, "gateway"},
		"slow": {diag.Warn, ""}, "after-warn": {diag.Pass, ""},
		"probe": {diag.Error, ""}, "after-error": {diag.Skip, "probe"},
		"missing": {diag.Pass, ""},
	}
	for i, r := range results {
		if r.ID != checks[i].ID {
			t.Fatalf("result %d is %s, want %s: order lost", i, r.ID, checks[i].ID)
		}
		w := want[r.ID]
		if r.Status != w.status || r.BlockedBy != w.blockedBy {
			t.Errorf("%s: got %s blocked by %q, want %s blocked by %q", r.ID, r.Status, r.BlockedBy, w.status, w.blockedBy)
		}
	}
	if n := ran.Load(); n != 6 {
		t.Errorf("%d checks ran, want 6 (the blocked ones must not run)", n)
	}
	if msg := results[3].Message; msg != "not checked: Gateway failed" {
		t.Errorf("web's message = %q, want it to name the root", msg)
	}
	if msg := results[7].Message; msg != "not checked: Probe could not be checked" {
		t.Errorf("after-error's message = %q", msg)
	}
}

// TestRunnerNeedsCycle: a cycle a hand-built plan slipped through does not
// hang the run.
func TestRunnerNeedsCycle(t *testing.T) {
	checks := []diag.Check{
		{ID: "a", Checker: returns(diag.Resultf(diag.Pass, "a")), Needs: []string{"b"}},
		{ID: "b", Checker: returns(diag.Resultf(diag.Pass, "b")), Needs: []string{"a"}},
	}
	for _, r := range (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), checks) {
		if r.Status != diag.Pass {
			t.Errorf("%s: %s %q", r.ID, r.Status, r.Message)
		}
	}
}

// TestRunnerNeedsScopedByGroup: ids are per playbook.
func TestRunnerNeedsScopedByGroup(t *testing.T) {
	checks := []diag.Check{
		{ID: "x", Group: "one", Checker: returns(diag.Resultf(diag.Fail, "broken"))},
		{ID: "x", Group: "two", Checker: returns(diag.Resultf(diag.Pass, "fine"))},
		{ID: "y", Group: "two", Checker: returns(diag.Resultf(diag.Pass, "ran")), Needs: []string{"x"}},
	}
	res := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), checks)
	if res[2].Status != diag.Pass {
		t.Errorf("y needs two's x, which passed; got %s %q", res[2].Status, res[2].Message)
	}
}

// TestAttribute: a check that names an Upstream prerequisite becomes a
// consequence of the check that examines it, when that one found it broken,
// and what was blocked by it follows to the new root.
func TestAttribute(t *testing.T) {
	registerFakeDNS()
	dns := func(name string, s diag.Status) diag.Checker {
		return returns(diag.Resultf(s, "%s %s", name, s).With("name", name))
	}
	unresolved := func(name string) diag.Checker {
		return returns(diag.Resultf(diag.Error, "cannot resolve %s", name).WithUpstream(diag.NeedName(name)))
	}
	checks := []diag.Check{
		{ID: "names", Title: "Internet names", Kind: "fake-dns", Checker: dns("example.com", diag.Fail)},
		{ID: "web", Title: "Web", Checker: unresolved("Example.COM.")},
		{ID: "after-web", Title: "After web", Checker: returns(diag.Resultf(diag.Pass, "x")), Needs: []string{"web"}},
		{ID: "org", Title: "Org", Checker: unresolved("intranet.example.org")},
		{ID: "ok-names", Title: "Org names", Kind: "fake-dns", Checker: dns("portal.example.org", diag.Pass)},
		{ID: "portal", Title: "Portal", Checker: unresolved("portal.example.org")},
	}
	res := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), checks)
	if r := res[1]; r.Status != diag.Skip || r.BlockedBy != "names" || !strings.Contains(r.Message, "cannot resolve") {
		t.Errorf("web: got %s blocked by %q: %q; want skip blocked by names, keeping what it saw", r.Status, r.BlockedBy, r.Message)
	}
	if r := res[2]; r.BlockedBy != "names" || r.Message != "not checked: Internet names failed" {
		t.Errorf("after-web: blocked by %q: %q; want the chain's root, names", r.BlockedBy, r.Message)
	}
	if r := res[3]; r.Status != diag.Error || r.BlockedBy != "" {
		t.Errorf("org: no check examines its name, so its error stands; got %s blocked by %q", r.Status, r.BlockedBy)
	}
	if r := res[5]; r.Status != diag.Error || r.BlockedBy != "" {
		t.Errorf("portal: the check of its name passed, so nothing explains it; got %s blocked by %q", r.Status, r.BlockedBy)
	}
}

// TestAttributeThroughBlocked: when the check that would examine a
// prerequisite was itself blocked, a check that relied on it is put down
// to that check's root.
func TestAttributeThroughBlocked(t *testing.T) {
	registerFakeDNS()
	checks := []diag.Check{
		{ID: "servers", Title: "DNS servers", Checker: returns(diag.Resultf(diag.Fail, "no DNS server answers"))},
		{ID: "names", Title: "Names", Kind: "fake-dns", Checker: returns(diag.Resultf(diag.Pass, "x")), Needs: []string{"servers"}},
		{ID: "clock", Title: "Clock", Checker: returns(diag.Resultf(diag.Error, "cannot resolve pool.ntp.org").WithUpstream(diag.NeedName("pool.ntp.org")))},
	}
	res := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), checks)
	if r := res[2]; r.BlockedBy != "servers" {
		t.Errorf("clock: %s blocked by %q, want blocked by servers (the root of the blocked names check)", r.Status, r.BlockedBy)
	}
}

// registerFakeDNS registers a kind that examines the name in its observed
// values, as the dns kind does.
var registerFakeDNS = sync.OnceFunc(func() {
	diag.Register(diag.Kind{Name: "fake-dns", New: func() diag.Checker { return returns(diag.Result{}) },
		Examines: func(r diag.Result) []diag.Prerequisite {
			name, _ := r.Observed["name"].(string)
			return []diag.Prerequisite{{What: diag.PrereqName, Subject: name}}
		}})
})
