package send

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/triage-dev/triage/reports"
)

// ComposeOptions say what goes into a message besides the report.
type ComposeOptions struct {
	// Redactor cleans the report before anything is rendered; nil means
	// the default rules. A report that was redacted already (a run's)
	// comes through unchanged.
	Redactor *reports.Redactor
	// Ticket is an existing ticket to comment on.
	Ticket string
	// Bundle, when set, is attached instead of the HTML and JSON reports
	// (it holds both). BundleName is its file name.
	Bundle     []byte
	BundleName string
	// BaseName names the attachments: BaseName.html, BaseName.json
	// (default triage-report).
	BaseName string
}

// Compose redacts rep and renders it into a message: the Markdown
// report as the body, the HTML and JSON reports (or the bundle) as
// attachments, and the diagnosis' headline as the subject. It is the only
// way this package reads a report.
func Compose(rep *reports.Report, opts ComposeOptions) (Message, error) {
	rd := opts.Redactor
	if rd == nil {
		var err error
		if rd, err = reports.NewRedactor(); err != nil {
			return Message{}, err
		}
	}
	rd.Redact(rep)
	m := Message{Subject: Subject(rep), Ticket: opts.Ticket}
	md, err := render("markdown", rep)
	if err != nil {
		return Message{}, err
	}
	m.Body = string(md)
	base := opts.BaseName
	if base == "" {
		base = "triage-report"
	}
	if opts.Bundle != nil {
		name := opts.BundleName
		if name == "" {
			name = base + ".tar.gz"
		}
		m.Attachments = append(m.Attachments, Attachment{Name: name, ContentType: "application/gzip", Data: opts.Bundle})
		return m, nil
	}
	for _, f := range []struct{ format, ext, ctype string }{
		{"html", ".html", "text/html; charset=utf-8"},
		{"json", ".json", "application/json"},
	} {
		if _, ok := reports.Lookup(f.format); !ok {
			continue
		}
		data, err := render(f.format, rep)
		if err != nil {
			return Message{}, err
		}
		m.Attachments = append(m.Attachments, Attachment{Name: base + f.ext, ContentType: f.ctype, Data: data})
	}
	return m, nil
}

func render(format string, rep *reports.Report) ([]byte, error) {
	rd, ok := reports.Lookup(format)
	if !ok {
		return nil, fmt.Errorf("this triage cannot render %s", format)
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, rep, reports.Options{}); err != nil {
		return nil, fmt.Errorf("rendering the %s report: %w", format, err)
	}
	return buf.Bytes(), nil
}

// Subject is a new ticket's subject: the headline of the diagnosis (the
// first host's first cause, or the run's largest group of hosts), or
// "triage: all checks passed on HOST".
func Subject(rep *reports.Report) string {
	if len(rep.Hosts) == 1 {
		h := rep.Hosts[0]
		name := hostName(h)
		switch {
		case h.Error != "":
			return cut(fmt.Sprintf("triage: %s could not be checked: %s", name, h.Error), 200)
		case len(h.Diagnosis) > 0:
			return cut(fmt.Sprintf("triage: %s: %s", name, h.Diagnosis[0].Summary), 200)
		}
		return "triage: all checks passed on " + name
	}
	if len(rep.Causes) > 0 {
		g := rep.Causes[0]
		what := g.Summary
		if what == "" {
			what = g.Title
		}
		return cut(fmt.Sprintf("triage: %d of %d hosts: %s", len(g.Hosts), len(rep.Hosts), what), 200)
	}
	return fmt.Sprintf("triage: all checks passed on %d hosts", len(rep.Hosts))
}

func hostName(h reports.Host) string {
	if h.Facts.Hostname != "" && (h.Target == "" || h.Target == "local") {
		return h.Facts.Hostname
	}
	if h.Target != "" {
		return strings.TrimSpace(h.Target)
	}
	return "this computer"
}
