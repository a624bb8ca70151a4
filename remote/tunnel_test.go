package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/netcheck"
	"github.com/triage-dev/triage/remote/sshtest"
)

// dnsServer is a DNS server on loopback TCP that answers every query with
// rcode after delay.
func dnsServer(t *testing.T, rcode int, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		select {
		case <-time.After(delay):
		case <-stop:
		}
		m := new(dns.Msg)
		m.SetRcode(q, rcode)
		if rcode == dns.RcodeSuccess {
			rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 192.0.2.7")
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { close(stop); srv.Shutdown() })
	return ln.Addr().String()
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// resolvingHost is an in-process server whose getent answers from names
// (exit 2 for a name not there), whose resolv.conf names 192.0.2.53 and
// whose channels to 192.0.2.53:53 reach dnsAddr.
func resolvingHost(t *testing.T, names map[string]string, dnsAddr string) (*sshtest.Server, *Target) {
	t.Helper()
	e := newEnv(t)
	s := e.server(sshtest.Options{SFTPInMemory: true,
		Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
			if name, ok := strings.CutPrefix(cmd, "getent ahosts "); ok {
				if addrs, ok := names[name]; ok {
					// Several addresses: separated by spaces, in the
					// resolver's order.
					for _, addr := range strings.Fields(addrs) {
						fmt.Fprintf(stdout, "%s STREAM %s\n%s DGRAM\n", addr, name, addr)
					}
					return 0
				}
				return 2
			}
			if name, ok := strings.CutPrefix(cmd, "getent ahostsv4 "); ok {
				if addr, ok := names[name]; ok {
					fmt.Fprintf(stdout, "%s STREAM %s\n", addr, name)
					return 0
				}
				return 2
			}
			return sshtest.ShellExec(ctx, cmd, stdin, stdout, stderr)
		},
		Dial: func(ctx context.Context, address string) (net.Conn, error) {
			if address == "192.0.2.53:53" {
				address = dnsAddr
			}
			if strings.HasPrefix(address, "127.") {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", address)
			}
			return nil, syscall.ECONNREFUSED
		},
	})
	tg := e.mustDial(s)
	putFiles(t, tg, map[string]string{
		"/etc/resolv.conf":   "nameserver 192.0.2.53\n",
		"/etc/nsswitch.conf": "hosts: files dns\n",
	})
	return s, tg
}

// TestDialResolvesOnTarget: a channel is opened to the address the target
// resolves a name to, never to the name (which OpenSSH's sshd would look
// up with a blocking call, freezing the connection), and the name is
// looked up once per connection.
func TestDialResolvesOnTarget(t *testing.T) {
	echo := silentServer(t)
	_, port, _ := net.SplitHostPort(echo)
	s, tg := resolvingHost(t, map[string]string{"www.test": "127.0.0.1"}, dnsServer(t, dns.RcodeNameError, 0))
	ctx := context.Background()
	for range 2 {
		c, err := tg.Dial(ctx, "tcp", net.JoinHostPort("www.test", port))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.RemoteAddr().String(); got != echo {
			t.Errorf("RemoteAddr %s, want %s", got, echo)
		}
		c.Close()
	}
	for _, f := range s.DirectTCPIP() {
		if strings.Contains(f, "www.test") {
			t.Errorf("a channel named the host: %v", s.DirectTCPIP())
		}
	}
	n := 0
	for _, c := range s.ExecCommands() {
		if c == "getent ahosts www.test" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("getent ran %d times for two dials, want 1: %q", n, s.ExecCommands())
	}
}

// TestDialIPv4First: of a name's addresses, IPv4 is tried first through
// the tunnel, although the resolver gave IPv6 first: a broken IPv6 path
// must not stall every connection (this machine's dialer races the two).
func TestDialIPv4First(t *testing.T) {
	echo := silentServer(t)
	_, port, _ := net.SplitHostPort(echo)
	s, tg := resolvingHost(t, map[string]string{"dual.test": "2001:db8::1 127.0.0.1"}, dnsServer(t, dns.RcodeNameError, 0))
	c, err := tg.Dial(context.Background(), "tcp", net.JoinHostPort("dual.test", port))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if ch := s.DirectTCPIP(); len(ch) == 0 || !strings.HasPrefix(ch[0], "127.0.0.1:") {
		t.Errorf("channels opened %q, want the IPv4 address first", ch)
	}
}

// TestNameNotFoundOrUnasked: getent's exit 2 is "no such name" only when
// the target's DNS server answers; a server that refuses or is silent
// makes it "could not ask", both for a dial and for the dns check's
// lookups.
func TestNameNotFoundOrUnasked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dns      func(t *testing.T) string
		notFound bool
		words    string
	}{
		{"NXDOMAIN", func(t *testing.T) string { return dnsServer(t, dns.RcodeNameError, 0) }, true, "no such host"},
		{"REFUSED", func(t *testing.T) string { return dnsServer(t, dns.RcodeRefused, 0) }, false, "REFUSED"},
		{"silent", silentServer, false, "did not answer"},
		{"dead", func(t *testing.T) string { return "127.0.0.1:1" }, false, "cannot be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, tg := resolvingHost(t, nil, tc.dns(t))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := tg.Dial(ctx, "tcp", "nx.test:443")
			var de *net.DNSError
			if !errors.As(err, &de) || de.IsNotFound != tc.notFound || !strings.Contains(err.Error(), tc.words) {
				t.Errorf("dial: %v (%T), want a DNS error with IsNotFound %v saying %q", err, err, tc.notFound, tc.words)
			}
			_, err = tg.Resolve(ctx, "A", "nx2.test")
			if !errors.As(err, &de) || de.IsNotFound != tc.notFound {
				t.Errorf("resolve: %v, want a DNS error with IsNotFound %v", err, tc.notFound)
			}
		})
	}
}

// TestTunnelDeadlines: a connection through the tunnel honours its read
// deadline (the error is a timeout, os.ErrDeadlineExceeded) and stays
// usable after it, and a check's time limit holds for DNS over TCP
// through SSH against a slow server.
func TestTunnelDeadlines(t *testing.T) {
	e := newEnv(t)
	tg := e.mustDial(e.server(sshtest.Options{}))
	c, err := tg.Dial(context.Background(), "tcp", silentServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v, want a timeout", err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("still open")); err != nil {
		t.Errorf("write after a read timed out: %v", err)
	}

	// A DNS server slower than the check's limit: the check must end at
	// its limit, not pass when the answer comes.
	slow := dnsServer(t, dns.RcodeSuccess, 3*time.Second)
	k, _ := diag.LookupKind("dns")
	check := k.New().(*netcheck.DNS)
	check.Name, check.Server, check.Timeout = "www.test", slow, diag.Duration(300*time.Millisecond)
	res := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{{ID: "dns", Kind: "dns", Checker: check}})[0]
	if res.Status == diag.Pass {
		t.Errorf("a DNS server slower than the limit passed: %s %q", res.Status, res.Message)
	}
}

// TestTunnelRefusedWording: a connection the target cannot make reads as
// a refused connect, with none of SSH's own words.
func TestTunnelRefusedWording(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	e := newEnv(t)
	tg := e.mustDial(e.server(sshtest.Options{}))
	_, err := tg.Dial(context.Background(), "tcp", closed)
	if !errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "ssh:") || strings.Contains(err.Error(), "rejected") {
		t.Errorf("dial to a closed port: %v", err)
	}
	_, port, _ := net.SplitHostPort(closed)
	k, _ := diag.LookupKind("tcp")
	check := k.New().(*netcheck.TCP)
	check.Host, check.Port = "127.0.0.1", atoi(port)
	res := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{{ID: "tcp", Kind: "tcp", Checker: check}})[0]
	if res.Status != diag.Fail || strings.Contains(res.Message, "ssh:") || strings.Contains(res.Message, "rejected") {
		t.Errorf("tcp check of a closed port over SSH: %s %q", res.Status, res.Message)
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
