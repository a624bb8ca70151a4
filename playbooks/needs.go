package playbooks

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkNeeds validates every check's needs: ids that exist, no check that
// needs itself or takes part in a cycle, and no need on a check that may
// be left out (by when:) where the needing check runs, since a blocked
// check would then wait on one that never runs.
func checkNeeds(e *errs, checks []*Check) {
	byID := map[string]*Check{}
	var ids []string
	for _, c := range checks {
		if c.ID != "" && byID[c.ID] == nil {
			byID[c.ID] = c
			ids = append(ids, c.ID)
		}
	}
	for _, c := range checks {
		for i, id := range c.Needs {
			at := needNode(c, i)
			need := byID[id]
			switch {
			case need == nil:
				e.at(at, "needs: no check has the id %q%s", id, didYouMean(id, ids, strconv.Quote))
			case need == c:
				e.at(at, "needs: check %q cannot need itself", id)
			default:
				if why := narrowerWhen(need.When, c.When); why != "" {
					e.at(at, "needs: %q runs only %s, but %q runs %s: give both the same when:, or drop the need", id, why, c.ID, describeWhen(c.When))
				}
			}
		}
	}
	reportCycles(e, checks, byID)
}

func needNode(c *Check, i int) *yaml.Node {
	if c.needsNode != nil && c.needsNode.Kind == yaml.SequenceNode && i < len(c.needsNode.Content) {
		return c.needsNode.Content[i]
	}
	return c.needsNode
}

// narrowerWhen says how need's conditions leave it out where c's do not,
// or "" when need runs wherever c runs.
func narrowerWhen(need, c When) string {
	if len(need.OS) > 0 && (len(c.OS) == 0 || !subset(c.OS, need.OS)) {
		return "on " + strings.Join(need.OS, ", ")
	}
	if len(need.Distro) > 0 && (len(c.Distro) == 0 || !subset(c.Distro, need.Distro)) {
		return "on " + strings.Join(need.Distro, ", ")
	}
	for _, v := range need.Vars {
		if !slices.Contains(c.Vars, v) {
			return "when the variable " + v + " is set"
		}
	}
	return ""
}

func describeWhen(w When) string {
	var parts []string
	if len(w.OS) > 0 {
		parts = append(parts, "on "+strings.Join(w.OS, ", "))
	}
	if len(w.Distro) > 0 {
		parts = append(parts, "on "+strings.Join(w.Distro, ", "))
	}
	if len(w.Vars) > 0 {
		parts = append(parts, "when "+strings.Join(w.Vars, ", ")+" is set")
	}
	if len(parts) == 0 {
		return "everywhere"
	}
	return strings.Join(parts, " and ")
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// reportCycles finds each cycle of needs once and reports it at the need
// that closes it, naming the whole loop.
func reportCycles(e *errs, checks []*Check, byID map[string]*Check) {
	const (
		unseen = iota
		onPath
		finished
	)
	state := map[*Check]int{}
	var path []*Check
	var visit func(c *Check)
	visit = func(c *Check) {
		state[c] = onPath
		path = append(path, c)
		for i, id := range c.Needs {
			next := byID[id]
			if next == nil || next == c {
				continue
			}
			switch state[next] {
			case onPath:
				start := slices.Index(path, next)
				var loop []string
				for _, p := range path[start:] {
					loop = append(loop, p.ID)
				}
				loop = append(loop, next.ID)
				e.at(needNode(c, i), "needs: a cycle: %s; a check cannot depend on itself through others", strings.Join(loop, " -> "))
			case unseen:
				visit(next)
			}
		}
		path = path[:len(path)-1]
		state[c] = finished
	}
	for _, c := range checks {
		if state[c] == unseen {
			visit(c)
		}
	}
}
