package remote

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

func edKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var loopback = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}

func knownHostsWith(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func hostConf(kh string, port int) HostConfig {
	return HostConfig{Alias: "127.0.0.1", HostName: "127.0.0.1", Port: port, User: "u", KnownHostsFiles: []string{kh}}
}

func TestHostKeyKnownChangedUnknown(t *testing.T) {
	known := edKey(t)
	kh := knownHostsWith(t, "# a comment", "[127.0.0.1]:2222 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(known))))
	hk := &hostKeys{}

	cb, algos, err := hk.callback(hostConf(kh, 2222), Strict)
	if err != nil {
		t.Fatal(err)
	}
	// Only the known key's algorithm is asked for, so a server with several
	// host keys presents the one we can check.
	if len(algos) == 0 || !strings.Contains(strings.Join(algos, " "), "ssh-ed25519") || strings.Contains(strings.Join(algos, " "), "ecdsa") {
		t.Errorf("host key algorithms = %v, want only ed25519", algos)
	}
	if err := cb("[127.0.0.1]:2222", loopback, known); err != nil {
		t.Errorf("known key refused: %v", err)
	}

	err = cb("[127.0.0.1]:2222", loopback, edKey(t))
	var he *HostKeyError
	if !errors.As(err, &he) || !he.Changed {
		t.Fatalf("changed key: got %v, want a changed-key HostKeyError", err)
	}
	if !strings.Contains(err.Error(), kh+":2") || !strings.Contains(err.Error(), "man-in-the-middle") {
		t.Errorf("changed-key message should name %s:2 and warn of interception: %v", kh, err)
	}
	if !strings.Contains(he.Hint(), "ssh-keygen -R") {
		t.Errorf("changed-key hint: %s", he.Hint())
	}

	// Another port of the same address is another host: unknown.
	cb, algos, _ = hk.callback(hostConf(kh, 2223), Strict)
	if len(algos) != 0 {
		t.Errorf("unknown host: algorithms %v, want none (server's choice)", algos)
	}
	err = cb("[127.0.0.1]:2223", loopback, edKey(t))
	if !errors.As(err, &he) || he.Changed {
		t.Fatalf("unknown host: got %v, want an unknown-host HostKeyError", err)
	}
	if !strings.Contains(he.Hint(), "accept-new") {
		t.Errorf("unknown-host hint should mention accept-new: %s", he.Hint())
	}
	data, _ := os.ReadFile(kh)
	if strings.Count(string(data), "\n") != 2 {
		t.Errorf("strict policy wrote to known_hosts:\n%s", data)
	}
}

// A sweep parses known_hosts once, not once per host, yet a key that
// another process records meanwhile is seen by the next connection.
func TestHostKeyFilesReadAgainOnlyWhenChanged(t *testing.T) {
	first, second := edKey(t), edKey(t)
	kh := knownHostsWith(t, "[127.0.0.1]:2222 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(first))))
	hk := &hostKeys{}
	db1, err := hk.open([]string{kh})
	if err != nil {
		t.Fatal(err)
	}
	if db2, _ := hk.open([]string{kh}); db2 != db1 {
		t.Error("known_hosts parsed again although it did not change")
	}

	f, err := os.OpenFile(kh, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "[127.0.0.1]:2223 %s", ssh.MarshalAuthorizedKey(second))
	f.Close()
	cb, algos, err := hk.callback(hostConf(kh, 2223), Strict)
	if err != nil {
		t.Fatal(err)
	}
	if len(algos) == 0 {
		t.Error("a key added to known_hosts after the first read is not known")
	}
	if err := cb("[127.0.0.1]:2223", loopback, second); err != nil {
		t.Errorf("key added after the first read refused: %v", err)
	}
	if err := cb("[127.0.0.1]:2223", loopback, first); err == nil {
		t.Error("a changed key accepted")
	}
}

func TestHostKeyAcceptNew(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "sub", "known_hosts") // missing folder and file
	hk := &hostKeys{}
	key := edKey(t)
	cb, _, err := hk.callback(hostConf(kh, 2222), AcceptNew)
	if err != nil {
		t.Fatal(err)
	}
	if err := cb("[127.0.0.1]:2222", loopback, key); err != nil {
		t.Fatalf("accept-new refused an unknown host: %v", err)
	}
	// Recorded: the same key is now known, even under strict...
	cb, _, _ = hk.callback(hostConf(kh, 2222), Strict)
	if err := cb("[127.0.0.1]:2222", loopback, key); err != nil {
		t.Errorf("recorded key not known afterwards: %v", err)
	}
	// ...and accept-new still refuses a changed key.
	cb, _, _ = hk.callback(hostConf(kh, 2222), AcceptNew)
	var he *HostKeyError
	if err := cb("[127.0.0.1]:2222", loopback, ecKey(t)); !errors.As(err, &he) {
		t.Errorf("accept-new let a second, different key in: %v", err)
	}
}

// TestHostKeyAcceptNewParallel accepts many hosts at once into one file,
// and one host from many connections at once: every line must be whole and
// each host recorded once.
func TestHostKeyAcceptNewParallel(t *testing.T) {
	kh := knownHostsWith(t, "# an existing file, kept as it is")
	hk := &hostKeys{}
	const hosts = 40
	keys := make([]ssh.PublicKey, hosts)
	for i := range keys {
		keys[i] = edKey(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, hosts*3)
	for i := 0; i < hosts; i++ {
		for rep := 0; rep < 3; rep++ { // three connections to each host
			wg.Add(1)
			go func() {
				defer wg.Done()
				port := 3000 + i
				cb, _, err := hk.callback(hostConf(kh, port), AcceptNew)
				if err == nil {
					err = cb(fmt.Sprintf("[127.0.0.1]:%d", port), loopback, keys[i])
				}
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	data, _ := os.ReadFile(kh)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != hosts+1 {
		t.Fatalf("known_hosts has %d lines, want %d:\n%s", len(lines), hosts+1, data)
	}
	for _, l := range lines[1:] {
		if _, _, _, _, _, err := ssh.ParseKnownHosts([]byte(l)); err != nil {
			t.Errorf("damaged line %q: %v", l, err)
		}
	}
}

func TestParseHostKeyPolicy(t *testing.T) {
	for _, ok := range []string{"strict", "accept-new"} {
		if _, err := ParseHostKeyPolicy(ok); err != nil {
			t.Error(err)
		}
	}
	for _, bad := range []string{"", "no", "insecure", "yes"} {
		if _, err := ParseHostKeyPolicy(bad); err == nil {
			t.Errorf("policy %q accepted", bad)
		}
	}
}
