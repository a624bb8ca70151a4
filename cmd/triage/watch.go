package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote"
	"github.com/triage-dev/triage/reports"
)

// watch runs playbooks in rounds and journals every round (reports/journal.go),
// for the faults that are gone by the time anyone looks. Its result is the
// episodes the journal holds, rendered as a report; the journal alone is
// enough to render it again, even after a crash (triage report render).

// watchReconnectMax caps the wait between two attempts to reconnect.
const watchReconnectMax = 2 * time.Minute

// watchProbeTimeout bounds the check that the SSH connection still works,
// made before each round.
const watchProbeTimeout = 15 * time.Second

type watchOptions struct {
	run runOptions

	Every   time.Duration
	For     time.Duration
	Journal string
}

func newWatchCmd(io *streams) *cobra.Command {
	opts := &watchOptions{run: runOptions{io: io}}
	cmd := &cobra.Command{
		Use:   "watch [PLAYBOOK...]",
		Short: "Run playbooks in rounds and record when problems come and go",
		Long: `Run playbooks again and again, every --every, for --for or until Ctrl-C, on
this machine or with -H on another over one SSH connection (made again,
with growing waits, when it is lost; the loss is recorded too). For the
problems that are gone by the time anyone looks: "it drops every
afternoon", "the VPN disconnects now and then".

Every round is appended to a journal (--journal, JSON Lines, synced per
round, so a crash loses at most the round in flight); rounds that change
nothing are folded, so a long watch stays small. On a terminal, a live
view shows each check's recent statuses; otherwise one line per change.

When the watch ends, the report says, per check, when it went bad, how
often, for how long and its worst value, and which problems happened
together. 'triage report render JOURNAL' renders it again from the
journal alone, in any format (the HTML has a timeline per check).

Exit codes: as 'triage run', for the worst status seen during the watch.`,
		Example: `  triage watch connectivity --every 30s --for 2h
  triage watch standard -H alice@10.2.3.4 --every 10s --journal alice.jsonl
  triage report render alice.jsonl -o html > alice.html`,
		ValidArgsFunction: completePlaybooks,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.run.Playbooks = args
			return watchRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.Every, "every", 30*time.Second, "start a round this often")
	f.DurationVar(&opts.For, "for", 0, "stop after this long (default: until Ctrl-C)")
	f.StringVar(&opts.Journal, "journal", "", "append the rounds to this `FILE` (default: triage-watch-HOST-TIME.jsonl here); it must not exist")
	f.StringVarP(&opts.run.Format, "format", "o", "text", "report format on stdout at the end: "+strings.Join(reports.Formats(), ", "))
	f.StringArrayVar(&opts.run.Reports, "report", nil, "also write the report to `FILE` at the end, format from its extension; repeatable")
	f.StringArrayVar(&opts.run.Vars, "var", nil, "set a playbook variable, as `NAME=VALUE`; repeatable")
	f.StringSliceVar(&opts.run.Tags, "tags", nil, "run only checks with one of these `TAGS` (comma-separated)")
	f.StringSliceVar(&opts.run.Only, "only", nil, "run only the checks with these `IDS` (comma-separated)")
	f.IntVar(&opts.run.Parallel, "parallel", diag.DefaultParallel, "how many checks run at once")
	f.DurationVar(&opts.run.Timeout, "check-timeout", diag.DefaultCheckTimeout, "time limit for a check that sets no timeout of its own")
	f.StringVar(&opts.run.Ticket, "ticket", "", "stamp the report with a ticket `ID`; with --send, the ticket to add it to")
	f.StringVar(&opts.run.Send, "send", "", "at the end, send the report to the destination `NAME` of the config file (see triage send --help)")
	f.BoolVarP(&opts.run.Verbose, "verbose", "v", false, "also show the checks skipped because they are for another platform")
	addSSHFlags(f, &opts.run)
	_ = cmd.RegisterFlagCompletionFunc("format", completeFormats)
	return cmd
}

func watchRun(ctx context.Context, opts *watchOptions) error {
	ro := &opts.run
	io := ro.io
	renderer, ok := reports.Lookup(ro.Format)
	if !ok {
		return usageErrorf("formats: "+strings.Join(reports.Formats(), ", "), "unknown format %q", ro.Format)
	}
	for _, path := range ro.Reports {
		if _, err := reports.ForFile(path); err != nil {
			return usageErrorf("", "--report %v", err)
		}
	}
	if opts.Every < time.Second {
		return usageErrorf("", "--every must be at least 1s, got %s", opts.Every)
	}
	if opts.For < 0 {
		return usageErrorf("", "--for must not be negative")
	}
	if ro.Parallel < 1 {
		return usageErrorf("", "--parallel must be at least 1, got %d", ro.Parallel)
	}
	hosts := remote.SplitHosts(ro.Hosts)
	if len(hosts) > 1 {
		return usageErrorf("watch one host at a time: run one triage watch per host", "-H names %d hosts", len(hosts))
	}
	vars, err := parseVars(ro.Vars)
	if err != nil {
		return err
	}
	pbs, err := loadPlaybooks(ro.Playbooks, playbooks.Options{Vars: vars})
	if err != nil {
		return err
	}
	sel := playbooks.Selection{Tags: ro.Tags, Only: ro.Only}
	if err := sel.Check(pbs); err != nil {
		return usageErrorf("'triage playbook show NAME' lists a playbook's checks", "%v", err)
	}
	redactor, err := newRedactor(nil, pbs, false)
	if err != nil {
		return err
	}
	// The destination and its credential are checked before the watch,
	// not hours later at its end.
	var dest *sendTarget
	if ro.Send != "" {
		if dest, err = openDestination(ro.Send, os.Getenv); err != nil {
			return err
		}
	}
	now := ro.Now
	if now == nil {
		now = time.Now
	}
	w := &watcher{
		io: io, every: opts.Every, dur: opts.For, now: now, redactor: redactor,
		hr:  &hostRunner{sel: sel, checkParallel: ro.Parallel, checkTimeout: ro.Timeout, now: now},
		job: hostJob{Playbooks: pbs},
	}
	targetName := "local"
	if len(hosts) == 1 {
		if err := prepareDialer(ro, hosts); err != nil {
			return err
		}
		dialer, err := remote.NewDialer(ro.SSH)
		if err != nil {
			return invalidInput(err, "fix the file, or choose another with -F")
		}
		defer dialer.Close()
		w.dialer, w.spec, targetName = dialer, hosts[0], hosts[0]
		if ro.HostTimeout <= 0 {
			return usageErrorf("", "--host-timeout must be positive")
		}
		w.hostTimeout = ro.HostTimeout
	} else {
		w.local = ro.Target
		if w.local == nil {
			w.local = diag.NewLocal()
		}
	}
	path := opts.Journal
	if path == "" {
		path = watchJournalName(targetName, now())
	}
	journal, err := reports.CreateJournal(path, watchHeader(pbs, targetName, ro.Ticket, opts.Every, now()))
	if err != nil {
		hint := "choose another file with --journal"
		if errors.Is(err, os.ErrExist) {
			hint = "a journal is never overwritten: choose another file with --journal, or remove this one"
		}
		return &exitCodeError{code: exitError, err: fmt.Errorf("cannot create the journal: %w", err), hint: hint}
	}
	w.journal = journal
	until := "until Ctrl-C"
	if opts.For > 0 {
		until = "for " + opts.For.String() + ", or until Ctrl-C"
	}
	io.warnf("watching %s every %s %s; journal: %s", targetName, opts.Every, until, path)

	err = w.run(ctx)
	journal.Close()
	if err != nil {
		return err
	}
	rep, err := w.report()
	if err != nil {
		return err
	}
	if err := renderer.Render(io.Out, rep, reports.Options{Color: io.color(), Verbose: ro.Verbose}); err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing the report: %w", err)}
	}
	if err := writeReports(io, ro.Reports, rep); err != nil {
		return err
	}
	io.warnf("journal kept in %s: 'triage report render %s -o html' renders it again", path, path)
	// A watch usually ends with Ctrl-C, which cancelled ctx: the hand-off
	// still happens (bounded by the destination's own timeout).
	if err := sendReport(context.WithoutCancel(ctx), io, dest, rep, redactor, ro.Ticket, ""); err != nil {
		return err
	}
	if code := statusExit(rep.Summary.Status); code != exitPass {
		return &exitCodeError{code: code}
	}
	return nil
}

// prepareDialer checks the SSH flags as 'run -H' does.
func prepareDialer(ro *runOptions, hosts []string) error {
	if ro.HostKeyPolicy != "" {
		p, err := remote.ParseHostKeyPolicy(ro.HostKeyPolicy)
		if err != nil {
			return usageErrorf("", "--host-key-policy: %v", err)
		}
		ro.SSH.HostKeyPolicy = p
	}
	for _, h := range hosts {
		if _, err := remote.ParseSpec(h); err != nil {
			return usageErrorf("write hosts as [user@]host[:port]", "-H %v", err)
		}
	}
	if ro.SSH.Prompter == nil && term.IsTerminal(int(os.Stdin.Fd())) {
		ro.SSH.Prompter = ttyPrompter{io: ro.io}
	}
	return nil
}

func watchHeader(pbs []*playbooks.Playbook, target, ticket string, every time.Duration, started time.Time) reports.JournalHeader {
	h := reports.JournalHeader{Tool: reports.Tool{Name: "triage", Version: versionString()}, Started: started,
		Target: target, Ticket: ticket, EveryMS: every.Milliseconds()}
	for _, pb := range pbs {
		h.Playbooks = append(h.Playbooks, reports.PlaybookRef{Name: pb.Name, Source: pb.Source, SHA256: pb.SHA256})
	}
	return h
}

// watchJournalName names a journal after the target and the time.
func watchJournalName(target string, t time.Time) string {
	name := strings.TrimSuffix(doctorFileName(target, t, ".x"), ".x")
	return strings.Replace(name, "triage-report-", "triage-watch-", 1) + ".jsonl"
}

// watcher runs the rounds of a watch.
type watcher struct {
	io          *streams
	every, dur  time.Duration
	now         func() time.Time
	hr          *hostRunner
	job         hostJob
	redactor    *reports.Redactor
	journal     *reports.JournalWriter
	hostTimeout time.Duration

	// Where: this machine (local), or a host over SSH (dialer and spec).
	local  diag.Target
	dialer *remote.Dialer
	spec   string

	// last is the last round that finished, in full.
	last *reports.Host
	view *liveView
	// sleep waits for d or until ctx ends (a test hook; nil means a timer).
	sleep func(ctx context.Context, d time.Duration)
}

func (w *watcher) wait(ctx context.Context, d time.Duration) {
	if w.sleep != nil {
		w.sleep(ctx, d)
		return
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// run does rounds until the watch's time is up or ctx is cancelled. Only
// a failure to write the journal, or a host that refuses us for good
// (authentication, host key) before the first round, ends it with an error.
func (w *watcher) run(ctx context.Context) error {
	start := w.now()
	// The end is judged by the watch's clock, not a context deadline, so
	// that a test's clock can run the watch.
	end := start.Add(w.dur)
	over := func() bool { return w.dur > 0 && !w.now().Before(end) }
	if w.view == nil {
		w.view = newLiveView(w.io)
	}
	defer w.view.close()
	var conn *remote.Target
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	lost := false
	backoff := time.Second
	next := start
	rounds := 0
	for ctx.Err() == nil && !over() {
		wait := next.Sub(w.now())
		if w.dur > 0 {
			wait = min(wait, end.Sub(w.now()))
		}
		w.wait(ctx, wait)
		if ctx.Err() != nil || over() {
			break
		}
		target := w.local
		if w.dialer != nil {
			if conn != nil {
				if aerr := connAlive(ctx, conn); aerr != nil {
					conn.Close()
					conn = nil
					if ctx.Err() != nil {
						break
					}
					if err := w.lose(&lost, fmt.Errorf("the connection stopped answering: %w", aerr)); err != nil {
						return err
					}
				}
			}
			if conn == nil {
				t, err := w.dial(ctx)
				if ctx.Err() != nil {
					break
				}
				if err != nil {
					var ce *remote.ConnectError
					if rounds == 0 && !lost && errors.As(err, &ce) && permanentConnectError(ce.Kind) {
						return &exitCodeError{code: exitError, err: err, hint: ce.Hint()}
					}
					if err := w.lose(&lost, err); err != nil {
						return err
					}
					next = w.now().Add(backoff)
					backoff = min(backoff*2, max(watchReconnectMax, w.every))
					continue
				}
				conn, backoff = t, time.Second
				if lost {
					lost = false
					if err := w.journal.Event(reports.JournalEvent{Time: w.now(), Event: reports.EventConnected}); err != nil {
						return journalError(err)
					}
					w.view.event("connected to %s again", w.spec)
				}
			}
			target = conn
		}

		roundStart := w.now()
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if w.hostTimeout > 0 {
			rctx, cancel = context.WithTimeout(ctx, w.hostTimeout)
		}
		h := w.hr.checkTarget(rctx, target, w.job)
		cancel()
		if ctx.Err() != nil {
			// Stopped mid-round: the round's checks were cut short and
			// would read as errors. It is not recorded.
			break
		}
		took := w.now().Sub(roundStart)
		w.redactHost(&h)
		if h.Error == "" {
			if err := w.journal.Round(roundStart, took, h, h.Facts); err != nil {
				return journalError(err)
			}
			rounds++
			w.last = &h
			w.view.round(roundStart, h)
		} else if err := w.lose(&lost, errors.New(h.Error)); err != nil {
			return err
		}
		// The next round starts on the interval's grid; one that would
		// start late is skipped rather than run back to back.
		next = roundStart.Add(w.every)
		if behind := w.now().Sub(next); behind > 0 {
			next = next.Add((behind/w.every + 1) * w.every)
		}
	}
	if err := w.journal.Event(reports.JournalEvent{Time: w.now(), Event: reports.EventStopped}); err != nil {
		return journalError(err)
	}
	return nil
}

func (w *watcher) dial(ctx context.Context) (*remote.Target, error) {
	dctx, cancel := context.WithTimeout(ctx, w.hostTimeout)
	defer cancel()
	return w.dialer.Dial(dctx, w.spec)
}

// lose records that the host cannot be reached, once per outage.
func (w *watcher) lose(lost *bool, err error) error {
	if *lost {
		return nil
	}
	*lost = true
	if jerr := w.journal.Event(reports.JournalEvent{Time: w.now(), Event: reports.EventDisconnected, Error: err.Error()}); jerr != nil {
		return journalError(jerr)
	}
	w.view.event("lost %s: %v; trying again", w.spec, err)
	return nil
}

func (w *watcher) redactHost(h *reports.Host) {
	if w.redactor == nil {
		return
	}
	rep := &reports.Report{Hosts: []reports.Host{*h}}
	w.redactor.Redact(rep)
	*h = rep.Hosts[0]
}

// report reads the journal back and makes the watch's report of it, with
// the last round in full: what 'report render' of the journal would give,
// plus the details the journal does not keep.
func (w *watcher) report() (*reports.Report, error) {
	f, err := os.Open(w.journal.Path())
	if err != nil {
		return nil, &exitCodeError{code: exitError, err: fmt.Errorf("reading the journal back: %w", err)}
	}
	defer f.Close()
	j, err := reports.ReadJournal(f)
	if err != nil {
		return nil, &exitCodeError{code: exitError, err: fmt.Errorf("reading the journal back: %w", err)}
	}
	for _, n := range j.Notes {
		w.io.warnf("journal: %s", n)
	}
	rep := j.WatchReport(w.last)
	return rep, nil
}

func journalError(err error) error {
	return &exitCodeError{code: exitError, err: fmt.Errorf("writing the journal: %w", err),
		hint: "check that the disk has room; the rounds so far are in the journal"}
}

// permanentConnectError reports the reasons to stop trying a host: waiting
// does not fix a wrong key or a refused login.
func permanentConnectError(k remote.ErrorKind) bool {
	switch k {
	case remote.ErrConfig, remote.ErrAuth, remote.ErrHostUnknown, remote.ErrHostChanged:
		return true
	}
	return false
}

// connAlive checks that an SSH connection still carries commands (a lost
// one fails to open a session at once), and says why not.
func connAlive(ctx context.Context, t *remote.Target) error {
	ctx, cancel := context.WithTimeout(ctx, watchProbeTimeout)
	defer cancel()
	_, err := t.Run(ctx, diag.Command{Argv: []string{"true"}})
	if err == nil || errors.Is(err, diag.ErrUnsupported) || errors.Is(err, diag.ErrCommandNotFound) {
		return nil
	}
	return err
}

// liveView shows a watch as it goes on stderr. On a terminal: one line per
// check, a strip of its recent statuses and its current value, redrawn in
// place. Otherwise: a line per change of status, and a line per round
// that changed something.
type liveView struct {
	io    *streams
	tty   bool
	color bool
	drawn int // lines drawn last time, to move back over
	strip map[string][]diag.Status
	prev  map[string]diag.Status
	n     int
	// width is the terminal's width (a test hook; nil asks the terminal).
	width func() int
	// On a terminal, the last events and the round they are drawn with:
	// an event is part of the view, so that the redraw in place still
	// lands on the view rather than leaving a copy above the event.
	events []string
	last   *reports.Host
	lastAt time.Time
	now    func() time.Time // a test hook; nil is time.Now
}

// liveEvents is how many events the view keeps on screen.
const liveEvents = 3

// liveStrip is how many rounds the strip shows.
const liveStrip = 30

func newLiveView(io *streams) *liveView {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &liveView{io: io, tty: io.ErrIsTTY, color: io.ErrIsTTY && !noColor && !io.NoColor,
		strip: map[string][]diag.Status{}, prev: map[string]diag.Status{}}
}

var liveSymbol = map[diag.Status]struct{ mark, color string }{
	diag.Pass: {"▁", "\x1b[32m"}, diag.Warn: {"▄", "\x1b[33m"}, diag.Fail: {"█", "\x1b[31m"},
	diag.Error: {"?", "\x1b[35m"}, diag.Skip: {"·", "\x1b[2m"},
}

func (v *liveView) paint(st diag.Status, s string) string {
	if !v.color {
		return s
	}
	return liveSymbol[st].color + s + "\x1b[0m"
}

func liveKey(r reports.Result) string { return r.Playbook + "\x00" + r.ID }

func (v *liveView) round(at time.Time, h reports.Host) {
	v.n++
	for _, r := range h.Results {
		st := r.Status
		if r.BlockedBy != "" {
			st = diag.Skip
		}
		s := append(v.strip[liveKey(r)], st)
		if len(s) > liveStrip {
			s = s[len(s)-liveStrip:]
		}
		v.strip[liveKey(r)] = s
	}
	if v.tty {
		v.last, v.lastAt = &h, at
		v.redraw(at, h)
		return
	}
	for _, r := range h.Results {
		if r.OtherPlatform {
			continue
		}
		old, seen := v.prev[liveKey(r)]
		v.prev[liveKey(r)] = r.Status
		if r.Status == old || (!seen && !isProblemStatus(r.Status)) {
			continue
		}
		from := string(old)
		if !seen {
			from = "start"
		}
		line := fmt.Sprintf("%s %s: %s -> %s", at.Format("15:04:05"), r.Title, from, r.Status)
		if isProblemStatus(r.Status) && r.BlockedBy == "" {
			line += ": " + firstLine(r.Message)
		}
		v.io.warnf("%s", line)
	}
}

func (v *liveView) redraw(at time.Time, h reports.Host) {
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	// A line longer than the terminal would wrap, and moving back up by
	// the lines drawn would then land in the wrong place: every line is
	// cut to the width, less one column (some terminals wrap on the last).
	cols := max(v.termWidth()-1, 20)
	lines := 0
	line := func(s string) {
		b.WriteString("\r\x1b[K" + s + "\n")
		lines++
	}
	line(fitRunes(fmt.Sprintf("triage watch · round %d at %s · Ctrl-C to stop", v.n, at.Format("15:04:05")), cols))
	titleW, seen := 0, 0
	for _, r := range h.Results {
		if !r.OtherPlatform {
			titleW = max(titleW, min(len([]rune(r.Title)), 32))
			seen = max(seen, len(v.strip[liveKey(r)]))
		}
	}
	// "  TITLE STRIP VALUE": the title takes at most a third of the width,
	// so that what is wrong keeps some room; the strip is as wide as the
	// rounds so far, up to liveStrip; on a very narrow terminal it shows
	// fewer rounds, then the title gives way.
	titleW = min(titleW, max(cols/3, 8))
	stripN := min(liveStrip, seen, max(cols-3-titleW-1, 0))
	if stripN < 10 {
		titleW = max(min(titleW, cols-3-10-1), 4)
		stripN = min(liveStrip, seen, max(cols-3-titleW-1, 0))
	}
	for _, r := range h.Results {
		if r.OtherPlatform {
			continue
		}
		var strip strings.Builder
		s := v.strip[liveKey(r)]
		if len(s) > stripN {
			s = s[len(s)-stripN:]
		}
		strip.WriteString(strings.Repeat(" ", stripN-len(s)))
		for _, st := range s {
			strip.WriteString(v.paint(st, liveSymbol[st].mark))
		}
		value := ""
		if k, x, ok := reports.KeyValue(r.Observed); ok {
			value = reports.ValuePhrase(k, x)
		}
		if isProblemStatus(r.Status) && r.BlockedBy == "" {
			value = strings.TrimSpace(value + " " + firstLine(r.Message))
		}
		out := fmt.Sprintf("  %s %s", padRunes(fitRunes(r.Title, titleW), titleW), strip.String())
		if room := cols - (3 + titleW + stripN + 1); room >= 2 && value != "" {
			out += " " + fitRunes(value, room)
		}
		line(out)
	}
	for _, e := range v.events {
		line(fitRunes("  ! "+e, cols))
	}
	// Lines left over from a longer view are cleared.
	for i := lines; i < v.drawn; i++ {
		line("")
	}
	v.drawn = lines
	fmt.Fprint(v.io.Err, b.String())
}

// termWidth is the terminal's width in columns, 80 when it cannot tell.
func (v *liveView) termWidth() int {
	if v.width != nil {
		return v.width()
	}
	if f, ok := v.io.Err.(interface{ Fd() uintptr }); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// fitRunes cuts s to n characters, the last an ellipsis when cut.
func fitRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

// padRunes pads s with spaces to n characters.
func padRunes(s string, n int) string {
	return s + strings.Repeat(" ", max(n-len([]rune(s)), 0))
}

// event says something about the watch itself.
func (v *liveView) event(format string, a ...any) {
	if !v.tty || v.last == nil {
		v.io.warnf(format, a...)
		return
	}
	now := time.Now
	if v.now != nil {
		now = v.now
	}
	v.events = append(v.events, now().Format("15:04:05")+" "+fmt.Sprintf(format, a...))
	if len(v.events) > liveEvents {
		v.events = v.events[len(v.events)-liveEvents:]
	}
	v.redraw(v.lastAt, *v.last)
}

func (v *liveView) close() {}

func isProblemStatus(s diag.Status) bool {
	return s == diag.Warn || s == diag.Fail || s == diag.Error
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// watchJournalPath is where doctor --watch keeps its journal: beside its
// reports.
func watchJournalPath(dir, hostname string, t time.Time) string {
	return filepath.Join(dir, strings.Replace(strings.TrimSuffix(doctorFileName(hostname, t, ".x"), ".x"), "triage-report-", "triage-watch-", 1)+".jsonl")
}

// readReportOrJournal reads a saved report, or a watch's journal as the
// watch's report.
func readReportOrJournal(io *streams, path string) (*reports.Report, error) {
	var rd *bufio.Reader
	if path == "-" {
		rd = bufio.NewReaderSize(io.In, 64<<10)
	} else {
		f, err := os.Open(path)
		if err != nil {
			return readReportFile(io.In, path) // says why, as for a report
		}
		if fi, err := f.Stat(); err != nil || fi.IsDir() {
			f.Close()
			return readReportFile(io.In, path) // a folder: says so
		}
		defer f.Close()
		rd = bufio.NewReaderSize(f, 64<<10)
	}
	start, _ := rd.Peek(64 << 10)
	if !reports.IsJournal(start) {
		return decodeReport(rd, path)
	}
	lr := &limitedReader{r: rd, left: maxReportFile}
	j, err := reports.ReadJournal(lr)
	if lr.over {
		return nil, invalidInput(fmt.Errorf("%s is larger than %d MiB", path, maxReportFile>>20), "")
	}
	if err != nil {
		return nil, invalidInput(fmt.Errorf("%s: %v", path, err), "give a journal written by triage watch --journal")
	}
	for _, n := range j.Notes {
		io.warnf("%s: %s", path, n)
	}
	return j.WatchReport(nil), nil
}

// doctorWatchEvery is how often doctor --watch checks: selfcheck's network
// checks give up within a few seconds.
const doctorWatchEvery = 15 * time.Second

// doctorWatch is doctor --watch: the selfcheck in rounds, the journal
// beside the reports, and at the end doctor's own checklist of the
// watch's report, led by what came and went.
func doctorWatch(ctx context.Context, opts *doctorOptions, pb *playbooks.Playbook, from string, redactor *reports.Redactor, target diag.Target, now func() time.Time) error {
	if opts.Watch < doctorWatchEvery {
		return usageErrorf("such as --watch 15m", "--watch must be at least %s, got %s", doctorWatchEvery, opts.Watch)
	}
	dirs := []string{opts.Out}
	if opts.Out == "" {
		dirs = defaultReportDirs(opts.Getenv)
	} else if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("cannot create the folder %s: %w", opts.Out, err)}
	}
	started := now()
	hostname := ""
	if f, err := target.Facts(ctx); err == nil {
		hostname = f.Hostname
	}
	var journal *reports.JournalWriter
	var err error
	for _, dir := range dirs {
		path := watchJournalPath(dir, hostname, started.Local())
		if journal, err = reports.CreateJournal(path, watchHeader([]*playbooks.Playbook{pb}, target.Name(), opts.Ticket, doctorWatchEvery, started)); err == nil {
			break
		}
	}
	if journal == nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("cannot save the watch's journal: %w", err),
			hint: "choose a folder you can write to with --out, such as --out " + doctorOutExample()}
	}
	if from != "" {
		fmt.Fprintf(opts.io.Out, "Using the checks from %s (%s).\n", pb.Source, from)
	}
	fmt.Fprintf(opts.io.Out, "Watching this computer every %s for %s.\nLeave this running until the problem happens, then press Ctrl-C.\n(Notes are kept in %s.)\n\n",
		doctorWatchEvery, opts.Watch, journal.Path())
	w := &watcher{
		io: opts.io, every: doctorWatchEvery, dur: opts.Watch, now: now, redactor: redactor,
		hr:  &hostRunner{checkParallel: 64, checkTimeout: doctorCheckTimeout, now: now},
		job: hostJob{Playbooks: []*playbooks.Playbook{pb}}, local: target, journal: journal,
	}
	err = w.run(ctx)
	journal.Close()
	if err != nil {
		return err
	}
	rep, err := w.report()
	if err != nil {
		return err
	}
	dw := &doctorWriter{w: opts.io.Out, color: opts.io.color(), verbose: opts.Verbose}
	dw.checklist(rep)
	saved := saveDoctorReports(opts, rep, started)
	dw.saved(rep, saved)
	if dw.err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing the results: %w", dw.err)}
	}
	if len(saved) == 0 {
		return &exitCodeError{code: exitError, hint: "choose a folder you can write to with --out, such as --out " + doctorOutExample()}
	}
	// The watch ended with Ctrl-C, most likely: offering the report to the
	// help desk must not be cancelled by it.
	if err := doctorHandOff(context.WithoutCancel(ctx), opts, rep, redactor); err != nil {
		return err
	}
	if code := statusExit(rep.Summary.Status); code != exitPass {
		return &exitCodeError{code: code}
	}
	return nil
}
