package sshtest

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// StartAgent starts an ssh-agent in process, holding the given private keys
// (OpenSSH or PEM key files, unencrypted, such as NewUserKey returns), on a
// Unix socket. It returns the socket's path, for SSH_AUTH_SOCK, and the
// keyring itself, so a test can add or remove keys later. t.Cleanup stops
// the agent and waits for its goroutines.
//
// The socket lives in a short directory of its own under os.TempDir rather
// than in t.TempDir, whose long paths can exceed the 104–108 bytes a Unix
// socket path may have.
func StartAgent(t testing.TB, privateKeys ...[]byte) (socketPath string, keyring agent.Agent) {
	t.Helper()
	keyring = agent.NewKeyring()
	for i, pemBytes := range privateKeys {
		key, err := ssh.ParseRawPrivateKey(pemBytes)
		if err != nil {
			t.Fatalf("sshtest: agent key #%d: %v", i, err)
		}
		if err := keyring.Add(agent.AddedKey{PrivateKey: key, Comment: "sshtest"}); err != nil {
			t.Fatalf("sshtest: agent key #%d: %v", i, err)
		}
	}
	dir, err := os.MkdirTemp("", "sshtest-agent-")
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	socketPath = filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", socketPath)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("sshtest: agent socket: %v", err)
	}

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		closed bool
		conns  = make(map[net.Conn]struct{})
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				continue
			}
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				agent.ServeAgent(keyring, c)
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			})
		}
	})
	t.Cleanup(func() {
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		ln.Close()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return socketPath, keyring
}
