package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/reports"
)

// doctorEnv names the variable that points doctor at an organisation's
// own playbook.
const doctorEnv = "TRIAGE_DOCTOR_PLAYBOOK"

// doctorCheckTimeout bounds a check of the doctor playbook that sets no
// timeout of its own. The checks run all at once, so this is also about
// the longest doctor can take; selfcheck's network checks give up after
// 2 or 3 seconds.
const doctorCheckTimeout = 10 * time.Second

type doctorOptions struct {
	io *streams

	Playbook string
	Vars     []string
	Out      string
	Ticket   string
	// Verbose lists the checks for other platforms too.
	Verbose bool
	// Watch, when set, checks again and again for that long (watch.go).
	Watch time.Duration
	// Send names a destination to send the report to (send.go); without
	// it, doctor offers the organisation's on a terminal.
	Send string

	// Test hooks. Now is the clock; Target the machine; Getenv reads the
	// environment; SystemPlaybook replaces the system-wide doctor.yaml
	// location. Unset, they are time.Now, this machine, os.Getenv and
	// the location of this platform.
	Now            func() time.Time
	Target         diag.Target
	Getenv         func(string) string
	SystemPlaybook string
	// Interactive says whether a person can answer a question; nil means
	// stdin and stderr are terminals.
	Interactive func() bool
}

func newDoctorCmd(io *streams) *cobra.Command {
	opts := &doctorOptions{io: io}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this computer in plain words and save a report for the help desk",
		Long: `Check this computer's network connection, internet access, disk space,
memory and restarts, explain each problem in plain words with what to try,
and save the findings as an HTML and a JSON report to attach to a ticket.
It needs no administrator rights and finishes in seconds, even offline.

The checks are the built-in "selfcheck" playbook, unless an organisation
provides its own: --playbook, the ` + doctorEnv + ` variable, or a
file at ` + systemDoctorPlaybook(runtime.GOOS, os.Getenv) + `, in that order.

The reports are saved on the Desktop (or in the home folder when there is
none), or in the folder --out names.

Exit codes: 0 all fine, 1 a warning, 2 a problem, 3 something could not
be checked or the report could not be saved.`,
		Example: `  triage doctor
  triage doctor --out D:\Tickets
  triage doctor --var org_name=intranet.example.com --var org_url=https://portal.example.com/
  triage doctor --playbook ./our-doctor.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return doctorRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Playbook, "playbook", "", "run this `PLAYBOOK` (a file or a built-in name) instead of selfcheck")
	f.StringArrayVar(&opts.Vars, "var", nil, "set a playbook variable, as `NAME=VALUE`; repeatable")
	f.StringVar(&opts.Out, "out", "", "save the reports in `DIR` (default: the Desktop, or the home folder)")
	f.StringVar(&opts.Ticket, "ticket", "", "stamp the report with a ticket `ID`; with --send, add it to that ticket")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "also list the checks for other kinds of computer")
	f.DurationVar(&opts.Watch, "watch", 0, "check again every 15s for this long (such as 15m), for a problem that comes and goes: leave it running until the problem happens, then press Ctrl-C")
	f.StringVar(&opts.Send, "send", "", "send the report to the destination `NAME` of the config file (see 'triage send --help')")
	return cmd
}

// systemDoctorPlaybook is where an organisation installs its own doctor
// playbook for every user of a machine.
func systemDoctorPlaybook(goos string, getenv func(string) string) string {
	switch goos {
	case "windows":
		dir := getenv("ProgramData")
		if dir == "" {
			dir = `C:\ProgramData`
		}
		return strings.TrimRight(dir, `\`) + `\triage\doctor.yaml`
	case "darwin":
		return "/Library/Application Support/triage/doctor.yaml"
	}
	return "/etc/triage/doctor.yaml"
}

// doctorPlaybook picks and loads the playbook doctor runs, and says where
// it came from when it is not the built-in one.
func doctorPlaybook(opts *doctorOptions, vars map[string]string) (*playbooks.Playbook, string, error) {
	arg, from := "selfcheck", ""
	switch {
	case opts.Playbook != "":
		arg, from = opts.Playbook, "--playbook"
	case opts.Getenv(doctorEnv) != "":
		arg, from = opts.Getenv(doctorEnv), doctorEnv
	default:
		sys := opts.SystemPlaybook
		if sys == "" {
			sys = systemDoctorPlaybook(runtime.GOOS, opts.Getenv)
		}
		if _, err := os.Stat(sys); err == nil {
			arg, from = sys, "the system's doctor.yaml"
		}
	}
	pb, err := playbooks.Open(arg, playbooks.Options{Vars: vars})
	var nf *playbooks.NotFoundError
	switch {
	case errors.As(err, &nf):
		return nil, "", usageErrorf("'triage playbook list' shows the built-in playbooks", "%s (from %s)", err, from)
	case err != nil:
		hint := "fix the mistakes above; 'triage playbook validate FILE' checks a playbook without running it"
		if from != "--playbook" {
			hint = "the checks provided by your organisation (" + arg + ") have mistakes: tell your help desk; meanwhile, set " + doctorEnv + "=selfcheck to run the built-in checks"
		}
		return nil, "", invalidInput(err, hint)
	}
	return pb, from, nil
}

func doctorRun(ctx context.Context, opts *doctorOptions) error {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	vars, err := parseVars(opts.Vars)
	if err != nil {
		return err
	}
	pb, from, err := doctorPlaybook(opts, vars)
	if err != nil {
		return err
	}
	redactor, err := newRedactor(nil, []*playbooks.Playbook{pb}, false)
	if err != nil {
		return err
	}
	target := opts.Target
	if target == nil {
		target = diag.NewLocal()
	}

	if opts.Watch != 0 {
		return doctorWatch(ctx, opts, pb, from, redactor, target, now)
	}
	started := now()
	rep := newReport([]*playbooks.Playbook{pb}, started, opts.Ticket)
	host := doctorCheck(ctx, opts.io, target, pb, now)
	rep.Hosts = append(rep.Hosts, host)
	rep.Finish(now())
	redactor.Redact(rep)
	if ctx.Err() != nil {
		opts.io.warnf("interrupted: the checks that had not finished are marked as not checked")
	}

	w := &doctorWriter{w: opts.io.Out, color: opts.io.color(), verbose: opts.Verbose}
	if from != "" {
		w.printf("Using the checks from %s (%s).\n", pb.Source, from)
	}
	w.checklist(rep)
	saved := saveDoctorReports(opts, rep, started)
	w.saved(rep, saved)
	if w.err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing the results: %w", w.err)}
	}
	if len(saved) == 0 {
		return &exitCodeError{code: exitError, hint: "choose a folder you can write to with --out, such as --out " + doctorOutExample()}
	}
	if err := doctorHandOff(ctx, opts, rep, redactor); err != nil {
		return err
	}
	if code := statusExit(rep.Summary.Status); code != exitPass {
		return &exitCodeError{code: code}
	}
	return nil
}

func doctorOutExample() string {
	if runtime.GOOS == "windows" {
		return `%USERPROFILE%\Documents`
	}
	return "~/Documents"
}

// doctorCheck runs the playbook on the target, every check at once: the
// network checks then wait for their timeouts side by side, not one after
// another.
func doctorCheck(ctx context.Context, io *streams, t diag.Target, pb *playbooks.Playbook, now func() time.Time) reports.Host {
	host := reports.Host{Target: t.Name()}
	facts, err := t.Facts(ctx)
	if err != nil {
		host.Error = err.Error()
		host.Hint = "triage could not look at this computer; tell the help desk and include this message"
		return host
	}
	host.Facts = facts
	checks := pb.Plan(facts, playbooks.Selection{})
	done := 0
	runner := &diag.Runner{
		Parallel: max(1, len(checks)),
		Timeout:  doctorCheckTimeout,
		Now:      now,
		Done: func(diag.Result) {
			done++
			if io.ErrIsTTY {
				fmt.Fprintf(io.Err, "\r\x1b[KChecking this computer... %d of %d", done, len(checks))
			}
		},
	}
	if io.ErrIsTTY {
		fmt.Fprintf(io.Err, "Checking this computer...")
	}
	results := runner.Run(ctx, t, checks)
	if io.ErrIsTTY {
		fmt.Fprint(io.Err, "\r\x1b[K")
	}
	for _, r := range results {
		host.Results = append(host.Results, reports.FromDiag(r, ""))
	}
	return host
}

// doctorFileName names a report after the machine and the time, so that
// several saved on one Desktop tell themselves apart.
func doctorFileName(hostname string, t time.Time, ext string) string {
	var b strings.Builder
	for _, r := range hostname {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-.")
	if name == "" {
		name = "computer"
	}
	return fmt.Sprintf("triage-report-%s-%s%s", name, t.Format("20060102-1504"), ext)
}

// savedReport is a report file doctor wrote.
type savedReport struct {
	path   string
	format string
}

// saveDoctorReports writes the HTML and JSON reports, into --out or the
// first of the Desktop, the home folder and the temporary folder that
// takes them. It warns about each file it could not write.
func saveDoctorReports(opts *doctorOptions, rep *reports.Report, started time.Time) []savedReport {
	var dirs []string
	if opts.Out != "" {
		if err := os.MkdirAll(opts.Out, 0o755); err != nil {
			opts.io.warnf("cannot create the folder %s: %v", opts.Out, err)
			return nil
		}
		dirs = []string{opts.Out}
	} else {
		dirs = defaultReportDirs(opts.Getenv)
	}
	hostname := ""
	if len(rep.Hosts) > 0 {
		hostname = rep.Hosts[0].Facts.Hostname
	}
	for _, dir := range dirs {
		base := uniqueReportBase(dir, hostname, started.Local())
		var saved []savedReport
		for _, f := range []struct{ ext, format string }{{".html", "html"}, {".json", "json"}} {
			path := base + f.ext
			if _, ok := reports.Lookup(f.format); !ok {
				opts.io.warnf("this triage cannot write %s reports; saving the others", strings.ToUpper(f.format))
				continue
			}
			if err := reports.WriteFile(path, rep, reports.Options{}); err != nil {
				opts.io.warnf("cannot save the report to %s: %v", path, err)
				continue
			}
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			saved = append(saved, savedReport{path: path, format: f.format})
		}
		if len(saved) > 0 {
			return saved
		}
	}
	return nil
}

// uniqueReportBase returns dir/triage-report-HOST-TIME, with a number
// added when a report of the same minute is there already.
func uniqueReportBase(dir, hostname string, t time.Time) string {
	base := filepath.Join(dir, strings.TrimSuffix(doctorFileName(hostname, t, ".x"), ".x"))
	candidate := base
	for n := 2; n < 100; n++ {
		_, errHTML := os.Stat(candidate + ".html")
		_, errJSON := os.Stat(candidate + ".json")
		if errors.Is(errHTML, os.ErrNotExist) && errors.Is(errJSON, os.ErrNotExist) {
			break
		}
		candidate = fmt.Sprintf("%s-%d", base, n)
	}
	return candidate
}

// defaultReportDirs lists where a report is saved without --out: where a
// person looks for a file they were asked to attach.
func defaultReportDirs(getenv func(string) string) []string {
	var dirs []string
	home, err := os.UserHomeDir()
	if err == nil {
		if d := desktopDir(home, getenv); d != "" {
			dirs = append(dirs, d)
		}
		dirs = append(dirs, home)
	}
	return append(dirs, os.TempDir())
}

// doctorStyle is how a verdict reads to a person: a symbol and a word,
// so that colour is never needed.
var doctorStyle = map[diag.Status]struct{ symbol, word, color string }{
	diag.Pass:  {"✓", "OK", "\x1b[32m"},
	diag.Warn:  {"!", "Warning", "\x1b[33m"},
	diag.Fail:  {"✗", "Problem", "\x1b[31m"},
	diag.Error: {"?", "Not checked", "\x1b[35m"},
	diag.Skip:  {"-", "Skipped", "\x1b[2m"},
}

// doctorWidth is where explanations wrap: a Windows console is 80
// columns wide by default.
const doctorWidth = 78

type doctorWriter struct {
	w       io.Writer
	color   bool
	verbose bool
	err     error
}

func (d *doctorWriter) printf(format string, a ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, a...)
	}
}

func (d *doctorWriter) paint(code, s string) string {
	if !d.color {
		return s
	}
	return code + s + "\x1b[0m"
}

// notCheckedAdvice is what doctor suggests for a check that could not be
// made. The playbook's hints assume the check found a problem, and the
// check's own hint, kept in the report, is for the help desk.
const notCheckedAdvice = "If other checks above found network problems, fix those first and run triage doctor again; otherwise tell the help desk, whose report has the details."

func (d *doctorWriter) checklist(rep *reports.Report) {
	h := rep.Hosts[0]
	d.printf("%s\n", d.paint("\x1b[1m", "triage doctor · "+machineName(h.Facts)))
	if h.Error != "" {
		d.printf("\n  %s  this computer could not be checked: %s\n  %s\n", d.paint(doctorStyle[diag.Error].color, "? Not checked"), h.Error, h.Hint)
		return
	}
	checked, hidden := 0, 0
	for _, res := range h.Results {
		switch {
		case res.OtherPlatform:
			hidden++
		case res.Status != diag.Skip:
			checked++
		}
	}
	d.printf("Checked %d things in %s.\n\n", checked, roundSeconds(rep.Finished.Sub(rep.Started)))
	d.whatIsWrong(h)
	const labelWidth = 13 // "? Not checked"
	indent := strings.Repeat(" ", 2+labelWidth+2)
	for _, res := range h.Results {
		if res.OtherPlatform && !d.verbose {
			continue
		}
		st := doctorStyle[res.Status]
		if res.BlockedBy != "" {
			st = doctorBlocked
		}
		label := st.symbol + " " + st.word
		label += strings.Repeat(" ", max(0, labelWidth-utf8.RuneCountInString(label)))
		switch {
		case res.BlockedBy != "":
			// Not a problem of its own: the cause above explains it.
			d.printf("  %s  %s\n", d.paint(st.color, label), d.paint("\x1b[2m", res.Title+" (because of "+blockerTitle(h, res)+")"))
		case res.Status == diag.Pass:
			d.printf("  %s  %s\n", d.paint(st.color, label), res.Title)
		case res.Status == diag.Skip:
			d.printf("  %s  %s\n", d.paint(st.color, label), d.paint("\x1b[2m", res.Title+" ("+res.Message+")"))
		default:
			d.printf("  %s  %s\n", d.paint(st.color, label), d.paint("\x1b[1m", res.Title))
			meaning, try := res.Message, res.Hint
			if res.Status == diag.Error {
				meaning, try = "triage could not check this: "+meaning, notCheckedAdvice
			}
			d.paragraph(indent, "What this means: ", meaning)
			if try != "" {
				d.paragraph(indent, "What you can try: ", try)
			}
		}
	}
	if hidden > 0 && !d.verbose {
		d.printf("\n%s\n", d.paint("\x1b[2m", fmt.Sprintf("(%d %s for other kinds of computer left out; --verbose shows %s)", hidden, plural(hidden, "check"), pronoun(hidden))))
	}
}

// whatIsWrong leads the checklist with the cause, in plain words, before
// the list of what was looked at.
func (d *doctorWriter) whatIsWrong(h reports.Host) {
	if len(h.Diagnosis) == 0 {
		return
	}
	top := h.Diagnosis[0]
	st := doctorStyle[top.Status]
	d.paragraph("", d.paint("\x1b[1m", "What is wrong: "), d.paint(st.color, top.Title)+" - "+strings.TrimPrefix(top.Summary, top.Title+" - "))
	if top.Hint != "" {
		d.paragraph("", "What you can try: ", top.Hint)
	}
	if n := len(top.Explains); n > 0 {
		d.paragraph("", "", fmt.Sprintf("This also explains %d other %s below.", n, plural(n, "item")))
	}
	if len(h.Diagnosis) > 1 {
		var others []string
		for _, c := range h.Diagnosis[1:] {
			others = append(others, c.Title)
		}
		d.paragraph("", "Also found: ", strings.Join(others, ", ")+".")
	}
	d.printf("\n")
}

// blockerTitle names the check a blocked one waited on.
func blockerTitle(h reports.Host, res reports.Result) string {
	for _, r := range h.Results {
		if r.ID == res.BlockedBy && r.Playbook == res.Playbook {
			return r.Title
		}
	}
	return res.BlockedBy
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// doctorBlocked is a check not made because one it depends on found a
// problem.
var doctorBlocked = struct{ symbol, word, color string }{"⊘", "Not checked", "\x1b[2m"}

// paragraph writes text after a lead-in, wrapped at doctorWidth and
// indented under the checklist's titles.
func (d *doctorWriter) paragraph(indent, lead, text string) {
	line := indent + lead
	col := utf8.RuneCountInString(line)
	first := true
	for _, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		if !first && col+1+n > doctorWidth {
			d.printf("%s\n", line)
			line, col = indent+strings.Repeat(" ", 2)+word, len(indent)+2+n
			continue
		}
		if !first {
			line += " "
			col++
		}
		line += word
		col += n
		first = false
	}
	d.printf("%s\n", line)
}

// saved says where the reports are and prints the lines to paste into a
// ticket.
func (d *doctorWriter) saved(rep *reports.Report, files []savedReport) {
	problems, warnings, unchecked := titlesBy(rep, diag.Fail), titlesBy(rep, diag.Warn), titlesBy(rep, diag.Error)
	d.printf("\n%s\n", d.paint("\x1b[1m", "Result: "+resultWords(rep)))
	if len(files) > 0 {
		d.printf("\nThe report for the help desk is saved in:\n")
		for _, f := range files {
			d.printf("  %s\n", f.path)
		}
	}
	h := rep.Hosts[0]
	d.printf("\nPaste this into your ticket:\n")
	d.printf("  triage doctor on %s, %s\n", machineName(h.Facts), rep.Started.Local().Format("2006-01-02 15:04"))
	if len(h.Diagnosis) > 0 {
		d.printf("  What is wrong: %s\n", h.Diagnosis[0].Summary)
	}
	var parts []string
	for _, g := range []struct {
		titles     []string
		one, other string
	}{{problems, "problem", "problems"}, {warnings, "warning", "warnings"}, {unchecked, "not checked", "not checked"}} {
		if len(g.titles) == 0 {
			continue
		}
		word := g.one
		if len(g.titles) > 1 {
			word = g.other
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", len(g.titles), word, strings.Join(g.titles, ", ")))
	}
	if len(parts) == 0 {
		parts = append(parts, "no problems found")
	}
	d.printf("  %s\n", strings.Join(parts, ", "))
	if len(files) > 0 {
		d.printf("  Report: %s\n", files[0].path)
	} else {
		d.printf("  Report: not saved\n")
	}
}

func titlesBy(rep *reports.Report, st diag.Status) []string {
	var out []string
	for _, h := range rep.Hosts {
		for _, r := range h.Results {
			if r.Status == st {
				out = append(out, r.Title)
			}
		}
	}
	return out
}

// resultWords counts the verdicts the way a person would say them.
func resultWords(rep *reports.Report) string {
	s := rep.Summary
	if len(rep.Hosts) > 0 && rep.Hosts[0].Error != "" {
		return "this computer could not be checked"
	}
	var parts []string
	for _, c := range []struct {
		n          int
		one, other string
	}{{s.Fail, "problem", "problems"}, {s.Warn, "warning", "warnings"}, {s.Error, "not checked", "not checked"}, {s.Pass, "fine", "fine"}} {
		switch {
		case c.n == 1:
			parts = append(parts, "1 "+c.one)
		case c.n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.other))
		}
	}
	if s.Fail+s.Warn+s.Error == 0 {
		return "everything looks fine (" + strings.Join(parts, ", ") + ")"
	}
	return strings.Join(parts, ", ")
}

// machineName is how the summary names the computer: "alice-laptop
// (Windows 11 Pro 23H2 (build 22631))".
func machineName(f diag.Facts) string {
	name := f.Hostname
	if name == "" {
		name = "this computer"
	}
	if f.PrettyName != "" {
		return name + " (" + f.PrettyName + ")"
	}
	if f.OS != "" {
		return name + " (" + f.OS + ")"
	}
	return name
}

func roundSeconds(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
