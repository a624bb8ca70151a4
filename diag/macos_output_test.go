package diag

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func readMacOS(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "macos", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseRouteGetDefault(t *testing.T) {
	for file, want := range map[string]string{
		"route-get-default-wifi.txt": "192.168.1.1",
		// A VPN that routes everything through its tunnel interface has
		// no gateway address: there is no router to ping.
		"route-get-default-vpn.txt":     "",
		"route-get-default-offline.txt": "",
	} {
		if got := ParseRouteGetDefault(readMacOS(t, file)); got != want {
			t.Errorf("%s: gateway %q, want %q", file, got, want)
		}
	}
	if got := ParseRouteGetDefault([]byte("    gateway: fe80::1%en0\n")); got != "" {
		t.Errorf("an IPv6 gateway gave %q; Facts.Gateway is IPv4", got)
	}
}

func TestParseScutilDNS(t *testing.T) {
	for file, want := range map[string][]string{
		// The VPN's resolver serves corp.example.com only, and the scoped
		// section repeats the others: neither adds a general server.
		"scutil-dns-wifi-vpn.txt": {"192.168.1.1", "2a02:8109:b6c0:d00::1"},
		// Offline, only the mDNS resolvers for .local are left.
		"scutil-dns-offline.txt": nil,
		// A local DNS proxy on another port keeps its port.
		"scutil-dns-local-proxy.txt": {"127.0.0.1:5353", "9.9.9.9"},
	} {
		got := ParseScutilDNS(readMacOS(t, file))
		if !slices.Equal(got, want) {
			t.Errorf("%s: servers %q, want %q", file, got, want)
		}
	}
}

func TestParseScutilProxy(t *testing.T) {
	corp := ParseScutilProxy(readMacOS(t, "scutil-proxy-corp.txt"))
	want := []Proxy{
		{Scheme: "http", URL: "http://proxy.corp.example.com:8080", Source: "macOS network settings"},
		{Scheme: "https", URL: "http://proxy.corp.example.com:8080", Source: "macOS network settings"},
	}
	if !slices.Equal(corp.Proxies, want) {
		t.Errorf("corp proxies %+v, want %+v", corp.Proxies, want)
	}
	if wantBypass := []string{"*.local", "169.254/16", "*.corp.example.com", "<local>"}; !slices.Equal(corp.Bypass, wantBypass) {
		t.Errorf("corp bypass %q, want %q", corp.Bypass, wantBypass)
	}
	if corp.AutoConfigURL != "" {
		t.Errorf("corp has a PAC URL %q, but ProxyAutoConfigEnable is 0", corp.AutoConfigURL)
	}

	none := ParseScutilProxy(readMacOS(t, "scutil-proxy-none.txt"))
	if !none.IsZero() || len(none.Bypass) != 0 {
		t.Errorf("no proxy enabled, got %+v", none)
	}

	pac := ParseScutilProxy(readMacOS(t, "scutil-proxy-pac.txt"))
	if pac.AutoConfigURL != "http://wpad.corp.example.com/wpad.dat" || len(pac.Proxies) != 0 {
		t.Errorf("PAC settings read as %+v", pac)
	}
}

func TestParseVMStat(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		file      string
		pageSize  uint64
		total     uint64
		available uint64
	}{
		// Apple silicon, 16 GiB: app memory (anonymous - purgeable), wired
		// and compressed pages are in use; the rest is available.
		{"vm_stat-m1-16g.txt", 16384, 16 * gib, (1048576 - (355676 - 9840) - 140558 - 151234) * 16384},
		// An Intel Mac with 8 GiB, swapping: about 5% is left.
		{"vm_stat-intel-8g-pressure.txt", 4096, 8 * gib, (2097152 - (1293414 - 301) - 412877 - 281432) * 4096},
	} {
		vm, err := ParseVMStat(readMacOS(t, tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if vm.PageSize != tc.pageSize {
			t.Errorf("%s: page size %d, want %d", tc.file, vm.PageSize, tc.pageSize)
		}
		if got := vm.Available(tc.total); got != tc.available {
			t.Errorf("%s: available %d, want %d", tc.file, got, tc.available)
		}
	}
	old, err := ParseVMStat([]byte("Mach Virtual Memory Statistics: (page size of 4096 bytes)\nPages free: 100.\nPages inactive: 50.\nPages speculative: 10.\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := old.Available(1 << 30); got != 160*4096 {
		t.Errorf("without anonymous pages, available = %d, want free + inactive + speculative", got)
	}
	for _, bad := range []string{"", "Pages free: 1.\n", "Mach Virtual Memory Statistics: (page size of 3000 bytes)\nPages free: 1.\n", "Mach Virtual Memory Statistics: (page size of 4096 bytes)\n"} {
		if _, err := ParseVMStat([]byte(bad)); err == nil {
			t.Errorf("ParseVMStat(%q) succeeded", bad)
		}
	}
}

func FuzzParseVMStat(f *testing.F) {
	f.Add(readMacOS(f, "vm_stat-m1-16g.txt"))
	f.Add([]byte("Mach Virtual Memory Statistics: (page size of 4096 bytes)\nPages free: 1.\nAnonymous pages: 99999999999.\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vm, err := ParseVMStat(data)
		if err != nil {
			return
		}
		if got := vm.Available(8 << 30); got > 8<<30 {
			t.Fatalf("available %d is more than the total", got)
		}
	})
}

func TestParseSwapUsage(t *testing.T) {
	// struct xsw_usage as sysctl vm.swapusage returns it: 2 GiB of swap,
	// 1.25 GiB free, 768 MiB used, 4 KiB pages, encrypted.
	raw := make([]byte, 32)
	binary.LittleEndian.PutUint64(raw[0:], 2<<30)
	binary.LittleEndian.PutUint64(raw[8:], 1280<<20)
	binary.LittleEndian.PutUint64(raw[16:], 768<<20)
	binary.LittleEndian.PutUint32(raw[24:], 4096)
	raw[28] = 1
	total, used, err := ParseSwapUsage(raw)
	if err != nil || total != 2<<30 || used != 768<<20 {
		t.Errorf("ParseSwapUsage = %d, %d, %v", total, used, err)
	}
	if _, _, err := ParseSwapUsage(raw[:20]); err == nil {
		t.Error("a short vm.swapusage was accepted")
	}
}

func TestMacOSNames(t *testing.T) {
	for level, want := range map[uint32]string{1: "normal", 2: "warn", 4: "critical", 0: "", 3: ""} {
		if got := MacOSPressure(level); got != want {
			t.Errorf("MacOSPressure(%d) = %q, want %q", level, got, want)
		}
	}
	for v, want := range map[string]string{
		"14.4.1":  "macOS 14.4.1 (Sonoma)",
		"15.1":    "macOS 15.1 (Sequoia)",
		"10.15.7": "macOS 10.15.7",
		"":        "macOS",
	} {
		if got := MacOSPrettyName(v); got != want {
			t.Errorf("MacOSPrettyName(%q) = %q, want %q", v, got, want)
		}
	}
}

func FuzzParseScutil(f *testing.F) {
	f.Add(readMacOS(f, "scutil-dns-wifi-vpn.txt"))
	f.Add(readMacOS(f, "scutil-proxy-corp.txt"))
	f.Add(readMacOS(f, "route-get-default-wifi.txt"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range ParseScutilDNS(data) {
			if _, err := netip.ParseAddr(s); err != nil {
				if _, _, err := net.SplitHostPort(s); err != nil {
					t.Fatalf("server %q is neither an address nor host:port", s)
				}
			}
		}
		for _, p := range ParseScutilProxy(data).Proxies {
			if p.URL == "" || p.Scheme == "" {
				t.Fatalf("proxy without URL or scheme: %+v", p)
			}
		}
		if gw := ParseRouteGetDefault(data); gw != "" {
			if ip, err := netip.ParseAddr(gw); err != nil || !ip.Is4() {
				t.Fatalf("gateway %q is not an IPv4 address", gw)
			}
		}
	})
}
