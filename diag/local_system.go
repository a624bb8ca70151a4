package diag

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Local answers the optional capabilities of capability.go from this
// machine's own interfaces. What differs by platform is in
// local_system_darwin.go, local_system_windows.go and
// local_system_other.go; on Linux the checks read /proc and /etc instead.

// Interfaces lists this machine's network interfaces.
func (*Local) Interfaces(ctx context.Context) ([]NetInterface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]NetInterface, 0, len(ifs))
	for _, ifc := range ifs {
		ni := NetInterface{
			Name:     ifc.Name,
			Up:       ifc.Flags&net.FlagUp != 0,
			Running:  ifc.Flags&net.FlagRunning != 0,
			Loopback: ifc.Flags&net.FlagLoopback != 0,
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", ifc.Name, err)
		}
		for _, a := range addrs {
			if p, ok := prefixOf(a); ok {
				ni.Addrs = append(ni.Addrs, p)
			}
		}
		out = append(out, ni)
	}
	return out, nil
}

// prefixOf turns an interface address into a prefix, with IPv4 addresses
// in their 4-byte form.
func prefixOf(a net.Addr) (netip.Prefix, bool) {
	ipn, ok := a.(*net.IPNet)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(ipn.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := ipn.Mask.Size()
	if ip.Is4In6() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

// HomeDir returns the home folder of the user triage runs as.
func (*Local) HomeDir(ctx context.Context) (string, error) { return os.UserHomeDir() }

// Nameservers returns the DNS servers the system asks, on the platforms
// that do not keep them in /etc/resolv.conf.
func (l *Local) Nameservers(ctx context.Context) (DNSConfig, error) {
	return platformNameservers(ctx, l)
}

// ProxySettings returns the proxies set in triage's environment
// (HTTPS_PROXY and the like, which command-line programs follow) and in
// the system's settings (which browsers follow), both, so that a report
// shows where they disagree.
func (l *Local) ProxySettings(ctx context.Context) (ProxySettings, error) {
	p := ProxyFromEnv(os.Getenv)
	sys, err := platformProxy(ctx, l)
	if err != nil {
		return p, err
	}
	p.Proxies = append(p.Proxies, sys.Proxies...)
	p.Bypass = append(p.Bypass, sys.Bypass...)
	if p.AutoConfigURL == "" {
		p.AutoConfigURL, p.AutoConfigSource = sys.AutoConfigURL, sys.AutoConfigSource
	}
	return p, nil
}

// MemoryStats returns memory figures on the platforms without /proc/meminfo.
func (l *Local) MemoryStats(ctx context.Context) (MemoryStats, error) {
	return platformMemory(ctx, l)
}

// Uptime returns the time since boot on the platforms without /proc/uptime.
func (l *Local) Uptime(ctx context.Context) (time.Duration, error) {
	return platformUptime(ctx, l)
}

// Processes lists the running programs on Windows, where there is no ps.
func (l *Local) Processes(ctx context.Context) ([]ProcessEntry, error) {
	return platformProcesses(ctx)
}

// ProxyFromEnv reads the proxy environment variables the way Go's
// net/http and curl do: the upper-case name first, then the lower-case
// one; a proxy without a scheme is an HTTP proxy. auto_proxy names an
// auto-configuration (PAC) script.
func ProxyFromEnv(getenv func(string) string) ProxySettings {
	var p ProxySettings
	first := func(names ...string) (string, string) {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return n, v
			}
		}
		return "", ""
	}
	for _, s := range []struct {
		scheme string
		names  []string
	}{
		{"https", []string{"HTTPS_PROXY", "https_proxy"}},
		{"http", []string{"HTTP_PROXY", "http_proxy"}},
		{"all", []string{"ALL_PROXY", "all_proxy"}},
	} {
		name, v := first(s.names...)
		if v == "" {
			continue
		}
		if !strings.Contains(v, "://") {
			v = "http://" + v
		}
		p.Proxies = append(p.Proxies, Proxy{Scheme: s.scheme, URL: v, Source: name})
	}
	// Chromium on Linux, outside GNOME and KDE, takes an auto-configuration
	// script from auto_proxy (only the lower-case name).
	if v := strings.TrimSpace(getenv("auto_proxy")); v != "" {
		p.AutoConfigURL, p.AutoConfigSource = v, "auto_proxy"
	}
	if _, v := first("NO_PROXY", "no_proxy"); v != "" && len(p.Proxies) > 0 {
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				p.Bypass = append(p.Bypass, b)
			}
		}
	}
	return p
}

// commandOutput runs a program of this machine and returns its standard
// output, or an error that says why there is none.
func commandOutput(ctx context.Context, l *Local, argv ...string) ([]byte, error) {
	res, err := l.Run(ctx, Command{Argv: argv, MaxOutput: 1 << 20})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if msg == "" {
			msg = strings.TrimSpace(string(res.Stdout))
		}
		return res.Stdout, fmt.Errorf("%s exited %d: %s", strings.Join(argv, " "), res.ExitCode, msg)
	}
	return res.Stdout, nil
}
