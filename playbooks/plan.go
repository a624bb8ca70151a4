package playbooks

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/triage-dev/triage/diag"
)

// Selection picks checks by tag or id (--tags, --only). Empty selects all.
type Selection struct {
	Tags []string // a check is selected if it has any of these tags
	Only []string // a check is selected if its id is one of these
}

func (s Selection) selects(c *Check) bool {
	if len(s.Only) > 0 && !slices.Contains(s.Only, c.ID) {
		return false
	}
	if len(s.Tags) > 0 && !slices.ContainsFunc(c.Tags, func(t string) bool { return slices.Contains(s.Tags, t) }) {
		return false
	}
	return true
}

// Check reports a selection that names ids or tags none of the playbooks
// has: a typo in --only would otherwise run nothing and pass.
func (s Selection) Check(pbs []*Playbook) error {
	ids, tags := map[string]bool{}, map[string]bool{}
	for _, pb := range pbs {
		for _, c := range pb.Checks {
			ids[c.ID] = true
			for _, t := range c.Tags {
				tags[t] = true
			}
		}
	}
	var problems []string
	for _, id := range s.Only {
		if !ids[id] {
			problems = append(problems, fmt.Sprintf("--only %s: no check has that id%s", id, didYouMean(id, keys(ids), func(s string) string { return s })))
		}
	}
	for _, t := range s.Tags {
		if !tags[t] {
			known := keys(tags)
			list := "no check has tags"
			if len(known) > 0 {
				list = "tags are " + strings.Join(known, ", ")
			}
			problems = append(problems, fmt.Sprintf("--tags %s: no check has that tag; %s", t, list))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Plan binds the playbook's selected checks to a target with the given
// facts. Checks whose when: does not match the target are kept and report
// skip with the reason, so a report shows what was not looked at.
func (pb *Playbook) Plan(facts diag.Facts, sel Selection) []diag.Check {
	return pb.PlanHost(facts, nil, sel)
}

// PlanHost is Plan for a host with variables of its own (from an
// inventory). They rank above the playbook's vars and below --var.
func (pb *Playbook) PlanHost(facts diag.Facts, hostVars map[string]string, sel Selection) []diag.Check {
	vars := pb.Vars
	if len(hostVars) > 0 {
		vars = make(map[string]string, len(pb.Vars)+len(hostVars))
		for k, v := range pb.Vars {
			vars[k] = v
		}
		for k, v := range hostVars {
			if _, fromFlag := pb.overrides[k]; !fromFlag {
				vars[k] = v
			}
		}
	}
	var out []diag.Check
	for _, c := range pb.Checks {
		if !sel.selects(c) {
			continue
		}
		dc := diag.Check{ID: c.ID, Kind: c.Kind, Title: c.Title, Hint: c.Hint, Severity: c.Severity, Timeout: c.Timeout, Limits: c.Limits,
			Needs: c.Needs, Group: pb.Source}
		perHost := len(hostVars) > 0 && c.usesVars
		if c.textDeferred || perHost {
			sc := scope{vars: vars, facts: facts.Vars()}
			if c.rawTitle != "" {
				dc.Title, _, _ = sc.expand(c.rawTitle)
			}
			dc.Hint, _, _ = sc.expand(c.rawHint)
		}
		switch unset := c.When.unsetVar(vars); {
		case !c.When.matches(facts):
			skip := diag.Resultf(diag.Skip, "%s", c.When.skipReason(facts))
			skip.OtherPlatform = true
			dc.Checker = diag.Fixed(skip)
		case unset != "":
			dc.Checker = diag.Fixed(diag.Resultf(diag.Skip, "not set up: the variable %s is empty", unset).
				WithHint("set it in the playbook's vars: or with --var %s=VALUE to run this check", unset))
		case c.deferred || perHost || c.unsetVar != "":
			dc.Checker = c.bind(vars, facts)
		default:
			dc.Checker = c.checker
		}
		out = append(out, dc)
	}
	return out
}

// bind decodes the parameters of a check that refers to host facts, now
// that they are known. A value that turns out bad for this host is the
// check's error, not the whole run's.
func (c *Check) bind(vars map[string]string, facts diag.Facts) diag.Checker {
	k, _ := diag.LookupKind(c.Kind)
	e := &errs{file: c.file}
	d := &decoder{errs: e, scope: scope{vars: vars, facts: facts.Vars()}}
	checker := d.decodeParams(k, c.kindKey, c.params)
	if err := e.err(); err != nil {
		if missing := emptyFacts(c.params, facts.Vars()); len(missing) > 0 {
			return diag.Fixed(missingFact(missing[0], err))
		}
		return diag.Fixed(diag.Resultf(diag.Error, "parameters are invalid for this host: %v", err).
			WithHint("a value from this host's facts (${host.*}) or its inventory variables does not fit this check; look at the host's facts in the report and its variables in the inventory"))
	}
	return checker
}

// emptyFacts lists the host facts that the parameters under n refer to
// and that are empty on this host, in the order they are written. (A
// playbook variable cannot refer to a fact, so only the check's own
// values are looked at.)
func emptyFacts(n *yaml.Node, facts map[string]string) []string {
	var out []string
	var visit func(*yaml.Node)
	visit = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.ScalarNode {
			for _, m := range refRe().FindAllStringSubmatch(n.Value, -1) {
				fact, ok := strings.CutPrefix(strings.TrimSpace(m[1]), hostPrefix)
				if v, known := facts[fact]; ok && known && v == "" && !slices.Contains(out, fact) {
					out = append(out, fact)
				}
			}
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(n)
	return out
}

// missingFact is the result of a check that cannot run on this host
// because a fact it is given is empty: a finding about the host (no
// default gateway means no route out), not a mistake in the playbook.
func missingFact(fact string, err error) diag.Result {
	var r diag.Result
	switch fact {
	case "gateway":
		r = diag.Resultf(diag.Fail, "this host has no default gateway (the fact host.gateway is empty)").
			WithHint("no route leads beyond the local network: the machine is not connected, or the network (DHCP, VPN) gave it no router; reconnect, then look at the routing table (ip route on Linux, route print on Windows, netstat -rn on macOS)")
	default:
		r = diag.Resultf(diag.Error, "this host does not report its %s (the fact host.%s is empty), which this check needs", strings.ReplaceAll(fact, "_", " "), fact).
			WithHint("triage could not learn this fact on this host: give the value in the inventory or with --var instead of ${host.%s}", fact)
	}
	r.Evidence = err.Error()
	return r
}

func (w When) matches(f diag.Facts) bool {
	if len(w.OS) > 0 && !slices.Contains(w.OS, f.OS) {
		return false
	}
	if len(w.Distro) > 0 && !slices.Contains(w.Distro, f.Distro) {
		return false
	}
	return true
}

func (w When) skipReason(f diag.Facts) string {
	if len(w.OS) > 0 && !slices.Contains(w.OS, f.OS) {
		return fmt.Sprintf("runs only on %s; this is %s", strings.Join(w.OS, ", "), orUnknown(f.OS))
	}
	return fmt.Sprintf("runs only on %s; this is %s", strings.Join(w.Distro, ", "), orUnknown(f.Distro))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
