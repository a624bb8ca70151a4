package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// The diagnosis answers the question a person brings to triage, "what is
// wrong?", from the results alone, once, in the model: every renderer
// leads with it and none computes its own.
//
// A cause is a result that found a problem (fail, error or warn) and was
// not blocked. It explains the checks blocked because of it (BlockedBy)
// and the problems of checks that need it, directly or through others:
// the playbook's needs: are its layers, and the lowest broken layer is the
// root. Causes are ranked: checked and broken (fail) first, then could not
// check (error), then warnings; within one rank, in playbook order, which
// in the built-in playbooks is the order of the layers.

// Cause is one probable cause of what a host's checks found.
type Cause struct {
	// Check is the id of the result at the root.
	Check    string      `json:"check"`
	Title    string      `json:"title"`
	Playbook string      `json:"playbook,omitempty"`
	Status   diag.Status `json:"status"`
	// Summary says in one sentence what is broken.
	Summary string `json:"summary"`
	// Explains lists the ids of the checks this cause accounts for: those
	// it blocked and those below it in the chain that found problems.
	Explains []string `json:"explains,omitempty"`
	Hint     string   `json:"hint,omitempty"`
	// CheckHint is the root check's own advice where the playbook's hint
	// took its place (see Result.CheckHint).
	CheckHint string `json:"check_hint,omitempty"`
}

// CauseGroup is one cause shared by several hosts of a run: what a sweep's
// summary leads with ("31 hosts: DNS servers - ...").
type CauseGroup struct {
	// Check is the root check's id; empty for hosts that could not be
	// checked at all (ErrorKind says why).
	Check     string      `json:"check,omitempty"`
	ErrorKind string      `json:"error_kind,omitempty"`
	Title     string      `json:"title"`
	Status    diag.Status `json:"status"`
	// Summary is the first host's sentence; the others' may differ in
	// their values.
	Summary string   `json:"summary"`
	Hosts   []string `json:"hosts"`
}

// Diagnose computes every host's causes and the run's cause groups from
// the results. Finish calls it; a report read from a file written before
// there was a diagnosis gets one from Read.
func (r *Report) Diagnose() {
	for i := range r.Hosts {
		r.Hosts[i].Diagnosis = diagnoseHost(&r.Hosts[i])
	}
	r.Causes = groupCauses(r.Hosts)
}

func diagnoseHost(h *Host) []Cause {
	if h.Error != "" {
		return nil
	}
	type key struct{ playbook, id string }
	index := map[key]int{}
	for i, res := range h.Results {
		k := key{res.Playbook, res.ID}
		if _, dup := index[k]; !dup {
			index[k] = i
		}
	}
	// rootOf follows needs down from a problem to the lowest result that
	// found a problem too: the layer where the trouble starts.
	var rootOf func(i int, depth int) int
	rootOf = func(i int, depth int) int {
		if depth > len(h.Results) {
			return i // a cycle in a hand-made report: stop
		}
		res := h.Results[i]
		for _, id := range res.Needs {
			j, ok := index[key{res.Playbook, id}]
			if !ok || j == i {
				continue
			}
			// A need that passed stops the walk: what lies below it
			// worked well enough for it.
			if isCause(h.Results[j]) {
				return rootOf(j, depth+1)
			}
		}
		return i
	}
	roots := map[int]*Cause{}
	var order []int
	explainedBy := map[int]int{}
	for i, res := range h.Results {
		if !isCause(res) {
			continue
		}
		root := rootOf(i, 0)
		if root != i {
			explainedBy[i] = root
			continue
		}
		roots[i] = &Cause{
			Check:     res.ID,
			Title:     res.Title,
			Playbook:  res.Playbook,
			Status:    res.Status,
			Summary:   causeSummary(res),
			Hint:      res.Hint,
			CheckHint: res.CheckHint,
		}
		order = append(order, i)
	}
	for i, res := range h.Results {
		switch {
		case res.BlockedBy != "":
			if j, ok := index[key{res.Playbook, res.BlockedBy}]; ok {
				if c := roots[j]; c != nil {
					c.Explains = append(c.Explains, res.ID)
				} else if root, ok := explainedBy[j]; ok {
					roots[root].Explains = append(roots[root].Explains, res.ID)
				}
			}
		case isExplained(explainedBy, i):
			roots[explainedBy[i]].Explains = append(roots[explainedBy[i]].Explains, res.ID)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return causeRank(h.Results[order[a]].Status) < causeRank(h.Results[order[b]].Status)
	})
	out := make([]Cause, 0, len(order))
	for _, i := range order {
		out = append(out, *roots[i])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func isExplained(m map[int]int, i int) bool {
	_, ok := m[i]
	return ok
}

// isCause reports whether a result found a problem of its own.
func isCause(res Result) bool {
	if res.BlockedBy != "" {
		return false
	}
	switch res.Status {
	case diag.Fail, diag.Error, diag.Warn:
		return true
	}
	return false
}

func causeRank(s diag.Status) int {
	switch s {
	case diag.Fail:
		return 0
	case diag.Error:
		return 1
	}
	return 2
}

// causeSummary is the cause in one sentence: what was looked at, and what
// was found.
func causeSummary(res Result) string {
	msg := strings.TrimSpace(res.Message)
	if res.Status == diag.Error {
		msg = "could not be checked: " + msg
	}
	if res.Title == "" {
		return msg
	}
	return res.Title + " - " + msg
}

// groupCauses gathers the hosts' top causes: the same root check on many
// hosts is one line of a sweep's summary.
func groupCauses(hosts []Host) []CauseGroup {
	type key struct{ check, kind string }
	var order []key
	groups := map[key]*CauseGroup{}
	add := func(k key, g CauseGroup, host string) {
		if groups[k] == nil {
			g.Hosts = nil
			groups[k] = &g
			order = append(order, k)
		}
		groups[k].Hosts = append(groups[k].Hosts, host)
	}
	for _, h := range hosts {
		if h.Error != "" {
			kind := firstNonEmpty(h.ErrorKind, "unreachable")
			add(key{"", kind}, CauseGroup{ErrorKind: kind, Title: "could not be checked", Status: diag.Error, Summary: "could not be checked: " + h.Error}, h.Target)
			continue
		}
		if len(h.Diagnosis) == 0 {
			continue
		}
		c := h.Diagnosis[0]
		add(key{c.Playbook + "\x00" + c.Check, ""}, CauseGroup{Check: c.Check, Title: c.Title, Status: c.Status, Summary: c.Summary}, h.Target)
	}
	out := make([]CauseGroup, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	// Most hosts first; then worst; then as met.
	sort.SliceStable(out, func(a, b int) bool {
		if len(out[a].Hosts) != len(out[b].Hosts) {
			return len(out[a].Hosts) > len(out[b].Hosts)
		}
		return causeRank(out[a].Status) < causeRank(out[b].Status)
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// explainsPhrase names what a cause explains, by title: "Secure websites,
// Clock (not checked)".
func explainsPhrase(h Host, c Cause) string {
	if len(c.Explains) == 0 {
		return ""
	}
	var blocked, worse []string
	for _, id := range c.Explains {
		for _, res := range h.Results {
			if res.ID != id || res.Playbook != c.Playbook {
				continue
			}
			if res.BlockedBy != "" {
				blocked = append(blocked, res.Title)
			} else {
				worse = append(worse, res.Title)
			}
			break
		}
	}
	var parts []string
	if len(worse) > 0 {
		parts = append(parts, strings.Join(worse, ", "))
	}
	if len(blocked) > 0 {
		parts = append(parts, strings.Join(blocked, ", ")+" (not checked)")
	}
	return strings.Join(parts, "; ")
}

// hostsPhrase is "1 host" or "31 hosts".
func hostsPhrase(n int) string {
	if n == 1 {
		return "1 host"
	}
	return fmt.Sprintf("%d hosts", n)
}

// hostList names at most n hosts: "web1, web2 and 29 more".
func hostList(hosts []string, n int) string {
	if len(hosts) <= n {
		return strings.Join(hosts, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(hosts[:n], ", "), len(hosts)-n)
}
