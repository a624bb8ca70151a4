package sshtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// DefaultUser is the user name the in-process server accepts when
// Options.User is empty.
const DefaultUser = "triage"

// DefaultMaxSessions is OpenSSH's default MaxSessions, used when
// Options.MaxSessions is zero.
const DefaultMaxSessions = 10

// ExecFunc runs the command of one "exec" request. command is the string the
// client sent, exactly (OpenSSH clients send one shell-quoted string, and so
// must remote). stdin delivers what the client writes until it sends EOF;
// stdout and stderr go back on the channel's data and extended-data streams.
//
// The return value becomes the session's exit status. A negative value -N
// reports death by signal N instead, sent as "exit-signal" with the RFC 4254
// name (-1 HUP, -2 INT, -3 QUIT, -4 ILL, -6 ABRT, -8 FPE, -9 KILL, -11 SEGV,
// -13 PIPE, -14 ALRM, -15 TERM); any other negative value is sent as exit
// status 255.
//
// ctx is cancelled when the client closes the session, when the connection
// ends, when the server is closed, or — with a *SignalReceived cause — when the
// client sends a "signal" request. An ExecFunc must return soon after ctx is
// done: Server.Close waits for it. Reads from stdin fail once it has returned.
type ExecFunc func(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) int

// DialFunc opens the TCP connection for a direct-tcpip channel. address is
// "host:port" as the client asked for it.
type DialFunc func(ctx context.Context, address string) (net.Conn, error)

// Options configures the in-process server. The zero value is a server with
// one fresh ed25519 host key for user "triage" that lets nobody in (set
// AuthorizedKeys or Password), runs exec requests with the real /bin/sh,
// serves the real filesystem read-only over SFTP, forwards direct-tcpip
// channels to loopback addresses and allows 10 sessions per connection.
type Options struct {
	// HostKeys are the server's host keys. Default: one fresh ed25519 key.
	// Pass several (NewHostKeys gives ed25519, ecdsa-p256 and rsa-2048) to
	// offer several host-key algorithms, as a stock OpenSSH server does.
	HostKeys []ssh.Signer

	// AuthorizedKeys are the public keys accepted for User.
	AuthorizedKeys []ssh.PublicKey

	// User is the only user name accepted. Default: DefaultUser ("triage").
	User string

	// Password, if set, is accepted by "password" authentication and by
	// "keyboard-interactive" authentication, which asks one question,
	// "Password: ", without echo. If empty, both methods are refused.
	Password string

	// NoSFTP makes the server refuse the "sftp" subsystem, as an sshd without
	// a Subsystem line does.
	NoSFTP bool

	// SFTPWorkDir is the directory that relative SFTP paths resolve against
	// (default: the test process's working directory). It is not a chroot:
	// absolute paths reach the whole filesystem. SFTP is always read-only;
	// any write fails with a permission error.
	SFTPWorkDir string

	// SFTPInMemory serves an in-memory filesystem over SFTP instead of the
	// real one: a host whose files are not this machine's (no /proc, no
	// /etc), such as a Windows server. It starts empty and, unlike the real
	// one, may be written: a test puts in the files it wants the host to
	// have. All sessions of the server share it.
	SFTPInMemory bool

	// SFTPThrottle, if positive, makes the SFTP server send its answers one
	// byte at a time with this pause before each byte, as a server on a
	// dying link or a disk that hardly answers would. The pauses end when
	// the session or the server is closed.
	SFTPThrottle time.Duration

	// NoForwarding makes the server refuse direct-tcpip channels as
	// OpenSSH's "AllowTcpForwarding no" does: reason Prohibited, message
	// "open failed".
	NoForwarding bool

	// Dial opens the connection for a direct-tcpip channel. Default: dial
	// only if the host is a loopback IP address or "localhost", and refuse
	// anything else without sending a packet, so that a test can never reach
	// beyond this machine. A failed dial is reported to the client as OpenSSH
	// does: reason ConnectionFailed, with "Connection refused" as the message
	// when the port was closed.
	Dial DialFunc

	// Exec runs exec requests. Default: ShellExec, which really runs the
	// command on this machine with /bin/sh -c (cmd.exe /C on Windows).
	Exec ExecFunc

	// MaxSessions limits the session channels (exec and SFTP alike) open at
	// once on one connection, like OpenSSH's MaxSessions: the next one is
	// refused as sshd refuses it, with reason ConnectionFailed and message
	// "open failed" (not Prohibited, which is what refused forwarding
	// gets). direct-tcpip channels do not count. 0 means
	// DefaultMaxSessions (10); a negative value means no limit.
	MaxSessions int

	// ExactSessionRelease frees a session's place the moment the client's
	// close for it arrives. By default the server does what real sshd does
	// instead: sshd frees a closed session's slot in a later pass of its
	// main loop, so a session open that arrives right behind a close finds
	// the closed session still counted. (Measured against OpenSSH 9.2p1:
	// 10 workers sharing one connection, each running "true" in a fresh
	// session as soon as another finished, were refused 104 times in 300;
	// 9 workers, never.) Here the most recently closed session counts until
	// the next session open has been answered, deterministically where sshd
	// depends on timing — and even if it closed long before, which sshd
	// would not do. A client that never has more than MaxSessions-1
	// sessions open is never refused either way.
	ExactSessionRelease bool

	// HangHandshake makes the server accept TCP connections and then never
	// send a byte, not even its version line, until the connection is
	// closed. For testing the client's handshake deadline.
	HangHandshake bool

	// HangAfterHandshake completes the handshake, user authentication
	// included, and then goes silent: the server reads nothing more from the
	// connection and sends nothing, so channel opens, keepalives and every
	// other request go unanswered, while the TCP connection stays open. For
	// testing keepalive timeouts and per-host deadlines.
	HangAfterHandshake bool

	// CloseAfterHandshake completes the handshake, user authentication
	// included, and then closes the TCP connection without an SSH disconnect
	// message.
	CloseAfterHandshake bool

	// DropAfterChannels, if positive, lets that many channel opens (of any
	// type) through on each connection; when the next one arrives the server
	// closes the TCP connection without answering it.
	DropAfterChannels int
}

// AuthAttempt is one authentication request the server answered.
type AuthAttempt struct {
	User    string
	Method  string // "none", "publickey", "password" or "keyboard-interactive"
	Success bool
}

// Server is a running in-process SSH server on 127.0.0.1. Its counters may be
// read at any time; they count over the server's whole life.
type Server struct {
	// Addr is "127.0.0.1:PORT"; Host and Port are its parts.
	Addr string
	Host string
	Port int

	// HostKeys are the host keys the server offers.
	HostKeys []ssh.Signer

	// Connections counts accepted TCP connections; Handshakes counts the
	// ones that completed the SSH handshake, user authentication included.
	//
	// Every counter and record is updated before the server answers what
	// it counts (a connection is answered with the server's version line),
	// so a test may check it as soon as its client has the answer.
	Connections atomic.Int64
	Handshakes  atomic.Int64

	// SessionsOpened counts accepted session channels; SessionsRejected
	// counts the ones refused because of MaxSessions.
	SessionsOpened   atomic.Int64
	SessionsRejected atomic.Int64

	// MaxConcurrentSessions is the highest number of session channels that
	// were open at once on one connection.
	MaxConcurrentSessions atomic.Int64

	// SFTPSessions counts sftp subsystem requests that were accepted.
	SFTPSessions atomic.Int64

	// Keepalives counts keepalive@openssh.com global requests.
	Keepalives atomic.Int64

	opts   Options
	config *ssh.ServerConfig
	memFS  sftp.Handlers // for SFTPInMemory
	ln     net.Listener

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	conns     map[*faultConn]struct{}
	commands  []string
	forwards  []string
	authLog   []AuthAttempt
	closeOnce sync.Once
}

// Start starts an in-process SSH server on 127.0.0.1:0. t.Cleanup closes it
// and waits for all its goroutines.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.User == "" {
		opts.User = DefaultUser
	}
	if len(opts.HostKeys) == 0 {
		opts.HostKeys = []ssh.Signer{NewHostKey(t, Ed25519)}
	}
	if opts.Exec == nil {
		opts.Exec = ShellExec
	}
	if opts.Dial == nil {
		opts.Dial = dialLoopback
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = DefaultMaxSessions
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshtest: listen on 127.0.0.1: %v", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Addr:     addr.String(),
		Host:     addr.IP.String(),
		Port:     addr.Port,
		HostKeys: slices.Clone(opts.HostKeys),
		opts:     opts,
		ln:       ln,
		ctx:      ctx,
		cancel:   cancel,
		conns:    make(map[*faultConn]struct{}),
	}
	if opts.SFTPInMemory {
		s.memFS = sftp.InMemHandler()
	}
	s.config = s.serverConfig()
	t.Cleanup(s.Close)
	s.wg.Go(s.acceptLoop)
	return s
}

func (s *Server) serverConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-triage_sshtest",
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if meta.User() != s.opts.User {
				return nil, fmt.Errorf("sshtest: unknown user %q", meta.User())
			}
			for _, k := range s.opts.AuthorizedKeys {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, errors.New("sshtest: key not authorized")
		},
		// x/crypto calls this before it answers the client, so counts made
		// here are in place by the time the client learns the outcome.
		AuthLogCallback: func(meta ssh.ConnMetadata, method string, err error) {
			if err == nil {
				s.Handshakes.Add(1)
			}
			s.mu.Lock()
			s.authLog = append(s.authLog, AuthAttempt{User: meta.User(), Method: method, Success: err == nil})
			s.mu.Unlock()
		},
	}
	if s.opts.Password != "" {
		cfg.PasswordCallback = func(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			if meta.User() != s.opts.User || string(password) != s.opts.Password {
				return nil, errors.New("sshtest: wrong user or password")
			}
			return &ssh.Permissions{}, nil
		}
		cfg.KeyboardInteractiveCallback = func(meta ssh.ConnMetadata, challenge ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := challenge("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if meta.User() != s.opts.User || len(answers) != 1 || answers[0] != s.opts.Password {
				return nil, errors.New("sshtest: wrong user or password")
			}
			return &ssh.Permissions{}, nil
		}
	}
	for _, k := range s.opts.HostKeys {
		cfg.AddHostKey(k)
	}
	return cfg
}

// Close stops the listener, closes every connection, cancels running exec
// commands and waits for all of the server's goroutines. It is safe to call
// more than once; t.Cleanup calls it.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := s.takeConnsLocked()
		s.mu.Unlock()
		s.ln.Close()
		// Connections go first, so that an exec ended by the
		// cancellation below cannot report an exit status: to the
		// client, the server vanished.
		for _, c := range conns {
			c.Close()
		}
		s.cancel()
	})
	s.wg.Wait()
}

// DropConnections closes every open connection at the TCP level, without an
// SSH disconnect message, as a crashed host or a reset network would. The
// server keeps accepting new connections.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.takeConnsLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// HangConnections makes every open connection go silent, as
// HangAfterHandshake does: nothing more is read or sent, and the TCP
// connections stay open until the client gives up or the server is closed.
// New connections are not affected.
func (s *Server) HangConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.freeze()
	}
}

// ExecCommands returns the command strings of all exec requests the server
// accepted, in the order they arrived.
func (s *Server) ExecCommands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// DirectTCPIP returns the "host:port" targets of all direct-tcpip channel
// requests, in the order they arrived, including refused ones.
func (s *Server) DirectTCPIP() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.forwards)
}

// AuthLog returns every authentication request the server answered, in
// order. Clients usually start with method "none".
func (s *Server) AuthLog() []AuthAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.authLog)
}

func (s *Server) takeConnsLocked() []*faultConn {
	conns := make([]*faultConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	clear(s.conns)
	return conns
}

// track registers c so that Close, DropConnections and HangConnections reach
// it. It reports false, having closed c, if the server is already closed.
func (s *Server) track(c *faultConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *faultConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *Server) acceptLoop() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			// The listener only fails for good once Close has closed it.
			return
		}
		s.Connections.Add(1)
		c := newFaultConn(nc)
		if !s.track(c) {
			continue
		}
		s.wg.Go(func() { s.handleConn(c) })
	}
}

func (s *Server) handleConn(c *faultConn) {
	defer s.untrack(c)
	if s.opts.HangHandshake {
		// Reading from the raw connection does not speak; it only notices
		// when the client gives up or Close closes the connection.
		io.Copy(io.Discard, c.Conn)
		return
	}
	_, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return
	}
	switch {
	case s.opts.CloseAfterHandshake:
		c.Close()
	case s.opts.HangAfterHandshake:
		c.freeze()
	}
	cs := &connState{srv: s, fault: c}
	cs.serve(chans, reqs)
}

func (s *Server) recordCommand(command string) {
	s.mu.Lock()
	s.commands = append(s.commands, command)
	s.mu.Unlock()
}

func (s *Server) recordForward(target string) {
	s.mu.Lock()
	s.forwards = append(s.forwards, target)
	s.mu.Unlock()
}

func (s *Server) noteConcurrentSessions(n int) {
	for {
		old := s.MaxConcurrentSessions.Load()
		if int64(n) <= old || s.MaxConcurrentSessions.CompareAndSwap(old, int64(n)) {
			return
		}
	}
}

// dialLoopback is the default Options.Dial: it connects only to loopback
// addresses so that tests never send traffic off the machine.
func dialLoopback(ctx context.Context, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("bad port %q", port)
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return nil, fmt.Errorf("sshtest dials only loopback addresses, not %q (set Options.Dial to map names)", host)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", address)
}
