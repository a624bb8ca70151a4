//go:build linux

package faultlab

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsDir is where ip netns keeps its namespaces' bind mounts.
const netnsDir = "/var/run/netns"

// inNetns runs fn on an OS thread moved into the network namespace ns. The
// thread is never unlocked, so Go ends it when fn returns and nothing else
// ever runs in that namespace by accident. Sockets fn creates stay in ns.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the goroutine exits locked, and the runtime
		// then terminates the thread instead of reusing it.
		f, err := os.Open(filepath.Join(netnsDir, ns))
		if err != nil {
			errc <- fmt.Errorf("faultlab: open namespace %s: %w", ns, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("faultlab: enter namespace %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// listenIn opens a TCP listener on addr inside ns.
func listenIn(ns, addr string) (net.Listener, error) {
	return listenNetIn(ns, "tcp4", addr)
}

// listenNetIn listens on network ("tcp4", or "tcp6", whose sockets Go
// makes IPv6-only) and addr inside ns.
func listenNetIn(ns, network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(ns, func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("faultlab: listen on %s %s in %s: %w", network, addr, ns, err)
	}
	return ln, nil
}

// listenPacketIn opens a UDP socket on addr inside ns.
func listenPacketIn(ns, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := inNetns(ns, func() (err error) {
		pc, err = net.ListenPacket("udp4", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("faultlab: listen on udp %s in %s: %w", addr, ns, err)
	}
	return pc, nil
}

// dialIn opens a TCP connection to addr from inside ns.
func dialIn(ctx context.Context, ns, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(ns, func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp4", addr)
		return err
	})
	return c, err
}
