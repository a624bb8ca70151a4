package netcheck

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/triage-dev/triage/diag"
)

// mapZone answers A queries from names (lower case, no final dot) and
// NXDOMAIN for every other name.
func mapZone(names map[string]string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true
		name := strings.TrimSuffix(strings.ToLower(q.Question[0].Name), ".")
		addr, ok := names[name]
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.ParseIP(addr).To4(),
			})
		}
		_ = w.WriteMsg(m)
	}
}

// TestDNSSystemMissesDNS: a name the system resolver does not find, while
// the configured DNS server, asked directly, answers it, is a failure
// that names what stands between programs and DNS. The system resolver
// here asks an empty server (the lab has the real nsswitch.conf case).
func TestDNSSystemMissesDNS(t *testing.T) {
	configured := startDNSWith(t, mapZone(map[string]string{"www.test": "192.0.2.10", "printer.local": "192.0.2.20"}))
	empty := startDNSWith(t, mapZone(nil))
	for _, tt := range []struct {
		name, nsswitch, lookup string
		message, hint          string
	}{
		{"no dns in nsswitch", "passwd: files\nhosts:          files\n", "www.test",
			`www.test does not resolve on this machine, although the DNS server ` + configured + ` answers 192.0.2.10 for www.test: the hosts line of /etc/nsswitch.conf ("hosts: files") does not list dns, so programs never ask a DNS server`,
			`add dns to the hosts line of /etc/nsswitch.conf`},
		{"mdns stops .local", "hosts: files mdns4_minimal [NOTFOUND=return] dns\n", "printer.local",
			`the hosts line of /etc/nsswitch.conf ("hosts: files mdns4_minimal [NOTFOUND=return] dns") stops at mdns4_minimal [NOTFOUND=return] before it asks DNS`,
			"names ending in .local are left to multicast DNS"},
		{"mdns does not stop other names", "hosts: files mdns4_minimal [NOTFOUND=return] dns\n", "www.test",
			"www.test does not resolve through the system resolver, although the DNS server " + configured + " answers 192.0.2.10 for www.test: something between programs and that server answers for it",
			"resolvectl query www.test"},
		{"systemd-resolved answers first", "hosts: files resolve [!UNAVAIL=return] dns\n", "www.test",
			`www.test does not resolve through systemd-resolved, which programs ask ("hosts: files resolve [!UNAVAIL=return] dns" in /etc/nsswitch.conf)`, "resolvectl query www.test"},
		{"a source with NOTFOUND=return first", "hosts: files ldap [NOTFOUND=return] dns\n", "www.test",
			"stops at ldap [NOTFOUND=return] before it asks DNS", "ldap [NOTFOUND=return] ends a lookup that ldap does not answer"},
		{"no nsswitch.conf", "", "www.test",
			"something between programs and that server answers for it", "split DNS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{hostsFilePath: "127.0.0.1 localhost\n"}
			if tt.nsswitch != "" {
				files[nsswitchPath] = tt.nsswitch
			}
			target := newHostsTarget(empty, files, configured)
			r := run(t, dnsCheck(t, "", tt.lookup, "A", nil), target)
			expect(t, r, diag.Fail, tt.message)
			if !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not contain %q", r.Hint, tt.hint)
			}
			if r.Observed["dns_server"] != configured || !strings.Contains(r.Evidence, "asked directly") {
				t.Errorf("observed %v, evidence %q: want the server asked directly", r.Observed, r.Evidence)
			}
		})
	}

	// Both agree that the name does not exist: the plain failure.
	target := newHostsTarget(empty, map[string]string{nsswitchPath: "hosts: files\n"}, configured)
	r := run(t, dnsCheck(t, "", "missing.test", "A", nil), target)
	expect(t, r, diag.Fail, "missing.test does not resolve to any A record through the system resolver")
	if !strings.Contains(r.Evidence, "agrees: NXDOMAIN") {
		t.Errorf("evidence %q: want the server's agreement", r.Evidence)
	}
}

// TestDNSSearchDomainShadows: with search domains tried first (ndots), a
// name whose search-domain form has an answer of its own (a wildcard)
// reaches programs with that answer, not its own: a failure that says so.
func TestDNSSearchDomainShadows(t *testing.T) {
	configured := startDNSWith(t, mapZone(map[string]string{
		"www.test":           "192.0.2.10",
		"www.test.corp.test": "192.0.2.66", // *.corp.test
		"other.test":         "192.0.2.30",
	}))
	// The system resolver: what it answers after trying the search
	// domain first.
	system := startDNSWith(t, mapZone(map[string]string{"www.test": "192.0.2.66", "other.test": "192.0.2.30"}))
	for _, tt := range []struct {
		name, resolvConf, lookup string
		status                   diag.Status
		message                  string
	}{
		{"shadowed", "nameserver 192.0.2.53\nsearch corp.test\noptions ndots:2\n", "www.test", diag.Fail,
			"www.test resolves to 192.0.2.66 on this machine, but its address in DNS is 192.0.2.10: the resolver asks for www.test.corp.test first (search domain corp.test, ndots:2) and gets that name's answer"},
		{"ndots 1 tries the name first", "search corp.test\n", "www.test", diag.Pass, "www.test A is 192.0.2.66"},
		{"no search domain", "options ndots:3\n", "www.test", diag.Pass, "www.test A is 192.0.2.66"},
		{"the same answer", "search corp.test\noptions ndots:2\n", "other.test", diag.Pass, "other.test A is 192.0.2.30"},
		{"a final dot", "search corp.test\noptions ndots:2\n", "www.test.", diag.Pass, "is 192.0.2.66"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target := newHostsTarget(system, map[string]string{resolvConfPath: tt.resolvConf}, configured)
			r := run(t, dnsCheck(t, "", tt.lookup, "A", nil), target)
			expect(t, r, tt.status, tt.message)
			if tt.status == diag.Fail {
				if !strings.Contains(r.Hint, "lower ndots in /etc/resolv.conf") || !strings.Contains(r.Hint, "*.corp.test") {
					t.Errorf("hint %q", r.Hint)
				}
				if r.Observed["answered_as"] != "www.test.corp.test" {
					t.Errorf("observed %v", r.Observed)
				}
			}
		})
	}
}

func TestParseNsswitchHosts(t *testing.T) {
	for _, tt := range []struct {
		conf    string
		sources []nssSource
		usesDNS bool
	}{
		{"hosts: files dns\n", []nssSource{{"files", ""}, {"dns", ""}}, true},
		{"# comment\nhosts:\tfiles mdns4_minimal [NOTFOUND = return] dns myhostname # x\n",
			[]nssSource{{"files", ""}, {"mdns4_minimal", "[NOTFOUND=return]"}, {"dns", ""}, {"myhostname", ""}}, true},
		{"hosts: files resolve [!UNAVAIL=return] myhostname\n", []nssSource{{"files", ""}, {"resolve", "[!UNAVAIL=return]"}, {"myhostname", ""}}, true},
		{"hosts: files\n", []nssSource{{"files", ""}}, false},
		{"passwd: files\n", nil, true},
		{"hosts: files [unclosed\n", []nssSource{{"files", "[unclosed"}}, false},
	} {
		h := parseNsswitchHosts([]byte(tt.conf))
		if len(h.sources) != len(tt.sources) {
			t.Errorf("%q: sources %v, want %v", tt.conf, h.sources, tt.sources)
			continue
		}
		for i := range h.sources {
			if h.sources[i] != tt.sources[i] {
				t.Errorf("%q: sources %v, want %v", tt.conf, h.sources, tt.sources)
			}
		}
		if h.usesDNS() != tt.usesDNS {
			t.Errorf("%q: usesDNS %v", tt.conf, h.usesDNS())
		}
	}
}

// namedTarget is a hostsTarget that is not this machine, as an SSH
// target is not.
type namedTarget struct{ hostsTarget }

func (namedTarget) Name() string { return "laptop" }

// slowZone answers as mapZone does, after delay.
func slowZone(names map[string]string, delay time.Duration) dns.HandlerFunc {
	h := mapZone(names)
	return func(w dns.ResponseWriter, q *dns.Msg) {
		time.Sleep(delay)
		h(w, q)
	}
}

// TestDNSSystemLatencyOverSSH: on another machine, a lookup through its
// system resolver includes starting a program there; when the DNS server
// asked directly is fast, the check passes with both times in the
// evidence, and only a server that is slow itself makes it a warning.
func TestDNSSystemLatencyOverSSH(t *testing.T) {
	zone := map[string]string{"www.test": "192.0.2.10"}
	slowSystem := startDNSWith(t, slowZone(zone, 700*time.Millisecond))
	fast := startDNSWith(t, mapZone(zone))
	slow := startDNSWith(t, slowZone(zone, 700*time.Millisecond))
	limit := func(c *DNS) { c.MaxLatency = dur(500 * time.Millisecond) }

	r := run(t, dnsCheck(t, "", "www.test", "A", limit), namedTarget{newHostsTarget(slowSystem, nil, fast)})
	expect(t, r, diag.Pass, "www.test A is 192.0.2.10 (through the system resolver in")
	if !strings.Contains(r.Evidence, "starting a program on laptop included; asked directly, "+fast+" answered in") {
		t.Errorf("evidence %q: want both times", r.Evidence)
	}

	r = run(t, dnsCheck(t, "", "www.test", "A", limit), namedTarget{newHostsTarget(slowSystem, nil, slow)})
	expect(t, r, diag.Warn, "slower than max_latency")

	// On this machine the resolver's time is the resolver's.
	r = run(t, dnsCheck(t, "", "www.test", "A", limit), newHostsTarget(slowSystem, nil, fast))
	expect(t, r, diag.Warn, "slower than max_latency")
}
