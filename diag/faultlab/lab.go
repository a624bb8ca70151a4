//go:build linux

package faultlab

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The lab's addresses. 198.18.0.0/24 (RFC 2544's range for test networks)
// and 203.0.113.0/24 (documentation, RFC 5737) exist only inside the lab;
// neither is the network of a machine this runs on (CI's own interface may
// well sit on TEST-NET-1, 192.0.2.0/24).
const (
	UserAddr       = "198.18.0.10"  // the user's machine, on eth0
	RouterAddr     = "198.18.0.1"   // the router, the user's gateway and DNS server
	RouterInetAddr = "203.0.113.1"  // the router's side of the internet
	WebAddr        = "203.0.113.10" // example.com, connectivitycheck.gstatic.com, pool.ntp.org
	IntranetAddr   = "203.0.113.30" // intranet.example.org
	// DeadProxyURL points at an address on the user's network where
	// nothing listens.
	DeadProxyURL = "http://198.18.0.3:3128"
	// UserIface is the user's network interface; RouterUserIface and
	// RouterInetIface are the router's, towards the user and the internet
	// (for nftables rules).
	UserIface       = "eth0"
	RouterUserIface = "u0"
	RouterInetIface = "i0"
	// SSHDAddr is where sshd listens inside the user's namespace.
	SSHDAddr = "127.0.0.1:22"
)

// Prefix starts the name of every namespace a lab creates.
const Prefix = "tl-"

// markerRoot holds one directory per live lab (its suffix): the owner's
// pid and the mounts it made, so that New can tell a leftover of a dead
// run from a lab another test process is using.
const markerRoot = "/run/triage-faultlab"

// RequireEnv turns "cannot build a lab here" from a skip into a failure.
const RequireEnv = "TRIAGE_REQUIRE_NETNS"

// Lab is a running fault lab. Its fields are read-only.
type Lab struct {
	// Suffix is the random part of the namespace names.
	Suffix string
	// User, Router, Inet and Analyst are the namespaces' names.
	User, Router, Inet, Analyst string
	// Dir is the lab's temporary directory.
	Dir string
	// Home is the user's home folder (HOME for commands run with
	// UserCommand and for SSH sessions); AnalystHome the analyst's.
	Home, AnalystHome string
	// CAFile is the PEM file of the test CA that signed the HTTPS
	// servers' certificate: give it to triage as SSL_CERT_FILE.
	CAFile string
	// SSHConfig is the analyst's ssh_config (for triage -F): the key and
	// known_hosts file that reach the user's sshd through RelayAddr.
	SSHConfig string
	// RelayAddr is 127.0.0.1:PORT in the analyst namespace; connections
	// to it are relayed to sshd in the user namespace.
	RelayAddr string

	t   testing.TB
	mu  sync.Mutex
	dns *dnsServer
	ntp *sntpServer
	// clockOffset is how far the lab's internet runs ahead of the
	// machine's clock (SetClockOffset), for NTP and HTTP Date alike.
	clockOffset  atomic.Int64
	freshCert    atomic.Pointer[tls.Certificate] // ServeFreshCertificate's
	web          *webServer
	relay        *relay
	ssh          *sshSetup
	sshd         *sshdProc
	mounted      bool
	proxyEnv     []string // NAME=value for user sessions: SetProxy, SetPAC
	hostsDefault string
	// nsswitch is the user's nsswitch.conf as built: the machine's own,
	// with a plain "hosts: files dns" line (SetNsswitchHosts changes it).
	nsswitch string
	closers  []func()
}

// Check says why a lab cannot be built on this machine, or returns nil. It
// creates and deletes a namespace to find out.
func Check() error {
	if os.Geteuid() != 0 {
		return errors.New("the fault lab needs root (network namespaces, nftables, mounts)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("the fault lab needs %s: %v", tool, err)
		}
	}
	ns := Prefix + "probe-" + randomSuffix()
	if out, err := run("ip", "netns", "add", ns); err != nil {
		return fmt.Errorf("cannot create a network namespace here: %v: %s", err, out)
	}
	defer run("ip", "netns", "del", ns)
	if out, err := run("ip", "netns", "exec", ns, "nft", "list", "ruleset"); err != nil {
		return fmt.Errorf("nft does not work in a network namespace here: %v: %s", err, out)
	}
	return nil
}

// Require calls Check and skips the test when a lab cannot be built, or
// fails it when RequireEnv is "1".
func Require(t testing.TB) {
	t.Helper()
	if err := Check(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("faultlab: %v (%s=1 requires the lab)", err, RequireEnv)
		}
		t.Skipf("faultlab: %v", err)
	}
}

// New builds a lab: four namespaces, their links, routes and /etc/netns
// files, and the DNS, web, HTTPS and SNTP servers, and the SSH relay. Call
// Require first. Everything is removed by t.Cleanup.
func New(t testing.TB) *Lab {
	t.Helper()
	RemoveStale(t.Logf)
	sfx := randomSuffix()
	l := &Lab{
		Suffix:  sfx,
		User:    Prefix + "user-" + sfx,
		Router:  Prefix + "rtr-" + sfx,
		Inet:    Prefix + "inet-" + sfx,
		Analyst: Prefix + "anl-" + sfx,
		Dir:     t.TempDir(),
		t:       t,
	}
	l.Home = filepath.Join(l.Dir, "home", "user")
	l.AnalystHome = filepath.Join(l.Dir, "home", "analyst")
	for _, d := range []string{l.Home, l.AnalystHome, filepath.Join(l.AnalystHome, ".ssh")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("faultlab: %v", err)
		}
	}
	marker := filepath.Join(markerRoot, sfx)
	if err := os.MkdirAll(marker, 0o755); err != nil {
		t.Fatalf("faultlab: %v", err)
	}
	if err := os.WriteFile(filepath.Join(marker, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatalf("faultlab: %v", err)
	}
	t.Cleanup(l.close)

	if err := l.build(); err != nil {
		t.Fatalf("faultlab: build the lab: %v", err)
	}
	return l
}

// Logf is a printf-like logger (t.Logf).
type Logf func(format string, args ...any)

// RemoveStale removes what labs of runs that died left behind: namespaces
// named Prefix+... whose owning process is gone (with the processes still
// in them), their /etc/netns directories and their tmpfs mounts.
func RemoveStale(logf Logf) {
	entries, _ := os.ReadDir(netnsDir)
	stale := map[string][]string{} // suffix -> namespaces
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, Prefix) {
			continue
		}
		sfx := name[strings.LastIndexByte(name, '-')+1:]
		stale[sfx] = append(stale[sfx], name)
	}
	markers, _ := os.ReadDir(markerRoot)
	for _, m := range markers {
		if _, ok := stale[m.Name()]; !ok {
			stale[m.Name()] = nil
		}
	}
	for sfx, names := range stale {
		marker := filepath.Join(markerRoot, sfx)
		if b, err := os.ReadFile(filepath.Join(marker, "pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && alive(pid) {
				continue
			}
		}
		if b, err := os.ReadFile(filepath.Join(marker, "mounts")); err == nil {
			for _, m := range strings.Fields(string(b)) {
				_ = syscall.Unmount(m, syscall.MNT_DETACH)
			}
		}
		for _, ns := range names {
			killAll(ns)
			if out, err := run("ip", "netns", "del", ns); err != nil {
				logf("faultlab: remove leftover namespace %s: %v %s", ns, err, out)
			} else {
				logf("faultlab: removed leftover namespace %s", ns)
			}
			os.RemoveAll(filepath.Join("/etc/netns", ns))
		}
		os.RemoveAll(marker)
	}
}

// alive tells whether a process exists.
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// killAll kills the processes left in a leftover namespace: they belonged
// to a lab whose test process is gone.
func killAll(ns string) {
	out, err := run("ip", "netns", "pids", ns)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func randomSuffix() string {
	b := make([]byte, 2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// run runs a command and returns its combined output.
func run(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// runIn runs argv inside namespace ns (ip netns exec), with stdin.
func runIn(ns string, stdin string, argv ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s in %s: %v: %s", strings.Join(argv, " "), ns, err, bytes.TrimSpace(out))
	}
	return nil
}

// IP runs "ip -n NS ARGS...".
func (l *Lab) IP(ns string, args ...string) error {
	out, err := run(append([]string{"ip", "-n", ns}, args...)...)
	if err != nil {
		return fmt.Errorf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
	return nil
}

// build makes the namespaces, links and servers.
func (l *Lab) build() error {
	for _, ns := range []string{l.User, l.Router, l.Inet, l.Analyst} {
		if out, err := run("ip", "netns", "add", ns); err != nil {
			return fmt.Errorf("ip netns add %s: %v: %s", ns, err, out)
		}
		if err := l.IP(ns, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	steps := [][]string{
		// The veths are created straight inside their namespaces, so they
		// never appear in the machine's own.
		{"ip", "link", "add", "name", UserIface, "netns", l.User, "type", "veth", "peer", "name", RouterUserIface, "netns", l.Router},
		{"ip", "link", "add", "name", "eth0", "netns", l.Inet, "type", "veth", "peer", "name", RouterInetIface, "netns", l.Router},
		{"ip", "-n", l.Router, "addr", "add", RouterAddr + "/24", "dev", RouterUserIface},
		{"ip", "-n", l.Router, "addr", "add", RouterInetAddr + "/24", "dev", RouterInetIface},
		{"ip", "-n", l.Router, "link", "set", RouterUserIface, "up"},
		{"ip", "-n", l.Router, "link", "set", RouterInetIface, "up"},
		{"ip", "-n", l.Inet, "addr", "add", WebAddr + "/24", "dev", "eth0"},
		{"ip", "-n", l.Inet, "addr", "add", IntranetAddr + "/24", "dev", "eth0"},
		{"ip", "-n", l.Inet, "addr", "add", "203.0.113.20/24", "dev", "eth0"},
		{"ip", "-n", l.Inet, "link", "set", "eth0", "up"},
		{"ip", "-n", l.Inet, "route", "add", "default", "via", RouterInetAddr},
	}
	for _, s := range steps {
		if out, err := run(s...); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	if err := runIn(l.Router, "", "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward"); err != nil {
		return err
	}
	if err := l.resetUserNet(); err != nil {
		return err
	}
	if err := l.waitCarrier(); err != nil {
		return err
	}

	host, _ := os.Hostname()
	l.hostsDefault = "127.0.0.1\tlocalhost\n"
	if host != "" && host != "localhost" {
		l.hostsDefault += "127.0.1.1\t" + host + "\n"
	}
	l.nsswitch = nsswitchWithHosts(readOr("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\n"), "files dns")
	// ip netns exec bind-mounts each file of /etc/netns/NAME over the same
	// name in /etc, so these are what processes in the namespace read.
	files := map[string]string{
		filepath.Join("/etc/netns", l.User, "resolv.conf"):    "nameserver " + RouterAddr + "\n",
		filepath.Join("/etc/netns", l.User, "hosts"):          l.hostsDefault,
		filepath.Join("/etc/netns", l.User, "environment"):    "",
		filepath.Join("/etc/netns", l.User, "nsswitch.conf"):  l.nsswitch,
		filepath.Join("/etc/netns", l.Analyst, "resolv.conf"): "# nothing listens here: the analyst's namespace has only loopback\nnameserver 127.0.0.1\n",
		filepath.Join("/etc/netns", l.Analyst, "hosts"):       l.hostsDefault,
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := l.checkEtcNetns(); err != nil {
		return err
	}

	var err error
	if l.CAFile, l.web, err = startWeb(l.Inet, l.Dir, func() time.Time { return time.Now().Add(time.Duration(l.clockOffset.Load())) }); err != nil {
		return err
	}
	l.closers = append(l.closers, l.web.close)
	if err := l.startDiverted(); err != nil {
		return err
	}
	if l.dns, err = startDNS(l.Router, RouterAddr+":53"); err != nil {
		return err
	}
	l.closers = append(l.closers, l.dns.close)
	if l.ntp, err = startSNTP(l.Inet, "0.0.0.0:123"); err != nil {
		return err
	}
	l.closers = append(l.closers, l.ntp.close)
	if l.ssh, err = setupSSH(l.t, l.Dir, l.AnalystHome); err != nil {
		return err
	}
	l.SSHConfig = l.ssh.clientConfig
	if l.relay, err = startRelay(l.Analyst, l.User, SSHDAddr); err != nil {
		return err
	}
	l.closers = append(l.closers, l.relay.close)
	l.RelayAddr = l.relay.addr
	return nil
}

// checkEtcNetns makes sure that ip netns exec puts /etc/netns/NAME/* over
// /etc here: every name lookup in the lab depends on it.
func (l *Lab) checkEtcNetns() error {
	out, err := run("ip", "netns", "exec", l.User, "cat", "/etc/resolv.conf")
	if err != nil || !strings.Contains(out, "nameserver "+RouterAddr) {
		return fmt.Errorf("ip netns exec does not show /etc/netns/%s/resolv.conf as /etc/resolv.conf (got %q, %v)", l.User, out, err)
	}
	return nil
}

// resetUserNet gives the user's eth0 its address and default route.
func (l *Lab) resetUserNet() error {
	steps := [][]string{
		{"addr", "flush", "dev", UserIface},
		{"addr", "add", UserAddr + "/24", "dev", UserIface},
		{"link", "set", UserIface, "up"},
		{"route", "replace", "default", "via", RouterAddr},
	}
	for _, s := range steps {
		if err := l.IP(l.User, s...); err != nil {
			return err
		}
	}
	return nil
}

// waitCarrier waits until the user's interface reports itself up: a veth
// just set up says "no carrier" for a moment, and a check run in that
// moment finds the cable unplugged. Bounded: a link still down after 5s
// is an error of the lab, not a wait without end.
func (l *Lab) waitCarrier() error {
	var out string
	for range 100 {
		o, err := run("ip", "-n", l.User, "-o", "link", "show", UserIface)
		out = o
		if err == nil && strings.Contains(o, "state UP") {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s in %s did not come up: %s", UserIface, l.User, out)
}

// Reset takes the lab back to health: the user's network as built, no
// firewall rules in the router, the DNS and SNTP servers normal, the hosts
// and environment files as built, no proxy, the home folder unmounted, and
// sshd stopped.
func (l *Lab) Reset() error {
	l.StopSSHD()
	var errs []error
	errs = append(errs, l.resetUserNet())
	errs = append(errs, runIn(l.Router, "", "nft", "flush", "ruleset"))
	l.dns.set(DNSBehaviour{})
	errs = append(errs, l.stopSecondDNS())
	errs = append(errs, l.resetIPv6())
	l.ntp.setOffset(0)
	l.clockOffset.Store(0)
	l.freshCert.Store(nil)
	errs = append(errs, l.writeEtc("hosts", l.hostsDefault))
	errs = append(errs, l.writeEtc("resolv.conf", "nameserver "+RouterAddr+"\n"))
	errs = append(errs, l.writeEtc("environment", ""))
	errs = append(errs, l.writeEtc("nsswitch.conf", l.nsswitch))
	l.mu.Lock()
	l.proxyEnv = nil
	l.mu.Unlock()
	errs = append(errs, l.unmountHome())
	return errors.Join(errs...)
}

// writeEtc rewrites /etc/netns/USER/name in place: processes that already
// have it bind-mounted see the new content.
func (l *Lab) writeEtc(name, content string) error {
	return os.WriteFile(filepath.Join("/etc/netns", l.User, name), []byte(content), 0o644)
}

// Nft loads an nftables ruleset into the router's namespace.
func (l *Lab) Nft(ruleset string) error {
	return runIn(l.Router, ruleset, "nft", "-f", "-")
}

// SetDNS switches the router's DNS server's behaviour.
func (l *Lab) SetDNS(b DNSBehaviour) { l.dns.set(b) }

// SetClockOffset makes the internet's clock, its SNTP server's and its web
// servers' Date header, run d ahead (or behind): from the user's machine,
// its own clock is then d behind.
func (l *Lab) SetClockOffset(d time.Duration) {
	l.ntp.setOffset(d)
	l.clockOffset.Store(int64(d))
}

// SetNameservers makes the user's /etc/resolv.conf name these DNS servers,
// in this order.
func (l *Lab) SetNameservers(addrs ...string) error {
	var b strings.Builder
	for _, a := range addrs {
		b.WriteString("nameserver " + a + "\n")
	}
	return l.writeEtc("resolv.conf", b.String())
}

// SetSearch gives the user's resolv.conf search domains and an ndots
// option, with the router as its DNS server.
func (l *Lab) SetSearch(ndots int, domains ...string) error {
	return l.writeEtc("resolv.conf", fmt.Sprintf("nameserver %s\nsearch %s\noptions ndots:%d\n", RouterAddr, strings.Join(domains, " "), ndots))
}

// SetNsswitchHosts makes the hosts line of the user's nsswitch.conf list
// these sources ("files", "files dns"...).
func (l *Lab) SetNsswitchHosts(sources string) error {
	return l.writeEtc("nsswitch.conf", nsswitchWithHosts(l.nsswitch, sources))
}

// nsswitchWithHosts returns conf with its hosts line (added when missing)
// listing sources.
func nsswitchWithHosts(conf, sources string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(conf, "\n"), "\n") {
		if db, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(db) == "hosts" {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(append(out, "hosts:          "+sources), "\n") + "\n"
}

// readOr returns the content of path, or def when it cannot be read.
func readOr(path, def string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return def
	}
	return string(data)
}

// AddHosts appends lines to the user's /etc/hosts.
func (l *Lab) AddHosts(lines string) error {
	return l.writeEtc("hosts", l.hostsDefault+lines)
}

// SetProxy sets http_proxy, https_proxy, HTTP_PROXY and HTTPS_PROXY to url
// for commands started with UserCommand, in the user's /etc/environment
// and in SSH sessions started after it.
func (l *Lab) SetProxy(url string) error {
	return l.setProxyEnv(proxyEnv(url))
}

// SetPAC sets auto_proxy, the proxy auto-configuration script that
// Chromium on Linux follows, to url, as SetProxy sets the proxy.
func (l *Lab) SetPAC(url string) error {
	return l.setProxyEnv([]string{"auto_proxy=" + url})
}

func (l *Lab) setProxyEnv(env []string) error {
	l.mu.Lock()
	l.proxyEnv = env
	l.mu.Unlock()
	var b strings.Builder
	for _, kv := range env {
		b.WriteString(kv + "\n")
	}
	return l.writeEtc("environment", b.String())
}

func proxyEnv(url string) []string {
	if url == "" {
		return nil
	}
	return []string{"http_proxy=" + url, "https_proxy=" + url, "HTTP_PROXY=" + url, "HTTPS_PROXY=" + url}
}

// FillHome mounts a tmpfs of size bytes on the user's home folder and
// fills it, leaving about a tenth of a block free.
func (l *Lab) FillHome(size int64) error {
	marker := filepath.Join(markerRoot, l.Suffix, "mounts")
	if err := os.WriteFile(marker, []byte(l.Home+"\n"), 0o644); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", l.Home, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", l.Home, err)
	}
	l.mu.Lock()
	l.mounted = true
	l.mu.Unlock()
	f, err := os.Create(filepath.Join(l.Home, "big-file"))
	if err != nil {
		return err
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}

func (l *Lab) unmountHome() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mounted {
		return nil
	}
	if err := syscall.Unmount(l.Home, 0); err != nil {
		if err2 := syscall.Unmount(l.Home, syscall.MNT_DETACH); err2 != nil {
			return fmt.Errorf("unmount %s: %v", l.Home, err)
		}
	}
	l.mounted = false
	os.Remove(filepath.Join(markerRoot, l.Suffix, "mounts"))
	return nil
}

// baseEnv is the environment of every command the lab starts: nothing of
// the test process's own (no proxy, no SSH agent, no HOME).
func baseEnv(home, caFile string) []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home,
		"SSL_CERT_FILE=" + caFile,
		"LANG=C.UTF-8",
		"NO_COLOR=1",
		"TERM=dumb",
	}
}

// UserCommand returns a command that runs argv on the user's machine (ip
// netns exec) with a clean environment: PATH, HOME=Home,
// SSL_CERT_FILE=CAFile, and the proxy variables when SetProxy or SetPAC set some.
func (l *Lab) UserCommand(ctx context.Context, argv ...string) *exec.Cmd {
	l.mu.Lock()
	env := append(baseEnv(l.Home, l.CAFile), l.proxyEnv...)
	l.mu.Unlock()
	return l.command(ctx, l.User, env, argv)
}

// AnalystCommand returns a command that runs argv in the analyst's
// namespace (loopback only) with HOME=AnalystHome and SSL_CERT_FILE=CAFile.
func (l *Lab) AnalystCommand(ctx context.Context, argv ...string) *exec.Cmd {
	return l.command(ctx, l.Analyst, baseEnv(l.AnalystHome, l.CAFile), argv)
}

func (l *Lab) command(ctx context.Context, ns string, env, argv []string) *exec.Cmd {
	args := append([]string{"netns", "exec", ns, "env", "-i"}, env...)
	cmd := exec.CommandContext(ctx, "ip", append(args, argv...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// close removes everything the lab made. It runs from t.Cleanup and keeps
// going past errors, which it reports.
func (l *Lab) close() {
	l.StopSSHD()
	for i := len(l.closers) - 1; i >= 0; i-- {
		l.closers[i]()
	}
	if err := l.unmountHome(); err != nil {
		l.t.Errorf("faultlab: cleanup: %v", err)
	}
	for _, ns := range []string{l.User, l.Router, l.Inet, l.Analyst} {
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); err == nil {
			killAll(ns)
			if out, err := run("ip", "netns", "del", ns); err != nil {
				l.t.Errorf("faultlab: cleanup: ip netns del %s: %v %s", ns, err, out)
			}
		}
		if err := os.RemoveAll(filepath.Join("/etc/netns", ns)); err != nil {
			l.t.Errorf("faultlab: cleanup: %v", err)
		}
	}
	os.RemoveAll(filepath.Join(markerRoot, l.Suffix))
}
