package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
)

// dialTarget opens a connection through the target and ties it to ctx: the
// context's deadline becomes the connection's, and cancelling the context
// unblocks a read or write in progress. Targets only promise that Dial
// itself respects ctx, and a peer that accepts and then stays silent must
// not hold a check past its timeout.
func dialTarget(ctx context.Context, t diag.Target, network, address string) (net.Conn, error) {
	address, err := lookupTraced(ctx, t, network, address)
	if err != nil {
		return nil, err
	}
	c, err := t.Dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	cc := &ctxConn{Conn: c}
	cc.stop = context.AfterFunc(ctx, func() {
		// A deadline in the past wakes every blocked call with a timeout
		// error, without racing the owner's Close.
		_ = c.SetDeadline(time.Unix(1, 0))
	})
	return cc, nil
}

// lookupTraced resolves the name of address on a remote target before an
// HTTP check dials it, inside the request's trace: the target would look
// it up anyway while opening the tunnel, but then the check could not
// tell a slow or dead name lookup from a connection that does not open,
// and would blame the network for what the DNS checks explain. On this
// machine Go's own dialer reports the lookup to the trace itself.
func lookupTraced(ctx context.Context, t diag.Target, network, address string) (string, error) {
	trace := httptrace.ContextClientTrace(ctx)
	sr, ok := t.(diag.SystemResolver)
	if _, local := t.(*diag.Local); local || !ok || trace == nil || network == "tcp6" {
		return address, nil
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil || net.ParseIP(host) != nil {
		return address, nil
	}
	if trace.DNSStart != nil {
		trace.DNSStart(httptrace.DNSStartInfo{Host: host})
	}
	addrs, err := sr.Resolve(ctx, "A", host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no IPv4 address", Name: host, IsNotFound: true}
	}
	if err != nil && ctx.Err() != nil {
		err = &net.DNSError{Err: "no answer in time", Name: host, IsTimeout: true}
	}
	if trace.DNSDone != nil {
		trace.DNSDone(httptrace.DNSDoneInfo{Err: err})
	}
	if err != nil {
		return "", &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return net.JoinHostPort(addrs[0], port), nil
}

type ctxConn struct {
	net.Conn
	stop     func() bool
	stopOnce sync.Once
}

func (c *ctxConn) Close() error {
	c.stopOnce.Do(func() { c.stop() })
	return c.Conn.Close()
}

// withTimeout derives the context a check works under: its own timeout
// parameter, still bounded by the runner's deadline.
func withTimeout(ctx context.Context, d diag.Duration, def time.Duration) (context.Context, context.CancelFunc, time.Duration) {
	timeout := d.D()
	if timeout <= 0 {
		timeout = def
	}
	c, cancel := context.WithTimeout(ctx, timeout)
	return c, cancel, timeout
}

// cancelled is what a check returns when the run's context ended under
// it; the runner replaces the message with its own words.
func cancelled(parent context.Context) diag.Result {
	return diag.Resultf(diag.Error, "stopped: %v", context.Cause(parent)).
		WithHint("the run was interrupted or reached its deadline before this check finished")
}

// netProblem sorts a network error into the outcomes a person acts on
// differently.
type netProblem int

const (
	problemOther netProblem = iota
	problemDNS
	problemRefused
	problemTimeout
	problemUnreachable
	problemReset
)

// classify sorts err. It looks at error values first and falls back to
// the text, because a remote target's Dial reports what the far side said
// ("connect failed (Connection refused)") as a plain error.
func classify(err error) netProblem {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return problemDNS
	case isRefused(err):
		return problemRefused
	case isUnreachable(err):
		return problemUnreachable
	case isReset(err):
		return problemReset
	case errors.Is(err, context.DeadlineExceeded):
		return problemTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return problemTimeout
	}
	s := strings.ToLower(err.Error())
	switch {
	case containsAny(s, "no such host", "name or service not known", "nodename nor servname",
		"temporary failure in name resolution", "could not resolve", "name resolution"):
		return problemDNS
	case containsAny(s, "connection refused", "actively refused"):
		return problemRefused
	case containsAny(s, "no route to host", "unreachable"):
		return problemUnreachable
	case containsAny(s, "connection reset", "reset by peer", "forcibly closed"):
		return problemReset
	case containsAny(s, "timed out", "timeout"):
		return problemTimeout
	}
	return problemOther
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// dnsFailure describes a name that could not be resolved on the way to
// connecting. That is "could not check" for a connection check: the name
// is the dns check's business, and it says much more about why.
func dnsFailure(t diag.Target, host string, err error) diag.Result {
	var dnsErr *net.DNSError
	reason := err.Error()
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			reason = "no such host"
		case dnsErr.IsTimeout:
			reason = "the DNS server did not answer in time"
		default:
			reason = dnsErr.Err
		}
	}
	return diag.Resultf(diag.Error, "cannot resolve %s: %s", host, reason).
		WithHint("the name does not resolve on %s, so the check could go no further: add a check {dns: {name: %s}} to see why, or use the IP address", where(t), host).
		WithUpstream(diag.NeedName(host))
}

// unreachable is what a check that found no route relied on: "network is
// unreachable" means no route at all, which is what a machine without a
// connected interface sees; "no route to host" means the way out (the
// gateway) or the host itself did not answer.
func unreachable(err error) *diag.Prerequisite {
	if containsAny(strings.ToLower(err.Error()), "network is unreachable", "network unreachable") {
		return &diag.Prerequisite{What: diag.PrereqLink}
	}
	return &diag.Prerequisite{What: diag.PrereqGateway}
}

// where names a target in a sentence.
func where(t diag.Target) string {
	if t.Name() == "local" {
		return "this machine"
	}
	return t.Name()
}

// splitServer reads "host", "host:port", "[v6]:port" or a bare IPv6
// address, using defPort when none is given.
func splitServer(s string, defPort int) (host string, port int, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, errors.New("is empty")
	}
	if strings.Contains(s, "://") {
		return "", 0, fmt.Errorf("%q is a URL; give a host name or address, optionally with :port", s)
	}
	if ip, perr := netip.ParseAddr(strings.Trim(s, "[]")); perr == nil {
		return ip.String(), defPort, nil
	}
	host, portStr, serr := net.SplitHostPort(s)
	if serr != nil {
		if strings.Contains(s, ":") && !strings.HasPrefix(s, "[") {
			return "", 0, fmt.Errorf("%q is not a host or host:port", s)
		}
		return s, defPort, nil
	}
	p, perr := strconv.Atoi(portStr)
	if perr != nil || p < 1 || p > 65535 {
		return "", 0, fmt.Errorf("port %q in %q is not a number from 1 to 65535", portStr, s)
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q has a port but no host", s)
	}
	return host, p, nil
}

// checkHost validates a bare host parameter: a name or an address, with
// no port and no scheme, since those have parameters of their own.
func checkHost(field, host string) error {
	h := strings.TrimSpace(host)
	switch {
	case h == "":
		return diag.FieldErrorf(field, "is empty; give a host name or IP address")
	case strings.Contains(h, "://"):
		return diag.FieldErrorf(field, "%q is a URL; give only the host name, such as example.com", host)
	case strings.ContainsAny(h, " \t/?#@"):
		return diag.FieldErrorf(field, "%q is not a host name or IP address", host)
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return nil
	}
	if strings.Contains(h, ":") {
		return diag.FieldErrorf(field, "%q includes a port; give the host alone and the port in port:", host)
	}
	if len(h) > 253 {
		return diag.FieldErrorf(field, "%q is longer than a host name can be (253 characters)", host)
	}
	return nil
}

// bareHost strips the brackets an author may have written around an IPv6
// address.
func bareHost(h string) string { return strings.Trim(strings.TrimSpace(h), "[]") }

// printable returns the start of b as readable text for a report: control
// bytes escaped, cut to max runes.
func printable(b []byte, max int) string {
	s := strconv.QuoteToASCII(string(b))
	s = s[1 : len(s)-1]
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

func round1(f float64) float64 {
	return float64(int64(f*10+sign(f)*0.5)) / 10
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}
