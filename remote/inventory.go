package remote

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Inventory is the hosts of a sweep, with their groups, variables and
// playbooks. It is read from triage's own YAML format or from an Ansible
// inventory (INI or YAML).
type Inventory struct {
	Source string
	Hosts  []*InventoryHost // in the order the file names them
	Groups map[string]*Group
}

// InventoryHost is one host of an inventory.
type InventoryHost struct {
	// Name is the host's name in the inventory; reports use it.
	Name string
	// Address, User and Port say how to reach it; empty and 0 leave the
	// choice to ssh_config and the defaults, as for -H.
	Address string
	User    string
	Port    int
	// Groups lists every group the host is in, nested ones included.
	Groups []string
	// Vars are the host's variables: the groups' from the outermost to the
	// innermost, then the host's own.
	Vars map[string]string
	// Playbooks are those named for the host or its groups.
	Playbooks []string

	own      map[string]string // the host's own vars
	ownBooks []string
}

// Spec is the [user@]host[:port] to dial.
func (h *InventoryHost) Spec() string {
	addr := h.Address
	if addr == "" {
		addr = h.Name
	}
	s := addr
	if h.Port != 0 {
		if strings.Contains(addr, ":") {
			addr = "[" + addr + "]"
		}
		s = addr + ":" + strconv.Itoa(h.Port)
	}
	if h.User != "" {
		s = h.User + "@" + s
	}
	return s
}

// Group is a group of hosts.
type Group struct {
	Name      string
	Hosts     []string // direct members
	Children  []string
	Vars      map[string]string
	Playbooks []string
}

// InventoryError is one mistake in an inventory, at a position.
type InventoryError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e InventoryError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// InventoryErrors is every mistake found, one per line.
type InventoryErrors []InventoryError

func (l InventoryErrors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// LoadInventory reads an inventory file in any of the supported formats.
func LoadInventory(file string) (*Inventory, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read inventory %s: %w", file, unwrapPath(err))
	}
	return ParseInventory(file, data)
}

// ParseInventory reads an inventory: triage's YAML (a mapping with hosts:
// or groups: at the top), an Ansible YAML inventory (groups at the top,
// usually all:), or an Ansible INI inventory.
func ParseInventory(file string, data []byte) (*Inventory, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, InventoryErrors{{File: file, Msg: "inventory is empty: list some hosts (see docs/sweeps.md)"}}
	}
	var doc yaml.Node
	yerr := yaml.Unmarshal(data, &doc)
	isINI := strings.HasSuffix(file, ".ini") || strings.HasSuffix(file, ".cfg") || looksLikeINI(data)
	if isINI || yerr != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		if !isINI && yerr != nil && (strings.HasSuffix(file, ".yaml") || strings.HasSuffix(file, ".yml")) {
			return nil, InventoryErrors{{File: file, Msg: "YAML syntax error: " + strings.TrimPrefix(yerr.Error(), "yaml: ")}}
		}
		return parseINI(file, data)
	}
	root := doc.Content[0]
	if mappingHas(root, "hosts") || mappingHas(root, "groups") {
		return parseTriageYAML(file, root)
	}
	return parseAnsibleYAML(file, root)
}

// looksLikeINI is true when the first meaningful line is a [section] or a
// host with key=value pairs, which YAML would read as something else.
func looksLikeINI(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
			continue
		}
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			return true
		}
		return !strings.Contains(strings.SplitN(l, " ", 2)[0], ":") || strings.Contains(l, "=")
	}
	return false
}

func mappingHas(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// builder collects hosts and groups as a file is read, then resolves
// membership, variables and playbooks.
type builder struct {
	inv   *Inventory
	index map[string]*InventoryHost
	errs  InventoryErrors
	file  string
}

func newBuilder(file string) *builder {
	return &builder{inv: &Inventory{Source: file, Groups: map[string]*Group{}}, index: map[string]*InventoryHost{}, file: file}
}

func (b *builder) errAt(line, col int, format string, a ...any) {
	b.errs = append(b.errs, InventoryError{File: b.file, Line: line, Col: col, Msg: fmt.Sprintf(format, a...)})
}

func (b *builder) host(name string) *InventoryHost {
	if h, ok := b.index[name]; ok {
		return h
	}
	h := &InventoryHost{Name: name, own: map[string]string{}}
	if len(b.inv.Hosts) == maxRangeHosts {
		b.errAt(0, 0, "more than %d hosts: split the inventory", maxRangeHosts)
	}
	b.index[name] = h
	b.inv.Hosts = append(b.inv.Hosts, h)
	return h
}

func (b *builder) group(name string) *Group {
	if g, ok := b.inv.Groups[name]; ok {
		return g
	}
	g := &Group{Name: name, Vars: map[string]string{}}
	b.inv.Groups[name] = g
	return g
}

// setHostVar applies the connection variables of Ansible and triage, and
// keeps the rest as playbook variables.
func (b *builder) setHostVar(h *InventoryHost, key, val string, line, col int) {
	switch key {
	case "ansible_host", "ansible_ssh_host", "address":
		h.Address = val
	case "ansible_user", "ansible_ssh_user", "user":
		h.User = val
	case "ansible_port", "ansible_ssh_port", "port":
		p, err := parsePort(val)
		if err != nil {
			b.errAt(line, col, "host %s: %v", h.Name, err)
			return
		}
		h.Port = p
	default:
		h.own[key] = val
	}
}

// finish resolves nested groups, variables and playbooks, and checks
// what can only be checked once everything is read.
func (b *builder) finish() (*Inventory, error) {
	inv := b.inv
	// Membership through children, guarding against cycles.
	parents := map[string][]string{}
	for _, g := range inv.Groups {
		for _, c := range g.Children {
			if _, ok := inv.Groups[c]; !ok {
				b.errAt(0, 0, "group %s names child group %s, which is not defined", g.Name, c)
				continue
			}
			parents[c] = append(parents[c], g.Name)
		}
	}
	var ancestors func(g string, seen map[string]bool) []string
	ancestors = func(g string, seen map[string]bool) []string {
		if seen[g] {
			return nil
		}
		seen[g] = true
		var out []string
		for _, p := range parents[g] {
			out = append(out, ancestors(p, seen)...)
		}
		return append(out, g)
	}
	if cycle := groupCycle(inv.Groups); cycle != "" {
		b.errAt(0, 0, "groups contain each other: %s", cycle)
	}
	direct := map[string][]string{}
	for _, g := range inv.Groups {
		for _, h := range g.Hosts {
			direct[h] = append(direct[h], g.Name)
		}
	}
	for _, h := range inv.Hosts {
		// Outermost groups first, so inner groups' values win, as in Ansible.
		var chain []string
		seen := map[string]bool{}
		if _, ok := inv.Groups["all"]; ok {
			chain = append(chain, ancestors("all", seen)...)
		}
		groups := append([]string(nil), direct[h.Name]...)
		sort.Slice(groups, func(i, j int) bool { return depth(parents, groups[i]) < depth(parents, groups[j]) })
		for _, g := range groups {
			chain = append(chain, ancestors(g, seen)...)
		}
		h.Groups = nil
		h.Vars = map[string]string{}
		for _, g := range chain {
			grp := inv.Groups[g]
			if g != "all" {
				h.Groups = append(h.Groups, g)
			}
			for k, v := range grp.Vars {
				b.applyGroupVar(h, k, v)
			}
			h.Playbooks = appendNew(h.Playbooks, grp.Playbooks...)
		}
		for k, v := range h.own {
			h.Vars[k] = v
		}
		h.Playbooks = appendNew(h.Playbooks, h.ownBooks...)
		if _, err := ParseSpec(h.Spec()); err != nil {
			b.errAt(0, 0, "host %s: %v", h.Name, err)
		}
	}
	if len(inv.Hosts) == 0 && len(b.errs) == 0 {
		b.errAt(0, 0, "inventory has no hosts")
	}
	if len(b.errs) > 0 {
		sort.SliceStable(b.errs, func(i, j int) bool { return b.errs[i].Line < b.errs[j].Line })
		return nil, b.errs
	}
	return inv, nil
}

// applyGroupVar applies a group's connection variables unless the host set
// its own, and keeps the others as playbook variables.
func (b *builder) applyGroupVar(h *InventoryHost, k, v string) {
	switch k {
	case "ansible_user", "ansible_ssh_user", "user":
		if h.User == "" {
			h.User = v
		}
	case "ansible_port", "ansible_ssh_port", "port":
		if p, err := parsePort(v); err == nil && h.Port == 0 {
			h.Port = p
		}
	case "ansible_host", "ansible_ssh_host", "address":
		// An address belongs to one host, never to a group.
	default:
		h.Vars[k] = v
	}
}

func depth(parents map[string][]string, g string) int {
	d, seen := 0, map[string]bool{}
	for cur := []string{g}; len(cur) > 0 && d < 100; d++ {
		var next []string
		for _, c := range cur {
			if !seen[c] {
				seen[c] = true
				next = append(next, parents[c]...)
			}
		}
		cur = next
	}
	return d
}

func groupCycle(groups map[string]*Group) string {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var found string
	var visit func(g string)
	visit = func(g string) {
		if found != "" {
			return
		}
		switch state[g] {
		case active:
			i := len(stack) - 1
			for i > 0 && stack[i] != g {
				i--
			}
			found = strings.Join(append(append([]string(nil), stack[i:]...), g), " -> ")
			return
		case done:
			return
		}
		state[g] = active
		stack = append(stack, g)
		if grp, ok := groups[g]; ok {
			for _, c := range grp.Children {
				visit(c)
			}
		}
		stack = stack[:len(stack)-1]
		state[g] = done
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		visit(n)
	}
	return found
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		dup := false
		for _, l := range list {
			if l == it {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, it)
		}
	}
	return list
}

// Select keeps the hosts matching --limit patterns: host or group names
// or globs, separated by commas or colons; a pattern starting with ! takes
// hosts away, one starting with & keeps only hosts also matching it.
func (inv *Inventory) Select(limit string) ([]*InventoryHost, error) {
	if strings.TrimSpace(limit) == "" {
		return inv.Hosts, nil
	}
	var include, exclude, require []string
	for _, p := range strings.FieldsFunc(limit, func(r rune) bool { return r == ',' || r == ':' }) {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case strings.HasPrefix(p, "!"):
			exclude = append(exclude, p[1:])
		case strings.HasPrefix(p, "&"):
			require = append(require, p[1:])
		default:
			include = append(include, p)
		}
	}
	for _, p := range append(append(append([]string(nil), include...), exclude...), require...) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--limit %q: bad pattern", p)
		}
	}
	matches := func(h *InventoryHost, p string) bool {
		if ok, _ := path.Match(p, h.Name); ok || p == "all" {
			return true
		}
		for _, g := range h.Groups {
			if ok, _ := path.Match(p, g); ok {
				return true
			}
		}
		return false
	}
	var out []*InventoryHost
	for _, h := range inv.Hosts {
		in := len(include) == 0
		for _, p := range include {
			in = in || matches(h, p)
		}
		for _, p := range exclude {
			in = in && !matches(h, p)
		}
		for _, p := range require {
			in = in && matches(h, p)
		}
		if in {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--limit %q matches no host", limit)
	}
	return out, nil
}
