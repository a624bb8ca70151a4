package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/triage-dev/triage/diag"
)

var _ diag.SystemResolver = (*Target)(nil)

// Resolve looks a name up the way programs on the target do, through its
// C library (hosts file, nsswitch, its DNS servers), with getent. getent
// knows addresses only; for other record types, and on targets without
// it, it answers ErrUnsupported and the dns check asks the target's DNS
// servers itself.
func (t *Target) Resolve(ctx context.Context, qtype, name string) ([]string, error) {
	var argv []string
	switch qtype {
	case "A":
		argv = []string{"getent", "ahostsv4", name}
	case "AAAA":
		argv = []string{"getent", "ahostsv6", name}
	case "PTR":
		if _, err := netip.ParseAddr(name); err != nil {
			return nil, fmt.Errorf("reverse lookup of %q: %w", name, diag.ErrUnsupported)
		}
		argv = []string{"getent", "hosts", name}
	default:
		return nil, fmt.Errorf("%s records through getent: %w", qtype, diag.ErrUnsupported)
	}
	res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: 256 << 10})
	switch {
	case errors.Is(err, diag.ErrCommandNotFound), errors.Is(err, diag.ErrUnsupported):
		return nil, fmt.Errorf("getent on %s: %w", t.name, diag.ErrUnsupported)
	case err != nil:
		return nil, err
	case res.ExitCode == 2 && qtype == "PTR":
		// getent: "One or more supplied key could not be found".
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	case res.ExitCode == 2:
		// "not found", or "could not ask": glibc says the same for both.
		return nil, t.notFoundOrUnasked(ctx, name)
	case res.ExitCode != 0:
		return nil, &net.DNSError{Err: fmt.Sprintf("getent exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr))), Name: name}
	}
	return ParseGetent(qtype, res.Stdout), nil
}

// ParseGetent reads getent's output: for ahostsv4/ahostsv6 one address per
// line (repeated for each socket type), for hosts "address name aliases...".
func ParseGetent(qtype string, out []byte) []string {
	var vals []string
	seen := map[string]bool{}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch qtype {
		case "A", "AAAA":
			ip, err := netip.ParseAddr(f[0])
			if err != nil {
				continue
			}
			// ahostsv6 maps IPv4 addresses into IPv6 when a name has no
			// IPv6 address; those are not AAAA records.
			if qtype == "AAAA" && (ip.Is4() || ip.Is4In6()) {
				continue
			}
			if qtype == "A" && !ip.Is4() {
				continue
			}
			add(ip.String())
		case "PTR":
			for _, name := range f[1:] {
				add(strings.TrimSuffix(name, "."))
			}
		}
	}
	return vals
}
