package netcheck

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// systemProxy returns the proxy function for the proxies of the system's
// settings, when those are what a browser on this machine would use and
// the environment sets none: command-line programs follow the
// environment, browsers the settings, and a check that ignored the
// settings would fail on a corporate network where the browser works.
// It returns nil to leave the choice to the environment.
//
// Only proxies named directly are followed. A proxy auto-configuration
// script is JavaScript that triage does not run; with one alone, requests
// go directly and the evidence says so.
func systemProxy(ctx context.Context, s diag.ProxySettings) func(*http.Request) (*url.URL, error) {
	for _, p := range s.Proxies {
		if isEnvSource(p.Source) {
			return nil
		}
	}
	f := settingsProxy(s)
	if f == nil && s.AutoConfigURL != "" {
		diag.Note(ctx, "the system's proxy settings use an auto-configuration script ("+redactProxy(s.AutoConfigURL)+"), which triage does not run: the request went directly")
	}
	return f
}

// settingsProxy is the proxy function for settings that name proxies: per
// request scheme the first proxy of that scheme, else the first for all
// schemes (or socks), except for hosts the bypass list names. It returns
// nil when the settings name no proxy.
func settingsProxy(s diag.ProxySettings) func(*http.Request) (*url.URL, error) {
	var httpProxy, httpsProxy, anyProxy string
	for _, p := range s.Proxies {
		switch p.Scheme {
		case "http":
			if httpProxy == "" {
				httpProxy = p.URL
			}
		case "https":
			if httpsProxy == "" {
				httpsProxy = p.URL
			}
		case "all", "socks":
			if anyProxy == "" {
				anyProxy = p.URL
			}
		}
	}
	if httpProxy == "" {
		httpProxy = anyProxy
	}
	if httpsProxy == "" {
		httpsProxy = anyProxy
	}
	if httpProxy == "" && httpsProxy == "" {
		return nil
	}
	bypass := s.Bypass
	return func(req *http.Request) (*url.URL, error) {
		if bypassed(req.URL.Hostname(), bypass) {
			return nil, nil
		}
		p := httpProxy
		if strings.EqualFold(req.URL.Scheme, "https") {
			p = httpsProxy
		}
		if p == "" {
			return nil, nil
		}
		return url.Parse(p)
	}
}

// isEnvSource tells a proxy set in the environment (HTTPS_PROXY and the
// like) from one in the system's settings.
func isEnvSource(source string) bool {
	return strings.HasSuffix(strings.ToUpper(source), "_PROXY")
}

// bypassed reports whether host goes directly, by the bypass lists of
// Windows (ProxyOverride) and macOS (exceptions): "<local>" for names
// without a dot, patterns with * ("*.corp.example.com", "10.*"), names
// (which cover their subdomains), addresses and CIDR ranges. Loopback
// never goes through a proxy, as in Go's own proxy handling.
func bypassed(host string, bypass []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip, ipErr := netip.ParseAddr(host)
	if host == "localhost" || (ipErr == nil && ip.IsLoopback()) {
		return true
	}
	for _, b := range bypass {
		b = strings.ToLower(strings.TrimSpace(b))
		if h, _, err := net.SplitHostPort(b); err == nil {
			b = h
		}
		switch {
		case b == "":
		case b == "<local>":
			if !strings.Contains(host, ".") && ipErr != nil {
				return true
			}
		case strings.Contains(b, "*"):
			if ok, _ := path.Match(b, host); ok {
				return true
			}
		case strings.Contains(b, "/"):
			if p, err := netip.ParsePrefix(b); err == nil && ipErr == nil && p.Contains(ip.Unmap()) {
				return true
			}
		case host == strings.TrimPrefix(b, ".") || strings.HasSuffix(host, "."+strings.TrimPrefix(b, ".")):
			return true
		}
	}
	return false
}

// targetProxy is the proxy function for a remote target: the proxies its
// programs would take, as the target reports them (its session
// environment and /etc/environment over SSH), whatever their source,
// since triage's own environment says nothing about that machine. It
// returns nil (go directly) for a target that cannot tell.
func targetProxy(ctx context.Context, t diag.Target) func(*http.Request) (*url.URL, error) {
	pr, ok := t.(diag.ProxyReporter)
	if !ok {
		return nil
	}
	s, err := pr.ProxySettings(ctx)
	if err != nil || s.IsZero() {
		return nil
	}
	if f := settingsProxy(s); f != nil {
		return f
	}
	return systemProxy(ctx, s)
}
