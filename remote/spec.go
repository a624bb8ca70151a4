package remote

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Spec is a host as written on the command line: [user@]host[:port].
type Spec struct {
	User string
	Host string
	Port int // 0 when not given
}

// ParseSpec reads [user@]host[:port]; an IPv6 address with a port is
// written in brackets: [::1]:2222.
func ParseSpec(s string) (Spec, error) {
	var sp Spec
	orig := s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		sp.User, s = s[:i], s[i+1:]
		if sp.User == "" {
			return Spec{}, fmt.Errorf("host %q: empty user name before @", orig)
		}
	}
	switch {
	case strings.HasPrefix(s, "["):
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			if strings.HasSuffix(s, "]") {
				host = strings.Trim(s, "[]")
				port = ""
			} else {
				return Spec{}, fmt.Errorf("host %q: %v", orig, err)
			}
		}
		sp.Host = host
		if port != "" {
			p, err := parsePort(port)
			if err != nil {
				return Spec{}, fmt.Errorf("host %q: %v", orig, err)
			}
			sp.Port = p
		}
	case strings.Count(s, ":") == 1:
		host, port, _ := strings.Cut(s, ":")
		p, err := parsePort(port)
		if err != nil {
			return Spec{}, fmt.Errorf("host %q: %v", orig, err)
		}
		sp.Host, sp.Port = host, p
	default:
		sp.Host = s // a name, or a bare IPv6 address
	}
	if sp.Host == "" {
		return Spec{}, fmt.Errorf("host %q: no host name", orig)
	}
	if strings.ContainsAny(sp.Host, " \t\r\n/\\'\"`$;&|<>") {
		return Spec{}, fmt.Errorf("host %q: %q is not a host name or address", orig, sp.Host)
	}
	return sp, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return p, nil
}

// SplitHosts splits repeated and comma-separated -H values into specs.
func SplitHosts(values []string) []string {
	var out []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				out = append(out, h)
			}
		}
	}
	return out
}
