package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/remote/sshtest"
)

func TestMain(m *testing.M) {
	// Run as a helper process by TestHostKeyAcceptNewAcrossProcesses.
	if os.Getenv(acceptHelperEnv) != "" {
		os.Exit(acceptHelper())
	}
	// The SSH agent variable of whoever runs the tests must not change them.
	os.Unsetenv("SSH_AUTH_SOCK")
	goleak.VerifyTestMain(m)
}

// env is a client set up to reach test servers: its own key, known_hosts
// and an empty ssh_config, so the tester's ~/.ssh never matters.
type env struct {
	t          *testing.T
	dir        string
	key        ssh.Signer
	keyPath    string
	knownHosts string
	opts       Options
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	key, pemBytes := sshtest.NewUserKey(t)
	e := &env{t: t, dir: dir, key: key, keyPath: filepath.Join(dir, "id_ed25519"), knownHosts: filepath.Join(dir, "known_hosts")}
	if err := os.WriteFile(e.keyPath, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.opts = Options{
		ConfigFile:      cfg,
		Home:            dir,
		IdentityFiles:   []string{e.keyPath},
		KnownHostsFiles: []string{e.knownHosts},
		ConnectTimeout:  5 * time.Second,
	}
	return e
}

// server starts an in-process server that trusts the env's key and is
// known to it (unless the options say otherwise).
func (e *env) server(opts sshtest.Options) *sshtest.Server {
	e.t.Helper()
	opts.AuthorizedKeys = append(opts.AuthorizedKeys, e.key.PublicKey())
	s := sshtest.Start(e.t, opts)
	s.WriteKnownHosts(e.t, e.knownHosts)
	return s
}

func (e *env) dial(spec string) (*Target, error) {
	e.t.Helper()
	d, err := NewDialer(e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return d.Dial(ctx, spec)
}

func (e *env) mustDial(s *sshtest.Server) *Target {
	e.t.Helper()
	tg, err := e.dial(sshtest.DefaultUser + "@" + s.Addr)
	if err != nil {
		e.t.Fatalf("dial %s: %v", s.Addr, err)
	}
	e.t.Cleanup(func() { tg.Close() })
	return tg
}

func TestRunCommands(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{})
	tg := e.mustDial(s)
	ctx := context.Background()

	res, err := tg.Run(ctx, diag.Command{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		t.Errorf("got exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	if _, err := tg.Run(ctx, diag.Command{Argv: []string{"no-such-program-triage"}}); !errors.Is(err, diag.ErrCommandNotFound) {
		t.Errorf("missing program: %v, want ErrCommandNotFound", err)
	}
	res, err = tg.Run(ctx, diag.Command{Argv: []string{"sh", "-c", "head -c 300000 /dev/zero"}, MaxOutput: 1000})
	if err != nil || len(res.Stdout) != 1000 || !res.Truncated {
		t.Errorf("capped output: %d bytes, truncated %v, err %v", len(res.Stdout), res.Truncated, err)
	}
}

// TestQuotingExecutesNothing sends hostile values as arguments: they must
// arrive as they were, and the canary file must never be created.
func TestQuotingExecutesNothing(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{})
	tg := e.mustDial(s)
	dir := t.TempDir()
	canary := filepath.Join(dir, "pwned")
	words := []string{
		"$(touch " + canary + ")", "`touch " + canary + "`", "; touch " + canary, "&& touch " + canary,
		"'; touch " + canary + "; '", `"; touch ` + canary + `; "`, "\ntouch " + canary, "| touch " + canary,
		"it's", `\`, "$HOME", "*",
	}
	res, err := tg.Run(context.Background(), diag.Command{Argv: append([]string{"printf", `%s\0`}, words...)})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(res.Stdout), "\x00"), "\x00")
	if strings.Join(got, "|") != strings.Join(words, "|") {
		t.Errorf("arguments changed on the way:\ngot  %q\nwant %q", got, words)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Fatalf("a quoted value was executed: %s exists (command line %q)", canary, s.ExecCommands())
	}
}

func TestFilesAndDisksOverSFTP(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{})
	tg := e.mustDial(s)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(path, []byte("hello remote\n"), 0o640)

	data, truncated, err := tg.ReadFile(ctx, path, 5)
	if err != nil || string(data) != "hello" || !truncated {
		t.Errorf("ReadFile capped: %q %v %v", data, truncated, err)
	}
	fi, err := tg.Stat(ctx, path)
	if err != nil || fi.Size != 13 || fi.Mode.Perm() != 0o640 || fi.UID != os.Getuid() {
		t.Errorf("Stat: %+v %v", fi, err)
	}
	if _, err := tg.Stat(ctx, path+".missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, _, err := tg.ReadFile(ctx, path+".missing", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want fs.ErrNotExist", err)
	}
	remoteDU, err := tg.DiskUsage(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	localDU, _ := diag.NewLocal().DiskUsage(ctx, "/")
	if !within(remoteDU.Total, localDU.Total, 0.01) || !within(remoteDU.Avail, localDU.Avail, 0.01) {
		t.Errorf("disk over SFTP %+v differs from local %+v", remoteDU, localDU)
	}
	if s.SFTPSessions.Load() != 1 {
		t.Errorf("%d SFTP sessions opened, want one shared by every read", s.SFTPSessions.Load())
	}
}

func within(a, b uint64, frac float64) bool {
	d := float64(a) - float64(b)
	if d < 0 {
		d = -d
	}
	return d <= frac*float64(max(a, b))
}

// TestNoSFTPFallsBack reads files and disks with commands when the server
// has no SFTP, and the evidence says so.
func TestNoSFTPFallsBack(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{NoSFTP: true})
	tg := e.mustDial(s)
	path := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(path, []byte("no sftp here\n"), 0o644)

	results := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{
		{ID: "f", Kind: "probe", Checker: probe(func(ctx context.Context, t diag.Target) diag.Result {
			data, _, err := t.ReadFile(ctx, path, 100)
			fi, serr := t.Stat(ctx, path)
			du, derr := t.DiskUsage(ctx, "/")
			if err != nil || serr != nil || derr != nil {
				return diag.Resultf(diag.Error, "%v / %v / %v", err, serr, derr)
			}
			return diag.Resultf(diag.Pass, "%s|%d|%v", data, fi.Size, du.Total > 0)
		})},
	})
	r := results[0]
	if r.Status != diag.Pass || r.Message != "no sftp here\n|13|true" {
		t.Fatalf("fallback result: %s %q", r.Status, r.Message)
	}
	for _, want := range []string{"files were read with cat", "disk usage came from df"} {
		if !strings.Contains(r.Evidence, want) {
			t.Errorf("evidence does not say %q:\n%s", want, r.Evidence)
		}
	}
	if _, _, err := tg.ReadFile(context.Background(), path+".missing", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cat of a missing file: %v, want fs.ErrNotExist", err)
	}
}

type probe func(ctx context.Context, t diag.Target) diag.Result

func (p probe) Run(ctx context.Context, t diag.Target) diag.Result { return p(ctx, t) }

func TestDialStartsOnTarget(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{})
	tg := e.mustDial(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	conn, err := tg.Dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
		t.Errorf("echo through direct-tcpip: %q %v", buf, err)
	}
	conn.Close()
	if got := s.DirectTCPIP(); len(got) != 1 || got[0] != ln.Addr().String() {
		t.Errorf("server saw forwards %v", got)
	}
	if _, err := tg.Dial(context.Background(), "udp", "127.0.0.1:53"); !errors.Is(err, diag.ErrUnsupported) {
		t.Errorf("udp over SSH: %v, want ErrUnsupported", err)
	}

}

// TestDialWithoutForwarding: a server with AllowTcpForwarding no; the
// connection is made by bash on the target instead, and the evidence says so.
func TestDialWithoutForwarding(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{NoForwarding: true})
	tg := e.mustDial(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()

	res := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{
		{ID: "echo", Checker: probe(func(ctx context.Context, t diag.Target) diag.Result {
			conn, err := t.Dial(ctx, "tcp", ln.Addr().String())
			if err != nil {
				return diag.Resultf(diag.Error, "%v", err)
			}
			defer conn.Close()
			fmt.Fprint(conn, "ping")
			buf := make([]byte, 4)
			if _, err := io.ReadFull(conn, buf); err != nil {
				return diag.Resultf(diag.Error, "read: %v", err)
			}
			return diag.Resultf(diag.Pass, "%s", buf)
		})},
		{ID: "refused", Checker: probe(func(ctx context.Context, t diag.Target) diag.Result {
			_, err := t.Dial(ctx, "tcp", closedAddr)
			return diag.Resultf(diag.Fail, "%v", err)
		})},
	})
	if res[0].Status != diag.Pass || res[0].Message != "ping" {
		t.Errorf("echo without forwarding: %s %q", res[0].Status, res[0].Message)
	}
	if !strings.Contains(res[0].Evidence, "made by bash on the target") {
		t.Errorf("evidence does not say how the connection was made: %q", res[0].Evidence)
	}
	if !strings.Contains(res[1].Message, "Connection refused") {
		t.Errorf("refused port without forwarding: %q", res[1].Message)
	}
}

// TestFactsMatchLocal: the facts found over SSH are this machine's own,
// whether they come from /proc over SFTP (with no command run at all) or,
// without SFTP, from uname.
func TestFactsMatchLocal(t *testing.T) {
	localFacts, _ := diag.NewLocal().Facts(context.Background())
	for _, tc := range []struct {
		name      string
		noSFTP    bool
		wantExecs []string
	}{
		{name: "sftp", wantExecs: nil},
		{name: "no sftp", noSFTP: true, wantExecs: []string{"uname -s -n -r -m", "cat -- /etc/os-release", "cat -- /proc/net/route"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var execs []string
			e := newEnv(t)
			tg := e.mustDial(e.server(sshtest.Options{NoSFTP: tc.noSFTP, Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
				mu.Lock()
				execs = append(execs, cmd)
				mu.Unlock()
				return sshtest.ShellExec(ctx, cmd, stdin, stdout, stderr)
			}}))
			remoteFacts, err := tg.Facts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if remoteFacts != localFacts {
				t.Errorf("facts over SSH differ from local:\nremote %+v\nlocal  %+v", remoteFacts, localFacts)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(execs, tc.wantExecs) {
				t.Errorf("commands run: %q, want %q", execs, tc.wantExecs)
			}
		})
	}
}

// putFiles gives a host served with sshtest's SFTPInMemory the files a
// test wants it to have, written over the target's own SFTP client.
func putFiles(t *testing.T, tg *Target, files map[string]string) {
	t.Helper()
	sc, err := tg.sftpClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := sc.MkdirAll(path.Dir(name)); err != nil {
			t.Fatal(err)
		}
		f, err := sc.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Write([]byte(content))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestFactsFromHostFiles: the facts of hosts other than this machine,
// from the files a test puts on an in-memory SFTP server: a kernel older
// than kernel/arch (the arch is read off sftp-server's binary), and hosts
// whose /proc is not Linux's or is missing, where uname has to answer.
func TestFactsFromHostFiles(t *testing.T) {
	elfARM64 := make([]byte, 64)
	copy(elfARM64, "\x7fELF\x02\x01\x01")
	elfARM64[18] = 183 // EM_AARCH64, little-endian
	osRelease := "NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"8.9\"\nPRETTY_NAME=\"Rocky Linux 8.9 (Green Obsidian)\"\n"
	route := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	for _, tc := range []struct {
		name      string
		files     map[string]string
		uname     string
		want      diag.Facts
		wantExecs int
	}{{
		name: "kernel 4.18 without kernel/arch",
		files: map[string]string{
			"/proc/version":             "Linux version 4.18.0-513.el8.aarch64 (mockbuild@aarch64-01.build.example.com) (gcc version 8.5.0 20210514 (Red Hat 8.5.0-20) (GCC)) #1 SMP Mon Oct 30 10:20:00 UTC 2023\n",
			"/proc/sys/kernel/hostname": "db7\n",
			"/proc/self/exe":            string(elfARM64),
			"/usr/lib/os-release":       osRelease,
			"/proc/net/route":           route,
		},
		want: diag.Facts{OS: "linux", Hostname: "db7", Kernel: "4.18.0-513.el8.aarch64", Arch: "arm64",
			Distro: "rocky", DistroVersion: "8.9", PrettyName: "Rocky Linux 8.9 (Green Obsidian)", Gateway: "10.0.0.1"},
	}, {
		name:      "no /proc: uname answers",
		files:     map[string]string{"/etc/motd": "hello\n"},
		uname:     "FreeBSD fw1 14.1-RELEASE amd64\n",
		want:      diag.Facts{OS: "freebsd", Hostname: "fw1", Kernel: "14.1-RELEASE", Arch: "amd64"},
		wantExecs: 1,
	}, {
		name:      "/proc of another system: uname answers",
		files:     map[string]string{"/proc/version": "NotLinux version 1 (x@y)\n", "/proc/sys/kernel/hostname": "x\n", "/proc/sys/kernel/arch": "x86_64\n"},
		uname:     "Darwin mac 23.4.0 arm64\n",
		want:      diag.Facts{OS: "darwin", Hostname: "mac", Kernel: "23.4.0", Arch: "arm64", Distro: "macos"},
		wantExecs: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var execs atomic.Int64
			e := newEnv(t)
			tg := e.mustDial(e.server(sshtest.Options{SFTPInMemory: true, Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
				execs.Add(1)
				if cmd == "uname -s -n -r -m" && tc.uname != "" {
					io.WriteString(stdout, tc.uname)
					return 0
				}
				fmt.Fprintf(stderr, "sh: %s: not found\n", cmd)
				return 127
			}}))
			putFiles(t, tg, tc.files)
			got, err := tg.Facts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("facts:\n got %+v\nwant %+v", got, tc.want)
			}
			if n := execs.Load(); n != int64(tc.wantExecs) {
				t.Errorf("%d commands run, want %d", n, tc.wantExecs)
			}
		})
	}
}

func TestParseProcVersion(t *testing.T) {
	for _, tc := range []struct {
		in               string
		sysname, release string
		ok               bool
	}{
		{"Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)\n", "Linux", "6.1.0-28-amd64", true},
		{"Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #1237-Microsoft Sat Sep 11 14:32:00 PST 2021\n", "Linux", "4.4.0-19041-Microsoft", true},
		{"Linux version 2.6.32-754.el6.x86_64 (mockbuild@x86-01.bsys.centos.org) (gcc version 4.4.7 20120313 (Red Hat 4.4.7-23) (GCC) ) #1 SMP Tue Jun 19 21:26:04 UTC 2018\n", "Linux", "2.6.32-754.el6.x86_64", true},
		{"Linux\n", "", "", false},
		{"Linux kernel 6.1\n", "", "", false},
		{"", "", "", false},
	} {
		sysname, release, ok := parseProcVersion([]byte(tc.in))
		if sysname != tc.sysname || release != tc.release || ok != tc.ok {
			t.Errorf("parseProcVersion(%q) = %q %q %v, want %q %q %v", tc.in, sysname, release, ok, tc.sysname, tc.release, tc.ok)
		}
	}
}

func TestElfArch(t *testing.T) {
	// This test's own binary is an ELF file of GOARCH.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 64)
	_, err = io.ReadFull(f, hdr)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := elfArch(hdr); got != runtime.GOARCH {
		t.Errorf("elfArch(%s) = %q, want %q", exe, got, runtime.GOARCH)
	}

	// header builds the first 20 bytes of an ELF file.
	header := func(class, data byte, machine uint16) []byte {
		h := make([]byte, 20)
		copy(h, "\x7fELF")
		h[4], h[5], h[6] = class, data, 1
		if data == 2 {
			h[18], h[19] = byte(machine>>8), byte(machine)
		} else {
			h[18], h[19] = byte(machine), byte(machine>>8)
		}
		return h
	}
	for _, tc := range []struct {
		hdr  []byte
		want string
	}{
		{header(2, 1, 62), "amd64"},
		{header(1, 1, 3), "386"},
		{header(2, 1, 183), "arm64"},
		{header(1, 1, 40), "arm"},
		{header(2, 1, 21), "ppc64le"},
		{header(2, 2, 21), "ppc64"},
		{header(2, 2, 22), "s390x"},
		{header(2, 1, 243), "riscv64"},
		{header(2, 1, 258), "loong64"},
		{header(1, 2, 8), "mips"},
		{header(2, 1, 8), "mips64le"},
		{header(1, 1, 243), ""}, // riscv32: not an arch Go names
		{header(2, 1, 9999), ""},
		{header(2, 3, 62), ""},      // no such byte order
		{header(2, 1, 62)[:19], ""}, // cut short
		{[]byte("#!/bin/sh\nexec something else\n"), ""},
		{nil, ""},
	} {
		if got := elfArch(tc.hdr); got != tc.want {
			t.Errorf("elfArch(% x) = %q, want %q", tc.hdr, got, tc.want)
		}
	}
}

func TestConnectErrors(t *testing.T) {
	// A closed port: refused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()

	cases := []struct {
		name  string
		setup func(e *env) string
		kind  ErrorKind
		text  string
	}{
		{"refused", func(e *env) string { return "u@" + closed }, ErrRefused, "connection refused"},
		{"handshake never completes", func(e *env) string {
			e.opts.ConnectTimeout = 300 * time.Millisecond
			return "u@" + e.server(sshtest.Options{HangHandshake: true}).Addr
		}, ErrHandshakeTimeout, "did not complete the SSH handshake within 300ms"},
		{"auth failed", func(e *env) string {
			other, _ := sshtest.NewUserKey(e.t)
			s := sshtest.Start(e.t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{other.PublicKey()}})
			s.WriteKnownHosts(e.t, e.knownHosts)
			return sshtest.DefaultUser + "@" + s.Addr
		}, ErrAuth, "authentication failed"},
		{"wrong user", func(e *env) string { return "mallory@" + e.server(sshtest.Options{}).Addr }, ErrAuth, "authentication failed"},
		{"unknown host key", func(e *env) string {
			s := sshtest.Start(e.t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{e.key.PublicKey()}})
			return sshtest.DefaultUser + "@" + s.Addr
		}, ErrHostUnknown, "is unknown"},
		{"changed host key", func(e *env) string {
			s := sshtest.Start(e.t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{e.key.PublicKey()}})
			impostor := sshtest.NewHostKey(e.t, sshtest.Ed25519)
			os.WriteFile(e.knownHosts, []byte(sshtest.KnownHostsLine(s.Addr, impostor.PublicKey())+"\n"), 0o600)
			return sshtest.DefaultUser + "@" + s.Addr
		}, ErrHostChanged, "CHANGED"},
		{"bad ProxyJump", func(e *env) string {
			e.opts.ProxyJump = "u@" + closed
			return "u@127.0.0.1:22"
		}, ErrRefused, "jump host 1 of 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			spec := c.setup(e)
			tg, err := e.dial(spec)
			if err == nil {
				tg.Close()
				t.Fatalf("connected, want %s", c.kind)
			}
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.Kind != c.kind {
				t.Fatalf("got %v (%T), want kind %s", err, err, c.kind)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("message %q does not contain %q", err.Error(), c.text)
			}
			if ce.Hint() == "" {
				t.Errorf("no hint for %s", c.kind)
			}
		})
	}
}

// TestSeveralHostKeyTypes: the server offers ed25519, ECDSA and RSA keys and
// known_hosts holds only the ed25519 one, as OpenSSH's client writes it.
func TestSeveralHostKeyTypes(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t, sshtest.Options{HostKeys: sshtest.NewHostKeys(t), AuthorizedKeys: []ssh.PublicKey{e.key.PublicKey()}})
	s.WriteKnownHosts(t, e.knownHosts, ssh.KeyAlgoED25519)
	tg, err := e.dial(sshtest.DefaultUser + "@" + s.Addr)
	if err != nil {
		t.Fatalf("a server with several host keys, one known: %v", err)
	}
	tg.Close()
}

func TestAcceptNewRecordsHost(t *testing.T) {
	e := newEnv(t)
	s := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{e.key.PublicKey()}})
	e.opts.HostKeyPolicy = AcceptNew
	tg, err := e.dial(sshtest.DefaultUser + "@" + s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	tg.Close()
	data, _ := os.ReadFile(e.knownHosts)
	if !strings.Contains(string(data), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", s.Port)) {
		t.Errorf("known_hosts after accept-new:\n%s", data)
	}
	// The recorded key is trusted from then on, under strict.
	e.opts.HostKeyPolicy = Strict
	tg, err = e.dial(sshtest.DefaultUser + "@" + s.Addr)
	if err != nil {
		t.Fatalf("second connection: %v", err)
	}
	tg.Close()
}

func TestProxyJump(t *testing.T) {
	e := newEnv(t)
	jump := e.server(sshtest.Options{})
	target := e.server(sshtest.Options{})
	e.opts.ProxyJump = sshtest.DefaultUser + "@" + jump.Addr
	tg, err := e.dial(sshtest.DefaultUser + "@" + target.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	res, err := tg.Run(context.Background(), diag.Command{Argv: []string{"echo", "through"}})
	if err != nil || string(res.Stdout) != "through\n" {
		t.Errorf("run through a jump host: %q %v", res.Stdout, err)
	}
	if fw := jump.DirectTCPIP(); len(fw) != 1 || fw[0] != target.Addr {
		t.Errorf("jump host forwarded %v, want [%s]", fw, target.Addr)
	}
	if jump.SessionsOpened.Load() != 0 {
		t.Error("commands ran on the jump host")
	}
}

// TestSessionCap runs more commands at once than OpenSSH allows sessions:
// none is refused, because the target waits for a free channel.
func TestSessionCap(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{MaxSessions: 10})
	tg := e.mustDial(s)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := tg.Run(context.Background(), diag.Command{Argv: []string{"true"}}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.SessionsRejected.Load() != 0 || s.MaxConcurrentSessions.Load() > maxSessions {
		t.Errorf("sessions rejected %d, most at once %d (cap %d)", s.SessionsRejected.Load(), s.MaxConcurrentSessions.Load(), maxSessions)
	}
}

// TestDroppedConnection: the server vanishes mid-command; Run returns an
// error instead of waiting forever.
func TestDroppedConnection(t *testing.T) {
	e := newEnv(t)
	var s *sshtest.Server
	started := make(chan struct{})
	s = e.server(sshtest.Options{Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		close(started)
		<-ctx.Done()
		return 1
	}})
	tg := e.mustDial(s)
	go func() {
		<-started
		s.DropConnections()
	}()
	if _, err := tg.Run(context.Background(), diag.Command{Argv: []string{"sleep", "60"}}); err == nil {
		t.Error("a dropped connection gave no error")
	}
}

// TestHungServerIsAbandoned: the server stops answering after the
// handshake; keepalives notice and the connection is closed, so nothing
// waits on it forever.
func TestHungServerIsAbandoned(t *testing.T) {
	interval, maxMissed := keepaliveInterval, keepaliveMax
	keepaliveInterval, keepaliveMax = 50*time.Millisecond, 2
	t.Cleanup(func() { keepaliveInterval, keepaliveMax = interval, maxMissed })

	e := newEnv(t)
	s := e.server(sshtest.Options{HangAfterHandshake: true})
	tg := e.mustDial(s)
	if _, err := tg.Run(context.Background(), diag.Command{Argv: []string{"true"}}); err == nil {
		t.Error("a silent server gave no error")
	}
}

func TestRunCancelled(t *testing.T) {
	e := newEnv(t)
	tg := e.mustDial(e.server(sshtest.Options{}))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := tg.Run(ctx, diag.Command{Argv: []string{"sleep", "30"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled command: %v, want context.DeadlineExceeded", err)
	}
}

// TestWindowsTargetSkips: a server whose shell is cmd.exe (Windows
// OpenSSH) is recognised, and checks that need a POSIX shell are skipped
// with the reason instead of failing with garbage.
func TestWindowsTargetSkips(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{SFTPInMemory: true, Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		word, _, _ := strings.Cut(cmd, " ")
		fmt.Fprintf(stderr, "'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", word)
		return 1
	}})
	tg := e.mustDial(s)
	f, err := tg.Facts(context.Background())
	if err != nil || f.OS != "windows" {
		t.Fatalf("facts: %+v %v, want os windows", f, err)
	}
	res := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{
		{ID: "cmd", Kind: "command", Checker: probe(func(context.Context, diag.Target) diag.Result {
			return diag.Resultf(diag.Fail, "ran on Windows")
		})},
		{ID: "conn", Kind: "tcp", Checker: probe(func(context.Context, diag.Target) diag.Result {
			return diag.Resultf(diag.Pass, "dialled")
		})},
	})
	if res[0].Status != diag.Skip || !strings.Contains(res[0].Message, "POSIX shell") {
		t.Errorf("command check on Windows: %s %q, want skip", res[0].Status, res[0].Message)
	}
	if res[1].Status != diag.Pass {
		t.Errorf("tcp check on Windows: %s %q, want it to run", res[1].Status, res[1].Message)
	}
}

func TestReadFileTail(t *testing.T) {
	e := newEnv(t)
	tg := e.mustDial(e.server(sshtest.Options{}))
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("line1\nline2\nline3\n"), 0o644)
	data, truncated, err := tg.ReadFileTail(context.Background(), path, 6)
	if err != nil || string(data) != "line3\n" || !truncated {
		t.Errorf("tail: %q %v %v", data, truncated, err)
	}
	data, truncated, err = tg.ReadFileTail(context.Background(), path, 100)
	if err != nil || len(data) != 18 || truncated {
		t.Errorf("whole: %q %v %v", data, truncated, err)
	}
	if _, _, err := tg.ReadFileTail(context.Background(), path+".missing", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
