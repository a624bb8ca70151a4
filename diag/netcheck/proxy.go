package netcheck

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
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
	URL     string        `yaml:"url" doc:"a web address to ask each proxy for (CONNECT for https, GET for http), so that a proxy that accepts connections but demands a password (407) or refuses to relay fails; the proxy auto-configuration script is fetched too. Empty: only connect"`
}

func (c *Proxy) Validate() error {
	if c.URL == "" {
		return nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return diag.FieldErrorf("url", "%q is not an http or https URL", c.URL)
	}
	return nil
}

// proxyEndpoint is one address to try, and the settings that name it.
type proxyEndpoint struct {
	addr  string
	shown string // the setting as a person reads it, without credentials
	raw   string // the setting's URL
	pac   bool   // a proxy auto-configuration script, fetched rather than asked to relay
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
		endpoints = append(endpoints, proxyEndpoint{addr: addr, shown: shown, raw: raw})
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
		if n := len(endpoints); n > 0 && endpoints[n-1].raw == settings.AutoConfigURL {
			endpoints[n-1].pac = true
		}
	}

	// The URL is tried directly too, at the same time: a proxy that
	// fails while direct works is at fault (or not needed here), one that
	// works while direct does not is what a company network wants.
	var direct chan directOutcome
	if c.URL != "" {
		direct = make(chan directOutcome, 1)
		go func() { direct <- tryDirect(ctx, t, c.URL) }()
	}
	failures := dialAll(ctx, t, endpoints)
	if parent.Err() != nil {
		return cancelled(parent)
	}
	if refusals := c.askAll(ctx, t, endpoints, failures); len(refusals) > 0 {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		r = proxyRefusals(r, t, "proxy settings: "+strings.Join(described, "; "), refusals)
		d := awaitDirect(direct)
		switch {
		case d.ok && onlyPACFails(endpoints, refusals, failures):
			r = pacFallsBack(r, t, d)
		case d.ok && !refusalsAuthOrPAC(refusals):
			r = directWorks(r, t, d)
		}
		return r
	}
	summary := "proxy settings: " + strings.Join(described, "; ")
	if len(failures) == 0 {
		r.Status = diag.Pass
		r.Message = summary + "; " + reachableWords(len(described))
		if d := awaitDirect(direct); d.addr != "" && !d.ok {
			r = r.With("direct", "blocked")
			r.Message += fmt.Sprintf("; direct connections are blocked; the proxy is needed (directly, %s: %s)", d.addr, d.why)
		}
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
	if d := awaitDirect(direct); d.ok {
		if onlyPACFails(endpoints, nil, failures) {
			return pacFallsBack(r, t, d)
		}
		r = directWorks(r, t, d)
	}
	return r
}

// onlyPACFails reports whether the auto-configuration script is all that
// failed: no proxy set by address refused or could not be reached.
func onlyPACFails(endpoints []proxyEndpoint, refusals []proxyRefusal, failures map[string]string) bool {
	for _, f := range refusals {
		if !f.e.pac {
			return false
		}
	}
	for _, e := range endpoints {
		if _, failed := failures[e.addr]; failed && !e.pac {
			return false
		}
	}
	return true
}

// pacFallsBack softens an auto-configuration script that cannot be
// fetched into a warning when direct connections work: browsers then go
// directly, as Chromium and Firefox do, and the web works, though not the
// way the settings say (and not where the network blocks direct
// connections, as an office's may).
func pacFallsBack(r diag.Result, t diag.Target, d directOutcome) diag.Result {
	r = r.With("direct", "works")
	r.Status = diag.Warn
	r.Message = fmt.Sprintf("the proxy auto-configuration script cannot be fetched, so browsers go directly, and a direct connection to %s works here; %s", d.addr, r.Message)
	r.Hint = "the proxy setting names a script that is gone or unreachable: nothing is broken on this network, but where direct connections are blocked (in the office) the web will fail. Correct or remove the script's address (Windows: Settings > Network & internet > Proxy; macOS: System Settings > Network > Details > Proxies), or tell the help desk the script's server is down"
	return r
}

// directOutcome is what became of the check's URL asked without the
// proxy: addr is empty when it was not asked.
type directOutcome struct {
	addr string
	ok   bool
	why  string
}

func awaitDirect(ch chan directOutcome) directOutcome {
	if ch == nil {
		return directOutcome{}
	}
	return <-ch
}

// tryDirect connects to raw's host straight from the target (for http,
// also asks for it: any answer will do), bounded a little inside ctx so
// that its verdict is in before the proxy's time is up.
func tryDirect(ctx context.Context, t diag.Target, raw string) directOutcome {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return directOutcome{}
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	out := directOutcome{addr: net.JoinHostPort(u.Hostname(), port)}
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-100*time.Millisecond))
		defer cancel()
	}
	fail := func(err error) directOutcome {
		out.why = rootCause(err)
		switch classify(err) {
		case problemDNS:
			out.why = "the name does not resolve"
		case problemRefused:
			out.why = "the connection is refused"
		case problemTimeout:
			out.why = "no answer in time"
		}
		return out
	}
	conn, err := dialTarget(ctx, t, "tcp", out.addr)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if strings.EqualFold(u.Scheme, "http") {
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		req.Header.Set("Connection", "close")
		if err := req.Write(conn); err != nil {
			return fail(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			return fail(err)
		}
		resp.Body.Close()
	}
	out.ok = true
	return out
}

func refusalsAuthOrPAC(refs []proxyRefusal) bool {
	for _, f := range refs {
		if f.e.pac || f.status == http.StatusProxyAuthRequired {
			return true
		}
	}
	return false
}

// directWorks turns a proxy's failure into the proxy's fault: the same
// address answers without it.
func directWorks(r diag.Result, t diag.Target, d directOutcome) diag.Result {
	r = r.With("direct", "works")
	r.Message = fmt.Sprintf("the proxy fails while a direct connection to %s works: the proxy is at fault, or not needed here (at home, away from the office); %s", d.addr, r.Message)
	r.Hint = "requests through the proxy fail, but " + where(t) + " reaches the internet without it: away from the office (at home), switch the proxy off (Windows: Settings > Network & internet > Proxy; macOS: System Settings > Network > Details > Proxies) or connect the VPN; in the office, tell the network team the proxy is failing, with this result"
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

// proxyRefusal is a proxy that accepted the connection and then would not
// do its job.
type proxyRefusal struct {
	e      proxyEndpoint
	status int    // the HTTP status it answered with, or 0
	why    string // what went wrong, in words
}

// askAll asks each reachable proxy for c.URL, and fetches the
// auto-configuration script, at the same time.
func (c *Proxy) askAll(ctx context.Context, t diag.Target, endpoints []proxyEndpoint, failed map[string]string) []proxyRefusal {
	target, err := url.Parse(c.URL)
	if c.URL == "" || err != nil {
		target = nil
	}
	var mu sync.Mutex
	var out []proxyRefusal
	var wg sync.WaitGroup
	for _, e := range endpoints {
		if _, bad := failed[e.addr]; bad {
			continue
		}
		u, err := url.Parse(e.raw)
		if err != nil || (!e.pac && (target == nil || !strings.EqualFold(u.Scheme, "http"))) {
			continue // SOCKS and TLS proxies: reaching them is all that is checked
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := askProxy(ctx, t, e, u, target)
			if ref.why != "" {
				mu.Lock()
				out = append(out, ref)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// askProxy sends one request through the proxy (CONNECT for https, an
// absolute-URI GET for http), or fetches the PAC file, and says what was
// wrong with the answer, if anything.
func askProxy(ctx context.Context, t diag.Target, e proxyEndpoint, u, target *url.URL) proxyRefusal {
	ref := proxyRefusal{e: e}
	conn, err := dialTarget(ctx, t, "tcp", e.addr)
	if err != nil {
		return ref // dialAll just reached it; a second failure is not news
	}
	defer conn.Close()
	var req *http.Request
	switch {
	case e.pac:
		req, _ = http.NewRequest(http.MethodGet, u.String(), nil)
		req.Header.Set("Connection", "close")
	case strings.EqualFold(target.Scheme, "https"):
		host := target.Host
		if target.Port() == "" {
			host = net.JoinHostPort(target.Hostname(), "443")
		}
		req = &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: host}, Host: host, Header: http.Header{}}
	default:
		req, _ = http.NewRequest(http.MethodGet, target.String(), nil)
		req.Header.Set("Connection", "close")
	}
	if !e.pac && u.User != nil {
		pw, _ := u.User.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
	}
	var werr error
	if e.pac || req.Method == http.MethodConnect {
		werr = req.Write(conn)
	} else {
		werr = req.WriteProxy(conn)
	}
	if werr != nil {
		ref.why = "it closed the connection before the request was sent: " + rootCause(werr)
		return ref
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		ref.why = "it accepted the connection but did not answer the request"
		if classify(err) != problemTimeout {
			ref.why += ": " + rootCause(err)
		}
		return ref
	}
	defer resp.Body.Close()
	ref.status = resp.StatusCode
	if e.pac {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		switch {
		case resp.StatusCode != http.StatusOK:
			ref.why = "the script cannot be fetched: " + resp.Status
		case !strings.Contains(string(body), "FindProxyForURL"):
			ref.why = "what it serves is not a proxy auto-configuration script (no FindProxyForURL)"
		}
		return ref
	}
	switch {
	case resp.StatusCode == http.StatusProxyAuthRequired:
		ref.why = "it asks for a user name and password (407 Proxy Authentication Required)"
		if u.User != nil {
			ref.why = "it does not accept the user name and password in the setting (407 Proxy Authentication Required)"
		}
	case req.Method == http.MethodConnect && resp.StatusCode/100 != 2:
		ref.why = fmt.Sprintf("it refuses to relay to %s: %s", req.Host, resp.Status)
	case req.Method != http.MethodConnect && resp.StatusCode >= 500:
		ref.why = fmt.Sprintf("it could not fetch %s: %s", target.Redacted(), resp.Status)
	case req.Method != http.MethodConnect && resp.StatusCode == http.StatusForbidden:
		ref.why = fmt.Sprintf("it refuses to fetch %s: %s", target.Redacted(), resp.Status)
	}
	return ref
}

func proxyRefusals(r diag.Result, t diag.Target, summary string, refs []proxyRefusal) diag.Result {
	var parts, statuses []string
	auth, pac := false, false
	for _, f := range refs {
		parts = append(parts, fmt.Sprintf("%s: %s", f.e.addr, f.why))
		if f.status == http.StatusProxyAuthRequired {
			auth = true
		}
		pac = pac || f.e.pac
		if f.status != 0 {
			statuses = append(statuses, fmt.Sprint(f.status))
		}
	}
	r.Status = diag.Fail
	if len(statuses) > 0 {
		r = r.With("proxy_status", statuses)
	}
	r.Message = summary + "; " + strings.Join(parts, "; ")
	switch {
	case auth:
		r.Message = "the proxy asks for a user name and password (407), so requests through it fail; " + r.Message
		r.Hint = "programs that cannot sign in to the proxy (most command-line tools, updaters, many apps) fail, while a browser may ask for the password: put the user name and password in the proxy setting (http://USER:PASSWORD@proxy:port), sign in to the proxy where the organisation says how, or ask the help desk for the proxy account"
	case pac:
		r.Hint = "the proxy auto-configuration script cannot be fetched, so browsers fall back to going directly, which a company network may block: check the address in the proxy settings (Windows: Settings > Network & internet > Proxy; macOS: System Settings > Network > Details > Proxies), and that the server that serves it is up"
	default:
		r.Hint = "the proxy accepts connections but does not pass requests on: it may block the site, be overloaded or have lost its own connection; away from the office, switch the proxy off; in the office, tell the network team, with this result"
	}
	return r
}
