package diag

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
)

// The parsers below read the files that describe a Linux system. They take
// bytes rather than paths so that a local and a remote target share them.

// ParseOSRelease reads /etc/os-release (KEY=value lines, values optionally
// quoted) into a map.
func ParseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			quote := v[0]
			v = v[1 : len(v)-1]
			// Only double quotes know backslash escapes.
			if v != "" && quote == '"' {
				v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
			}
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// ApplyOSRelease copies the os-release fields that triage reports into f.
func ApplyOSRelease(f *Facts, osRelease map[string]string) {
	f.Distro = osRelease["ID"]
	f.DistroVersion = osRelease["VERSION_ID"]
	f.PrettyName = osRelease["PRETTY_NAME"]
}

// ParseProcNetRoute returns the IPv4 default gateway from the contents of
// /proc/net/route, or "" when there is none. The kernel writes addresses
// there as little-endian hex.
func ParseProcNetRoute(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	best, bestMetric := "", -1
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// Iface Destination Gateway Flags RefCnt Use Metric Mask ...
		if len(fields) < 8 || fields[1] != "00000000" || fields[7] != "00000000" {
			continue
		}
		flags, err := strconv.ParseUint(fields[3], 16, 32)
		const rtfUp, rtfGateway = 0x1, 0x2
		if err != nil || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway {
			continue
		}
		raw, err := hex.DecodeString(fields[2])
		if err != nil || len(raw) != 4 {
			continue
		}
		metric, err := strconv.Atoi(fields[6])
		if err != nil {
			continue
		}
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, binary.LittleEndian.Uint32(raw))
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = ip.String(), metric
		}
	}
	return best
}
