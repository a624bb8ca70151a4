package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote"
	"github.com/triage-dev/triage/reports"
)

type runOptions struct {
	io *streams

	Playbooks []string
	Vars      []string
	Format    string
	Reports   []string
	Tags      []string
	Only      []string
	Parallel  int
	Timeout   time.Duration
	// Deadline bounds the whole run (--timeout): what has not finished by
	// then is reported as not checked, so a monitoring system always gets
	// an answer in time.
	Deadline time.Duration
	Ticket   string
	// Send names the destination the report is sent to (send.go).
	Send string
	// Verbose shows the checks for other platforms, which the text,
	// Markdown and HTML reports leave out by default.
	Verbose bool

	// A support bundle, and what is redacted from it and the reports.
	Bundle    string
	Redact    []string
	Anonymize bool

	// Remote hosts (-H) and how to reach them.
	Hosts         []string
	SSH           remote.Options
	HostKeyPolicy string
	HostTimeout   time.Duration

	// Test hooks: the clock and the target; nil means time.Now and this machine.
	Now    func() time.Time
	Target diag.Target
}

func newRunCmd(io *streams, runF func(context.Context, *runOptions) error) *cobra.Command {
	opts := &runOptions{io: io}
	cmd := &cobra.Command{
		Use:   "run [PLAYBOOK...]",
		Short: "Run playbooks on this machine or over SSH and print a report",
		Long: `Run one or more playbooks on this machine, or with -H on other machines over
SSH (nothing is installed there), and print a report.

A PLAYBOOK is a path to a YAML file or the name of a built-in playbook
(see 'triage playbook list'); with none, the built-in "standard" runs.
The report goes to stdout in the format of -o; --report writes it to
files too, in the format their extension names, so it can be attached
to a ticket; --bundle writes a support bundle (.tar.gz) with the report,
every check's evidence and what collect checks gathered. Passwords,
tokens, keys and connection strings are redacted from all of it;
--anonymize also replaces host names, addresses and user names. Ctrl-C
stops the checks in flight, marks them cancelled and still writes the
report.

Exit codes: 0 all passed, 1 worst was a warning, 2 a check failed,
3 something could not be checked, 64 bad usage, 65 invalid playbook.`,
		Example: `  triage run
  triage run disk connectivity -o json
  triage run ./vpn.yaml --var gateway=vpn.example.com --report ticket-1234.json
  triage run standard --tags disk --report out.txt --report out.json
  triage run vpn --ticket INC-1234 --report INC-1234.html --bundle INC-1234.tar.gz
  triage run vpn -H alice@10.2.3.4
  triage run disk -H web1,web2 -H db1:2222 --host-key-policy accept-new`,
		ValidArgsFunction: completePlaybooks,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Playbooks = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "o", "text", "report format on stdout: "+strings.Join(reports.Formats(), ", "))
	f.StringArrayVar(&opts.Reports, "report", nil, "also write the report to `FILE`, format from its extension ("+strings.Join(reports.Extensions(), " ")+"); repeatable")
	f.StringArrayVar(&opts.Vars, "var", nil, "set a playbook variable, as `NAME=VALUE`; repeatable")
	f.StringSliceVar(&opts.Tags, "tags", nil, "run only checks with one of these `TAGS` (comma-separated)")
	f.StringSliceVar(&opts.Only, "only", nil, "run only the checks with these `IDS` (comma-separated)")
	f.IntVar(&opts.Parallel, "parallel", diag.DefaultParallel, "how many checks run at once")
	f.DurationVar(&opts.Timeout, "check-timeout", diag.DefaultCheckTimeout, "time limit for a check that sets no timeout of its own")
	f.DurationVar(&opts.Deadline, "timeout", 0, "time limit for the whole run: unfinished checks become errors and the report is still printed, in time (for monitoring; 0 means none)")
	f.StringVar(&opts.Ticket, "ticket", "", "stamp the report with a ticket `ID`; with --send, add it to that ticket")
	f.StringVar(&opts.Send, "send", "", "send the report to the destination `NAME` of the config file (see 'triage send --help')")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "also show the checks skipped because they are for another platform (the JSON always has them)")
	addRedactFlags(f, &opts.Redact, &opts.Anonymize)
	f.StringVar(&opts.Bundle, "bundle", "", "write a support bundle to `FILE.tar.gz`: reports, evidence and collected files, redacted")
	addSSHFlags(f, opts)
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return reports.Formats(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func completePlaybooks(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, b := range playbooks.Builtins() {
		out = append(out, b.Name+"\t"+b.Description)
	}
	// Playbook files are completed by the shell as well.
	return out, cobra.ShellCompDirectiveDefault
}

func runRun(ctx context.Context, opts *runOptions) error {
	renderer, ok := reports.Lookup(opts.Format)
	if !ok {
		return usageErrorf("formats: "+strings.Join(reports.Formats(), ", "), "unknown format %q", opts.Format)
	}
	for _, path := range opts.Reports {
		if _, err := reports.ForFile(path); err != nil {
			return usageErrorf("", "--report %v", err)
		}
	}
	if opts.Parallel < 1 {
		return usageErrorf("", "--parallel must be at least 1, got %d", opts.Parallel)
	}
	if err := checkBundlePath(opts.Bundle); err != nil {
		return err
	}
	if err := checkRedactFlags(opts.Redact); err != nil {
		return err
	}
	vars, err := parseVars(opts.Vars)
	if err != nil {
		return err
	}
	pbs, err := loadPlaybooks(opts.Playbooks, playbooks.Options{Vars: vars})
	if err != nil {
		return err
	}
	sel := playbooks.Selection{Tags: opts.Tags, Only: opts.Only}
	if err := sel.Check(pbs); err != nil {
		return usageErrorf("'triage playbook show NAME' lists a playbook's checks", "%v", err)
	}
	redactor, err := newRedactor(opts.Redact, pbs, opts.Anonymize)
	if err != nil {
		return err
	}
	var dest *sendTarget
	if opts.Send != "" {
		if dest, err = openDestination(opts.Send, os.Getenv); err != nil {
			return err
		}
	}

	if opts.Deadline < 0 {
		return usageErrorf("", "--timeout must not be negative")
	}
	runCtx := ctx
	if opts.Deadline > 0 {
		// Leave a moment to render and write: the answer must be in time,
		// not only the checks.
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, opts.Deadline-min(opts.Deadline/10, 500*time.Millisecond))
		defer cancel()
	}

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	rep := newReport(pbs, now(), opts.Ticket)
	hosts := remote.SplitHosts(opts.Hosts)
	if len(hosts) == 0 {
		target := opts.Target
		if target == nil {
			target = diag.NewLocal()
		}
		rep.Hosts = append(rep.Hosts, runHost(runCtx, opts, target, pbs, sel, now))
	} else {
		results, err := runRemote(runCtx, opts, hosts, pbs, sel, now)
		if err != nil {
			return err
		}
		rep.Hosts = append(rep.Hosts, results...)
	}
	rep.Finish(now())
	// Nothing is rendered or written before the secrets are out.
	redactor.Redact(rep)

	switch {
	case ctx.Err() != nil:
		opts.io.warnf("interrupted: unfinished checks are reported as cancelled")
	case runCtx.Err() != nil:
		opts.io.warnf("the run reached its --timeout of %s: unfinished checks are reported as not checked", opts.Deadline)
	}
	if err := renderer.Render(opts.io.Out, rep, reports.Options{Color: opts.io.color(), Verbose: opts.Verbose}); err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing the report: %w", err)}
	}
	if err := writeReports(opts.io, opts.Reports, rep); err != nil {
		return err
	}
	if err := writeBundle(opts.io, opts.Bundle, rep); err != nil {
		return err
	}
	if err := sendReport(ctx, opts.io, dest, rep, redactor, opts.Ticket, opts.Bundle); err != nil {
		return err
	}
	if code := statusExit(rep.Summary.Status); code != exitPass {
		return &exitCodeError{code: code}
	}
	return nil
}

// runHost runs the playbooks on this machine (or a test's target) and
// reports what it found, with a progress line on a terminal.
func runHost(ctx context.Context, opts *runOptions, t diag.Target, pbs []*playbooks.Playbook, sel playbooks.Selection, now func() time.Time) reports.Host {
	p := newProgress(opts.io, 0)
	hr := &hostRunner{sel: sel, checkParallel: opts.Parallel, checkTimeout: opts.Timeout, now: now, checkDone: p.done}
	h := hr.checkTarget(ctx, t, hostJob{Playbooks: pbs})
	p.finish()
	return h
}

func newReport(pbs []*playbooks.Playbook, started time.Time, ticket string) *reports.Report {
	rep := &reports.Report{
		Schema:  reports.Schema,
		Tool:    reports.Tool{Name: "triage", Version: versionString()},
		Started: started,
		Ticket:  ticket,
	}
	for _, pb := range pbs {
		rep.Playbooks = append(rep.Playbooks, reports.PlaybookRef{Name: pb.Name, Source: pb.Source, SHA256: pb.SHA256})
	}
	return rep
}

func writeReports(io *streams, paths []string, rep *reports.Report) error {
	var failed []string
	for _, path := range paths {
		if err := reports.WriteFile(path, rep, reports.Options{}); err != nil {
			io.warnf("cannot write the report to %s: %v", path, err)
			failed = append(failed, path)
			continue
		}
		if io.ErrIsTTY {
			io.warnf("report written to %s", path)
		}
	}
	if len(failed) > 0 {
		return &exitCodeError{code: exitError, hint: "check that the folder exists and can be written to, and that the disk has room"}
	}
	return nil
}

func parseVars(kvs []string) (map[string]string, error) {
	vars := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("write --var NAME=VALUE", "--var %q: missing '='", kv)
		}
		vars[k] = v
	}
	return vars, nil
}

// loadPlaybooks opens every playbook argument and reports every problem in
// every playbook before giving up, so one run shows all there is to fix.
func loadPlaybooks(args []string, opts playbooks.Options) ([]*playbooks.Playbook, error) {
	if len(args) == 0 {
		args = []string{"standard"}
	}
	var pbs []*playbooks.Playbook
	var invalid, notFound []string
	for _, arg := range args {
		pb, err := playbooks.Open(arg, opts)
		var nf *playbooks.NotFoundError
		switch {
		case errors.As(err, &nf):
			notFound = append(notFound, err.Error())
		case err != nil:
			invalid = append(invalid, err.Error())
		default:
			pbs = append(pbs, pb)
		}
	}
	if len(invalid) > 0 {
		return nil, invalidInput(errors.New(strings.Join(append(invalid, notFound...), "\n")),
			"fix the mistakes above; 'triage playbook validate FILE' checks a playbook without running it")
	}
	if len(notFound) > 0 {
		return nil, usageErrorf("'triage playbook list' shows the built-in playbooks", "%s", strings.Join(notFound, "\n"))
	}
	return pbs, nil
}
