package diag

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// localResolver is the resolver Local.Resolve asks. It is the zero
// net.Resolver, which follows the system's configuration (cgo or the pure
// Go resolver, whichever Go picks on this platform), so a lookup sees what
// other programs on this machine see. Tests point it at a loopback server.
var localResolver = &net.Resolver{}

// Resolve looks name up through this machine's resolver. See SystemResolver.
func (*Local) Resolve(ctx context.Context, qtype, name string) ([]string, error) {
	r := localResolver
	var out []string
	switch strings.ToUpper(qtype) {
	case "A", "AAAA":
		network := "ip4"
		if strings.EqualFold(qtype, "AAAA") {
			network = "ip6"
		}
		ips, err := r.LookupNetIP(ctx, network, name)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			out = append(out, ip.Unmap().String())
		}
	case "CNAME":
		cname, err := r.LookupCNAME(ctx, name)
		if err != nil {
			return nil, err
		}
		// LookupCNAME answers with the name itself when the name has
		// address records but no alias: that is "no CNAME", not a CNAME
		// pointing at itself.
		if strings.EqualFold(strings.TrimSuffix(cname, "."), strings.TrimSuffix(name, ".")) {
			return nil, &net.DNSError{Err: "no CNAME record", Name: name, IsNotFound: true}
		}
		out = append(out, strings.TrimSuffix(cname, "."))
	case "MX":
		mxs, err := r.LookupMX(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, mx := range mxs {
			out = append(out, strconv.Itoa(int(mx.Pref))+" "+strings.TrimSuffix(mx.Host, "."))
		}
	case "TXT":
		txts, err := r.LookupTXT(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, txts...)
	case "NS":
		nss, err := r.LookupNS(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, ns := range nss {
			out = append(out, strings.TrimSuffix(ns.Host, "."))
		}
	case "SRV":
		// Empty service and proto make LookupSRV ask for name as given,
		// such as _ldap._tcp.example.com.
		_, srvs, err := r.LookupSRV(ctx, "", "", name)
		if err != nil {
			return nil, err
		}
		for _, s := range srvs {
			out = append(out, fmt.Sprintf("%d %d %d %s", s.Priority, s.Weight, s.Port, strings.TrimSuffix(s.Target, ".")))
		}
	case "PTR":
		if _, err := netip.ParseAddr(name); err != nil {
			return nil, fmt.Errorf("a PTR lookup through the system resolver needs an IP address, not %q", name)
		}
		names, err := r.LookupAddr(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			out = append(out, strings.TrimSuffix(n, "."))
		}
	default:
		return nil, fmt.Errorf("record type %q: %w", qtype, ErrUnsupported)
	}
	return out, nil
}
