package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

func init() {
	Register(Renderer{Name: "prometheus", Extensions: []string{".prom"}, Render: renderPrometheus})
}

// The Prometheus report is the text exposition format, for node_exporter's
// textfile collector: write it with --report /var/lib/node_exporter/triage.prom
// (atomically, as the collector requires) from cron or a timer. Every
// metric is a gauge without timestamps, as the collector expects.
//
// A check's status is a state set: one series per status, 1 for the one it
// ended in, so alerts can say triage_check_status{status="fail"} == 1.
// triage_host_status and triage_report_status carry the worst status as
// the exit code (0 pass, 1 warn, 2 fail, 3 error) for max() and thresholds.

type promWriter struct {
	w    io.Writer
	err  error
	seen map[string]bool
}

func (p *promWriter) family(name, help string) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, "# HELP %s %s\n# TYPE %s gauge\n", name, promHelp(help), name)
	}
}

// sample writes one series; labels are name, value pairs. A series already
// written (the same playbook run twice) is not written again, since the
// format forbids duplicates.
func (p *promWriter) sample(name string, value float64, labels ...string) {
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i] + `="` + promLabel(labels[i+1]) + `"`)
		}
		b.WriteByte('}')
	}
	series := b.String()
	if p.seen[series] || p.err != nil {
		return
	}
	p.seen[series] = true
	_, p.err = fmt.Fprintf(p.w, "%s %s\n", series, strconv.FormatFloat(value, 'f', -1, 64))
}

func renderPrometheus(w io.Writer, r *Report, _ Options) error {
	p := &promWriter{w: w, seen: map[string]bool{}}
	type check struct {
		host string
		res  Result
		pb   string
	}
	var checks []check
	for _, h := range r.Hosts {
		for _, res := range h.Results {
			checks = append(checks, check{h.Target, res, playbookOf(r, res)})
		}
	}

	p.family("triage_check_status", "Whether a check ended in this status (1) or not (0).")
	for _, c := range checks {
		for _, st := range statusOrder {
			v := 0.0
			if c.res.Status == st {
				v = 1
			}
			p.sample("triage_check_status", v, "host", c.host, "playbook", c.pb, "check", c.res.ID,
				"kind", c.res.Kind, "severity", string(c.res.Severity), "status", string(st))
		}
	}
	p.family("triage_check_duration_seconds", "How long a check took.")
	for _, c := range checks {
		p.sample("triage_check_duration_seconds", roundSeconds(c.res.DurationMS), "host", c.host, "playbook", c.pb, "check", c.res.ID)
	}
	p.family("triage_host_up", "Whether the host could be checked (1) or not (0): unreachable, or its facts could not be read.")
	for _, h := range r.Hosts {
		up := 1.0
		if h.Error != "" {
			up = 0
		}
		p.sample("triage_host_up", up, "host", h.Target)
	}
	p.family("triage_host_status", "The worst status of a host as an exit code: 0 pass, 1 warn, 2 fail, 3 error or not checked.")
	for _, h := range r.Hosts {
		p.sample("triage_host_status", float64(StatusCode(h.Status)), "host", h.Target)
	}
	p.family("triage_host_checks", "How many of a host's checks ended in each status.")
	for _, h := range r.Hosts {
		c := hostCounts(h)
		for _, st := range statusOrder {
			p.sample("triage_host_checks", float64(c[st]), "host", h.Target, "status", string(st))
		}
	}
	p.family("triage_host_info", "Facts about a host that was checked; the value is always 1.")
	for _, h := range r.Hosts {
		if h.Error != "" {
			continue
		}
		f := h.Facts
		p.sample("triage_host_info", 1, "host", h.Target, "hostname", f.Hostname, "os", f.OS, "arch", f.Arch,
			"distro", f.Distro, "distro_version", f.DistroVersion, "kernel", f.Kernel)
	}
	p.family("triage_report_status", "The verdict of the whole run as an exit code: 0 pass, 1 warn, 2 fail, 3 error.")
	p.sample("triage_report_status", float64(StatusCode(r.Summary.Status)))
	p.family("triage_report_timestamp_seconds", "When the run finished, as a Unix time: alert when it grows old.")
	p.sample("triage_report_timestamp_seconds", float64(r.Finished.UnixMilli())/1000)
	p.family("triage_report_duration_seconds", "How long the run took.")
	p.sample("triage_report_duration_seconds", r.Finished.Sub(r.Started).Seconds())
	if len(r.Redactions) > 0 {
		p.family("triage_report_redactions", "Secrets redacted from the report, per rule.")
		for _, name := range sortedKeys(r.Redactions) {
			p.sample("triage_report_redactions", float64(r.Redactions[name]), "rule", name)
		}
	}
	p.family("triage_info", "The triage that wrote the report, and the ticket it is for; the value is always 1.")
	p.sample("triage_info", 1, "version", r.Tool.Version, "ticket", r.Ticket)
	return p.err
}

// promLabel escapes a label value: backslash, double quote and newline;
// the format wants UTF-8, so invalid bytes become U+FFFD.
func promLabel(s string) string {
	return promLabelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// promHelp escapes HELP text: backslash and newline.
func promHelp(s string) string {
	return promHelpEscaper.Replace(s)
}

// Built once: a Replacer builds its lookup tables on first use, which cost
// more than the escaping itself when made for every label.
var (
	promLabelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	promHelpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)
