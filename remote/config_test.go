package remote

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const testSSHConfig = `
Host jump
    HostName 127.0.0.9
    User hopper
    Port 2200

Host web-*
    HostName %h.internal.example
    User deploy
    Port 2222
    IdentityFile ~/.ssh/deploy_%r_%h
    IdentityFile ~/keys/second
    ProxyJump jump
    UserKnownHostsFile ~/.ssh/known_%n
    StrictHostKeyChecking accept-new
    ConnectTimeout 7

Host plain
    HostName 127.0.0.5
`

func newTestDialer(t *testing.T, cfg string, opts Options) *Dialer {
	t.Helper()
	home := t.TempDir()
	path := filepath.Join(home, "ssh_config")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.ConfigFile, opts.Home = path, home
	d, err := NewDialer(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestResolve(t *testing.T) {
	d := newTestDialer(t, testSSHConfig, Options{})
	hc, err := d.Resolve("web-1")
	if err != nil {
		t.Fatal(err)
	}
	home := d.home
	want := HostConfig{
		Alias:           "web-1",
		HostName:        "web-1.internal.example",
		Port:            2222,
		User:            "deploy",
		IdentityFiles:   []string{home + "/.ssh/deploy_deploy_web-1.internal.example", home + "/keys/second"},
		ProxyJump:       []string{"jump"},
		KnownHostsFiles: []string{home + "/.ssh/known_web-1", "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"},
		StrictHostKeys:  "accept-new",
		ConnectTimeout:  7e9,
	}
	if !reflect.DeepEqual(hc, want) {
		t.Errorf("Resolve(web-1) =\n%+v\nwant\n%+v", hc, want)
	}
	if d.policyFor(hc) != AcceptNew {
		t.Errorf("policy = %s, want accept-new from StrictHostKeyChecking", d.policyFor(hc))
	}

	// What is typed beats the flags, which beat the config.
	d = newTestDialer(t, testSSHConfig, Options{User: "flaguser", Port: 2020, HostKeyPolicy: Strict})
	hc, _ = d.Resolve("alice@web-2:2121")
	if hc.User != "alice" || hc.Port != 2121 {
		t.Errorf("typed user/port lost: %+v", hc)
	}
	hc, _ = d.Resolve("web-2")
	if hc.User != "flaguser" || hc.Port != 2020 || d.policyFor(hc) != Strict {
		t.Errorf("flags lost: %+v policy %s", hc, d.policyFor(hc))
	}
	hc, _ = d.Resolve("unlisted")
	if hc.HostName != "unlisted" || hc.User != "flaguser" || len(hc.IdentityFiles) != 3 || hc.ConnectTimeout != DefaultConnectTimeout {
		t.Errorf("defaults: %+v", hc)
	}
}

// TestResolveMatchesOpenSSH asks the real ssh client (ssh -G, which only
// prints the configuration) what it would use, and compares.
func TestResolveMatchesOpenSSH(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh client on this machine to compare with")
	}
	d := newTestDialer(t, testSSHConfig, Options{})
	for _, host := range []string{"web-1", "plain", "jump", "bob@plain:2022"} {
		hc, err := d.Resolve(host)
		if err != nil {
			t.Fatal(err)
		}
		sp, _ := ParseSpec(host)
		args := []string{"-G", "-F", d.opts.ConfigFile}
		if sp.User != "" {
			args = append(args, "-l", sp.User)
		}
		if sp.Port != 0 {
			args = append(args, "-p", itoa(sp.Port))
		}
		cmd := exec.Command(sshBin, append(args, sp.Host)...)
		cmd.Env = append(os.Environ(), "HOME="+d.home)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ssh -G %s: %v", host, err)
		}
		g := map[string][]string{}
		for _, line := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(line, " ")
			g[k] = append(g[k], v)
		}
		check := func(what, got, want string) {
			if got != want {
				t.Errorf("%s: %s = %q, ssh -G says %q", host, what, got, want)
			}
		}
		check("hostname", hc.HostName, g["hostname"][0])
		check("port", itoa(hc.Port), g["port"][0])
		check("user", hc.User, g["user"][0])
		if pj := g["proxyjump"]; len(pj) > 0 {
			check("proxyjump", strings.Join(hc.ProxyJump, ","), pj[0])
		}
		if host == "web-1" {
			// ssh -G prints IdentityFile unexpanded: expand it with the
			// user and host name ssh -G itself resolved.
			var want []string
			for _, f := range g["identityfile"] {
				f = strings.Replace(f, "~", d.home, 1)
				f = strings.NewReplacer("%r", g["user"][0], "%h", g["hostname"][0]).Replace(f)
				want = append(want, f)
			}
			check("identityfile", strings.Join(hc.IdentityFiles, " "), strings.Join(want, " "))
			// ssh -G expands ~ with the password database, not $HOME.
			check("userknownhostsfile", filepath.Base(hc.KnownHostsFiles[0]), filepath.Base(strings.Fields(g["userknownhostsfile"][0])[0]))
			check("connecttimeout", itoa(int(hc.ConnectTimeout.Seconds())), g["connecttimeout"][0])
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestResolveErrors(t *testing.T) {
	d := newTestDialer(t, "Host bad\n  Port ssh\nHost slow\n  ConnectTimeout soon\n", Options{})
	for _, h := range []string{"bad", "slow"} {
		if _, err := d.Resolve(h); err == nil {
			t.Errorf("Resolve(%s) accepted a bad config", h)
		}
	}
	if _, err := NewDialer(Options{ConfigFile: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing -F file was accepted")
	}
}

const proxyChoiceConfig = `
Host jump-first
    HostName 10.0.0.1
    ProxyJump bastion
    ProxyCommand nc %h %p
Host command-first
    HostName 10.0.0.2
    ProxyCommand ssh -W %h:%p bastion
    ProxyJump bastion
Host command-none
    ProxyCommand none
Host jump-none
    ProxyJump none
Host jump-none-only
    ProxyJump none
    ProxyCommand none
Host *
    ProxyCommand nc %h %p
    ProxyJump star
`

// TestProxyChoiceMatchesOpenSSH: of ProxyJump and ProxyCommand, the first
// one given wins (and "none" is given too), as ssh -G says; -J beats both.
func TestProxyChoiceMatchesOpenSSH(t *testing.T) {
	d := newTestDialer(t, proxyChoiceConfig, Options{})
	for _, c := range []struct {
		host, jump, command string
	}{
		{"jump-first", "bastion", ""},
		{"command-first", "", "ssh -W 10.0.0.2:22 bastion"},
		{"command-none", "", ""},
		{"jump-none", "", "nc jump-none 22"}, // ProxyJump none stops later ProxyJumps only
		{"jump-none-only", "", ""},
		{"other", "", "nc other 22"},
	} {
		hc, err := d.Resolve(c.host)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(hc.ProxyJump, ","); got != c.jump || hc.ProxyCommand != c.command {
			t.Errorf("%s: ProxyJump %q ProxyCommand %q, want %q %q", c.host, got, hc.ProxyCommand, c.jump, c.command)
		}
		if sshBin, err := exec.LookPath("ssh"); err == nil {
			out, err := exec.Command(sshBin, "-G", "-F", d.opts.ConfigFile, c.host).Output()
			if err != nil {
				t.Fatalf("ssh -G: %v", err)
			}
			g := map[string]string{}
			for _, line := range strings.Split(string(out), "\n") {
				k, v, _ := strings.Cut(line, " ")
				g[k] = v
			}
			// ssh -G prints ProxyCommand before expanding its tokens.
			wantCmd := strings.NewReplacer("%h", hc.HostName, "%p", itoa(hc.Port)).Replace(g["proxycommand"])
			if g["proxyjump"] != c.jump || wantCmd != c.command {
				t.Errorf("%s: ssh -G says proxyjump %q proxycommand %q", c.host, g["proxyjump"], g["proxycommand"])
			}
		}
	}

	d = newTestDialer(t, proxyChoiceConfig, Options{ProxyJump: "cli"})
	if hc, _ := d.Resolve("command-first"); hc.ProxyCommand != "" || strings.Join(hc.ProxyJump, ",") != "cli" {
		t.Errorf("-J did not win over ProxyCommand: %+v", hc)
	}
	d = newTestDialer(t, proxyChoiceConfig, Options{ProxyJump: "none"})
	if hc, _ := d.Resolve("command-first"); hc.ProxyCommand != "" || len(hc.ProxyJump) != 0 {
		t.Errorf("-J none did not make it direct: %+v", hc)
	}

	d = newTestDialer(t, "Host x\n  ProxyCommand nc %h %p %u\n", Options{})
	if _, err := d.Resolve("x"); err == nil || !strings.Contains(err.Error(), "%u") {
		t.Errorf("an unknown ProxyCommand token: %v", err)
	}
}

// TestUnsupportedDirectives: a directive that changes where or how ssh
// connects, and that triage does not follow, is an error naming it; the
// harmless ones, and harmless values, pass.
func TestUnsupportedDirectives(t *testing.T) {
	for _, c := range []struct {
		line string
		err  string // "" means accepted
	}{
		{"ProxyUseFdpass yes", "ProxyUseFdpass"},
		{"HostKeyAlias web", "HostKeyAlias"},
		{"BindAddress 127.0.0.2", "BindAddress"},
		{"BindInterface eth1", "BindInterface"},
		{"CanonicalizeHostname yes", "CanonicalizeHostname"},
		{"CertificateFile ~/.ssh/id_ed25519-cert.pub", "CertificateFile"},
		{"IdentityAgent ~/.1password/agent.sock", "IdentityAgent"},
		{"PKCS11Provider /usr/lib/opensc-pkcs11.so", "PKCS11Provider"},
		{"KnownHostsCommand /usr/bin/fetch-keys %H", "KnownHostsCommand"},
		{"RevokedHostKeys ~/.ssh/revoked", "RevokedHostKeys"},
		{"AddressFamily ipx", "AddressFamily"},
		// Values under which they change nothing.
		{"ProxyUseFdpass no", ""},
		{"CanonicalizeHostname no", ""},
		{"IdentityAgent SSH_AUTH_SOCK", ""},
		{"PKCS11Provider none", ""},
		// Harmless: multiplexing, the session, algorithms, logging.
		{"ControlMaster auto", ""},
		{"ControlPath ~/.ssh/cm-%r@%h:%p", ""},
		{"ControlPersist 10m", ""},
		{"GSSAPIAuthentication yes", ""},
		{"HashKnownHosts yes", ""},
		{"SendEnv LANG LC_*", ""},
		{"Ciphers aes256-gcm@openssh.com", ""},
		{"ServerAliveInterval 30", ""},
		{"ForwardAgent yes", ""},
		{"LocalCommand echo hi", ""},
		{"PermitLocalCommand yes", ""},
		{"VerifyHostKeyDNS yes", ""},
	} {
		d := newTestDialer(t, "Host *\n    "+c.line+"\n", Options{})
		_, err := d.Resolve("web1")
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q refused: %v", c.line, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err %v, want one naming %s", c.line, err, c.err)
		}
	}

	// Jump hosts are held to the same rule, through Dial.
	d := newTestDialer(t, "Host bastion\n    HostKeyAlias b\nHost web1\n    ProxyJump bastion\n", Options{})
	_, err := d.Dial(t.Context(), "web1")
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Kind != ErrConfig || !strings.Contains(err.Error(), "HostKeyAlias") {
		t.Errorf("a jump host's HostKeyAlias: %v", err)
	}

	// Match exec would run a command to decide: refused when reading.
	home := t.TempDir()
	path := filepath.Join(home, "ssh_config")
	os.WriteFile(path, []byte("Match exec \"test -f /tmp/x\"\n    HostName other\n"), 0o600)
	if _, err := NewDialer(Options{ConfigFile: path, Home: home}); err == nil || !strings.Contains(err.Error(), "Match Exec") {
		t.Errorf("Match exec: %v", err)
	}
}

func TestAddressFamily(t *testing.T) {
	for v, want := range map[string]string{"any": "tcp", "inet": "tcp4", "inet6": "tcp6", "": "tcp"} {
		cfg := "Host *\n    Port 22\n"
		if v != "" {
			cfg = "Host *\n    AddressFamily " + v + "\n"
		}
		d := newTestDialer(t, cfg, Options{})
		hc, err := d.Resolve("h")
		if err != nil || hc.network() != want {
			t.Errorf("AddressFamily %q: network %q (%v), want %q", v, hc.network(), err, want)
		}
	}
}
