package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

// DiffSchema names the version of the JSON form of a Delta.
const DiffSchema = "triage.diff/v1"

// Delta is what changed between two runs: the checks that got worse, those
// that got better, and observed values that changed (a package version, a
// DNS answer) while the verdict stayed the same.
//
// Checks are matched by playbook and id, hosts by target; two reports of
// one host each are compared host to host whatever their targets, so a
// run here and a run over SSH of the same machine compare. Statuses are
// ranked like exit codes: pass and skip, then warn, fail, error. A host
// that could not be checked counts as error, and its checks are not listed
// one by one. Measurements that differ on every run (latencies, sizes,
// percentages, ages) are not reported as changed values.
type Delta struct {
	Schema string    `json:"schema"`
	Old    DeltaSide `json:"old"`
	New    DeltaSide `json:"new"`
	// Worse lists new problems: a status that got worse, or a new check
	// or host that is not passing.
	Worse []Change `json:"worse"`
	// Better lists resolved and improved checks.
	Better []Change `json:"better"`
	// Changed lists checks with the same rank whose status or observed
	// values changed.
	Changed []Change `json:"changed"`
	// Added and Removed list passing checks and hosts found in only one
	// of the reports.
	Added   []Change `json:"added"`
	Removed []Change `json:"removed"`
	// GotWorse is true when Worse is not empty.
	GotWorse bool `json:"got_worse"`
}

// DeltaSide identifies one of the two reports compared.
type DeltaSide struct {
	Started time.Time   `json:"started"`
	Ticket  string      `json:"ticket,omitempty"`
	Status  diag.Status `json:"status"`
}

// Change is one difference between the reports.
type Change struct {
	Host string `json:"host"`
	// Check is the check's id; empty when the change is the host's own
	// (it could, or could no longer, be checked).
	Check string `json:"check,omitempty"`
	// Playbook is set in runs of several playbooks, as in the report.
	Playbook string        `json:"playbook,omitempty"`
	Title    string        `json:"title,omitempty"`
	From     diag.Status   `json:"from,omitempty"`
	To       diag.Status   `json:"to,omitempty"`
	Message  string        `json:"message,omitempty"`
	Values   []ValueChange `json:"values,omitempty"`
}

// ValueChange is an observed value that differs; a missing side is null.
type ValueChange struct {
	Key  string          `json:"key"`
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
}

// Diff compares two reports.
func Diff(old, cur *Report) *Delta {
	d := &Delta{
		Schema: DiffSchema,
		Old:    DeltaSide{Started: old.Started, Ticket: old.Ticket, Status: old.Summary.Status},
		New:    DeltaSide{Started: cur.Started, Ticket: cur.Ticket, Status: cur.Summary.Status},
	}
	oldHosts := map[string]Host{}
	for _, h := range old.Hosts {
		oldHosts[h.Target] = h
	}
	pair := func(h Host) (Host, bool) {
		if len(old.Hosts) == 1 && len(cur.Hosts) == 1 {
			return old.Hosts[0], true
		}
		o, ok := oldHosts[h.Target]
		return o, ok
	}
	matched := map[string]bool{}
	for _, h := range cur.Hosts {
		o, ok := pair(h)
		if !ok {
			c := Change{Host: h.Target, To: hostStatusOf(h), Message: h.Error}
			if isProblem(c.To) {
				d.Worse = append(d.Worse, c)
			} else {
				d.Added = append(d.Added, c)
			}
			continue
		}
		matched[o.Target] = true
		d.diffHost(old, cur, o, h)
	}
	for _, o := range old.Hosts {
		if !matched[o.Target] {
			d.Removed = append(d.Removed, Change{Host: o.Target, From: hostStatusOf(o)})
		}
	}
	d.GotWorse = len(d.Worse) > 0
	return d
}

func hostStatusOf(h Host) diag.Status {
	if h.Error != "" {
		return diag.Error
	}
	if h.Status == "" {
		return hostStatus(&h)
	}
	return h.Status
}

func (d *Delta) diffHost(oldR, curR *Report, o, h Host) {
	switch {
	case h.Error != "" && o.Error == "":
		d.Worse = append(d.Worse, Change{Host: h.Target, From: hostStatusOf(o), To: diag.Error, Message: h.Error})
		return
	case h.Error != "":
		return // still not checked: nothing to compare
	case o.Error != "":
		// Checked again after it could not be: the host as a whole went
		// from error to what it is now; its checks have nothing to be
		// compared with.
		d.Better = append(d.Better, Change{Host: h.Target, From: diag.Error, To: hostStatusOf(h), Message: "could be checked again"})
		return
	}
	key := func(r *Report, res Result) string { return playbookOf(r, res) + "\x00" + res.ID }
	before := map[string]Result{}
	for _, res := range o.Results {
		before[key(oldR, res)] = res
	}
	seen := map[string]bool{}
	for _, res := range h.Results {
		k := key(curR, res)
		seen[k] = true
		c := Change{Host: h.Target, Check: res.ID, Playbook: res.Playbook, Title: res.Title, To: res.Status, Message: res.Message}
		prev, ok := before[k]
		if !ok {
			if isProblem(res.Status) {
				d.Worse = append(d.Worse, c)
			} else {
				d.Added = append(d.Added, c)
			}
			continue
		}
		c.From = prev.Status
		from, to := StatusCode(prev.Status), StatusCode(res.Status)
		// With the verdict changed, values the check measured only one of
		// the times ("mode" of a file that is now missing) are noise.
		c.Values = valueChanges(prev.Observed, res.Observed, from != to)
		switch {
		case to > from:
			d.Worse = append(d.Worse, c)
		case to < from:
			d.Better = append(d.Better, c)
		case prev.Status != res.Status || len(c.Values) > 0:
			d.Changed = append(d.Changed, c)
		}
	}
	for _, res := range o.Results {
		if !seen[key(oldR, res)] {
			d.Removed = append(d.Removed, Change{Host: h.Target, Check: res.ID, Playbook: res.Playbook, Title: res.Title, From: res.Status})
		}
	}
}

// volatileSuffixes and volatileKeys name observed values that are
// measurements, different on every run: comparing them would bury the
// changes that matter under noise.
var (
	volatileSuffixes = []string{"_ms", "_bytes", "_percent", "_seconds", "_days_left", "_tasks", "_per_cpu"}
	volatileKeys     = map[string]bool{"load1": true, "load5": true, "load15": true, "modified": true, "sent": true, "received": true, "ttl": true, "pids": true, "count": true}
)

func isVolatile(key string) bool {
	if volatileKeys[key] {
		return true
	}
	for _, s := range volatileSuffixes {
		if strings.HasSuffix(key, s) {
			return true
		}
	}
	return false
}

func valueChanges(old, cur map[string]any, bothOnly bool) []ValueChange {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var out []ValueChange
	for _, k := range sortedKeys(keys) {
		_, inOld := old[k]
		_, inCur := cur[k]
		if isVolatile(k) || bothOnly && !(inOld && inCur) {
			continue
		}
		a, b := canonicalJSON(old, k), canonicalJSON(cur, k)
		if string(a) != string(b) {
			out = append(out, ValueChange{Key: k, From: a, To: b})
		}
	}
	return out
}

// canonicalJSON spells m[k] the same way whether it came from a run (an
// int, a []string) or from a JSON file (a float64, a []any).
func canonicalJSON(m map[string]any, k string) json.RawMessage {
	v, ok := m[k]
	if !ok {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", fmt.Sprint(v)))
	}
	var back any
	if json.Unmarshal(b, &back) == nil {
		if again, err := json.Marshal(back); err == nil {
			return again
		}
	}
	return b
}

// WriteJSON writes the delta as JSON (schema triage.diff/v1).
func (d *Delta) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	out := *d
	// Empty lists are [] rather than null, for jq and friends.
	for _, l := range []*[]Change{&out.Worse, &out.Better, &out.Changed, &out.Added, &out.Removed} {
		if *l == nil {
			*l = []Change{}
		}
	}
	return enc.Encode(out)
}

// WriteText writes the delta for people, worst news first.
func (d *Delta) WriteText(w io.Writer) error {
	t := &textWriter{w: w}
	t.printf("comparing %s (%s) with %s (%s)\n", d.Old.Started.Format("2006-01-02 15:04:05 -07:00"), d.Old.Status,
		d.New.Started.Format("2006-01-02 15:04:05 -07:00"), d.New.Status)
	for _, sec := range []struct {
		title string
		list  []Change
	}{
		{"new problems", d.Worse}, {"resolved or better", d.Better}, {"changed", d.Changed},
		{"new checks and hosts", d.Added}, {"gone", d.Removed},
	} {
		if len(sec.list) == 0 {
			continue
		}
		t.printf("\n%s (%d):\n", sec.title, len(sec.list))
		for _, c := range sec.list {
			t.printf("  %s\n", changeLine(c))
			for _, v := range c.Values {
				t.printf("      %s: %s → %s\n", v.Key, string(v.From), string(v.To))
			}
		}
	}
	switch {
	case d.GotWorse:
		t.printf("\nverdict: worse, %d new %s\n", len(d.Worse), plural(len(d.Worse), "problem"))
	case len(d.Better)+len(d.Changed)+len(d.Added)+len(d.Removed) == 0:
		t.printf("\nverdict: no change\n")
	default:
		t.printf("\nverdict: nothing got worse\n")
	}
	return t.err
}

func changeLine(c Change) string {
	what := c.Host
	if c.Check != "" {
		what += "  " + c.Check
		if c.Playbook != "" {
			what = c.Host + "  " + c.Playbook + "/" + c.Check
		}
	} else {
		what += "  (host)"
	}
	var status string
	switch {
	case c.From != "" && c.To != "":
		status = string(c.From) + " → " + string(c.To)
	case c.To != "":
		status = "new: " + string(c.To)
	case c.From != "":
		status = "was " + string(c.From)
	}
	line := what + "  " + status
	if c.Message != "" {
		line += "  " + oneLine(c.Message)
	}
	return line
}
