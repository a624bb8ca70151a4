package netcheck

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
)

// testZone is what the in-process DNS server knows.
var testZone = []string{
	"www.test. 300 IN A 192.0.2.10",
	"www.test. 300 IN A 192.0.2.11",
	"www.test. 300 IN AAAA 2001:db8::10",
	"alias.test. 60 IN CNAME www.test.",
	"dangling.test. 60 IN CNAME v6only.test.",
	"v6only.test. 60 IN AAAA 2001:db8::6",
	"mail.test. 300 IN A 192.0.2.25",
	"test. 3600 IN MX 10 mail.test.",
	"test. 3600 IN MX 20 backup.test.",
	"test. 3600 IN NS ns1.test.",
	`test. 3600 IN TXT "v=spf1 -all"`,
	"_ldap._tcp.test. 600 IN SRV 0 5 389 dc1.test.",
	"10.2.0.192.in-addr.arpa. 300 IN PTR www.test.",
	"slow.test. 300 IN A 192.0.2.99",
}

func zoneRecords(t *testing.T) map[string][]dns.RR {
	out := map[string][]dns.RR{}
	for _, s := range testZone {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		out[name] = append(out[name], rr)
	}
	return out
}

// zoneHandler answers from testZone like a recursive resolver would,
// following CNAMEs, with a few names that misbehave on purpose.
func zoneHandler(t *testing.T) dns.HandlerFunc {
	zone := zoneRecords(t)
	return func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true
		qn, qt := strings.ToLower(q.Question[0].Name), q.Question[0].Qtype
		switch qn {
		case "servfail.test.":
			m.Rcode = dns.RcodeServerFailure
		case "refused.test.":
			m.Rcode = dns.RcodeRefused
		case "big.test.":
			// Too large for UDP: say so, and answer in full over TCP.
			if w.RemoteAddr().Network() == "udp" {
				m.Truncated = true
				break
			}
			for i := 0; i < 40; i++ {
				rr, _ := dns.NewRR(fmt.Sprintf(`big.test. 60 IN TXT "record %02d %s"`, i, strings.Repeat("x", 60)))
				m.Answer = append(m.Answer, rr)
			}
		case "slow.test.":
			time.Sleep(50 * time.Millisecond)
			m.Answer = zone[qn]
		default:
			name := qn
			for hops := 0; hops < 8; hops++ {
				recs, ok := zone[name]
				if !ok {
					if name == qn {
						m.Rcode = dns.RcodeNameError
						soa, _ := dns.NewRR("test. 300 IN SOA ns1.test. hostmaster.test. 1 3600 600 86400 300")
						m.Ns = append(m.Ns, soa)
					}
					break
				}
				next := ""
				for _, rr := range recs {
					switch {
					case rr.Header().Rrtype == qt:
						m.Answer = append(m.Answer, rr)
					case rr.Header().Rrtype == dns.TypeCNAME:
						m.Answer = append(m.Answer, rr)
						next = strings.ToLower(rr.(*dns.CNAME).Target)
					}
				}
				if next == "" || qt == dns.TypeCNAME {
					break
				}
				name = next
			}
		}
		w.WriteMsg(m)
	}
}

// startDNS serves testZone on 127.0.0.1 over UDP and TCP on one port, as a
// real server does, and returns its address.
func startDNS(t *testing.T) string {
	t.Helper()
	return startDNSWith(t, zoneHandler(t))
}

// silentUDP returns the address of a UDP socket that reads queries and
// never answers, like a server behind a firewall that drops replies.
func silentUDP(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

func closedUDPPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func dnsCheck(t *testing.T, server, name, qtype string, edit func(*DNS)) *DNS {
	c := newKind[*DNS](t, "dns")
	c.Server, c.Name, c.Type = server, name, qtype
	c.Timeout = dur(2 * time.Second)
	if edit != nil {
		edit(c)
	}
	return c
}

func TestDNSRecordTypes(t *testing.T) {
	server := startDNS(t)
	local := diag.NewLocal()
	tests := []struct {
		name, qtype string
		answers     []string
		msg         string
	}{
		{"www.test", "A", []string{"192.0.2.10", "192.0.2.11"}, "www.test A is 192.0.2.10, 192.0.2.11 (from " + server},
		{"www.test", "AAAA", []string{"2001:db8::10"}, "www.test AAAA is 2001:db8::10"},
		{"alias.test", "CNAME", []string{"www.test"}, "alias.test CNAME is www.test"},
		{"alias.test", "A", []string{"192.0.2.10", "192.0.2.11"}, "alias.test A is 192.0.2.10"},
		{"test", "MX", []string{"10 mail.test", "20 backup.test"}, "test MX is 10 mail.test, 20 backup.test"},
		{"test", "TXT", []string{"v=spf1 -all"}, "v=spf1 -all"},
		{"test", "NS", []string{"ns1.test"}, "ns1.test"},
		{"_ldap._tcp.test", "SRV", []string{"0 5 389 dc1.test"}, "0 5 389 dc1.test"},
		{"192.0.2.10", "PTR", []string{"www.test"}, "192.0.2.10 PTR is www.test"},
		{"10.2.0.192.in-addr.arpa", "PTR", []string{"www.test"}, "www.test"},
		{"www.test", "a", []string{"192.0.2.10", "192.0.2.11"}, "www.test A is"},
	}
	for _, tt := range tests {
		t.Run(tt.qtype+" "+tt.name, func(t *testing.T) {
			r := run(t, dnsCheck(t, server, tt.name, tt.qtype, nil), local)
			expect(t, r, diag.Pass, tt.msg)
			if got := r.Observed["answers"]; !reflect.DeepEqual(got, tt.answers) {
				t.Errorf("answers %#v, want %#v", got, tt.answers)
			}
			if r.Observed["rcode"] != "NOERROR" || r.Observed["server"] != server || r.Observed["protocol"] != "udp" {
				t.Errorf("observed %v", r.Observed)
			}
			if !strings.Contains(r.Evidence, "ANSWER SECTION") {
				t.Errorf("evidence is not a DNS answer: %s", r.Evidence)
			}
		})
	}
	r := run(t, dnsCheck(t, server, "alias.test", "A", nil), local)
	if !reflect.DeepEqual(r.Observed["cnames"], []string{"www.test"}) || r.Observed["ttl"] != 300 {
		t.Errorf("alias chain not observed: %v", r.Observed)
	}
}

func TestDNSFailures(t *testing.T) {
	server := startDNS(t)
	local := diag.NewLocal()
	tests := []struct {
		name   string
		check  *DNS
		status diag.Status
		msg    []string
		rcode  string
		hint   string
	}{
		{"NXDOMAIN", dnsCheck(t, server, "missing.test", "A", nil), diag.Fail, []string{"missing.test does not exist (NXDOMAIN from " + server}, "NXDOMAIN", "spelling"},
		{"no records of the type", dnsCheck(t, server, "mail.test", "AAAA", nil), diag.Fail, []string{"mail.test exists but has no AAAA records"}, "NOERROR", "add the record"},
		{"alias to nothing", dnsCheck(t, server, "dangling.test", "A", nil), diag.Fail, []string{"alias of v6only.test, which has no A records"}, "NOERROR", "CNAME"},
		{"SERVFAIL", dnsCheck(t, server, "servfail.test", "A", nil), diag.Fail, []string{"could not answer for servfail.test (SERVFAIL)"}, "SERVFAIL", "DNSSEC"},
		{"REFUSED", dnsCheck(t, server, "refused.test", "A", nil), diag.Fail, []string{"refused to answer for refused.test (REFUSED)"}, "REFUSED", "recursion"},
		{"server silent", dnsCheck(t, silentUDP(t), "www.test", "A", func(c *DNS) { c.Timeout = dur(300 * time.Millisecond) }), diag.Fail, []string{"no answer from", "within 300ms"}, "", "firewall"},
		{"nothing listens", dnsCheck(t, closedUDPPort(t), "www.test", "A", nil), diag.Fail, []string{"refused the query: nothing listens"}, "", "DNS service"},
		{"expect missing", dnsCheck(t, server, "www.test", "A", func(c *DNS) { c.Expect = []string{"192.0.2.10", "192.0.2.99"} }), diag.Fail, []string{"lacks the expected 192.0.2.99"}, "NOERROR", "authoritative"},
		{"expect equals: extra", dnsCheck(t, server, "www.test", "A", func(c *DNS) { c.Expect, c.ExpectMode = []string{"192.0.2.10"}, "equals" }), diag.Fail, []string{"also has the unexpected 192.0.2.11"}, "NOERROR", ""},
		{"expect any: none", dnsCheck(t, server, "www.test", "A", func(c *DNS) { c.Expect, c.ExpectMode = []string{"192.0.2.1", "192.0.2.2"}, "any" }), diag.Fail, []string{"none of the expected"}, "NOERROR", ""},
		{"slow answer", dnsCheck(t, server, "slow.test", "A", func(c *DNS) { c.MaxLatency = dur(time.Millisecond) }), diag.Warn, []string{"slower than max_latency (1ms)"}, "NOERROR", "slow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.check, local)
			expect(t, r, tt.status, tt.msg...)
			if got, _ := r.Observed["rcode"].(string); got != tt.rcode {
				t.Errorf("rcode %q, want %q", got, tt.rcode)
			}
			if tt.hint != "" && !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", r.Hint, tt.hint)
			}
			if _, ok := r.Observed["answers"].([]string); !ok {
				t.Errorf("answers missing from observed: %v", r.Observed)
			}
		})
	}
}

func TestDNSExpectPasses(t *testing.T) {
	server := startDNS(t)
	local := diag.NewLocal()
	for _, c := range []*DNS{
		dnsCheck(t, server, "www.test", "A", func(c *DNS) { c.Expect = []string{"192.0.2.11"} }),
		dnsCheck(t, server, "www.test", "A", func(c *DNS) { c.Expect, c.ExpectMode = []string{"192.0.2.11", "192.0.2.10"}, "equals" }),
		dnsCheck(t, server, "www.test", "A", func(c *DNS) { c.Expect, c.ExpectMode = []string{"192.0.2.1", "192.0.2.10"}, "any" }),
		dnsCheck(t, server, "www.test", "AAAA", func(c *DNS) { c.Expect = []string{"2001:0db8:0::10"} }),
		dnsCheck(t, server, "test", "MX", func(c *DNS) { c.Expect = []string{"MAIL.test."} }),
		dnsCheck(t, server, "test", "MX", func(c *DNS) { c.Expect = []string{"20 backup.test"} }),
		dnsCheck(t, server, "alias.test", "CNAME", func(c *DNS) { c.Expect = []string{"www.test."} }),
	} {
		r := run(t, c, local)
		expect(t, r, diag.Pass)
	}
}

func TestDNSTransport(t *testing.T) {
	server := startDNS(t)
	t.Run("truncated answer is fetched over TCP", func(t *testing.T) {
		r := run(t, dnsCheck(t, server, "big.test", "TXT", nil), diag.NewLocal())
		expect(t, r, diag.Pass, "big.test TXT is record 00")
		if r.Observed["protocol"] != "tcp" || len(r.Observed["answers"].([]string)) != 40 {
			t.Errorf("observed %v", r.Observed)
		}
		if !strings.Contains(r.Evidence, "truncated; asked again over TCP") {
			t.Errorf("evidence does not say why TCP was used: %s", r.Evidence)
		}
	})
	t.Run("target without UDP asks over TCP", func(t *testing.T) {
		r := run(t, dnsCheck(t, server, "www.test", "A", nil), tcpOnly{diag.NewLocal()})
		expect(t, r, diag.Pass)
		if r.Observed["protocol"] != "tcp" || !strings.Contains(r.Evidence, "UDP is not available") {
			t.Errorf("observed %v, evidence %s", r.Observed, r.Evidence)
		}
	})
	t.Run("server name that does not resolve", func(t *testing.T) {
		target := newResolvingTarget(server)
		r := run(t, dnsCheck(t, "ns.missing.test", "www.test", "A", nil), target)
		expect(t, r, diag.Error, "cannot resolve ns.missing.test")
	})
	t.Run("cancelled", func(t *testing.T) {
		c := dnsCheck(t, silentUDP(t), "www.test", "A", nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if r := c.Run(ctx, diag.NewLocal()); r.Status != diag.Error {
			t.Errorf("cancelled check reported %s: %s", r.Status, r.Message)
		}
	})
}

func TestDNSSystemResolver(t *testing.T) {
	server := startDNS(t)
	target := newResolvingTarget(server)
	r := run(t, dnsCheck(t, "", "www.test.", "A", nil), target)
	expect(t, r, diag.Pass, "www.test. A is 192.0.2.10, 192.0.2.11 (through the system resolver")
	if r.Observed["server"] != "system" {
		t.Errorf("server %v, want system", r.Observed["server"])
	}
	if _, err := os.Stat(resolvConfPath); err == nil {
		if _, ok := r.Observed["nameservers"]; !ok {
			t.Errorf("nameservers of %s not observed: %v", resolvConfPath, r.Observed)
		}
	}

	r = run(t, dnsCheck(t, "", "missing.test.", "A", nil), target)
	expect(t, r, diag.Fail, "does not resolve to any A record through the system resolver")

	for _, n := range []string{"servfail.test.", "refused.test."} {
		r = run(t, dnsCheck(t, "", n, "A", nil), target)
		expect(t, r, diag.Fail, "the system's DNS server could not answer for "+n)
	}

	r = run(t, dnsCheck(t, "", "192.0.2.10", "PTR", nil), target)
	expect(t, r, diag.Pass, "192.0.2.10 PTR is www.test")
	r = run(t, dnsCheck(t, "", "10.2.0.192.in-addr.arpa", "PTR", nil), target)
	expect(t, r, diag.Pass, "PTR is www.test")
}

// TestDNSResolvConf covers a target that cannot resolve for triage: the
// check reads its resolv.conf and asks those servers itself.
func TestDNSResolvConf(t *testing.T) {
	server := startDNS(t)
	silent := silentUDP(t)
	conf := func(content string) string {
		path := filepath.Join(t.TempDir(), "resolv.conf")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	target := func(resolvConf string) diag.Target {
		return redirected{
			Target: diag.NewLocal(),
			addrs:  map[string]string{"127.0.0.1:53": server, "127.0.0.2:53": silent, "127.0.0.3:53": server},
			files:  map[string]string{resolvConfPath: resolvConf},
		}
	}

	r := run(t, dnsCheck(t, "", "www", "A", nil), target(conf("nameserver 127.0.0.1\nsearch test\n")))
	expect(t, r, diag.Pass, "www A is 192.0.2.10", "from 127.0.0.1:53")
	if !reflect.DeepEqual(r.Observed["nameservers"], []string{"127.0.0.1"}) {
		t.Errorf("nameservers %v", r.Observed["nameservers"])
	}

	r = run(t, dnsCheck(t, "", "www.test", "A", func(c *DNS) { c.Timeout = dur(time.Second) }),
		target(conf("# first one is down\nnameserver 127.0.0.2\nnameserver 127.0.0.3\noptions timeout:1\n")))
	expect(t, r, diag.Pass, "from 127.0.0.3:53")
	if !strings.Contains(r.Evidence, "127.0.0.2:53: no answer") {
		t.Errorf("evidence does not show the silent server: %s", r.Evidence)
	}

	r = run(t, dnsCheck(t, "", "missing.test", "A", nil), target(conf("nameserver 127.0.0.1\n")))
	expect(t, r, diag.Fail, "does not exist (NXDOMAIN from 127.0.0.1:53)")

	r = run(t, dnsCheck(t, "", "www.test", "A", func(c *DNS) { c.Timeout = dur(300 * time.Millisecond) }), target(conf("nameserver 127.0.0.2\n")))
	expect(t, r, diag.Fail, "no answer from 127.0.0.2:53")

	r = run(t, dnsCheck(t, "", "www.test", "A", nil), redirected{Target: diag.NewLocal(), files: map[string]string{resolvConfPath: "/nonexistent/resolv.conf"}})
	expect(t, r, diag.Error, "cannot find the DNS servers")
}

func TestDNSValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*DNS)
		field string
	}{
		{"unknown type", func(c *DNS) { c.Type = "AXFR" }, "type"},
		{"empty name", func(c *DNS) { c.Name = "" }, "name"},
		{"URL as name", func(c *DNS) { c.Name = "https://www.example.com/" }, "name"},
		{"IP with type A", func(c *DNS) { c.Name = "192.0.2.1" }, "name"},
		{"PTR of a name", func(c *DNS) { c.Name, c.Type = "www.example.com", "PTR" }, "name"},
		{"label too long", func(c *DNS) { c.Name = strings.Repeat("a", 64) + ".example.com" }, "name"},
		{"bad server port", func(c *DNS) { c.Server = "192.0.2.53:99999" }, "server"},
		{"server URL", func(c *DNS) { c.Server = "udp://192.0.2.53" }, "server"},
		{"bad expect_mode", func(c *DNS) { c.Expect, c.ExpectMode = []string{"192.0.2.1"}, "some" }, "expect_mode"},
		{"expect_mode without expect", func(c *DNS) { c.ExpectMode = "equals" }, "expect_mode"},
		{"expect A not IPv4", func(c *DNS) { c.Expect = []string{"2001:db8::1"} }, "expect"},
		{"expect AAAA not IPv6", func(c *DNS) { c.Type, c.Expect = "AAAA", []string{"192.0.2.1"} }, "expect"},
		{"empty expect value", func(c *DNS) { c.Type, c.Expect = "MX", []string{""} }, "expect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dnsCheck(t, "", "www.example.com", "A", tt.edit)
			assertFieldError(t, c.Validate(), tt.field)
		})
	}
	for _, ok := range []*DNS{
		dnsCheck(t, "192.0.2.53", "www.example.com", "A", nil),
		dnsCheck(t, "[2001:db8::53]:5353", "www.example.com", "AAAA", nil),
		dnsCheck(t, "2001:db8::53", "_sip._udp.example.com", "SRV", nil),
		dnsCheck(t, "", "2001:db8::1", "PTR", nil),
		dnsCheck(t, "", "1.2.0.192.in-addr.arpa.", "ptr", nil),
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v rejected: %v", ok, err)
		}
	}
}

func TestReverseToIP(t *testing.T) {
	for _, ip := range []string{"192.0.2.10", "2001:db8::1", "::1"} {
		arpa, err := dns.ReverseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := reverseToIP(arpa)
		if !ok || got.String() != ip {
			t.Errorf("reverseToIP(%s) = %v, %v; want %s", arpa, got, ok, ip)
		}
	}
	if _, ok := reverseToIP("1.2.3.in-addr.arpa"); ok {
		t.Error("a partial reverse name was read as an address")
	}
}

// listingResolver resolves through a test server and lists its own DNS
// servers, as the local target does.
type listingResolver struct {
	resolvingTarget
	servers []string
}

func (l listingResolver) Nameservers(context.Context) (diag.DNSConfig, error) {
	return diag.DNSConfig{Servers: l.servers, Source: "the adapters"}, nil
}

// TestDNSFirstServerDead: the system resolver runs out of time while it
// waits on a dead first server; asked directly, the second answers, so
// the check says names resolve late, and why, instead of failing flatly.
func TestDNSFirstServerDead(t *testing.T) {
	good, silent := startDNS(t), silentUDP(t)
	c := newKind[*DNS](t, "dns")
	c.Name, c.Timeout = "www.test", dur(500*time.Millisecond)
	r := run(t, c, listingResolver{newResolvingTarget(silent), []string{silent, good}})
	expect(t, r, diag.Warn, "names resolve, but only after the first server times out", "the first DNS server, "+silent+", does not answer", good+" answers when asked directly")
	if r.Observed["answered_directly_by"] != good {
		t.Errorf("observed %v", r.Observed)
	}

	// Every server answers directly: the resolver itself is at fault.
	r = run(t, c, listingResolver{newResolvingTarget(silent), []string{good}})
	expect(t, r, diag.Fail, "although its DNS server "+good+" answers when asked directly")
	if !strings.Contains(r.Hint, "resolver") {
		t.Errorf("hint %q", r.Hint)
	}
}

// startDNSWith serves h on 127.0.0.1 over UDP and TCP on one port.
func startDNSWith(t *testing.T, h dns.Handler) string {
	t.Helper()
	for attempt := 0; attempt < 20; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			pc.Close()
			continue
		}
		for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
			started := make(chan struct{})
			srv.NotifyStartedFunc = func() { close(started) }
			go srv.ActivateAndServe()
			<-started
			t.Cleanup(func() { srv.Shutdown() })
		}
		return addr
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return ""
}

// rewritingHandler answers like zoneHandler, except that a name that does
// not exist gets the address to instead of NXDOMAIN, as a provider's
// "search helper" does.
func rewritingHandler(t *testing.T, to string) dns.HandlerFunc {
	zone := zoneHandler(t)
	return func(w dns.ResponseWriter, q *dns.Msg) {
		rec := &capture{ResponseWriter: w}
		zone(rec, q)
		m := rec.msg
		if m.Rcode == dns.RcodeNameError && q.Question[0].Qtype == dns.TypeA {
			m.Rcode, m.Ns = dns.RcodeSuccess, nil
			rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A " + to)
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	}
}

type capture struct {
	dns.ResponseWriter
	msg *dns.Msg
}

func (c *capture) WriteMsg(m *dns.Msg) error { c.msg = m; return nil }

// TestDNSNXDomainProbe: a name that cannot exist must come back NXDOMAIN;
// a server that answers it with an address rewrites missing names, and
// the address is named.
func TestDNSNXDomainProbe(t *testing.T) {
	honest := startDNS(t)
	rewriting := startDNSWith(t, rewritingHandler(t, "192.0.2.66"))
	probe := func(c *DNS) { c.NXDomainProbe = true }

	r := run(t, dnsCheck(t, honest, "test", "A", probe), diag.NewLocal())
	expect(t, r, diag.Pass, "a name that cannot exist", "NXDOMAIN")
	if p, _ := r.Observed["probe_name"].(string); !strings.HasPrefix(p, "triage-") || !strings.HasSuffix(p, ".test") {
		t.Errorf("probe_name %q", p)
	}

	r = run(t, dnsCheck(t, rewriting, "test", "A", probe), diag.NewLocal())
	expect(t, r, diag.Warn, "192.0.2.66", "cannot exist", "rewrites", rewriting)
	if !reflect.DeepEqual(r.Observed["rewritten_to"], []string{"192.0.2.66"}) {
		t.Errorf("rewritten_to %v", r.Observed["rewritten_to"])
	}

	// Over a target that forwards TCP only (SSH), from the configured
	// servers: one honest, one rewriting.
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 192.0.2.53\nnameserver 192.0.2.54\n"), 0o644)
	target := tcpOnly{redirected{Target: diag.NewLocal(),
		addrs: map[string]string{"192.0.2.53:53": honest, "192.0.2.54:53": rewriting},
		files: map[string]string{resolvConfPath: resolv}}}
	r = run(t, dnsCheck(t, "", "test", "A", probe), target)
	expect(t, r, diag.Warn, "the DNS server 192.0.2.54 answers", "192.0.2.66")

	// Names REFUSED and timeouts as such, and no verdict without an answer.
	refusing := startDNSWith(t, dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeRefused)
		w.WriteMsg(m)
	}))
	r = run(t, dnsCheck(t, refusing, "test", "A", probe), diag.NewLocal())
	expect(t, r, diag.Error, "REFUSED")
	if r.Upstream == nil || r.Upstream.What != diag.PrereqDNSServer {
		t.Errorf("upstream %v, want the DNS servers", r.Upstream)
	}
	r = run(t, dnsCheck(t, silentUDP(t), "test", "A", func(c *DNS) { probe(c); c.Timeout = dur(300 * time.Millisecond) }), tcpOnly{diag.NewLocal()})
	expect(t, r, diag.Error)

	if err := dnsCheck(t, honest, "test", "MX", probe).Validate(); err == nil {
		t.Error("nxdomain_probe with type MX validates")
	}
}

// TestDNSFilteringNamed: a name one configured server says does not exist
// while another answers it is filtered by the first, and the check says
// which.
func TestDNSFilteringNamed(t *testing.T) {
	honest := startDNS(t)
	zone := zoneHandler(t)
	filtering := startDNSWith(t, dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		if strings.EqualFold(q.Question[0].Name, "www.test.") {
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeNameError)
			w.WriteMsg(m)
			return
		}
		zone(w, q)
	}))
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 192.0.2.53\nnameserver 192.0.2.54\n"), 0o644)
	target := tcpOnly{redirected{Target: diag.NewLocal(),
		addrs: map[string]string{"192.0.2.53:53": filtering, "192.0.2.54:53": honest},
		files: map[string]string{resolvConfPath: resolv}}}
	r := run(t, dnsCheck(t, "", "www.test", "A", nil), target)
	expect(t, r, diag.Fail, "the DNS server 192.0.2.53 says www.test does not exist (NXDOMAIN), while 192.0.2.54 answers 192.0.2.10", "filters")
	// A name that really does not exist stays NXDOMAIN, with no blame.
	r = run(t, dnsCheck(t, "", "missing.test", "A", nil), target)
	expect(t, r, diag.Fail, "does not exist (NXDOMAIN")
	if strings.Contains(r.Message, "filters") {
		t.Errorf("a missing name is called filtered: %q", r.Message)
	}
}

// TestNameserversExplainNames: DNS servers found slow explain a name that
// did not resolve in time, whichever check needed it (a clock's NTP
// server); DNS servers that answer well explain nothing.
func TestNameserversExplainNames(t *testing.T) {
	for _, status := range []diag.Status{diag.Warn, diag.Pass} {
		checks := []diag.Check{{ID: "dns-servers", Kind: "nameservers", Group: "p"}, {ID: "clock", Kind: "time", Group: "p"}}
		results := []diag.Result{
			{ID: "dns-servers", Kind: "nameservers", Title: "DNS servers", Status: status, Message: "slow"},
			diag.Result{ID: "clock", Kind: "time", Title: "Clock", Status: diag.Error, Message: "cannot resolve pool.ntp.org"}.WithUpstream(diag.NeedName("pool.ntp.org")),
		}
		diag.Attribute(checks, results)
		blocked := results[1].BlockedBy == "dns-servers"
		if blocked != (status == diag.Warn) {
			t.Errorf("DNS servers %s: clock blocked by %q", status, results[1].BlockedBy)
		}
	}
}
