package sshtest

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// dialTimeout bounds the connect of a direct-tcpip channel, like the kernel's
// connect timeout bounds sshd's.
const dialTimeout = 10 * time.Second

// openDirectTCPIP answers a direct-tcpip channel open as sshd does: the
// channel is confirmed only once the TCP connect has succeeded, and a failed
// connect is reported with the reason ConnectionFailed.
func (s *Server) openDirectTCPIP(nc ssh.NewChannel) {
	var msg struct {
		Host       string
		Port       uint32
		OriginHost string
		OriginPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &msg); err != nil {
		nc.Reject(ssh.ConnectionFailed, "bad direct-tcpip request")
		return
	}
	target := net.JoinHostPort(msg.Host, strconv.FormatUint(uint64(msg.Port), 10))
	s.recordForward(target)
	if s.opts.NoForwarding {
		nc.Reject(ssh.Prohibited, "open failed")
		return
	}
	// Dialling may take a while; the connection's other channels must not
	// wait for it.
	s.wg.Go(func() { s.forward(nc, target) })
}

func (s *Server) forward(nc ssh.NewChannel, target string) {
	ctx, cancel := context.WithTimeout(s.ctx, dialTimeout)
	tcp, err := s.opts.Dial(ctx, target)
	cancel()
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, dialFailure(err))
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		tcp.Close()
		return
	}
	// The request queue ends when the channel is closed by either side or
	// the connection dies; that is when the TCP side must go too, or a
	// silent peer would keep the copy below blocked for ever.
	s.wg.Go(func() {
		ssh.DiscardRequests(reqs)
		tcp.Close()
	})
	done := make(chan struct{})
	s.wg.Go(func() {
		defer close(done)
		io.Copy(tcp, ch)
		closeWrite(tcp)
	})
	io.Copy(ch, tcp)
	ch.CloseWrite()
	<-done
	ch.Close()
}

// dialFailure words a failed connect as OpenSSH does (it sends strerror), so
// that a client's message for "port closed" is the same against both servers.
func dialFailure(err error) string {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "Connection refused"
	}
	return err.Error()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	c.Close()
}
