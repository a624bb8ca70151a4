package diag

import (
	"fmt"
	"strings"
)

// A check can depend on another in two ways.
//
// Explicitly, with needs: in a playbook: the runner does not run a check
// whose needed check ended fail or error (after severity), or was itself
// blocked, and reports it as blocked by that check's root. This is how
// the built-in playbooks lay the network out in layers (link, gateway,
// DNS servers, names, internet, TLS, web), so that one fault has one root.
//
// Implicitly, through a Prerequisite: a kind that could not check because
// of something another check of the same run examines (a name that does
// not resolve, a proxy that does not answer, a clock that is wrong) says
// so in Result.Upstream, and Attribute turns it into a consequence of the
// check that examines that thing, if that check found it broken.
//
// A blocked result has status skip and BlockedBy set: it never raises a
// verdict or an exit code; the cause does.

// Prerequisite names something a check relied on.
type Prerequisite struct {
	// What is one of the Prereq* constants.
	What string
	// Subject narrows it down: the name that did not resolve, the proxy's
	// address. Empty matches any check that examines What.
	Subject string
}

// The things a check may rely on, and that other checks examine.
const (
	PrereqLink      = "link"       // a connected interface with an address
	PrereqGateway   = "gateway"    // the default gateway answers
	PrereqDNSServer = "dns-server" // the configured DNS servers answer
	PrereqName      = "name"       // a name resolves (Subject: the name)
	PrereqProxy     = "proxy"      // the configured proxy accepts connections
	PrereqClock     = "clock"      // the clock is right (TLS validity)
)

// NeedName is the prerequisite of a check that could not resolve name.
func NeedName(name string) *Prerequisite {
	return &Prerequisite{What: PrereqName, Subject: normalizeName(name)}
}

// WithUpstream returns r marked as a consequence of p, should another
// check of the run find p broken.
func (r Result) WithUpstream(p *Prerequisite) Result {
	r.Upstream = p
	return r
}

func normalizeName(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// examines lists what a finished result looked at, through its kind's
// Examines function.
func examines(r Result) []Prerequisite {
	k, ok := LookupKind(r.Kind)
	if !ok || k.Examines == nil {
		return nil
	}
	return k.Examines(r)
}

// upstreamKind reports whether a kind examines prerequisites of p's sort,
// judged from its Examines on an empty result: a blocked check has no
// observed values to say more.
func upstreamKind(kind string, p Prerequisite) bool {
	for _, e := range examines(Result{Kind: kind, Status: Fail}) {
		if e.What == p.What {
			return true
		}
	}
	return false
}

func (p Prerequisite) matches(q Prerequisite) bool {
	if p.What != q.What {
		return false
	}
	return p.Subject == "" || q.Subject == "" || normalizeName(p.Subject) == normalizeName(q.Subject)
}

// broken reports whether a result found a problem that can explain another
// check's trouble: it ran and did not pass.
func broken(r Result) bool {
	return r.BlockedBy == "" && (r.Status == Fail || r.Status == Error || r.Status == Warn)
}

// blocks reports whether a needed check's result stops its dependants from
// running: it failed, could not check, or was blocked itself.
func blocks(r Result) bool {
	return r.BlockedBy != "" || r.Status == Fail || r.Status == Error
}

// Block returns the result of a check that was not run (or whose outcome
// is put down to another check) because root, the check at the bottom of
// the chain, found a problem. what is the original outcome, kept as
// evidence when the check did run.
func Block(c Check, root Result, what *Result) Result {
	res := Result{
		Status:    Skip,
		BlockedBy: root.ID,
		Message:   fmt.Sprintf("not checked: %s %s", root.Title, failedWord(root.Status)),
		Hint:      "fix the problem found by " + quoteTitle(root) + " first; this check depends on it",
	}
	if what != nil {
		res.Message = fmt.Sprintf("a consequence of %s: %s", quoteTitle(root), what.Message)
		res.Observed = what.Observed
		res.Evidence = what.Evidence
		res.Duration = what.Duration
		res.Upstream = what.Upstream
	}
	return res
}

func quoteTitle(r Result) string {
	if r.Title != "" {
		return r.Title
	}
	return r.ID
}

func failedWord(s Status) string {
	switch s {
	case Fail:
		return "failed"
	case Error:
		return "could not be checked"
	case Warn:
		return "found a problem"
	}
	return "did not pass"
}

// Attribute applies implicit links after a run: a result that did not pass
// and names an Upstream prerequisite becomes a consequence of the first
// other result that examines that prerequisite and found it broken. Checks
// blocked by a result that is itself attributed are re-pointed at the new
// root, so that BlockedBy always names the check where the chain starts.
// results are in the order of checks; both slices have the same length.
func Attribute(checks []Check, results []Result) {
	byKey := map[string]int{}
	for i, c := range checks {
		byKey[c.Group+"\x00"+c.ID] = i
	}
	for i := range results {
		r := results[i]
		if r.Upstream == nil || r.BlockedBy != "" || r.Status == Pass || r.Status == Skip {
			continue
		}
		root := -1
		for j := range results {
			if j == i {
				continue
			}
			switch {
			case broken(results[j]):
				for _, e := range examines(results[j]) {
					if e.matches(*r.Upstream) {
						root = j
						break
					}
				}
			case results[j].BlockedBy != "" && results[j].Kind != "" && upstreamKind(results[j].Kind, *r.Upstream):
				// The check that would have examined the prerequisite
				// was itself blocked: the trouble starts at its root.
				if k, ok := byKey[checks[j].Group+"\x00"+results[j].BlockedBy]; ok {
					root = k
				}
			}
			if root >= 0 {
				break
			}
		}
		if root < 0 {
			continue
		}
		orig := results[i]
		blocked := Block(checks[i], results[root], &orig)
		blocked.ID, blocked.Kind, blocked.Title, blocked.Severity = orig.ID, orig.Kind, orig.Title, orig.Severity
		blocked.Needs = orig.Needs
		results[i] = blocked
	}
	// Re-point chains at their roots. A chain is short (a playbook's
	// layers), and a cycle cannot occur: a root is never blocked.
	for i := range results {
		seen := 0
		for results[i].BlockedBy != "" && seen < len(results) {
			j, ok := byKey[checks[i].Group+"\x00"+results[i].BlockedBy]
			if !ok || results[j].BlockedBy == "" || j == i {
				break
			}
			results[i].BlockedBy = results[j].BlockedBy
			results[i].Message = blockedMessage(results[i].Message, results[j], results, byKey, checks[i].Group)
			seen++
		}
	}
}

// blockedMessage rewrites "not checked: X could not be checked" for a
// result whose root moved from X to X's own root.
func blockedMessage(msg string, via Result, results []Result, byKey map[string]int, group string) string {
	if !strings.HasPrefix(msg, "not checked: ") {
		return msg
	}
	j, ok := byKey[group+"\x00"+via.BlockedBy]
	if !ok {
		return msg
	}
	root := results[j]
	return fmt.Sprintf("not checked: %s %s", quoteTitle(root), failedWord(root.Status))
}
