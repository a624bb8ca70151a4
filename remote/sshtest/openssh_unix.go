//go:build unix

package sshtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	// openSSHReadyTimeout bounds the wait for sshd to answer on its port.
	openSSHReadyTimeout = 10 * time.Second
	// openSSHStopTimeout is how long sshd gets to exit after SIGTERM
	// before it is killed.
	openSSHStopTimeout = 10 * time.Second
	// openSSHPortAttempts is how often StartOpenSSH picks another port
	// when the one it chose was taken before sshd could bind it.
	openSSHPortAttempts = 3
	// privsepDir is the directory sshd chroots its unprivileged child into
	// when it runs as root; it exits if the directory is missing.
	privsepDir = "/run/sshd"
)

// StartOpenSSH starts the machine's OpenSSH server (/usr/sbin/sshd -D -e -f
// CONFIG) on a free 127.0.0.1 port with a standalone configuration in a
// temporary directory: its own host keys, a generated user key authorized
// for the current user (root included: PermitRootLogin stays
// prohibit-password), public-key authentication only, StrictModes no (the
// files live under /tmp), UsePAM no, UseDNS no, MaxStartups 100, the
// machine's sftp-server and LogLevel VERBOSE. It returns once sshd answers
// with its version line. t.Cleanup stops exactly that sshd (its process
// group: the listener and its per-connection children) and waits for it.
//
// Without /usr/sbin/sshd the test is skipped, or fails when
// TRIAGE_REQUIRE_SSHD=1 (as in CI).
func StartOpenSSH(t testing.TB, opts OpenSSHOptions) *OpenSSH {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		sshdUnavailable(t, SSHDPath+" not found")
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("sshtest: current user: %v", err)
	}
	if os.Geteuid() == 0 {
		// As root, sshd needs its privilege separation directory. A
		// non-root sshd runs without privilege separation and does not.
		if err := os.MkdirAll(privsepDir, 0o755); err != nil {
			t.Fatalf("sshtest: create %s for sshd: %v", privsepDir, err)
		}
	}

	dir := t.TempDir()
	o := &OpenSSH{
		Host:           "127.0.0.1",
		Dir:            dir,
		User:           u.Username,
		UserKeyPath:    filepath.Join(dir, "id_ed25519"),
		KnownHostsPath: filepath.Join(dir, "known_hosts"),
		SSHConfigPath:  filepath.Join(dir, "ssh_config"),
		ConfigPath:     filepath.Join(dir, "sshd_config"),
		LogPath:        filepath.Join(dir, "sshd.log"),
		SFTPServer:     findSFTPServer(),
	}
	hostKeyPaths := writeOpenSSHKeys(t, o, opts)

	var lastErr error
	for attempt := 0; attempt < openSSHPortAttempts; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("sshtest: find a free port: %v", err)
		}
		o.Port = port
		o.Addr = net.JoinHostPort(o.Host, strconv.Itoa(port))
		writeSSHDConfig(t, o, opts, hostKeyPaths)
		var retry bool
		retry, lastErr = runSSHD(t, o)
		if lastErr == nil {
			break
		}
		if !retry {
			t.Fatalf("sshtest: %v", lastErr)
		}
	}
	if lastErr != nil {
		t.Fatalf("sshtest: %v", lastErr)
	}

	writeFile(t, o.KnownHostsPath, KnownHostsLine(o.Addr, o.HostKeyPub)+"\n")
	writeFile(t, o.SSHConfigPath, renderSSHConfig(o))
	return o
}

// writeOpenSSHKeys generates the host keys, the user key and the
// authorized_keys file, and returns the host key files' paths.
func writeOpenSSHKeys(t testing.TB, o *OpenSSH, opts OpenSSHOptions) []string {
	t.Helper()
	var paths []string
	for _, kind := range []KeyType{Ed25519, ECDSAP256, RSA2048} {
		key, err := generateKey(kind)
		if err != nil {
			t.Fatalf("sshtest: generate %s host key: %v", kind, err)
		}
		pub, err := ssh.NewPublicKey(key.Public())
		if err != nil {
			t.Fatalf("sshtest: %s host key: %v", kind, err)
		}
		pemBytes, err := marshalKey(key, "sshtest host key", "")
		if err != nil {
			t.Fatalf("sshtest: encode %s host key: %v", kind, err)
		}
		path := filepath.Join(o.Dir, "ssh_host_"+strings.ReplaceAll(string(kind), "-", "_")+"_key")
		writeFile(t, path, string(pemBytes))
		writeFile(t, path+".pub", string(ssh.MarshalAuthorizedKey(pub)))
		paths = append(paths, path)
		o.HostKeys = append(o.HostKeys, pub)
	}
	o.HostKeyPub = o.HostKeys[0]

	signer, pemBytes := NewUserKey(t)
	o.UserKey = signer
	writeFile(t, o.UserKeyPath, string(pemBytes))
	writeFile(t, o.UserKeyPath+".pub", string(ssh.MarshalAuthorizedKey(signer.PublicKey())))

	var authorized strings.Builder
	authorized.Write(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	for _, k := range opts.AuthorizedKeys {
		authorized.Write(ssh.MarshalAuthorizedKey(k))
	}
	writeFile(t, filepath.Join(o.Dir, "authorized_keys"), authorized.String())
	return paths
}

// writeSSHDConfig writes o.ConfigPath and checks it with "sshd -t". Newer
// sshd (9.8 and later) penalise addresses whose connections fail
// authentication, which would lock a test's 127.0.0.1 out after a few
// deliberate failures; older ones do not know the keyword, so it is dropped
// when sshd -t rejects it.
func writeSSHDConfig(t testing.TB, o *OpenSSH, opts OpenSSHOptions, hostKeyPaths []string) {
	t.Helper()
	forwarding := "yes"
	if opts.NoForwarding {
		forwarding = "no"
	}
	home := filepath.Join(o.Dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	lines := []sshdConfigLine{
		{"ListenAddress", o.Addr},
		{"AddressFamily", "inet"},
	}
	for _, p := range hostKeyPaths {
		lines = append(lines, sshdConfigLine{"HostKey", configWord(p)})
	}
	lines = append(lines,
		sshdConfigLine{"PidFile", configWord(filepath.Join(o.Dir, "sshd.pid"))},
		sshdConfigLine{"AuthorizedKeysFile", configWord(filepath.Join(o.Dir, "authorized_keys"))},
		sshdConfigLine{"PubkeyAuthentication", "yes"},
		sshdConfigLine{"PasswordAuthentication", "no"},
		sshdConfigLine{"KbdInteractiveAuthentication", "no"},
		sshdConfigLine{"PermitRootLogin", "prohibit-password"},
		sshdConfigLine{"UsePAM", "no"},
		sshdConfigLine{"UseDNS", "no"},
		sshdConfigLine{"StrictModes", "no"},
		sshdConfigLine{"MaxStartups", "100"},
		sshdConfigLine{"AllowTcpForwarding", forwarding},
		sshdConfigLine{"AllowAgentForwarding", "no"},
		sshdConfigLine{"X11Forwarding", "no"},
		sshdConfigLine{"PrintMotd", "no"},
		sshdConfigLine{"PrintLastLog", "no"},
		sshdConfigLine{"LogLevel", "VERBOSE"},
		sshdConfigLine{"Subsystem", "sftp " + configWord(o.SFTPServer)},
		// sshd runs every command and the SFTP server through the user's
		// login shell, and bash reads ~/.bashrc then. The tester's own
		// start-up files are not what is tested, and can cost seconds per
		// session (root's .bashrc on the CI machines runs pyenv init, about
		// 3 s of CPU there): sessions get an empty home of their own.
		sshdConfigLine{"SetEnv", configWord("HOME=" + home)},
	)
	if opts.MaxSessions != 0 {
		lines = append(lines, sshdConfigLine{"MaxSessions", strconv.Itoa(opts.MaxSessions)})
	}
	penalties := sshdConfigLine{"PerSourcePenalties", "no"}

	writeFile(t, o.ConfigPath, renderSSHDConfig(append(lines, penalties), opts.ExtraConfig))
	out, err := exec.Command(SSHDPath, "-t", "-f", o.ConfigPath).CombinedOutput()
	if err != nil && strings.Contains(string(out), penalties.keyword) {
		writeFile(t, o.ConfigPath, renderSSHDConfig(lines, opts.ExtraConfig))
		out, err = exec.Command(SSHDPath, "-t", "-f", o.ConfigPath).CombinedOutput()
	}
	if err != nil {
		t.Fatalf("sshtest: %s -t -f %s rejects the configuration: %v\n%s", SSHDPath, o.ConfigPath, err, out)
	}
}

// runSSHD starts sshd and waits until it answers. On failure it reports
// whether another port might work.
func runSSHD(t testing.TB, o *OpenSSH) (retry bool, err error) {
	t.Helper()
	logFile, err := os.OpenFile(o.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return false, err
	}
	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", o.ConfigPath)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Its own process group, so that stopping it reaches exactly this sshd
	// and the per-connection processes it forked, and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return false, fmt.Errorf("start %s: %v", SSHDPath, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	if err := waitForSSHD(o.Addr, exited); err != nil {
		stopSSHD(cmd.Process.Pid, exited)
		logFile.Close()
		log := tail(readFileOrEmpty(o.LogPath), 40)
		return strings.Contains(log, "Address already in use"),
			fmt.Errorf("sshd on %s: %v\n--- %s (last lines) ---\n%s", o.Addr, err, o.LogPath, log)
	}
	o.Pid = cmd.Process.Pid
	t.Cleanup(func() {
		stopSSHD(cmd.Process.Pid, exited)
		logFile.Close()
		if t.Failed() {
			t.Logf("sshtest: sshd log %s (last lines):\n%s", o.LogPath, tail(readFileOrEmpty(o.LogPath), 40))
		}
	})
	return false, nil
}

// waitForSSHD waits until something on addr sends an SSH version line, or
// sshd exits, or openSSHReadyTimeout passes.
func waitForSSHD(addr string, exited <-chan error) error {
	deadline := time.Now().Add(openSSHReadyTimeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("sshd exited before it answered: %v", err)
		default:
		}
		if answersSSH(addr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no SSH version line on %s after %v", addr, openSSHReadyTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func answersSSH(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-")
}

// stopSSHD stops sshd and the per-connection processes it forked (they run
// in sessions of their own, so its process group does not reach them):
// SIGTERM to all of them, SIGKILL to sshd if it has not exited in time, and
// waits for sshd.
func stopSSHD(pid int, exited <-chan error) {
	children := childPids(pid)
	syscall.Kill(-pid, syscall.SIGTERM)
	for _, c := range children {
		syscall.Kill(c, syscall.SIGTERM)
	}
	select {
	case <-exited:
	case <-time.After(openSSHStopTimeout):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// childPids lists the processes whose parent is pid, from /proc; where there
// is no /proc it finds none.
func childPids(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may contain anything but
		// ends at the last ')'.
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if child, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			pids = append(pids, child)
		}
	}
	return pids
}

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}
