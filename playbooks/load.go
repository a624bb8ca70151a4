package playbooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/triage-dev/triage/diag"
)

// Playbook is a loaded, validated playbook.
type Playbook struct {
	Name        string
	Description string
	// Source says where the playbook came from: "builtin:NAME" or a path.
	Source string
	// SHA256 is the hex digest of the playbook's bytes, so a report says
	// exactly which playbook produced it.
	SHA256 string
	// Vars are the playbook's variables after --var overrides, resolved.
	Vars map[string]string
	// Redact lists extra secret patterns (RE2) to remove from this run's
	// evidence and collected files, besides the built-in ones.
	Redact []string
	Checks []*Check

	overrides map[string]string // --var values, which beat a host's own
}

// Check is one check of a playbook, validated but not yet bound to a target.
type Check struct {
	ID       string
	Title    string
	Kind     string
	Hint     string
	Severity diag.Severity
	Timeout  time.Duration
	Tags     []string
	// Limits are thresholds on observed values, in the Monitoring Plugins'
	// range notation: thresholds: {used_percent: {warn: 80, crit: 90}}.
	Limits map[string]diag.Limits
	When   When
	// Needs are the ids of checks of the same playbook that must not fail
	// for this one to run: a failed one blocks it (see diag.Block).
	Needs []string

	needsNode *yaml.Node
	file      string
	kindKey   *yaml.Node
	params    *yaml.Node
	checker   diag.Checker // decoded at load time when nothing waits on host facts
	deferred  bool
	// textDeferred is set when the title or hint mentions a host fact: they
	// are expanded when the check is planned for a target.
	textDeferred bool
	// rawTitle and rawHint are as written, for expanding per host.
	rawTitle, rawHint string
	// usesVars is set when the check mentions any variable, so that a
	// host's own variables mean decoding it again for that host.
	usesVars bool
	// unsetVar names the first variable of when.vars that is empty once
	// the playbook is loaded: Plan skips the check unless a host sets the
	// variable, and until then the values that mention it are not held
	// to the kind's rules.
	unsetVar string
}

// When limits a check to some platforms, or to runs that set some
// variables; an empty list matches all.
type When struct {
	OS     []string // GOOS names: linux, darwin, windows...
	Distro []string // os-release IDs: debian, ubuntu, rhel...
	// Vars must be set to something other than the empty string: an
	// optional setting, such as the name of an organisation's intranet,
	// that a playbook cannot guess.
	Vars []string
}

// Options adjust loading.
type Options struct {
	// Vars override the playbook's vars (from --var), and may define new ones.
	Vars map[string]string
	// HostVars names variables that hosts define for themselves (inventory
	// variables). A reference to one is not an error when the playbook is
	// loaded; PlanHost fills it in for each host.
	HostVars []string
}

var syntaxLineRe = diag.LazyRegexp(`^line (\d+): (.*)$`)

var idRe = diag.LazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// knownOS lists the os values accepted in when:, with macos as an alias.
var knownOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "linux", "netbsd", "openbsd", "solaris", "windows"}

var checkKeys = []string{"id", "title", "hint", "severity", "timeout", "tags", "when", "needs", "thresholds"}

// LoadFile reads and loads the playbook at path.
func LoadFile(path string, opts Options) (*Playbook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ReadError{Path: path, Err: err}
	}
	return Load(path, path, data, opts)
}

// ReadError means a playbook file could not be read at all.
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("cannot read playbook %s: %v", e.Path, unwrapPathError(e.Err))
}
func (e *ReadError) Unwrap() error { return e.Err }

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Load parses and validates a playbook. file names it in error messages;
// source is recorded in reports. Every mistake is returned at once, as an
// ErrorList.
func Load(file, source string, data []byte, opts Options) (*Playbook, error) {
	e := &errs{file: file}
	sum := sha256.Sum256(data)
	pb := &Playbook{Source: source, SHA256: hex.EncodeToString(sum[:])}

	var doc yaml.Node
	// Editors on Windows like to start files with a byte-order mark.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, ErrorList{syntaxError(file, err)}
	}
	// A second document (after ---) would otherwise be ignored in silence,
	// and its checks with it.
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && err != io.EOF {
		return nil, ErrorList{syntaxError(file, err)}
	} else if err == nil && len(next.Content) > 0 && !isNull(next.Content[0]) {
		e.at(next.Content[0], "the file holds more than one YAML document (separated by ---): a playbook is one document; merge them or split them into two files")
		return nil, e.err()
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, ErrorList{{File: file, Msg: "playbook is empty: it needs at least a checks: list (see triage playbook show standard)"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		e.at(root, "a playbook is a mapping with name, description, vars and checks; got %s", describe(root))
		return nil, e.err()
	}

	var checksNode *yaml.Node
	var varsNode *yaml.Node
	misspeltChecks := false
	forEachPair(e, root, "playbook", func(key, val *yaml.Node) {
		switch key.Value {
		case "name":
			pb.Name = scalarString(e, "name", val)
		case "description":
			pb.Description = scalarString(e, "description", val)
		case "vars":
			varsNode = val
		case "checks":
			checksNode = val
		case "redact":
			pb.Redact = loadRedact(e, val)
		default:
			topKeys := []string{"name", "description", "vars", "redact", "checks"}
			misspeltChecks = misspeltChecks || suggest(key.Value, topKeys) == "checks"
			e.at(key, "unknown key %q%s; a playbook has name, description, vars, redact and checks", key.Value,
				didYouMean(key.Value, topKeys, strconv.Quote))
		}
	})

	pb.Vars = loadVars(e, varsNode, opts.Vars)
	pb.overrides = opts.Vars
	later := map[string]bool{}
	for _, name := range opts.HostVars {
		later[name] = true
	}
	sc := scope{vars: pb.Vars, later: later}
	if checksNode == nil {
		// A misspelt checks: key has been reported, with the right spelling.
		if !misspeltChecks {
			e.list = append(e.list, Error{File: file, Line: root.Line, Col: root.Column, Msg: "playbook has no checks: list"})
		}
		return nil, e.err()
	}
	if checksNode.Kind != yaml.SequenceNode {
		e.at(checksNode, "checks: want a list of checks, got %s", describe(checksNode))
		return nil, e.err()
	}
	ids := map[string]*yaml.Node{}
	for _, n := range checksNode.Content {
		c := loadCheck(e, file, n, sc)
		if c == nil {
			continue
		}
		if c.ID != "" {
			if prev, dup := ids[c.ID]; dup {
				e.at(idNode(n), "duplicate check id %q (first used at line %d)", c.ID, prev.Line)
			} else {
				ids[c.ID] = idNode(n)
			}
		}
		pb.Checks = append(pb.Checks, c)
	}
	if len(checksNode.Content) == 0 {
		e.at(checksNode, "checks: the list is empty")
	}
	checkNeeds(e, pb.Checks)
	if err := e.err(); err != nil {
		return nil, err
	}
	return pb, nil
}

func syntaxError(file string, err error) Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	// yaml.v3 reports syntax errors as "line N: message" without a column.
	if m := syntaxLineRe().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Error{File: file, Line: line, Msg: "YAML syntax error: " + m[2]}
	}
	return Error{File: file, Msg: "YAML syntax error: " + msg}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// forEachPair walks a mapping's key/value pairs, reporting keys that are
// not scalars and keys given twice.
func forEachPair(e *errs, m *yaml.Node, what string, fn func(key, val *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], m.Content[i+1]
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		if key.Kind != yaml.ScalarNode {
			e.at(key, "%s: keys must be plain words", what)
			continue
		}
		if line, dup := seen[key.Value]; dup {
			e.at(key, "%s: key %q given twice (first at line %d)", what, key.Value, line)
			continue
		}
		seen[key.Value] = key.Line
		fn(key, val)
	}
}

func scalarString(e *errs, name string, n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		e.at(n, "%s: want a string, got %s", name, describe(n))
		return ""
	}
	return n.Value
}

// loadVars reads vars:, applies overrides and resolves variables that
// refer to other variables.
func loadVars(e *errs, n *yaml.Node, overrides map[string]string) map[string]string {
	raw := map[string]string{}
	pos := map[string]*yaml.Node{}
	if n != nil && !isNull(n) {
		if n.Kind != yaml.MappingNode {
			e.at(n, "vars: want a mapping of names to values, got %s", describe(n))
		} else {
			forEachPair(e, n, "vars", func(key, val *yaml.Node) {
				if !varNameRe().MatchString(key.Value) {
					e.at(key, "vars: invalid variable name %q: use letters, digits and _, starting with a letter", key.Value)
					return
				}
				if val.Kind != yaml.ScalarNode {
					e.at(val, "vars.%s: want a single value, got %s", key.Value, describe(val))
					return
				}
				raw[key.Value], pos[key.Value] = val.Value, val
			})
		}
	}
	resolved := map[string]string{}
	for k, v := range overrides {
		resolved[k] = v // --var values are taken literally
	}
	// Resolve ${...} inside var values, in name order so errors are stable.
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	var resolve func(name string, stack []string) string
	resolve = func(name string, stack []string) string {
		if v, ok := resolved[name]; ok {
			return v
		}
		for _, s := range stack {
			if s == name {
				e.at(pos[name], "vars.%s: refers to itself through %s", name, strings.Join(append(stack, name), " -> "))
				resolved[name] = ""
				return ""
			}
		}
		val := raw[name]
		// No facts: a reference to one is deferred, which a variable cannot be.
		sub := scope{vars: map[string]string{}}
		for _, m := range refRe().FindAllStringSubmatch(val, -1) {
			ref := strings.TrimSpace(m[1])
			if _, ok := raw[ref]; ok {
				sub.vars[ref] = resolve(ref, append(stack, name))
			} else if v, ok := resolved[ref]; ok {
				sub.vars[ref] = v
			}
		}
		out, deferred, problems := sub.expand(val)
		if deferred {
			e.at(pos[name], "vars.%s: a variable cannot refer to host facts; use ${host.NAME} in the check itself", name)
		}
		for _, p := range problems {
			e.list = append(e.list, Error{File: e.file, Line: pos[name].Line, Col: column(pos[name], p.offset), Msg: "vars." + name + ": " + p.msg})
		}
		resolved[name] = out
		return out
	}
	for _, name := range names {
		resolve(name, nil)
	}
	return resolved
}

// loadRedact reads redact:, a list of regular expressions (RE2) for secrets
// the built-in redaction rules do not know, such as an in-house token format.
func loadRedact(e *errs, n *yaml.Node) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		e.at(n, "redact: want a list of regular expressions, such as [\"ACME-[0-9a-f]{32}\"], got %s", describe(n))
		return nil
	}
	var out []string
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			e.at(item, "redact: want a regular expression, got %s", describe(item))
			continue
		}
		re, err := regexp.Compile(item.Value)
		switch {
		case err != nil:
			e.at(item, "redact: invalid regular expression %q: %s", item.Value, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		case re.MatchString(""):
			e.at(item, "redact: %q matches empty text; it must match the secret itself", item.Value)
		default:
			out = append(out, item.Value)
		}
	}
	return out
}

func idNode(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		if v := valueNode(n, "id"); v != nil {
			return v
		}
	}
	return n
}

// loadCheck validates one entry of checks:.
func loadCheck(e *errs, file string, n *yaml.Node, sc scope) *Check {
	if n.Kind != yaml.MappingNode {
		e.at(n, "a check is a mapping with an id, a title and one check kind (such as tcp: or disk:); got %s", describe(n))
		return nil
	}
	c := &Check{file: file, Severity: diag.Critical}
	var kindKeys []*yaml.Node
	var kindVals []*yaml.Node
	unknownKey := false
	forEachPair(e, n, "check", func(key, val *yaml.Node) {
		switch key.Value {
		case "id":
			c.ID = scalarString(e, "id", val)
			if val.Kind == yaml.ScalarNode && !isNull(val) && !idRe().MatchString(c.ID) {
				e.at(val, "id %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", c.ID)
			}
		case "title":
			c.rawTitle = scalarString(e, "title", val)
			c.Title = expandText(e, c, val, sc, c.rawTitle)
		case "hint":
			c.rawHint = scalarString(e, "hint", val)
			c.Hint = expandText(e, c, val, sc, c.rawHint)
		case "severity":
			s, err := diag.ParseSeverity(scalarString(e, "severity", val))
			if err != nil && val.Kind == yaml.ScalarNode && !isNull(val) {
				e.at(val, "severity: %v", err)
			}
			if err == nil {
				c.Severity = s
			}
		case "timeout":
			var d diag.Duration
			if s := scalarString(e, "timeout", val); val.Kind == yaml.ScalarNode && !isNull(val) {
				if err := d.UnmarshalText([]byte(s)); err != nil {
					e.at(val, "timeout: %v", err)
				}
			}
			c.Timeout = d.D()
		case "tags":
			c.Tags = stringList(e, "tags", val)
		case "when":
			c.When = loadWhen(e, val, sc)
		case "thresholds":
			c.Limits = loadLimits(e, val)
		case "needs":
			c.Needs, c.needsNode = stringList(e, "needs", val), val
		default:
			if _, ok := diag.LookupKind(key.Value); ok {
				kindKeys, kindVals = append(kindKeys, key), append(kindVals, val)
				return
			}
			unknownKey = true
			e.at(key, "unknown key %q%s; a check has %s and one check kind: %s", key.Value,
				didYouMean(key.Value, append(diag.KindNames(), checkKeys...), strconv.Quote),
				strings.Join(checkKeys, ", "), strings.Join(diag.KindNames(), ", "))
		}
	})
	if c.ID == "" && valueNode(n, "id") == nil {
		e.at(n, "check has no id: add one such as \"id: %s-1\"", firstOr(kindKeys, "disk"))
	}
	switch len(kindKeys) {
	case 0:
		// An unknown key is most likely the kind, misspelt: that error
		// already says what to write.
		if !unknownKey {
			e.at(n, "check %s has no check kind: add one of %s", quoteOr(c.ID), strings.Join(diag.KindNames(), ", "))
		}
		return c
	case 1:
	default:
		e.at(kindKeys[1], "check %s has more than one check kind (%s and %s): split it into two checks", quoteOr(c.ID), kindKeys[0].Value, kindKeys[1].Value)
		return c
	}
	k, _ := diag.LookupKind(kindKeys[0].Value)
	c.Kind, c.kindKey, c.params = k.Name, kindKeys[0], kindVals[0]
	if c.Title == "" {
		c.Title = c.ID
	}
	c.usesVars = mentionsVars(c.params) || strings.Contains(c.rawTitle+c.rawHint, "${")
	c.unsetVar = c.When.unsetVar(sc.vars)
	d := &decoder{errs: e, scope: sc.waitingFor(c.When.Vars)}
	checker := d.decodeParams(k, c.kindKey, c.params)
	c.deferred = d.deferred
	if !c.deferred {
		c.checker = checker
	}
	return c
}

func firstOr(keys []*yaml.Node, def string) string {
	if len(keys) > 0 {
		return keys[0].Value
	}
	return def
}

func quoteOr(id string) string {
	if id == "" {
		return "(without id)"
	}
	return strconv.Quote(id)
}

func stringList(e *errs, name string, n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return []string{n.Value} // a single value is a list of one
	}
	if n.Kind != yaml.SequenceNode {
		e.at(n, "%s: want a list of words (such as [network, vpn]), got %s", name, describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			e.at(item, "%s: want a word, got %s", name, describe(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func loadWhen(e *errs, n *yaml.Node, sc scope) When {
	var w When
	if n.Kind != yaml.MappingNode {
		e.at(n, "when: want a mapping such as {os: [linux]}, got %s", describe(n))
		return w
	}
	forEachPair(e, n, "when", func(key, val *yaml.Node) {
		switch key.Value {
		case "os":
			for i, os := range stringList(e, "when.os", val) {
				os = strings.ToLower(os)
				if os == "macos" {
					os = "darwin"
				}
				if !contains(knownOS, os) {
					at := val
					if val.Kind == yaml.SequenceNode && i < len(val.Content) {
						at = val.Content[i]
					}
					e.at(at, "when.os: unknown operating system %q%s; use %s (or macos)", os,
						didYouMean(os, append(knownOS, "macos"), strconv.Quote), strings.Join(knownOS, ", "))
				}
				w.OS = append(w.OS, os)
			}
		case "distro":
			w.Distro = stringList(e, "when.distro", val)
		case "vars":
			w.Vars = loadWhenVars(e, val, sc)
		default:
			conds := []string{"os", "distro", "vars"}
			e.at(key, "when: unknown condition %q%s; use os, distro or vars", key.Value, didYouMean(key.Value, conds, strconv.Quote))
		}
	})
	return w
}

// loadWhenVars reads when.vars: variables the playbook defines (empty when
// the check should be skipped) or that hosts define for themselves.
func loadWhenVars(e *errs, val *yaml.Node, sc scope) []string {
	var out []string
	for i, name := range stringList(e, "when.vars", val) {
		if _, ok := sc.vars[name]; ok || sc.later[name] {
			out = append(out, name)
			continue
		}
		at := val
		if val.Kind == yaml.SequenceNode && i < len(val.Content) {
			at = val.Content[i]
		}
		known := make([]string, 0, len(sc.vars))
		for k := range sc.vars {
			known = append(known, k)
		}
		sort.Strings(known)
		e.at(at, "when.vars: undefined variable %q%s: define it under vars:, empty where the check is to be skipped", name, didYouMean(name, known, strconv.Quote))
	}
	return out
}

// waitingFor returns the scope in which the empty ones of names count as
// variables still to be set, as a host's own are: a value that mentions
// one is decoded only once it is set, so that an empty port is not
// reported as a bad number in a check that will be skipped.
func (sc scope) waitingFor(names []string) scope {
	var empty []string
	for _, n := range names {
		if strings.TrimSpace(sc.vars[n]) == "" {
			empty = append(empty, n)
		}
	}
	if len(empty) == 0 {
		return sc
	}
	out := scope{vars: map[string]string{}, facts: sc.facts, later: map[string]bool{}}
	for k, v := range sc.vars {
		out.vars[k] = v
	}
	for k := range sc.later {
		out.later[k] = true
	}
	for _, n := range empty {
		delete(out.vars, n)
		out.later[n] = true
	}
	return out
}

// unsetVar returns the first of w.Vars that is empty in vars, or "".
func (w When) unsetVar(vars map[string]string) string {
	for _, name := range w.Vars {
		if strings.TrimSpace(vars[name]) == "" {
			return name
		}
	}
	return ""
}

// expandText substitutes variables in a title or hint, so that "Ping
// ${gateway}" reads as the value. One that mentions a host fact is kept
// as written and expanded by Plan.
func expandText(e *errs, c *Check, n *yaml.Node, sc scope, text string) string {
	out, deferred, problems := sc.expand(text)
	for _, p := range problems {
		e.list = append(e.list, Error{File: e.file, Line: n.Line, Col: column(n, p.offset), Msg: p.msg})
	}
	if deferred {
		c.textDeferred = true
		return text
	}
	return out
}

// loadLimits reads a check's thresholds: a mapping of observed value names
// to {warn: RANGE, crit: RANGE}.
func loadLimits(e *errs, n *yaml.Node) map[string]diag.Limits {
	if n.Kind != yaml.MappingNode {
		e.at(n, "thresholds: want a mapping such as {used_percent: {warn: 80, crit: 90}}, got %s", describe(n))
		return nil
	}
	out := map[string]diag.Limits{}
	forEachPair(e, n, "thresholds", func(key, val *yaml.Node) {
		if val.Kind != yaml.MappingNode {
			e.at(val, "thresholds.%s: want {warn: RANGE, crit: RANGE}, got %s", key.Value, describe(val))
			return
		}
		var l diag.Limits
		before := len(e.list)
		forEachPair(e, val, "thresholds."+key.Value, func(k, v *yaml.Node) {
			if k.Value != "warn" && k.Value != "crit" {
				e.at(k, "thresholds.%s: unknown key %q%s; use warn and crit", key.Value, k.Value, didYouMean(k.Value, []string{"warn", "crit"}, strconv.Quote))
				return
			}
			s := scalarString(e, "thresholds."+key.Value+"."+k.Value, v)
			if s == "" {
				return
			}
			r, err := diag.ParseRange(s)
			if err != nil {
				e.at(v, "thresholds.%s.%s: %v", key.Value, k.Value, err)
				return
			}
			if k.Value == "warn" {
				l.Warn = &r
			} else {
				l.Crit = &r
			}
		})
		if l.Warn == nil && l.Crit == nil {
			if len(e.list) == before {
				e.at(val, "thresholds.%s: give warn, crit or both", key.Value)
			}
			return
		}
		out[key.Value] = l
	})
	return out
}
