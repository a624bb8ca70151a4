package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"
)

// tunnelConn is a connection through a direct-tcpip channel with working
// deadlines. x/crypto/ssh channels have none (SetDeadline fails), and the
// network kinds enforce their time limits only through deadlines: the
// channel is relayed through a net.Pipe, whose deadlines behave as a TCP
// socket's (a read or write past its deadline returns an error whose
// Timeout() is true, os.ErrDeadlineExceeded, and the connection stays
// usable), and closing it closes the channel.
type tunnelConn struct {
	net.Conn // our end of the pipe
	local    net.Addr
	remote   net.Addr
}

func (c *tunnelConn) LocalAddr() net.Addr  { return c.local }
func (c *tunnelConn) RemoteAddr() net.Addr { return c.remote }

// newTunnelConn relays ch (a channel's net.Conn) through a pipe. remote is
// the address the channel was opened to.
func newTunnelConn(ch net.Conn, remote string) net.Conn {
	ours, theirs := net.Pipe()
	go func() {
		// The far side's data, until it ends; then the caller reads EOF.
		io.Copy(theirs, ch)
		theirs.Close()
	}()
	go func() {
		// The caller's data, until it closes its end; then the channel
		// goes too, which also ends the copy above.
		io.Copy(ch, theirs)
		ch.Close()
	}()
	return &tunnelConn{Conn: ours, local: ch.LocalAddr(), remote: tcpAddr(remote)}
}

func tcpAddr(hostport string) net.Addr {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return &net.TCPAddr{}
}

// openError turns the server's refusal of a direct-tcpip channel into the
// error a failed connect gives on the target itself: OpenSSH sends
// strerror of its connect ("Connection refused", "No route to host"), and
// x/crypto/ssh wraps it as "ssh: rejected: connect failed (...)", wording
// that means nothing to the reader of a report and that the kinds do not
// sort. Errors that are not a refused channel are returned as they are.
func openError(err error, address string) error {
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) {
		return err
	}
	op := &net.OpError{Op: "dial", Net: "tcp", Addr: tcpAddr(address)}
	msg := strings.ToLower(oce.Message)
	switch {
	case oce.Reason == ssh.ResourceShortage:
		op.Err = errors.New("the SSH server is short of resources and opened no connection")
		return op
	case strings.Contains(msg, "refused"):
		op.Err = syscall.ECONNREFUSED
	case strings.Contains(msg, "no route"), strings.Contains(msg, "host is unreachable"), strings.Contains(msg, "host unreachable"):
		op.Err = syscall.EHOSTUNREACH
	case strings.Contains(msg, "network is unreachable"), strings.Contains(msg, "network unreachable"):
		op.Err = syscall.ENETUNREACH
	case strings.Contains(msg, "timed out"):
		op.Err = syscall.ETIMEDOUT
	case strings.Contains(msg, "reset"):
		op.Err = syscall.ECONNRESET
	default:
		// OpenSSH's "open failed" says no more than that.
		why := strings.TrimSpace(oce.Message)
		if why == "" || strings.EqualFold(why, "open failed") {
			op.Err = fmt.Errorf("the target could not connect to %s (its SSH server gave no reason)", address)
		} else {
			op.Err = fmt.Errorf("the target could not connect to %s: %s", address, why)
		}
		return op
	}
	// As a socket's connect gives it: "connect: connection refused".
	op.Err = os.NewSyscallError("connect", op.Err)
	return op
}
