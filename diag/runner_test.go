package diag_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/triage-dev/triage/diag"
)

// checker is a Checker made of a function, so each test says what its
// checks do.
type checker func(ctx context.Context, t diag.Target) diag.Result

func (c checker) Run(ctx context.Context, t diag.Target) diag.Result { return c(ctx, t) }

// returns is a checker that reports r at once.
func returns(r diag.Result) checker {
	return func(context.Context, diag.Target) diag.Result { return r }
}

// waitsForContext is a checker that gives up, as a well-behaved kind does,
// when its context ends. started, when not nil, is closed as it starts.
func waitsForContext(started chan<- struct{}) checker {
	return func(ctx context.Context, _ diag.Target) diag.Result {
		if started != nil {
			close(started)
		}
		<-ctx.Done()
		return diag.Resultf(diag.Error, "gave up: %v", ctx.Err()).With("partial", true)
	}
}

// ignoresContext is a checker that never looks at its context: it blocks
// until the test ends.
func ignoresContext(t *testing.T, started chan<- struct{}) checker {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(context.Context, diag.Target) diag.Result {
		if started != nil {
			close(started)
		}
		<-release
		return diag.Resultf(diag.Pass, "too late")
	}
}

func TestRunnerKeepsPlaybookOrder(t *testing.T) {
	const n = 6
	// Check i finishes only after check i+1 has, so they finish in
	// reverse order.
	finished := make([]chan struct{}, n)
	for i := range finished {
		finished[i] = make(chan struct{})
	}
	var mu sync.Mutex
	var order []int
	checks := make([]diag.Check, n)
	for i := range checks {
		checks[i] = diag.Check{ID: fmt.Sprintf("c%d", i), Kind: "fake", Checker: checker(func(context.Context, diag.Target) diag.Result {
			if i+1 < n {
				<-finished[i+1]
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			close(finished[i])
			return diag.Resultf(diag.Pass, "check %d", i)
		})}
	}
	results := (&diag.Runner{Parallel: n}).Run(context.Background(), diag.NewLocal(), checks)
	if want := []int{5, 4, 3, 2, 1, 0}; !reflect.DeepEqual(order, want) {
		t.Fatalf("checks finished in order %v, want %v", order, want)
	}
	if len(results) != n {
		t.Fatalf("got %d results, want %d", len(results), n)
	}
	for i, r := range results {
		if r.ID != checks[i].ID || r.Message != fmt.Sprintf("check %d", i) || r.Status != diag.Pass {
			t.Errorf("result %d = %s %s %q", i, r.ID, r.Status, r.Message)
		}
	}
}

func TestRunnerParallelBound(t *testing.T) {
	tests := []struct {
		parallel, checks, want int
	}{
		{1, 5, 1},
		{3, 12, 3},
		{0, diag.DefaultParallel + 5, diag.DefaultParallel},
		{-2, diag.DefaultParallel + 1, diag.DefaultParallel},
		{10, 4, 4},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("parallel %d, %d checks", tc.parallel, tc.checks), func(t *testing.T) {
			var running, most atomic.Int64
			started := make(chan struct{}, tc.checks)
			release := make(chan struct{})
			checks := make([]diag.Check, tc.checks)
			for i := range checks {
				checks[i] = diag.Check{ID: fmt.Sprint(i), Checker: checker(func(ctx context.Context, _ diag.Target) diag.Result {
					n := running.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					started <- struct{}{}
					<-release
					running.Add(-1)
					return diag.Resultf(diag.Pass, "ok")
				})}
			}
			done := make(chan []diag.Result)
			go func() {
				done <- (&diag.Runner{Parallel: tc.parallel}).Run(context.Background(), diag.NewLocal(), checks)
			}()
			// Let the bound fill up, then let one check finish for each
			// that starts, so the runner always has a full set running.
			for i := 0; i < tc.checks; i++ {
				<-started
				if i+1 >= tc.want {
					release <- struct{}{}
				}
			}
			for i := 0; i < tc.want-1; i++ {
				release <- struct{}{}
			}
			results := <-done
			if got := most.Load(); got != int64(tc.want) {
				t.Errorf("at most %d checks ran at once, want %d", got, tc.want)
			}
			for _, r := range results {
				if r.Status != diag.Pass {
					t.Errorf("check %s: %s %q", r.ID, r.Status, r.Message)
				}
			}
		})
	}
}

func TestRunnerTimeout(t *testing.T) {
	tests := []struct {
		name    string
		runner  diag.Runner
		check   diag.Check
		wantMsg string
	}{
		{
			name:    "the check's own timeout",
			runner:  diag.Runner{Timeout: time.Hour},
			check:   diag.Check{Timeout: 20 * time.Millisecond, Checker: waitsForContext(nil)},
			wantMsg: "timed out after 20ms",
		},
		{
			name:    "the runner's timeout when the check has none",
			runner:  diag.Runner{Timeout: 30 * time.Millisecond},
			check:   diag.Check{Checker: waitsForContext(nil)},
			wantMsg: "timed out after 30ms",
		},
		{
			name:    "a checker that ignores its context",
			runner:  diag.Runner{Timeout: time.Hour},
			check:   diag.Check{Timeout: 10 * time.Millisecond, Checker: ignoresContext(t, nil)},
			wantMsg: "timed out after 10ms",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check.ID, tc.check.Kind, tc.check.Hint = "slow", "fake", "the playbook's hint"
			res := tc.runner.Run(context.Background(), diag.NewLocal(), []diag.Check{tc.check})[0]
			if res.Status != diag.Error || res.Message != tc.wantMsg {
				t.Errorf("got %s %q, want error %q", res.Status, res.Message, tc.wantMsg)
			}
			if !strings.Contains(res.Hint, "timeout") {
				t.Errorf("hint %q does not say to raise the timeout", res.Hint)
			}
			if res.ID != "slow" || res.Kind != "fake" {
				t.Errorf("result %+v lost the check's id and kind", res)
			}
		})
	}
}

func TestRunnerOwnErrorIsKept(t *testing.T) {
	res := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), []diag.Check{{
		ID:      "a",
		Checker: returns(diag.Resultf(diag.Error, "could not run x: permission denied").WithHint("check permissions")),
	}})[0]
	if res.Status != diag.Error || res.Message != "could not run x: permission denied" || res.Hint != "check permissions" {
		t.Errorf("got %s %q (hint %q)", res.Status, res.Message, res.Hint)
	}
}

// TestRunnerKeepsTheKindsHint: the playbook's hint replaces the kind's on
// a warning or failure, and the kind's is kept beside it as CheckHint,
// for whoever fixes the cause; nothing is kept when they agree, when the
// kind said nothing, or on a pass.
func TestRunnerKeepsTheKindsHint(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		result                diag.Result
		playbookHint          string
		wantHint, wantKindOwn string
	}{
		{"replaced", diag.Resultf(diag.Fail, "broken").WithHint("add dns to nsswitch.conf"), "tell the help desk", "tell the help desk", "add dns to nsswitch.conf"},
		{"warning", diag.Resultf(diag.Warn, "slow").WithHint("look at the server"), "restart the router", "restart the router", "look at the server"},
		{"the same words", diag.Resultf(diag.Fail, "broken").WithHint("tell the help desk"), "tell the help desk", "tell the help desk", ""},
		{"no kind hint", diag.Resultf(diag.Fail, "broken"), "tell the help desk", "tell the help desk", ""},
		{"no playbook hint", diag.Resultf(diag.Fail, "broken").WithHint("add dns"), "", "add dns", ""},
		{"pass", diag.Resultf(diag.Pass, "fine").WithHint("nothing"), "tell the help desk", "", ""},
	} {
		res := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), []diag.Check{{ID: "a", Hint: tc.playbookHint, Checker: returns(tc.result)}})[0]
		if res.Hint != tc.wantHint || res.CheckHint != tc.wantKindOwn {
			t.Errorf("%s: hint %q, check hint %q; want %q, %q", tc.name, res.Hint, res.CheckHint, tc.wantHint, tc.wantKindOwn)
		}
	}
}

func TestRunnerCancel(t *testing.T) {
	for _, kind := range []string{"waits for its context", "ignores its context"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			inFlight := make(chan struct{})
			var c1 checker
			if kind == "waits for its context" {
				c1 = waitsForContext(inFlight)
			} else {
				c1 = ignoresContext(t, inFlight)
			}
			var lateRuns atomic.Int32
			late := checker(func(context.Context, diag.Target) diag.Result {
				lateRuns.Add(1)
				return diag.Resultf(diag.Pass, "ran")
			})
			checks := []diag.Check{
				{ID: "done", Checker: returns(diag.Resultf(diag.Fail, "already broken").WithHint("fix it"))},
				{ID: "in-flight", Checker: c1, Timeout: time.Hour},
				{ID: "not-started-1", Checker: late},
				{ID: "not-started-2", Checker: late},
			}
			go func() {
				<-inFlight
				cancel()
			}()
			// One at a time: "done" finishes, "in-flight" holds the only
			// slot until the run is cancelled, the rest never start.
			results := (&diag.Runner{Parallel: 1}).Run(ctx, diag.NewLocal(), checks)

			if r := results[0]; r.Status != diag.Fail || r.Message != "already broken" || r.Hint != "fix it" {
				t.Errorf("finished check: got %s %q, want its own result", r.Status, r.Message)
			}
			for _, r := range results[1:] {
				if r.Status != diag.Error || r.Message != "cancelled" || !strings.Contains(r.Hint, "interrupted") {
					t.Errorf("%s: got %s %q (hint %q), want error cancelled", r.ID, r.Status, r.Message, r.Hint)
				}
			}
			for i, r := range results {
				if r.ID != checks[i].ID {
					t.Errorf("result %d is %s, want %s", i, r.ID, checks[i].ID)
				}
			}
			if n := lateRuns.Load(); n != 0 {
				t.Errorf("checks not yet started ran %d times after the cancel", n)
			}
		})
	}
}

func TestRunnerCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var runs, dones atomic.Int32
	checks := make([]diag.Check, 20)
	for i := range checks {
		checks[i] = diag.Check{ID: fmt.Sprint(i), Checker: checker(func(context.Context, diag.Target) diag.Result {
			runs.Add(1)
			return diag.Resultf(diag.Pass, "ran")
		})}
	}
	r := diag.Runner{Done: func(diag.Result) { dones.Add(1) }}
	for _, res := range r.Run(ctx, diag.NewLocal(), checks) {
		if res.Status != diag.Error || res.Message != "cancelled" || res.Duration != 0 {
			t.Errorf("%s: got %s %q in %v", res.ID, res.Status, res.Message, res.Duration)
		}
	}
	if runs.Load() != 0 || dones.Load() != 20 {
		t.Errorf("%d checks ran and Done was called %d times; want 0 and 20", runs.Load(), dones.Load())
	}
}

func TestRunnerPanic(t *testing.T) {
	checks := []diag.Check{
		{ID: "before", Checker: returns(diag.Resultf(diag.Pass, "fine"))},
		{ID: "boom", Kind: "fake", Checker: checker(func(context.Context, diag.Target) diag.Result { panic("boom") })},
		{ID: "nil-map", Kind: "fake", Checker: checker(func(context.Context, diag.Target) diag.Result {
			var m map[string]int
			m["x"]++
			return diag.Result{}
		})},
		{ID: "nil-checker", Kind: "fake"},
		{ID: "after", Checker: returns(diag.Resultf(diag.Pass, "fine"))},
	}
	results := (&diag.Runner{Parallel: 2}).Run(context.Background(), diag.NewLocal(), checks)
	want := []struct {
		status diag.Status
		msg    string
	}{
		{diag.Pass, "fine"},
		{diag.Error, "internal error in the fake check: boom"},
		{diag.Error, "internal error in the fake check: assignment to entry in nil map"},
		{diag.Error, "check has nothing to run"},
		{diag.Pass, "fine"},
	}
	for i, w := range want {
		r := results[i]
		if r.Status != w.status || r.Message != w.msg {
			t.Errorf("%s: got %s %q, want %s %q", r.ID, r.Status, r.Message, w.status, w.msg)
		}
	}
	if !strings.Contains(results[1].Hint, "bug in triage") {
		t.Errorf("a panic's hint %q does not say it is a bug", results[1].Hint)
	}
}

func TestRunnerSeverityAndHints(t *testing.T) {
	const kindHint, playbookHint = "the kind's hint", "the playbook's hint"
	tests := []struct {
		name       string
		status     diag.Status // what the checker reports, with kindHint
		severity   diag.Severity
		hint       string // the playbook's hint for the check
		wantStatus diag.Status
		wantHint   string
	}{
		{"pass has no hint", diag.Pass, diag.Critical, playbookHint, diag.Pass, ""},
		{"warn shows the playbook's hint", diag.Warn, diag.Critical, playbookHint, diag.Warn, playbookHint},
		{"fail shows the playbook's hint", diag.Fail, diag.Critical, playbookHint, diag.Fail, playbookHint},
		{"fail without a playbook hint keeps the kind's", diag.Fail, diag.Critical, "", diag.Fail, kindHint},
		{"warn without a playbook hint keeps the kind's", diag.Warn, diag.Critical, "", diag.Warn, kindHint},
		{"error keeps the kind's hint", diag.Error, diag.Critical, playbookHint, diag.Error, kindHint},
		{"skip keeps its status", diag.Skip, diag.Critical, playbookHint, diag.Skip, kindHint},
		{"severity defaults to critical", diag.Fail, "", playbookHint, diag.Fail, playbookHint},
		{"warning caps fail at warn, with the playbook's hint", diag.Fail, diag.Warning, playbookHint, diag.Warn, playbookHint},
		{"warning leaves warn", diag.Warn, diag.Warning, playbookHint, diag.Warn, playbookHint},
		{"warning never caps error", diag.Error, diag.Warning, playbookHint, diag.Error, kindHint},
		{"info turns fail into pass, without a hint", diag.Fail, diag.Info, playbookHint, diag.Pass, ""},
		{"info turns warn into pass", diag.Warn, diag.Info, playbookHint, diag.Pass, ""},
		{"info never caps error", diag.Error, diag.Info, playbookHint, diag.Error, kindHint},
		{"info leaves skip", diag.Skip, diag.Info, "", diag.Skip, kindHint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := diag.Check{
				ID: "id", Kind: "fake", Title: "A title", Hint: tc.hint, Severity: tc.severity,
				Checker: returns(diag.Resultf(tc.status, "seen").WithHint(kindHint).With("k", 1)),
			}
			r := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), []diag.Check{c})[0]
			if r.Status != tc.wantStatus || r.Hint != tc.wantHint {
				t.Errorf("got %s hint %q, want %s hint %q", r.Status, r.Hint, tc.wantStatus, tc.wantHint)
			}
			wantSev := tc.severity
			if wantSev == "" {
				wantSev = diag.Critical
			}
			if r.ID != "id" || r.Kind != "fake" || r.Title != "A title" || r.Severity != wantSev ||
				r.Message != "seen" || r.Observed["k"] != 1 {
				t.Errorf("result %+v does not carry the check's fields", r)
			}
		})
	}
}

func TestRunnerNoVerdict(t *testing.T) {
	for _, s := range []diag.Status{"", "bogus"} {
		r := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), []diag.Check{{
			ID: "x", Severity: diag.Info, Checker: returns(diag.Result{Status: s, Message: "hmm"}),
		}})[0]
		if r.Status != diag.Error || r.Message != "check returned no verdict" {
			t.Errorf("status %q: got %s %q", s, r.Status, r.Message)
		}
	}
}

func TestRunnerEvidenceCap(t *testing.T) {
	const marker = "\n[evidence truncated]"
	big := strings.Repeat("x", diag.DefaultMaxEvidence+1)
	tests := []struct {
		name     string
		max      int
		evidence string
		want     string
	}{
		{"under the cap", 10, "012345678", "012345678"},
		{"at the cap", 10, "0123456789", "0123456789"},
		{"over the cap", 10, "0123456789abc", "0123456789" + marker},
		{"default cap", 0, big, big[:diag.DefaultMaxEvidence] + marker},
		{"never inside a character", 4, "aaaé and more", "aaa" + marker},
		{"a character that fits", 5, "aaaé and more", "aaaé" + marker},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := diag.Resultf(diag.Fail, "x")
			res.Evidence = tc.evidence
			r := (&diag.Runner{MaxEvidence: tc.max}).Run(context.Background(), diag.NewLocal(), []diag.Check{{ID: "e", Checker: returns(res)}})[0]
			if r.Evidence != tc.want {
				t.Errorf("evidence %q..., want %q...", r.Evidence[:min(len(r.Evidence), 40)], tc.want[:min(len(tc.want), 40)])
			}
			if !utf8.ValidString(r.Evidence) {
				t.Errorf("evidence is not valid UTF-8")
			}
		})
	}
}

func TestRunnerDoneOncePerCheck(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 40
	inFlight := make(chan struct{})
	checks := make([]diag.Check, n)
	for i := range checks {
		var c checker
		switch {
		case i == 25:
			c = waitsForContext(inFlight)
		case i%5 == 1:
			c = checker(func(context.Context, diag.Target) diag.Result { panic("x") })
		default:
			c = returns(diag.Resultf(diag.Statuses[i%len(diag.Statuses)], "r%d", i))
		}
		checks[i] = diag.Check{ID: fmt.Sprint(i), Checker: c}
	}
	go func() {
		<-inFlight
		cancel()
	}()
	var inCall atomic.Bool
	seen := map[string]diag.Result{}
	var calls int
	r := diag.Runner{Parallel: 4, Done: func(res diag.Result) {
		if !inCall.CompareAndSwap(false, true) {
			t.Error("Done called while another call was running")
		}
		calls++
		if _, dup := seen[res.ID]; dup {
			t.Errorf("Done called twice for %s", res.ID)
		}
		seen[res.ID] = res
		inCall.Store(false)
	}}
	results := r.Run(ctx, diag.NewLocal(), checks)
	if calls != n {
		t.Errorf("Done called %d times for %d checks", calls, n)
	}
	for _, res := range results {
		if got, ok := seen[res.ID]; !ok || !reflect.DeepEqual(got, res) {
			t.Errorf("Done saw %+v for %s, Run returned %+v", got, res.ID, res)
		}
	}
	if results[25].Message != "cancelled" {
		t.Errorf("the check in flight at the cancel: %q", results[25].Message)
	}
}

func TestRunnerClock(t *testing.T) {
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var ticks atomic.Int64
	r := diag.Runner{Now: func() time.Time { return base.Add(time.Duration(ticks.Add(1)) * 1500 * time.Millisecond) }}
	res := r.Run(context.Background(), diag.NewLocal(), []diag.Check{{ID: "a", Checker: returns(diag.Resultf(diag.Pass, "ok"))}})[0]
	if res.Duration != 1500*time.Millisecond {
		t.Errorf("duration %v, want one tick of the injected clock", res.Duration)
	}
}

func TestRunnerNoChecks(t *testing.T) {
	if got := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), nil); len(got) != 0 {
		t.Errorf("got %v", got)
	}
}
