package diag

import "context"

// SystemResolver is an optional Target capability: looking a name up the
// way the target's own programs do (hosts file, nsswitch, the DNS servers
// the system is configured with), rather than by asking one DNS server.
// The dns check uses it when no server is given; for a target without it,
// the check reads the target's /etc/resolv.conf and asks those servers.
type SystemResolver interface {
	// Resolve returns the records of type qtype (A, AAAA, CNAME, MX, TXT,
	// NS, SRV or PTR) for name, each written the way the dns check
	// reports answers: an address for A and AAAA; a name without the
	// trailing dot for CNAME, NS and PTR; "preference host" for MX;
	// "priority weight port target" for SRV; the joined strings of one
	// record for TXT. For PTR, name is an IP address.
	//
	// A failed lookup returns a *net.DNSError where the resolver said why
	// (IsNotFound for a name that does not exist or has no such records,
	// IsTimeout for a server that did not answer), so a check can tell
	// "this name is broken" from "could not ask".
	Resolve(ctx context.Context, qtype, name string) ([]string, error)
}
