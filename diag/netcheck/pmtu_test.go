package netcheck

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// pingNet answers the don't-fragment pings of the pmtu and loss checks as
// iputils' ping would on a network described by answer: how many of the
// pings of a size to a host come back, or a "too big" message.
type pingNet struct {
	*machine
	answer func(host string, size int) (received int, tooBig int)
	mu     sync.Mutex
	argvs  []string
}

func (n *pingNet) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	n.mu.Lock()
	n.argvs = append(n.argvs, strings.Join(c.Argv, " "))
	n.mu.Unlock()
	if c.Argv[0] != "ping" {
		return n.machine.Run(ctx, c)
	}
	host := c.Argv[len(c.Argv)-1]
	size, count := 84, 1
	for i, a := range c.Argv {
		switch a {
		case "-s":
			s, _ := strconv.Atoi(c.Argv[i+1])
			size = s + 28
		case "-c":
			count, _ = strconv.Atoi(c.Argv[i+1])
		}
	}
	received, tooBig := n.answer(host, size)
	received = min(received, count)
	var b strings.Builder
	fmt.Fprintf(&b, "PING %s (%s) %d(%d) bytes of data.\n", host, host, size-28, size)
	if tooBig > 0 {
		for i := range count {
			fmt.Fprintf(&b, "From 198.51.100.1 icmp_seq=%d Frag needed and DF set (mtu = %d)\n", i+1, tooBig)
		}
	}
	for i := range received {
		fmt.Fprintf(&b, "%d bytes from %s: icmp_seq=%d ttl=63 time=1.2 ms\n", size-20, host, i+1)
	}
	fmt.Fprintf(&b, "\n--- %s ping statistics ---\n%d packets transmitted, %d received, %d%% packet loss, time 200ms\n", host, count, received, 100*(count-received)/count)
	if received > 0 {
		b.WriteString("rtt min/avg/max/mdev = 1.100/1.200/1.300/0.100 ms\n")
	}
	code := 0
	if received == 0 {
		code = 1
	}
	return diag.CommandResult{Stdout: []byte(b.String()), ExitCode: code}, nil
}

func newPingNet(answer func(host string, size int) (int, int)) *pingNet {
	m := newMachine("linux")
	m.facts.Gateway = "192.0.2.1"
	return &pingNet{machine: m, answer: answer}
}

func pmtuCheck(t *testing.T) *PathMTU {
	c := newKind[*PathMTU](t, "pmtu")
	c.Host = "example.com"
	return c
}

// TestPathMTUBlackHoleBeyond: the router takes full-size packets, but
// beyond it everything over 1280 bytes vanishes without a "too big"
// message: the check fails, names the size and where, and says what
// stalls.
func TestPathMTUBlackHoleBeyond(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) {
		if host == "example.com" && size > 1280 {
			return 0, 0
		}
		return 2, 0
	})
	r := run(t, pmtuCheck(t), n)
	expect(t, r, diag.Fail, "packets over 1280 bytes are lost beyond the router", "1400-byte", "path-MTU black hole", "HTTPS handshakes")
	if r.Observed["path_mtu"] != 1280 {
		t.Errorf("path_mtu = %v, want 1280", r.Observed["path_mtu"])
	}
	for _, a := range n.argvs {
		if strings.Contains(a, "example.com") && !strings.Contains(a, "-4 -M do") {
			t.Errorf("probe %q is not an IPv4 don't-fragment ping", a)
		}
	}
}

// TestPathMTUBlackHoleLocal: the router itself loses large packets: the
// local link is named.
func TestPathMTUBlackHoleLocal(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) {
		if size > 1400 {
			return 0, 0
		}
		return 2, 0
	})
	r := run(t, pmtuCheck(t), n)
	expect(t, r, diag.Fail, "packets over 1400 bytes are lost between this machine and the router 192.0.2.1")
}

// TestPathMTUHealthy: full-size packets pass both ways; one round of
// probes only.
func TestPathMTUHealthy(t *testing.T) {
	n := newPingNet(func(string, int) (int, int) { return 2, 0 })
	r := run(t, pmtuCheck(t), n)
	expect(t, r, diag.Pass, "packets of up to 1500 bytes reach the router 192.0.2.1 and example.com whole")
	if len(n.argvs) != 4 {
		t.Errorf("%d probes, want 4 (small and full size to two hosts): %q", len(n.argvs), n.argvs)
	}
}

// TestPathMTUAnnounced: a smaller MTU that a router announces is path-MTU
// discovery working, not a fault.
func TestPathMTUAnnounced(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) {
		if host == "example.com" && size > 1400 {
			return 0, 1400
		}
		return 2, 0
	})
	r := run(t, pmtuCheck(t), n)
	expect(t, r, diag.Pass, "the path MTU to example.com is 1400 bytes", "path-MTU discovery works")
}

// TestPathMTULossIsNotABlackHole: packets lost whatever their size are
// loss, which the loss check names: no verdict on the MTU.
func TestPathMTULossIsNotABlackHole(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) {
		if host == "example.com" && (size == 1500 || size == 1280 || size == 1450) {
			return 0, 0
		}
		return 2, 0
	})
	r := run(t, pmtuCheck(t), n)
	expect(t, r, diag.Skip, "lost now and then", "not a path-MTU problem")
}

// TestPathMTUSilentHost: a host that ignores ping says nothing of the path.
func TestPathMTUSilentHost(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) {
		if host == "example.com" {
			return 0, 0
		}
		return 2, 0
	})
	r := run(t, pmtuCheck(t), n)
	expect(t, r, diag.Skip, "does not answer pings")
}

// TestPathMTUNoPing: without a ping command the check says so.
func TestPathMTUNoPing(t *testing.T) {
	m := newMachine("linux")
	r := run(t, pmtuCheck(t), m)
	expect(t, r, diag.Skip, "no ping command")
}

func TestMTUArgv(t *testing.T) {
	for goos, want := range map[string]string{
		"linux":   "ping -4 -M do -s 1472 -c 2 -i 0.2 -W 1 example.com",
		"darwin":  "ping -D -s 1472 -c 2 -t 2 example.com",
		"windows": "ping -f -l 1472 -n 2 -w 1000 example.com",
	} {
		if got := strings.Join(mtuArgv(goos, "example.com", 1500), " "); got != want {
			t.Errorf("%s: %q, want %q", goos, got, want)
		}
	}
	if got := strings.Join(mtuArgv("linux", "192.0.2.1", 1280), " "); got != "ping -M do -s 1252 -c 2 -i 0.2 -W 1 192.0.2.1" {
		t.Errorf("linux address: %q", got)
	}
}

// slowResolver is a target whose ping commands hang, as they do while a
// slow DNS server holds up the name's lookup.
type slowResolver struct{ *machine }

func (s slowResolver) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	<-ctx.Done()
	return diag.CommandResult{}, ctx.Err()
}

// TestPathMTUSlowNames: probes held up by the name lookup are put down to
// the DNS servers, not reported as the path's fault.
func TestPathMTUSlowNames(t *testing.T) {
	m := newMachine("linux")
	c := pmtuCheck(t)
	c.Timeout = dur(2 * time.Second)
	r := run(t, c, slowResolver{m})
	expect(t, r, diag.Error, "looking up the name is slow")
	if r.Upstream == nil || r.Upstream.What != diag.PrereqDNSServer {
		t.Errorf("upstream = %v, want the DNS servers", r.Upstream)
	}
}
