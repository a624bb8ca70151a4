package remote

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/triage-dev/triage/diag"
)

// parseTriageYAML reads triage's own inventory format:
//
//	vars: {k: v}             # every host
//	playbooks: [standard]    # every host, unless the command line names some
//	hosts:
//	  web1: {address: 10.0.0.1, user: deploy, port: 2222, vars: {...}, playbooks: [...]}
//	  alice@10.2.3.4:        # a host written as for -H
//	groups:
//	  web: {hosts: [web1, web2], children: [dmz], vars: {...}, playbooks: [...]}
func parseTriageYAML(file string, root *yaml.Node) (*Inventory, error) {
	b := newBuilder(file)
	all := b.group("all")
	eachPair(b, root, func(k, v *yaml.Node) {
		switch k.Value {
		case "vars":
			b.vars(v, all.Vars, "vars")
		case "playbooks":
			all.Playbooks = b.list(v, "playbooks")
		case "hosts":
			switch v.Kind {
			case yaml.MappingNode:
				eachPair(b, v, func(hk, hv *yaml.Node) { b.triageHost(hk, hv) })
			case yaml.SequenceNode:
				for _, item := range v.Content {
					b.triageHost(item, nil)
				}
			default:
				b.errAt(v.Line, v.Column, "hosts: want a mapping of host names (or a list of them)")
			}
		case "groups":
			if v.Kind != yaml.MappingNode {
				b.errAt(v.Line, v.Column, "groups: want a mapping of group names")
				return
			}
			eachPair(b, v, func(gk, gv *yaml.Node) { b.triageGroup(gk, gv) })
		default:
			b.errAt(k.Line, k.Column, "unknown key %q; an inventory has vars, playbooks, hosts and groups", k.Value)
		}
	})
	return b.finish()
}

func (b *builder) triageHost(k, v *yaml.Node) {
	if k.Kind != yaml.ScalarNode || k.Value == "" {
		b.errAt(k.Line, k.Column, "a host is a name")
		return
	}
	for _, name := range b.expand(k) {
		h := b.host(name)
		if strings.ContainsAny(name, "@:") {
			sp, err := ParseSpec(name)
			if err != nil {
				b.errAt(k.Line, k.Column, "%v", err)
				continue
			}
			h.User, h.Address, h.Port = sp.User, sp.Host, sp.Port
		}
		if v == nil || v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.MappingNode {
			b.errAt(v.Line, v.Column, "host %s: want a mapping such as {address: 10.0.0.1, user: deploy}", name)
			continue
		}
		eachPair(b, v, func(hk, hv *yaml.Node) {
			switch hk.Value {
			case "address", "user", "port":
				if s, ok := b.scalar(hv, "host "+name+": "+hk.Value); ok {
					b.setHostVar(h, hk.Value, s, hv.Line, hv.Column)
				}
			case "vars":
				b.vars(hv, h.own, "host "+name+": vars")
			case "playbooks":
				h.ownBooks = b.list(hv, "host "+name+": playbooks")
			default:
				b.errAt(hk.Line, hk.Column, "host %s: unknown key %q; a host has address, user, port, vars and playbooks", name, hk.Value)
			}
		})
	}
}

func (b *builder) triageGroup(k, v *yaml.Node) {
	g := b.group(k.Value)
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return
	}
	if v.Kind != yaml.MappingNode {
		b.errAt(v.Line, v.Column, "group %s: want a mapping with hosts, children, vars and playbooks", k.Value)
		return
	}
	eachPair(b, v, func(gk, gv *yaml.Node) {
		switch gk.Value {
		case "hosts":
			for _, item := range gv.Content {
				if gv.Kind == yaml.MappingNode {
					// hosts: {web1: {...}} inside a group defines them too.
					continue
				}
				for _, name := range b.expand(item) {
					b.host(name)
					g.Hosts = appendNew(g.Hosts, name)
				}
			}
			if gv.Kind == yaml.MappingNode {
				eachPair(b, gv, func(hk, hv *yaml.Node) {
					b.triageHost(hk, hv)
					g.Hosts = appendNew(g.Hosts, b.expand(hk)...)
				})
			} else if gv.Kind != yaml.SequenceNode {
				b.errAt(gv.Line, gv.Column, "group %s: hosts: want a list of host names", k.Value)
			}
		case "children":
			g.Children = appendNew(g.Children, b.list(gv, "group "+k.Value+": children")...)
		case "vars":
			b.vars(gv, g.Vars, "group "+k.Value+": vars")
		case "playbooks":
			g.Playbooks = b.list(gv, "group "+k.Value+": playbooks")
		default:
			b.errAt(gk.Line, gk.Column, "group %s: unknown key %q; a group has hosts, children, vars and playbooks", k.Value, gk.Value)
		}
	})
}

// parseAnsibleYAML reads Ansible's YAML inventory: groups at the top, each
// with hosts (a mapping of names to their variables), vars and children.
func parseAnsibleYAML(file string, root *yaml.Node) (*Inventory, error) {
	b := newBuilder(file)
	eachPair(b, root, func(k, v *yaml.Node) { b.ansibleGroup(k.Value, v) })
	return b.finish()
}

func (b *builder) ansibleGroup(name string, v *yaml.Node) {
	g := b.group(name)
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return
	}
	if v.Kind != yaml.MappingNode {
		b.errAt(v.Line, v.Column, "group %s: want a mapping with hosts, vars and children", name)
		return
	}
	eachPair(b, v, func(k, val *yaml.Node) {
		switch k.Value {
		case "hosts":
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				return
			}
			if val.Kind != yaml.MappingNode {
				b.errAt(val.Line, val.Column, "group %s: hosts: want a mapping of host names to their variables", name)
				return
			}
			eachPair(b, val, func(hk, hv *yaml.Node) {
				for _, hn := range b.expand(hk) {
					h := b.host(hn)
					g.Hosts = appendNew(g.Hosts, hn)
					if hv.Kind == yaml.MappingNode {
						eachPair(b, hv, func(vk, vv *yaml.Node) {
							if s, ok := scalarValue(vv); ok {
								b.setHostVar(h, vk.Value, s, vv.Line, vv.Column)
							}
						})
					} else if !(hv.Kind == yaml.ScalarNode && hv.Tag == "!!null") {
						b.errAt(hv.Line, hv.Column, "host %s: want a mapping of variables", hn)
					}
				}
			})
		case "vars":
			b.vars(val, g.Vars, "group "+name+": vars")
		case "children":
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				return
			}
			if val.Kind != yaml.MappingNode {
				b.errAt(val.Line, val.Column, "group %s: children: want a mapping of groups", name)
				return
			}
			eachPair(b, val, func(ck, cv *yaml.Node) {
				g.Children = appendNew(g.Children, ck.Value)
				b.ansibleGroup(ck.Value, cv)
			})
		default:
			b.errAt(k.Line, k.Column, "group %s: unknown key %q; an Ansible group has hosts, vars and children", name, k.Value)
		}
	})
}

func eachPair(b *builder, m *yaml.Node, fn func(k, v *yaml.Node)) {
	if m.Kind != yaml.MappingNode {
		b.errAt(m.Line, m.Column, "want a mapping")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if line, dup := seen[k.Value]; dup {
			b.errAt(k.Line, k.Column, "%q given twice (first at line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, v)
	}
}

// vars reads a mapping of variables; values that are not single values
// (Ansible inventories have lists and mappings) cannot be ${used} and are
// left out.
func (b *builder) vars(n *yaml.Node, into map[string]string, what string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		b.errAt(n.Line, n.Column, "%s: want a mapping of names to values", what)
		return
	}
	eachPair(b, n, func(k, v *yaml.Node) {
		if s, ok := scalarValue(v); ok {
			into[k.Value] = s
		}
	})
}

func scalarValue(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

func (b *builder) scalar(n *yaml.Node, what string) (string, bool) {
	s, ok := scalarValue(n)
	if !ok {
		b.errAt(n.Line, n.Column, "%s: want a single value", what)
	}
	return s, ok
}

func (b *builder) list(n *yaml.Node, what string) []string {
	if s, ok := scalarValue(n); ok {
		return []string{s}
	}
	if n.Kind != yaml.SequenceNode {
		b.errAt(n.Line, n.Column, "%s: want a list", what)
		return nil
	}
	var out []string
	for _, item := range n.Content {
		if s, ok := b.scalar(item, what); ok {
			out = append(out, s)
		}
	}
	return out
}

func (b *builder) expand(n *yaml.Node) []string {
	names, err := expandHostRange(n.Value)
	if err != nil {
		b.errAt(n.Line, n.Column, "%v", err)
		return nil
	}
	return names
}

// hostRangeRe matches Ansible's host ranges: web[01:20].example.com,
// db-[a:f], with an optional stride: [0:10:2].
var hostRangeRe = diag.LazyRegexp(`\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::([0-9]+))?\]`)

// maxRangeHosts bounds what one pattern may expand to, so a typo such as
// [1:9999999] is an error rather than a machine out of memory.
const maxRangeHosts = 100000

func expandHostRange(s string) ([]string, error) {
	loc := hostRangeRe().FindStringSubmatchIndex(s)
	if loc == nil {
		return []string{s}, nil
	}
	from, to := s[loc[2]:loc[3]], s[loc[4]:loc[5]]
	stride := 1
	if loc[6] >= 0 {
		stride, _ = strconv.Atoi(s[loc[6]:loc[7]])
		if stride < 1 {
			return nil, fmt.Errorf("host range %q: the step must be at least 1", s)
		}
	}
	prefix, rest := s[:loc[0]], s[loc[1]:]
	tails, err := expandHostRange(rest)
	if err != nil {
		return nil, err
	}
	var items []string
	if a, err1 := strconv.Atoi(from); err1 == nil {
		b, err2 := strconv.Atoi(to)
		if err2 != nil || b < a {
			return nil, fmt.Errorf("host range %q: want [low:high] with low <= high", s)
		}
		if (b-a)/stride+1 > maxRangeHosts {
			return nil, fmt.Errorf("host range %q: more than %d hosts", s, maxRangeHosts)
		}
		width := 0
		if len(from) > 1 && from[0] == '0' {
			width = len(from) // zero-padded: [01:10]
		}
		for i := a; i <= b; i += stride {
			items = append(items, fmt.Sprintf("%0*d", width, i))
		}
	} else if len(from) == 1 && len(to) == 1 && from <= to {
		for c := from[0]; c <= to[0]; c += byte(stride) {
			items = append(items, string(c))
			if int(c)+stride > 255 {
				break
			}
		}
	} else {
		return nil, fmt.Errorf("host range %q: want numbers [01:20] or single letters [a:f]", s)
	}
	if len(items)*len(tails) > maxRangeHosts {
		return nil, fmt.Errorf("host range %q: more than %d hosts", s, maxRangeHosts)
	}
	var out []string
	for _, it := range items {
		for _, t := range tails {
			out = append(out, prefix+it+t)
		}
	}
	return out, nil
}

// parseINI reads Ansible's INI inventory:
//
//	host0 ansible_host=10.0.0.5
//	[web]
//	web[01:03].example.com ansible_user=deploy
//	[web:vars]
//	http_port=8080
//	[prod:children]
//	web
func parseINI(file string, data []byte) (*Inventory, error) {
	b := newBuilder(file)
	b.group("all")
	section, kind := "ungrouped", "hosts"
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		n := i + 1
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				b.errAt(n, 1, "section header has no closing ]")
				continue
			}
			head := line[1:end]
			section, kind = head, "hosts"
			if g, k, ok := strings.Cut(head, ":"); ok {
				section, kind = g, k
				if kind != "vars" && kind != "children" {
					b.errAt(n, 3+len(g), "unknown section kind %q: use [%s], [%s:vars] or [%s:children]", kind, g, g, g)
					continue
				}
			}
			if section == "" {
				b.errAt(n, 2, "empty group name")
				continue
			}
			b.group(section)
			continue
		}
		g := b.group(section)
		switch kind {
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				b.errAt(n, 1, "[%s:vars]: want name=value, got %q", section, line)
				continue
			}
			g.Vars[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
		case "children":
			g.Children = appendNew(g.Children, strings.Fields(line)[0])
		default:
			words, err := splitINIWords(line)
			if err != nil {
				b.errAt(n, 1, "%v", err)
				continue
			}
			names, err := expandHostRange(words[0])
			if err != nil {
				b.errAt(n, 1, "%v", err)
				continue
			}
			for _, name := range names {
				h := b.host(name)
				g.Hosts = appendNew(g.Hosts, name)
				for _, w := range words[1:] {
					k, v, ok := strings.Cut(w, "=")
					if !ok {
						b.errAt(n, strings.Index(raw, w)+1, "host %s: want name=value, got %q", name, w)
						continue
					}
					b.setHostVar(h, k, unquote(v), n, strings.Index(raw, w)+1)
				}
			}
		}
	}
	if u, ok := b.inv.Groups["ungrouped"]; ok && len(u.Hosts) == 0 && len(u.Vars) == 0 {
		delete(b.inv.Groups, "ungrouped")
	}
	return b.finish()
}

// splitINIWords splits a host line on spaces, keeping quoted values whole.
func splitINIWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			cur.WriteByte(c)
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
			cur.WriteByte(c)
		case c == ' ' || c == '\t':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
		case c == '#' && cur.Len() == 0:
			i = len(line) // a comment to the end of the line
		default:
			cur.WriteByte(c)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote", quote)
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
