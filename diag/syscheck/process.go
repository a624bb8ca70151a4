package syscheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "process",
		Summary: "Checks that a program is running (or not), by name or by a pattern over its command line, and how many copies.",
		New:     func() diag.Checker { return &Process{Running: true, Min: 1} },
	})
}

// Process looks for running programs.
//
// The process list comes from ps(1) run on the target rather than from
// /proc/*/: a Target can read a file but not list a directory, and ps
// works the same on Linux, the BSDs and macOS. ps is run twice, once for
// the short names and once for the command lines, because a name may hold
// spaces and so cannot share a line with another free-text column; the two
// lists are joined by pid, which also drops the ps processes themselves.
// Windows has no ps: there the local target's Toolhelp snapshot gives the
// executables' names, ignoring case and ".exe", but no command lines.
type Process struct {
	Name    string `yaml:"name" doc:"the program's name, as pidof matches it: the process name (as in top) or the file name of the command that started it"`
	Pattern string `yaml:"pattern" doc:"a regular expression (RE2) over the full command line, as pgrep -f matches it; with name, both must match (not on Windows yet: its process list has names only)"`
	Running bool   `yaml:"running" doc:"whether a matching process should be running (default true); false means none may"`
	Min     int    `yaml:"min" doc:"the fewest matching processes allowed when running (default 1)"`
	Max     int    `yaml:"max" doc:"the most matching processes allowed; 0 (the default) means no limit"`
}

func (p *Process) Validate() error {
	var errs []error
	if p.Name == "" && p.Pattern == "" {
		errs = append(errs, diag.FieldErrorf("", "needs name or pattern: which process to look for"))
	}
	if strings.ContainsAny(p.Name, "/\n") {
		errs = append(errs, diag.FieldErrorf("name", "%q is a path or has a line break; give the program's name alone (sshd), or use pattern for the command line", p.Name))
	}
	if p.Pattern != "" {
		if _, err := regexp.Compile(p.Pattern); err != nil {
			errs = append(errs, diag.FieldErrorf("pattern", "invalid regular expression: %v", err))
		}
	}
	if p.Min < 0 {
		errs = append(errs, diag.FieldErrorf("min", "%d is negative", p.Min))
	} else if p.Running && p.Min == 0 {
		errs = append(errs, diag.FieldErrorf("min", "must be at least 1 when running is true; to require that none runs, write running: false"))
	}
	if p.Max < 0 {
		errs = append(errs, diag.FieldErrorf("max", "%d is negative; leave max out for no limit", p.Max))
	} else if p.Max > 0 && p.Max < p.Min {
		errs = append(errs, diag.FieldErrorf("max", "%d is below min (%d)", p.Max, p.Min))
	}
	if !p.Running && p.Max > 0 {
		errs = append(errs, diag.FieldErrorf("max", "cannot apply when running is false: no process may match then"))
	}
	// min defaults to 1, so only another value shows it was written.
	if !p.Running && p.Min > 1 {
		errs = append(errs, diag.FieldErrorf("min", "cannot apply when running is false: no process may match then"))
	}
	return errors.Join(errs...)
}

// maxProcessList caps each ps listing; command lines of Java services run
// to kilobytes each, so the cap is generous.
const maxProcessList = 16 << 20

// psNames and psArgs list every process with its short name and its
// command line. "pid=" and "args=" give empty headers, so ps prints none.
var (
	psNames = []string{"ps", "-A", "-o", "pid=", "-o", "comm="}
	psArgs  = []string{"ps", "-A", "-o", "pid=", "-o", "args="}
)

// procInfo is one process on the target.
type procInfo struct {
	PID  int
	Comm string // the short name; a full path on macOS
	Args string // the command line
}

func (p *Process) Run(ctx context.Context, t diag.Target) diag.Result {
	if f, err := t.Facts(ctx); err == nil && f.OS == "windows" {
		return p.runWindows(ctx, t)
	}
	var lists [2][]psRow
	for i, argv := range [][]string{psNames, psArgs} {
		res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: maxProcessList})
		if err != nil {
			r := diag.Resultf(diag.Error, "could not list processes: %v", err)
			if errors.Is(err, diag.ErrCommandNotFound) {
				return r.WithHint("ps is not installed on %s; install it (the procps package on Debian, Ubuntu and Fedora)", t.Name())
			}
			return r.WithHint("ps exists but could not be started; check its permissions")
		}
		if res.ExitCode != 0 {
			return diag.Result{Status: diag.Error, Evidence: evidence(res),
				Message: fmt.Sprintf("%s exited %d: %s", strings.Join(argv, " "), res.ExitCode, firstLine(strings.TrimSpace(string(res.Stderr))))}.
				WithHint("this ps does not understand the standard -A -o options (BusyBox's may not); install procps")
		}
		if res.Truncated {
			return diag.Resultf(diag.Error, "the process list is larger than %s", diag.FormatBytes(maxProcessList)).
				WithHint("the target runs an unusual number of processes; look at them with ps directly")
		}
		lists[i] = parsePS(res.Stdout)
	}
	return p.judge(joinPS(lists[0], lists[1]), false)
}

// runWindows lists the processes through the target's ProcessLister (the
// local machine's Toolhelp snapshot). Windows has no ps, and a remote
// Windows host none that triage can ask yet; command lines, which pattern
// needs, are not in the list at all.
func (p *Process) runWindows(ctx context.Context, t diag.Target) diag.Result {
	if p.Pattern != "" {
		return diag.Resultf(diag.Skip, "triage cannot read command lines on windows yet, and pattern needs them").
			WithHint("match the program by name instead: its file name, such as sshd or sshd.exe")
	}
	pl, ok := t.(diag.ProcessLister)
	var procs []diag.ProcessEntry
	var err error
	if ok {
		procs, err = pl.Processes(ctx)
	}
	if !ok || errors.Is(err, diag.ErrUnsupported) {
		return diag.Resultf(diag.Skip, "triage cannot list the processes of a remote windows host yet").
			WithHint("use a command check with tasklist /FI \"IMAGENAME eq name.exe\" instead")
	}
	if err != nil {
		// Windows' messages end with a full stop; triage's do not.
		return diag.Resultf(diag.Error, "could not list processes: %s", strings.TrimSuffix(err.Error(), ".")).
			WithHint("Windows refused the process snapshot; run tasklist to see whether it works for this user")
	}
	infos := make([]procInfo, 0, len(procs))
	for _, e := range procs {
		infos = append(infos, procInfo{PID: e.PID, Comm: e.Name, Args: e.Name})
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].PID < infos[j].PID })
	return p.judge(infos, true)
}

// psRow is a line of `ps -o pid= -o X=`: a pid and the rest of the line.
type psRow struct {
	PID  int
	Text string
}

// parsePS reads ps output of a pid column followed by one free-text
// column. ps right-aligns the pid and separates the columns with spaces;
// the text runs to the end of the line and may hold spaces itself. Lines
// that do not start with a pid (a header, a warning) are skipped.
func parsePS(data []byte) []psRow {
	var out []psRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxProcessList)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		pid, err := strconv.Atoi(line[:end])
		if err != nil || pid < 0 {
			continue
		}
		out = append(out, psRow{PID: pid, Text: strings.TrimRight(strings.TrimLeft(line[end:], " \t"), " \t")})
	}
	return out
}

// joinPS pairs names and command lines by pid, in pid order. A process in
// only one list started or ended between the two ps runs (the ps
// processes themselves, for one) and is left out.
func joinPS(names, args []psRow) []procInfo {
	comm := make(map[int]string, len(names))
	for _, r := range names {
		comm[r.PID] = r.Text
	}
	out := make([]procInfo, 0, len(args))
	for _, r := range args {
		if c, ok := comm[r.PID]; ok {
			out = append(out, procInfo{PID: r.PID, Comm: c, Args: r.Text})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// matches reports whether a process is one the check looks for.
func (p *Process) matches(pi procInfo, re *regexp.Regexp, windows bool) bool {
	switch {
	case p.Name == "":
	case windows && !windowsNameMatches(p.Name, pi.Comm):
		return false
	case !windows && !nameMatches(p.Name, pi):
		return false
	}
	return re == nil || re.MatchString(pi.Args)
}

// windowsNameMatches compares a name with an executable's file name the
// way Windows compares file names, ignoring case, with or without ".exe":
// sshd, SSHD and sshd.exe all name sshd.exe.
func windowsNameMatches(name, exe string) bool {
	if strings.EqualFold(name, exe) {
		return true
	}
	base, ok := strings.CutSuffix(strings.ToLower(exe), ".exe")
	return ok && strings.EqualFold(name, base)
}

// nameMatches compares a name the way pidof does: with the process name,
// or with the file name of argv[0]. The second also finds programs whose
// names Linux cuts to 15 characters (systemd-journald shows as
// systemd-journal), and macOS, where ps shows the full path as the name.
func nameMatches(name string, pi procInfo) bool {
	if pi.Comm == name || path.Base(pi.Comm) == name {
		return true
	}
	argv0, _, _ := strings.Cut(pi.Args, " ")
	// Login shells show as "-bash".
	argv0 = strings.TrimPrefix(argv0, "-")
	return argv0 != "" && path.Base(argv0) == name
}

func (p *Process) what() string {
	switch {
	case p.Name != "" && p.Pattern != "":
		return fmt.Sprintf("named %s matching /%s/", p.Name, p.Pattern)
	case p.Name != "":
		return "named " + p.Name
	}
	return fmt.Sprintf("matching /%s/", p.Pattern)
}

// maxListedPIDs caps the pids named in the observed values and evidence.
const maxListedPIDs = 50

func (p *Process) judge(procs []procInfo, windows bool) diag.Result {
	var re *regexp.Regexp
	if p.Pattern != "" {
		var err error
		if re, err = regexp.Compile(p.Pattern); err != nil {
			return diag.Resultf(diag.Error, "invalid pattern: %v", err).WithHint("fix the regular expression in the playbook")
		}
	}
	var found []procInfo
	for _, pi := range procs {
		if p.matches(pi, re, windows) {
			found = append(found, pi)
		}
	}
	pids := make([]int, 0, min(len(found), maxListedPIDs))
	var ev strings.Builder
	for i, pi := range found {
		if i == maxListedPIDs {
			fmt.Fprintf(&ev, "[%d more]\n", len(found)-maxListedPIDs)
			break
		}
		pids = append(pids, pi.PID)
		fmt.Fprintf(&ev, "%d %s\n", pi.PID, pi.Args)
	}
	r := diag.Result{Evidence: ev.String()}.With("running", len(found) > 0).With("count", len(found)).With("pids", pids)
	if p.Name != "" {
		r = r.With("name", p.Name)
	}
	if p.Pattern != "" {
		r = r.With("pattern", p.Pattern)
	}

	n := len(found)
	desc := p.what()
	pidText := ""
	if n > 0 {
		pidText = fmt.Sprintf(" (%s %s)", pluralize(n, "pid", "pids"), joinInts(pids, 10))
	}
	switch {
	case !p.Running && n == 0:
		r.Status, r.Message = diag.Pass, fmt.Sprintf("no process %s is running, as expected", desc)
	case !p.Running:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%d %s %s running%s but none should be", n, pluralize(n, "process", "processes"), desc, pidText)
		r.Hint = "stop it: stop the service that starts it, or kill the pid; if it comes back, find what restarts it (its parent: ps -o ppid= -p PID)"
		if windows {
			r.Hint = "stop it: stop the service that starts it, or end the pid (taskkill /PID PID); if it comes back, find what restarts it: a service, a scheduled task or a Run key"
		}
	case n == 0:
		r.Status, r.Message = diag.Fail, fmt.Sprintf("no process %s is running", desc)
		r.Hint = "start the program or the service that runs it; if it keeps exiting, its log or journalctl says why"
		if windows {
			r.Hint = "start the program or the service that runs it; if it keeps exiting, its log or the Event Viewer's Application log says why"
		}
	case n < p.Min:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("only %d %s %s running%s, expected at least %d", n, pluralize(n, "process", "processes"), desc, pidText, p.Min)
		r.Hint = "some workers have exited: look at the program's log for why, and restart it"
	case p.Max > 0 && n > p.Max:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%d %s %s running%s, more than the %d allowed", n, pluralize(n, "process", "processes"), desc, pidText, p.Max)
		r.Hint = "extra copies may be old instances that did not exit, or a restart loop: compare their start times with ps -o pid,lstart,args -p PID"
		if windows {
			r.Hint = "extra copies may be old instances that did not exit, or a restart loop: compare their start times in Task Manager's Details tab or with Get-Process NAME | Select Id,StartTime"
		}
	default:
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%d %s %s running%s", n, pluralize(n, "process", "processes"), desc, pidText)
	}
	return r
}

// joinInts lists at most limit numbers, saying how many more there are.
func joinInts(v []int, limit int) string {
	parts := make([]string, 0, min(len(v), limit))
	for i, n := range v {
		if i == limit {
			break
		}
		parts = append(parts, strconv.Itoa(n))
	}
	s := strings.Join(parts, ", ")
	if len(v) > limit {
		s += fmt.Sprintf(" and %d more", len(v)-limit)
	}
	return s
}
