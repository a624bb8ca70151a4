//go:build linux

package faultlab

import (
	"errors"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// The lab's IPv6 addresses (2001:db8::/32, documentation, RFC 3849). The
// lab has no IPv6 until EnableIPv6 gives it some, and Reset takes it away.
const (
	UserAddr6       = "2001:db8::10"   // the user's machine, on eth0
	RouterAddr6     = "2001:db8::1"    // the router, towards the user
	RouterInetAddr6 = "2001:db8:1::1"  // the router, towards the internet
	WebAddr6        = "2001:db8:1::10" // example.com's AAAA record (EnableIPv6)
)

// SetAAAA makes the lab's DNS server answer AAAA queries for name with
// addr. Reset removes every AAAA record.
func (l *Lab) SetAAAA(name, addr string) {
	s := l.dns
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v6 == nil {
		s.v6 = map[string]string{}
	}
	s.v6[strings.ToLower(strings.TrimSuffix(name, "."))] = addr
}

// ClearAAAA removes every AAAA record: the DNS server answers AAAA
// queries with no records again.
func (l *Lab) ClearAAAA() {
	s := l.dns
	s.mu.Lock()
	s.v6 = nil
	s.mu.Unlock()
}

// aaaa is the answer to an AAAA query for name (lower case, no trailing
// dot) asked as qname.
func (s *dnsServer) aaaa(qname, name string) []dns.RR {
	s.mu.Lock()
	addr, ok := s.v6[name]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return []dns.RR{&dns.AAAA{
		Hdr:  dns.RR_Header{Name: qname, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60},
		AAAA: net.ParseIP(addr),
	}}
}

// EnableIPv6 gives the lab IPv6, as a provider that hands it out does: a
// global address and a default route on the user's machine, the router
// forwarding IPv6 to the internet, example.com's server reachable at
// WebAddr6 and its AAAA record in the DNS server. Duplicate address
// detection is off, so the addresses work at once.
func (l *Lab) EnableIPv6() error {
	steps := []struct {
		ns   string
		args []string
	}{
		{l.User, []string{"-6", "addr", "add", UserAddr6 + "/64", "dev", UserIface, "nodad"}},
		{l.Router, []string{"-6", "addr", "add", RouterAddr6 + "/64", "dev", RouterUserIface, "nodad"}},
		{l.Router, []string{"-6", "addr", "add", RouterInetAddr6 + "/64", "dev", RouterInetIface, "nodad"}},
		{l.Inet, []string{"-6", "addr", "add", WebAddr6 + "/64", "dev", "eth0", "nodad"}},
		{l.Inet, []string{"-6", "route", "replace", "default", "via", RouterInetAddr6}},
		{l.User, []string{"-6", "route", "replace", "default", "via", RouterAddr6, "dev", UserIface}},
	}
	for _, s := range steps {
		if err := l.IP(s.ns, s.args...); err != nil {
			return err
		}
	}
	if err := runIn(l.Router, "", "sh", "-c", "echo 1 >/proc/sys/net/ipv6/conf/all/forwarding"); err != nil {
		return err
	}
	l.SetAAAA("example.com", WebAddr6)
	return nil
}

// resetIPv6 takes away what EnableIPv6 gave: the AAAA records, the
// global IPv6 addresses, the IPv6 default routes and the router's IPv6
// forwarding.
func (l *Lab) resetIPv6() error {
	l.ClearAAAA()
	var errs []error
	for _, s := range []struct{ ns, dev string }{
		{l.User, UserIface}, {l.Router, RouterUserIface}, {l.Router, RouterInetIface}, {l.Inet, "eth0"},
	} {
		errs = append(errs, l.IP(s.ns, "-6", "addr", "flush", "dev", s.dev, "scope", "global"))
	}
	for _, ns := range []string{l.User, l.Inet} {
		// Deleting a route that is not there fails; the flush does not.
		errs = append(errs, l.IP(ns, "-6", "route", "flush", "default"))
	}
	errs = append(errs, runIn(l.Router, "", "sh", "-c", "echo 0 >/proc/sys/net/ipv6/conf/all/forwarding"))
	return errors.Join(errs...)
}
