package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	Register(Renderer{Name: "markdown", Extensions: []string{".md", ".markdown"}, Render: renderMarkdown})
}

// The markdown report is for pasting into a ticket or a merge request: it
// keeps to what GitHub, GitLab and Jira all render (headings, lists,
// tables, fenced code) plus <details>, which the first two fold and Jira
// shows open. Each status has an emoji and a word, never colour alone.
var mdStatus = map[diag.Status]string{
	diag.Pass:  "✅ pass",
	diag.Warn:  "⚠️ warn",
	diag.Fail:  "❌ fail",
	diag.Error: "❓ error",
	diag.Skip:  "➖ skip",
}

const mdBlocked = "⊘ blocked"

// Problems are listed worst-first for a reader: what is broken, then what
// could not be checked, then warnings.
var mdProblemOrder = []diag.Status{diag.Fail, diag.Error, diag.Warn}

type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) printf(format string, a ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, a...)
	}
}

func renderMarkdown(w io.Writer, r *Report, opts Options) error {
	m := &mdWriter{w: w}
	m.printf("# triage report: %s\n\n", mdStatus[r.Summary.Status])
	sweep := len(r.Hosts) != 1
	if !sweep {
		m.printf("- **Host:** %s\n", mdText(hostHeading(r.Hosts[0])))
	} else {
		m.printf("- **Hosts:** %d\n", len(r.Hosts))
	}
	m.printf("- **When:** %s\n", mdText(formatWhen(r)))
	if r.Ticket != "" {
		m.printf("- **Ticket:** %s\n", mdText(r.Ticket))
	}
	if len(r.Playbooks) > 0 {
		m.printf("- **Playbooks:** %s\n", mdText(playbooksPhrase(r)))
	}
	m.printf("- **Verdict:** %s · %s", mdStatus[r.Summary.Status], mdText(countsPhrase(r.Summary)))
	if n := countHostErrors(r); n > 0 {
		m.printf("; %d %s not checked", n, plural(n, "host"))
	}
	m.printf("\n")
	if p := redactionPhrase(r); p != "" {
		m.printf("- **Redacted:** %s\n", mdText(p))
	}
	if p := anonymizedPhrase(r); p != "" {
		m.printf("- **Anonymized:** %s\n", mdText(p))
	}
	if r.Tool.Version != "" {
		m.printf("- **Tool:** %s %s\n", mdText(r.Tool.Name), mdText(r.Tool.Version))
	}
	m.diagnosis(r, sweep)
	if sweep {
		m.hostTable(r)
	}
	m.problems(r, sweep)
	m.passing(r, sweep, opts)
	return m.err
}

// diagnosis leads the report with the causes, in plain words: for one
// host each cause and what it explains, for many the hosts each cause
// accounts for.
func (m *mdWriter) diagnosis(r *Report, sweep bool) {
	if sweep {
		if len(r.Causes) == 0 {
			return
		}
		m.printf("\n## What is wrong\n\n")
		for _, g := range r.Causes {
			m.printf("- %s **%s:** %s (%s)\n", mdStatus[g.Status], hostsPhrase(len(g.Hosts)), mdText(oneLine(g.Summary)), mdText(hostList(g.Hosts, 10)))
		}
		return
	}
	h := r.Hosts[0]
	if len(h.Diagnosis) == 0 {
		return
	}
	m.printf("\n## What is wrong\n\n")
	for i, c := range h.Diagnosis {
		m.printf("%d. %s **%s** - %s\n", i+1, mdStatus[c.Status], mdText(oneLine(c.Title)), mdText(oneLine(strings.TrimPrefix(c.Summary, c.Title+" - "))))
		if e := explainsPhrase(h, c); e != "" {
			m.printf("   - This explains: %s\n", mdText(e))
		}
		if c.Hint != "" {
			m.printf("   - Try: %s\n", mdText(oneLine(c.Hint)))
		}
		if c.CheckHint != "" {
			m.printf("   - Detail: %s\n", mdText(oneLine(c.CheckHint)))
		}
	}
}

func (m *mdWriter) hostTable(r *Report) {
	m.printf("\n| Host | Verdict | Pass | Warn | Fail | Error | Skip |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, h := range r.Hosts {
		if h.Error != "" {
			m.printf("| %s | %s: not checked | | | | | |\n", mdCell(h.Target), mdStatus[diag.Error])
			continue
		}
		c := hostCounts(h)
		m.printf("| %s | %s | %d | %d | %d | %d | %d |\n", mdCell(h.Target), mdStatus[h.Status],
			c[diag.Pass], c[diag.Warn], c[diag.Fail], c[diag.Error], c[diag.Skip])
	}
}

func (m *mdWriter) problems(r *Report, sweep bool) {
	found := false
	for _, h := range r.Hosts {
		if h.Error != "" || h.Status != diag.Pass {
			found = true
		}
	}
	if !found {
		m.printf("\n## Problems\n\nNone: every check passed or was skipped.\n")
		return
	}
	m.printf("\n## Problems\n")
	level := "###"
	for _, h := range r.Hosts {
		if sweep {
			if h.Error == "" && h.Status == diag.Pass {
				continue
			}
			m.printf("\n### %s\n", mdText(hostHeading(h)))
			level = "####"
		}
		if h.Error != "" {
			m.printf("\n%s **could not check this host:** %s\n", mdStatus[diag.Error], mdText(oneLine(h.Error)))
			if h.Hint != "" {
				m.printf("\n> **Hint:** %s\n", mdText(oneLine(h.Hint)))
			}
			continue
		}
		for _, st := range mdProblemOrder {
			for _, res := range h.Results {
				if res.Status == st {
					m.problem(level, r, res)
				}
			}
		}
	}
}

func (m *mdWriter) problem(level string, r *Report, res Result) {
	m.printf("\n%s %s · %s\n\n", level, mdStatus[res.Status], mdText(oneLine(res.Title)))
	m.printf("`%s` (%s", mdCode(res.ID), mdText(res.Kind))
	if pb := playbookOf(r, res); pb != "" && len(r.Playbooks) > 1 {
		m.printf(", playbook %s", mdText(pb))
	}
	m.printf("): %s\n", mdText(oneLine(res.Message)))
	if res.Hint != "" {
		m.printf("\n> **Hint:** %s\n", mdText(oneLine(res.Hint)))
		if res.CheckHint != "" {
			m.printf(">\n> **Detail:** %s\n", mdText(oneLine(res.CheckHint)))
		}
	}
	if pairs := observedPairs(res.Observed); len(pairs) > 0 {
		var parts []string
		for _, p := range pairs {
			parts = append(parts, "`"+mdCode(p[0])+"` "+mdText(oneLine(p[1])))
		}
		m.printf("\nObserved: %s\n", strings.Join(parts, " · "))
	}
	if res.Evidence != "" {
		m.printf("\n<details><summary>Evidence</summary>\n\n%s\n\n</details>\n", mdFence(res.Evidence))
	}
}

func (m *mdWriter) passing(r *Report, sweep bool, opts Options) {
	var rows []string
	counts := map[diag.Status]int{}
	blocked, hidden := 0, 0
	for _, h := range r.Hosts {
		hidden += hiddenCount(h, opts)
		for _, res := range h.Results {
			if isProblem(res.Status) || !shown(res, opts) {
				continue
			}
			label := mdStatus[res.Status]
			if res.BlockedBy != "" {
				label = mdBlocked
				blocked++
			} else {
				counts[res.Status]++
			}
			row := "| " + label + " | "
			if sweep {
				row += mdCell(h.Target) + " | "
			}
			row += mdCell(res.Title) + " (`" + mdCode(res.ID) + "`) | " + mdCell(res.Message) + " |"
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		if hidden > 0 {
			m.printf("\n_%s._\n", mdText(hiddenPhrase(hidden)))
		}
		return
	}
	var parts []string
	for _, st := range statusOrder {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	if blocked > 0 {
		parts = append(parts, fmt.Sprintf("%d blocked", blocked))
	}
	if hidden > 0 {
		defer m.printf("\n_%s._\n", mdText(hiddenPhrase(hidden)))
	}
	m.printf("\n## Passed and skipped\n\n<details>\n<summary>%d %s: %s</summary>\n\n", len(rows), plural(len(rows), "check"), strings.Join(parts, ", "))
	if sweep {
		m.printf("| Status | Host | Check | Result |\n| --- | --- | --- | --- |\n")
	} else {
		m.printf("| Status | Check | Result |\n| --- | --- | --- |\n")
	}
	for _, row := range rows {
		m.printf("%s\n", row)
	}
	m.printf("\n</details>\n")
}

// mdReplacer escapes what Markdown (and the HTML it allows) would read as
// markup, so a message is shown as written.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "#", `\#`, "|", `\|`, "~", `\~`,
)

func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCell is text fit for a table cell: one line, pipes escaped.
func mdCell(s string) string { return mdText(oneLine(s)) }

// mdCode is text for inline code, where only backticks are a problem.
func mdCode(s string) string { return strings.ReplaceAll(oneLine(s), "`", "'") }

// mdFence wraps text in a code fence longer than any run of backticks in it.
func mdFence(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "text\n" + strings.TrimRight(s, "\n") + "\n" + fence
}
