package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/remote/sshtest"
	"github.com/triage-dev/triage/reports"
)

// fleet is a set of hosts to sweep: an inventory, and the ssh_config,
// key and known_hosts that reach them.
type fleet struct {
	dir, inventory, sshConfig, knownHosts, keyPath string
	key                                            ssh.Signer
	hosts                                          []string // inventory lines
}

func newFleet(t *testing.T) *fleet {
	dir := t.TempDir()
	key, pemBytes := sshtest.NewUserKey(t)
	f := &fleet{dir: dir, key: key, keyPath: filepath.Join(dir, "id"), knownHosts: filepath.Join(dir, "known_hosts"), sshConfig: filepath.Join(dir, "ssh_config"), inventory: filepath.Join(dir, "hosts.yaml")}
	os.WriteFile(f.keyPath, pemBytes, 0o600)
	os.WriteFile(f.knownHosts, nil, 0o600)
	os.WriteFile(f.sshConfig, []byte(fmt.Sprintf("Host *\n  IdentityFile %s\n  UserKnownHostsFile %s\n", f.keyPath, f.knownHosts)), 0o600)
	return f
}

func (f *fleet) add(name, user, addr string) {
	host, port, _ := net.SplitHostPort(addr)
	f.hosts = append(f.hosts, fmt.Sprintf("  %s: {address: %s, port: %s, user: %s}", name, host, port, user))
}

func (f *fleet) know(line string) {
	fh, _ := os.OpenFile(f.knownHosts, os.O_APPEND|os.O_WRONLY, 0o600)
	fmt.Fprintln(fh, line)
	fh.Close()
}

func (f *fleet) write(t *testing.T) {
	if err := os.WriteFile(f.inventory, []byte("hosts:\n"+strings.Join(f.hosts, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

const sweepPlaybook = `name: fleet
checks:
  - id: root
    title: Root exists
    file: {path: /}
  - id: shell
    title: A shell answers
    command: {argv: ["true"]}
  - id: disk
    title: Disk has room
    disk: {path: /, warn_used: 99%, fail_used: 100%}
`

// TestSweepFleet sweeps real OpenSSH servers, healthy and broken in every
// way the issue lists, and checks that every host is reported with the
// right reason, within the per-host deadline, with nothing left running.
func TestSweepFleet(t *testing.T) {
	// Registered first, so it runs after every other cleanup has stopped
	// the servers: whatever is left then was left by triage.
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	t.Setenv("SSH_AUTH_SOCK", "")
	f := newFleet(t)

	const healthy = 16
	for i := 1; i <= healthy; i++ {
		o := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{AuthorizedKeys: []ssh.PublicKey{f.key.PublicKey()}})
		f.add(fmt.Sprintf("ok%02d", i), o.User, o.Addr)
		f.know(sshtest.KnownHostsLine(o.Addr, o.HostKeyPub))
	}
	// A host whose key changed since it was recorded.
	changed := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{AuthorizedKeys: []ssh.PublicKey{f.key.PublicKey()}})
	f.add("changed", changed.User, changed.Addr)
	f.know(sshtest.KnownHostsLine(changed.Addr, sshtest.NewHostKey(t, sshtest.Ed25519).PublicKey()))
	// A host that refuses the user.
	refuses := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{AuthorizedKeys: []ssh.PublicKey{f.key.PublicKey()}, ExtraConfig: []string{"AllowUsers nobody-at-all"}})
	f.add("refuses", refuses.User, refuses.Addr)
	f.know(sshtest.KnownHostsLine(refuses.Addr, refuses.HostKeyPub))
	// A host where every command hangs.
	hangs := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{AuthorizedKeys: []ssh.PublicKey{f.key.PublicKey()}, ExtraConfig: []string{"ForceCommand sleep 600"}})
	f.add("hangs", hangs.User, hangs.Addr)
	f.know(sshtest.KnownHostsLine(hangs.Addr, hangs.HostKeyPub))
	// A dead port, and a listener that accepts and never speaks.
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	f.add("dead", "u", dead.Addr().String())
	dead.Close()
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	// Accept and hold every connection, saying nothing.
	var heldMu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, c)
			heldMu.Unlock()
		}
	}()
	defer func() {
		heldMu.Lock()
		defer heldMu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	f.add("silent", "u", silent.Addr().String())
	f.write(t)
	pb := filepath.Join(f.dir, "fleet.yaml")
	os.WriteFile(pb, []byte(sweepPlaybook), 0o644)

	// Generous limits: the machine may be busy with other tests, and a
	// healthy host must not be mistaken for a hanging one.
	const hostTimeout = 20 * time.Second
	start := time.Now()
	type outcome struct {
		code           int
		stdout, stderr string
	}
	done := make(chan outcome, 1)
	go func() {
		code, out, errOut := runMain(t, "sweep", "-i", f.inventory, pb, "-F", f.sshConfig,
			"--host-timeout", hostTimeout.String(), "--connect-timeout", "10s", "--parallel", "32",
			"--out", filepath.Join(f.dir, "out"))
		done <- outcome{code, out, errOut}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(hostTimeout + time.Minute):
		t.Fatal("the sweep did not finish: a host held it past its deadline")
	}
	t.Logf("sweep of %d hosts took %s (host timeout %s)", len(f.hosts), time.Since(start).Round(time.Millisecond), hostTimeout)

	if o.code != exitError {
		t.Errorf("exit %d, want %d\nstderr: %s", o.code, exitError, o.stderr)
	}
	data, err := os.ReadFile(filepath.Join(f.dir, "out", "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reports.Read(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != len(f.hosts) {
		t.Fatalf("%d hosts in the report, want %d", len(rep.Hosts), len(f.hosts))
	}
	want := map[string]string{"changed": "host-key-changed", "refuses": "auth", "dead": "refused", "silent": "handshake-timeout", "hangs": "host-timeout"}
	for _, h := range rep.Hosts {
		if kind, broken := want[h.Target]; broken {
			if h.ErrorKind != kind || h.Status != "error" {
				t.Errorf("%s: status %s, error kind %q (%s), want %q", h.Target, h.Status, h.ErrorKind, h.Error, kind)
			}
			continue
		}
		if h.Status != "pass" || len(h.Results) != 3 {
			t.Errorf("%s: %s %q, %d results", h.Target, h.Status, h.Error, len(h.Results))
			for _, r := range h.Results {
				t.Logf("  %s: %s %s", r.ID, r.Status, r.Message)
			}
		}
	}
	for _, words := range []string{"sweep of 21 hosts", "16 pass", "5 not checked", "host-key-changed", "verdict: error"} {
		if !strings.Contains(o.stdout, words) {
			t.Errorf("summary lacks %q:\n%s", words, o.stdout)
		}
	}
}

// smallFleet starts n in-process SSH servers and an inventory for them;
// each host checks that its own marker file exists (a host variable).
func smallFleet(t *testing.T, n int) (f *fleet, markers []string) {
	t.Setenv("SSH_AUTH_SOCK", "")
	f = newFleet(t)
	lines := []string{"hosts:"}
	for i := 1; i <= n; i++ {
		s := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{f.key.PublicKey()}})
		s.WriteKnownHosts(t, f.knownHosts)
		m := filepath.Join(f.dir, fmt.Sprintf("marker%d", i))
		os.WriteFile(m, []byte("x"), 0o644)
		markers = append(markers, m)
		lines = append(lines, fmt.Sprintf("  h%d: {address: 127.0.0.1, port: %d, user: %s, vars: {marker: %q}}", i, s.Port, sshtest.DefaultUser, m))
	}
	lines = append(lines, "groups:", "  odd: {hosts: [h1, h3, h5]}")
	os.WriteFile(f.inventory, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(f.dir, "marker.yaml"), []byte("name: marker\nchecks:\n  - id: marker\n    title: Marker of ${host.hostname}\n    file: {path: \"${marker}\"}\n"), 0o644)
	return f, markers
}

func TestSweepHistoryAndNotify(t *testing.T) {
	f, markers := smallFleet(t, 5)
	pb := filepath.Join(f.dir, "marker.yaml")
	history := filepath.Join(f.dir, "history")

	var posts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posts = append(posts, string(b))
	}))
	defer hook.Close()
	sweep := func() (int, string, string) {
		return runMain(t, "sweep", "-i", f.inventory, pb, "-F", f.sshConfig, "--history", history, "--keep", "2", "--notify-url", hook.URL)
	}

	code, out, errOut := sweep()
	if code != exitPass || !strings.Contains(out, "5 pass") {
		t.Fatalf("first sweep: exit %d\n%s\n%s", code, out, errOut)
	}
	os.Remove(markers[2]) // h3 breaks
	code, out, _ = sweep()
	if code != exitFail || !strings.Contains(out, "1 got worse") || !strings.Contains(out, "h3") {
		t.Errorf("second sweep: exit %d\n%s", code, out)
	}
	if len(posts) != 1 || !strings.Contains(posts[0], `"triage.sweep-notify/v1"`) || !strings.Contains(posts[0], "h3") {
		t.Errorf("notifications: %q", posts)
	}
	os.WriteFile(markers[2], []byte("x"), 0o644) // fixed
	code, out, _ = sweep()
	if code != exitPass || !strings.Contains(out, "1 got better") {
		t.Errorf("third sweep: exit %d\n%s", code, out)
	}
	if len(posts) != 1 {
		t.Errorf("notified although nothing got worse: %d posts", len(posts))
	}
	kept, _ := filepath.Glob(filepath.Join(history, "sweep-*.json"))
	if len(kept) != 2 {
		t.Errorf("--keep 2 left %d reports", len(kept))
	}
}

func TestSweepLimitAndShards(t *testing.T) {
	f, _ := smallFleet(t, 5)
	pb := filepath.Join(f.dir, "marker.yaml")
	hostsOf := func(args ...string) []string {
		t.Helper()
		code, out, errOut := runMain(t, append([]string{"sweep", "-i", f.inventory, pb, "-F", f.sshConfig, "-o", "json"}, args...)...)
		if code != exitPass {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		rep, err := reports.Read(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range rep.Hosts {
			names = append(names, h.Target)
		}
		return names
	}
	if got := strings.Join(hostsOf("--limit", "odd,!h5"), " "); got != "h1 h3" {
		t.Errorf("--limit odd,!h5: %s", got)
	}
	one, two := hostsOf("--shard", "1/2"), hostsOf("--shard", "2/2")
	all := append(append([]string(nil), one...), two...)
	sort.Strings(all)
	if strings.Join(all, " ") != "h1 h2 h3 h4 h5" {
		t.Errorf("shards %v and %v do not split the fleet", one, two)
	}
	if again := hostsOf("--shard", "1/2"); strings.Join(again, " ") != strings.Join(one, " ") {
		t.Errorf("shard 1/2 changed between runs: %v then %v", one, again)
	}
}

func TestSweepUsage(t *testing.T) {
	for _, args := range [][]string{
		{"sweep"},
		{"sweep", "-i", "x.yaml", "-H", "a"},
		{"sweep", "-H", "a", "--shard", "3/2"},
		{"sweep", "-H", "a", "--parallel", "0"},
		{"sweep", "-H", "a", "--notify-url", "http://127.0.0.1:1/"},
		{"sweep", "-H", "a", "--history", "h", "--notify-url", "ftp://x"},
		{"sweep", "-H", "a;b"},
	} {
		if code, _, stderr := runMain(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("hosts:\n  a: {port: nope}\n"), 0o644)
	if code, _, stderr := runMain(t, "sweep", "-i", bad); code != exitInvalid || !strings.Contains(stderr, "bad.yaml:2:") {
		t.Errorf("bad inventory: exit %d\n%s", code, stderr)
	}
}

// TestSweepRedacts: a secret printed on a host never reaches the sweep's
// report, its history or its files.
func TestSweepRedacts(t *testing.T) {
	f, _ := smallFleet(t, 2)
	pb := filepath.Join(f.dir, "secret.yaml")
	os.WriteFile(pb, []byte("checks:\n  - id: env\n    command: {argv: [echo, \"password=hunter2-very-secret\"], exit_code: 1}\n"), 0o644)
	out := filepath.Join(f.dir, "out")
	history := filepath.Join(f.dir, "history")
	_, stdout, stderr := runMain(t, "sweep", "-i", f.inventory, pb, "-F", f.sshConfig, "-o", "json", "--out", out, "--history", history)
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	more, _ := filepath.Glob(filepath.Join(history, "*"))
	for _, path := range append(files, more...) {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), "hunter2") {
			t.Errorf("%s contains the secret", path)
		}
	}
	if strings.Contains(stdout, "hunter2") || !strings.Contains(stdout, "REDACTED") {
		t.Errorf("stdout not redacted:\n%s\n%s", stdout, stderr)
	}
}
