package netcheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
)

// machine is a target with the network state of a recorded machine: its
// facts, its commands' output, and optionally the capabilities the local
// target has (interfaces, DNS servers, proxy settings, ping). Connections
// still go to this machine's loopback.
type machine struct {
	diag.Target // plainTarget: Local without its capabilities
	facts       diag.Facts
	cmds        map[string]diag.CommandResult
}

func newMachine(os string) *machine {
	return &machine{Target: plainTarget{diag.NewLocal()}, facts: diag.Facts{OS: os, Hostname: "recorded"}, cmds: map[string]diag.CommandResult{}}
}

func (m *machine) Facts(context.Context) (diag.Facts, error) { return m.facts, nil }

func (m *machine) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	if res, ok := m.cmds[strings.Join(c.Argv, " ")]; ok {
		return res, nil
	}
	return diag.CommandResult{}, &fs.PathError{Op: "exec", Path: c.Argv[0], Err: diag.ErrCommandNotFound}
}

func recordedIP(t *testing.T, m *machine, name string) *machine {
	t.Helper()
	m.cmds["ip -o link show"] = diag.CommandResult{Stdout: []byte(ipRecording(t, name+".link"))}
	m.cmds["ip -o addr show"] = diag.CommandResult{Stdout: []byte(ipRecording(t, name+".addr"))}
	return m
}

// ipRecording is the output of ip(8) recorded on a machine.
func ipRecording(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "ip", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParseIP(t *testing.T) {
	ifs := joinIP(parseIPLink([]byte(ipRecording(t, "laptop-wifi.link"))), parseIPAddr([]byte(ipRecording(t, "laptop-wifi.addr"))))
	got := map[string]diag.NetInterface{}
	for _, ni := range ifs {
		got[ni.Name] = ni
	}
	if len(ifs) != 5 {
		t.Fatalf("%d interfaces: %+v", len(ifs), ifs)
	}
	lo, wifi, eth, veth := got["lo"], got["wlp0s20f3"], got["enp0s31f6"], got["vethb2a41c9"]
	if !lo.Loopback || !lo.Running || len(lo.Addrs) != 2 {
		t.Errorf("lo: %+v", lo)
	}
	if !wifi.Up || !wifi.Running || len(wifi.Addrs) != 3 || wifi.Addrs[0] != netip.MustParsePrefix("192.168.178.23/24") {
		t.Errorf("wlp0s20f3: %+v", wifi)
	}
	// Up but NO-CARRIER: the cable is out.
	if !eth.Up || eth.Running || len(eth.Addrs) != 0 {
		t.Errorf("enp0s31f6: %+v", eth)
	}
	// "vethb2a41c9@if4" is listed by its name alone.
	if !veth.Running || len(veth.Addrs) != 1 {
		t.Errorf("vethb2a41c9: %+v", veth)
	}
}

func FuzzParseIP(f *testing.F) {
	f.Add([]byte(ipRecording(f, "laptop-wifi.link")), []byte(ipRecording(f, "laptop-wifi.addr")))
	f.Add([]byte("1: lo: <>\n"), []byte("1: lo inet x\n"))
	f.Fuzz(func(t *testing.T, link, addr []byte) {
		for _, ni := range joinIP(parseIPLink(link), parseIPAddr(addr)) {
			if ni.Running && !ni.Up {
				t.Fatalf("running but not up: %+v", ni)
			}
		}
	})
}

func TestInterfaceKind(t *testing.T) {
	for _, tc := range []struct {
		recording string
		edit      func(*Interface)
		status    diag.Status
		fragment  string
	}{
		// Docker's bridge and its veth are up with addresses, but only
		// the Wi-Fi connects the laptop to anything.
		{"laptop-wifi", nil, diag.Pass, "connected: wlp0s20f3 (192.168.178.23, 2a02:8109:b6c0:d00:1c2f:3a4b:5c6d:7e8f)"},
		{"laptop-wifi", func(c *Interface) { c.Name = "enp0s31f6" }, diag.Fail, "not connected to any network: enp0s31f6 is unplugged or switched off"},
		{"laptop-wifi", func(c *Interface) { c.Name = "eth9" }, diag.Fail, "there is no interface called eth9"},
		// No DHCP answer: the machine gave itself 169.254.x.x. Docker's
		// 172.17.0.1 must not make that look like a connection.
		{"dhcp-failed", nil, diag.Fail, "eth0 is connected but got no address from the network, only a self-assigned 169.254.x.x one"},
		{"dhcp-failed", func(c *Interface) { c.Ignore = nil }, diag.Fail, "eth0 is connected but got no address"},
		{"loopback-only", nil, diag.Fail, "not connected to any network: there is no network interface besides loopback"},
	} {
		c := newKind[*Interface](t, "interface")
		if tc.edit != nil {
			tc.edit(c)
		}
		r := run(t, c, recordedIP(t, newMachine("linux"), tc.recording))
		expect(t, r, tc.status, tc.fragment)
	}

	// A Mac or Windows machine reached from here cannot be asked.
	r := run(t, newKind[*Interface](t, "interface"), newMachine("darwin"))
	expect(t, r, diag.Skip)
	// A Linux machine without ip.
	r = run(t, newKind[*Interface](t, "interface"), newMachine("linux"))
	expect(t, r, diag.Error, "it has no ip command")
}

// listerMachine lists its interfaces itself, as the local target does.
type listerMachine struct {
	*machine
	ifs []diag.NetInterface
}

func (l listerMachine) Interfaces(context.Context) ([]diag.NetInterface, error) { return l.ifs, nil }

func TestInterfaceNative(t *testing.T) {
	p := netip.MustParsePrefix
	// A Windows laptop as net.Interfaces sees it: Wi-Fi connected, the
	// Ethernet port unplugged, the WSL switch up with an address.
	win := listerMachine{newMachine("windows"), []diag.NetInterface{
		{Name: "Ethernet", Up: true, Running: false},
		{Name: "Wi-Fi", Up: true, Running: true, Addrs: []netip.Prefix{p("fe80::1c2f:3a4b:5c6d:7e8f/64"), p("192.168.1.34/24")}},
		{Name: "vEthernet (WSL (Hyper-V firewall))", Up: true, Running: true, Addrs: []netip.Prefix{p("172.29.16.1/20")}},
		{Name: "Loopback Pseudo-Interface 1", Up: true, Running: true, Loopback: true, Addrs: []netip.Prefix{p("127.0.0.1/8")}},
	}}
	r := run(t, newKind[*Interface](t, "interface"), win)
	expect(t, r, diag.Pass, "connected: Wi-Fi (192.168.1.34)")

	win.ifs[1].Running = false
	r = run(t, newKind[*Interface](t, "interface"), win)
	expect(t, r, diag.Fail, "not connected to any network: Ethernet, Wi-Fi are unplugged or switched off")

	// A Mac with Wi-Fi off: en0 stays RUNNING, without an address; the
	// peer-to-peer and tunnel interfaces have only link-local ones.
	mac := listerMachine{newMachine("darwin"), []diag.NetInterface{
		{Name: "lo0", Up: true, Running: true, Loopback: true, Addrs: []netip.Prefix{p("127.0.0.1/8"), p("::1/128")}},
		{Name: "en0", Up: true, Running: true},
		{Name: "awdl0", Up: true, Running: true, Addrs: []netip.Prefix{p("fe80::7c1a:2bff:fe3c:4d5e/64")}},
		{Name: "llw0", Up: true, Running: true, Addrs: []netip.Prefix{p("fe80::7c1a:2bff:fe3c:4d5e/64")}},
		{Name: "utun0", Up: true, Running: true, Addrs: []netip.Prefix{p("fe80::a1b2:c3d4:e5f6:1/64")}},
		{Name: "utun1", Up: true, Running: true, Addrs: []netip.Prefix{p("fe80::a1b2:c3d4:e5f6:2/64")}},
	}}
	r = run(t, newKind[*Interface](t, "interface"), mac)
	expect(t, r, diag.Fail, "not connected to any network: en0 has no address")
	if strings.Contains(r.Message, "awdl0") || strings.Contains(r.Message, "utun") {
		t.Errorf("macOS's own interfaces in the message: %q", r.Message)
	}

	// This machine: whatever its state, a verdict and no error.
	r = run(t, newKind[*Interface](t, "interface"), diag.NewLocal())
	if r.Status != diag.Pass && r.Status != diag.Fail {
		t.Errorf("this machine: %s: %s", r.Status, r.Message)
	}
}

func TestInterfaceValidate(t *testing.T) {
	c := newKind[*Interface](t, "interface")
	c.Ignore = []string{"docker*", "vm[net"}
	assertFieldError(t, c.Validate(), "ignore")
}

// pingMachine answers pings as recorded and opens real connections to
// loopback, or to nowhere when silent.
type pingMachine struct {
	*machine
	received int
	pingErr  error
	silent   bool // connections neither connect nor get refused
}

func (p *pingMachine) Ping(ctx context.Context, req diag.PingRequest) (diag.PingStats, error) {
	if p.pingErr != nil {
		return diag.PingStats{}, p.pingErr
	}
	return diag.PingStats{Addr: req.Host, Sent: req.Count, Received: min(p.received, req.Count), MinRTT: time.Millisecond, AvgRTT: 2 * time.Millisecond, MaxRTT: 3 * time.Millisecond}, nil
}

func (p *pingMachine) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if p.silent {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return p.machine.Dial(ctx, network, address)
}

func TestGatewayKind(t *testing.T) {
	router := func(received int) *pingMachine {
		m := newMachine("linux")
		m.facts.Gateway = "127.0.0.1"
		return &pingMachine{machine: m, received: received}
	}
	r := run(t, newKind[*Gateway](t, "gateway"), router(10))
	expect(t, r, diag.Pass, "the default gateway 127.0.0.1 answered 10 of 10 pings, none lost")
	if r.Observed["reachable"] != true || r.Observed["gateway"] != "127.0.0.1" {
		t.Errorf("observed %v", r.Observed)
	}

	// No reply to ping, but the router refuses a connection: it is there.
	r = run(t, newKind[*Gateway](t, "gateway"), router(0))
	expect(t, r, diag.Pass, "127.0.0.1 does not answer pings, but answered a connection attempt on TCP port")
	// Not allowed to ping natively, and no ping command: loss is
	// measured with connection attempts instead.
	noPing := router(0)
	noPing.pingErr = diag.ErrPingNotPermitted
	r = run(t, newKind[*Gateway](t, "gateway"), noPing)
	expect(t, r, diag.Pass, "answered 10 of 10 TCP connection attempts", "ping is not installed", "measured with TCP connection attempts")

	// Nothing at all: no ping reply, every connection attempt unanswered.
	gone := router(0)
	gone.silent = true
	c := newKind[*Gateway](t, "gateway")
	c.Timeout = dur(time.Second)
	start := time.Now()
	r = run(t, c, gone)
	expect(t, r, diag.Fail, "the default gateway 127.0.0.1 does not answer: no reply to ping, and no answer on TCP ports 53, 80, 443")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a silent router held the check for %s", d)
	}

	// Neither native ping nor a ping command: the connection attempts
	// still find the router, and measure the loss.
	r = run(t, newKind[*Gateway](t, "gateway"), router(10).machine)
	expect(t, r, diag.Pass, "answered 10 of 10 TCP connection attempts", "ping is not installed")

	// No default route at all.
	none := newMachine("linux")
	r = run(t, newKind[*Gateway](t, "gateway"), none)
	expect(t, r, diag.Fail, "has no default gateway")

	// A router given by address.
	c = newKind[*Gateway](t, "gateway")
	c.Host = "127.0.0.1"
	r = run(t, c, &pingMachine{machine: none, received: 10})
	expect(t, r, diag.Pass, "the router 127.0.0.1 answered 10 of 10")
}

// TestGatewayLoss: enough pings go to the router to measure loss, and a
// lossy first hop is not passed: above warn_loss (10%) it warns, above
// max_loss (30%) it fails, and a loss shown under a pass says it is within
// the limit.
func TestGatewayLoss(t *testing.T) {
	m := newMachine("linux")
	m.facts.Gateway = "127.0.0.1"
	tests := []struct {
		received int
		edit     func(*Gateway)
		status   diag.Status
		msg      string
	}{
		{9, nil, diag.Pass, "answered 9 of 10 pings, average 2ms; 1 of 10 pings lost (10%), within the 10% warning limit"},
		{8, nil, diag.Warn, "the default gateway 127.0.0.1 answers, but 2 of 10 pings lost (20%), above the 10% warning limit"},
		{6, nil, diag.Fail, "4 of 10 pings lost (40%), above the 30% limit"},
		// The case: one ping of three lost used to pass.
		{2, func(c *Gateway) { c.Count = 3 }, diag.Fail, "1 of 3 pings lost (33.3%), above the 30% limit"},
		{8, func(c *Gateway) { c.WarnLoss, c.MaxLoss = 25, 50 }, diag.Pass, "within the 25% warning limit"},
	}
	for _, tt := range tests {
		c := newKind[*Gateway](t, "gateway")
		if tt.edit != nil {
			tt.edit(c)
		}
		r := run(t, c, &pingMachine{machine: m, received: tt.received})
		expect(t, r, tt.status, tt.msg)
		if r.Observed["sent"] != c.Count {
			t.Errorf("sent %v pings, want %d", r.Observed["sent"], c.Count)
		}
		if r.Status != diag.Pass && !strings.Contains(r.Hint, "loses packets") {
			t.Errorf("hint %q", r.Hint)
		}
	}
}

func TestGatewayValidate(t *testing.T) {
	c := newKind[*Gateway](t, "gateway")
	c.Count = 0
	assertFieldError(t, c.Validate(), "count")
	c = newKind[*Gateway](t, "gateway")
	c.Timeout = dur(500 * time.Millisecond)
	assertFieldError(t, c.Validate(), "timeout")
	c = newKind[*Gateway](t, "gateway")
	c.Host = "http://router"
	assertFieldError(t, c.Validate(), "host")
}

// dnsListing lists its DNS servers itself, as the local target does on
// Windows and macOS.
type dnsListing struct {
	diag.Target
	servers []string
}

func (d dnsListing) Nameservers(context.Context) (diag.DNSConfig, error) {
	return diag.DNSConfig{Servers: d.servers, Source: "the adapters"}, nil
}

func TestNameserversKind(t *testing.T) {
	good, silent := startDNS(t), silentUDP(t)
	closed := closedUDPPort(t)
	local := plainTarget{diag.NewLocal()}
	for _, tc := range []struct {
		servers  []string
		name     string
		status   diag.Status
		fragment string
	}{
		{[]string{good}, "", diag.Pass, "1 DNS server answers: " + good + " ("},
		{[]string{good}, "www.test", diag.Pass, "1 DNS server answers"},
		// An answer that a name does not exist is an answer.
		{[]string{good, good}, "nothere.test", diag.Pass, "2 DNS servers answer"},
		{[]string{good, silent}, "", diag.Warn, "1 of 2 DNS servers does not answer: " + silent + " (no answer within 2s); " + good},
		{[]string{silent, closed}, "", diag.Fail, "no DNS server answers: " + silent + " (no answer within 2s), " + closed + " ("},
		// The first server dead: every lookup waits for it.
		{[]string{silent, good}, "", diag.Warn, "names resolve, but only after the first server times out: 1 of 2 DNS servers does not answer: " + silent},
		{[]string{good}, "servfail.test", diag.Fail, "cannot look names up (SERVFAIL)"},
		{[]string{good}, "refused.test", diag.Fail, "refuses to answer this machine (REFUSED)"},
		{nil, "", diag.Fail, "no DNS server is configured (the adapters lists none)"},
	} {
		c := newKind[*Nameservers](t, "nameservers")
		c.Name, c.Timeout = tc.name, dur(time.Second)
		start := time.Now()
		r := run(t, c, dnsListing{local, tc.servers})
		expect(t, r, tc.status, tc.fragment)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%v: took %s; the servers are asked at once, each for 2s at most", tc.servers, d)
		}
	}
}

// slowDNS starts a DNS server on UDP that answers as startDNS's does, but
// only after delay.
func slowDNS(t *testing.T, delay time.Duration) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := zoneHandler(t)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		time.Sleep(delay)
		h(w, q)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestNameserversSlow: a server that answers after the latency limit is
// slow, with its latency, not dead; and a dead first server in
// resolv.conf is named with the resolver's wait.
func TestNameserversSlow(t *testing.T) {
	good, slow, silent := startDNS(t), slowDNS(t, 700*time.Millisecond), silentUDP(t)
	local := plainTarget{diag.NewLocal()}
	c := newKind[*Nameservers](t, "nameservers")
	c.Timeout = dur(500 * time.Millisecond) // slow after 500ms, dead after 1s
	r := run(t, c, dnsListing{local, []string{slow}})
	expect(t, r, diag.Warn, "1 DNS server answers slowly, over the 500ms limit: "+slow+" (in 7")
	if strings.Contains(r.Message, "no answer") || !strings.Contains(r.Hint, "slowly") {
		t.Errorf("a slow server reported as dead: %q (hint %q)", r.Message, r.Hint)
	}
	if list, _ := r.Observed["servers"].([]map[string]any); len(list) != 1 || list[0]["slow"] != true || list[0]["answered"] != true {
		t.Errorf("observed servers %v", r.Observed["servers"])
	}

	r = run(t, c, dnsListing{local, []string{good, slow}})
	expect(t, r, diag.Warn, "answers slowly", good)

	// resolv.conf says how long the system waits for the first server.
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 127.0.0.7\nnameserver 127.0.0.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := redirected{Target: local, addrs: map[string]string{"127.0.0.7:53": silent, "127.0.0.8:53": good},
		files: map[string]string{"/etc/resolv.conf": conf}}
	r = run(t, c, target)
	expect(t, r, diag.Warn, "names resolve, but only after the first server times out (5s): 1 of 2 DNS servers does not answer: 127.0.0.7 (no answer within 1s); 127.0.0.8 (")
	if !strings.Contains(r.Hint, "127.0.0.7 first") {
		t.Errorf("hint %q", r.Hint)
	}
}

func TestNameserversFromResolvConf(t *testing.T) {
	good := startDNS(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// systemd-resolved: resolv.conf names its stub, the servers it asks
	// are in its own file.
	stub := write("resolv.conf", "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch home.arpa\n")
	upstream := write("upstream.conf", "# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).\nnameserver 127.0.0.9\nsearch home.arpa\n")
	target := redirected{Target: plainTarget{diag.NewLocal()},
		addrs: map[string]string{"127.0.0.9:53": good},
		files: map[string]string{"/etc/resolv.conf": stub, "/run/systemd/resolve/resolv.conf": upstream}}
	r := run(t, newKind[*Nameservers](t, "nameservers"), target)
	expect(t, r, diag.Pass, "1 DNS server answers: 127.0.0.9 (")
	if src, _ := r.Observed["source"].(string); !strings.HasPrefix(src, "systemd-resolved") {
		t.Errorf("source %q", src)
	}

	// Without systemd-resolved's file, the stub itself is asked.
	target.files["/run/systemd/resolve/resolv.conf"] = filepath.Join(dir, "missing")
	target.addrs = map[string]string{"127.0.0.53:53": good}
	r = run(t, newKind[*Nameservers](t, "nameservers"), target)
	expect(t, r, diag.Pass, "127.0.0.53")

	// No resolv.conf at all: could not check.
	target.files["/etc/resolv.conf"] = filepath.Join(dir, "missing")
	r = run(t, newKind[*Nameservers](t, "nameservers"), target)
	expect(t, r, diag.Error, "cannot find the DNS servers")
}

// proxyMachine reports proxy settings, as the local target does.
type proxyMachine struct {
	diag.Target
	settings diag.ProxySettings
}

func (p proxyMachine) ProxySettings(context.Context) (diag.ProxySettings, error) {
	return p.settings, nil
}

func TestProxyKind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	up := ln.Addr().String()
	closed := closedTCPPort(t)
	local := plainTarget{diag.NewLocal()}

	r := run(t, newKind[*Proxy](t, "proxy"), proxyMachine{local, diag.ProxySettings{}})
	expect(t, r, diag.Pass, "no proxy is set")

	set := diag.ProxySettings{
		Proxies:       []diag.Proxy{{Scheme: "all", URL: "http://alice:s3cret@" + up, Source: "Windows proxy settings"}},
		AutoConfigURL: "http://" + up + "/proxy.pac", AutoConfigSource: "Windows proxy settings",
		Bypass: []string{"*.corp.example.com", "<local>"},
	}
	r = run(t, newKind[*Proxy](t, "proxy"), proxyMachine{local, set})
	expect(t, r, diag.Pass, "http://alice:xxxxx@"+up+" for all web traffic (Windows proxy settings)", "each accepts connections")
	if strings.Contains(fmt.Sprint(r.Observed)+r.Message+r.Evidence, "s3cret") {
		t.Error("the proxy password reached the result")
	}

	// The office proxy, from home: set in the environment, not reachable.
	set.Proxies = append(set.Proxies, diag.Proxy{Scheme: "https", URL: "http://" + closed, Source: "HTTPS_PROXY"})
	r = run(t, newKind[*Proxy](t, "proxy"), proxyMachine{local, set})
	expect(t, r, diag.Fail, "not reachable: "+closed+": nothing accepts connections there")
	if !strings.Contains(r.Hint, "connect the VPN or switch the proxy off") {
		t.Errorf("hint %q", r.Hint)
	}
	if un, _ := r.Observed["unreachable"].([]string); len(un) != 1 || un[0] != closed {
		t.Errorf("unreachable %v", r.Observed["unreachable"])
	}

	// A machine whose settings triage cannot read.
	r = run(t, newKind[*Proxy](t, "proxy"), local)
	expect(t, r, diag.Skip)
}

func closedTCPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestBypassed(t *testing.T) {
	windows := []string{"*.corp.example.com", "10.*", "<local>", "intranet.example.org"}
	mac := []string{"*.local", "169.254/16", "192.168.0.0/16", ".lab.example.net"}
	for _, tc := range []struct {
		host   string
		bypass []string
		want   bool
	}{
		{"wiki.corp.example.com", windows, true},
		{"corp.example.com", windows, false}, // *. needs a subdomain
		{"10.20.30.40", windows, true},
		{"100.20.30.40", windows, false},
		{"fileserver", windows, true}, // <local>: no dot
		{"www.example.com", windows, false},
		{"intranet.example.org", windows, true},
		{"hr.intranet.example.org", windows, true},
		{"printer.local", mac, true},
		{"192.168.1.20", mac, true},
		{"build.lab.example.net", mac, true},
		{"localhost", nil, true},
		{"127.0.0.1", nil, true},
		{"example.com", nil, false},
	} {
		if got := bypassed(tc.host, tc.bypass); got != tc.want {
			t.Errorf("bypassed(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestSystemProxy(t *testing.T) {
	ctx := context.Background()
	req := func(raw string) *http.Request {
		u, _ := url.Parse(raw)
		return &http.Request{URL: u}
	}
	// Windows settings with a proxy per scheme and a bypass list.
	f := systemProxy(ctx, diag.ProxySettings{Proxies: []diag.Proxy{
		{Scheme: "http", URL: "http://proxy.corp.example.com:8080", Source: "Windows proxy settings"},
		{Scheme: "https", URL: "http://proxy.corp.example.com:8443", Source: "Windows proxy settings"},
	}, Bypass: []string{"*.corp.example.com"}})
	for raw, want := range map[string]string{
		"https://example.com/":          "http://proxy.corp.example.com:8443",
		"http://example.com/":           "http://proxy.corp.example.com:8080",
		"https://wiki.corp.example.com": "",
	} {
		got, err := f(req(raw))
		if err != nil || (got == nil) != (want == "") || (got != nil && got.String() != want) {
			t.Errorf("%s: proxy %v, %v; want %q", raw, got, err, want)
		}
	}
	// A proxy for every scheme serves https too.
	f = systemProxy(ctx, diag.ProxySettings{Proxies: []diag.Proxy{{Scheme: "all", URL: "http://proxy:3128", Source: "macOS network settings"}}})
	if got, _ := f(req("https://example.com/")); got == nil || got.Host != "proxy:3128" {
		t.Errorf("all-schemes proxy for https: %v", got)
	}
	// The environment wins: the choice is left to it.
	if f := systemProxy(ctx, diag.ProxySettings{Proxies: []diag.Proxy{
		{Scheme: "https", URL: "http://env:1", Source: "HTTPS_PROXY"},
		{Scheme: "all", URL: "http://sys:2", Source: "Windows proxy settings"},
	}}); f != nil {
		t.Error("system settings used although HTTPS_PROXY is set")
	}
	// A PAC script alone cannot be followed.
	if f := systemProxy(ctx, diag.ProxySettings{AutoConfigURL: "http://wpad/wpad.dat"}); f != nil {
		t.Error("a PAC-only setting gave a proxy")
	}
	if f := systemProxy(ctx, diag.ProxySettings{}); f != nil {
		t.Error("no settings gave a proxy")
	}
}

func TestTargetNameserversErrors(t *testing.T) {
	failing := failingLister{plainTarget{diag.NewLocal()}}
	if _, err := targetNameservers(context.Background(), failing); err == nil || !strings.Contains(err.Error(), "adapter list") {
		t.Errorf("a lister's own error: %v", err)
	}
}

type failingLister struct{ diag.Target }

func (failingLister) Nameservers(context.Context) (diag.DNSConfig, error) {
	return diag.DNSConfig{}, errors.New("GetAdaptersAddresses: the adapter list kept growing")
}
