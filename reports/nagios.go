package reports

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	Register(Renderer{Name: "nagios", Render: renderNagios})
}

// The nagios format is a monitoring plugin's output, after the Monitoring
// Plugins development guidelines, for Nagios, Icinga, Naemon, Sensu and
// Zabbix: a first line "TRIAGE STATE - summary | performance data", then a
// line per check that did not pass. With triage's exit codes (0 OK,
// 1 WARNING, 2 CRITICAL, 3 UNKNOWN) it makes any playbook a service check.

// maxSummary keeps the first line short enough for a monitoring dashboard.
const maxSummary = 200

var nagiosState = map[diag.Status]string{
	diag.Pass:  "OK",
	diag.Skip:  "OK",
	diag.Warn:  "WARNING",
	diag.Fail:  "CRITICAL",
	diag.Error: "UNKNOWN",
}

func renderNagios(w io.Writer, r *Report, _ Options) error {
	multi := len(r.Hosts) > 1
	label := func(h Host, res Result) string {
		if multi {
			return h.Target + "/" + res.ID
		}
		return res.ID
	}

	var critical, warning, unknown, long []string
	for _, h := range r.Hosts {
		if h.Error != "" {
			unknown = append(unknown, h.Target)
			long = append(long, fmt.Sprintf("[UNKNOWN] %s: could not check the host: %s", h.Target, plainText(h.Error)))
			continue
		}
		for _, res := range h.Results {
			name := label(h, res)
			switch res.Status {
			case diag.Fail:
				critical = append(critical, name)
			case diag.Warn:
				warning = append(warning, name)
			case diag.Error:
				unknown = append(unknown, name)
			default:
				continue
			}
			line := fmt.Sprintf("[%s] %s: %s", nagiosState[res.Status], name, plainText(res.Message))
			if res.Hint != "" {
				line += " (try: " + plainText(res.Hint) + ")"
			}
			long = append(long, line)
		}
	}

	var parts []string
	for _, g := range []struct {
		word  string
		names []string
	}{{"critical", critical}, {"warning", warning}, {"unknown", unknown}} {
		if len(g.names) > 0 {
			parts = append(parts, fmt.Sprintf("%d %s: %s", len(g.names), g.word, strings.Join(g.names, ", ")))
		}
	}
	summary := strings.Join(parts, "; ")
	// The status line leads with the cause: a monitoring dashboard shows
	// this line alone.
	if cause := nagiosCause(r); cause != "" && summary != "" {
		summary = cause + "; " + summary
	}
	if summary == "" {
		checks := r.Summary.Pass + r.Summary.Skip
		summary = fmt.Sprintf("%d %s OK", checks, plural(checks, "check"))
		if multi {
			summary += fmt.Sprintf(" on %d hosts", len(r.Hosts))
		}
	}
	summary = cutRunes(summary, maxSummary)

	line := fmt.Sprintf("TRIAGE %s - %s", nagiosState[r.Summary.Status], summary)
	if perf := perfData(r, label); perf != "" {
		line += " | " + perf
	}
	var b strings.Builder
	b.WriteString(line + "\n")
	for _, l := range long {
		b.WriteString(l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// perfData turns every numeric observed value into a performance datum:
// 'label'=value[UOM];[warn];[crit];[min];[max].
func perfData(r *Report, label func(Host, Result) string) string {
	var items []string
	seen := map[string]int{}
	for _, h := range r.Hosts {
		for _, res := range h.Results {
			keys := make([]string, 0, len(res.Observed))
			for k := range res.Observed {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v, ok := diag.Number(res.Observed[k])
				if !ok {
					continue
				}
				name := label(h, res) + "_" + k
				if n := seen[name]; n > 0 {
					// The same check twice (two playbooks): labels stay unique.
					seen[name]++
					name = fmt.Sprintf("%s_%d", name, n+1)
				} else {
					seen[name] = 1
				}
				uom, min, max := unitOf(k)
				th := res.Thresholds[k]
				datum := fmt.Sprintf("%s=%s%s;%s;%s;%s;%s",
					perfLabel(name), strconv.FormatFloat(v, 'f', -1, 64), uom, th.Warn, th.Crit, min, max)
				// Trailing empty fields may be left out, and are.
				items = append(items, strings.TrimRight(datum, ";"))
			}
		}
	}
	return strings.Join(items, " ")
}

// unitOf picks the unit of measure from the observed key's suffix, as DESIGN
// §6 names them, with the bounds a graph can use.
func unitOf(key string) (uom, min, max string) {
	switch {
	case strings.HasSuffix(key, "_percent"):
		return "%", "0", "100"
	case strings.HasSuffix(key, "_bytes"):
		return "B", "0", ""
	case strings.HasSuffix(key, "_ms"):
		return "ms", "", ""
	case strings.HasSuffix(key, "_seconds"):
		return "s", "", ""
	}
	return "", "", ""
}

// perfLabel quotes a label when the guidelines require it; a single quote
// or an equals sign cannot appear in one at all.
func perfLabel(s string) string {
	s = perfLabelCleaner.Replace(s)
	if strings.ContainsAny(s, " \t") {
		return "'" + s + "'"
	}
	return s
}

// plainText keeps a message on one line and free of the pipe that would
// start performance data.
func plainText(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", "/")
}

func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

var perfLabelCleaner = strings.NewReplacer("'", "", "=", "_", "|", "_")

// nagiosCause is the diagnosis in a few words: the top cause of one host,
// or the largest cause group of many.
func nagiosCause(r *Report) string {
	if len(r.Hosts) == 1 {
		if d := r.Hosts[0].Diagnosis; len(d) > 0 {
			return "cause: " + plainText(d[0].Summary)
		}
		return ""
	}
	if len(r.Causes) > 0 {
		g := r.Causes[0]
		return fmt.Sprintf("cause on %s: %s", hostsPhrase(len(g.Hosts)), plainText(g.Summary))
	}
	return ""
}
