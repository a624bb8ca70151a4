package sshtest

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// openSSHClientConfig trusts the generated known_hosts file. That file holds
// the ed25519 key only, so the client must ask for ed25519.
func openSSHClientConfig(t *testing.T, o *OpenSSH) *ssh.ClientConfig {
	t.Helper()
	callback, err := knownhosts.New(o.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	return &ssh.ClientConfig{
		User:              o.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(o.UserKey)},
		HostKeyCallback:   callback,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           clientTimeout,
	}
}

func dialOpenSSH(t *testing.T, o *OpenSSH) *ssh.Client {
	t.Helper()
	c, err := dial(t, o.Addr, openSSHClientConfig(t, o))
	if err != nil {
		t.Fatalf("dial OpenSSH at %s: %v\n%s", o.Addr, err, tail(o.Log(), 20))
	}
	return c
}

func TestOpenSSH(t *testing.T) {
	o := StartOpenSSH(t, OpenSSHOptions{})
	c := dialOpenSSH(t, o)

	if r := run(t, c, "id -un", ""); r.err != nil || strings.TrimSpace(r.stdout) != o.User {
		t.Errorf("id -un: %+v, want %q", r, o.User)
	}
	if r := run(t, c, "echo err >&2; exit 3", ""); r.stderr != "err\n" || exitStatus(t, r.err) != 3 {
		t.Errorf("exit 3: %+v", r)
	}

	path := filepath.Join(o.Dir, "motd")
	if err := os.WriteFile(path, []byte("hello from sftp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	client, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer client.Close()
	f, err := client.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(data) != "hello from sftp\n" {
		t.Errorf("read over sftp: %q, %v", data, err)
	}
	if vfs, err := client.StatVFS(o.Dir); err != nil || vfs.TotalSpace() == 0 {
		t.Errorf("StatVFS: %+v, %v", vfs, err)
	}

	echoThrough(t, c, echoServer(t))
}

func TestOpenSSHClient(t *testing.T) {
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no OpenSSH client (ssh) on this machine")
	}
	o := StartOpenSSH(t, OpenSSHOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sshPath, "-F", o.SSHConfigPath, OpenSSHHostAlias, "echo", "ok")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "ok" {
		t.Fatalf("%s: %v\n%s\n--- ssh_config ---\n%s\n--- sshd log ---\n%s",
			strings.Join(cmd.Args, " "), err, out.String(), readFileOrEmpty(o.SSHConfigPath), tail(o.Log(), 20))
	}
	cmd = exec.CommandContext(ctx, sshPath, "-F", o.SSHConfigPath, OpenSSHHostAlias, "true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh ... true: %v\n%s", err, out)
	}
}

// The in-process server must answer as OpenSSH does wherever remote could
// tell the difference: the same test runs against both.
func TestOpenSSHConformance(t *testing.T) {
	type target struct {
		addr string
		cfg  *ssh.ClientConfig
	}
	inProcess := func(t *testing.T, opts Options) target {
		s, key := keyServer(t, opts)
		return target{s.Addr, clientConfig(s, ssh.PublicKeys(key))}
	}
	openSSH := func(t *testing.T, opts OpenSSHOptions) target {
		o := StartOpenSSH(t, opts)
		return target{o.Addr, openSSHClientConfig(t, o)}
	}
	servers := []struct {
		name     string
		limited  func(t *testing.T) target // MaxSessions 2
		noFwd    func(t *testing.T) target // no TCP forwarding
		requests func(t *testing.T) target // stock
	}{
		{
			"in-process",
			func(t *testing.T) target { return inProcess(t, Options{MaxSessions: 2}) },
			func(t *testing.T) target { return inProcess(t, Options{NoForwarding: true}) },
			func(t *testing.T) target { return inProcess(t, Options{}) },
		},
		{
			"openssh",
			func(t *testing.T) target { return openSSH(t, OpenSSHOptions{MaxSessions: 2}) },
			func(t *testing.T) target { return openSSH(t, OpenSSHOptions{NoForwarding: true}) },
			func(t *testing.T) target { return openSSH(t, OpenSSHOptions{}) },
		},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Run("MaxSessions", func(t *testing.T) {
				tg := srv.limited(t)
				c := mustDial(t, tg.addr, tg.cfg)
				first, err := c.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				second, err := c.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				defer second.Close()
				_, err = c.NewSession()
				if oce := openChannelError(t, err); oce.Reason != ssh.ConnectionFailed || oce.Message != "open failed" {
					t.Errorf("third session: %v, want connect failed: open failed", err)
				}
				// Forwarded connections do not count.
				echoThrough(t, c, echoServer(t))
				first.Close()
			})
			t.Run("NoForwarding", func(t *testing.T) {
				tg := srv.noFwd(t)
				c := mustDial(t, tg.addr, tg.cfg)
				_, err := c.Dial("tcp", echoServer(t))
				if oce := openChannelError(t, err); oce.Reason != ssh.Prohibited || oce.Message != "open failed" {
					t.Errorf("forwarding refused: %v", err)
				}
			})
			t.Run("Requests", func(t *testing.T) {
				tg := srv.requests(t)
				c := mustDial(t, tg.addr, tg.cfg)
				_, err := c.Dial("tcp", closedPort(t))
				if oce := openChannelError(t, err); oce.Reason != ssh.ConnectionFailed || oce.Message != "Connection refused" {
					t.Errorf("closed port: %v", err)
				}
				if ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil); ok || err != nil {
					t.Errorf("keepalive: %v, %v; want false, nil", ok, err)
				}
				sess, err := c.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				defer sess.Close()
				if err := sess.Setenv("TRIAGE_TEST", "1"); err == nil {
					t.Error("env accepted")
				}
				if err := sess.RequestSubsystem("netconf"); err == nil {
					t.Error("unknown subsystem accepted")
				}
				var stdout bytes.Buffer
				sess.Stdout = &stdout
				if err := sess.Run("echo still usable"); err != nil || stdout.String() != "still usable\n" {
					t.Errorf("exec after refusals: %q, %v", stdout.String(), err)
				}
			})
		})
	}
}
