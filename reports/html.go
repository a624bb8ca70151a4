package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/triage-dev/triage/diag"
)

func init() {
	Register(Renderer{Name: "html", Extensions: []string{".html", ".htm"}, Render: renderHTML})
}

// The HTML report is one self-contained file, for attaching to a ticket and
// opening anywhere, offline: inline CSS, no scripts, no fonts, no images,
// no links out. Its Content-Security-Policy forbids loading anything, so a
// ticket system's preview cannot be made to fetch from the network either.
// "Problems only" is a CSS-only filter (a checkbox), so it works where
// scripts are stripped. Each status has a symbol and a word besides its
// colour, and the page prints with the evidence of problems shown.
//
// Text from targets is escaped by html/template; in addition every "://"
// is written as "&#58;//", which reads the same but means the file holds
// no URL at all for a mail filter or preview to follow.

var htmlSymbol = map[diag.Status]string{
	diag.Pass:  "✓ pass",
	diag.Warn:  "! warn",
	diag.Fail:  "✗ fail",
	diag.Error: "? error",
	diag.Skip:  "– skip",
}

type htmlPage struct {
	Title     string
	Generator string
	Status    diag.Status
	Meta      [][2]string
	Matrix    *htmlMatrix
	Hosts     []htmlHost
	AllOK     bool
	// Causes lead the page: one host's diagnosis, or a sweep's cause
	// groups.
	Causes []htmlCause
	Hidden string
	// Timeline is a watch's timeline, drawn by timeline.go.
	Timeline template.HTML
}

// htmlCause is one line of the diagnosis box.
type htmlCause struct {
	Status                    diag.Status
	Lead, Text                string
	Explains, Hint, CheckHint string
}

type htmlMatrix struct {
	Columns []htmlColumn
	Rows    []htmlMatrixRow
}

type htmlColumn struct{ ID, Title string }

type htmlMatrixRow struct {
	Host, Anchor string
	Status       diag.Status
	Problem      bool
	Error        string
	Cells        []htmlCell
}

type htmlCell struct {
	Status        diag.Status // "" when the check did not run on the host
	Anchor, Title string
}

type htmlHost struct {
	Anchor, Heading string
	Status          diag.Status
	Problem         bool
	Error, Hint     string
	Counts          string
	Rows            []htmlRow
	Hidden          string
}

type htmlRow struct {
	Anchor                                              string
	Status                                              diag.Status
	Problem                                             bool
	Title, ID, Kind, Playbook, Message, Hint, CheckHint string
	Evidence, Duration                                  string
	Observed                                            [][2]string
	Blocked                                             bool
}

// htmlTmpl is parsed on first use: parsing it at start-up cost every run,
// `triage version` included, a large share of its start.
var htmlTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"badge": func(s diag.Status) string { return htmlSymbol[s] },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="{{.Generator}}">
<title>{{.Title}}</title>
<style>` + htmlCSS + `{{if .Timeline}}` + timelineCSS + `{{end}}</style>
</head>
<body>
<input type="checkbox" id="problems-only" class="filter-toggle">
<header>
<h1><span class="badge st-{{.Status}}">{{badge .Status}}</span> triage report</h1>
<dl class="meta">
{{- range .Meta}}
<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>
{{- end}}
</dl>
<label for="problems-only" class="filter">Show problems only</label>
</header>
<main>
{{- with .Causes}}
<section class="diagnosis">
<h2>What is wrong</h2>
<ol>
{{- range .}}
<li><span class="badge st-{{.Status}}">{{badge .Status}}</span> {{if .Lead}}<b>{{.Lead}}</b> {{end}}{{.Text}}
{{- if .Explains}}<div class="explains"><b>This explains:</b> {{.Explains}}</div>{{end}}
{{- if .Hint}}<p class="hint"><b>Try:</b> {{.Hint}}</p>{{end}}
{{- if .CheckHint}}<p class="hint detail"><b>Detail:</b> {{.CheckHint}}</p>{{end}}</li>
{{- end}}
</ol>
</section>
{{- end}}
{{- with .Timeline}}
{{.}}{{end}}
{{- if .AllOK}}
<p class="all-ok">No problems: every check passed or was skipped.</p>
{{- end}}
{{- with .Matrix}}
<section class="matrix-section">
<h2>Hosts and checks</h2>
<div class="scroll">
<table class="matrix">
<thead><tr><th scope="col">Host</th><th scope="col">Verdict</th>{{range .Columns}}<th scope="col" class="check" title="{{.Title}}"><span>{{.ID}}</span></th>{{end}}</tr></thead>
<tbody>
{{- $n := len .Columns}}
{{- range .Rows}}
<tr{{if not .Problem}} class="ok"{{end}}><th scope="row"><a href="#{{.Anchor}}">{{.Host}}</a></th><td><span class="badge st-{{.Status}}">{{badge .Status}}</span></td>
{{- if .Error}}<td class="host-error" colspan="{{$n}}">not checked: {{.Error}}</td>
{{- else}}{{range .Cells}}<td class="cell">{{if .Status}}<a class="badge st-{{.Status}}" href="#{{.Anchor}}" title="{{.Title}}">{{badge .Status}}</a>{{else}}<span class="none" title="not run on this host">·</span>{{end}}</td>{{end}}
{{- end}}</tr>
{{- end}}
</tbody>
</table>
</div>
</section>
{{- end}}
{{- range .Hosts}}
<section class="host{{if not .Problem}} ok{{end}}" id="{{.Anchor}}">
<h2><span class="badge st-{{.Status}}">{{badge .Status}}</span> {{.Heading}}</h2>
{{- if .Error}}
<p class="host-error"><b>Could not check this host:</b> {{.Error}}</p>
{{- if .Hint}}
<p class="hint"><b>Hint:</b> {{.Hint}}</p>
{{- end}}
{{- else}}
<p class="counts">{{.Counts}}</p>
<table class="checks">
<thead><tr><th scope="col">Status</th><th scope="col">Check</th><th scope="col">Result</th><th scope="col" class="num">Time</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr id="{{.Anchor}}"{{if not .Problem}} class="ok"{{end}}>
<td>{{if .Blocked}}<span class="badge st-skip">⊘ blocked</span>{{else}}<span class="badge st-{{.Status}}">{{badge .Status}}</span>{{end}}</td>
<td><div class="title">{{.Title}}</div><div class="id"><code>{{.ID}}</code> · {{.Kind}}{{if .Playbook}} · {{.Playbook}}{{end}}</div></td>
<td><div class="message">{{.Message}}</div>
{{- if .Hint}}<p class="hint"><b>Hint:</b> {{.Hint}}</p>{{end}}
{{- if .CheckHint}}<p class="hint detail"><b>Detail:</b> {{.CheckHint}}</p>{{end}}
{{- if .Observed}}<dl class="observed">{{range .Observed}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>{{end}}
{{- if .Evidence}}<details{{if .Problem}} open{{end}}><summary>Evidence</summary><pre>{{.Evidence}}</pre></details>{{end}}</td>
<td class="num">{{.Duration}}</td>
</tr>
{{- end}}
</tbody>
</table>
{{- if .Hidden}}<p class="counts">{{.Hidden}}</p>{{end}}
{{- end}}
</section>
{{- end}}
</main>
<footer>{{.Generator}} · schema triage.report/v1</footer>
</body>
</html>
`))
})

const htmlCSS = `
:root{--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--code:#f6f8fa;
--pass:#116329;--pass-bg:#dafbe1;--warn:#6c4400;--warn-bg:#fff8c5;--fail:#a40e26;--fail-bg:#ffebe9;
--error:#6639ba;--error-bg:#fbefff;--skip:#59636e;--skip-bg:#f6f8fa;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--code:#151b23;
--pass:#56d364;--pass-bg:#0f2a1a;--warn:#e3b341;--warn-bg:#2b2111;--fail:#ff7b72;--fail-bg:#33161a;
--error:#bc8cff;--error-bg:#271b3d;--skip:#9198a1;--skip-bg:#151b23}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:84rem;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.5rem;margin:0 0 .75rem}
h2{font-size:1.15rem;margin:2rem 0 .5rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
a{color:inherit}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0 0 1rem}
dl.meta dt{font-weight:600;color:var(--muted)}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 .45em;border:1px solid;border-radius:.3em;font-weight:600;white-space:nowrap;text-decoration:none}
.st-pass{color:var(--pass);background:var(--pass-bg)}
.st-warn{color:var(--warn);background:var(--warn-bg)}
.st-fail{color:var(--fail);background:var(--fail-bg)}
.st-error{color:var(--error);background:var(--error-bg)}
.st-skip{color:var(--skip);background:var(--skip-bg)}
table{border-collapse:collapse;width:100%}
th,td{padding:.4rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
.num{text-align:right;white-space:nowrap;color:var(--muted)}
.title{font-weight:600}
.id{font-size:.85rem;color:var(--muted)}
.message,.host-error{overflow-wrap:anywhere}
.hint{margin:.3rem 0 0;padding:.2rem .5rem;border-left:3px solid var(--line)}
dl.observed{margin:.3rem 0 0;font-size:.85rem;color:var(--muted)}
dl.observed dt{display:inline;font-weight:600}
dl.observed dd{display:inline;margin:0 .9em 0 .3em;overflow-wrap:anywhere}
details{margin-top:.3rem}
summary{cursor:pointer;font-size:.85rem;color:var(--muted)}
pre{margin:.3rem 0 0;padding:.5rem .6rem;max-height:24rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;background:var(--code);border:1px solid var(--line);border-radius:.3rem}
.filter-toggle{position:absolute;opacity:0;width:1px;height:1px}
.filter{display:inline-block;cursor:pointer;padding:.2rem .7rem;border:1px solid var(--line);border-radius:.3rem;user-select:none}
.filter::before{content:"☐ "}
#problems-only:checked~header .filter::before{content:"☑ "}
#problems-only:focus-visible~header .filter{outline:2px solid var(--fg);outline-offset:2px}
#problems-only:checked~main .ok{display:none}
.all-ok{display:none}
#problems-only:checked~main .all-ok{display:block}
.scroll{overflow-x:auto}
table.matrix{width:auto}
table.matrix th.check{vertical-align:bottom;font-size:.8rem;text-transform:none;letter-spacing:0}
table.matrix th.check span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;max-height:14rem;overflow:hidden;text-overflow:ellipsis}
table.matrix td.cell{text-align:center;white-space:nowrap}
.none{color:var(--muted)}
.diagnosis{border:2px solid var(--line);border-radius:.4rem;padding:0 1rem .6rem;margin:0 0 1rem}
.diagnosis h2{margin-top:.6rem}
.diagnosis ol{margin:.3rem 0;padding-left:1.4rem}
.diagnosis li{margin:.3rem 0;overflow-wrap:anywhere}
.explains{font-size:.9rem;color:var(--muted)}
footer{margin-top:2rem;font-size:.8rem;color:var(--muted)}
@media print{
body{max-width:none;padding:0;font-size:10pt}
.filter,.filter-toggle{display:none}
pre{max-height:none;overflow:visible}
tr{break-inside:avoid}
h2{break-after:avoid}
.scroll{overflow:visible}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`

func renderHTML(w io.Writer, r *Report, opts Options) error {
	var buf bytes.Buffer
	if err := htmlTmpl().Execute(&buf, htmlPageOf(r, opts)); err != nil {
		return err
	}
	_, err := w.Write(bytes.ReplaceAll(buf.Bytes(), []byte("://"), []byte("&#58;//")))
	return err
}

func htmlPageOf(r *Report, opts Options) htmlPage {
	p := htmlPage{Status: r.Summary.Status, AllOK: true}
	p.Causes = htmlCausesOf(r)
	p.Timeline = htmlTimelineOf(r)
	p.Generator = r.Tool.Name + " " + r.Tool.Version
	p.Title = "triage report: " + string(r.Summary.Status)
	if len(r.Hosts) == 1 {
		p.Title += " · " + r.Hosts[0].Target
		p.Meta = append(p.Meta, [2]string{"Host", hostHeading(r.Hosts[0])})
	} else {
		p.Meta = append(p.Meta, [2]string{"Hosts", strconv.Itoa(len(r.Hosts))})
	}
	if r.Ticket != "" {
		p.Title += " · " + r.Ticket
		p.Meta = append(p.Meta, [2]string{"Ticket", r.Ticket})
	}
	p.Meta = append(p.Meta, [2]string{"When", formatWhen(r)})
	if len(r.Playbooks) > 0 {
		p.Meta = append(p.Meta, [2]string{"Playbooks", playbooksPhrase(r)})
	}
	verdict := countsPhrase(r.Summary)
	if n := countHostErrors(r); n > 0 {
		verdict += fmt.Sprintf("; %d %s not checked", n, plural(n, "host"))
	}
	p.Meta = append(p.Meta, [2]string{"Checks", verdict})
	if s := redactionPhrase(r); s != "" {
		p.Meta = append(p.Meta, [2]string{"Redacted", s})
	}
	if s := anonymizedPhrase(r); s != "" {
		p.Meta = append(p.Meta, [2]string{"Anonymized", s})
	}

	for hi, h := range r.Hosts {
		hh := htmlHost{
			Anchor: fmt.Sprintf("host-%d", hi+1), Heading: hostHeading(h), Status: h.Status,
			Error: h.Error, Hint: h.Hint, Problem: h.Error != "",
		}
		if h.Status == "" {
			hh.Status = diag.Pass
		}
		s := Summary{}
		for ri, res := range h.Results {
			if !shown(res, opts) {
				continue
			}
			row := htmlRow{
				Anchor: fmt.Sprintf("host-%d-check-%d", hi+1, ri+1), Status: res.Status, Problem: isProblem(res.Status),
				Title: res.Title, ID: res.ID, Kind: res.Kind, Message: res.Message, Hint: res.Hint, CheckHint: res.CheckHint,
				Evidence: res.Evidence, Duration: formatMS(res.DurationMS), Observed: observedPairs(res.Observed),
				Blocked: res.BlockedBy != "",
			}
			if row.Blocked {
				row.Hint, row.CheckHint = "", ""
			}
			if len(r.Playbooks) > 1 {
				row.Playbook = playbookOf(r, res)
			}
			if row.Status == diag.Pass {
				row.Hint, row.CheckHint = "", ""
			}
			hh.Problem = hh.Problem || row.Problem
			if row.Blocked {
				s.Blocked++
			} else {
				countInto(&s, res.Status)
			}
			hh.Rows = append(hh.Rows, row)
		}
		hh.Counts = countsPhrase(s)
		if n := hiddenCount(h, opts); n > 0 {
			hh.Hidden = hiddenPhrase(n)
		}
		p.AllOK = p.AllOK && !hh.Problem
		p.Hosts = append(p.Hosts, hh)
	}
	if len(r.Hosts) > 1 {
		p.Matrix = htmlMatrixOf(r, p.Hosts, opts)
	}
	return p
}

// htmlCausesOf is the diagnosis box: a host's causes, or a sweep's cause
// groups.
func htmlCausesOf(r *Report) []htmlCause {
	var out []htmlCause
	if len(r.Hosts) == 1 {
		h := r.Hosts[0]
		for _, c := range h.Diagnosis {
			out = append(out, htmlCause{Status: c.Status, Lead: c.Title, Text: strings.TrimPrefix(c.Summary, c.Title+" - "),
				Explains: explainsPhrase(h, c), Hint: c.Hint, CheckHint: c.CheckHint})
		}
		return out
	}
	for _, g := range r.Causes {
		out = append(out, htmlCause{Status: g.Status, Lead: hostsPhrase(len(g.Hosts)) + ":", Text: g.Summary, Explains: hostList(g.Hosts, 20)})
	}
	return out
}

// htmlMatrixOf lays out a sweep as hosts by checks. A check is a column
// once, however many hosts ran it, in the order it was first seen.
func htmlMatrixOf(r *Report, hosts []htmlHost, opts Options) *htmlMatrix {
	m := &htmlMatrix{}
	col := map[string]int{}
	key := func(res Result) string { return playbookOf(r, res) + "\x00" + res.ID }
	for _, h := range r.Hosts {
		for _, res := range h.Results {
			if !shown(res, opts) {
				continue
			}
			if _, ok := col[key(res)]; !ok {
				col[key(res)] = len(m.Columns)
				m.Columns = append(m.Columns, htmlColumn{ID: res.ID, Title: res.Title})
			}
		}
	}
	for hi, h := range r.Hosts {
		row := htmlMatrixRow{Host: h.Target, Anchor: hosts[hi].Anchor, Status: hosts[hi].Status, Problem: hosts[hi].Problem, Error: h.Error}
		if h.Error == "" {
			row.Cells = make([]htmlCell, len(m.Columns))
			ri := 0
			for _, res := range h.Results {
				if !shown(res, opts) {
					continue
				}
				row.Cells[col[key(res)]] = htmlCell{Status: res.Status, Anchor: hosts[hi].Rows[ri].Anchor, Title: res.Title + ": " + string(res.Status)}
				ri++
			}
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// countInto counts one verdict into s.
func countInto(s *Summary, st diag.Status) {
	switch st {
	case diag.Pass:
		s.Pass++
	case diag.Warn:
		s.Warn++
	case diag.Fail:
		s.Fail++
	case diag.Error:
		s.Error++
	case diag.Skip:
		s.Skip++
	}
}

// formatMS writes a check's duration for people: "3.2 ms", "1.5 s"; empty
// for a check that took no measurable time (skipped).
func formatMS(ms float64) string {
	switch {
	case ms <= 0:
		return ""
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(float64(int64(ms/100))/10, 'f', -1, 64) + " s"
}
