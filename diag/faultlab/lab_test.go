//go:build linux

package faultlab

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestLab builds a lab and checks that its parts answer from the user's
// machine, that a fault applies and reverts, and that cleanup leaves
// nothing behind.
func TestLab(t *testing.T) {
	Require(t)
	var names []string
	t.Run("build", func(t *testing.T) {
		l := New(t)
		names = []string{l.User, l.Router, l.Inet, l.Analyst}

		query := func(name string) (int, error) {
			var rcode int
			err := inNetns(l.User, func() error {
				c := &dns.Client{Timeout: 2 * time.Second}
				m := new(dns.Msg)
				m.SetQuestion(dns.Fqdn(name), dns.TypeA)
				r, _, err := c.Exchange(m, RouterAddr+":53")
				if err == nil {
					rcode = r.Rcode
				}
				return err
			})
			return rcode, err
		}
		if rc, err := query("example.com"); err != nil || rc != dns.RcodeSuccess {
			t.Fatalf("example.com from the user's machine: rcode %d, %v", rc, err)
		}
		if rc, err := query("nothing.invalid"); err != nil || rc != dns.RcodeNameError {
			t.Fatalf("nothing.invalid: rcode %d, %v; want NXDOMAIN", rc, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, addr := range []string{WebAddr + ":80", WebAddr + ":443", IntranetAddr + ":443"} {
			c, err := dialIn(ctx, l.User, addr)
			if err != nil {
				t.Fatalf("dial %s from the user's machine: %v", addr, err)
			}
			c.Close()
		}
		if err := l.Nft("table inet lab {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n\t\ttcp dport 443 drop\n\t}\n}\n"); err != nil {
			t.Fatal(err)
		}
		short, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
		if c, err := dialIn(short, l.User, WebAddr+":443"); err == nil {
			c.Close()
			t.Errorf("port 443 answered through a router that drops it")
		}
		cancel2()
		if err := l.Reset(); err != nil {
			t.Fatal(err)
		}
		if c, err := dialIn(ctx, l.User, WebAddr+":443"); err != nil {
			t.Errorf("port 443 after Reset: %v", err)
		} else {
			c.Close()
		}
		// The analyst's namespace has loopback only.
		if c, err := dialIn(short, l.Analyst, WebAddr+":80"); err == nil {
			c.Close()
			t.Errorf("the analyst reached %s", WebAddr)
		}
		if err := SSHDAvailable(); err == nil {
			if err := l.StartSSHD(); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.FillHome(1 << 20); err != nil {
			t.Fatal(err)
		}
		out, err := l.UserCommand(ctx, "sh", "-c", "df -P \"$HOME\"; cat /etc/resolv.conf").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "100%") || !strings.Contains(string(out), RouterAddr) {
			t.Errorf("user command: %v\n%s", err, out)
		}
	})
	for _, ns := range names {
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); err == nil {
			t.Errorf("namespace %s is still there after cleanup", ns)
		}
		if _, err := os.Stat(filepath.Join("/etc/netns", ns)); err == nil {
			t.Errorf("/etc/netns/%s is still there after cleanup", ns)
		}
	}
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			if i.Name == RouterUserIface || i.Name == RouterInetIface {
				t.Errorf("interface %s appeared in the machine's own namespace", i.Name)
			}
		}
	}
}
