package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
)

// Names are resolved on the target before a channel is opened, and the
// channel names an address. OpenSSH's sshd resolves the host of a
// direct-tcpip channel itself, with a blocking lookup, and while it waits
// the connection serves nothing else: with the target's DNS server dead,
// every check of the host froze behind one name. getent, in a process of
// its own, does the lookup as the target's programs do (hosts file,
// nsswitch, its DNS servers), and a name that does not resolve is then a
// *net.DNSError, the dns layer's finding.

// lookupEntry is one name's lookup, shared by the checks that ask for it
// at the same time and kept for the connection when its answer is final.
type lookupEntry struct {
	done  chan struct{}
	addrs []netip.Addr
	err   error
}

// errNoGetent means the target cannot resolve for us (no getent, or not a
// POSIX host): the channel then names the host, as before.
var errNoGetent = errors.New("no getent on the target")

// lookupHost returns the addresses of host on the target, in the order
// its resolver gives them.
func (t *Target) lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	key := strings.ToLower(strings.TrimSuffix(host, "."))
	t.lookupMu.Lock()
	if t.lookups == nil {
		t.lookups = map[string]*lookupEntry{}
	}
	e, ok := t.lookups[key]
	if !ok {
		e = &lookupEntry{done: make(chan struct{})}
		t.lookups[key] = e
		t.lookupMu.Unlock()
		// The lookup runs for whoever asked first, bounded by its
		// context: an answer that is not final (the asker gave up, the
		// servers did not answer) is not kept for the next asker.
		e.addrs, e.err = t.getentHosts(ctx, host)
		if !final(e.err) {
			t.lookupMu.Lock()
			delete(t.lookups, key)
			t.lookupMu.Unlock()
		}
		close(e.done)
		return e.addrs, e.err
	}
	t.lookupMu.Unlock()
	select {
	case <-e.done:
		if !final(e.err) && ctx.Err() == nil {
			return t.lookupHost(ctx, host)
		}
		return e.addrs, e.err
	case <-ctx.Done():
		return nil, lookupTimeout(ctx, host)
	}
}

// final reports whether a lookup's outcome holds for the whole run.
func final(err error) bool {
	var de *net.DNSError
	return err == nil || errors.Is(err, errNoGetent) || (errors.As(err, &de) && de.IsNotFound)
}

func lookupTimeout(ctx context.Context, host string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &net.DNSError{Err: "the target's resolver gave no answer in time", Name: host, IsTimeout: true, IsTemporary: true}
	}
	return ctx.Err()
}

func (t *Target) getentHosts(ctx context.Context, host string) ([]netip.Addr, error) {
	if t.windows.Load() {
		return nil, errNoGetent
	}
	res, err := t.Run(ctx, diag.Command{Argv: []string{"getent", "ahosts", host}, MaxOutput: 256 << 10})
	switch {
	case errors.Is(err, diag.ErrCommandNotFound), errors.Is(err, diag.ErrUnsupported):
		return nil, errNoGetent
	case err != nil && ctx.Err() != nil:
		return nil, lookupTimeout(ctx, host)
	case err != nil:
		return nil, err
	case res.ExitCode == 2:
		return nil, t.notFoundOrUnasked(ctx, host)
	case res.ExitCode != 0:
		return nil, &net.DNSError{Err: fmt.Sprintf("getent exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr))), Name: host}
	}
	var addrs []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || seen[a] {
			continue
		}
		seen[a] = true
		addrs = append(addrs, a.Unmap())
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// notFoundOrUnasked tells apart the two meanings of getent's exit 2, "no
// such name" and "could not ask": glibc says the same for both. When the
// target's hosts lookups go to DNS, its first DNS server is asked
// directly, through a channel to its address (so no lookup by sshd): if
// it answers at all, the name does not exist; if it refuses, fails or is
// silent, the lookup could not be made, and the error says so.
func (t *Target) notFoundOrUnasked(ctx context.Context, name string) error {
	notFound := &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	if !t.hostsUseDNS(ctx) {
		return notFound
	}
	data, _, err := t.ReadFile(ctx, "/etc/resolv.conf", 64<<10)
	if err != nil {
		return notFound
	}
	servers := resolvConfServers(data)
	if len(servers) == 0 {
		servers = []string{"127.0.0.1"} // glibc's default
	}
	server := net.JoinHostPort(servers[0], "53")
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	rcode, err := t.askDNS(qctx, server, name)
	switch {
	case err == nil && (rcode == dns.RcodeSuccess || rcode == dns.RcodeNameError):
		return notFound
	case err == nil:
		return &net.DNSError{Err: fmt.Sprintf("server misbehaving: the DNS server %s answered %s", servers[0], dns.RcodeToString[rcode]), Name: name, Server: server, IsTemporary: true}
	case ctx.Err() != nil:
		return lookupTimeout(ctx, name)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &net.DNSError{Err: fmt.Sprintf("the DNS server %s did not answer", servers[0]), Name: name, Server: server, IsTimeout: true, IsTemporary: true}
	}
	return &net.DNSError{Err: fmt.Sprintf("the DNS server %s cannot be reached: %v", servers[0], rootError(err)), Name: name, Server: server, IsTemporary: true}
}

// hostsUseDNS reports whether the hosts line of the target's
// nsswitch.conf sends lookups to DNS (dns, or systemd's resolve); a target
// without the file does, as glibc's default.
func (t *Target) hostsUseDNS(ctx context.Context) bool {
	data, _, err := t.ReadFile(ctx, "/etc/nsswitch.conf", 64<<10)
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		db, srcs, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(db) != "hosts" {
			continue
		}
		for _, f := range strings.Fields(srcs) {
			if f == "dns" || f == "resolve" {
				return true
			}
		}
		return false
	}
	return true
}

// resolvConfServers lists the nameserver addresses of a resolv.conf.
func resolvConfServers(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			a, err := netip.ParseAddr(strings.SplitN(f[1], "%", 2)[0])
			if err == nil {
				out = append(out, a.String())
			}
		}
	}
	return out
}

// askDNS sends one A query for name to server (an address) over TCP
// through the tunnel and returns the answer's rcode.
func (t *Target) askDNS(ctx context.Context, server, name string) (int, error) {
	c, err := t.dialAddr(ctx, server)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	q.RecursionDesired = true
	dc := &dns.Conn{Conn: c}
	if err := dc.WriteMsg(q); err != nil {
		return 0, err
	}
	for {
		m, err := dc.ReadMsg()
		if err != nil {
			return 0, err
		}
		if m.Id == q.Id {
			return m.Rcode, nil
		}
	}
}

// rootError is the innermost error of a chain, for a short message.
func rootError(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
