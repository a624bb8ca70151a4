package reports

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/triage-dev/triage/diag"
)

func init() {
	Register(Renderer{Name: "text", Extensions: []string{".txt"}, Render: renderText})
}

// Each status has a symbol and a word, so the verdict never depends on
// colour alone (colour-blind readers, plain-text tickets, NO_COLOR).
var textStyle = map[diag.Status]struct {
	symbol string
	color  string
}{
	diag.Pass:  {"✓", "\x1b[32m"},
	diag.Warn:  {"!", "\x1b[33m"},
	diag.Fail:  {"✗", "\x1b[31m"},
	diag.Error: {"?", "\x1b[35m"},
	diag.Skip:  {"-", "\x1b[2m"},
}

// blockedStyle marks a check not run because a check it needs found a
// problem: neither a pass nor a problem of its own.
var blockedStyle = struct {
	symbol, word, color string
}{"⊘", "blocked", "\x1b[2m"}

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	maxTitleCol = 50
)

type textWriter struct {
	w     io.Writer
	color bool
	err   error
	// label is the width of the status word: "blocked" widens it.
	label int
}

func (t *textWriter) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, a...)
	}
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || code == "" {
		return s
	}
	return code + s + ansiReset
}

func renderText(w io.Writer, r *Report, opts Options) error {
	t := &textWriter{w: w, color: opts.Color, label: 5}
	width := 0
	for _, h := range r.Hosts {
		for _, res := range h.Results {
			if shown(res, opts) {
				width = max(width, min(utf8.RuneCountInString(res.Title), maxTitleCol))
			}
			if res.BlockedBy != "" {
				t.label = len(blockedStyle.word)
			}
		}
	}
	t.diagnosis(r)
	for i, h := range r.Hosts {
		if i > 0 {
			t.printf("\n")
		}
		t.host(h, width, opts)
	}
	t.printf("\n%s\n", t.summaryLine(r))
	return t.err
}

// diagnosis leads the report: the cause to look at first, in plain words,
// and what it explains. A healthy run prints nothing here.
func (t *textWriter) diagnosis(r *Report) {
	if len(r.Hosts) == 1 {
		h := r.Hosts[0]
		if len(h.Diagnosis) == 0 {
			return
		}
		top := h.Diagnosis[0]
		t.printf("%s %s\n", t.paint(ansiBold, "What is wrong:"), oneLine(top.Summary))
		if e := explainsPhrase(h, top); e != "" {
			t.printf("  %s %s\n", t.paint(ansiDim, "this explains:"), e)
		}
		if top.Hint != "" {
			t.printf("  %s %s\n", t.paint(ansiDim, "try:"), oneLine(top.Hint))
		}
		if top.CheckHint != "" {
			t.printf("  %s %s\n", t.paint(ansiDim, "detail:"), oneLine(top.CheckHint))
		}
		for _, c := range h.Diagnosis[1:] {
			st := textStyle[c.Status]
			t.printf("%s %s %s\n", t.paint(ansiBold, "Also:"), t.paint(st.color, st.symbol), oneLine(c.Summary))
		}
		t.printf("\n")
		return
	}
	if len(r.Causes) == 0 {
		return
	}
	t.printf("%s\n", t.paint(ansiBold, "What is wrong:"))
	for _, g := range r.Causes {
		st := textStyle[g.Status]
		t.printf("  %s %s: %s\n", t.paint(st.color, st.symbol), hostsPhrase(len(g.Hosts)), oneLine(g.Summary))
	}
	t.printf("\n")
}

func (t *textWriter) host(h Host, width int, opts Options) {
	t.printf("%s\n", t.paint(ansiBold, hostHeading(h)))
	if h.Error != "" {
		st := textStyle[diag.Error]
		t.printf("  %s  %s\n", t.paint(st.color, fmt.Sprintf("%s %-*s", st.symbol, t.label, "error")), "could not check this host: "+h.Error)
		if h.Hint != "" {
			t.printf("  %s  %s %s\n", strings.Repeat(" ", t.label+2), t.paint(ansiDim, "hint:"), oneLine(h.Hint))
		}
		return
	}
	group := ""
	for _, res := range h.Results {
		// With several playbooks, a line names each one before its checks.
		if res.Playbook != group && res.Playbook != "" {
			group = res.Playbook
			t.printf("  %s\n", t.paint(ansiDim, "── "+group))
		}
		if !shown(res, opts) {
			continue
		}
		st := textStyle[res.Status]
		label := fmt.Sprintf("%s %-*s", st.symbol, t.label, res.Status)
		if res.BlockedBy != "" {
			st.color = blockedStyle.color
			label = fmt.Sprintf("%s %-*s", blockedStyle.symbol, t.label, blockedStyle.word)
		}
		title := truncate(res.Title, maxTitleCol)
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(title))
		t.printf("  %s  %s%s  %s\n", t.paint(st.color, label), title, pad, oneLine(res.Message))
		// A blocked check's hint only says to fix its cause, which the
		// diagnosis above already names.
		if res.Hint != "" && res.Status != diag.Pass && res.BlockedBy == "" {
			t.printf("  %s  %s %s\n", strings.Repeat(" ", t.label+2), t.paint(ansiDim, "hint:"), oneLine(res.Hint))
			// The kind's own advice, which the playbook's hint replaced:
			// with -v, as the diagnosis above already gives the cause's.
			if res.CheckHint != "" && opts.Verbose {
				t.printf("  %s  %s %s\n", strings.Repeat(" ", t.label+2), t.paint(ansiDim, "detail:"), oneLine(res.CheckHint))
			}
		}
	}
	if n := hiddenCount(h, opts); n > 0 {
		t.printf("  %s\n", t.paint(ansiDim, "("+hiddenPhrase(n)+")"))
	}
}

// hostHeading names the host and what it runs: "local · Debian GNU/Linux 12 (bookworm) · linux/amd64".
func hostHeading(h Host) string {
	parts := []string{h.Target}
	if h.Facts.Hostname != "" && h.Facts.Hostname != h.Target {
		parts = append(parts, h.Facts.Hostname)
	}
	if h.Facts.PrettyName != "" {
		parts = append(parts, h.Facts.PrettyName)
	}
	if h.Facts.OS != "" {
		parts = append(parts, h.Facts.OS+"/"+h.Facts.Arch)
	}
	return strings.Join(parts, " · ")
}

func (t *textWriter) summaryLine(r *Report) string {
	s := r.Summary
	total := s.Pass + s.Warn + s.Fail + s.Error + s.Skip + s.Blocked
	var counts []string
	for _, c := range []struct {
		n  int
		st diag.Status
	}{{s.Pass, diag.Pass}, {s.Warn, diag.Warn}, {s.Fail, diag.Fail}, {s.Error, diag.Error}, {s.Skip, diag.Skip}} {
		if c.n > 0 {
			counts = append(counts, t.paint(textStyle[c.st].color, fmt.Sprintf("%d %s", c.n, c.st)))
		}
	}
	if s.Blocked > 0 {
		counts = append(counts, t.paint(blockedStyle.color, fmt.Sprintf("%d %s", s.Blocked, blockedStyle.word)))
	}
	hosts := "1 host"
	if s.Hosts != 1 {
		hosts = fmt.Sprintf("%d hosts", s.Hosts)
	}
	line := fmt.Sprintf("%d %s on %s", total, plural(total, "check"), hosts)
	if len(counts) > 0 {
		line += ": " + strings.Join(counts, ", ")
	}
	if unreachable := countHostErrors(r); unreachable > 0 {
		line += fmt.Sprintf("; %d %s not checked", unreachable, plural(unreachable, "host"))
	}
	line += " · " + t.paint(ansiBold, "verdict: "+string(s.Status))
	if r.Ticket != "" {
		line += " · ticket " + r.Ticket
	}
	if n := redactionCount(r); n > 0 {
		line += fmt.Sprintf(" · %d %s redacted", n, plural(n, "secret"))
	}
	if d := r.Finished.Sub(r.Started); d > 0 {
		line += " · " + roundDuration(d).String()
	}
	return line
}

func redactionCount(r *Report) int {
	n := 0
	for _, v := range r.Redactions {
		n += v
	}
	return n
}

func countHostErrors(r *Report) int {
	n := 0
	for _, h := range r.Hosts {
		if h.Error != "" {
			n++
		}
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(time.Second)
	case d > time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine folds a multi-line message so the table stays a table.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
