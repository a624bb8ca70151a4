package remote

import (
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
