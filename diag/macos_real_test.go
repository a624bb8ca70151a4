package diag

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The recordings in testdata/macos/real were captured on Macs by other
// people and published (GitHub issues, Stack Exchange, other projects'
// fixtures); testdata/macos/real/SOURCES.md says where each came from and
// what, if anything, was changed. The expectations below are what a
// person reads off each recording.

func readRealMacOS(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "macos", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseScutilDNSRealRecordings(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		// Wi-Fi with the ISP's resolvers; the rest is mDNS.
		{"scutil-dns-comcast-team51-161.txt", []string{"75.75.75.75", "75.75.76.76"}},
		// A VPN with split DNS: its resolvers answer for example.com only
		// (resolver #2 has a domain), so general names go to the LAN's.
		{"scutil-dns-split-vpn-tailscale-101.txt", []string{"172.22.22.1", "2001:db8:7acc:0:deef:9ff:fea8:39e"}},
		// A tunnel that takes all names: configd turns its empty
		// supplemental match domain into a Supplemental resolver with no
		// "domain", sorted first (order 103200 < 200000) and written to
		// /etc/resolv.conf. It serves every name, so it comes first, then
		// the Wi-Fi's.
		{"scutil-dns-supplemental-default-firezone-6220.txt", []string{"100.100.111.1", "fd00:2021:1111:8000:100:100:111:0", "2001:db8:3ecb:2410::1", "192.168.1.254"}},
		// A router that hands out a link-local IPv6 resolver: the zone is
		// part of the address, without it the server cannot be reached.
		{"scutil-dns-link-local-dnspython-481.txt", []string{"fe80::8e3b:adff:fead:7bf6%en0", "192.168.1.1"}},
		// Tunnelblick left the default resolver without nameservers and
		// this scutil printed reachability on lines of their own: the only
		// servers are scoped to utun0, so there is no general DNS server.
		{"scutil-dns-no-default-tunnelblick-452.txt", nil},
		// OS X 10.8 (no flags, "reach" without its hex value), a PPP VPN
		// over Wi-Fi: two default resolvers with the same servers.
		{"scutil-dns-10.8-ppp-vpn-wlan-se73076.txt", []string{"192.168.80.10", "192.168.80.24"}},
		// The same Mac over UMTS: the modem's resolvers come first, which
		// is the wrong order the asker was puzzling over, and what macOS
		// uses.
		{"scutil-dns-10.8-ppp-vpn-umts-se73076.txt", []string{"139.7.30.126", "139.7.30.125", "192.168.80.10", "192.168.80.24"}},
	} {
		if got := ParseScutilDNS(readRealMacOS(t, tc.file)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: servers %q, want %q", tc.file, got, tc.want)
		}
	}
}

func TestParseScutilProxyRealRecordings(t *testing.T) {
	const source = "macOS network settings"
	for _, tc := range []struct {
		file    string
		proxies []Proxy
		bypass  []string
		pac     string
	}{
		// Privoxy as the web proxy, set with networksetup: HTTP only, and
		// the default exceptions.
		{"scutil-proxy-privoxy-drduh.txt",
			[]Proxy{{Scheme: "http", URL: "http://127.0.0.1:8118", Source: source}},
			[]string{"*.local", "169.254/16"}, ""},
		// A VPN that hands out a PAC file and nothing else.
		{"scutil-proxy-pac-httptoolkit-151.txt", nil, nil, "http://wpad.company.com/wpad.dat"},
		// No proxy: the default exceptions are there all the same, and
		// mean nothing without a proxy.
		{"scutil-proxy-none-yakit-2164.txt", nil, nil, ""},
	} {
		p := ParseScutilProxy(readRealMacOS(t, tc.file))
		if !slices.Equal(p.Proxies, tc.proxies) {
			t.Errorf("%s: proxies %+v, want %+v", tc.file, p.Proxies, tc.proxies)
		}
		if !slices.Equal(p.Bypass, tc.bypass) {
			t.Errorf("%s: bypass %q, want %q", tc.file, p.Bypass, tc.bypass)
		}
		if p.AutoConfigURL != tc.pac {
			t.Errorf("%s: PAC URL %q, want %q", tc.file, p.AutoConfigURL, tc.pac)
		}
		if tc.pac != "" && p.AutoConfigSource != source {
			t.Errorf("%s: PAC source %q", tc.file, p.AutoConfigSource)
		}
	}
}

func TestParseRouteGetDefaultRealRecordings(t *testing.T) {
	for _, tc := range []struct {
		file, gateway string
	}{
		// Wi-Fi on en1 of a 2012 MacBook, with the metrics table route
		// prints after the flags.
		{"route-get-default-ohai.txt", "10.20.10.1"},
		// `route get 0` on a Mac whose VPN routes 0/1 and 128/1 through
		// utun3: the default route itself still goes to the LAN router.
		{"route-get-0-neofetch-2361.txt", "10.62.96.1"},
		// An IPsec VPN that owns the default route has no gateway
		// address, only an interface (the recording stops inside the
		// metrics table).
		{"route-get-ipsec-killswitch-19.txt", ""},
	} {
		if got := ParseRouteGetDefault(readRealMacOS(t, tc.file)); got != tc.gateway {
			t.Errorf("%s: gateway %q, want %q", tc.file, got, tc.gateway)
		}
	}
	// What `route get 1` printed on the same Mac: the VPN's half of the
	// address space, not the default route. triage asks for "default",
	// so this is what it would read if it asked the wrong question; the
	// parser does not judge which route it was given.
	if got := ParseRouteGetDefault(readRealMacOS(t, "route-get-1-split-vpn-neofetch-2361.txt")); got != "192.168.12.1" {
		t.Errorf("route get 1: gateway %q", got)
	}
}

func TestParseVMStatRealRecordings(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		file     string
		pageSize uint64
		pages    map[string]uint64
		// total is the machine's memory: stated by the source, or the
		// smallest size the page counts fit in.
		total, available uint64
	}{
		// An Intel Mac before 10.9 (no anonymous page count): available
		// is free + inactive + speculative. Ohai's test states 16 GiB
		// (sysctl hw.memsize = 17179869184).
		{"vm_stat-intel-16g-ohai.txt", 4096,
			map[string]uint64{"Pages free": 2155305, "Pages inactive": 189127, "Pages speculative": 531321, "Pages wired down": 391749, `"Translation faults"`: 14107520},
			16 * gib, (2155305 + 189127 + 531321) * 4096},
		// Another pre-10.9 Intel Mac, nearly out of free pages: free,
		// active, inactive, speculative and wired come to 2095353 of the
		// 2097152 pages of 8 GiB.
		{"vm_stat-intel-facter.txt", 4096,
			map[string]uint64{"Pages free": 28430, "Pages active": 1152576, "Pageouts": 1384383},
			8 * gib, (28430 + 489054 + 7076) * 4096},
		// A current Intel Mac with 32 GiB (the page counts add up to
		// 8387868 of 8388608 pages): all but app memory (anonymous -
		// purgeable) and wired memory is available; nothing is
		// compressed.
		{"vm_stat-intel-32g-wazuh-22113.txt", 4096,
			map[string]uint64{"Anonymous pages": 464333, "Pages purgeable": 11820, "Pages wired down": 715958, "Pages occupied by compressor": 0},
			32 * gib, (8388608 - (464333 - 11820) - 715958) * 4096},
		// Apple silicon, 16 KiB pages, a busy machine compressing 6.7 GiB.
		// Its memory size is not stated; the counts fill 1518560 pages,
		// more than 16 GiB holds, so it is the 24 GiB model.
		{"vm_stat-apple-silicon-hmcl-4876.txt", 16384,
			map[string]uint64{"Anonymous pages": 596147, "Pages purgeable": 17340, "Pages wired down": 181483, "Pages occupied by compressor": 442179, "Decompressions": 591661242},
			24 * gib, (1572864 - (596147 - 17340) - 181483 - 442179) * 16384},
	} {
		vm, err := ParseVMStat(readRealMacOS(t, tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if vm.PageSize != tc.pageSize {
			t.Errorf("%s: page size %d, want %d", tc.file, vm.PageSize, tc.pageSize)
		}
		for name, n := range tc.pages {
			if got, ok := vm.Pages[name]; !ok || got != n {
				t.Errorf("%s: %s = %d (present %v), want %d", tc.file, name, got, ok, n)
			}
		}
		if _, ok := vm.Pages["Object cache"]; ok {
			t.Errorf("%s: the object cache line is not a page count", tc.file)
		}
		if got := vm.Available(tc.total); got != tc.available {
			t.Errorf("%s: available %d, want %d", tc.file, got, tc.available)
		}
	}
}
