package sshtest

import (
	"net"
	"sync"
)

// faultConn is a server-side connection that can be frozen: once frozen it
// neither delivers what the client sends nor sends anything, and reads and
// writes block until the connection is closed. That is what a host that
// hangs looks like from the client's side.
type faultConn struct {
	net.Conn
	frozen     chan struct{}
	closed     chan struct{}
	freezeOnce sync.Once
	closeOnce  sync.Once
}

func newFaultConn(c net.Conn) *faultConn {
	return &faultConn{Conn: c, frozen: make(chan struct{}), closed: make(chan struct{})}
}

func (c *faultConn) freeze() {
	c.freezeOnce.Do(func() { close(c.frozen) })
}

func (c *faultConn) isFrozen() bool {
	select {
	case <-c.frozen:
		return true
	default:
		return false
	}
}

func (c *faultConn) Read(p []byte) (int, error) {
	if c.isFrozen() {
		<-c.closed
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(p)
	// A read that was already waiting when the connection froze must not
	// deliver what arrives afterwards.
	if c.isFrozen() {
		<-c.closed
		return 0, net.ErrClosed
	}
	return n, err
}

func (c *faultConn) Write(p []byte) (int, error) {
	if c.isFrozen() {
		<-c.closed
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

func (c *faultConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.Conn.Close()
	})
	return err
}
