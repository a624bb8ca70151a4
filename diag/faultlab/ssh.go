//go:build linux

package faultlab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/remote/sshtest"
)

// SSHDPath is the OpenSSH server the lab runs on the user's machine.
const SSHDPath = sshtest.SSHDPath

// sshSetup holds the keys and files of the user's sshd and the analyst's
// client.
type sshSetup struct {
	dir          string
	hostKey      string // sshd's host key file
	authorized   string // authorized_keys
	clientConfig string // the analyst's ssh_config
	log          string // sshd's log
}

// sshdProc is a running sshd.
type sshdProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func setupSSH(t testing.TB, dir, analystHome string) (*sshSetup, error) {
	s := &sshSetup{
		dir:          filepath.Join(dir, "sshd"),
		clientConfig: filepath.Join(analystHome, ".ssh", "config"),
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	s.hostKey = filepath.Join(s.dir, "ssh_host_ed25519_key")
	s.authorized = filepath.Join(s.dir, "authorized_keys")
	s.log = filepath.Join(s.dir, "sshd.log")
	_, hostPEM := sshtest.NewUserKey(t)
	userKey, userPEM := sshtest.NewUserKey(t)
	identity := filepath.Join(analystHome, ".ssh", "id_ed25519")
	files := map[string]string{
		s.hostKey:    string(hostPEM),
		s.authorized: string(ssh.MarshalAuthorizedKey(userKey.PublicKey())),
		identity:     string(userPEM),
		s.clientConfig: fmt.Sprintf(`# The analyst's view of the fault lab: the user's sshd, through the relay.
Host *
	IdentityFile %s
	IdentitiesOnly yes
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	BatchMode yes
	ConnectTimeout 10
`, identity, filepath.Join(analystHome, ".ssh", "known_hosts")),
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("create /run/sshd for sshd: %w", err)
	}
	return s, nil
}

// sshdConfig is the user's sshd_config: root by key only, on loopback,
// with the session environment a login would have set from
// /etc/environment (sshd reads it only through PAM, which is off here).
func (s *sshSetup) sshdConfig(home string, env []string) string {
	setEnv := append([]string{"HOME=" + home}, env...)
	return strings.Join([]string{
		"# Written by faultlab for one test: the user's machine in the fault lab.",
		"ListenAddress " + SSHDAddr,
		// any: it listens only on ListenAddress (IPv4), and forwards
		// connections to IPv6 addresses as well (inet would refuse them).
		"AddressFamily any",
		"HostKey " + s.hostKey,
		"PidFile " + filepath.Join(s.dir, "sshd.pid"),
		"AuthorizedKeysFile " + s.authorized,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"UsePAM no",
		"UseDNS no",
		"StrictModes no",
		"MaxStartups 100",
		"AllowTcpForwarding yes",
		"X11Forwarding no",
		"PrintMotd no",
		"PrintLastLog no",
		"LogLevel VERBOSE",
		"PerSourcePenalties no",
		"Subsystem sftp internal-sftp",
		"SetEnv " + strings.Join(setEnv, " "),
		"",
	}, "\n")
}

// SSHDAvailable tells whether the machine has OpenSSH's server.
func SSHDAvailable() error {
	if _, err := os.Stat(SSHDPath); err != nil {
		return fmt.Errorf("no OpenSSH server: %v", err)
	}
	return nil
}

// StartSSHD starts sshd on the user's machine (ip netns exec), listening
// on SSHDAddr, with the current proxy settings in its sessions'
// environment, and waits until it answers through the relay. Start it
// after applying a fault, since it sees the mounts of the moment it
// starts. Reset and the lab's cleanup stop it.
func (l *Lab) StartSSHD() error {
	l.StopSSHD()
	l.mu.Lock()
	env := slices.Clone(l.proxyEnv)
	l.mu.Unlock()
	s := l.ssh
	cfg := filepath.Join(s.dir, "sshd_config")
	content := s.sshdConfig(l.Home, env)
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		return err
	}
	if out, err := run("ip", "netns", "exec", l.User, SSHDPath, "-t", "-f", cfg); err != nil {
		if strings.Contains(out, "PerSourcePenalties") {
			// Older sshd (before 9.8) does not know the keyword.
			content = strings.Replace(content, "PerSourcePenalties no\n", "", 1)
			if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
				return err
			}
		} else {
			return fmt.Errorf("sshd -t: %v: %s", err, out)
		}
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	// sshd runs in the mount namespace ip netns exec makes for it (a slave
	// of the machine's, so nothing mounted in it leaks out), with the
	// user's home mounted over /root: root's home on the user's machine is
	// the lab's, and a remote "~" is the same folder as a local one.
	script := `mount --bind "$1" /root && exec "$2" -D -e -f "$3"`
	cmd := exec.Command("ip", "netns", "exec", l.User, "sh", "-c", script, "sh", l.Home, SSHDPath, cfg)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start sshd: %w", err)
	}
	p := &sshdProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	l.mu.Lock()
	l.sshd = p
	l.mu.Unlock()
	// Wait, within a bound, for the version line, through the relay as
	// the analyst will connect.
	deadline := time.Now().Add(10 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("sshd exited: %s", tailFile(s.log, 10))
		default:
		}
		if last = probeSSH(l.Analyst, l.RelayAddr); last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("sshd did not answer within 10s: %v; log: %s", last, tailFile(s.log, 10))
}

// SSHDLog returns the end of sshd's log.
func (l *Lab) SSHDLog() string { return tailFile(l.ssh.log, 30) }

func probeSSH(ns, addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := dialIn(ctx, ns, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "SSH-") {
		return fmt.Errorf("not an SSH server: %q", line)
	}
	return nil
}

// StopSSHD stops sshd and its per-connection children, if it runs.
func (l *Lab) StopSSHD() {
	l.mu.Lock()
	p := l.sshd
	l.sshd = nil
	l.mu.Unlock()
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// relay listens on loopback in one namespace and connects each client to
// an address in another.
type relay struct {
	ln    net.Listener
	addr  string
	to    string
	toNS  string
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startRelay(fromNS, toNS, to string) (*relay, error) {
	ln, err := listenIn(fromNS, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, addr: ln.Addr().String(), to: to, toNS: toNS, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.serve()
	return r, nil
}

func (r *relay) track(c net.Conn, add bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if add {
		if r.conns == nil {
			return false
		}
		r.conns[c] = struct{}{}
	} else {
		delete(r.conns, c)
	}
	return true
}

func (r *relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer c.Close()
			if !r.track(c, true) {
				return
			}
			defer r.track(c, false)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			up, err := dialIn(ctx, r.toNS, r.to)
			cancel()
			if err != nil {
				return
			}
			defer up.Close()
			if !r.track(up, true) {
				return
			}
			defer r.track(up, false)
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(up, c)
			go pipe(c, up)
			<-done
			<-done
		}()
	}
}

func (r *relay) close() {
	r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
}
