// Package sshtest provides real SSH servers for testing triage's SSH client
// (package remote): an in-process server built on golang.org/x/crypto/ssh and
// github.com/pkg/sftp (Start), and a launcher for the machine's own OpenSSH
// sshd on a loopback port (StartOpenSSH).
//
// It is for tests only, like net/http/httptest: it lives outside internal/
// so that the command's own end-to-end tests can use it, and nothing in
// triage's binary imports it.
//
// Both speak the real protocol; nothing is mocked. The in-process server
// handles what remote's Target uses — exec requests with exit status and
// separate stderr, the "sftp" subsystem (with statvfs@openssh.com), and
// direct-tcpip channels — and behaves as OpenSSH does where a client can tell
// the difference: the same channel-open failure reasons and messages, the
// MaxSessions limit counting exec and SFTP sessions but not forwarded
// connections, a failure reply to keepalive@openssh.com. It can also inject
// faults (a handshake that never starts, a connection that is dropped or goes
// silent) and counts what clients did, so tests can assert on connection and
// session reuse, command quoting and keepalives.
//
// A typical test:
//
//	key, keyPEM := sshtest.NewUserKey(t)
//	srv := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
//	srv.WriteKnownHosts(t, knownHostsPath)
//	// connect remote's client to srv.Addr as sshtest.DefaultUser with keyPEM,
//	// then assert on srv.ExecCommands(), srv.SessionsOpened.Load(), ...
//
// and, against the real thing (skipped without /usr/sbin/sshd unless
// TRIAGE_REQUIRE_SSHD=1):
//
//	o := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{})
//	// o.SSHConfigPath has Host triage-e2e; o.UserKeyPath, o.KnownHostsPath
//
// What this package must not do: listen anywhere but 127.0.0.1, forward
// traffic to anything but loopback addresses (unless a test supplies its own
// Options.Dial), touch the system's sshd or its configuration, or leave a
// goroutine or process behind: every server is stopped by t.Cleanup, which
// waits for everything it started. It is for tests only; host keys are
// generated per test, and a client that skips host key checks belongs in
// this package's own tests, never in remote.
package sshtest
