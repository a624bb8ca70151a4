package diag

import (
	"context"
	"net/netip"
	"time"
)

// The optional capabilities below let a target answer from its operating
// system's own interfaces where Linux has a file in /proc or /etc: network
// interfaces, DNS servers, proxy settings, memory, uptime and the home
// folder. Checks ask for them with a type assertion. A method that cannot
// answer on its platform returns an error wrapping ErrUnsupported, and the
// check then reads the Linux files through the Target, as it does for a
// remote machine.

// InterfaceLister is an optional Target capability: the network interfaces
// and their addresses.
type InterfaceLister interface {
	Interfaces(ctx context.Context) ([]NetInterface, error)
}

// NetInterface is one network interface of a target.
type NetInterface struct {
	Name string
	// Up says the interface is switched on; Running that it also has a
	// link (a cable plugged in, a Wi-Fi network joined), where the
	// platform tells the two apart, and is equal to Up where it does not.
	Up, Running bool
	Loopback    bool
	Addrs       []netip.Prefix
}

// NameserverLister is an optional Target capability: the DNS servers the
// system is configured to ask, for platforms that keep them elsewhere than
// /etc/resolv.conf (Windows, macOS).
type NameserverLister interface {
	Nameservers(ctx context.Context) (DNSConfig, error)
}

// DNSConfig is where a system sends its DNS queries.
type DNSConfig struct {
	// Servers are IP addresses, with a :port only when it is not 53, in
	// the order the system asks them.
	Servers []string
	// Source says where they were read, for a report: "scutil --dns",
	// "the network adapters' settings".
	Source string
	// Evidence is the raw listing they came from, when there is one.
	Evidence string
}

// ProxyReporter is an optional Target capability: the proxy settings in
// effect for programs on the target.
type ProxyReporter interface {
	ProxySettings(ctx context.Context) (ProxySettings, error)
}

// ProxySettings are the proxies a target's programs use.
type ProxySettings struct {
	// Proxies are the proxies set, one per scheme they serve.
	Proxies []Proxy
	// AutoConfigURL is a proxy auto-config (PAC) script, when one is set.
	AutoConfigURL    string
	AutoConfigSource string
	// Bypass lists the hosts reached directly, as the settings write
	// them (NO_PROXY entries, Windows' ProxyOverride, macOS' exceptions).
	Bypass []string
}

// Proxy is one proxy setting.
type Proxy struct {
	// Scheme is the kind of request it serves: http, https, socks or all.
	Scheme string
	// URL is the proxy, such as http://proxy.example.com:8080; it may
	// carry credentials, so show it with url.URL.Redacted only.
	URL string
	// Source says where it is set: HTTPS_PROXY, "Windows Internet
	// settings", "macOS network settings".
	Source string
}

// IsZero reports whether no proxy of any kind is set.
func (p ProxySettings) IsZero() bool {
	return len(p.Proxies) == 0 && p.AutoConfigURL == ""
}

// MemoryReader is an optional Target capability: memory figures from the
// operating system where there is no /proc/meminfo (macOS, Windows).
type MemoryReader interface {
	MemoryStats(ctx context.Context) (MemoryStats, error)
}

// MemoryStats are a system's memory figures, in bytes.
type MemoryStats struct {
	Total, Available    uint64
	SwapTotal, SwapUsed uint64
	// Pressure is the system's own judgement of its memory, where it has
	// one: "normal", "warn" or "critical" (macOS); "" elsewhere.
	Pressure string
	// Source says where the figures come from, for the evidence.
	Source string
}

// UptimeReader is an optional Target capability: the time since boot,
// where there is no /proc/uptime (macOS, Windows).
type UptimeReader interface {
	Uptime(ctx context.Context) (time.Duration, error)
}

// ProcessLister is an optional Target capability: the programs running on
// the target, where ps is not there to list them (Windows, locally).
// Command lines are not part of it: Windows keeps each in its process's
// own memory.
type ProcessLister interface {
	Processes(ctx context.Context) ([]ProcessEntry, error)
}

// ProcessEntry is one running program.
type ProcessEntry struct {
	PID  int
	Name string // the executable's file name, such as sshd.exe
}

// HomeDirer is an optional Target capability: the home folder of the user
// triage runs as on the target.
type HomeDirer interface {
	HomeDir(ctx context.Context) (string, error)
}
