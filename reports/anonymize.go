package reports

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// Anonymization replaces what identifies a machine or a person with
// tokens: host-1, ip-1, mac-1, user-1. The same name gets the same token
// everywhere in one report, so "host-2 cannot reach ip-3" still reads as a
// diagnosis. What counts as a name:
//
//   - host names: those of the targets (and their short form), the host
//     facts, and fully qualified names found in URLs, observed values
//     (host, server, address, url, dns answers) and user@host forms;
//   - IPv4 and IPv6 addresses, except loopback, unspecified, broadcast and
//     netmasks, which say nothing about a site;
//   - MAC addresses in any of the usual spellings;
//   - user names: those of the targets, URL credentials, home folders
//     (/home/NAME, /Users/NAME, C:\Users\NAME), user@host forms and the
//     owner of files. root is kept: it is the same everywhere.

var (
	anonURLRe   = diag.LazyRegexp(`\b[a-zA-Z][a-zA-Z0-9+.-]*://(?:([^\s:/?#@"'<>\[\]]*)(?::[^\s/?#@"'<>]*)?@)?([A-Za-z0-9.-]+)`)
	anonHomeRe  = diag.LazyRegexp(`(?:/home/|/Users/|[A-Za-z]:\\Users\\)([A-Za-z0-9._-]+)`)
	anonEmailRe = diag.LazyRegexp(`\b([A-Za-z0-9_][A-Za-z0-9_.-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b`)
	anonMACRe   = diag.LazyRegexp(`(?i)\b(?:[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})\b`)
	anonIPv6Re  = diag.LazyRegexp(`(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}`)
	anonIPv4Re  = diag.LazyRegexp(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	fqdnRe      = diag.LazyRegexp(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
)

// Users whose name identifies nobody.
var anonKeepUsers = map[string]bool{"root": true, "shared": true, "public": true, "default": true, "all users": true}

type anonymizer struct {
	hosts, users map[string]bool // known names, lower case
	hostRe       *regexp.Regexp
	userRe       *regexp.Regexp
	tokens       map[string]map[string]string // kind -> name -> token
	counts       map[string]int
}

func anonymize(r *Report) {
	a := &anonymizer{hosts: map[string]bool{}, users: map[string]bool{}, tokens: map[string]map[string]string{}, counts: map[string]int{}}
	a.learn(r)
	a.hostRe = alternation(a.hosts)
	a.userRe = alternation(a.users)
	mapTexts(r, a.text)
	if len(a.counts) > 0 {
		if r.Anonymized == nil {
			r.Anonymized = map[string]int{}
		}
		for k, v := range a.counts {
			r.Anonymized[k] += v
		}
	}
}

// learn collects the host and user names to replace.
func (a *anonymizer) learn(r *Report) {
	for _, h := range r.Hosts {
		user, host := splitTarget(h.Target)
		a.addUser(user)
		a.addHost(host, true)
		a.addHost(h.Facts.Hostname, true)
		for _, res := range h.Results {
			for _, key := range []string{"host", "hostname", "server", "address", "remote_addr"} {
				if s, ok := res.Observed[key].(string); ok {
					a.addHost(hostOfAddress(s), false)
				}
			}
			for _, key := range []string{"url", "final_url"} {
				if s, ok := res.Observed[key].(string); ok {
					a.learnText(s)
				}
			}
			if res.Kind == "dns" {
				if s, ok := res.Observed["name"].(string); ok {
					a.addHost(s, false)
				}
				for _, key := range []string{"answers", "cnames"} {
					for _, s := range stringsOf(res.Observed[key]) {
						a.addHost(s, false)
					}
				}
			}
			for _, key := range []string{"owner", "user"} {
				if s, ok := res.Observed[key].(string); ok {
					a.addUser(s)
				}
			}
		}
	}
	mapTexts(r, func(s string) string {
		a.learnText(s)
		return s
	})
}

func (a *anonymizer) learnText(s string) {
	for _, m := range anonURLRe().FindAllStringSubmatch(s, -1) {
		a.addUser(m[1])
		a.addHost(m[2], false)
	}
	for _, m := range anonHomeRe().FindAllStringSubmatch(s, -1) {
		a.addUser(m[1])
	}
	for _, m := range anonEmailRe().FindAllStringSubmatch(s, -1) {
		a.addUser(m[1])
		a.addHost(m[2], false)
	}
}

// addHost records a host name. Single-label names ("proxy", "db") are taken
// only from the targets and their facts: found in free text they are as
// likely to be ordinary words.
func (a *anonymizer) addHost(name string, trusted bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" || name == "local" || name == "localhost" || !fqdnRe().MatchString(name) {
		return
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return // addresses are replaced as addresses
	}
	if !strings.ContainsAny(name, "abcdefghijklmnopqrstuvwxyz") {
		return
	}
	short, _, dotted := strings.Cut(name, ".")
	if !dotted && !trusted {
		return
	}
	a.hosts[name] = true
	if dotted && trusted && len(short) > 1 {
		a.hosts[short] = true
	}
}

func (a *anonymizer) addUser(name string) {
	name = strings.ToLower(name)
	if len(name) < 2 || anonKeepUsers[name] || strings.ContainsAny(name, " \t\n") {
		return
	}
	a.users[name] = true
}

// splitTarget splits "user@host:port" into its user and host.
func splitTarget(t string) (user, host string) {
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		user, t = t[:i], t[i+1:]
	}
	return user, hostOfAddress(t)
}

// hostOfAddress drops the port of host:port and [v6]:port.
func hostOfAddress(s string) string {
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return s[1:i]
		}
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		return s[:i]
	}
	return s
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// alternation builds a case-insensitive regexp matching any of the names,
// longest first so that a full name wins over its first label.
func alternation(names map[string]bool) *regexp.Regexp {
	if len(names) == 0 {
		return nil
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
	for i, n := range list {
		list[i] = regexp.QuoteMeta(n)
	}
	return regexp.MustCompile(`(?i)(?:` + strings.Join(list, "|") + `)`)
}

func (a *anonymizer) token(kind, key string) string {
	m := a.tokens[kind]
	if m == nil {
		m = map[string]string{}
		a.tokens[kind] = m
	}
	t, ok := m[key]
	if !ok {
		prefix := kind
		if kind == "hostname" {
			prefix = "host"
		}
		t = fmt.Sprintf("%s-%d", prefix, len(m)+1)
		m[key] = t
	}
	a.counts[kind]++
	return t
}

// text anonymizes one string. Addresses go first, so that a host name
// made of an address is replaced as the address.
func (a *anonymizer) text(s string) string {
	s = replaceChecked(s, anonMACRe(), func(m string, before, after byte) (string, bool) {
		key := strings.ToLower(macSeparators.Replace(m))
		if key == "000000000000" || key == "ffffffffffff" {
			return "", false
		}
		return a.token("mac", key), true
	})
	s = replaceChecked(s, anonIPv6Re(), func(m string, before, after byte) (string, bool) {
		if isWordByte(before) || before == ':' || isWordByte(after) {
			return "", false
		}
		addr, err := netip.ParseAddr(m)
		suffix := ""
		if err != nil && strings.HasSuffix(m, ":") {
			// "fe80::1: connection refused": the colon is the sentence's.
			trimmed := strings.TrimRight(m, ":")
			suffix = m[len(trimmed):]
			addr, err = netip.ParseAddr(trimmed)
		}
		if err != nil || !addr.Is6() || addr.IsLoopback() || addr.IsUnspecified() {
			return "", false
		}
		if addr.Is4In6() {
			u := addr.Unmap()
			if u.IsLoopback() || u.IsUnspecified() {
				return "", false
			}
		}
		return a.token("ip", addr.String()) + suffix, true
	})
	s = replaceChecked(s, anonIPv4Re(), func(m string, before, after byte) (string, bool) {
		if before == '.' {
			return "", false // the tail of a longer dotted number
		}
		addr, err := netip.ParseAddr(m)
		if err != nil || keepIPv4(addr) {
			return "", false
		}
		return a.token("ip", addr.String()), true
	})
	if a.hostRe != nil {
		s = replaceChecked(s, a.hostRe, func(m string, before, after byte) (string, bool) {
			if isHostByte(before) || before == '.' || isHostByte(after) {
				return "", false
			}
			return a.token("hostname", strings.ToLower(m)), true
		})
	}
	if a.userRe != nil {
		s = replaceChecked(s, a.userRe, func(m string, before, after byte) (string, bool) {
			if isWordByte(before) || isWordByte(after) {
				return "", false
			}
			return a.token("user", strings.ToLower(m)), true
		})
	}
	return s
}

// keepIPv4 reports addresses that identify nothing: loopback, 0.0.0.0,
// broadcast and netmasks such as 255.255.255.0.
func keepIPv4(addr netip.Addr) bool {
	if addr.IsLoopback() || addr.IsUnspecified() {
		return true
	}
	b := addr.As4()
	if b[0] != 255 {
		return false
	}
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	inv := ^v
	return inv&(inv+1) == 0 // contiguous ones, then zeros
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isHostByte(c byte) bool { return c == '-' || isWordByte(c) }

// replaceChecked replaces the matches of re for which fn, given the match
// and the bytes around it (0 at either end of s), returns ok.
func replaceChecked(s string, re *regexp.Regexp, fn func(m string, before, after byte) (string, bool)) string {
	idx := re.FindAllStringIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		var before, after byte
		if m[0] > 0 {
			before = s[m[0]-1]
		}
		if m[1] < len(s) {
			after = s[m[1]]
		}
		repl, ok := fn(s[m[0]:m[1]], before, after)
		if !ok {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(repl)
		last = m[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// mapTexts applies fn to every text of the report that can name a host
// or a person, in a fixed order, so tokens are numbered the same way each
// time.
func mapTexts(r *Report, fn func(string) string) {
	for i := range r.Playbooks {
		r.Playbooks[i].Source = fn(r.Playbooks[i].Source)
	}
	for hi := range r.Hosts {
		h := &r.Hosts[hi]
		h.Target = fn(h.Target)
		h.Facts.Hostname = fn(h.Facts.Hostname)
		h.Facts.Gateway = fn(h.Facts.Gateway)
		h.Error, h.Hint = fn(h.Error), fn(h.Hint)
		for i := range h.Results {
			res := &h.Results[i]
			res.Title = fn(res.Title)
			res.Message = fn(res.Message)
			res.Hint, res.CheckHint = fn(res.Hint), fn(res.CheckHint)
			res.Evidence = fn(res.Evidence)
			res.Observed = mapObserved(res.Observed, fn)
			for fi := range res.Files {
				f := &res.Files[fi]
				f.Name = fn(f.Name)
				f.Data = []byte(fn(string(f.Data)))
			}
		}
	}
}

func mapObserved(m map[string]any, fn func(string) string) map[string]any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m[k] = mapValue(m[k], fn)
	}
	return m
}

func mapValue(v any, fn func(string) string) any {
	switch v := v.(type) {
	case string:
		return fn(v)
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = fn(s)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = mapValue(e, fn)
		}
		return out
	case map[string]any:
		return mapObserved(v, fn)
	}
	return v
}

var macSeparators = strings.NewReplacer(":", "", "-", "", ".", "")
