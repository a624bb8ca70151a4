package remote

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/triage-dev/triage/remote/sshtest"
)

// TestOpenSSHDialByName: against a real sshd, a name is resolved on the
// target (getent, from its hosts file) and the channel opened to the
// address; the proxy settings are read there.
func TestOpenSSHDialByName(t *testing.T) {
	o := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{})
	d, err := NewDialer(Options{ConfigFile: o.SSHConfigPath, Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := d.Dial(ctx, sshtest.OpenSSHHostAlias)
	if err != nil {
		t.Fatalf("%v\nsshd log:\n%s", err, o.Log())
	}
	defer tg.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c, err := tg.Dial(ctx, "tcp4", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err != nil || !ap.Addr().IsLoopback() {
		t.Errorf("RemoteAddr %v: the channel did not name an address", c.RemoteAddr())
	}
	buf := make([]byte, 2)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Errorf("read %q, %v", buf, err)
	}
	if _, err := tg.ProxySettings(ctx); err != nil {
		t.Errorf("proxy settings: %v", err)
	}
}
