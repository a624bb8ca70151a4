package netcheck

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/triage-dev/triage/diag"
)

const (
	nsswitchPath  = "/etc/nsswitch.conf"
	hostsFilePath = "/etc/hosts"
	// hostsFileLimit bounds the hosts file read; a larger one (ad-blocking
	// lists run to megabytes) is left to the target's own resolver.
	hostsFileLimit = 1 << 20
)

// hostsAnswer is an answer the hosts file gives for a name.
type hostsAnswer struct {
	addr     string
	line     int    // the line of /etc/hosts that gave it
	evidence string // that line and the nsswitch.conf line that makes it final
}

// hostsFileAnswer answers an A or AAAA lookup from the target's hosts
// file, the way its C library would, when that is certain: nsswitch.conf
// names "files" first for hosts, with no action after it, so an entry
// found there is the final answer; and exactly one line of /etc/hosts
// gives the name an address of the family asked, written plainly. In
// every other case (no nsswitch.conf, as on macOS and Windows, another
// source first, the name absent or on several lines, an address written
// in a form only some C libraries read) ok is false and the caller asks
// the target's resolver. On a remote host this saves starting a program
// (getent), and the answer can say which line of /etc/hosts gave it, which
// is often the very thing someone looking at a wrong address needs.
func hostsFileAnswer(ctx context.Context, t diag.Target, qtype, name string) (hostsAnswer, bool) {
	if qtype != "A" && qtype != "AAAA" {
		return hostsAnswer{}, false
	}
	if _, err := netip.ParseAddr(name); err == nil || !plainHostName(name) {
		return hostsAnswer{}, false
	}
	conf, truncated, err := t.ReadFile(ctx, nsswitchPath, 64<<10)
	if err != nil || truncated {
		return hostsAnswer{}, false
	}
	rule, ok := hostsFilesFirst(conf)
	if !ok {
		return hostsAnswer{}, false
	}
	hosts, truncated, err := t.ReadFile(ctx, hostsFilePath, hostsFileLimit)
	if err != nil || truncated {
		return hostsAnswer{}, false
	}
	addr, line, text, ok := lookupHostsFile(hosts, qtype, name)
	if !ok {
		return hostsAnswer{}, false
	}
	return hostsAnswer{
		addr:     addr,
		line:     line,
		evidence: fmt.Sprintf("%s:%d: %s\n%s: %s", hostsFilePath, line, text, nsswitchPath, rule),
	}, true
}

// plainHostName reports whether name is made of the characters of host
// names only, so that comparing it with the hosts file's names the way the
// C library does (ASCII, ignoring case) is all there is to it.
func plainHostName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// hostsFilesFirst reads nsswitch.conf and reports whether its hosts line
// makes an entry in the hosts file final: "files" comes first and no
// action ("[SUCCESS=continue]") follows it. rule is the line, as written.
// A file with no hosts line, or more than one, is not trusted: C libraries
// differ on what they do then.
func hostsFilesFirst(conf []byte) (rule string, ok bool) {
	found := 0
	for _, raw := range bytes.Split(conf, []byte("\n")) {
		line, _, _ := strings.Cut(string(raw), "#")
		db, services, hasColon := strings.Cut(strings.TrimSpace(line), ":")
		if !hasColon || strings.TrimSpace(db) != "hosts" {
			continue
		}
		found++
		f := strings.Fields(services)
		ok = len(f) > 0 && f[0] == "files" && (len(f) == 1 || !strings.HasPrefix(f[1], "["))
		rule = strings.TrimSpace(string(raw))
	}
	return rule, found == 1 && ok
}

// lookupHostsFile finds name in a hosts file. It answers only when exactly
// one line gives name an address of the family of qtype, and every line
// naming it has an address netip reads (the C libraries' readers differ on
// forms such as "127.1", on zones and on IPv4-mapped addresses, and on
// how they merge several lines): then the address, the line's number and
// its text.
func lookupHostsFile(hosts []byte, qtype, name string) (addr string, lineNo int, text string, ok bool) {
	matches := 0
	for i, raw := range bytes.Split(hosts, []byte("\n")) {
		line, _, _ := strings.Cut(string(raw), "#")
		f := strings.Fields(line)
		if len(f) < 2 || !namesInclude(f[1:], name) {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil || ip.Zone() != "" || ip.Is4In6() {
			return "", 0, "", false
		}
		if ip.Is4() != (qtype == "A") {
			continue
		}
		matches++
		addr, lineNo, text = ip.String(), i+1, strings.TrimSpace(string(raw))
	}
	if matches != 1 {
		return "", 0, "", false
	}
	return addr, lineNo, text, true
}

func namesInclude(names []string, name string) bool {
	for _, n := range names {
		// As the C library's strcasecmp in the C locale: ASCII letters
		// ignoring case, not Unicode folding (which would match the
		// Kelvin sign with k).
		if equalFoldASCII(n, name) {
			return true
		}
	}
	return false
}
