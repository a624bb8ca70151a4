package sshtest

import (
	"context"
	"errors"
	"io"
	"reflect"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// connState serves one authenticated connection. Its serve loop is the only
// reader of the connection's new channels, its global requests and the
// requests of every session channel. Reading them all in one goroutine is
// what makes MaxSessions deterministic: x/crypto closes a channel's request
// queue when the client's close arrives, before it queues any channel opened
// after that close, so sweeping the session queues before counting sees
// every session the client has already closed.
type connState struct {
	srv      *Server
	fault    *faultConn
	sessions []*session
	opened   int // channel opens seen, for DropAfterChannels

	// closedSinceOpen is set when a session ends and cleared when the next
	// session open has been answered; meanwhile that session still counts
	// against MaxSessions (see Options.ExactSessionRelease).
	closedSinceOpen bool
}

// session is one accepted session channel.
type session struct {
	ch      ssh.Channel
	reqs    <-chan *ssh.Request
	ctx     context.Context
	cancel  context.CancelCauseFunc
	started bool // an exec or subsystem is running or has run
}

// SignalReceived is the cause of an exec context's cancellation when the
// client sent a "signal" request (RFC 4254 §6.9). ShellExec delivers that
// signal to the command's process group.
type SignalReceived struct {
	// Name is the signal's RFC 4254 name, without "SIG": "TERM", "INT", ...
	Name string
}

func (e *SignalReceived) Error() string { return "sshtest: client sent signal " + e.Name }

func (cs *connState) serve(chans <-chan ssh.NewChannel, global <-chan *ssh.Request) {
	for {
		cases := make([]reflect.SelectCase, 0, 2+len(cs.sessions))
		cases = append(cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(chans)},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(global)})
		for _, s := range cs.sessions {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s.reqs)})
		}
		chosen, v, ok := reflect.Select(cases)
		switch {
		case chosen == 0 && !ok:
			// The connection is gone. x/crypto closes every channel
			// before it closes chans, so each remaining request queue
			// ends without blocking; what is left in them can no longer
			// be answered.
			for len(cs.sessions) > 0 {
				for range cs.sessions[0].reqs {
				}
				cs.endSession(0)
			}
			return
		case chosen == 0:
			cs.handleChannel(v.Interface().(ssh.NewChannel))
		case chosen == 1 && !ok:
			global = nil // a nil channel is never ready
		case chosen == 1:
			cs.handleGlobal(v.Interface().(*ssh.Request))
		case !ok:
			cs.endSession(chosen - 2)
		default:
			cs.handleSessionRequest(cs.sessions[chosen-2], v.Interface().(*ssh.Request))
		}
	}
}

// sweep handles every request and close that is already queued on the
// sessions, without blocking.
func (cs *connState) sweep() {
	for i := 0; i < len(cs.sessions); {
		s := cs.sessions[i]
		select {
		case req, ok := <-s.reqs:
			if !ok {
				cs.endSession(i)
				continue // the next session moved to index i
			}
			cs.handleSessionRequest(s, req)
			continue // look at the same session again
		default:
		}
		i++
	}
}

func (cs *connState) endSession(i int) {
	cs.closedSinceOpen = true
	cs.sessions[i].cancel(nil)
	cs.sessions = append(cs.sessions[:i], cs.sessions[i+1:]...)
}

func (cs *connState) handleGlobal(req *ssh.Request) {
	if req.Type == "keepalive@openssh.com" {
		cs.srv.Keepalives.Add(1)
	}
	// OpenSSH answers keepalive@openssh.com, like every global request it
	// does not know, with a failure; the answer itself is what a client's
	// keepalive waits for.
	if req.WantReply {
		req.Reply(false, nil)
	}
}

func (cs *connState) handleChannel(nc ssh.NewChannel) {
	cs.opened++
	if n := cs.srv.opts.DropAfterChannels; n > 0 && cs.opened > n {
		cs.fault.Close()
		return
	}
	switch nc.ChannelType() {
	case "session":
		cs.openSession(nc)
	case "direct-tcpip":
		cs.srv.openDirectTCPIP(nc)
	default:
		nc.Reject(ssh.UnknownChannelType, "unknown channel type")
	}
}

func (cs *connState) openSession(nc ssh.NewChannel) {
	cs.sweep()
	counted := len(cs.sessions)
	if cs.closedSinceOpen && !cs.srv.opts.ExactSessionRelease {
		counted++
	}
	cs.closedSinceOpen = false
	if limit := cs.srv.opts.MaxSessions; limit > 0 && counted >= limit {
		cs.srv.SessionsRejected.Add(1)
		// Not Prohibited: sshd's reason for "no more sessions" is
		// SSH2_OPEN_CONNECT_FAILED (the conformance test checks).
		nc.Reject(ssh.ConnectionFailed, "open failed")
		return
	}
	cs.srv.SessionsOpened.Add(1)
	cs.srv.noteConcurrentSessions(len(cs.sessions) + 1)
	ch, reqs, err := nc.Accept()
	if err != nil {
		return // the connection is gone
	}
	ctx, cancel := context.WithCancelCause(cs.srv.ctx)
	cs.sessions = append(cs.sessions, &session{ch: ch, reqs: reqs, ctx: ctx, cancel: cancel})
}

func (cs *connState) handleSessionRequest(s *session, req *ssh.Request) {
	srv := cs.srv
	switch req.Type {
	case "exec":
		var msg struct{ Command string }
		if s.started || ssh.Unmarshal(req.Payload, &msg) != nil {
			req.Reply(false, nil)
			return
		}
		s.started = true
		srv.recordCommand(msg.Command)
		req.Reply(true, nil)
		srv.wg.Go(func() { srv.runExec(s, msg.Command) })
	case "subsystem":
		var msg struct{ Name string }
		if s.started || ssh.Unmarshal(req.Payload, &msg) != nil || msg.Name != "sftp" || srv.opts.NoSFTP {
			req.Reply(false, nil)
			return
		}
		s.started = true
		srv.SFTPSessions.Add(1)
		req.Reply(true, nil)
		srv.wg.Go(func() { srv.runSFTP(s) })
	case "signal":
		var msg struct{ Signal string }
		if ssh.Unmarshal(req.Payload, &msg) == nil && s.started {
			s.cancel(&SignalReceived{Name: msg.Signal})
		}
		if req.WantReply {
			req.Reply(false, nil)
		}
	default:
		// shell, pty-req, env, x11-req, auth-agent-req@openssh.com,
		// window-change and the rest: not something a diagnostic client
		// needs, so politely refused.
		if req.WantReply {
			req.Reply(false, nil)
		}
	}
}

func (srv *Server) runExec(s *session, command string) {
	// The channel can only be read until the client's close arrives; an
	// io.Pipe in between lets the exec's stdin be cut off the moment the
	// exec returns.
	stdinR, stdinW := io.Pipe()
	srv.wg.Go(func() {
		if _, err := io.Copy(stdinW, s.ch); err != nil {
			// The exec is over; keep the client's window open until
			// the channel closes.
			io.Copy(io.Discard, s.ch)
		}
		stdinW.Close()
	})
	code := srv.opts.Exec(s.ctx, command, stdinR, s.ch, s.ch.Stderr())
	stdinR.CloseWithError(errors.New("sshtest: exec has returned"))
	sendExit(s.ch, code)
}

func (srv *Server) runSFTP(s *session) {
	opts := []sftp.ServerOption{sftp.ReadOnly()}
	if srv.opts.SFTPWorkDir != "" {
		opts = append(opts, sftp.WithServerWorkingDirectory(srv.opts.SFTPWorkDir))
	}
	// pkg/sftp may still be sending its last reply from another goroutine
	// when Serve returns; x/crypto does not order that write against
	// CloseWrite, so both go through one lock.
	lc := &lockedChannel{Channel: s.ch}
	var rw io.ReadWriteCloser = lc
	if d := srv.opts.SFTPThrottle; d > 0 {
		rw = &throttledChannel{lockedChannel: lc, ctx: s.ctx, delay: d}
	}
	var server interface {
		Serve() error
		Close() error
	}
	if srv.opts.SFTPInMemory {
		server = sftp.NewRequestServer(rw, srv.memFS)
	} else {
		fs, err := sftp.NewServer(rw, opts...)
		if err != nil {
			sendExit(s.ch, 1)
			return
		}
		server = fs
	}
	server.Serve()
	// sftp-server exits with status 0 when the client hangs up.
	lc.mu.Lock()
	lc.closed = true
	sendExit(s.ch, 0)
	lc.mu.Unlock()
	server.Close()
}

// lockedChannel serialises writes with the end of the session.
type lockedChannel struct {
	ssh.Channel
	mu     sync.Mutex
	closed bool
}

func (c *lockedChannel) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, io.ErrClosedPipe
	}
	return c.Channel.Write(p)
}

// throttledChannel sends one byte per delay (Options.SFTPThrottle).
type throttledChannel struct {
	*lockedChannel
	ctx   context.Context
	delay time.Duration
}

func (c *throttledChannel) Write(p []byte) (int, error) {
	for i := range p {
		t := time.NewTimer(c.delay)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return i, io.ErrClosedPipe
		}
		if _, err := c.lockedChannel.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// sendExit ends a session the way sshd does when its child exits: EOF on
// the output, the exit status or signal, then close.
func sendExit(ch ssh.Channel, code int) {
	ch.CloseWrite()
	switch name, ok := signalName(-code); {
	case code >= 0:
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
	case ok:
		ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Message    string
			Lang       string
		}{Signal: name}))
	default:
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{255}))
	}
	ch.Close()
}
