package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// summaryRows bounds each list of the sweep summary; the full detail is in
// the report files.
const summaryRows = 10

// WriteSweepSummary writes what a person wants to read after a sweep:
// hosts by status, the checks failing on the most hosts, the hosts that
// could not be checked and why, and, given the previous sweep's delta,
// what broke and what was fixed since.
func WriteSweepSummary(w io.Writer, r *Report, since *Delta, opts Options) error {
	t := &textWriter{w: w, color: opts.Color}
	var names []string
	for _, p := range r.Playbooks {
		names = append(names, p.Name)
	}
	t.printf("%s\n", t.paint(ansiBold, fmt.Sprintf("sweep of %d %s (%s) · %s · %s",
		len(r.Hosts), plural(len(r.Hosts), "host"), strings.Join(names, ", "),
		r.Started.Local().Format("2006-01-02 15:04"), roundDuration(r.Finished.Sub(r.Started)))))

	byStatus := map[diag.Status]int{}
	unreachable := 0
	for _, h := range r.Hosts {
		if h.Error != "" {
			unreachable++
			continue
		}
		byStatus[h.Status]++
	}
	var parts []string
	for _, st := range []diag.Status{diag.Pass, diag.Warn, diag.Fail, diag.Error} {
		if n := byStatus[st]; n > 0 {
			parts = append(parts, t.paint(textStyle[st].color, fmt.Sprintf("%d %s", n, st)))
		}
	}
	if unreachable > 0 {
		parts = append(parts, t.paint(textStyle[diag.Error].color, fmt.Sprintf("%d not checked", unreachable)))
	}
	t.printf("  hosts: %s\n", strings.Join(parts, " · "))

	t.causes(r)
	t.failingChecks(r)
	t.unreachable(r)
	if since != nil {
		t.since(since)
	}
	t.printf("verdict: %s\n", t.paint(ansiBold, string(r.Summary.Status)))
	return t.err
}

// causes groups the hosts by their top cause: "31 hosts: DNS servers -
// no DNS server answers", most hosts first.
func (t *textWriter) causes(r *Report) {
	if len(r.Causes) == 0 {
		return
	}
	t.printf("\n%s\n", t.paint(ansiBold, "What is wrong"))
	for i, g := range r.Causes {
		if i == summaryRows {
			t.printf("  … and %d more causes (see the report files)\n", len(r.Causes)-summaryRows)
			break
		}
		st := textStyle[g.Status]
		t.printf("  %s %s: %s\n", t.paint(st.color, st.symbol), hostsPhrase(len(g.Hosts)), oneLine(g.Summary))
		t.printf("      %s\n", t.paint(ansiDim, hostList(g.Hosts, 5)))
	}
}

func (t *textWriter) failingChecks(r *Report) {
	type row struct {
		id, title string
		worst     diag.Status
		hosts     int
	}
	rows := map[string]*row{}
	for _, h := range r.Hosts {
		for _, res := range h.Results {
			if res.Status != diag.Warn && res.Status != diag.Fail && res.Status != diag.Error {
				continue
			}
			key := res.Playbook + "/" + res.ID
			rw := rows[key]
			if rw == nil {
				rw = &row{id: res.ID, title: res.Title}
				rows[key] = rw
			}
			rw.hosts++
			rw.worst = diag.Worst(rw.worst, res.Status)
		}
	}
	if len(rows) == 0 {
		return
	}
	list := make([]*row, 0, len(rows))
	for _, rw := range rows {
		list = append(list, rw)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].hosts != list[j].hosts {
			return list[i].hosts > list[j].hosts
		}
		return list[i].id < list[j].id
	})
	t.printf("  checks with problems, on the most hosts first:\n")
	for i, rw := range list {
		if i == summaryRows {
			t.printf("    (and %d more)\n", len(list)-summaryRows)
			break
		}
		st := textStyle[rw.worst]
		t.printf("    %s %-24s %-40s %d %s\n", t.paint(st.color, st.symbol), truncate(rw.id, 24), truncate(rw.title, 40), rw.hosts, plural(rw.hosts, "host"))
	}
}

func (t *textWriter) unreachable(r *Report) {
	var down []Host
	for _, h := range r.Hosts {
		if h.Error != "" {
			down = append(down, h)
		}
	}
	if len(down) == 0 {
		return
	}
	t.printf("  not checked:\n")
	for i, h := range down {
		if i == summaryRows {
			t.printf("    (and %d more)\n", len(down)-summaryRows)
			break
		}
		kind := h.ErrorKind
		if kind == "" {
			kind = "error"
		}
		t.printf("    %s %-28s %-18s %s\n", t.paint(textStyle[diag.Error].color, textStyle[diag.Error].symbol), truncate(h.Target, 28), kind, oneLine(h.Error))
	}
}

func (t *textWriter) since(d *Delta) {
	t.printf("  since the sweep of %s: %d got worse, %d got better\n",
		d.Old.Started.Local().Format("2006-01-02 15:04"), len(d.Worse), len(d.Better))
	for _, part := range []struct {
		label string
		list  []Change
	}{{"worse", d.Worse}, {"better", d.Better}} {
		for i, c := range part.list {
			if i == summaryRows {
				t.printf("    (and %d more %s)\n", len(part.list)-summaryRows, part.label)
				break
			}
			what := c.Check
			if what == "" {
				what = "(host)"
			}
			t.printf("    %-6s %-28s %-24s %s -> %s\n", part.label, truncate(c.Host, 28), truncate(what, 24), orDash(c.From), orDash(c.To))
		}
	}
}

func orDash(s diag.Status) string {
	if s == "" {
		return "-"
	}
	return string(s)
}
