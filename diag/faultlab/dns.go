//go:build linux

package faultlab

import (
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Zone is what the lab's DNS server answers: A records, by lower-case
// name. Every other name is NXDOMAIN.
var Zone = map[string]string{
	"example.com":                   WebAddr,
	"connectivitycheck.gstatic.com": WebAddr,
	"pool.ntp.org":                  WebAddr,
	"intranet.example.org":          IntranetAddr,
	// The captive portal's login page (SetCaptivePortal), on the router,
	// as a guest network's portal resolves its own name.
	PortalName: RouterAddr,
}

// DNSBehaviour is how the router's DNS server answers. The zero value is
// a healthy server.
type DNSBehaviour struct {
	// Refuse answers REFUSED to every query.
	Refuse bool
	// Delay holds every answer back this long.
	Delay time.Duration
	// NXDomain answers NXDOMAIN for this one name (no trailing dot).
	NXDomain string
	// RewriteNXDomain, when set, answers every A query for a name that
	// does not exist with this address instead of NXDOMAIN, as an
	// internet provider's "search helper" does.
	RewriteNXDomain string
	// Wildcards answer every A query for a name under a domain (the key,
	// lower case, no final dot) that the zone does not have with an
	// address (the value), as a record *.domain does.
	Wildcards map[string]string
}

// wildcard returns the address a wildcard record gives name.
func (b DNSBehaviour) wildcard(name string) (string, bool) {
	for domain, addr := range b.Wildcards {
		if strings.HasSuffix(name, "."+domain) {
			return addr, true
		}
	}
	return "", false
}

// dnsServer is a home router's DNS server on UDP and TCP.
type dnsServer struct {
	mu   sync.Mutex
	b    DNSBehaviour
	done chan struct{}
	srvs []*dns.Server
	wg   sync.WaitGroup
	// v6 holds the AAAA records (SetAAAA), by lower-case name: none by
	// default, as the lab has no IPv6 until a scenario gives it some.
	v6 map[string]string
}

func startDNS(ns, addr string) (*dnsServer, error) {
	s := &dnsServer{done: make(chan struct{})}
	pc, err := listenPacketIn(ns, addr)
	if err != nil {
		return nil, err
	}
	ln, err := listenIn(ns, addr)
	if err != nil {
		pc.Close()
		return nil, err
	}
	s.srvs = []*dns.Server{
		{PacketConn: pc, Handler: s},
		{Listener: ln, Handler: s},
	}
	for _, srv := range s.srvs {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = srv.ActivateAndServe()
		}()
		<-started
	}
	return s, nil
}

func (s *dnsServer) set(b DNSBehaviour) {
	s.mu.Lock()
	s.b = b
	s.mu.Unlock()
}

// ServeDNS answers one query.
func (s *dnsServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	s.mu.Lock()
	b := s.b
	s.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if b.Delay > 0 {
		select {
		case <-time.After(b.Delay):
		case <-s.done:
			return
		}
	}
	switch {
	case b.Refuse:
		m.Rcode = dns.RcodeRefused
	case len(r.Question) != 1:
		m.Rcode = dns.RcodeFormatError
	default:
		q := r.Question[0]
		name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
		addr, ok := Zone[name]
		if !ok {
			addr, ok = b.wildcard(name)
		}
		switch {
		case !ok && b.RewriteNXDomain != "" && q.Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.ParseIP(b.RewriteNXDomain).To4(),
			})
		case !ok || strings.EqualFold(name, b.NXDomain):
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY:
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.ParseIP(addr).To4(),
			})
		case q.Qtype == dns.TypeAAAA:
			m.Answer = append(m.Answer, s.aaaa(q.Name, name)...)
		}
		// Other types of a known name: NOERROR with no answer (NODATA).
	}
	_ = w.WriteMsg(m)
}

func (s *dnsServer) close() {
	close(s.done)
	for _, srv := range s.srvs {
		_ = srv.Shutdown()
	}
	s.wg.Wait()
}
