package diag

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The functions below turn what Windows APIs and the registry return into
// triage's terms. They take plain values, not API structures, so that they
// are tested on any platform.

// netAdapter is one network adapter as GetAdaptersAddresses describes it.
type netAdapter struct {
	Name     string
	Up       bool // OperStatus is IfOperStatusUp
	Loopback bool
	// Metric is the adapter's IPv4 interface metric: Windows prefers the
	// adapter with the lowest, for routes and DNS alike.
	Metric   uint32
	Gateways []netip.Addr
	DNS      []netip.Addr
}

// byMetric returns the adapters that are up and not loopback, lowest
// metric first.
func byMetric(adapters []netAdapter) []netAdapter {
	var up []netAdapter
	for _, a := range adapters {
		if a.Up && !a.Loopback {
			up = append(up, a)
		}
	}
	slices.SortStableFunc(up, func(a, b netAdapter) int { return int(a.Metric) - int(b.Metric) })
	return up
}

// adapterGateway returns the IPv4 default gateway Windows uses: the first
// gateway of the connected adapter with the lowest metric, or "".
func adapterGateway(adapters []netAdapter) string {
	for _, a := range byMetric(adapters) {
		for _, g := range a.Gateways {
			if g.Is4() && !g.IsUnspecified() {
				return g.String()
			}
		}
	}
	return ""
}

// siteLocalPlaceholders are the DNS servers Windows lists on every adapter
// that has IPv6 but no IPv6 DNS server: deprecated site-local anycast
// addresses that nothing answers on.
var siteLocalPlaceholders = []netip.Addr{
	netip.MustParseAddr("fec0:0:0:ffff::1"),
	netip.MustParseAddr("fec0:0:0:ffff::2"),
	netip.MustParseAddr("fec0:0:0:ffff::3"),
}

// adapterNameservers returns the DNS servers of the connected adapters in
// the order Windows asks them: by adapter metric, then as listed.
func adapterNameservers(adapters []netAdapter) []string {
	var out []string
	for _, a := range byMetric(adapters) {
		for _, d := range a.DNS {
			d = d.Unmap()
			if slices.Contains(siteLocalPlaceholders, d.WithZone("")) {
				continue
			}
			if s := d.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// ProxyFromWinINet reads the proxy settings of Windows (Settings >
// Network > Proxy), kept for each user under HKCU\Software\Microsoft\
// Windows\CurrentVersion\Internet Settings: ProxyEnable (a DWORD),
// ProxyServer ("host:port" for every scheme, or
// "http=host:port;https=host:port;socks=host:port"), ProxyOverride (the
// bypass list, ";"-separated, "<local>" for names without a dot) and
// AutoConfigURL (a PAC script, used whether or not ProxyEnable is set).
func ProxyFromWinINet(enable uint64, server, override, autoConfigURL string) ProxySettings {
	const source = "Windows proxy settings"
	var p ProxySettings
	if enable != 0 && strings.TrimSpace(server) != "" {
		for _, part := range strings.Split(server, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			scheme, addr, perScheme := strings.Cut(part, "=")
			if !perScheme {
				scheme, addr = "all", part
			}
			scheme = strings.ToLower(strings.TrimSpace(scheme))
			addr = strings.TrimSpace(addr)
			if addr == "" || scheme == "ftp" {
				continue
			}
			p.Proxies = append(p.Proxies, Proxy{Scheme: scheme, URL: proxyURLFor(scheme, addr), Source: source})
		}
		for _, b := range strings.Split(override, ";") {
			if b = strings.TrimSpace(b); b != "" {
				p.Bypass = append(p.Bypass, b)
			}
		}
	}
	if u := strings.TrimSpace(autoConfigURL); u != "" {
		p.AutoConfigURL, p.AutoConfigSource = u, source
	}
	return p
}

// proxyURLFor writes a proxy address as a URL; WinINet's socks= entries
// are SOCKS proxies, the others HTTP proxies. An address that is a URL
// already is kept.
func proxyURLFor(scheme, addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	if scheme == "socks" {
		return "socks5://" + addr
	}
	return "http://" + addr
}

// WindowsPrettyName names a Windows release as a person knows it, from
// the registry's ProductName and DisplayVersion and the build number.
// Windows 11 still writes "Windows 10" in ProductName; builds from 22000
// on are Windows 11.
func WindowsPrettyName(product, displayVersion string, build uint32) string {
	name := strings.TrimSpace(product)
	if name == "" {
		name = "Windows"
	}
	if build >= 22000 && strings.HasPrefix(name, "Windows 10") {
		name = "Windows 11" + strings.TrimPrefix(name, "Windows 10")
	}
	if v := strings.TrimSpace(displayVersion); v != "" {
		name += " " + v
	}
	if build > 0 {
		name += " (build " + strconv.FormatUint(uint64(build), 10) + ")"
	}
	return name
}

// minPageFile is the least excess of the commit limit over physical
// memory that is taken for a page file. Windows sizes page files in whole
// megabytes (16 MB at the least in its settings); a few pages more than
// memory is the commit limit's own rounding, as Wine reports it for a
// machine without swap, and would show as a full swap of 8KiB.
const minPageFile = 1 << 20

// swapFromCommit stands for swap with GlobalMemoryStatusEx's commit
// figures, as Task Manager's "Committed" does: the commit limit
// (ullTotalPageFile) is memory plus the page files, so what lies beyond
// physical memory is the page files' size, and the commit charge beyond
// what sits in memory is what they hold.
func swapFromCommit(totalPhys, availPhys, totalPageFile, availPageFile uint64) (total, used uint64) {
	if totalPageFile < totalPhys+minPageFile {
		return 0, 0
	}
	total = totalPageFile - totalPhys
	committed := totalPageFile - min(availPageFile, totalPageFile)
	inRAM := totalPhys - min(availPhys, totalPhys)
	if committed > inRAM {
		used = min(committed-inRAM, total)
	}
	return total, used
}
