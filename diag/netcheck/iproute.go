package netcheck

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// parseIPLink reads `ip -o link show`: one interface a line, as
// "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ...". UP is the
// administrative state; LOWER_UP says the link has a carrier.
func parseIPLink(data []byte) []diag.NetInterface {
	var out []diag.NetInterface
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasSuffix(f[0], ":") || !strings.HasPrefix(f[2], "<") {
			continue
		}
		flags := map[string]bool{}
		for _, fl := range strings.Split(strings.Trim(f[2], "<>"), ",") {
			flags[fl] = true
		}
		out = append(out, diag.NetInterface{
			Name:     ipLinkName(strings.TrimSuffix(f[1], ":")),
			Up:       flags["UP"],
			Running:  flags["UP"] && flags["LOWER_UP"],
			Loopback: flags["LOOPBACK"],
		})
	}
	return out
}

// ipLinkName drops the "@if4" or "@eth0" that ip adds to the names of
// veth and VLAN interfaces.
func ipLinkName(s string) string {
	name, _, _ := strings.Cut(s, "@")
	return name
}

// parseIPAddr reads `ip -o addr show` into the addresses of each
// interface: "3: wlan0    inet 192.168.1.5/24 brd ... scope global wlan0".
func parseIPAddr(data []byte) map[string][]netip.Prefix {
	out := map[string][]netip.Prefix{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || (f[2] != "inet" && f[2] != "inet6") {
			continue
		}
		p, err := netip.ParsePrefix(f[3])
		if err != nil {
			continue
		}
		name := ipLinkName(f[1])
		out[name] = append(out[name], p)
	}
	return out
}

// joinIP puts the addresses of `ip -o addr` on the interfaces of
// `ip -o link`.
func joinIP(links []diag.NetInterface, addrs map[string][]netip.Prefix) []diag.NetInterface {
	for i := range links {
		links[i].Addrs = addrs[links[i].Name]
	}
	return links
}
