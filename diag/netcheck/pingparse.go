package netcheck

import (
	"errors"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

// pingReport is what a ping command's output says.
type pingReport struct {
	Flavour string // iputils, busybox, bsd (macOS and the BSDs) or windows
	Addr    string // the address pinged, when the output names it
	// UnreachableBy is the router that reported the host unreachable,
	// when one did.
	UnreachableBy  string
	Sent, Received int
	HasRTT         bool
	Min, Avg, Max  time.Duration
}

var (
	errPingUnknownHost   = errors.New("ping could not resolve the host")
	errPingNoPermission  = errors.New("ping was not allowed to open an ICMP socket")
	errPingUnrecognised  = errors.New("ping's output has no statistics triage recognises")
	errPingNoDestination = errors.New("ping found no route to the host")
)

var (
	unknownHostRE = diag.LazyRegexp(`(?i)(name or service not known|temporary failure in name resolution|unknown host|bad address|cannot resolve|could not find host|no address associated|nodename nor servname)`)
	noPermRE      = diag.LazyRegexp(`(?i)(operation not permitted|permission denied|are you root|must be root|access denied)`)
	noRouteRE     = diag.LazyRegexp(`(?i)^ping: (?:sendto|connect|sendmsg): (?:network is unreachable|no route to host)`)

	unixCountsRE = diag.LazyRegexp(`(\d+) packets transmitted, (\d+) (?:packets )?received`)
	unixRTTRE    = diag.LazyRegexp(`(?:rtt|round-trip) min/avg/max(?:/(?:mdev|stddev|std-dev))? = ([\d.]+)/([\d.]+)/([\d.]+)(?:/[\d.]+)? ?(ms|us|µs)`)
	unixLossRE   = diag.LazyRegexp(`([\d.]+)% packet loss`)
	unixAddrRE   = diag.LazyRegexp(`(?m)^PING [^ ]+ \(([^)]+)\)`)

	// Windows prints its statistics in the user's language, so they are
	// recognised by shape: three "label = number" pairs and a percentage,
	// then three "label = Nms" pairs (minimum, maximum, average).
	winCountsRE = diag.LazyRegexp(`(?m)^\s*[^=\n]+=\s*(\d+),\s*[^=\n]+=\s*(\d+),\s*[^=\n]+=\s*(\d+)\s*\((\d+)%`)
	winRTTRE    = diag.LazyRegexp(`(?m)^\s*[^=\n]+=\s*(\d+)ms,\s*[^=\n]+=\s*(\d+)ms,\s*[^=\n]+=\s*(\d+)ms`)
	winReplyRE  = diag.LazyRegexp(`(?m)[=<]\s*\d+ms\s+TTL=\d+`)

	// "From 192.0.2.1 icmp_seq=1 Destination Host Unreachable" (iputils),
	// "92 bytes from 192.0.2.1: Destination Host Unreachable" (BSD),
	// "Reply from 192.0.2.1: Destination host unreachable." (Windows).
	unreachableRE = diag.LazyRegexp(`(?i)from ([0-9a-f.:]*[0-9a-f])[: ].*(?:host|net|network) unreachable`)
)

// parsePingOutput reads the output (stdout and stderr together) of the
// ping commands of Linux (iputils), BusyBox, macOS and the BSDs, and
// Windows in any language.
func parsePingOutput(out string) (pingReport, error) {
	if m := unixCountsRE().FindStringSubmatch(out); m != nil {
		return parseUnix(out, m)
	}
	if m := winCountsRE().FindStringSubmatch(out); m != nil {
		return parseWindows(out, m)
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case unknownHostRE().MatchString(line):
			return pingReport{}, errPingUnknownHost
		case noPermRE().MatchString(line):
			return pingReport{}, errPingNoPermission
		case noRouteRE().MatchString(line):
			return pingReport{}, errPingNoDestination
		}
	}
	return pingReport{}, errPingUnrecognised
}

func parseUnix(out string, counts []string) (pingReport, error) {
	rep := pingReport{}
	rep.Sent, _ = strconv.Atoi(counts[1])
	rep.Received, _ = strconv.Atoi(counts[2])
	loss := ""
	if m := unixLossRE().FindStringSubmatch(out); m != nil {
		loss = m[1]
	}
	switch {
	case strings.Contains(counts[0], "packets received") && strings.Contains(loss, "."):
		rep.Flavour = "bsd"
	case strings.Contains(counts[0], "packets received"):
		rep.Flavour = "busybox"
	default:
		rep.Flavour = "iputils"
	}
	if m := unixAddrRE().FindStringSubmatch(out); m != nil {
		rep.Addr = m[1]
	}
	rep.UnreachableBy = unreachableBy(out)
	if m := unixRTTRE().FindStringSubmatch(out); m != nil && rep.Received > 0 {
		unit := time.Millisecond
		if m[4] != "ms" {
			unit = time.Microsecond
		}
		rep.Min, rep.Avg, rep.Max = fracDuration(m[1], unit), fracDuration(m[2], unit), fracDuration(m[3], unit)
		rep.HasRTT = true
	}
	return rep, nil
}

func parseWindows(out string, counts []string) (pingReport, error) {
	rep := pingReport{Flavour: "windows"}
	rep.Sent, _ = strconv.Atoi(counts[1])
	// Windows counts "Destination host unreachable" answers from a router
	// as received; only echo replies carry a time and a TTL.
	rep.Received = len(winReplyRE().FindAllString(out, -1))
	if rep.Received > rep.Sent {
		rep.Received = rep.Sent
	}
	rep.Addr = windowsAddr(out)
	rep.UnreachableBy = unreachableBy(out)
	if m := winRTTRE().FindStringSubmatch(out); m != nil && rep.Received > 0 {
		rep.Min = fracDuration(m[1], time.Millisecond)
		rep.Max = fracDuration(m[2], time.Millisecond)
		rep.Avg = fracDuration(m[3], time.Millisecond)
		rep.HasRTT = true
	}
	return rep, nil
}

func fracDuration(s string, unit time.Duration) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return time.Duration(math.Round(f * float64(unit)))
}

func unreachableBy(out string) string {
	if m := unreachableRE().FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}

// windowsAddr finds the address in ping.exe's first line, "Pinging
// example.com [192.0.2.80] with 32 bytes of data:" in whatever language.
func windowsAddr(out string) string {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if i, j := strings.Index(line, "["), strings.Index(line, "]"); i >= 0 && j > i {
			if ip, err := netip.ParseAddr(line[i+1 : j]); err == nil {
				return ip.String()
			}
		}
		for _, f := range strings.Fields(line) {
			if ip, err := netip.ParseAddr(f); err == nil {
				return ip.String()
			}
		}
		return ""
	}
	return ""
}
