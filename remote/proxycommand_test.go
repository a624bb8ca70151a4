//go:build unix

package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/remote/sshtest"
)

func TestExpandProxyCommand(t *testing.T) {
	tokens := map[byte]string{'h': "10.0.0.7", 'n': "web1", 'p': "2222", 'r': "alice", 'u': "local", 'd': "/home/x", '%': "%"}
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "ssh -W %h:%p jump", want: "ssh -W 10.0.0.7:2222 jump"},
		{in: "nc %h %p", want: "nc 10.0.0.7 2222"},
		{in: "aws ssm start-session --target %n --document-name AWS-StartSSHSession --parameters portNumber=%p", want: "aws ssm start-session --target web1 --document-name AWS-StartSSHSession --parameters portNumber=2222"},
		{in: "tsh proxy ssh --user=%r %h:%p", want: "tsh proxy ssh --user=alice 10.0.0.7:2222"},
		{in: "printf '100%%' %%h", want: "printf '100%' %h"},
		{in: "no tokens", want: "no tokens"},
		// OpenSSH expands only %%, %h, %n, %p and %r here, and refuses others.
		{in: "nc %h %p # %u", err: "unknown token %u"},
		{in: "cat ~/%d", err: "unknown token %d"},
		{in: "nc %h %p %", err: "at the end"},
	} {
		got, err := expandProxyCommand(c.in, proxyCommandTokens(tokens))
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err %v, want one with %q", c.in, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err == "" && got != c.want:
			t.Errorf("%q = %q, want %q", c.in, got, c.want)
		}
	}

	// A name a shell would split or run is refused (OpenSSH 9.6, CVE-2023-51385).
	for _, bad := range []string{"a;reboot", "$(id)", "`id`", "a b", "-oProxyCommand=x", "a|b", "a'b"} {
		tk := map[byte]string{'h': bad, 'n': "n", 'p': "22", 'r': "u", '%': "%"}
		if got, err := expandProxyCommand("nc %h %p", tk); err == nil {
			t.Errorf("host %q accepted: %q", bad, got)
		}
	}
	// ... but only where it is used.
	tk := map[byte]string{'h': "h", 'n': "a;b", 'p': "22", 'r': "u", '%': "%"}
	if _, err := expandProxyCommand("nc %h %p", tk); err != nil {
		t.Errorf("an unused unsafe %%n: %v", err)
	}
}

// proxyFleet is a real sshd with a client config whose hosts reach it
// through ProxyCommands.
type proxyFleet struct {
	o      *sshtest.OpenSSH
	config string // ssh_config path
	dir    string
}

// startProxyFleet writes an ssh_config with: jump (straight to the sshd),
// via-jump (ProxyCommand ssh -W %h:%p jump), via-nc (ProxyCommand nc %h %p)
// and the extra entries, which may use {port}, {config}, {dir} and {common}.
func startProxyFleet(t *testing.T, extra string) *proxyFleet {
	t.Helper()
	for _, bin := range []string{"ssh", "nc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("no %s on this machine", bin)
		}
	}
	o := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{})
	dir := t.TempDir()
	f := &proxyFleet{o: o, config: filepath.Join(dir, "ssh_config"), dir: dir}
	common := fmt.Sprintf(`    User %s
    IdentityFile %s
    IdentitiesOnly yes
    UserKnownHostsFile %s
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
`, o.User, o.UserKeyPath, o.KnownHostsPath)
	cfg := `
Host jump
    HostName 127.0.0.1
    Port {port}
{common}
Host via-jump
    HostName 127.0.0.1
    Port {port}
    ProxyCommand ssh -F {config} -W %h:%p jump
{common}
Host via-nc
    HostName 127.0.0.1
    Port {port}
    ProxyCommand nc %h %p
{common}
` + extra
	cfg = strings.NewReplacer("{port}", strconv.Itoa(o.Port), "{config}", f.config, "{dir}", dir, "{common}", common).Replace(cfg)
	if err := os.WriteFile(f.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *proxyFleet) dialer(t *testing.T, opts Options) *Dialer {
	t.Helper()
	opts.ConfigFile, opts.Home = f.config, f.dir
	d, err := NewDialer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestProxyCommandOpenSSH connects through ProxyCommand "ssh -W %h:%p
// jump" (the real OpenSSH client, through the real sshd, to itself) and
// "nc %h %p", and runs a command on the far side.
func TestProxyCommandOpenSSH(t *testing.T) {
	f := startProxyFleet(t, "")
	// The command runs as "$SHELL -c 'exec COMMAND'", like OpenSSH's: a
	// $SHELL that logs what it is given shows it ran, tokens expanded.
	shellLog := filepath.Join(f.dir, "shell.log")
	shell := filepath.Join(f.dir, "logging-shell")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + shellLog + "\nexec /bin/sh \"$@\"\n"
	if err := os.WriteFile(shell, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHELL", shell)
	d := f.dialer(t, Options{})
	for _, host := range []string{"via-jump", "via-nc"} {
		t.Run(host, func(t *testing.T) {
			hc, err := d.Resolve(host)
			if err != nil {
				t.Fatal(err)
			}
			if hc.ProxyCommand == "" || strings.Contains(hc.ProxyCommand, "%") {
				t.Fatalf("ProxyCommand = %q", hc.ProxyCommand)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tg, err := d.Dial(ctx, host)
			if err != nil {
				t.Fatalf("%v\nsshd log:\n%s", err, f.o.Log())
			}
			defer tg.Close()
			res, err := tg.Run(ctx, diag.Command{Argv: []string{"echo", "through", host}})
			if err != nil || strings.TrimSpace(string(res.Stdout)) != "through "+host {
				t.Fatalf("Run: %+v %v", res, err)
			}
		})
	}
	b, _ := os.ReadFile(shellLog)
	port := strconv.Itoa(f.o.Port)
	for _, want := range []string{
		"-c exec ssh -F " + f.config + " -W 127.0.0.1:" + port + " jump\n",
		"-c exec nc 127.0.0.1 " + port + "\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("$SHELL was not run with %q; its log:\n%s", want, b)
		}
	}
}

// TestProxyCommandChecksTargetKey: the host key is checked against the
// target's name (HostName:Port), as OpenSSH does, not the jump's and not
// the command's: known_hosts holds [127.0.0.1]:PORT, and the same server
// reached as "localhost" through the same working ProxyCommand is unknown.
func TestProxyCommandChecksTargetKey(t *testing.T) {
	f := startProxyFleet(t, `
Host as-localhost
    HostName localhost
    Port {port}
    ProxyCommand nc 127.0.0.1 %p
{common}`)
	d := f.dialer(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := d.Dial(ctx, "as-localhost")
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Kind != ErrHostUnknown || !strings.Contains(err.Error(), "localhost") {
		t.Fatalf("err = %v, want the host key for [localhost]:port unknown", err)
	}
}

// TestProxyCommandFailureSaysWhy: a ProxyCommand that fails puts its
// stderr in the connection error.
func TestProxyCommandFailureSaysWhy(t *testing.T) {
	f := startProxyFleet(t, `
Host deadjump
    HostName 127.0.0.1
    Port 1
{common}
Host via-deadjump
    HostName 127.0.0.1
    Port {port}
    ProxyCommand ssh -F {config} -W %h:%p deadjump
{common}
Host says-no
    HostName 127.0.0.1
    ProxyCommand sh -c 'echo "bastion refuses %r to %h:%p" >&2; exit 3'
{common}
Host no-such-command
    HostName 127.0.0.1
    ProxyCommand /nonexistent/proxy %h %p
{common}
Host not-ssh
    HostName 127.0.0.1
    ProxyCommand sh -c 'echo "not an ssh server" >&2; exec cat'
{common}`)
	d := f.dialer(t, Options{})
	for _, c := range []struct {
		host string
		kind ErrorKind
		want []string
	}{
		{"via-deadjump", ErrProxyCommand, []string{"exited with status 255", "port 1", "Connection refused"}},
		{"says-no", ErrProxyCommand, []string{"exited with status 3", "bastion refuses " + f.o.User + " to 127.0.0.1:22"}},
		{"no-such-command", ErrProxyCommand, []string{"exited with status 127", "/nonexistent/proxy"}},
		{"not-ssh", ErrHandshake, []string{"through ProxyCommand", "not an ssh server"}},
	} {
		t.Run(c.host, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			tg, err := d.Dial(ctx, c.host)
			if err == nil {
				tg.Close()
				t.Fatal("connected")
			}
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.Kind != c.kind {
				t.Errorf("kind = %v, want %s (%v)", ce.Kind, c.kind, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			t.Logf("%s: %v", c.kind, err)
			if ce.Hint() == "" {
				t.Error("no hint")
			}
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("took %s", el)
			}
		})
	}
}

// pidAlive reports whether pid is a live process (a zombie is not).
func pidAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // not Linux: kill said it exists
	}
	s := string(b)
	if i := strings.LastIndex(s, ")"); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

func readPids(t *testing.T, path string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
		if len(pids) >= n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ProxyCommand did not write %d pids to %s", n, path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range pids {
		for pidAlive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still runs", p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestProxyCommandEnds: the command and what it started are ended when
// the context ends during the connect, when the target is closed, and
// when the context ends while connected.
func TestProxyCommandEnds(t *testing.T) {
	f := startProxyFleet(t, `
Host hangs
    HostName 127.0.0.1
    ProxyCommand sh -c 'sleep 300 & echo $$ $! > {dir}/hangs.pid; wait'
{common}
Host tracked
    HostName 127.0.0.1
    Port {port}
    ProxyCommand sh -c 'sleep 300 & echo $$ $! > {dir}/tracked.pid; exec nc %h %p'
{common}`)
	d := f.dialer(t, Options{})

	t.Run("cancelled while connecting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			tg, err := d.Dial(ctx, "hangs")
			if tg != nil {
				tg.Close()
			}
			errc <- err
		}()
		pids := readPids(t, filepath.Join(f.dir, "hangs.pid"), 2)
		cancel()
		err := <-errc
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Kind != ErrCancelled {
			t.Errorf("err = %v, want cancelled", err)
		}
		waitGone(t, pids)
	})

	t.Run("handshake timeout", func(t *testing.T) {
		os.Remove(filepath.Join(f.dir, "hangs.pid"))
		d := f.dialer(t, Options{ConnectTimeout: 500 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := d.Dial(ctx, "hangs")
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Kind != ErrProxyCommand || !strings.Contains(err.Error(), "no SSH handshake within 500ms") {
			t.Errorf("err = %v, want a ProxyCommand that gave no handshake", err)
		}
		waitGone(t, readPids(t, filepath.Join(f.dir, "hangs.pid"), 2))
	})

	t.Run("target closed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tg, err := d.Dial(ctx, "tracked")
		if err != nil {
			t.Fatal(err)
		}
		pids := readPids(t, filepath.Join(f.dir, "tracked.pid"), 2)
		for _, p := range pids {
			if !pidAlive(p) {
				t.Fatalf("process %d gone while connected", p)
			}
		}
		tg.Close()
		waitGone(t, pids)
	})

	t.Run("context ends while connected", func(t *testing.T) {
		os.Remove(filepath.Join(f.dir, "tracked.pid"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tg, err := d.Dial(ctx, "tracked")
		if err != nil {
			t.Fatal(err)
		}
		defer tg.Close()
		pids := readPids(t, filepath.Join(f.dir, "tracked.pid"), 2)
		cancel()
		waitGone(t, pids)
		if _, err := tg.Run(context.Background(), diag.Command{Argv: []string{"true"}}); err == nil {
			t.Error("the connection outlived its ProxyCommand")
		}
	})
}
