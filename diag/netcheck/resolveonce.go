package netcheck

import (
	"context"
	"fmt"
	"net"

	"github.com/triage-dev/triage/diag"
)

// resolveOnce looks a name up once, the way the target's programs would,
// for probes that send many packets to it (a row of pings, don't-fragment
// probes of several sizes): a ping command given the name looks it up
// each time, so a slow DNS server would make every probe late and turn a
// slow lookup, which the DNS checks report, into lost packets. An address
// is returned as it is; so is the name, on a target that cannot resolve
// for us. The lookup is bounded by ctx alone, not by the probe's own
// timeout, which is for the packets: a slow lookup is the DNS checks'
// finding, and the probe still measures what it is for once it has the
// address.
func resolveOnce(ctx context.Context, t diag.Target, host string) (string, error) {
	if host == "" || net.ParseIP(host) != nil {
		return host, nil
	}
	sr, ok := t.(diag.SystemResolver)
	if !ok {
		return host, nil
	}
	addrs, err := sr.Resolve(ctx, "A", host)
	if err != nil {
		return "", err
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("%s has no IPv4 address", host)
	}
	return addrs[0], nil
}

// unresolved is the result of a probe whose host did not resolve: not its
// finding, but the names layer's, which it is put down to.
func unresolved(t diag.Target, host string, err error) diag.Result {
	return diag.Resultf(diag.Error, "cannot resolve %s on %s: %v", host, where(t), err).
		WithHint("the name must resolve before packets can be sent to it: the dns checks of this run say why it does not").
		WithUpstream(diag.NeedName(host))
}
