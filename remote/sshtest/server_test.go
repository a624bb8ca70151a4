package sshtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// clientTimeout bounds every connect and handshake in these tests.
const clientTimeout = 5 * time.Second

// keyServer starts a server that accepts a fresh user key and returns it
// with the key.
func keyServer(t *testing.T, opts Options) (*Server, ssh.Signer) {
	t.Helper()
	key, _ := NewUserKey(t)
	opts.AuthorizedKeys = append(opts.AuthorizedKeys, key.PublicKey())
	return Start(t, opts), key
}

func clientConfig(s *Server, auth ...ssh.AuthMethod) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            DefaultUser,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(s.HostKeys[0].PublicKey()),
		Timeout:         clientTimeout,
	}
}

// dial connects to addr with cfg, with a deadline on the whole handshake
// (ClientConfig.Timeout covers only the TCP connect).
func dial(t *testing.T, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, clientTimeout)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(clientTimeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	client := ssh.NewClient(c, chans, reqs)
	t.Cleanup(func() { client.Close() })
	return client, nil
}

func mustDial(t *testing.T, addr string, cfg *ssh.ClientConfig) *ssh.Client {
	t.Helper()
	c, err := dial(t, addr, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return c
}

func connect(t *testing.T, opts Options) (*Server, *ssh.Client) {
	t.Helper()
	s, key := keyServer(t, opts)
	return s, mustDial(t, s.Addr, clientConfig(s, ssh.PublicKeys(key)))
}

type execResult struct {
	stdout, stderr string
	err            error
}

func run(t *testing.T, c *ssh.Client, command, stdin string) execResult {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	sess.Stdin = strings.NewReader(stdin)
	err = sess.Run(command)
	return execResult{stdout.String(), stderr.String(), err}
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *ssh.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("want an exit status, got %v", err)
	}
	return ee.ExitStatus()
}

func needShell(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("these commands are for /bin/sh")
	}
}

func TestExecRealShell(t *testing.T) {
	needShell(t)
	s, c := connect(t, Options{})

	r := run(t, c, `echo out; echo err >&2; exit 3`, "")
	if r.stdout != "out\n" || r.stderr != "err\n" || exitStatus(t, r.err) != 3 {
		t.Errorf("got stdout %q, stderr %q, err %v; want out, err, exit status 3", r.stdout, r.stderr, r.err)
	}
	r = run(t, c, `printf '%s|' 'a b' "c'd"`, "")
	if r.err != nil || r.stdout != "a b|c'd|" {
		t.Errorf("quoted arguments: got %q, %v", r.stdout, r.err)
	}
	r = run(t, c, `tr a-z A-Z`, "hello")
	if r.err != nil || r.stdout != "HELLO" {
		t.Errorf("stdin: got %q, %v", r.stdout, r.err)
	}
	// A command that does not read stdin ends although the client never
	// sends EOF on it.
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Run("true"); err != nil {
		t.Errorf("true with stdin left open: %v", err)
	}
	sess.Close()

	want := []string{`echo out; echo err >&2; exit 3`, `printf '%s|' 'a b' "c'd"`, `tr a-z A-Z`, `true`}
	if got := s.ExecCommands(); !slices.Equal(got, want) {
		t.Errorf("ExecCommands() = %q, want %q", got, want)
	}
	if got := s.SessionsOpened.Load(); got != 4 {
		t.Errorf("SessionsOpened = %d, want 4", got)
	}
	if got := s.Connections.Load(); got != 1 {
		t.Errorf("Connections = %d, want 1", got)
	}
}

func TestExecSignal(t *testing.T) {
	needShell(t)
	_, c := connect(t, Options{})
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Start("sleep 30"); err != nil {
		t.Fatal(err)
	}
	if err := sess.Signal(ssh.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var ee *ssh.ExitError
	if err := sess.Wait(); !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Fatalf("Wait() = %v, want exit signal TERM", err)
	}
}

func TestExecFunc(t *testing.T) {
	s, c := connect(t, Options{Exec: func(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) int {
		switch command {
		case "echo":
			io.Copy(stdout, stdin)
			io.WriteString(stderr, "to stderr")
			return 0
		case "crash":
			return -11
		case "odd":
			return -100
		default:
			return 42
		}
	}})
	if r := run(t, c, "echo", "in"); r.err != nil || r.stdout != "in" || r.stderr != "to stderr" {
		t.Errorf("echo: %+v", r)
	}
	var ee *ssh.ExitError
	if r := run(t, c, "crash", ""); !errors.As(r.err, &ee) || ee.Signal() != "SEGV" {
		t.Errorf("crash: got %v, want exit signal SEGV", r.err)
	}
	if r := run(t, c, "odd", ""); exitStatus(t, r.err) != 255 {
		t.Errorf("odd: got %v, want exit status 255", r.err)
	}
	if r := run(t, c, "other", ""); exitStatus(t, r.err) != 42 {
		t.Errorf("other: got %v, want exit status 42", r.err)
	}
	if got := len(s.ExecCommands()); got != 4 {
		t.Errorf("%d commands recorded, want 4", got)
	}
}

func TestSessionRequestsRefused(t *testing.T) {
	_, c := connect(t, Options{Exec: func(context.Context, string, io.Reader, io.Writer, io.Writer) int { return 0 }})
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Setenv("LANG", "C"); err == nil {
		t.Error("env request accepted")
	}
	if err := sess.RequestPty("xterm", 24, 80, nil); err == nil {
		t.Error("pty-req accepted")
	}
	if err := sess.Shell(); err == nil {
		t.Error("shell request accepted")
	}
	if err := sess.RequestSubsystem("netconf"); err == nil {
		t.Error("unknown subsystem accepted")
	}
	// The session is still usable, once.
	if err := sess.Run("x"); err != nil {
		t.Errorf("exec after refused requests: %v", err)
	}
}

func TestKeepalive(t *testing.T) {
	s, c := connect(t, Options{})
	for range 2 {
		ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
		if err != nil || ok {
			t.Fatalf("keepalive = %v, %v; want false (OpenSSH's answer), nil", ok, err)
		}
	}
	if got := s.Keepalives.Load(); got != 2 {
		t.Errorf("Keepalives = %d, want 2", got)
	}
}

func TestSFTP(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hosts")
	if err := os.WriteFile(path, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, c := connect(t, Options{SFTPWorkDir: dir})
	client, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer client.Close()

	fi, err := client.Stat(path)
	if err != nil || fi.Size() != 20 || fi.IsDir() {
		t.Fatalf("Stat(%s) = %v, %v", path, fi, err)
	}
	f, err := client.Open("hosts") // relative to SFTPWorkDir
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(data) != "127.0.0.1 localhost\n" {
		t.Errorf("read %q, %v", data, err)
	}
	vfs, err := client.StatVFS(dir)
	if err != nil || vfs.TotalSpace() == 0 || vfs.Bsize == 0 {
		t.Errorf("StatVFS(%s) = %+v, %v", dir, vfs, err)
	}
	if _, err := client.Create(filepath.Join(dir, "new")); err == nil {
		t.Error("SFTP is writable, want read-only")
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Error("a file was created over SFTP")
	}
	if got := s.SFTPSessions.Load(); got != 1 {
		t.Errorf("SFTPSessions = %d, want 1", got)
	}
}

func TestNoSFTP(t *testing.T) {
	_, c := connect(t, Options{NoSFTP: true})
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Fatal("sftp subsystem accepted with NoSFTP")
	}
}

// TestSFTPThrottle: a throttled SFTP server still answers correctly, byte
// by byte; and one too slow to ever answer is released by Close.
func TestSFTPThrottle(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("slow but right\n"), 0o644)
	_, c := connect(t, Options{SFTPWorkDir: dir, SFTPThrottle: time.Microsecond})
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	f, err := sc.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	sc.Close()
	if err != nil || string(data) != "slow but right\n" {
		t.Errorf("throttled read: %q, %v", data, err)
	}

	s, c := connect(t, Options{SFTPThrottle: time.Hour})
	opened := make(chan error, 1)
	go func() {
		sc, err := sftp.NewClient(c)
		if err == nil {
			sc.Close()
		}
		opened <- err
	}()
	// Once the subsystem is running, not one byte of the server's version
	// packet can arrive within the hour; Close must cut the pauses short
	// and wait for the SFTP server.
	for deadline := time.Now().Add(time.Minute); s.SFTPSessions.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the client never started the sftp subsystem")
		}
	}
	s.Close()
	select {
	case err := <-opened:
		if err == nil {
			t.Error("an SFTP client opened although the server sent nothing")
		}
	case <-time.After(time.Minute):
		t.Fatal("the SFTP client was not released when the server closed")
	}
}

// echoServer listens on loopback and echoes each connection; it returns
// the address.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(c, c)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func echoThrough(t *testing.T, c *ssh.Client, addr string) {
	t.Helper()
	conn, err := c.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s through SSH: %v", addr, err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
}

func openChannelError(t *testing.T, err error) *ssh.OpenChannelError {
	t.Helper()
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) {
		t.Fatalf("got %v, want an *ssh.OpenChannelError", err)
	}
	return oce
}

func TestDirectTCPIP(t *testing.T) {
	echo := echoServer(t)
	s, c := connect(t, Options{})
	echoThrough(t, c, echo)

	closed := closedPort(t)
	_, err := c.Dial("tcp", closed)
	if oce := openChannelError(t, err); oce.Reason != ssh.ConnectionFailed || oce.Message != "Connection refused" {
		t.Errorf("closed port: %v, want connect failed: Connection refused", err)
	}
	// Never dialled: the default Dial refuses anything but loopback.
	_, err = c.Dial("tcp", "192.0.2.1:80")
	if oce := openChannelError(t, err); oce.Reason != ssh.ConnectionFailed {
		t.Errorf("non-loopback target: %v", err)
	}
	if got, want := s.DirectTCPIP(), []string{echo, closed, "192.0.2.1:80"}; !slices.Equal(got, want) {
		t.Errorf("DirectTCPIP() = %q, want %q", got, want)
	}
}

func TestDialOption(t *testing.T) {
	echo := echoServer(t)
	_, c := connect(t, Options{Dial: func(ctx context.Context, address string) (net.Conn, error) {
		if address != "db.internal:5432" {
			return nil, errors.New("no such host")
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", echo)
	}})
	echoThrough(t, c, "db.internal:5432")
}

func TestNoForwarding(t *testing.T) {
	echo := echoServer(t)
	s, c := connect(t, Options{NoForwarding: true})
	_, err := c.Dial("tcp", echo)
	if oce := openChannelError(t, err); oce.Reason != ssh.Prohibited || oce.Message != "open failed" {
		t.Errorf("got %v, want administratively prohibited: open failed", err)
	}
	if got := s.DirectTCPIP(); !slices.Equal(got, []string{echo}) {
		t.Errorf("DirectTCPIP() = %q", got)
	}
}

func TestJumpHost(t *testing.T) {
	target, targetKey := keyServer(t, Options{Exec: func(_ context.Context, _ string, _ io.Reader, stdout, _ io.Writer) int {
		io.WriteString(stdout, "behind the jump host")
		return 0
	}})
	_, jump := connect(t, Options{})

	conn, err := jump.Dial("tcp", target.Addr)
	if err != nil {
		t.Fatalf("dial target through jump host: %v", err)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, target.Addr, clientConfig(target, ssh.PublicKeys(targetKey)))
	if err != nil {
		conn.Close()
		t.Fatalf("handshake with target through jump host: %v", err)
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	if r := run(t, client, "anything", ""); r.err != nil || r.stdout != "behind the jump host" {
		t.Errorf("exec on target: %+v", r)
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	keys := NewHostKeys(t)
	s, userKey := keyServer(t, Options{HostKeys: keys})
	known := filepath.Join(t.TempDir(), "known_hosts")
	s.WriteKnownHosts(t, known)
	callback, err := knownhosts.New(known)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key   ssh.Signer
		algos []string
	}{
		{keys[0], []string{ssh.KeyAlgoED25519}},
		{keys[1], []string{ssh.KeyAlgoECDSA256}},
		{keys[2], []string{ssh.KeyAlgoRSASHA512}},
		{keys[2], []string{ssh.KeyAlgoRSASHA256}},
	} {
		t.Run(tc.algos[0], func(t *testing.T) {
			var got ssh.PublicKey
			cfg := clientConfig(s, ssh.PublicKeys(userKey))
			cfg.HostKeyAlgorithms = tc.algos
			cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
				got = key
				return callback(host, remote, key)
			}
			mustDial(t, s.Addr, cfg)
			if !bytes.Equal(got.Marshal(), tc.key.PublicKey().Marshal()) {
				t.Errorf("server presented %s, want its %s key", got.Type(), tc.key.PublicKey().Type())
			}
		})
	}

	// A known_hosts file holding only the ed25519 key, as the OpenSSH
	// client writes it on first contact: x/crypto's client prefers ECDSA
	// when HostKeyAlgorithms is not restricted, gets that key and reports
	// a mismatch — the trap DESIGN.md §11 describes, reproduced.
	ed25519Only := filepath.Join(t.TempDir(), "known_hosts")
	s.WriteKnownHosts(t, ed25519Only, ssh.KeyAlgoED25519)
	callback, err = knownhosts.New(ed25519Only)
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientConfig(s, ssh.PublicKeys(userKey))
	cfg.HostKeyCallback = callback
	_, err = dial(t, s.Addr, cfg)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Errorf("unrestricted algorithms against an ed25519-only known_hosts: %v, want a key mismatch", err)
	}
}

func TestKnownHostsLine(t *testing.T) {
	s := Start(t, Options{})
	want := "[127.0.0.1]:" + strconv.Itoa(s.Port) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKeys[0].PublicKey())))
	if got := s.KnownHostsLine("127.0.0.1"); got != want {
		t.Errorf("KnownHostsLine = %q, want %q", got, want)
	}
	if got := KnownHostsLine("example.test:22", s.HostKeys[0].PublicKey()); !strings.HasPrefix(got, "example.test ssh-ed25519 ") {
		t.Errorf("port 22 line = %q", got)
	}
}

func TestPasswordAuth(t *testing.T) {
	s := Start(t, Options{Password: "s3cret"})
	mustDial(t, s.Addr, clientConfig(s, ssh.Password("s3cret")))
	mustDial(t, s.Addr, clientConfig(s, ssh.KeyboardInteractive(
		func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			if len(questions) != 1 || questions[0] != "Password: " || echos[0] {
				return nil, errors.New("unexpected questions")
			}
			return []string{"s3cret"}, nil
		})))
	if _, err := dial(t, s.Addr, clientConfig(s, ssh.Password("wrong"))); err == nil {
		t.Error("wrong password accepted")
	}
	cfg := clientConfig(s, ssh.Password("s3cret"))
	cfg.User = "mallory"
	if _, err := dial(t, s.Addr, cfg); err == nil {
		t.Error("wrong user accepted")
	}
	var successes []string
	for _, a := range s.AuthLog() {
		if a.Success {
			successes = append(successes, a.Method)
		}
	}
	if want := []string{"password", "keyboard-interactive"}; !slices.Equal(successes, want) {
		t.Errorf("successful methods %q, want %q (log %+v)", successes, want, s.AuthLog())
	}
}

func TestKeyAuth(t *testing.T) {
	key, _ := NewUserKey(t)
	other, _ := NewUserKey(t)
	encrypted, encPEM := NewEncryptedUserKey(t, "pass phrase")
	s := Start(t, Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey(), encrypted.PublicKey()}})

	mustDial(t, s.Addr, clientConfig(s, ssh.PublicKeys(key)))
	if _, err := dial(t, s.Addr, clientConfig(s, ssh.PublicKeys(other))); err == nil {
		t.Error("unauthorized key accepted")
	}
	if _, err := ssh.ParsePrivateKey(encPEM); !errors.As(err, new(*ssh.PassphraseMissingError)) {
		t.Errorf("encrypted key parsed without passphrase: %v", err)
	}
	signer, err := ssh.ParsePrivateKeyWithPassphrase(encPEM, []byte("pass phrase"))
	if err != nil {
		t.Fatal(err)
	}
	mustDial(t, s.Addr, clientConfig(s, ssh.PublicKeys(signer)))
}

func TestAgentAuth(t *testing.T) {
	key, keyPEM := NewUserKey(t)
	s := Start(t, Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	socket, _ := StartAgent(t, keyPEM)
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustDial(t, s.Addr, clientConfig(s, ssh.PublicKeysCallback(agent.NewClient(conn).Signers)))
}

func TestHangHandshake(t *testing.T) {
	s, key := keyServer(t, Options{HangHandshake: true})
	conn, err := net.DialTimeout("tcp", s.Addr, clientTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
	_, _, _, err = ssh.NewClientConn(conn, s.Addr, clientConfig(s, ssh.PublicKeys(key)))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("handshake against a silent server: %v, want the client's deadline", err)
	}
	if s.Handshakes.Load() != 0 {
		t.Errorf("Handshakes = %d, want 0", s.Handshakes.Load())
	}
}

func TestHangAfterHandshake(t *testing.T) {
	s, key := keyServer(t, Options{HangAfterHandshake: true})
	conn, err := net.DialTimeout("tcp", s.Addr, clientTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, chans, reqs, err := ssh.NewClientConn(conn, s.Addr, clientConfig(s, ssh.PublicKeys(key)))
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
	if _, _, err := client.SendRequest("keepalive@openssh.com", true, nil); err == nil {
		t.Error("keepalive answered by a hung server")
	}
	if s.Handshakes.Load() != 1 {
		t.Errorf("Handshakes = %d, want 1", s.Handshakes.Load())
	}
}

func TestCloseAfterHandshake(t *testing.T) {
	s, key := keyServer(t, Options{CloseAfterHandshake: true})
	c := mustDial(t, s.Addr, clientConfig(s, ssh.PublicKeys(key)))
	if _, err := c.NewSession(); err == nil {
		t.Error("session opened on a closed connection")
	}
	if err := c.Wait(); err == nil {
		t.Error("Wait() = nil on a dropped connection")
	}
}

func TestDropAfterChannels(t *testing.T) {
	_, c := connect(t, Options{DropAfterChannels: 2, Exec: func(context.Context, string, io.Reader, io.Writer, io.Writer) int { return 0 }})
	for i := range 2 {
		if r := run(t, c, "ok", ""); r.err != nil {
			t.Fatalf("exec #%d: %v", i+1, r.err)
		}
	}
	if _, err := c.NewSession(); err == nil {
		t.Fatal("third channel opened, want the connection dropped")
	}
}

func TestDropAndHangConnectionsMidRun(t *testing.T) {
	started := make(chan struct{}, 1)
	blocking := func(ctx context.Context, _ string, _ io.Reader, _, _ io.Writer) int {
		started <- struct{}{}
		<-ctx.Done()
		return 1
	}

	t.Run("drop", func(t *testing.T) {
		s, c := connect(t, Options{Exec: blocking})
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.Start("block"); err != nil {
			t.Fatal(err)
		}
		<-started
		s.DropConnections()
		var exitErr *ssh.ExitError
		if err := sess.Wait(); err == nil || errors.As(err, &exitErr) {
			t.Errorf("Wait() after the drop = %v, want a lost connection", err)
		}
	})

	t.Run("hang", func(t *testing.T) {
		s, key := keyServer(t, Options{Exec: blocking})
		conn, err := net.DialTimeout("tcp", s.Addr, clientTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c, chans, reqs, err := ssh.NewClientConn(conn, s.Addr, clientConfig(s, ssh.PublicKeys(key)))
		if err != nil {
			t.Fatal(err)
		}
		client := ssh.NewClient(c, chans, reqs)
		defer client.Close()
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.Start("block"); err != nil {
			t.Fatal(err)
		}
		<-started
		s.HangConnections()
		conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
		if _, _, err := client.SendRequest("keepalive@openssh.com", true, nil); err == nil {
			t.Error("keepalive answered by a hung connection")
		}
	})
}

func TestMaxSessions(t *testing.T) {
	echo := echoServer(t)
	s, c := connect(t, Options{MaxSessions: 2})

	first, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	sftpClient, err := sftp.NewClient(c) // the SFTP subsystem is a session too
	if err != nil {
		t.Fatal(err)
	}
	defer sftpClient.Close()
	_, err = c.NewSession()
	if oce := openChannelError(t, err); oce.Reason != ssh.ConnectionFailed || oce.Message != "open failed" {
		t.Errorf("third session: %v, want connect failed: open failed", err)
	}
	// Forwarded connections do not count.
	echoThrough(t, c, echo)

	// As with real sshd, the place of a session closed just now is still
	// taken when the next open arrives; it is free for the one after.
	first.Close()
	_, err = c.NewSession()
	if oce := openChannelError(t, err); oce.Reason != ssh.ConnectionFailed {
		t.Errorf("session right after closing one: %v, want it refused", err)
	}
	again, err := c.NewSession()
	if err != nil {
		t.Fatalf("second try after closing a session: %v", err)
	}
	again.Close()

	if got := s.MaxConcurrentSessions.Load(); got != 2 {
		t.Errorf("MaxConcurrentSessions = %d, want 2", got)
	}
	if got := s.SessionsRejected.Load(); got != 2 {
		t.Errorf("SessionsRejected = %d, want 2", got)
	}
}

func TestMaxSessionsRelease(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exact     bool
		openAfter int // sessions open when one is closed and another opened
		refused   bool
	}{
		{"sshd-like, at the limit", false, 3, true},
		{"sshd-like, below the limit", false, 2, false},
		{"exact, at the limit", true, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := connect(t, Options{MaxSessions: 3, ExactSessionRelease: tc.exact})
			var open []*ssh.Session
			for range tc.openAfter {
				sess, err := c.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				open = append(open, sess)
			}
			open[0].Close()
			sess, err := c.NewSession()
			if refused := err != nil; refused != tc.refused {
				t.Fatalf("open after a close: %v, want refused=%v", err, tc.refused)
			}
			if err == nil {
				sess.Close()
			}
			for _, o := range open[1:] {
				o.Close()
			}
			if got := s.SessionsRejected.Load() == 1; got != tc.refused {
				t.Errorf("SessionsRejected = %d", s.SessionsRejected.Load())
			}
		})
	}
}

func TestMaxSessionsChurn(t *testing.T) {
	// With the limit at its default, a client that never holds more than
	// ten sessions is never refused, however fast it closes and reopens.
	s, c := connect(t, Options{Exec: func(context.Context, string, io.Reader, io.Writer, io.Writer) int { return 0 }})
	for i := range 200 {
		var batch []*ssh.Session
		for range DefaultMaxSessions {
			sess, err := c.NewSession()
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			batch = append(batch, sess)
		}
		for _, sess := range batch {
			sess.Close()
		}
	}
	if s.SessionsRejected.Load() != 0 || s.MaxConcurrentSessions.Load() != DefaultMaxSessions {
		t.Errorf("SessionsRejected %d, MaxConcurrentSessions %d", s.SessionsRejected.Load(), s.MaxConcurrentSessions.Load())
	}
}

// The pattern remote is expected to use — at most MaxSessions-1 sessions at
// once, each released when its command has finished — is never refused,
// even by a server that frees places as late as sshd does.
func TestMaxSessionsClientBelowLimit(t *testing.T) {
	s, c := connect(t, Options{Exec: func(context.Context, string, io.Reader, io.Writer, io.Writer) int { return 0 }})
	slots := make(chan struct{}, DefaultMaxSessions-1)
	errs := make(chan error, 300)
	var wg sync.WaitGroup
	for range 300 {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			sess, err := c.NewSession()
			if err != nil {
				errs <- err
				return
			}
			defer sess.Close()
			if err := sess.Run("x"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.SessionsRejected.Load() != 0 {
		t.Errorf("SessionsRejected = %d", s.SessionsRejected.Load())
	}
}

func TestCloseStopsRunningExec(t *testing.T) {
	started := make(chan struct{})
	s, key := keyServer(t, Options{Exec: func(ctx context.Context, _ string, _ io.Reader, _, _ io.Writer) int {
		close(started)
		<-ctx.Done()
		return 0
	}})
	c := mustDial(t, s.Addr, clientConfig(s, ssh.PublicKeys(key)))
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Start("block"); err != nil {
		t.Fatal(err)
	}
	<-started
	s.Close() // returns only once the exec has returned
	if err := sess.Wait(); err == nil {
		t.Error("Wait() = nil after the server closed")
	}
	if _, err := net.DialTimeout("tcp", s.Addr, clientTimeout); err == nil {
		t.Error("server still accepts after Close")
	}
}
