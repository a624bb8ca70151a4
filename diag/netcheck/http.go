package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "http",
		Summary: "Requests a URL and checks the status code, the body, the response time and the TLS certificate.",
		New: func() diag.Checker {
			return &HTTP{Method: "GET", FollowRedirects: true, TLSMinDays: defaultTLSMinDays, Timeout: diag.Duration(10 * time.Second)}
		},
		// A captive-portal probe that was answered in place of the site
		// explains the HTTPS trouble behind the portal: certificates for
		// the portal's name, redirects to its login page.
		Examines: func(r diag.Result) []diag.Prerequisite {
			if captive, _ := r.Observed["captive"].(bool); captive {
				return []diag.Prerequisite{{What: PrereqCaptive}}
			}
			return nil
		},
	})
}

// PrereqCaptive is what a request relies on when a login page (captive
// portal) may stand in for the site: a certificate that is not the site's,
// a redirect to another host. The http check with captive: true examines
// it.
const PrereqCaptive = "captive-portal"

const (
	// maxBody caps how much of a response body is read for body_contains
	// and body_matches.
	maxBody = 1 << 20
	// maxBodyEvidence is how much of a body a failed check shows.
	maxBodyEvidence = 2 << 10
	// maxRedirects matches browsers and Go's client: more is a loop.
	maxRedirects = 10
)

// HTTP checks a URL as a client on the target would see it.
type HTTP struct {
	URL             string            `yaml:"url" required:"true" doc:"the http:// or https:// URL to request"`
	Method          string            `yaml:"method" doc:"the request method (default GET)"`
	Status          []string          `yaml:"status" doc:"the status codes that pass: codes (200), classes (2xx) or ranges (200-399) (default 200-399)"`
	BodyContains    string            `yaml:"body_contains" doc:"text the response body must contain (the first 1MiB is read)"`
	BodyMatches     string            `yaml:"body_matches" doc:"a regular expression (RE2) the response body must match (the first 1MiB is read)"`
	MaxLatency      diag.Duration     `yaml:"max_latency" doc:"warn when the response headers take longer than this to arrive, redirects included, counted from the start of connecting: the time the name lookups take is left out (the dns and nameservers checks judge it), reported apart as dns_ms and, when large, in the message (over SSH the target looks the name up as part of connecting, and that time counts)"`
	FollowRedirects bool              `yaml:"follow_redirects" doc:"follow redirects and judge the final response (default true)"`
	TLSMinDays      int               `yaml:"tls_min_days" doc:"warn when the certificate expires in fewer days than this (default 14; 0 turns the warning off)"`
	TLSFailDays     int               `yaml:"tls_fail_days" doc:"fail when the certificate expires in fewer days than this (default 0: fail only once expired)"`
	CAFile          string            `yaml:"ca_file" doc:"a PEM file on the target with the CA certificates to trust instead of the system's"`
	Proxy           string            `yaml:"proxy" doc:"a proxy URL (http, https, socks5 or socks5h), or none to connect directly; by default the HTTPS_PROXY, HTTP_PROXY and NO_PROXY environment variables apply when the target is the local machine"`
	Headers         map[string]string `yaml:"headers" doc:"request headers to send, such as Authorization; their values never appear in reports"`
	Timeout         diag.Duration     `yaml:"timeout" doc:"how long the whole exchange may take, redirects included (default 10s)"`
	Captive         bool              `yaml:"captive" doc:"the URL is a captive-portal probe (such as http://connectivitycheck.gstatic.com/generate_204 with status: [204]): a wrong answer fails, as a login page would give, but when nothing answers at all (no name, no connection, no response) the check reports error, since that says nothing about a login page"`
}

func (c *HTTP) Validate() error {
	var errs []error
	if err := checkURL("url", c.URL); err != nil {
		errs = append(errs, err)
	}
	method := c.Method
	if method == "" {
		method = "GET"
	}
	switch {
	case !isToken(method):
		errs = append(errs, diag.FieldErrorf("method", "%q is not an HTTP method (such as GET, HEAD or POST)", c.Method))
	case strings.EqualFold(method, "CONNECT"):
		errs = append(errs, diag.FieldErrorf("method", "CONNECT opens a tunnel and cannot be checked as a request"))
	case strings.EqualFold(method, "HEAD") && (c.BodyContains != "" || c.BodyMatches != ""):
		errs = append(errs, diag.FieldErrorf("method", "HEAD responses have no body, so body_contains and body_matches cannot apply"))
	}
	if _, err := parseStatusSpec(c.Status); err != nil {
		errs = append(errs, diag.FieldErrorf("status", "%v", err))
	}
	if c.BodyMatches != "" {
		if _, err := regexp.Compile(c.BodyMatches); err != nil {
			errs = append(errs, diag.FieldErrorf("body_matches", "invalid regular expression: %v", err))
		}
	}
	errs = append(errs, checkTLSDays(c.TLSMinDays, c.TLSFailDays)...)
	if c.Proxy != "" && !isNoProxy(c.Proxy) {
		if err := checkProxyURL(c.Proxy); err != nil {
			errs = append(errs, diag.FieldErrorf("proxy", "%v", err))
		}
	}
	for _, name := range sortedKeys(c.Headers) {
		switch {
		case !isToken(name):
			errs = append(errs, diag.FieldErrorf("headers", "%q is not a valid header name", name))
		case strings.ContainsAny(c.Headers[name], "\r\n\x00"):
			errs = append(errs, diag.FieldErrorf("headers", "the value of %s contains a line break, which HTTP does not allow", name))
		}
	}
	return errors.Join(errs...)
}

func checkURL(field, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return diag.FieldErrorf(field, "cannot parse %q: %v", raw, unwrapURLError(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return diag.FieldErrorf(field, "%q has no scheme; write http://%s or https://%s", raw, raw, raw)
	default:
		return diag.FieldErrorf(field, "scheme %q is not supported (want http or https)", u.Scheme)
	}
	if u.Hostname() == "" {
		return diag.FieldErrorf(field, "%q has no host", raw)
	}
	if p := u.Port(); p != "" {
		if _, _, err := splitServer(net.JoinHostPort(u.Hostname(), p), 0); err != nil {
			return diag.FieldErrorf(field, "%v", err)
		}
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isNoProxy(s string) bool {
	return strings.EqualFold(s, "none") || strings.EqualFold(s, "direct")
}

func checkProxyURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("cannot parse %q: %v", raw, unwrapURLError(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks5", "socks5h":
	default:
		return fmt.Errorf("%q is not a proxy URL such as http://proxy.example.com:3128 (schemes: http, https, socks5, socks5h), nor none", raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token, which method and header
// names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// hop is one response that redirected the request, and the request that
// followed it (a 303 turns a POST into a GET).
type hop struct {
	status, location, nextMethod string
}

// stages records how far the latest request got, so that a failure can
// say where it happened. The transport calls these hooks from several
// goroutines. The name lookup and connect hooks fire only where the
// connection is opened by this process's dialer (the local machine): on
// a remote target, resolving and connecting are one step, seen as the
// connect stage.
type stages struct {
	mu sync.Mutex
	at stage
	// The time spent looking names up, over every request of the
	// exchange (redirects, a proxy's name), overlapping lookups counted
	// once; lookups is how many there were.
	lookups    int
	remote     string // the address of the latest connection
	inLookup   int
	lookupFrom time.Time
	lookupTime time.Duration
}

type stage struct {
	dnsStarted, dnsDone, connected, gotConn bool
	tlsStarted, tlsDone, tlsFailed          bool
	wrote, header                           bool
}

// The stages of an exchange, as the observed value stage names them.
const (
	stageResolve  = "resolve"
	stageConnect  = "connect"
	stageTLS      = "tls_handshake"
	stageResponse = "response"
	stageBody     = "body"
)

// failedAt names the stage an exchange that got no response stopped in.
func (st stage) failedAt() string {
	switch {
	case st.header:
		return stageBody
	case st.tlsStarted && (!st.tlsDone || st.tlsFailed):
		return stageTLS
	case st.gotConn || st.wrote || st.tlsDone:
		return stageResponse
	case st.dnsStarted && !st.dnsDone:
		return stageResolve
	}
	return stageConnect
}

func (s *stages) set(f func(*stage)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.at)
}

func (s *stages) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { s.set(func(st *stage) { *st = stage{} }) },
		DNSStart: func(httptrace.DNSStartInfo) {
			s.set(func(st *stage) { st.dnsStarted = true })
			s.lookupStarted()
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			s.set(func(st *stage) { st.dnsDone = true })
			s.lookupDone()
		},
		ConnectDone: func(_, _ string, err error) {
			s.set(func(st *stage) { st.connected = st.connected || err == nil })
		},
		GotConn: func(info httptrace.GotConnInfo) {
			s.set(func(st *stage) { st.gotConn = true })
			if info.Conn != nil && info.Conn.RemoteAddr() != nil {
				s.mu.Lock()
				s.remote = info.Conn.RemoteAddr().String()
				s.mu.Unlock()
			}
		},
		TLSHandshakeStart: func() { s.set(func(st *stage) { st.tlsStarted = true }) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			s.set(func(st *stage) { st.tlsDone, st.tlsFailed = true, err != nil })
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { s.set(func(st *stage) { st.wrote = true }) },
		GotFirstResponseByte: func() { s.set(func(st *stage) { st.header = true }) },
	}
}

func (s *stages) lookupStarted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	if s.inLookup++; s.inLookup == 1 {
		s.lookupFrom = time.Now()
	}
}

func (s *stages) lookupDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inLookup == 0 {
		return
	}
	if s.inLookup--; s.inLookup == 0 {
		s.lookupTime += time.Since(s.lookupFrom)
	}
}

// nameLookups returns how long the names took to look up, and whether
// any lookup was seen at all.
func (s *stages) nameLookups() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.lookupTime
	if s.inLookup > 0 {
		d += time.Since(s.lookupFrom)
	}
	return d, s.lookups > 0
}

// remoteAddr is the address the latest connection went to, "" when not
// known.
func (s *stages) remoteAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remote
}

func (s *stages) snapshot() stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at
}

// httpClient builds a client whose every connection, to the server or to
// a proxy, is opened by the target. The caller closes idle connections.
func httpClient(t diag.Target, pool *x509.CertPool, proxy func(*http.Request) (*url.URL, error), follow bool, hops *[]hop) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTarget(ctx, t, network, addr)
		},
		Proxy:                  proxy,
		TLSClientConfig:        &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 1 << 20,
	}
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !follow {
				return http.ErrUseLastResponse
			}
			if hops != nil && req.Response != nil {
				*hops = append(*hops, hop{req.Response.Status, req.URL.Redacted(), req.Method})
			}
			if len(via) >= maxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}
	return client, tr
}

var errTooManyRedirects = errors.New("too many redirects")

// slowNameLookup is how long a name lookup must take for the message to
// mention it beside the response time, which does not include it.
const slowNameLookup = 500 * time.Millisecond

// proxyFor decides how the check reaches the URL: proxy: when given, else
// the proxy a program on the target would take (environmentProxy).
func (c *HTTP) proxyFor(ctx context.Context, t diag.Target) func(*http.Request) (*url.URL, error) {
	switch {
	case isNoProxy(c.Proxy):
		return nil
	case c.Proxy != "":
		u, err := url.Parse(c.Proxy)
		if err != nil {
			return nil
		}
		return http.ProxyURL(u)
	}
	return environmentProxy(ctx, t)
}

// environmentProxy is the proxy a program on the target would take, as far
// as triage can know it: on this machine, HTTPS_PROXY, HTTP_PROXY and
// NO_PROXY when any is set, else the proxies of the system's settings
// (Windows, macOS) that name a proxy directly (see systemProxy); on a
// remote target, its own session environment and /etc/environment, as it
// reports them (targetProxy).
func environmentProxy(ctx context.Context, t diag.Target) func(*http.Request) (*url.URL, error) {
	if _, local := t.(*diag.Local); !local {
		return targetProxy(ctx, t)
	}
	if pr, ok := t.(diag.ProxyReporter); ok {
		if s, err := pr.ProxySettings(ctx); err == nil {
			if f := systemProxy(ctx, s); f != nil {
				return f
			}
		}
	}
	return http.ProxyFromEnvironment
}

func (c *HTTP) Run(parent context.Context, t diag.Target) diag.Result {
	ctx, cancel, timeout := withTimeout(parent, c.Timeout, 10*time.Second)
	defer cancel()
	now := time.Now()
	u, err := url.Parse(strings.TrimSpace(c.URL))
	if err != nil {
		return diag.Resultf(diag.Error, "cannot parse url %q: %v", c.URL, err).WithHint("fix the url in the playbook")
	}
	shown := u.Redacted()
	spec, err := parseStatusSpec(c.Status)
	if err != nil {
		return diag.Resultf(diag.Error, "status: %v", err).WithHint("fix status in the playbook")
	}
	method := strings.ToUpper(c.Method)
	if method == "" {
		method = "GET"
	}
	base := diag.Result{}.With("url", shown)

	var pool *x509.CertPool
	if c.CAFile != "" {
		if pool, err = loadCAFile(ctx, t, c.CAFile); err != nil {
			if parent.Err() != nil {
				return cancelled(parent)
			}
			return withObserved(caFileError(c.CAFile, err), base)
		}
	}

	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return diag.Resultf(diag.Error, "cannot build a %s request for %s: %v", method, shown, err).WithHint("fix the url in the playbook")
	}
	req.Header.Set("User-Agent", "triage")
	for k, v := range c.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	proxy := c.proxyFor(ctx, t)
	var proxyURL *url.URL
	if proxy != nil {
		proxyURL, _ = proxy(req)
	}
	if proxyURL != nil {
		base = base.With("proxy", proxyURL.Redacted())
	}

	var hops []hop
	client, tr := httpClient(t, pool, proxy, c.FollowRedirects, &hops)
	defer tr.CloseIdleConnections()
	st := &stages{}
	req = req.WithContext(httptrace.WithClientTrace(ctx, st.trace()))

	start := time.Now()
	resp, err := client.Do(req)
	total := time.Since(start)
	// max_latency judges the server and the path to it, from the start
	// of connecting: the name lookups are the DNS servers' time, which
	// the dns checks judge.
	lookupTime, looked := st.nameLookups()
	latency := max(total-lookupTime, 0)
	ev := &evidence{}
	ev.request(method, shown, c.Headers)
	ev.hops(hops)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		r := c.requestFailure(t, u, proxyURL, err, st.snapshot(), timeout, now, len(hops))
		if r.Upstream == nil && len(hops) > 0 && !c.Captive && redirectedElsewhere(u, hops) {
			r.Upstream = &diag.Prerequisite{What: PrereqCaptive}
		}
		if c.Captive && r.Upstream != nil && r.Upstream.What == PrereqCaptive {
			// The probe itself examines the portal: it cannot rely on it.
			r.Upstream = nil
		}
		if c.Captive {
			r = captiveNoAnswer(r, err)
		}
		r = withObserved(r, base)
		r.Evidence = strings.TrimSpace(ev.String() + "\n" + r.Evidence)
		return r
	}
	defer resp.Body.Close()

	r := base.With("status_code", resp.StatusCode).
		With("latency_ms", diag.Milliseconds(latency)).
		With("http_version", resp.Proto).
		With("redirects", len(hops))
	if looked {
		r = r.With("dns_ms", diag.Milliseconds(lookupTime))
	}
	if final := resp.Request.URL.Redacted(); final != shown {
		r = r.With("final_url", final)
	}
	if resp.TLS != nil {
		r = withTLSObserved(r, *resp.TLS, now)
	}
	ev.response(resp)

	statusOK := statusAllowed(spec, resp.StatusCode)
	needBody := c.BodyContains != "" || c.BodyMatches != ""
	var body []byte
	var truncated bool
	if needBody || !statusOK {
		// A status the playbook rejects is read only far enough to show
		// the start of the error page.
		limit := maxBody
		if !needBody {
			limit = maxBodyEvidence
		}
		var rerr error
		body, truncated, rerr = readBody(resp.Body, limit)
		if rerr != nil && needBody {
			if parent.Err() != nil {
				return cancelled(parent)
			}
			r.Status = diag.Fail
			r = r.With("stage", stageBody)
			if classify(rerr) == problemTimeout {
				r.Message = fmt.Sprintf("%s sent its headers (%s) but the body did not arrive within %s", shown, resp.Status, timeout)
				r.Hint = "the server is slow to produce the page or the connection stalls: look at the application's performance, or raise timeout"
			} else {
				r.Message = fmt.Sprintf("the response body from %s was cut off: %v", shown, rootCause(rerr))
				r.Hint = "the server or a proxy closed the connection in the middle of the response: look at their logs"
			}
			r.Evidence = ev.String()
			return r
		}
		if needBody {
			r = r.With("body_bytes", len(body))
		}
	}
	if resp.TLS != nil {
		ev.chain(resp.TLS.PeerCertificates)
	}

	target := shown
	if len(hops) > 0 {
		target = fmt.Sprintf("%s (after %s to %s)", shown, plural(len(hops), "redirect"), resp.Request.URL.Redacted())
	}
	if c.Captive && (!statusOK || (c.BodyContains != "" && !strings.Contains(string(body), c.BodyContains))) {
		ev.body(body)
		r = captivePortal(r, u, resp, body, st.remoteAddr(), describeStatusSpec(spec))
		r.Evidence = ev.String()
		return r
	}
	var fails []string
	var hint string
	if !statusOK {
		fails = append(fails, fmt.Sprintf("answered %s, expected %s", resp.Status, describeStatusSpec(spec)))
		hint = statusHint(resp, c.FollowRedirects)
		if c.Captive {
			hint = "something on this network answered the probe in place of the site: a login page (captive portal), as hotel, airport and guest Wi-Fi have; open a web browser, go to any http:// site, and accept the page that appears"
		}
		if resp.StatusCode == http.StatusBadRequest && containsAny(string(body), "HTTPS server", "HTTPS port") {
			hint = "the server expects TLS on this port: use https:// in the URL"
		}
	}
	scope := ""
	if truncated {
		scope = fmt.Sprintf(" (in its first %s)", diag.FormatBytes(maxBody))
	}
	if c.BodyContains != "" && !strings.Contains(string(body), c.BodyContains) {
		fails = append(fails, fmt.Sprintf("the body does not contain %q%s", c.BodyContains, scope))
	}
	if c.BodyMatches != "" {
		if re, err := regexp.Compile(c.BodyMatches); err == nil && !re.Match(body) {
			fails = append(fails, fmt.Sprintf("the body does not match /%s/%s", c.BodyMatches, scope))
		}
	}
	if len(fails) > 0 {
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s %s: %s", method, target, strings.Join(fails, "; "))
		if len(hops) > 0 && !sameHost(u, resp.Request.URL) {
			// Sent to another host and not what was expected: a login
			// page the network redirects to, should a probe find one.
			r.Upstream = &diag.Prerequisite{What: PrereqCaptive}
		}
		if hint == "" {
			hint = "the page is not the one expected: an error page, a login or maintenance page, or a changed application; the start of the body is in the evidence"
		}
		r.Hint = hint
		ev.body(body)
		r.Evidence = ev.String()
		return r
	}

	r.Status = diag.Pass
	took := roundDuration(latency).String()
	if lookupTime >= slowNameLookup || (lookupTime > 0 && c.MaxLatency > 0 && total > c.MaxLatency.D()) {
		took += fmt.Sprintf(" (after a %s name lookup)", roundDuration(lookupTime))
	}
	r.Message = fmt.Sprintf("%s %s answered %s in %s", method, target, resp.Status, took)
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		r.Message += fmt.Sprintf("; certificate valid for %s more", plural(daysLeft(soonestExpiry(resp.TLS.PeerCertificates).NotAfter, now), "day"))
		r = judgeExpiry(r, resp.TLS.PeerCertificates, c.TLSMinDays, c.TLSFailDays, now)
	}
	if r.Status == diag.Pass && c.MaxLatency > 0 && latency > c.MaxLatency.D() {
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("%s %s answered %s in %s, slower than max_latency (%s)", method, target, resp.Status, took, c.MaxLatency.D())
		r.Hint = "the server or the network path is slow: compare with a tcp check's latency to tell the network from the application"
	}
	r.Evidence = ev.String()
	return r
}

func readBody(body io.Reader, limit int) (data []byte, truncated bool, err error) {
	data, err = io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if len(data) > limit {
		return data[:limit], true, nil
	}
	return data, false, err
}

func statusHint(resp *http.Response, follow bool) string {
	code := resp.StatusCode
	switch {
	case code == 401:
		return "the server wants credentials: give them in headers (Authorization), or check that they are still valid"
	case code == 407:
		return "the proxy wants credentials: put them in the proxy URL (http://user:password@proxy:port), or check that they are still valid"
	case code == 403:
		return "access is forbidden to this client: an IP allow list, a WAF rule or missing permissions; compare from a machine that works"
	case code == 404:
		return "the path does not exist on this server: check the URL, or whether the request reached the right virtual host"
	case code == 429:
		return "the server is rate-limiting this client: check less often, or find out who else is using the same address"
	case code >= 300 && code < 400:
		loc := resp.Header.Get("Location")
		if !follow {
			return fmt.Sprintf("the server redirects to %s: set follow_redirects: true, or add %d to status", loc, code)
		}
		return fmt.Sprintf("the server redirects to %s, which was not followed", loc)
	case code == 502 || code == 504:
		return "a gateway or load balancer could not get an answer from the application behind it: check that the application is running and healthy"
	case code == 503:
		return "the service is unavailable: down for maintenance, overloaded, or with no healthy backend behind the load balancer"
	case code >= 500:
		return "the application failed to handle the request: look at its logs for this time"
	}
	return "the server answered with a status the playbook does not accept: compare with the expected behaviour"
}

// requestFailure explains a request that got no response, naming the
// stage it stopped in (observed as stage).
func (c *HTTP) requestFailure(t diag.Target, u *url.URL, proxyURL *url.URL, err error, st stage, timeout time.Duration, now time.Time, redirects int) diag.Result {
	r := c.requestFailureAt(t, u, proxyURL, err, st, timeout, now)
	if redirects > 0 && classify(err) == problemTimeout {
		r.Message += fmt.Sprintf(" (after %s)", plural(redirects, "redirect"))
	}
	return r
}

func (c *HTTP) requestFailureAt(t diag.Target, u *url.URL, proxyURL *url.URL, err error, st stage, timeout time.Duration, now time.Time) diag.Result {
	shown := u.Redacted()
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	addr := net.JoinHostPort(host, port)
	if errors.Is(err, errTooManyRedirects) {
		return diag.Resultf(diag.Fail, "%s redirected more than %d times", shown, maxRedirects).
			WithHint("the redirects loop: a common cause is an application that redirects to https while a proxy in front of it talks http, or a cookie it cannot set; the chain is in the evidence")
	}
	at := st.failedAt()
	problem := classify(err)
	var opErr *net.OpError
	if proxyURL != nil && errors.As(err, &opErr) && opErr.Op == "proxyconnect" {
		r := diag.Resultf(diag.Fail, "cannot connect to the proxy %s: %s", proxyURL.Redacted(), rootCause(err)).With("stage", stageConnect)
		if problem == problemDNS {
			r.Status = diag.Error
			r.Upstream = diag.NeedName(proxyURL.Hostname())
		} else {
			r.Upstream = &diag.Prerequisite{What: diag.PrereqProxy}
		}
		return r.WithHint("the proxy is down, unreachable or mistyped: check the proxy setting (proxy: or HTTPS_PROXY/HTTP_PROXY), or set proxy: none to go direct")
	}
	if problem == problemDNS {
		return dnsFailure(t, host, err).With("stage", stageResolve)
	}
	if at == stageTLS {
		if r, ok := tlsFailure(err, addr, host, now); ok {
			return r.With("stage", stageTLS)
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return diag.Resultf(diag.Fail, "%s answered in plain HTTP on a URL that says https", addr).With("stage", stageTLS).
			WithHint("use http:// for this URL, or the port where the server serves TLS")
	case strings.Contains(msg, "malformed HTTP"):
		return diag.Resultf(diag.Fail, "%s answered with something that is not HTTP", addr).With("stage", stageResponse).
			WithHint("another protocol listens on this port: check the port in the URL")
	}
	switch problem {
	case problemRefused, problemUnreachable, problemReset:
		if problem == problemReset && at != stageConnect {
			break
		}
		if proxyURL != nil {
			return diag.Resultf(diag.Fail, "the request through the proxy %s failed: %s", proxyURL.Redacted(), rootCause(err)).With("stage", stageConnect).
				WithHint("the proxy could not reach %s or dropped the connection: check the proxy's logs or set proxy: none to compare", addr)
		}
		portNum, _ := strconv.Atoi(port)
		return connectFailure(t, host, portNum, addr, timeout, err).With("stage", stageConnect)
	case problemTimeout:
		return timeoutAt(at, t, host, port, addr, proxyURL, timeout).With("stage", at)
	}
	switch {
	case at == stageTLS:
		return diag.Resultf(diag.Fail, "the TLS handshake with %s failed: %s", addr, rootCause(err)).With("stage", stageTLS).
			WithHint("check that the port serves TLS, and look at the server's TLS settings and logs")
	case problem == problemReset:
		return diag.Resultf(diag.Fail, "%s reset the connection after the request was sent", addr).With("stage", at).
			WithHint("the server or something on the path (a firewall, an intrusion prevention system, a load balancer) dropped the request: look at their logs")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return diag.Resultf(diag.Fail, "%s closed the connection without answering the request", addr).With("stage", stageResponse).
			WithHint("the server dropped the request: it may expect TLS (use https://), reject this client, or be restarting")
	}
	return diag.Resultf(diag.Error, "could not request %s: %v", shown, unwrapURLError(err)).With("stage", at).
		WithHint("the request could not be made at all; the message says why")
}

// captiveNoAnswer turns the failure of a captive-portal probe that nothing
// answered into "could not check": a login page shows itself by answering
// the probe with the wrong content, while a dead router, DNS server, proxy
// or internet connection answers nothing. A probe that was answered (a
// certificate that is not the site's, a redirect loop, something that is
// not HTTP) keeps its failure.
func captiveNoAnswer(r diag.Result, err error) diag.Result {
	if errors.Is(err, errTooManyRedirects) {
		return r
	}
	switch stage, _ := r.Observed["stage"].(string); {
	case stage == stageResolve, stage == stageConnect:
	case classify(err) == problemTimeout, classify(err) == problemReset, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	default:
		return r
	}
	r.Status = diag.Error
	r.Message = "nothing answered the login-page probe: " + r.Message
	r.Hint = "without an answer there is no login page to see, so this says nothing about one: the checks of the connection, the router, DNS, the proxy and the internet say why the probe could not be reached"
	return r
}

// timeoutAt explains an exchange that ran out of time in stage at.
func timeoutAt(at string, t diag.Target, host, port, addr string, proxyURL *url.URL, timeout time.Duration) diag.Result {
	r := diag.Result{Status: diag.Fail}
	switch at {
	case stageResolve:
		name := host
		if proxyURL != nil {
			name = proxyURL.Hostname()
		}
		r.Status = diag.Error
		r.Message = fmt.Sprintf("could not resolve %s within %s", name, timeout)
		r.Hint = fmt.Sprintf("the name lookup did not finish, so the check could go no further: the DNS servers of %s are slow or do not answer; a nameservers check and a check {dns: {name: %s}} tell which", where(t), name)
		r.Upstream = diag.NeedName(name)
	case stageConnect:
		r.Message = fmt.Sprintf("could not connect to %s within %s", addr, timeout)
		r.Hint = fmt.Sprintf("connection attempts are being dropped: a firewall filters port %s, or %s is down or unreachable; a tcp check of the same port tells the network from the web server", port, host)
		if proxyURL != nil {
			r.Message = fmt.Sprintf("no answer through the proxy %s within %s", proxyURL.Redacted(), timeout)
			r.Hint = "the proxy does not answer, or cannot reach the server: check the proxy, or set proxy: none to compare"
			r.Upstream = &diag.Prerequisite{What: diag.PrereqProxy}
		}
	case stageTLS:
		r.Message = fmt.Sprintf("%s accepted the connection but the TLS handshake did not finish within %s", addr, timeout)
		r.Hint = "the connection opens, so small packets get through, but the handshake stalls: the classic sign of a path-MTU black hole, where a link with a smaller MTU (a VPN, PPPoE, a tunnel) drops the large handshake packets (a ClientHello alone can be over 1,280 bytes) and the ICMP message that would say so is filtered; compare from another network, try a lower MTU on the interface (such as 1400), or ask the network team to let ICMP \"fragmentation needed\" through or to clamp the TCP MSS. Otherwise the port does not serve TLS, or the server is overloaded"
	case stageResponse:
		r.Message = fmt.Sprintf("%s accepted the request but sent no response within %s", addr, timeout)
		r.Hint = "the web server is up but the application behind it is slow or hung: look at its logs and its backends (database, upstream services)"
	default:
		r.Message = fmt.Sprintf("the response from %s did not finish within %s", addr, timeout)
		r.Hint = "the server is slow to send its response: look at the application's performance, or raise timeout"
	}
	return r
}

// evidence is the transcript of an exchange, written as curl -v would show
// it. Request header values are never written: they are where credentials
// live.
type evidence struct{ b strings.Builder }

func (e *evidence) request(method, url string, headers map[string]string) {
	fmt.Fprintf(&e.b, "> %s %s\n", method, url)
	if len(headers) > 0 {
		fmt.Fprintf(&e.b, "> headers sent (values not shown): %s\n", strings.Join(sortedKeys(headers), ", "))
	}
}

func (e *evidence) hops(hops []hop) {
	for _, h := range hops {
		fmt.Fprintf(&e.b, "< %s\n< Location: %s\n> %s %s\n", h.status, h.location, h.nextMethod, h.location)
	}
}

func (e *evidence) response(resp *http.Response) {
	fmt.Fprintf(&e.b, "< %s %s\n", resp.Proto, resp.Status)
	for _, k := range sortedKeys(resp.Header) {
		for _, v := range resp.Header[k] {
			if sensitiveHeader(k) {
				v = "[redacted]"
			}
			fmt.Fprintf(&e.b, "< %s: %s\n", k, v)
		}
	}
}

func (e *evidence) chain(certs []*x509.Certificate) {
	if len(certs) > 0 {
		e.b.WriteString("\n" + chainEvidence(certs))
	}
}

func (e *evidence) body(body []byte) {
	if len(body) == 0 {
		return
	}
	cut := body
	if len(cut) > maxBodyEvidence {
		cut = cut[:maxBodyEvidence]
	}
	fmt.Fprintf(&e.b, "\n[body, first %s]\n%s", diag.FormatBytes(uint64(len(cut))), strings.ToValidUTF8(string(cut), "?"))
}

func (e *evidence) String() string { return strings.TrimRight(e.b.String(), "\n") }

func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	return containsAny(n, "cookie", "auth", "token", "secret", "key", "session")
}

// sameHost reports whether two URLs name the same host.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(strings.TrimSuffix(a.Hostname(), "."), strings.TrimSuffix(b.Hostname(), "."))
}

// redirectedElsewhere reports whether any redirect of an exchange led to
// another host than the URL asked for.
func redirectedElsewhere(u *url.URL, hops []hop) bool {
	for _, h := range hops {
		if to, err := url.Parse(h.location); err == nil && to.Hostname() != "" && !sameHost(u, to) {
			return true
		}
	}
	return false
}

// captivePortal judges a login-page probe that was answered with something
// else than the site's answer: a redirect, or a page. It names the portal
// (where the redirect leads, else the address that answered), so that a
// person knows which network or device intercepts, and marks the result
// as having found a portal, which explains the HTTPS trouble behind it.
func captivePortal(r diag.Result, asked *url.URL, resp *http.Response, body []byte, answeredBy, want string) diag.Result {
	final := resp.Request.URL
	var portal *url.URL
	how := ""
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		if to, err := final.Parse(loc); err == nil {
			portal = to
			how = fmt.Sprintf("redirected to %s (%s)", to.Redacted(), resp.Status)
		}
	}
	if portal == nil && !sameHost(asked, final) {
		portal = final
		how = fmt.Sprintf("redirected to %s, which answered %s", final.Redacted(), resp.Status)
	}
	host, _, err := net.SplitHostPort(answeredBy)
	if err != nil {
		host = answeredBy
	}
	if portal == nil {
		how = fmt.Sprintf("answered %s", resp.Status)
		if len(body) > 0 {
			how = fmt.Sprintf("answered %s with a page", resp.Status)
			if title := htmlTitle(body); title != "" {
				how += fmt.Sprintf(" titled %q", title)
			}
		}
		if host != "" {
			how += " from " + host
		}
	}
	r = r.With("captive", true)
	where := host
	if portal != nil {
		where = portal.Hostname()
		r = r.With("portal_url", portal.Redacted())
	}
	if where != "" {
		r = r.With("portal_host", where)
	}
	if host != "" {
		r = r.With("answered_by", host)
	}
	r.Status = diag.Warn
	r.Message = fmt.Sprintf("a login page (captive portal) intercepts web traffic: the probe %s was %s instead of the expected %s", asked.Redacted(), how, want)
	if portal == nil {
		r.Message = fmt.Sprintf("a login page (captive portal) intercepts web traffic: the probe %s %s instead of the expected %s", asked.Redacted(), how, want)
	}
	if where != "" {
		r.Message += "; the portal is at " + where
	}
	r.Hint = "this network wants a login or its terms accepted before it lets traffic through, as hotel, airport and guest Wi-Fi do; until then secure websites fail with certificate errors: open a web browser, go to any http:// site (such as http://example.com), and accept the page that appears"
	return r
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>([^<]{1,120})</title>`)

// htmlTitle returns the title of an HTML page, or "".
func htmlTitle(body []byte) string {
	if m := titleRE.FindSubmatch(body); m != nil {
		return strings.Join(strings.Fields(string(m[1])), " ")
	}
	return ""
}
