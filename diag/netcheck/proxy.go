package netcheck

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "proxy",
		Summary: "Reports the proxy settings in effect (environment, Windows and macOS settings) and checks that each proxy accepts connections.",
		New:     func() diag.Checker { return &Proxy{Timeout: diag.Duration(3 * time.Second)} },
		// A proxy found dead explains the trouble of the web checks that
		// go through it; settings that could not be read explain nothing.
		Examines: func(r diag.Result) []diag.Prerequisite {
			if r.Status == diag.Error || r.Status == diag.Skip {
				return nil
			}
			return []diag.Prerequisite{{What: diag.PrereqProxy}}
		},
	})
}

// Proxy reports how the target's programs reach the web: directly, or
// through which proxy, set where. A proxy that is set but does not accept
// connections fails: it is what a laptop carries home from the office.
type Proxy struct {
	Timeout diag.Duration `yaml:"timeout" doc:"how long each proxy has to accept a connection; they are tried at the same time (default 3s)"`
}

// proxyEndpoint is one address to try, and the settings that name it.
type proxyEndpoint struct {
	addr  string
	shown string // the setting as a person reads it, without credentials
}

func (c *Proxy) Run(parent context.Context, t diag.Target) diag.Result {
	pr, ok := t.(diag.ProxyReporter)
	if !ok {
		return diag.Resultf(diag.Skip, "the proxy settings of programs on %s cannot be read from here", t.Name()).
			WithHint("proxy settings live in each user's session; run triage on that machine itself for this check")
	}
	timeout := c.Timeout.D()
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	settings, err := pr.ProxySettings(ctx)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return diag.Resultf(diag.Error, "cannot read the proxy settings of %s: %v", where(t), err).
			WithHint("the system would not say which proxy it uses; the message says why")
	}
	r := proxyObserved(settings)
	if settings.IsZero() {
		r.Status, r.Message = diag.Pass, "no proxy is set: connections go directly to the internet"
		return r
	}

	var endpoints []proxyEndpoint
	var described []string
	seen := map[string]bool{}
	add := func(raw, shown string) {
		addr, err := proxyAddr(raw)
		if err != nil || seen[addr] {
			return
		}
		seen[addr] = true
		endpoints = append(endpoints, proxyEndpoint{addr: addr, shown: shown})
	}
	for _, p := range settings.Proxies {
		shown := fmt.Sprintf("%s for %s (%s)", redactProxy(p.URL), schemeWords(p.Scheme), p.Source)
		described = append(described, shown)
		add(p.URL, shown)
	}
	if settings.AutoConfigURL != "" {
		shown := fmt.Sprintf("the auto-configuration script %s (%s)", redactProxy(settings.AutoConfigURL), settings.AutoConfigSource)
		described = append(described, shown)
		add(settings.AutoConfigURL, shown)
	}

	failures := dialAll(ctx, t, endpoints)
	if parent.Err() != nil {
		return cancelled(parent)
	}
	summary := "proxy settings: " + strings.Join(described, "; ")
	if len(failures) == 0 {
		r.Status = diag.Pass
		r.Message = summary + "; " + reachableWords(len(described))
		return r
	}
	var bad, unreachable []string
	for _, e := range endpoints {
		if why, failed := failures[e.addr]; failed {
			bad = append(bad, fmt.Sprintf("%s: %s", e.addr, why))
			unreachable = append(unreachable, e.addr)
		}
	}
	r = r.With("unreachable", unreachable)
	r.Status = diag.Fail
	r.Message = summary + "; not reachable: " + strings.Join(bad, "; ")
	r.Hint = "a proxy is set that " + where(t) + " cannot reach, so web pages and updates fail: away from the office, connect the VPN or switch the proxy off (Windows: Settings > Network & internet > Proxy; macOS: System Settings > Network > Details > Proxies); in the office, ask the network team whether the proxy is down"
	return r
}

func reachableWords(n int) string {
	if n == 1 {
		return "it accepts connections"
	}
	return "each accepts connections"
}

func schemeWords(scheme string) string {
	switch scheme {
	case "all":
		return "all web traffic"
	case "socks":
		return "SOCKS"
	}
	return strings.ToUpper(scheme)
}

// proxyObserved lists the settings under observed, without credentials.
func proxyObserved(s diag.ProxySettings) diag.Result {
	list := []map[string]any{}
	for _, p := range s.Proxies {
		list = append(list, map[string]any{"scheme": p.Scheme, "url": redactProxy(p.URL), "source": p.Source})
	}
	r := diag.Result{}.With("proxies", list)
	if s.AutoConfigURL != "" {
		r = r.With("auto_config_url", redactProxy(s.AutoConfigURL))
	}
	if len(s.Bypass) > 0 {
		r = r.With("bypass", s.Bypass)
	}
	return r
}

func redactProxy(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Redacted()
}

// proxyAddr is the host:port to connect to for a proxy or PAC URL, with
// the default port of its scheme.
func proxyAddr(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("%q has no host", raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080", "socks": "1080"}[strings.ToLower(u.Scheme)]
	}
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// dialAll tries every endpoint at once and returns why each that failed did.
func dialAll(ctx context.Context, t diag.Target, endpoints []proxyEndpoint) map[string]string {
	var mu sync.Mutex
	failures := map[string]string{}
	var wg sync.WaitGroup
	for _, e := range endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dialTarget(ctx, t, "tcp", e.addr)
			if err == nil {
				conn.Close()
				return
			}
			why := rootCause(err)
			switch classify(err) {
			case problemDNS:
				why = "its name does not resolve"
			case problemRefused:
				why = "nothing accepts connections there"
			case problemTimeout:
				why = "no answer in time"
			}
			mu.Lock()
			failures[e.addr] = why
			mu.Unlock()
		}()
	}
	wg.Wait()
	return failures
}
