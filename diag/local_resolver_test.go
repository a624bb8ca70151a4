package diag

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zone is what the loopback DNS server behind localResolver answers.
var zone = []string{
	"www.test. 300 IN A 192.0.2.10",
	"www.test. 300 IN AAAA 2001:db8::10",
	"alias.test. 300 IN CNAME www.test.",
	"test. 300 IN MX 10 mail.test.",
	"test. 300 IN NS ns1.test.",
	`test. 300 IN TXT "v=spf1 " "-all"`,
	"_ldap._tcp.test. 300 IN SRV 0 5 389 dc1.test.",
	"10.2.0.192.in-addr.arpa. 300 IN PTR www.test.",
}

// withLoopbackResolver points Local.Resolve at a DNS server on 127.0.0.1
// for the duration of the test, so no query leaves the machine.
func withLoopbackResolver(t *testing.T) {
	t.Helper()
	records := map[string][]dns.RR{}
	for _, s := range zone {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		records[rr.Header().Name] = append(records[rr.Header().Name], rr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true
		name, qtype := strings.ToLower(q.Question[0].Name), q.Question[0].Qtype
		rrs, ok := records[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == qtype || rr.Header().Rrtype == dns.TypeCNAME {
				m.Answer = append(m.Answer, rr)
			}
			if c, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
				for _, target := range records[c.Target] {
					if target.Header().Rrtype == qtype {
						m.Answer = append(m.Answer, target)
					}
				}
			}
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	addr := pc.LocalAddr().String()

	saved := localResolver
	localResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
	t.Cleanup(func() {
		localResolver = saved
		srv.Shutdown()
	})
}

func TestLocalResolve(t *testing.T) {
	withLoopbackResolver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		qtype, name string
		want        []string
	}{
		{"A", "www.test.", []string{"192.0.2.10"}},
		{"AAAA", "www.test.", []string{"2001:db8::10"}},
		{"a", "alias.test.", []string{"192.0.2.10"}},
		{"CNAME", "alias.test.", []string{"www.test"}},
		{"MX", "test.", []string{"10 mail.test"}},
		{"NS", "test.", []string{"ns1.test"}},
		{"TXT", "test.", []string{"v=spf1 -all"}},
		{"SRV", "_ldap._tcp.test.", []string{"0 5 389 dc1.test"}},
		{"PTR", "192.0.2.10", []string{"www.test"}},
	}
	local := NewLocal()
	for _, tt := range tests {
		got, err := local.Resolve(ctx, tt.qtype, tt.name)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Resolve(%s %s) = %q, %v; want %q", tt.qtype, tt.name, got, err, tt.want)
		}
	}

	var dnsErr *net.DNSError
	if _, err := local.Resolve(ctx, "A", "missing.test."); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("a missing name gave %v, want a not-found DNSError", err)
	}
	if _, err := local.Resolve(ctx, "CNAME", "www.test."); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("a name without an alias gave %v, want a not-found DNSError", err)
	}
	if _, err := local.Resolve(ctx, "AXFR", "test."); !errors.Is(err, ErrUnsupported) {
		t.Errorf("an unsupported type gave %v", err)
	}
	if _, err := local.Resolve(ctx, "PTR", "www.test."); err == nil {
		t.Error("a PTR lookup of a name was accepted")
	}
	var _ SystemResolver = local
}
