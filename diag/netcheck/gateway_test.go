package netcheck

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// lossyRouter is a router, on a target without ping, that serves TCP on
// one port (a loopback listener) and drops every dropEvery-th connection
// attempt to it: the attempt hangs, as a SYN lost on the way does. Its
// other ports are filtered (attempts hang), and Run says command not
// found, or exits 127 as a shell does, when shell127 is set.
type lossyRouter struct {
	*machine
	listener  string // host:port of the loopback listener
	port      string // the router's port that reaches it
	dropEvery int    // 0: drop none
	shell127  bool

	mu       sync.Mutex
	attempts int
}

func (r *lossyRouter) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	if r.shell127 {
		return diag.CommandResult{ExitCode: 127, Stderr: []byte("sh: 1: " + c.Argv[0] + ": not found\n")}, nil
	}
	return r.machine.Run(ctx, c)
}

func (r *lossyRouter) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	_, port, _ := net.SplitHostPort(address)
	if port != r.port {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	r.mu.Lock()
	r.attempts++
	drop := r.dropEvery > 0 && r.attempts%r.dropEvery == 0
	r.mu.Unlock()
	if drop {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return r.machine.Dial(ctx, network, r.listener)
}

// TestGatewayWithoutPing: on a target without a ping command (as over SSH
// to a minimal host), the check says ping is not installed rather than
// that the router ignores pings, and measures loss with TCP connection
// attempts to the port that answered, judged by warn_loss and max_loss.
func TestGatewayWithoutPing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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
	for _, tt := range []struct {
		name      string
		dropEvery int
		shell127  bool
		status    diag.Status
		msg       []string
		received  int
	}{
		// The first attempt finds the port; of the ten that measure
		// loss, every other one is dropped.
		{"half lost", 2, false, diag.Fail, []string{"the default gateway 192.0.2.1 answers, but 5 of 10 TCP connection attempts to port 443 lost (50%), above the 30% limit",
			"ping is not installed on this machine, so the loss was measured with TCP connection attempts"}, 5},
		{"one in ten lost", 11, false, diag.Pass, []string{"answered 9 of 10 TCP connection attempts to port 443", "1 of 10 TCP connection attempts to port 443 lost (10%), within the 10% warning limit", "ping is not installed"}, 9},
		{"none lost", 0, false, diag.Pass, []string{"answered 10 of 10 TCP connection attempts to port 443, none lost", "ping is not installed"}, 10},
		{"shell says not found", 2, true, diag.Fail, []string{"5 of 10 TCP connection attempts to port 443 lost (50%)", "ping is not installed"}, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine("linux")
			m.facts.Gateway = "192.0.2.1"
			target := &lossyRouter{machine: m, listener: ln.Addr().String(), port: "443", dropEvery: tt.dropEvery, shell127: tt.shell127}
			c := newKind[*Gateway](t, "gateway")
			start := time.Now()
			r := run(t, c, target)
			expect(t, r, tt.status, tt.msg...)
			if strings.Contains(r.Message, "does not answer pings") {
				t.Errorf("message %q blames the router for pings that were never sent", r.Message)
			}
			if r.Observed["method"] != "tcp" || r.Observed["port"] != 443 || r.Observed["sent"] != 10 || r.Observed["received"] != tt.received {
				t.Errorf("observed %v", r.Observed)
			}
			if r.Status != diag.Pass && !strings.Contains(r.Hint, "loses packets") {
				t.Errorf("hint %q", r.Hint)
			}
			if !strings.Contains(r.Evidence, "attempt 1: lost (no answer within 1s)") && tt.dropEvery == 2 {
				t.Errorf("evidence does not show the lost attempts: %s", r.Evidence)
			}
			if d := time.Since(start); d > c.Timeout.D() {
				t.Errorf("the check took %s, over its %s timeout", d, c.Timeout.D())
			}
		})
	}
}
