package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "ipv6",
		Summary: "Looks a name's IPv4 and IPv6 addresses up and connects to one of each: fails when IPv6 is offered but does not connect while IPv4 does, the fault that makes programs without Happy Eyeballs stall for 20-75 s before they fall back.",
		New:     func() diag.Checker { return &IPv6{Port: 443, Timeout: diag.Duration(3 * time.Second)} },
	})
}

// IPv6 compares the two address families towards one name. A machine with
// a global IPv6 address and a route, and a name with AAAA records, make
// programs try IPv6 first; when IPv6 is broken somewhere on the way (the
// router, the provider), the attempt is dropped, and a program that does
// not race IPv4 alongside (Happy Eyeballs) waits for it to time out.
type IPv6 struct {
	Host    string        `yaml:"host" required:"true" doc:"a name with IPv4 and, where IPv6 is offered, IPv6 addresses, such as the public name the other checks use"`
	Port    int           `yaml:"port" doc:"the TCP port to connect to over both families (default 443)"`
	Timeout diag.Duration `yaml:"timeout" doc:"how long each connection may take to open (default 3s); the IPv4 and the IPv6 attempt run at the same time"`
}

func (c *IPv6) Validate() error {
	var errs []error
	if err := checkHost("host", c.Host); err != nil {
		errs = append(errs, err)
	} else if _, err := netip.ParseAddr(bareHost(c.Host)); err == nil {
		errs = append(errs, diag.FieldErrorf("host", "%q is an address; give a name, whose IPv4 and IPv6 addresses are compared", c.Host))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, diag.FieldErrorf("port", "%d is not a TCP port (want 1 to 65535)", c.Port))
	}
	return errors.Join(errs...)
}

// familyDial is what one connection attempt saw.
type familyDial struct {
	addr string
	err  error
	took time.Duration
}

func (c *IPv6) Run(parent context.Context, t diag.Target) diag.Result {
	host := bareHost(c.Host)
	sr, ok := t.(diag.SystemResolver)
	if !ok {
		return diag.Resultf(diag.Skip, "cannot look names up the way programs on %s do, so which address family they use is unknown", where(t)).
			WithHint("run this check on the machine itself, or on a target with getent")
	}
	// The names first, on the check's whole time (as resolveOnce): the
	// timeout is for the connections.
	var v4, v6 []string
	var err4, err6 error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); v4, err4 = lookupFamily(parent, sr, "A", host) }()
	go func() { defer wg.Done(); v6, err6 = lookupFamily(parent, sr, "AAAA", host) }()
	wg.Wait()
	if parent.Err() != nil {
		return cancelled(parent)
	}
	r := diag.Result{}.With("host", host)
	if len(v4) > 0 {
		r = r.With("v4_addr", v4[0])
	}
	if len(v6) > 0 {
		r = r.With("v6_addr", v6[0])
	}
	switch {
	case len(v4) == 0 && len(v6) == 0:
		err := err4
		if err == nil {
			err = err6
		}
		if err == nil {
			err = errors.New("no address")
		}
		return withObserved(unresolved(t, host, err), r)
	case len(v6) == 0:
		// An AAAA lookup that failed gives programs no IPv6 address
		// either: they use IPv4. Why it failed is the DNS checks' to say.
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("IPv6 is not offered for %s; IPv4 is used", host)
		if err6 != nil && !notFound(err6) {
			r.Evidence = "the AAAA lookup failed: " + err6.Error()
		}
		return r
	case len(v4) == 0:
		r.Status = diag.Skip
		r.Message = fmt.Sprintf("%s has only IPv6 addresses (%s), so there is no IPv4 to compare with", host, v6[0])
		r.Hint = "name a host with both IPv4 and IPv6 addresses (host:) to compare the two families"
		return r
	}

	ctx, cancel, timeout := withTimeout(parent, c.Timeout, 3*time.Second)
	defer cancel()
	port := strconv.Itoa(c.Port)
	dials := map[string]*familyDial{
		"tcp4": {addr: net.JoinHostPort(v4[0], port)},
		"tcp6": {addr: net.JoinHostPort(v6[0], port)},
	}
	for network, d := range dials {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			conn, err := dialTarget(ctx, t, network, d.addr)
			if err != nil && network == "tcp6" && containsAny(strings.ToLower(err.Error()), "address family") {
				// An SSH server limited to IPv4 (AddressFamily inet)
				// forwards no IPv6 connection, which says nothing about
				// the machine's IPv6: try from a shell there instead.
				err = shellDial(ctx, t, v6[0], port)
				diag.Note(ctx, "the SSH server forwards no IPv6 connections (AddressFamily inet); the IPv6 connection was made by bash on the target")
			}
			d.took = time.Since(start)
			if err != nil {
				d.err = err
				return
			}
			if conn != nil {
				conn.Close()
			}
		}()
	}
	wg.Wait()
	if parent.Err() != nil {
		return cancelled(parent)
	}
	d4, d6 := dials["tcp4"], dials["tcp6"]
	r = r.With("v4_connected", d4.err == nil).With("v6_connected", d6.err == nil)
	var ev []string
	for _, d := range []*familyDial{d4, d6} {
		if d.err != nil {
			ev = append(ev, fmt.Sprintf("%s: %v (after %s)", d.addr, d.err, roundDuration(d.took)))
		} else {
			ev = append(ev, fmt.Sprintf("%s: connected in %s", d.addr, roundDuration(d.took)))
		}
	}
	r.Evidence = strings.Join(ev, "\n")

	if d4.err != nil {
		r.Status = diag.Error
		r.Message = fmt.Sprintf("cannot compare IPv4 with IPv6: %s does not connect over IPv4 either (%s)", d4.addr, shortNetError(d4.err))
		if d6.err == nil {
			r.Message = fmt.Sprintf("%s connects over IPv6 but not over IPv4 (%s)", host, shortNetError(d4.err))
		}
		r.Hint = fmt.Sprintf("port %d of %s does not answer over IPv4 from %s: the internet and port checks of this run say why", c.Port, host, where(t))
		if classify(d4.err) == problemUnreachable {
			r.Upstream = unreachable(d4.err)
		}
		return r
	}
	if d6.err == nil {
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s connects over IPv4 (%s) and IPv6 (%s)", host, v4[0], v6[0])
		return r
	}
	if errors.Is(d6.err, errNoIPv6Probe) {
		r.Status = diag.Skip
		r.Message = fmt.Sprintf("IPv6 cannot be tried from %s: %v", where(t), d6.err)
		r.Hint = "the SSH server forwards only IPv4 (AddressFamily inet) and the target has no bash to connect from; run triage on the machine itself to compare IPv4 with IPv6"
		return r
	}
	switch classify(d6.err) {
	case problemUnreachable:
		// No IPv6 route here: the attempt fails at once and programs
		// move on to IPv4 without waiting.
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s offers IPv6 (%s), but %s has no IPv6 route, so programs use IPv4 at once", host, v6[0], where(t))
		return r
	case problemRefused, problemReset:
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("%s refuses connections over IPv6 (%s) on port %d while IPv4 connects: programs fall back to IPv4 after the refusal", host, v6[0], c.Port)
		r.Hint = fmt.Sprintf("the server's IPv6 address does not serve port %d: the site's IPv6 set-up is at fault, not this network", c.Port)
		return r
	}
	r.Status = diag.Fail
	r.Message = fmt.Sprintf("%s offers IPv6 (%s) but it does not connect from here, while IPv4 does: programs that try IPv6 first stall for 20-75 s", host, v6[0])
	if classify(d6.err) != problemTimeout {
		r.Message = fmt.Sprintf("%s offers IPv6 (%s) but it does not connect from here (%s), while IPv4 does: programs that try IPv6 first stall or fail", host, v6[0], shortNetError(d6.err))
	}
	r.Hint = fmt.Sprintf("%s has IPv6 and %s an IPv6 address, but an IPv6 connection got no answer within %s while IPv4 connected: fix IPv6 on the router or at the provider, or, until then, turn IPv6 off on the network adapter (Linux: sysctl net.ipv6.conf.IFACE.disable_ipv6=1; Windows: untick Internet Protocol Version 6 in the adapter's properties)", where(t), host, timeout)
	return r
}

// lookupFamily resolves one record type; a missing record is an empty
// answer, not an error.
func lookupFamily(ctx context.Context, sr diag.SystemResolver, qtype, host string) ([]string, error) {
	addrs, err := sr.Resolve(ctx, qtype, host)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		ip, perr := netip.ParseAddr(a)
		if perr != nil {
			continue
		}
		if (qtype == "A") == (ip.Is4() || ip.Is4In6()) {
			out = append(out, ip.Unmap().String())
		}
	}
	return out, nil
}

func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// shortNetError names a connection failure in a few words.
func shortNetError(err error) string {
	switch classify(err) {
	case problemTimeout:
		return "no answer in time"
	case problemRefused:
		return "refused"
	case problemUnreachable:
		return "unreachable"
	case problemReset:
		return "reset"
	}
	return err.Error()
}

// errNoIPv6Probe: IPv6 could not be tried from the target at all.
var errNoIPv6Probe = errors.New("the SSH server opens no IPv6 connections")

// shellDial opens a TCP connection to addr and port from bash on the
// target (its /dev/tcp), and closes it: for a connection the SSH server
// will not open itself. The error reads like a dial error, so that
// classify sorts it.
func shellDial(ctx context.Context, t diag.Target, addr, port string) error {
	argv := []string{"bash", "-c", `exec 3<>"/dev/tcp/$0/$1"`, addr, port}
	res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: 4 << 10})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("connect to [%s]:%s from a shell: %w", addr, port, context.DeadlineExceeded)
	case err != nil:
		return fmt.Errorf("%w, and a shell could not try (%v)", errNoIPv6Probe, err)
	case res.ExitCode != 0:
		msg := strings.TrimSpace(string(res.Stderr))
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		if msg == "" {
			msg = fmt.Sprintf("bash exited %d", res.ExitCode)
		}
		return fmt.Errorf("connect to [%s]:%s from a shell: %s", addr, port, msg)
	}
	return nil
}
