package netcheck

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// dualNet is a machine with both address families: its resolver answers
// with chosen addresses, and its connections to any IPv4 address go to a
// listener on 127.0.0.1, those to any IPv6 address to one on [::1], unless
// IPv6 is dropped (the attempt hangs until its deadline, as a router that
// drops IPv6 makes it) or has no route.
type dualNet struct {
	plainTarget
	a, aaaa []string
	aErr    error
	ln4     string
	ln6     string // "" when ::1 is unavailable
	drop6   bool
	noRoute bool
	// v4Only: the target's Dial opens no IPv6 connection, as an SSH
	// server with AddressFamily inet; the check then connects from a
	// shell (Run, here on this machine).
	v4Only bool
}

func (n *dualNet) Resolve(ctx context.Context, qtype, name string) ([]string, error) {
	switch qtype {
	case "A":
		return n.a, n.aErr
	case "AAAA":
		if len(n.aaaa) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		return n.aaaa, nil
	}
	return nil, diag.ErrUnsupported
}

func (n *dualNet) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	switch network {
	case "tcp4":
		return d.DialContext(ctx, network, n.ln4)
	case "tcp6":
		switch {
		case n.v4Only:
			return nil, errors.New("the target could not connect to " + address + ": Address family for hostname not supported")
		case n.noRoute:
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}
		case n.drop6:
			<-ctx.Done()
			return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
		}
		return d.DialContext(ctx, network, n.ln6)
	}
	return nil, diag.ErrUnsupported
}

func listenLoop(t *testing.T, network, addr string) string {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		return ""
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

func newDualNet(t *testing.T, need6 bool) *dualNet {
	t.Helper()
	n := &dualNet{
		plainTarget: plainTarget{diag.NewLocal()},
		a:           []string{"203.0.113.10"},
		aaaa:        []string{"2001:db8:1::10"},
		ln4:         listenLoop(t, "tcp4", "127.0.0.1:0"),
		ln6:         listenLoop(t, "tcp6", "[::1]:0"),
	}
	if n.ln4 == "" {
		t.Fatal("cannot listen on 127.0.0.1")
	}
	if need6 && n.ln6 == "" {
		t.Skip("::1 is not available here")
	}
	return n
}

func ipv6Check(t *testing.T) *IPv6 {
	c := newKind[*IPv6](t, "ipv6")
	c.Host = "example.com"
	c.Timeout = diag.Duration(500 * time.Millisecond)
	return c
}

// TestIPv6Broken: the name has an AAAA record, IPv4 connects, and IPv6
// attempts are dropped: the check fails and says programs stall.
func TestIPv6Broken(t *testing.T) {
	n := newDualNet(t, false)
	n.drop6 = true
	r := run(t, ipv6Check(t), n)
	expect(t, r, diag.Fail, "example.com offers IPv6 (2001:db8:1::10) but it does not connect from here, while IPv4 does", "stall for 20-75 s")
	for k, want := range map[string]any{"v4_addr": "203.0.113.10", "v6_addr": "2001:db8:1::10", "v4_connected": true, "v6_connected": false} {
		if r.Observed[k] != want {
			t.Errorf("%s = %v, want %v", k, r.Observed[k], want)
		}
	}
	if r.Upstream != nil {
		t.Errorf("a finding of its own has no upstream: %+v", r.Upstream)
	}
}

// TestIPv6Works: both families connect.
func TestIPv6Works(t *testing.T) {
	n := newDualNet(t, true)
	r := run(t, ipv6Check(t), n)
	expect(t, r, diag.Pass, "example.com connects over IPv4 (203.0.113.10) and IPv6 (2001:db8:1::10)")
	if r.Observed["v6_connected"] != true {
		t.Errorf("v6_connected = %v", r.Observed["v6_connected"])
	}
}

// TestIPv6NotOffered: no AAAA record: nothing to compare, IPv4 is used.
func TestIPv6NotOffered(t *testing.T) {
	n := newDualNet(t, false)
	n.aaaa = nil
	n.drop6 = true
	r := run(t, ipv6Check(t), n)
	expect(t, r, diag.Pass, "IPv6 is not offered for example.com; IPv4 is used")
	if r.Observed["v6_connected"] != nil {
		t.Errorf("no connection should be tried: %+v", r.Observed)
	}
}

// TestIPv6NoRoute: the machine has no IPv6 route: the attempt fails at
// once, programs fall back without waiting.
func TestIPv6NoRoute(t *testing.T) {
	n := newDualNet(t, false)
	n.noRoute = true
	r := run(t, ipv6Check(t), n)
	expect(t, r, diag.Pass, "has no IPv6 route, so programs use IPv4 at once")
}

// TestIPv6RefusedServer: the server's IPv6 address does not serve the
// port: a warning about the site, not this network.
func TestIPv6RefusedServer(t *testing.T) {
	n := newDualNet(t, true)
	ln, _ := net.Listen("tcp6", "[::1]:0")
	n.ln6 = ln.Addr().String()
	ln.Close()
	r := run(t, ipv6Check(t), n)
	expect(t, r, diag.Warn, "refuses connections over IPv6")
}

// TestIPv6NoIPv4: IPv4 does not connect either: not this check's finding.
func TestIPv6NoIPv4(t *testing.T) {
	n := newDualNet(t, false)
	n.drop6 = true
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	n.ln4 = ln.Addr().String()
	ln.Close()
	r := run(t, ipv6Check(t), n)
	expect(t, r, diag.Error, "cannot compare IPv4 with IPv6", "does not connect over IPv4 either")
}

// TestIPv6Unresolved: the name does not resolve: the DNS checks' finding.
func TestIPv6Unresolved(t *testing.T) {
	n := newDualNet(t, false)
	n.a, n.aaaa = nil, nil
	n.aErr = &net.DNSError{Err: "no such host", Name: "example.com", IsNotFound: true}
	r := run(t, ipv6Check(t), n)
	expect(t, r, diag.Error, "cannot resolve example.com")
	if r.Upstream == nil || r.Upstream.What != diag.PrereqName {
		t.Errorf("upstream = %+v, want the name", r.Upstream)
	}
}

// TestIPv6Validate: a name and a port are required.
func TestIPv6Validate(t *testing.T) {
	c := newKind[*IPv6](t, "ipv6")
	c.Host = "2001:db8::1"
	c.Port = 0
	if err := c.Validate(); err == nil {
		t.Error("an address and port 0 validate")
	}
	c.Host, c.Port = "example.com", 443
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestIPv6ThroughShell: the target's connections are IPv4 only (an SSH
// server with AddressFamily inet): IPv6 is tried from bash there, and
// found to work, or to hang.
func TestIPv6ThroughShell(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash here")
	}
	n := newDualNet(t, true)
	n.v4Only = true
	_, port, _ := net.SplitHostPort(n.ln6)
	n.aaaa = []string{"::1"}
	c := ipv6Check(t)
	c.Port, _ = strconv.Atoi(port)
	// Both families go to the same port: IPv4 to the 127.0.0.1 listener
	// only by the fake's Dial, IPv6 from bash to ::1 itself.
	r := run(t, c, n)
	expect(t, r, diag.Pass, "connects over IPv4 (203.0.113.10) and IPv6 (::1)")

	// A port where nothing listens on ::1: refused, from the shell too.
	ln, _ := net.Listen("tcp6", "[::1]:0")
	_, closed, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	c.Port, _ = strconv.Atoi(closed)
	r = run(t, c, n)
	if r.Status == diag.Pass || r.Observed["v6_connected"] != false {
		t.Errorf("a refused IPv6 connection passes: %s %s", r.Status, r.Message)
	}
}
