package diag

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Check is one planned check: what to run and how to report it.
type Check struct {
	ID    string
	Kind  string
	Title string
	// Hint is the playbook author's advice, shown when the check fails or
	// warns. When the check could not run (error), the kind's own hint
	// about why is shown instead.
	Hint     string
	Severity Severity
	// Timeout bounds the whole check; 0 means the runner's default.
	Timeout time.Duration
	Checker Checker
	// Limits are the playbook's own thresholds on observed values, in the
	// Monitoring Plugins' range notation, applied after the kind's verdict.
	Limits map[string]Limits
	// Needs are the ids of checks of the same Group that must not fail for
	// this one to run (a playbook's needs:). A needed id that is not among
	// the checks (left out by --only) is ignored.
	Needs []string
	// Group scopes ids: the checks of one playbook. Two playbooks of one
	// run may use the same id.
	Group string
}

// Runner runs checks against a target.
type Runner struct {
	// Parallel bounds how many checks run at once; 0 means DefaultParallel.
	Parallel int
	// Timeout is the per-check timeout when a check sets none; 0 means
	// DefaultCheckTimeout.
	Timeout time.Duration
	// MaxEvidence caps the evidence kept per check; 0 means DefaultMaxEvidence.
	MaxEvidence int
	// Now is the clock; nil means time.Now. Tests inject a fixed one.
	Now func() time.Time
	// Done, when set, is called as each check finishes (from any goroutine,
	// one call at a time), for progress display.
	Done func(Result)
}

const (
	DefaultParallel     = 8
	DefaultCheckTimeout = 30 * time.Second
	DefaultMaxEvidence  = 64 << 10
)

// Run runs the checks concurrently and returns their results in the
// order of checks. It always returns, even if a Checker ignores its
// context: a check that outlives its timeout or ctx is reported as error
// ("timed out after ...", or "cancelled") and left behind.
//
// A check with Needs waits for them and is not run when one of them
// failed, could not check or was blocked: it is reported as blocked by the
// check at the root of the chain (see Block). After the run, Attribute
// puts the trouble of checks that name an Upstream down to the check that
// examines it.
//
// When ctx is cancelled, checks in flight and checks not yet started are
// reported as error with message "cancelled"; finished ones keep their
// results, so a report can still be written.
func (r *Runner) Run(ctx context.Context, t Target, checks []Check) []Result {
	parallel := r.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	results := make([]Result, len(checks))
	needs := neededBy(checks)
	done := make([]chan struct{}, len(checks))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var doneMu sync.Mutex
	// settle records a result for a check that is not run (cancelled or
	// blocked).
	settle := func(i int, res Result) {
		defer wg.Done()
		results[i] = r.finish(checks[i], res, 0)
		r.report(&doneMu, results[i])
		close(done[i])
	}
	// startWhenFree takes a slot and runs check i, or settles it as not
	// started when the run ends first.
	startWhenFree := func(i int) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			settle(i, cancelledBy(ctx))
			return
		}
		go func() {
			defer wg.Done()
			defer close(done[i])
			defer func() { <-sem }()
			results[i] = r.runOne(ctx, t, checks[i])
			r.report(&doneMu, results[i])
		}()
	}
	for i := range checks {
		wg.Add(1)
		if len(needs[i]) == 0 {
			// Checks that need nothing start in playbook order, as
			// slots free up.
			startWhenFree(i)
			continue
		}
		// A check with needs waits for them without holding a slot, so
		// that what it waits for can run.
		go func() {
			for _, j := range needs[i] {
				select {
				case <-done[j]:
				case <-ctx.Done():
				}
			}
			if ctx.Err() == nil {
				if root, ok := blockedRoot(checks, results, needs[i]); ok {
					settle(i, Block(checks[i], root, nil))
					return
				}
			}
			startWhenFree(i)
		}()
	}
	wg.Wait()
	Attribute(checks, results)
	return results
}

// neededBy resolves each check's Needs to indexes of checks in its group.
// A need that is part of a cycle is dropped (the playbook loader rejects
// cycles; this keeps a hand-built plan from hanging the run).
func neededBy(checks []Check) [][]int {
	index := map[string]int{}
	for i, c := range checks {
		key := c.Group + "\x00" + c.ID
		if _, dup := index[key]; !dup {
			index[key] = i
		}
	}
	needs := make([][]int, len(checks))
	for i, c := range checks {
		for _, id := range c.Needs {
			if j, ok := index[c.Group+"\x00"+id]; ok && j != i {
				needs[i] = append(needs[i], j)
			}
		}
	}
	// Drop edges into cycles: visit depth first, and cut an edge that
	// leads back to a check still on the path.
	const (
		unseen = iota
		onPath
		finished
	)
	state := make([]int, len(checks))
	var visit func(i int)
	visit = func(i int) {
		state[i] = onPath
		kept := needs[i][:0]
		for _, j := range needs[i] {
			if state[j] == onPath {
				continue
			}
			if state[j] == unseen {
				visit(j)
			}
			kept = append(kept, j)
		}
		needs[i] = kept
		state[i] = finished
	}
	for i := range checks {
		if state[i] == unseen {
			visit(i)
		}
	}
	return needs
}

// blockedRoot returns the root of the first needed check that blocks its
// dependants, if any.
func blockedRoot(checks []Check, results []Result, needs []int) (Result, bool) {
	for _, j := range needs {
		if !blocks(results[j]) {
			continue
		}
		root := results[j]
		if root.BlockedBy != "" {
			for k := range checks {
				if checks[k].Group == checks[j].Group && checks[k].ID == root.BlockedBy {
					root = results[k]
					break
				}
			}
		}
		return root, true
	}
	return Result{}, false
}

func (r *Runner) report(mu *sync.Mutex, res Result) {
	if r.Done == nil {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	r.Done(res)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) runOne(parent context.Context, t Target, c Check) (res Result) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = r.Timeout
	}
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	ctx, notes := withNotes(ctx)
	defer func() {
		for _, n := range notes.take() {
			if res.Evidence != "" && !strings.HasSuffix(res.Evidence, "\n") {
				res.Evidence += "\n"
			}
			res.Evidence += "[triage] " + n + "\n"
		}
	}()

	start := r.now()
	out := make(chan Result, 1)
	go func() {
		defer func() {
			// A bug in one kind must not take down the whole run.
			if p := recover(); p != nil {
				out <- Resultf(Error, "internal error in the %s check: %v", c.Kind, p).
					WithHint("this is a bug in triage; please report it with this message")
			}
		}()
		if c.Checker == nil {
			out <- Resultf(Error, "check has nothing to run")
			return
		}
		if l, ok := t.(KindLimiter); ok {
			if reason := l.Unsupported(ctx, c.Kind); reason != "" {
				out <- Resultf(Skip, "%s", reason)
				return
			}
		}
		out <- c.Checker.Run(ctx, t)
	}()

	select {
	case res = <-out:
		// A check that gave up because its context ended says so in the
		// runner's words, so timeouts and cancellations read the same in
		// every kind; a check that passed in time keeps its verdict.
		if ctx.Err() != nil && res.Status == Error {
			res = overrideEnded(parent, res, timeout)
		}
	case <-ctx.Done():
		res = overrideEnded(parent, Result{}, timeout)
	}
	return r.finish(c, res, r.now().Sub(start))
}

func overrideEnded(parent context.Context, res Result, timeout time.Duration) Result {
	if parent.Err() != nil {
		c := cancelledBy(parent)
		c.Observed, c.Evidence = res.Observed, res.Evidence
		return c
	}
	res.Status = Error
	res.Message = fmt.Sprintf("timed out after %s", timeout)
	res.Hint = "the check did not finish in time: raise its timeout: in the playbook, or find out why the target answers slowly"
	return res
}

// cancelledBy says why a check did not finish: the run was interrupted,
// or the run as a whole ran out of time.
func cancelledBy(ctx context.Context) Result {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Result{Status: Error, Message: "not finished when the run's time limit was reached", Hint: "the run as a whole has a time limit (--timeout or --host-timeout); raise it, or find the slow check"}
	}
	return cancelled()
}

func cancelled() Result {
	return Result{Status: Error, Message: "cancelled", Hint: "the run was interrupted before this check finished; run it again"}
}

// finish fills in what the runner knows about a check and applies its severity.
func (r *Runner) finish(c Check, res Result, d time.Duration) Result {
	res.ID, res.Kind, res.Title = c.ID, c.Kind, c.Title
	res.Needs = c.Needs
	if !res.Status.Valid() {
		res.Status = Error
		res.Message = "check returned no verdict"
	}
	res = applyLimits(res, c.Limits)
	sev := c.Severity
	if sev == "" {
		sev = Critical
	}
	res.Severity = sev
	res.Status = sev.Cap(res.Status)
	switch res.Status {
	case Pass, Skip:
		if res.Status == Pass {
			res.Hint = ""
		}
	case Warn, Fail:
		if c.Hint != "" {
			if res.Hint != "" && res.Hint != c.Hint {
				res.CheckHint = res.Hint
			}
			res.Hint = c.Hint
		}
	}
	max := r.MaxEvidence
	if max <= 0 {
		max = DefaultMaxEvidence
	}
	if len(res.Evidence) > max {
		// Cut on a character boundary, so the report stays valid UTF-8.
		cut := max
		for cut > 0 && !utf8.RuneStart(res.Evidence[cut]) {
			cut--
		}
		res.Evidence = res.Evidence[:cut] + "\n[evidence truncated]"
	}
	res.Duration = d
	return res
}

// IsContextErr reports whether err comes from a context ending, which the
// runner reports as a timeout or cancellation rather than the kind's error.
func IsContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
