package netcheck

import (
	"testing"

	"github.com/triage-dev/triage/diag"
)

func lossCheck(t *testing.T) *Loss {
	c := newKind[*Loss](t, "loss")
	c.Host = "example.com"
	return c
}

// TestLossBeyondRouter: the router answers every ping, the host beyond it
// loses most: the provider's network is named, not the local link.
func TestLossBeyondRouter(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) {
		if host == "example.com" {
			return 3, 0
		}
		return 8, 0
	})
	r := run(t, lossCheck(t), n)
	expect(t, r, diag.Fail, "5 of 8 pings to example.com lost", "none of 8 to the router 192.0.2.1", "beyond the router, in the provider's network")
	if r.Observed["where"] != "beyond the router" {
		t.Errorf("where = %v", r.Observed["where"])
	}
	for _, a := range n.argvs {
		if a[:8] == "ping -4 " || a == "" {
			continue
		}
		if a != "ping -c 8 -i 0.2 -w 3 192.0.2.1" {
			t.Errorf("unexpected command %q", a)
		}
	}
}

// TestLossOnLocalLink: loss to the router as well: the local link.
func TestLossOnLocalLink(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) { return 6, 0 })
	r := run(t, lossCheck(t), n)
	expect(t, r, diag.Warn, "the loss starts on the local link", "2 of 8 pings to the router 192.0.2.1 lost")
}

// TestLossHostSilent: a host that answers no ping says nothing of loss:
// skip, so that a connection that is down is the internet checks' to name.
func TestLossHostSilent(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) {
		if host == "example.com" {
			return 0, 0
		}
		return 8, 0
	})
	r := run(t, lossCheck(t), n)
	expect(t, r, diag.Skip, "does not answer pings")
}

func TestLossHealthy(t *testing.T) {
	n := newPingNet(func(host string, size int) (int, int) { return 8, 0 })
	r := run(t, lossCheck(t), n)
	expect(t, r, diag.Pass, "example.com answered 8 of 8 pings", "the router 192.0.2.1 8 of 8")
}
