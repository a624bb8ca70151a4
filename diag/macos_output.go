package diag

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The parsers below read what macOS tools print. They are plain functions
// over bytes, so that they are tested on any platform with recorded output.

// ParseRouteGetDefault returns the IPv4 default gateway from the output of
// `route -n get default`, or "" when the default route has no gateway
// address (no network, or a VPN that routes through an interface).
func ParseRouteGetDefault(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(k) != "gateway" {
			continue
		}
		ip, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil || !ip.Is4() || ip.IsUnspecified() {
			return ""
		}
		return ip.String()
	}
	return ""
}

// ParseScutilDNS returns the DNS servers macOS asks for names in general,
// from the output of `scutil --dns`: the nameservers of the resolvers of
// the first section that serve no particular domain. Resolvers for one
// domain (a VPN's split DNS, mDNS for .local) and the scoped section that
// follows are left out. A port other than 53 is kept as host:port.
func ParseScutilDNS(data []byte) []string {
	var servers []string
	seen := map[string]bool{}
	type resolver struct {
		servers []string
		domain  bool
		port    string
	}
	var cur *resolver
	flush := func() {
		if cur == nil || cur.domain {
			cur = nil
			return
		}
		for _, s := range cur.servers {
			if cur.port != "" && cur.port != "53" {
				s = net.JoinHostPort(s, cur.port)
			}
			if !seen[s] {
				seen[s] = true
				servers = append(servers, s)
			}
		}
		cur = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "DNS configuration ("):
			// The scoped section repeats resolvers per interface.
			flush()
			return servers
		case strings.HasPrefix(line, "resolver #"):
			flush()
			cur = &resolver{}
			continue
		}
		if cur == nil {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.HasPrefix(k, "nameserver["):
			if _, err := netip.ParseAddr(v); err == nil {
				cur.servers = append(cur.servers, v)
			}
		case k == "domain":
			cur.domain = true
		case k == "port":
			cur.port = v
		}
	}
	flush()
	return servers
}

// ParseScutilProxy reads the output of `scutil --proxy`: the proxy
// settings of macOS's current network service.
func ParseScutilProxy(data []byte) ProxySettings {
	const source = "macOS network settings"
	vals := map[string]string{}
	var exceptions []string
	inList := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if inList != "" {
			if line == "}" {
				inList = ""
				continue
			}
			if _, v, ok := strings.Cut(line, " : "); ok && inList == "ExceptionsList" {
				exceptions = append(exceptions, strings.TrimSpace(v))
			}
			continue
		}
		k, v, ok := strings.Cut(line, " : ")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if strings.HasPrefix(v, "<array>") {
			inList = k
			continue
		}
		vals[k] = v
	}
	var p ProxySettings
	for _, s := range []struct{ key, scheme, url string }{
		{"HTTP", "http", "http"}, {"HTTPS", "https", "http"}, {"SOCKS", "socks", "socks5"},
	} {
		host := vals[s.key+"Proxy"]
		if vals[s.key+"Enable"] != "1" || host == "" {
			continue
		}
		u := s.url + "://" + host
		if port := vals[s.key+"Port"]; port != "" {
			u = s.url + "://" + net.JoinHostPort(host, port)
		}
		p.Proxies = append(p.Proxies, Proxy{Scheme: s.scheme, URL: u, Source: source})
	}
	if vals["ProxyAutoConfigEnable"] == "1" && vals["ProxyAutoConfigURLString"] != "" {
		p.AutoConfigURL, p.AutoConfigSource = vals["ProxyAutoConfigURLString"], source
	}
	if len(p.Proxies) > 0 {
		p.Bypass = exceptions
		if vals["ExcludeSimpleHostnames"] == "1" {
			p.Bypass = append(p.Bypass, "<local>")
		}
	}
	return p
}

// VMStat is the output of macOS's vm_stat: page counts by name ("Pages
// free", "Anonymous pages"...) and the page size.
type VMStat struct {
	PageSize uint64
	Pages    map[string]uint64
}

// ParseVMStat reads vm_stat's output:
//
//	Mach Virtual Memory Statistics: (page size of 16384 bytes)
//	Pages free:                               12345.
func ParseVMStat(data []byte) (VMStat, error) {
	vm := VMStat{Pages: map[string]uint64{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if _, rest, ok := strings.Cut(line, "(page size of "); ok {
			n, _, _ := strings.Cut(rest, " ")
			size, err := strconv.ParseUint(n, 10, 64)
			if err != nil || size == 0 || size&(size-1) != 0 {
				return VMStat{}, fmt.Errorf("page size %q is not a power of two", n)
			}
			vm.PageSize = size
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), "."), 10, 64)
		if err != nil {
			continue
		}
		vm.Pages[strings.TrimSpace(k)] = n
	}
	if vm.PageSize == 0 {
		return VMStat{}, errors.New("no page size line")
	}
	if _, ok := vm.Pages["Pages free"]; !ok {
		return VMStat{}, errors.New(`no "Pages free" line`)
	}
	return vm, nil
}

// Available estimates the memory that programs can still get without
// making the system swap or compress, the way Activity Monitor does: all
// of it minus app memory (anonymous pages that cannot be purged), wired
// memory and what the compressor holds. Releases of macOS without the
// anonymous page count (before 10.9) fall back to free + inactive +
// speculative pages.
func (vm VMStat) Available(total uint64) uint64 {
	p := func(name string) uint64 { return vm.Pages[name] * vm.PageSize }
	if _, ok := vm.Pages["Anonymous pages"]; ok {
		app := p("Anonymous pages") - min(p("Pages purgeable"), p("Anonymous pages"))
		used := app + p("Pages wired down") + p("Pages occupied by compressor")
		if used >= total {
			return 0
		}
		return total - used
	}
	return min(total, p("Pages free")+p("Pages inactive")+p("Pages speculative"))
}

// ParseSwapUsage reads the vm.swapusage sysctl, a struct xsw_usage:
// total, available and used bytes as 64-bit little-endian integers (both
// architectures macOS runs on are little-endian), then the page size.
func ParseSwapUsage(raw []byte) (total, used uint64, err error) {
	if len(raw) < 24 {
		return 0, 0, fmt.Errorf("vm.swapusage is %d bytes, want at least 24", len(raw))
	}
	total = binary.LittleEndian.Uint64(raw[0:8])
	used = binary.LittleEndian.Uint64(raw[16:24])
	return total, min(used, total), nil
}

// MacOSPressure names a kern.memorystatus_vm_pressure_level, the level
// Activity Monitor's memory pressure graph shows: 1 normal (green), 2 warn
// (yellow), 4 critical (red).
func MacOSPressure(level uint32) string {
	switch level {
	case 1:
		return "normal"
	case 2:
		return "warn"
	case 4:
		return "critical"
	}
	return ""
}

// macOSNames are the marketing names of macOS releases by major version,
// which is what a person knows their Mac by.
var macOSNames = map[string]string{
	"11": "Big Sur", "12": "Monterey", "13": "Ventura", "14": "Sonoma", "15": "Sequoia", "26": "Tahoe",
}

// MacOSPrettyName names a macOS release from its product version, such as
// "macOS 14.4.1 (Sonoma)".
func MacOSPrettyName(version string) string {
	if version == "" {
		return "macOS"
	}
	major, _, _ := strings.Cut(version, ".")
	if name, ok := macOSNames[major]; ok {
		return "macOS " + version + " (" + name + ")"
	}
	return "macOS " + version
}
