package netcheck

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
)

// The system resolver and the DNS server it is configured with can
// disagree: the server knows a name the resolver never asks it about
// (nsswitch.conf leaves DNS out, a local resolver or a VPN client answers
// first), or the resolver asks for another name than the one given (a
// search domain tried first, because of ndots, whose wildcard record then
// answers). From one lookup both look like "the name does not resolve" or
// "the website is down"; asking the server directly and comparing tells
// them apart, and names the file to fix.

// askFirstAnswering asks servers, in parallel and within bound, for name
// and returns the answer of the first in the configured order that
// answered: the one the system resolver would have used.
func askFirstAnswering(ctx context.Context, t diag.Target, servers []string, name string, code uint16, bound time.Duration) (server string, l lookup, ok bool) {
	if d, has := ctx.Deadline(); has {
		bound = min(bound, time.Until(d)-50*time.Millisecond)
	}
	if bound < 100*time.Millisecond || len(servers) == 0 {
		return "", lookup{}, false
	}
	if len(servers) > maxNameserversAsked {
		servers = servers[:maxNameserversAsked]
	}
	qctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	answers := make([]*dnsAnswer, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		host, port, err := splitServer(s, 53)
		if err != nil {
			continue
		}
		wg.Go(func() {
			if a, err := exchange(qctx, t, net.JoinHostPort(host, strconv.Itoa(port)), name, code); err == nil {
				answers[i] = a
			}
		})
	}
	wg.Wait()
	i := slices.IndexFunc(answers, func(a *dnsAnswer) bool { return a != nil })
	if i < 0 || ctx.Err() != nil {
		return "", lookup{}, false
	}
	return servers[i], fromMsg(answers[i], code), true
}

// systemMissesDNS looks again at a name the system resolver says does not
// exist: when the configured DNS server, asked directly, has records for
// it, the trouble is between programs and DNS, and the result says where
// (nsswitch.conf, a local resolver or VPN). r is the failure as judged so
// far; it is returned unchanged when the server agrees or cannot be asked.
func (c *DNS) systemMissesDNS(ctx context.Context, t diag.Target, r diag.Result, name, qtype string, code uint16, servers []string) diag.Result {
	server, l, ok := askFirstAnswering(ctx, t, servers, name, code, hostsCompareBound)
	if !ok {
		return r
	}
	if l.rcode != "NOERROR" || len(l.answers) == 0 {
		r.Evidence = strings.TrimSpace(r.Evidence + fmt.Sprintf("\n;; asked directly, %s agrees: %s, no %s record", server, l.rcode, qtype))
		return r
	}
	r = r.With("dns_server", server).With("dns_answers", l.answers)
	r.Evidence = strings.TrimSpace(r.Evidence + "\n;; asked directly:\n" + strings.Join(l.evidence, "\n"))
	data, _, err := t.ReadFile(ctx, nsswitchPath, 64<<10)
	var sw hostsSources
	if err == nil {
		sw = parseNsswitchHosts(data)
		if sw.line != "" {
			r = r.With("nsswitch_hosts", sw.line)
			r.Evidence += fmt.Sprintf("\n;; %s line %d: %s", nsswitchPath, sw.lineNo, sw.line)
		}
	}
	known := fmt.Sprintf("the DNS server %s answers %s for %s", server, listValues(l.answers, 5), name)
	switch stop, why := sw.stopsBefore(name); {
	case err == nil && sw.line != "" && !sw.usesDNS():
		r.Message = fmt.Sprintf("%s does not resolve on %s, although %s: the hosts line of %s (%q) does not list dns, so programs never ask a DNS server", name, where(t), known, nsswitchPath, sw.line)
		r.Hint = fmt.Sprintf("add dns to the hosts line of %s, after files (the usual line is \"hosts: files dns\", with mdns4_minimal [NOTFOUND=return] before dns on desktops): a hardening script, a configuration tool or an interrupted package upgrade may have left it out; this needs administrator rights", nsswitchPath)
	case stop != "":
		r.Message = fmt.Sprintf("%s does not resolve on %s, although %s: the hosts line of %s (%q) stops at %s before it asks DNS", name, where(t), known, nsswitchPath, sw.line, stop)
		src, _, _ := strings.Cut(stop, " ")
		r.Hint = fmt.Sprintf("%s; remove the action or move dns before %s in %s if names like %s must come from DNS (this needs administrator rights)", why, src, nsswitchPath, name)
	case err == nil && sw.firstDNS() == "resolve":
		r.Message = fmt.Sprintf("%s does not resolve through systemd-resolved, which programs ask (%q in %s), although %s", name, sw.line, nsswitchPath, known)
		r.Hint = "systemd-resolved sends names to the DNS servers of the link whose domains match them (a VPN claims its company's domains this way): see resolvectl query " + name + " and resolvectl status, and whether the name belongs to a domain the VPN claims"
	default:
		r.Message = fmt.Sprintf("%s does not resolve through the system resolver, although %s: something between programs and that server answers for it", name, known)
		r.Hint = "a local resolver (systemd-resolved, dnsmasq, a security product) or a VPN client's split DNS answers for this name before the DNS server is asked: try with the VPN disconnected, and see which server the system sends the name to (resolvectl query " + name + " on Linux, scutil --dns on macOS, Get-DnsClientNrptPolicy on Windows)"
	}
	return r
}

// hostsSources is the hosts line of nsswitch.conf.
type hostsSources struct {
	line    string // as written, without the comment
	lineNo  int
	sources []nssSource
}

// nssSource is one service of the line with the action that follows it.
type nssSource struct {
	name   string
	action string // "[NOTFOUND=return]" and the like, "" for none
}

// parseNsswitchHosts reads the hosts line of nsswitch.conf(5). A file
// without one means glibc's default, "dns files" (sources nil here).
func parseNsswitchHosts(data []byte) hostsSources {
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		db, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(db) != "hosts" {
			continue
		}
		hs := hostsSources{line: strings.Join(strings.Fields(line), " "), lineNo: i + 1}
		// An action is bracketed and may hold spaces: "[NOTFOUND = return]".
		rest = strings.TrimSpace(rest)
		for rest != "" {
			if rest[0] == '[' {
				end := strings.IndexByte(rest, ']')
				if end < 0 {
					end = len(rest) - 1
				}
				if n := len(hs.sources); n > 0 {
					hs.sources[n-1].action = strings.Join(strings.Fields(rest[:end+1]), "")
				}
				rest = strings.TrimSpace(rest[end+1:])
				continue
			}
			word := rest
			if j := strings.IndexAny(rest, " \t["); j >= 0 {
				word = rest[:j]
			}
			hs.sources = append(hs.sources, nssSource{name: word})
			rest = strings.TrimSpace(rest[len(word):])
		}
		return hs
	}
	return hostsSources{}
}

// dnsSources are the services that ask DNS servers.
var dnsSources = map[string]bool{"dns": true, "resolve": true}

// usesDNS reports whether the line asks DNS at all (a missing line does:
// glibc's default).
func (h hostsSources) usesDNS() bool {
	if h.line == "" {
		return true
	}
	return slices.ContainsFunc(h.sources, func(s nssSource) bool { return dnsSources[s.name] })
}

// firstDNS is the first source of the line that asks DNS, "" for none.
func (h hostsSources) firstDNS() string {
	for _, s := range h.sources {
		if dnsSources[s.name] {
			return s.name
		}
	}
	return ""
}

// stopsBefore names the source before DNS whose action ends a lookup of
// name that it does not find, and why that matters, or "" when none does.
// mdns4_minimal and its kin answer only .local names (and say UNAVAIL for
// others, which does not stop the lookup), so they stop only those.
func (h hostsSources) stopsBefore(name string) (source, why string) {
	for _, s := range h.sources {
		if dnsSources[s.name] {
			return "", ""
		}
		a := strings.ToUpper(s.action)
		if !strings.Contains(a, "NOTFOUND=RETURN") && !strings.Contains(a, "!UNAVAIL=RETURN") {
			continue
		}
		local := strings.HasSuffix(strings.ToLower(strings.TrimSuffix(name, ".")), ".local")
		if strings.HasPrefix(s.name, "mdns") && !local {
			continue
		}
		reason := fmt.Sprintf("%s %s ends a lookup that %s does not answer", s.name, s.action, s.name)
		if strings.HasPrefix(s.name, "mdns") {
			reason = fmt.Sprintf("names ending in .local are left to multicast DNS (%s %s): a network that serves a .local domain from its DNS server needs dns before %s, or a domain other than .local", s.name, s.action, s.name)
		}
		return s.name + " " + s.action, reason
	}
	return "", ""
}

// searchShadows looks again at a name the system resolver answered, when
// the target's resolv.conf has search domains that the resolver tries
// before the name as given (it has fewer dots than ndots): when the name
// as given has other addresses in DNS and one of the search domains'
// names has the ones the system gave, programs go to the wrong place,
// and r (a pass) becomes a failure that says why.
func (c *DNS) searchShadows(ctx context.Context, t diag.Target, r diag.Result, name, qtype string, code uint16, system []string, servers []string) diag.Result {
	if (qtype != "A" && qtype != "AAAA") || strings.HasSuffix(name, ".") || len(servers) == 0 {
		return r
	}
	data, _, err := t.ReadFile(ctx, resolvConfPath, 64<<10)
	if err != nil {
		return r
	}
	rc := parseResolvConf(data)
	if len(rc.Search) == 0 || strings.Count(name, ".") >= rc.Ndots {
		return r
	}
	type asked struct {
		qname  string
		server string
		l      lookup
		ok     bool
	}
	names := []string{name}
	for _, d := range rc.Search[:min(len(rc.Search), 3)] {
		names = append(names, name+"."+strings.TrimSuffix(d, "."))
	}
	results := make([]asked, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			s, l, ok := askFirstAnswering(ctx, t, servers, n, code, hostsCompareBound)
			results[i] = asked{n, s, l, ok}
		})
	}
	wg.Wait()
	given := results[0]
	if !given.ok || given.l.rcode != "NOERROR" || len(given.l.answers) == 0 {
		return r
	}
	overlaps := func(a, b []string) bool {
		return slices.ContainsFunc(a, func(x string) bool {
			return slices.ContainsFunc(b, func(y string) bool { return valueMatches(qtype, x, y) })
		})
	}
	if overlaps(system, given.l.answers) {
		return r
	}
	for _, s := range results[1:] {
		if !s.ok || len(s.l.answers) == 0 || !overlaps(system, s.l.answers) {
			continue
		}
		domain := strings.TrimPrefix(s.qname, name+".")
		r = r.With("dns_server", given.server).With("dns_answers", given.l.answers).With("answered_as", s.qname)
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s resolves to %s on %s, but its address in DNS is %s: the resolver asks for %s first (search domain %s, ndots:%d) and gets that name's answer", name, listValues(system, 5), where(t), listValues(given.l.answers, 5), s.qname, domain, rc.Ndots)
		r.Hint = fmt.Sprintf("programs go to the wrong server for %s: lower ndots in %s (the default is 1; ndots:%d makes names with fewer dots try the search domains first), have the record for %s (often a wildcard *.%s) removed, or write the name with a final dot (%s.)", name, resolvConfPath, rc.Ndots, s.qname, domain, name)
		r.Evidence = strings.TrimSpace(r.Evidence + fmt.Sprintf("\n;; %s: search %s, ndots:%d\n;; asked directly for %s:\n%s\n;; asked directly for %s:\n%s",
			resolvConfPath, strings.Join(rc.Search, " "), rc.Ndots, name, strings.Join(given.l.evidence, "\n"), s.qname, strings.Join(s.l.evidence, "\n")))
		return r
	}
	return r
}
