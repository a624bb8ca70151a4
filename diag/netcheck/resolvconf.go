package netcheck

import (
	"bufio"
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// resolvConf is what a Unix resolver takes from /etc/resolv.conf.
type resolvConf struct {
	// Nameservers are IP addresses, in file order.
	Nameservers []string
	Search      []string
	Ndots       int
	Timeout     time.Duration
	Attempts    int
	Rotate      bool
}

// maxNameservers is how many nameservers glibc and musl use; later lines
// are ignored by them, so asking those would misrepresent the system.
const maxNameservers = 3

// parseResolvConf reads resolv.conf(5) the way glibc does: the last domain
// or search line wins, options accumulate, invalid lines are skipped, and
// only the first three nameservers count.
func parseResolvConf(data []byte) resolvConf {
	rc := resolvConf{Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 || len(rc.Nameservers) >= maxNameservers {
				continue
			}
			if ip, err := netip.ParseAddr(f[1]); err == nil {
				rc.Nameservers = append(rc.Nameservers, ip.String())
			}
		case "domain":
			if len(f) >= 2 {
				rc.Search = []string{strings.TrimSuffix(f[1], ".")}
			}
		case "search":
			rc.Search = nil
			for _, d := range f[1:] {
				if d = strings.TrimSuffix(d, "."); d != "" {
					rc.Search = append(rc.Search, d)
				}
			}
		case "options":
			for _, o := range f[1:] {
				k, v, _ := strings.Cut(o, ":")
				n, err := strconv.Atoi(v)
				switch {
				case k == "rotate":
					rc.Rotate = true
				case err != nil || n < 0:
				case k == "ndots":
					rc.Ndots = min(n, 15)
				case k == "timeout":
					rc.Timeout = time.Duration(max(1, min(n, 30))) * time.Second
				case k == "attempts":
					rc.Attempts = max(1, min(n, 5))
				}
			}
		}
	}
	return rc
}

// candidates lists the names a stub resolver tries for name, in order: a
// name with enough dots (or a trailing one) is tried as written first, a
// short one is tried with each search domain first.
func (rc resolvConf) candidates(name string) []string {
	if strings.HasSuffix(name, ".") || len(rc.Search) == 0 {
		return []string{strings.TrimSuffix(name, ".")}
	}
	var searched []string
	for _, d := range rc.Search {
		searched = append(searched, name+"."+d)
	}
	if strings.Count(name, ".") >= rc.Ndots {
		return append([]string{name}, searched...)
	}
	return append(searched, name)
}
