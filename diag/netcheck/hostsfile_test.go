package netcheck

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

func TestHostsFilesFirst(t *testing.T) {
	for _, tt := range []struct {
		conf string
		ok   bool
	}{
		{"hosts: files dns\n", true},
		{"hosts:\tfiles\n", true},
		{"passwd: files\n  hosts:   files mdns4_minimal [NOTFOUND=return] dns # Ubuntu\n", true},
		{"hosts: files resolve [!UNAVAIL=return] dns myhostname\n", true},
		{"hosts:files dns\r\n", true},
		{"hosts: dns files\n", false},
		{"hosts: myhostname files dns\n", false},
		{"hosts: files [SUCCESS=continue] dns\n", false},
		{"hosts: [NOTFOUND=return] files\n", false},
		{"hosts: FILES dns\n", false},
		{"# hosts: files dns\nhosts: dns\n", false},
		{"hosts: files dns\nhosts: dns\n", false}, // which one wins differs by C library
		{"hostsx: files\n", false},
		{"passwd: files\n", false}, // no hosts line: the C library's default puts dns first
		{"", false},
	} {
		if _, ok := hostsFilesFirst([]byte(tt.conf)); ok != tt.ok {
			t.Errorf("%q: files first %v, want %v", tt.conf, ok, tt.ok)
		}
	}
	if rule, _ := hostsFilesFirst([]byte("passwd: files\nhosts:          files dns   \n")); rule != "hosts:          files dns" {
		t.Errorf("rule %q, want the line as written", rule)
	}
}

func TestLookupHostsFile(t *testing.T) {
	const debian = "127.0.0.1\tlocalhost\n127.0.1.1\tbox.example.com box\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\n"
	for _, tt := range []struct {
		hosts, qtype, name string
		addr               string // "" for no certain answer
		line               int
	}{
		{debian, "A", "localhost", "127.0.0.1", 1},
		{debian, "AAAA", "localhost", "::1", 5},
		{debian, "A", "LocalHost", "127.0.0.1", 1}, // the C library ignores case
		{debian, "A", "box", "127.0.1.1", 2},
		{debian, "A", "box.example.com", "127.0.1.1", 2},
		{debian, "AAAA", "box", "", 0},        // no IPv6 line: the C library goes on to DNS
		{debian, "A", "ip6-localhost", "", 0}, // likewise for IPv4
		{debian, "A", "localhost.", "", 0},    // not the same name to the hosts file
		{debian, "A", "missing", "", 0},
		{debian, "A", "desirable", "", 0}, // in a comment
		{"10.0.0.1 db # db\n", "A", "db", "10.0.0.1", 1},
		{"10.0.0.1 db\n10.0.0.2 db\n", "A", "db", "", 0},            // several lines: merging differs
		{"10.0.0.1 db\n::1 db\n", "A", "db", "10.0.0.1", 1},         // one of each family is fine
		{"127.1 db\n", "A", "db", "", 0},                            // inet_aton's short form
		{"fe80::1%eth0 db\n", "AAAA", "db", "", 0},                  // a zone
		{"::ffff:10.0.0.1 db\n", "A", "db", "", 0},                  // IPv4-mapped
		{"10.0.0.1 db\n127.1 db\n", "A", "db", "", 0},               // any doubtful line spoils it
		{"10.0.0.1 db\n10.0.0.2 other\n", "A", "db", "10.0.0.1", 1}, // other names do not
		{"10.0.0.1 kelvin\n", "A", "\u212aelvin", "", 0},            // no Unicode folding
		{"10.0.0.1\n", "A", "10.0.0.1", "", 0},
	} {
		addr, line, _, ok := lookupHostsFile([]byte(tt.hosts), tt.qtype, tt.name)
		if ok != (tt.addr != "") || addr != tt.addr || line != tt.line {
			t.Errorf("%s %s in %q: %q line %d ok %v, want %q line %d", tt.qtype, tt.name, tt.hosts, addr, line, ok, tt.addr, tt.line)
		}
	}
}

// hostsTarget is a target with its own /etc/nsswitch.conf and /etc/hosts
// (absent when not in files), whose system resolver asks a test DNS
// server and counts the lookups, and whose configured DNS servers are
// servers (none when empty: never the machine's own).
type hostsTarget struct {
	resolvingTarget
	files    map[string]string
	resolved *atomic.Int32
	servers  []string
	dials    *atomic.Int32 // connections opened, to DNS servers among others
	tcpOnly  bool          // no UDP, as over SSH
}

func newHostsTarget(dnsAddr string, files map[string]string, servers ...string) hostsTarget {
	return hostsTarget{resolvingTarget: newResolvingTarget(dnsAddr), files: files, resolved: new(atomic.Int32), servers: servers, dials: new(atomic.Int32)}
}

func (t hostsTarget) Nameservers(context.Context) (diag.DNSConfig, error) {
	return diag.DNSConfig{Servers: t.servers, Source: "the test"}, nil
}

func (t hostsTarget) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	t.dials.Add(1)
	if t.tcpOnly && strings.HasPrefix(network, "udp") {
		return nil, errors.New("ssh: direct-tcpip channels carry TCP only")
	}
	return t.resolvingTarget.Dial(ctx, network, address)
}

func (t hostsTarget) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if data, ok := t.files[path]; ok || path == nsswitchPath || path == hostsFilePath {
		if !ok {
			return nil, false, fs.ErrNotExist
		}
		if int64(len(data)) > limit {
			return []byte(data[:limit]), true, nil
		}
		return []byte(data), false, nil
	}
	return t.resolvingTarget.ReadFile(ctx, path, limit)
}

func (t hostsTarget) Resolve(ctx context.Context, qtype, name string) ([]string, error) {
	t.resolved.Add(1)
	return t.resolvingTarget.Resolve(ctx, qtype, name)
}

// TestDNSHostsFile: an entry of the hosts file that the C library would
// take as final answers the check without asking the system resolver, and
// says which line gave it; in every doubtful case the resolver is asked.
func TestDNSHostsFile(t *testing.T) {
	server := startDNS(t)
	const filesFirst = "hosts: files dns\n"
	for _, tt := range []struct {
		name          string
		nsswitch      *string
		hosts         string
		lookup        string
		expect        []string
		maxLatency    time.Duration
		status        diag.Status
		message       string
		hint          string
		resolverAsked bool
		evidenceLines []string
	}{
		{name: "entry", nsswitch: ptr(filesFirst), hosts: "127.0.0.1 localhost\n192.0.2.99 intranet.test\n", lookup: "INTRANET.test",
			status: diag.Pass, message: "INTRANET.test A is 192.0.2.99 (from /etc/hosts line 2)",
			evidenceLines: []string{"/etc/hosts:2: 192.0.2.99 intranet.test", "/etc/nsswitch.conf: hosts: files dns"}},
		{name: "no latency for a file", nsswitch: ptr(filesFirst), hosts: "192.0.2.99 intranet.test\n", lookup: "intranet.test", maxLatency: time.Nanosecond,
			status: diag.Pass, message: "intranet.test A is 192.0.2.99 (from /etc/hosts line 1)"},
		{name: "stale entry", nsswitch: ptr(filesFirst), hosts: "192.0.2.99 www.test\n", lookup: "www.test", expect: []string{"192.0.2.10"},
			status: diag.Fail, message: "www.test A is 192.0.2.99, but", hint: "the address comes from /etc/hosts line 1, which this machine reads before DNS"},
		{name: "not in the file", nsswitch: ptr(filesFirst), hosts: "127.0.0.1 localhost\n", lookup: "www.test",
			status: diag.Pass, message: "www.test A is 192.0.2.10, 192.0.2.11 (through the system resolver", resolverAsked: true},
		{name: "dns first", nsswitch: ptr("hosts: dns files\n"), hosts: "192.0.2.99 www.test\n", lookup: "www.test",
			status: diag.Pass, message: "192.0.2.10, 192.0.2.11 (through the system resolver", resolverAsked: true},
		{name: "no nsswitch.conf", hosts: "192.0.2.99 www.test\n", lookup: "www.test",
			status: diag.Pass, message: "192.0.2.10, 192.0.2.11 (through the system resolver", resolverAsked: true},
		{name: "several lines", nsswitch: ptr(filesFirst), hosts: "192.0.2.98 www.test\n192.0.2.99 www.test\n", lookup: "www.test",
			status: diag.Pass, message: "192.0.2.10, 192.0.2.11 (through the system resolver", resolverAsked: true},
		{name: "too big to read", nsswitch: ptr(filesFirst), hosts: "192.0.2.99 www.test\n" + strings.Repeat("# padding\n", hostsFileLimit/10+1), lookup: "www.test",
			status: diag.Pass, message: "(through the system resolver", resolverAsked: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{hostsFilePath: tt.hosts}
			if tt.nsswitch != nil {
				files[nsswitchPath] = *tt.nsswitch
			}
			target := newHostsTarget(server, files, server)
			r := run(t, dnsCheck(t, "", tt.lookup, "A", func(c *DNS) { c.Expect, c.MaxLatency = tt.expect, dur(tt.maxLatency) }), target)
			expect(t, r, tt.status, tt.message)
			if !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not contain %q", r.Hint, tt.hint)
			}
			if asked := target.resolved.Load() > 0; asked != tt.resolverAsked {
				t.Errorf("system resolver asked: %v, want %v", asked, tt.resolverAsked)
			}
			for _, l := range tt.evidenceLines {
				if !strings.Contains(r.Evidence, l) {
					t.Errorf("evidence %q lacks %q", r.Evidence, l)
				}
			}
			if !tt.resolverAsked && r.Observed["server"] != "system" {
				t.Errorf("server %v, want system", r.Observed["server"])
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// FuzzHostsFile: any hosts file and nsswitch.conf are read without a
// panic, and an answer is always an address of the family asked, from a
// line that names the name.
func FuzzHostsFile(f *testing.F) {
	f.Add("127.0.0.1 localhost\n::1 localhost ip6-localhost\n", "hosts: files dns\n", "localhost", true)
	f.Add("10.0.0.1 db # comment\n10.0.0.2 db\n", "hosts: files [SUCCESS=continue] dns\n", "DB", false)
	f.Add("fe80::1%eth0 x\n127.1 y\n", "hosts:files\nhosts: dns\n", "x", false)
	f.Fuzz(func(t *testing.T, hosts, conf, name string, v4 bool) {
		if rule, ok := hostsFilesFirst([]byte(conf)); ok && !strings.Contains(rule, "files") {
			t.Errorf("files first, by the rule %q", rule)
		}
		qtype := "AAAA"
		if v4 {
			qtype = "A"
		}
		addr, line, text, ok := lookupHostsFile([]byte(hosts), qtype, name)
		if !ok {
			return
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil || ip.Is4() != v4 {
			t.Fatalf("%s answer %q", qtype, addr)
		}
		lines := strings.Split(hosts, "\n")
		if line < 1 || line > len(lines) || strings.TrimSpace(lines[line-1]) != text {
			t.Fatalf("line %d %q is not line %d of the file", line, text, line)
		}
		fields := strings.Fields(strings.SplitN(text, "#", 2)[0])
		if len(fields) < 2 || !slices.ContainsFunc(fields[1:], func(n string) bool { return equalFoldASCII(n, name) }) {
			t.Fatalf("line %q does not name %q", text, name)
		}
	})
}

// TestDNSHostsFileComparedWithDNS: an answer from the hosts file for a
// name of a domain is compared with what the configured DNS servers say.
// A stale entry (DNS gives other addresses) warns, naming the line; an
// entry DNS agrees with, a name DNS does not have, and a server that does
// not answer keep the pass; localhost-like names, names without a dot
// and loopback or blocking addresses are not compared at all.
func TestDNSHostsFileComparedWithDNS(t *testing.T) {
	server, silent := startDNS(t), silentUDP(t)
	const filesFirst = "hosts: files dns\n"
	for _, tt := range []struct {
		name     string
		hosts    string
		lookup   string
		servers  []string
		tcpOnly  bool
		status   diag.Status
		message  string
		hint     string
		evidence string
		noDial   bool
	}{
		{name: "stale entry", hosts: "127.0.0.1 localhost\n::1 localhost\n192.0.2.99 www.test\n", lookup: "www.test", servers: []string{server},
			status:  diag.Warn,
			message: "www.test is 192.0.2.99 from /etc/hosts line 3, but the DNS server " + server + " says 192.0.2.10, 192.0.2.11: the hosts entry may be stale",
			hint:    "remove or correct line 3 of /etc/hosts", evidence: "ANSWER SECTION"},
		{name: "stale entry over SSH", hosts: "192.0.2.99 www.test\n", lookup: "www.test", servers: []string{server}, tcpOnly: true,
			status: diag.Warn, message: "but the DNS server " + server + " says 192.0.2.10", evidence: "UDP is not available"},
		{name: "first server dead", hosts: "192.0.2.99 www.test\n", lookup: "www.test", servers: []string{silent, server},
			status: diag.Warn, message: "but the DNS server " + server + " says"},
		{name: "DNS agrees", hosts: "192.0.2.11 www.test\n", lookup: "www.test", servers: []string{server},
			status: diag.Pass, message: "www.test A is 192.0.2.11 (from /etc/hosts line 1)", evidence: "agrees"},
		{name: "only in the hosts file", hosts: "192.0.2.99 intranet.test\n", lookup: "intranet.test", servers: []string{server},
			status: diag.Pass, message: "intranet.test A is 192.0.2.99 (from /etc/hosts line 1)", evidence: "NXDOMAIN"},
		{name: "DNS does not answer", hosts: "192.0.2.99 www.test\n", lookup: "www.test", servers: []string{silent},
			status: diag.Pass, message: "www.test A is 192.0.2.99 (from /etc/hosts line 1)", evidence: "no answer"},
		{name: "no dot", hosts: "192.0.2.99 www\n", lookup: "www", servers: []string{server},
			status: diag.Pass, message: "www A is 192.0.2.99", noDial: true},
		{name: "loopback", hosts: "127.0.1.1 www.test www\n", lookup: "www.test", servers: []string{server},
			status: diag.Pass, message: "www.test A is 127.0.1.1", noDial: true},
		{name: "blocked", hosts: "0.0.0.0 www.test\n", lookup: "www.test", servers: []string{server},
			status: diag.Pass, message: "www.test A is 0.0.0.0", noDial: true},
		{name: "localhost-like", hosts: "192.0.2.99 localhost.localdomain\n", lookup: "localhost.localdomain", servers: []string{server},
			status: diag.Pass, noDial: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target := newHostsTarget(server, map[string]string{nsswitchPath: filesFirst, hostsFilePath: tt.hosts}, tt.servers...)
			target.tcpOnly = tt.tcpOnly
			start := time.Now()
			r := run(t, dnsCheck(t, "", tt.lookup, "A", nil), target)
			expect(t, r, tt.status, tt.message)
			if d := time.Since(start); d > 1800*time.Millisecond {
				t.Errorf("the comparison took %s, over its 1s bound", d)
			}
			if !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not contain %q", r.Hint, tt.hint)
			}
			if !strings.Contains(r.Evidence, tt.evidence) {
				t.Errorf("evidence %q does not contain %q", r.Evidence, tt.evidence)
			}
			if target.resolved.Load() > 0 {
				t.Error("the system resolver was asked, though the hosts file answered")
			}
			if n := target.dials.Load(); tt.noDial && n > 0 {
				t.Errorf("%d connections opened; the entry should not have been compared with DNS", n)
			}
			if r.Status == diag.Warn && r.Observed["dns_server"] != tt.servers[len(tt.servers)-1] {
				t.Errorf("observed %v", r.Observed)
			}
		})
	}
}
