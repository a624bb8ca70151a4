package netcheck

import (
	"context"
	"io/fs"
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
// server and counts the lookups.
type hostsTarget struct {
	resolvingTarget
	files    map[string]string
	resolved *atomic.Int32
}

func (t hostsTarget) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if path == nsswitchPath || path == hostsFilePath {
		data, ok := t.files[path]
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
		{name: "entry", nsswitch: ptr(filesFirst), hosts: "127.0.0.1 localhost\n192.0.2.99 www.test\n", lookup: "WWW.test",
			status: diag.Pass, message: "WWW.test A is 192.0.2.99 (from /etc/hosts line 2)",
			evidenceLines: []string{"/etc/hosts:2: 192.0.2.99 www.test", "/etc/nsswitch.conf: hosts: files dns"}},
		{name: "no latency for a file", nsswitch: ptr(filesFirst), hosts: "192.0.2.99 www.test\n", lookup: "www.test", maxLatency: time.Nanosecond,
			status: diag.Pass, message: "www.test A is 192.0.2.99 (from /etc/hosts line 1)"},
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
			target := hostsTarget{newResolvingTarget(server), files, new(atomic.Int32)}
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
