package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Prompter asks the person at the keyboard for a secret. It is set only
// when triage runs on a terminal: a nightly job never waits on a prompt.
type Prompter interface {
	// Secret shows prompt and reads a line without echo.
	Secret(prompt string) (string, error)
}

// keyring loads identity files once per run, so a passphrase is asked for
// once however many hosts use the key.
type keyring struct {
	mu      sync.Mutex
	signers map[string]ssh.Signer // by path; nil when unusable
	prompt  Prompter
	promptM sync.Mutex // one prompt on the terminal at a time

	agentOnce sync.Once
	agent     agent.ExtendedAgent
	agentConn net.Conn
}

func (k *keyring) close() error {
	if k.agentConn != nil {
		return k.agentConn.Close()
	}
	return nil
}

func newKeyring(p Prompter) *keyring {
	return &keyring{signers: map[string]ssh.Signer{}, prompt: p}
}

// authMethods returns the ways to log in to a host, in OpenSSH's order:
// the agent's keys and the identity files, then a password or
// keyboard-interactive answers when there is a terminal to ask on.
func (k *keyring) authMethods(hc HostConfig) []ssh.AuthMethod {
	methods := []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		var signers []ssh.Signer
		if a := k.agentClient(); a != nil && !hc.IdentitiesOnly {
			if s, err := a.Signers(); err == nil {
				signers = append(signers, s...)
			}
		}
		for _, path := range hc.IdentityFiles {
			if s := k.load(path); s != nil {
				signers = append(signers, s)
			}
		}
		return signers, nil
	})}
	if k.prompt != nil {
		methods = append(methods,
			ssh.PasswordCallback(func() (string, error) {
				return k.ask(fmt.Sprintf("%s@%s's password: ", hc.User, hc.Alias))
			}),
			ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i, q := range questions {
					a, err := k.ask(fmt.Sprintf("(%s@%s) %s", hc.User, hc.Alias, q))
					if err != nil {
						return nil, err
					}
					answers[i] = a
				}
				return answers, nil
			}),
		)
	}
	return methods
}

func (k *keyring) ask(prompt string) (string, error) {
	k.promptM.Lock()
	defer k.promptM.Unlock()
	return k.prompt.Secret(prompt)
}

func (k *keyring) agentClient() agent.ExtendedAgent {
	k.agentOnce.Do(func() {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return
		}
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return
		}
		k.agentConn = conn
		k.agent = agent.NewClient(conn)
	})
	return k.agent
}

// load reads an identity file, asking for its passphrase if it has one
// and there is a terminal. A missing or unusable file is skipped, as
// OpenSSH does; authentication then fails with the methods that were tried.
func (k *keyring) load(path string) ssh.Signer {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, done := k.signers[path]; done {
		return s
	}
	k.signers[path] = nil
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) && k.prompt != nil {
		for try := 0; try < 3 && err != nil; try++ {
			var pass string
			pass, err = k.ask(fmt.Sprintf("Enter passphrase for key '%s': ", path))
			if err != nil {
				return nil
			}
			s, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(pass))
		}
	}
	if err != nil {
		return nil
	}
	k.signers[path] = s
	return s
}
