package playbooks

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/triage-dev/triage/diag"
)

// Variables are written ${name} for a playbook variable and ${host.name}
// for a fact of the target; $${ stands for a literal "${".
var (
	refRe     = diag.LazyRegexp(`\$\$\{|\$\{([^}]*)\}|\$\{`)
	varNameRe = diag.LazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

const hostPrefix = "host."

// maxExpanded caps a value once its variables are substituted: a few
// lines of vars that each repeat the previous one ten times would
// otherwise expand to gigabytes.
const maxExpanded = 64 << 10

// scope is what ${...} can refer to. facts is nil while a playbook is
// validated, before any target is known: then ${host.*} references are
// checked by name and left for Plan to fill in.
type scope struct {
	vars  map[string]string
	facts map[string]string
	// later names variables each host defines for itself (inventory
	// variables): known to exist, filled in when a check is planned.
	later map[string]bool
}

// refProblem is a bad reference at an offset in a string.
type refProblem struct {
	offset int
	msg    string
}

// expand substitutes the references in s. deferred is true when s refers
// to a host fact and the facts are not known yet.
func (sc scope) expand(s string) (out string, deferred bool, problems []refProblem) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range refRe().FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		last = m[1]
		tok := s[m[0]:m[1]]
		switch {
		case tok == "$${":
			b.WriteString("${")
		case tok == "${":
			problems = append(problems, refProblem{m[0], "unclosed ${: end the variable name with }, or write $${ for a literal ${"})
		default:
			name := strings.TrimSpace(s[m[2]:m[3]])
			val, def, msg := sc.lookup(name)
			if msg != "" {
				problems = append(problems, refProblem{m[0], msg})
			}
			deferred = deferred || def
			if b.Len()+len(val) > maxExpanded {
				problems = append(problems, refProblem{m[0], fmt.Sprintf("the value grows longer than %s where ${%s} is substituted", diag.FormatBytes(maxExpanded), name)})
				return "", deferred, problems
			}
			b.WriteString(val)
		}
	}
	b.WriteString(s[last:])
	return b.String(), deferred, problems
}

func (sc scope) lookup(name string) (val string, deferred bool, problem string) {
	if fact, ok := strings.CutPrefix(name, hostPrefix); ok {
		names := diag.FactNames()
		if !contains(names, fact) {
			return "", false, fmt.Sprintf("unknown host fact ${%s}%s; facts are %s", name,
				didYouMean(fact, names, func(s string) string { return "${host." + s + "}" }),
				strings.Join(names, ", "))
		}
		if sc.facts == nil {
			return "", true, ""
		}
		return sc.facts[fact], false, ""
	}
	if !varNameRe().MatchString(name) {
		return "", false, fmt.Sprintf("invalid variable name ${%s}: use letters, digits and _", name)
	}
	if v, ok := sc.vars[name]; ok {
		return v, false, ""
	}
	if sc.later[name] {
		return "", true, ""
	}
	known := make([]string, 0, len(sc.vars))
	for k := range sc.vars {
		known = append(known, k)
	}
	sort.Strings(known)
	return "", false, fmt.Sprintf("undefined variable ${%s}%s: define it under vars: or pass --var %s=VALUE", name,
		didYouMean(name, known, func(s string) string { return "${" + s + "}" }), name)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// mentionsVars reports whether any scalar under n refers to a variable.
func mentionsVars(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		return strings.Contains(n.Value, "${")
	}
	for _, c := range n.Content {
		if mentionsVars(c) {
			return true
		}
	}
	return false
}
