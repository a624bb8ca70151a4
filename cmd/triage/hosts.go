package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote"
	"github.com/triage-dev/triage/reports"
)

// hostJob is what to do on one host.
type hostJob struct {
	Name      string            // how the report names the host; "" means the target's own name
	Spec      string            // [user@]host[:port] to dial
	Vars      map[string]string // the host's inventory variables
	Playbooks []*playbooks.Playbook
}

// hostRunner checks hosts: the part of run and sweep that is the same.
type hostRunner struct {
	sel           playbooks.Selection
	checkParallel int
	checkTimeout  time.Duration
	hostTimeout   time.Duration
	now           func() time.Time
	dialer        *remote.Dialer
	// checkDone, when set, sees every finished check (progress for one host).
	checkDone func(diag.Result)
	// hostDone, when set, sees every finished host (progress for many).
	hostDone func(reports.Host)
}

// checkTarget runs a job's playbooks on a target that is already reached.
func (hr *hostRunner) checkTarget(ctx context.Context, t diag.Target, job hostJob) reports.Host {
	host := reports.Host{Target: t.Name(), Results: []reports.Result{}}
	if job.Name != "" {
		host.Target = job.Name
	}
	facts, err := t.Facts(ctx)
	if err != nil {
		host.Error = err.Error()
		host.ErrorKind = "facts"
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			host.Error = fmt.Sprintf("connected, but the host did not answer within --host-timeout (%s): even uname did not finish", hr.hostTimeout)
			host.ErrorKind = "host-timeout"
			host.Hint = "the host is overloaded, or its shell hangs (a ForceCommand, a login script waiting for input); log in with ssh to see"
		case ctx.Err() != nil:
			host.Error, host.ErrorKind = "cancelled before the host's facts were known", string(remote.ErrCancelled)
		}
		return host
	}
	host.Facts = facts
	var checks []diag.Check
	var owner []string // the playbook of each check
	for _, pb := range job.Playbooks {
		planned := pb.PlanHost(facts, job.Vars, hr.sel)
		checks = append(checks, planned...)
		for range planned {
			owner = append(owner, pb.Name)
		}
	}
	runner := &diag.Runner{Parallel: hr.checkParallel, Timeout: hr.checkTimeout, Now: hr.now, Done: hr.checkDone}
	results := runner.Run(ctx, t, checks)
	single := len(job.Playbooks) == 1
	for i, r := range results {
		pbName := owner[i]
		if single {
			pbName = "" // one playbook: the report header says which
		}
		host.Results = append(host.Results, reports.FromDiag(r, pbName))
	}
	return host
}

// checkRemote connects to a host and checks it, all within the per-host
// deadline, so that one hanging host cannot hold up the others.
func (hr *hostRunner) checkRemote(ctx context.Context, job hostJob) reports.Host {
	ctx, cancel := context.WithTimeout(ctx, hr.hostTimeout)
	defer cancel()
	t, err := hr.dialer.Dial(ctx, job.Spec)
	if err != nil {
		h := reports.Host{Target: job.Spec, Status: diag.Error, Error: err.Error(), Results: []reports.Result{}}
		var ce *remote.ConnectError
		if errors.As(err, &ce) {
			if ce.Deadline {
				// The host timeout, not the connect timeout, ended it.
				ce.Timeout = hr.hostTimeout
				h.Error = err.Error()
			}
			h.Target = ce.Host
			if ce.Via == "" {
				h.Error = trimHost(err.Error(), ce.Host)
			}
			h.Hint = ce.Hint()
			h.ErrorKind = string(ce.Kind)
		}
		if job.Name != "" {
			h.Target = job.Name
		}
		return h
	}
	defer t.Close()
	h := hr.checkTarget(ctx, t, job)
	if ctx.Err() != nil && h.Error == "" && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// Checks still running at the deadline were marked as timed out or
		// cancelled one by one; say why for the host as a whole too.
		h.Hint = "the host did not finish within --host-timeout; checks that were still running are marked as errors"
		h.ErrorKind = "host-timeout"
	}
	return h
}

// runAll checks every job, at most parallel at once, and returns the
// hosts in the order of the jobs.
func (hr *hostRunner) runAll(ctx context.Context, jobs []hostJob, parallel int) []reports.Host {
	out := make([]reports.Host, len(jobs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, job := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// Never started: still in the report, with the reason.
			out[i] = reports.Host{Target: firstNonEmpty(job.Name, job.Spec), Status: diag.Error, Error: "cancelled before it was checked", ErrorKind: string(remote.ErrCancelled), Results: []reports.Result{}}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h := hr.checkRemote(ctx, job)
			out[i] = h
			if hr.hostDone != nil {
				mu.Lock()
				hr.hostDone(h)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
