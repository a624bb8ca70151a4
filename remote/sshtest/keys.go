package sshtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KeyType names a kind of key to generate.
type KeyType string

// The key types a stock OpenSSH server has host keys for.
const (
	Ed25519   KeyType = "ed25519"
	ECDSAP256 KeyType = "ecdsa-p256"
	RSA2048   KeyType = "rsa-2048"
)

// generateKey makes a fresh private key of the given type.
func generateKey(kind KeyType) (crypto.Signer, error) {
	switch kind {
	case Ed25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("unknown key type %q", kind)
	}
}

// marshalKey encodes key in OpenSSH's private key format, encrypted with
// passphrase if it is not empty.
func marshalKey(key crypto.Signer, comment, passphrase string) ([]byte, error) {
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(key, comment)
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, comment, []byte(passphrase))
	}
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(block), nil
}

// NewHostKey returns a fresh host key of the given type.
func NewHostKey(t testing.TB, kind KeyType) ssh.Signer {
	t.Helper()
	key, err := generateKey(kind)
	if err != nil {
		t.Fatalf("sshtest: generate %s host key: %v", kind, err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatalf("sshtest: %s host key: %v", kind, err)
	}
	return signer
}

// NewHostKeys returns fresh ed25519, ecdsa-p256 and rsa-2048 host keys, in
// that order: what a stock OpenSSH server offers.
func NewHostKeys(t testing.TB) []ssh.Signer {
	t.Helper()
	return []ssh.Signer{NewHostKey(t, Ed25519), NewHostKey(t, ECDSAP256), NewHostKey(t, RSA2048)}
}

// NewUserKey returns a fresh ed25519 user key and its private key file
// contents in OpenSSH format ("-----BEGIN OPENSSH PRIVATE KEY-----"), as
// ssh-keygen writes it. Write the file with mode 0600: the OpenSSH client
// refuses a key file others can read.
func NewUserKey(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	return newUserKey(t, "")
}

// NewEncryptedUserKey is NewUserKey with the private key file encrypted with
// passphrase, as "ssh-keygen -N passphrase" writes it.
//
// The encryption uses bcrypt_pbkdf with OpenSSH's 16 rounds, which is slow
// on purpose (seconds under the race detector), so the key is made once per
// passphrase and test binary and then returned again: tests that need two
// different encrypted keys give two passphrases.
func NewEncryptedUserKey(t testing.TB, passphrase string) (ssh.Signer, []byte) {
	t.Helper()
	if passphrase == "" {
		t.Fatal("sshtest: NewEncryptedUserKey needs a passphrase")
	}
	encryptedKeysMu.Lock()
	defer encryptedKeysMu.Unlock()
	if k, ok := encryptedKeys[passphrase]; ok {
		return k.signer, slices.Clone(k.pem)
	}
	signer, pemBytes := newUserKey(t, passphrase)
	encryptedKeys[passphrase] = encryptedKey{signer, pemBytes}
	return signer, slices.Clone(pemBytes)
}

type encryptedKey struct {
	signer ssh.Signer
	pem    []byte
}

var (
	encryptedKeysMu sync.Mutex
	encryptedKeys   = map[string]encryptedKey{}
)

func newUserKey(t testing.TB, passphrase string) (ssh.Signer, []byte) {
	t.Helper()
	key, err := generateKey(Ed25519)
	if err != nil {
		t.Fatalf("sshtest: generate user key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatalf("sshtest: user key: %v", err)
	}
	pemBytes, err := marshalKey(key, "sshtest user key", passphrase)
	if err != nil {
		t.Fatalf("sshtest: encode user key: %v", err)
	}
	return signer, pemBytes
}

// KnownHostsLine returns the known_hosts line for key at address
// ("host:port"), as OpenSSH writes it: "host key" for port 22 and
// "[host]:port key" for any other port.
func KnownHostsLine(address string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(address)}, key)
}

// KnownHostsLine returns the known_hosts line for the server's first host
// key, naming the server as host at its port ("[127.0.0.1]:PORT ssh-ed25519
// AAAA..." for s.Host).
func (s *Server) KnownHostsLine(host string) string {
	return KnownHostsLine(net.JoinHostPort(host, strconv.Itoa(s.Port)), s.HostKeys[0].PublicKey())
}

// KnownHostsLines returns one known_hosts line per host key of the server,
// naming it as host at its port. If keyTypes are given, only keys whose
// PublicKey().Type() is among them are listed (ssh.KeyAlgoED25519,
// ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSA, ...).
func (s *Server) KnownHostsLines(host string, keyTypes ...string) []string {
	var lines []string
	address := net.JoinHostPort(host, strconv.Itoa(s.Port))
	for _, k := range s.HostKeys {
		if len(keyTypes) > 0 && !slices.Contains(keyTypes, k.PublicKey().Type()) {
			continue
		}
		lines = append(lines, KnownHostsLine(address, k.PublicKey()))
	}
	return lines
}

// WriteKnownHosts appends to the known_hosts file at path (creating it with
// mode 0600) a line for each host key of the server under s.Host, limited to
// keyTypes if any are given. Appending lets one file describe several
// servers, as a jump-host test needs.
func (s *Server) WriteKnownHosts(t testing.TB, path string, keyTypes ...string) {
	t.Helper()
	lines := s.KnownHostsLines(s.Host, keyTypes...)
	if len(lines) == 0 {
		t.Fatalf("sshtest: the server has no host key of type %s", strings.Join(keyTypes, ", "))
	}
	appendLines(t, path, lines)
}

func appendLines(t testing.TB, path string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("sshtest: write %s: %v", path, err)
	}
}
