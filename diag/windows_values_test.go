package diag

import (
	"net/netip"
	"slices"
	"testing"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// A laptop as GetAdaptersAddresses describes it: Wi-Fi connected, the
// Ethernet port unplugged, a Hyper-V switch for WSL, a VPN adapter with a
// lower metric, and the loopback pseudo-interface.
var laptopAdapters = []netAdapter{
	{Name: "Ethernet", Up: false, Metric: 25, Gateways: addrs("10.0.0.1"), DNS: addrs("10.0.0.1")},
	{Name: "Wi-Fi", Up: true, Metric: 35, Gateways: addrs("fe80::1%12", "192.168.178.1"),
		DNS: addrs("192.168.178.1", "fec0:0:0:ffff::1%1", "fec0:0:0:ffff::2%1", "fec0:0:0:ffff::3%1")},
	{Name: "vEthernet (WSL)", Up: true, Metric: 15, DNS: addrs("fec0:0:0:ffff::1%1")},
	{Name: "Corp VPN", Up: true, Metric: 1, Gateways: addrs("0.0.0.0"), DNS: addrs("10.20.0.53", "10.20.0.54")},
	{Name: "Loopback Pseudo-Interface 1", Up: true, Loopback: true, Metric: 75, DNS: addrs("127.0.0.1")},
}

func TestAdapterGateway(t *testing.T) {
	// The VPN's lower metric wins for DNS, but it has no gateway address
	// (0.0.0.0 is an on-link route); the unplugged Ethernet port's is
	// stale; the Wi-Fi router's IPv4 address is the gateway.
	if got := adapterGateway(laptopAdapters); got != "192.168.178.1" {
		t.Errorf("gateway %q, want 192.168.178.1", got)
	}
	if got := adapterGateway(nil); got != "" {
		t.Errorf("no adapters gave gateway %q", got)
	}
}

func TestAdapterNameservers(t *testing.T) {
	want := []string{"10.20.0.53", "10.20.0.54", "192.168.178.1"}
	if got := adapterNameservers(laptopAdapters); !slices.Equal(got, want) {
		t.Errorf("nameservers %q, want %q: by metric, without the fec0::ffff placeholders and loopback", got, want)
	}
}

func TestProxyFromWinINet(t *testing.T) {
	// Values as reg query shows them under
	// HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings.
	const src = "Windows proxy settings"
	for _, tc := range []struct {
		name                  string
		enable                uint64
		server, override, pac string
		proxies               []Proxy
		bypass                []string
		wantPAC               string
	}{
		{"one proxy for all", 1, "proxy.corp.example.com:8080", "*.corp.example.com;10.*;<local>", "",
			[]Proxy{{"all", "http://proxy.corp.example.com:8080", src}}, []string{"*.corp.example.com", "10.*", "<local>"}, ""},
		{"per scheme", 1, "http=proxy.corp.example.com:8080;https=proxy.corp.example.com:8443;ftp=proxy.corp.example.com:2121;socks=socks.corp.example.com:1080", "", "",
			[]Proxy{{"http", "http://proxy.corp.example.com:8080", src}, {"https", "http://proxy.corp.example.com:8443", src}, {"socks", "socks5://socks.corp.example.com:1080", src}}, nil, ""},
		// A proxy left in ProxyServer but switched off is not in effect;
		// the PAC script is, on its own.
		{"switched off, with PAC", 0, "proxy.corp.example.com:8080", "<local>", "http://wpad.corp.example.com/proxy.pac",
			nil, nil, "http://wpad.corp.example.com/proxy.pac"},
		{"none", 0, "", "", "", nil, nil, ""},
	} {
		p := ProxyFromWinINet(tc.enable, tc.server, tc.override, tc.pac)
		if !slices.Equal(p.Proxies, tc.proxies) || !slices.Equal(p.Bypass, tc.bypass) || p.AutoConfigURL != tc.wantPAC {
			t.Errorf("%s: got %+v", tc.name, p)
		}
	}
}

func TestWindowsPrettyName(t *testing.T) {
	for _, tc := range []struct {
		product, display string
		build            uint32
		want             string
	}{
		{"Windows 10 Pro", "23H2", 22631, "Windows 11 Pro 23H2 (build 22631)"},
		{"Windows 10 Enterprise", "22H2", 19045, "Windows 10 Enterprise 22H2 (build 19045)"},
		{"Windows Server 2022 Standard", "21H2", 20348, "Windows Server 2022 Standard 21H2 (build 20348)"},
		{"", "", 0, "Windows"},
	} {
		if got := WindowsPrettyName(tc.product, tc.display, tc.build); got != tc.want {
			t.Errorf("WindowsPrettyName(%q, %q, %d) = %q, want %q", tc.product, tc.display, tc.build, got, tc.want)
		}
	}
}
