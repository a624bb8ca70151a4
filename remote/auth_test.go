package remote

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/remote/sshtest"
)

// answers is a Prompter that answers from a list, as a person at the
// keyboard would, and records what it was asked.
type answers struct {
	mu      sync.Mutex
	replies []string
	asked   []string
}

func (a *answers) Secret(prompt string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, prompt)
	if len(a.replies) == 0 {
		return "", os.ErrClosed
	}
	r := a.replies[0]
	a.replies = a.replies[1:]
	return r, nil
}

func TestEncryptedKeyAsksOnce(t *testing.T) {
	e := newEnv(t)
	key, pemBytes := sshtest.NewEncryptedUserKey(t, "correct horse")
	os.WriteFile(e.keyPath, pemBytes, 0o600)
	s1 := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	s2 := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	s1.WriteKnownHosts(t, e.knownHosts)
	s2.WriteKnownHosts(t, e.knownHosts)
	p := &answers{replies: []string{"wrong", "correct horse"}}
	e.opts.Prompter = p
	// Decrypting a key is slow under the race detector on a busy machine,
	// and it happens inside the handshake.
	e.opts.ConnectTimeout = time.Minute
	d, err := NewDialer(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sshtest.Server{s1, s2} {
		tg, err := d.Dial(t.Context(), sshtest.DefaultUser+"@"+s.Addr)
		if err != nil {
			t.Fatalf("%s: %v (asked %q)", s.Addr, err, p.asked)
		}
		tg.Close()
	}
	// One wrong answer, one right one; the second host needed no question.
	if len(p.asked) != 2 || !strings.Contains(p.asked[0], "passphrase for key") {
		t.Errorf("asked %q", p.asked)
	}
}

func TestEncryptedKeyWithoutTerminal(t *testing.T) {
	e := newEnv(t)
	key, pemBytes := sshtest.NewEncryptedUserKey(t, "correct horse")
	os.WriteFile(e.keyPath, pemBytes, 0o600)
	s := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	s.WriteKnownHosts(t, e.knownHosts)
	// No Prompter: a nightly job is never asked, and fails as auth.
	_, err := e.dial(sshtest.DefaultUser + "@" + s.Addr)
	var ce *ConnectError
	if !asConnectError(err, &ce) || ce.Kind != ErrAuth {
		t.Errorf("encrypted key with nobody to ask: %v, want an auth error", err)
	}
}

func TestPasswordOnTerminalOnly(t *testing.T) {
	e := newEnv(t)
	e.opts.IdentityFiles = []string{filepath.Join(e.dir, "none")}
	s := sshtest.Start(t, sshtest.Options{Password: "s3cret"})
	s.WriteKnownHosts(t, e.knownHosts)

	if _, err := e.dial(sshtest.DefaultUser + "@" + s.Addr); err == nil {
		t.Fatal("logged in by password with no terminal to ask on")
	}
	p := &answers{replies: []string{"s3cret", "s3cret"}}
	e.opts.Prompter = p
	tg, err := e.dial(sshtest.DefaultUser + "@" + s.Addr)
	if err != nil {
		t.Fatalf("password auth: %v (asked %q)", err, p.asked)
	}
	tg.Close()
	if len(p.asked) == 0 || !strings.Contains(p.asked[0], sshtest.DefaultUser+"@127.0.0.1") {
		t.Errorf("asked %q", p.asked)
	}
}

func TestAgentKeys(t *testing.T) {
	e := newEnv(t)
	e.opts.IdentityFiles = []string{filepath.Join(e.dir, "none")}
	key, pemBytes := sshtest.NewUserKey(t)
	sock, _ := sshtest.StartAgent(t, pemBytes)
	t.Setenv("SSH_AUTH_SOCK", sock)
	s := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}})
	s.WriteKnownHosts(t, e.knownHosts)
	d, err := NewDialer(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := d.Dial(t.Context(), sshtest.DefaultUser+"@"+s.Addr)
	if err != nil {
		t.Fatalf("login with the agent's key: %v", err)
	}
	tg.Close()
	d.Close()
}

func asConnectError(err error, ce **ConnectError) bool {
	if err == nil {
		return false
	}
	e, ok := err.(*ConnectError)
	*ce = e
	return ok
}
