package netcheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
)

// webMux is the application behind the test web servers.
func webMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<h1>hello world</h1> build 1234")
	})
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance until 14:00", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first part,")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "s3cret-value" || r.Host != "svc.test" {
			http.Error(w, "who are you?", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "cookie-value-123"})
		io.WriteString(w, "welcome")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 2<<20)+"THE END")
	})
	return mux
}

// webServer starts an HTTPS server with cert, or plain HTTP without one.
func webServer(t *testing.T, cert *tls.Certificate) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(webMux())
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cert != nil {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func httpCheck(t *testing.T, url string, edit func(*HTTP)) *HTTP {
	c := newKind[*HTTP](t, "http")
	c.URL = url
	c.Timeout = dur(3 * time.Second)
	if edit != nil {
		edit(c)
	}
	return c
}

func TestHTTP(t *testing.T) {
	local := diag.NewLocal()
	web := webServer(t, nil).URL
	tests := []struct {
		name   string
		check  *HTTP
		status diag.Status
		msg    []string
		hint   string
	}{
		{"ok", httpCheck(t, web+"/ok", nil), diag.Pass, []string{"GET " + web + "/ok answered 200 OK in"}, ""},
		{"body contains", httpCheck(t, web+"/ok", func(c *HTTP) { c.BodyContains = "hello world" }), diag.Pass, nil, ""},
		{"body lacks", httpCheck(t, web+"/ok", func(c *HTTP) { c.BodyContains = "goodbye" }), diag.Fail, []string{`the body does not contain "goodbye"`}, "error page"},
		{"body matches", httpCheck(t, web+"/ok", func(c *HTTP) { c.BodyMatches = `build \d+` }), diag.Pass, nil, ""},
		{"body does not match", httpCheck(t, web+"/ok", func(c *HTTP) { c.BodyMatches = `version \d+` }), diag.Fail, []string{`does not match /version \d+/`}, ""},
		{"body past the cap", httpCheck(t, web+"/big", func(c *HTTP) { c.BodyContains = "THE END" }), diag.Fail, []string{"(in its first 1MiB)"}, ""},
		{"status list", httpCheck(t, web+"/teapot", func(c *HTTP) { c.Status = []string{"200", "418"} }), diag.Pass, []string{"418 I'm a teapot"}, ""},
		{"status class", httpCheck(t, web+"/teapot", func(c *HTTP) { c.Status = []string{"4xx"} }), diag.Pass, nil, ""},
		{"status range", httpCheck(t, web+"/teapot", func(c *HTTP) { c.Status = []string{"400-499"} }), diag.Pass, nil, ""},
		{"status not expected", httpCheck(t, web+"/teapot", nil), diag.Fail, []string{"answered 418 I'm a teapot, expected 200-399"}, ""},
		{"service unavailable", httpCheck(t, web+"/down", nil), diag.Fail, []string{"answered 503 Service Unavailable, expected 200-399"}, "unavailable"},
		{"not found", httpCheck(t, web+"/nowhere", func(c *HTTP) { c.Status = []string{"2xx"} }), diag.Fail, []string{"404 Not Found, expected 2xx"}, "path does not exist"},
		{"redirect followed", httpCheck(t, web+"/redirect", func(c *HTTP) { c.BodyContains = "hello" }), diag.Pass, []string{"after 1 redirect to " + web + "/ok", "200 OK"}, ""},
		{"redirect not followed", httpCheck(t, web+"/redirect", func(c *HTTP) { c.FollowRedirects = false }), diag.Pass, []string{"302 Found"}, ""},
		{"redirect not followed, 200 wanted", httpCheck(t, web+"/redirect", func(c *HTTP) { c.FollowRedirects, c.Status = false, []string{"200"} }), diag.Fail, []string{"302 Found, expected 200"}, "follow_redirects"},
		{"redirect loop", httpCheck(t, web+"/loop", nil), diag.Fail, []string{"redirected more than 10 times"}, "loop"},
		{"HEAD", httpCheck(t, web+"/ok", func(c *HTTP) { c.Method = "head" }), diag.Pass, []string{"HEAD " + web + "/ok answered 200 OK"}, ""},
		{"no response in time", httpCheck(t, web+"/hang", func(c *HTTP) { c.Timeout = dur(300 * time.Millisecond) }), diag.Fail, []string{"accepted the request but sent no response within 300ms"}, "application"},
		{"body too slow", httpCheck(t, web+"/trickle", func(c *HTTP) { c.Timeout, c.BodyContains = dur(300*time.Millisecond), "second part" }), diag.Fail, []string{"sent its headers (200 OK) but the body did not arrive within 300ms"}, ""},
		{"slow but no body wanted", httpCheck(t, web+"/trickle", func(c *HTTP) { c.Timeout = dur(300 * time.Millisecond) }), diag.Pass, nil, ""},
		{"slower than max_latency", httpCheck(t, web+"/ok", func(c *HTTP) { c.MaxLatency = dur(time.Nanosecond) }), diag.Warn, []string{"slower than max_latency (1ns)"}, "tcp check"},
		{"https to plain http", httpCheck(t, strings.Replace(web, "http:", "https:", 1)+"/ok", nil), diag.Fail, []string{"answered in plain HTTP"}, "http://"},
		{"refused", httpCheck(t, "http://127.0.0.1:"+strconv.Itoa(closedPort(t))+"/", nil), diag.Fail, []string{"refused the connection"}, "nothing accepts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.check, local)
			expect(t, r, tt.status, tt.msg...)
			if tt.hint != "" && !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", r.Hint, tt.hint)
			}
			if r.Observed["url"] != tt.check.URL {
				t.Errorf("observed url %v", r.Observed["url"])
			}
		})
	}

	t.Run("observed", func(t *testing.T) {
		r := run(t, httpCheck(t, web+"/redirect", nil), local)
		want := map[string]any{"status_code": 200, "redirects": 1, "final_url": web + "/ok", "http_version": "HTTP/1.1"}
		for k, v := range want {
			if r.Observed[k] != v {
				t.Errorf("observed[%s] = %#v, want %#v", k, r.Observed[k], v)
			}
		}
		if _, ok := r.Observed["latency_ms"].(float64); !ok {
			t.Errorf("no latency_ms: %v", r.Observed)
		}
		if !strings.Contains(r.Evidence, "< 302 Found\n< Location: "+web+"/ok\n> GET "+web+"/ok") {
			t.Errorf("evidence does not show the redirect:\n%s", r.Evidence)
		}
	})
}

func TestHTTPHeadersStaySecret(t *testing.T) {
	web := webServer(t, nil).URL
	c := httpCheck(t, web+"/private", func(c *HTTP) {
		c.Headers = map[string]string{"X-Token": "s3cret-value", "Host": "svc.test"}
	})
	r := run(t, c, diag.NewLocal())
	expect(t, r, diag.Pass, "200 OK")
	if strings.Contains(r.Evidence, "s3cret-value") || strings.Contains(r.Evidence, "cookie-value-123") {
		t.Errorf("a secret reached the evidence:\n%s", r.Evidence)
	}
	if !strings.Contains(r.Evidence, "headers sent (values not shown): Host, X-Token") || !strings.Contains(r.Evidence, "< Set-Cookie: [redacted]") {
		t.Errorf("evidence:\n%s", r.Evidence)
	}

	c = httpCheck(t, web+"/private", nil)
	r = run(t, c, diag.NewLocal())
	expect(t, r, diag.Fail, "403 Forbidden")
	if !strings.Contains(r.Evidence, "who are you?") {
		t.Errorf("a failed check shows no body:\n%s", r.Evidence)
	}
}

func TestHTTPS(t *testing.T) {
	local := diag.NewLocal()
	ca := newTestCA(t, "Test Root CA")
	caFile := ca.file(t)
	good := ca.validFor(t, 90, "127.0.0.1", "localhost")
	soon := ca.validFor(t, 5, "127.0.0.1")
	expired := ca.issue(t, []string{"127.0.0.1"}, time.Now().Add(-90*24*time.Hour), time.Now().Add(-24*time.Hour+time.Hour))
	wrong := ca.validFor(t, 90, "www.example.net")

	goodURL := webServer(t, &good).URL
	tests := []struct {
		name   string
		check  *HTTP
		status diag.Status
		msg    []string
	}{
		{"trusted", httpCheck(t, goodURL+"/ok", func(c *HTTP) { c.CAFile = caFile }), diag.Pass, []string{"200 OK", "certificate valid for 90 days more"}},
		{"not trusted without ca_file", httpCheck(t, goodURL+"/ok", nil), diag.Fail, []string{"signed by an unknown authority"}},
		{"expires soon", httpCheck(t, webServer(t, &soon).URL+"/ok", func(c *HTTP) { c.CAFile = caFile }), diag.Warn, []string{"expires in 5 days", "less than tls_min_days (14)"}},
		{"expires too soon", httpCheck(t, webServer(t, &soon).URL+"/ok", func(c *HTTP) { c.CAFile, c.TLSFailDays = caFile, 10 }), diag.Fail, []string{"less than tls_fail_days (10)"}},
		{"expired", httpCheck(t, webServer(t, &expired).URL+"/ok", func(c *HTTP) { c.CAFile = caFile }), diag.Fail, []string{"expired on", "1 day ago"}},
		{"wrong name", httpCheck(t, webServer(t, &wrong).URL+"/ok", func(c *HTTP) { c.CAFile = caFile }), diag.Fail, []string{"is for www.example.net, not 127.0.0.1"}},
		{"plain http to a TLS port", httpCheck(t, strings.Replace(goodURL, "https:", "http:", 1)+"/ok", nil), diag.Fail, []string{"400 Bad Request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.check, local)
			expect(t, r, tt.status, tt.msg...)
		})
	}
	r := run(t, httpCheck(t, goodURL+"/ok", func(c *HTTP) { c.CAFile = caFile }), local)
	if r.Observed["tls_days_left"] != 90 || r.Observed["http_version"] != "HTTP/2.0" {
		t.Errorf("observed %v", r.Observed)
	}
}

// TestHTTPThroughTarget proves that every connection, to the server and to
// a proxy, is opened by the target: the names used resolve nowhere, and
// only the target knows where they lead.
func TestHTTPThroughTarget(t *testing.T) {
	web := webServer(t, nil)
	webAddr := strings.TrimPrefix(web.URL, "http://")

	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A forward proxy sees absolute URLs; this one answers itself.
		proxied = append(proxied, r.URL.String())
		if r.Header.Get("Proxy-Authorization") == "" {
			w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		fmt.Fprintf(w, "via proxy: %s", r.URL)
	}))
	t.Cleanup(proxy.Close)
	target := redirected{Target: diag.NewLocal(), addrs: map[string]string{
		"web.test:80":      webAddr,
		"proxy.test:3128":  strings.TrimPrefix(proxy.URL, "http://"),
		"broken.test:3128": "127.0.0.1:" + strconv.Itoa(closedPort(t)),
	}}

	r := run(t, httpCheck(t, "http://web.test/ok", func(c *HTTP) { c.BodyContains = "hello" }), target)
	expect(t, r, diag.Pass, "GET http://web.test/ok answered 200 OK")

	r = run(t, httpCheck(t, "http://web.test/ok", func(c *HTTP) {
		c.Proxy, c.BodyContains = "http://me:pw@proxy.test:3128", "via proxy: http://web.test/ok"
	}), target)
	expect(t, r, diag.Pass)
	if r.Observed["proxy"] != "http://me:xxxxx@proxy.test:3128" || len(proxied) != 1 {
		t.Errorf("observed proxy %v, proxy saw %v", r.Observed["proxy"], proxied)
	}

	r = run(t, httpCheck(t, "http://web.test/ok", func(c *HTTP) { c.Proxy = "http://proxy.test:3128" }), target)
	expect(t, r, diag.Fail, "407 Proxy Authentication Required")
	if !strings.Contains(r.Hint, "credentials") {
		t.Errorf("hint %q", r.Hint)
	}

	r = run(t, httpCheck(t, "https://web.test/ok", func(c *HTTP) { c.Proxy = "http://broken.test:3128" }), target)
	expect(t, r, diag.Fail, "cannot connect to the proxy http://broken.test:3128")

	r = run(t, httpCheck(t, "http://web.test/ok", func(c *HTTP) { c.Proxy = "none" }), target)
	expect(t, r, diag.Pass)
}

func TestHTTPNameDoesNotResolve(t *testing.T) {
	target := newResolvingTarget(startDNS(t))
	r := run(t, httpCheck(t, "https://missing.test/", nil), target)
	expect(t, r, diag.Error, "cannot resolve missing.test")
}

func TestHTTPValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*HTTP)
		field string
	}{
		{"no scheme", func(c *HTTP) { c.URL = "www.example.com/health" }, "url"},
		{"ftp", func(c *HTTP) { c.URL = "ftp://example.com/" }, "url"},
		{"no host", func(c *HTTP) { c.URL = "https:///path" }, "url"},
		{"unparsable", func(c *HTTP) { c.URL = "http://[::1" }, "url"},
		{"bad port", func(c *HTTP) { c.URL = "http://example.com:0/" }, "url"},
		{"method with space", func(c *HTTP) { c.Method = "GET IT" }, "method"},
		{"CONNECT", func(c *HTTP) { c.Method = "CONNECT" }, "method"},
		{"HEAD with body check", func(c *HTTP) { c.Method, c.BodyContains = "HEAD", "ok" }, "method"},
		{"bad status code", func(c *HTTP) { c.Status = []string{"200", "2000"} }, "status"},
		{"status out of range", func(c *HTTP) { c.Status = []string{"99"} }, "status"},
		{"bad status class", func(c *HTTP) { c.Status = []string{"6xx"} }, "status"},
		{"backwards range", func(c *HTTP) { c.Status = []string{"399-200"} }, "status"},
		{"status words", func(c *HTTP) { c.Status = []string{"ok"} }, "status"},
		{"bad regex", func(c *HTTP) { c.BodyMatches = "(unclosed" }, "body_matches"},
		{"negative tls_min_days", func(c *HTTP) { c.TLSMinDays = -5 }, "tls_min_days"},
		{"bad proxy scheme", func(c *HTTP) { c.Proxy = "ftp://proxy:21" }, "proxy"},
		{"proxy without host", func(c *HTTP) { c.Proxy = "http://" }, "proxy"},
		{"bad header name", func(c *HTTP) { c.Headers = map[string]string{"X Token": "a"} }, "headers"},
		{"header with newline", func(c *HTTP) { c.Headers = map[string]string{"X-Token": "a\r\nEvil: 1"} }, "headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := httpCheck(t, "https://www.example.com/health", tt.edit)
			assertFieldError(t, c.Validate(), tt.field)
		})
	}
	for _, edit := range []func(*HTTP){
		nil,
		func(c *HTTP) { c.Status = []string{"200", "3xx", "401-403"}; c.Proxy = "none" },
		func(c *HTTP) { c.URL = "http://[2001:db8::1]:8080/x"; c.Proxy = "socks5h://127.0.0.1:1080" },
	} {
		if err := httpCheck(t, "https://www.example.com/health", edit).Validate(); err != nil {
			t.Errorf("valid parameters rejected: %v", err)
		}
	}
}

func TestStatusSpec(t *testing.T) {
	spec, err := parseStatusSpec([]string{"200", "3xx", "401-403"})
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{200: true, 201: false, 301: true, 399: true, 400: false, 401: true, 403: true, 404: false} {
		if statusAllowed(spec, code) != want {
			t.Errorf("%d allowed = %v", code, !want)
		}
	}
	if got := describeStatusSpec(spec); got != "200, 3xx, 401-403" {
		t.Errorf("described as %q", got)
	}
	def, _ := parseStatusSpec(nil)
	if describeStatusSpec(def) != "200-399" {
		t.Errorf("default is %s", describeStatusSpec(def))
	}
}

// TestHTTPStages: a request that gets no response says at which stage it
// stopped, each with its own words: a stalled TLS handshake is not a
// firewall dropping connections.
func TestHTTPStages(t *testing.T) {
	ca := newTestCA(t, "Test Root CA")
	cert := ca.validFor(t, 90, "127.0.0.1")
	stalls := listen(t, silent)            // accepts, never answers the ClientHello
	mute := listen(t, tlsServer(cert, "")) // completes the handshake, never answers the request
	short := func(c *HTTP) { c.Timeout, c.CAFile = dur(500*time.Millisecond), ca.file(t) }
	tests := []struct {
		name   string
		check  *HTTP
		target diag.Target
		status diag.Status
		stage  string
		msg    string
		hint   string
	}{
		{"handshake stalls", httpCheck(t, "https://127.0.0.1:"+strconv.Itoa(stalls)+"/", short), diag.NewLocal(),
			diag.Fail, "tls_handshake", "accepted the connection but the TLS handshake did not finish within 500ms", "MTU"},
		{"no response after the handshake", httpCheck(t, "https://127.0.0.1:"+strconv.Itoa(mute)+"/", short), diag.NewLocal(),
			diag.Fail, "response", "accepted the request but sent no response within 500ms", "application"},
		{"name does not exist", httpCheck(t, "https://missing.test/", short), newResolvingTarget(startDNS(t)),
			diag.Error, "resolve", "cannot resolve missing.test", "dns"},
		{"name lookup times out", httpCheck(t, "https://web.test/", short), newResolvingTarget(silentUDP(t)),
			diag.Error, "resolve", "could not resolve web.test within 500ms", "DNS servers"},
		{"refused", httpCheck(t, "https://127.0.0.1:"+strconv.Itoa(closedPort(t))+"/", short), diag.NewLocal(),
			diag.Fail, "connect", "refused the connection", "nothing accepts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.check, tt.target)
			expect(t, r, tt.status, tt.msg)
			if r.Observed["stage"] != tt.stage {
				t.Errorf("stage %v, want %s", r.Observed["stage"], tt.stage)
			}
			if !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", r.Hint, tt.hint)
			}
		})
	}
}

// TestHTTPCaptivePortal: the Wi-Fi login page check suspects a portal only
// when something answers the probe with the wrong content; when nothing
// answers, it could not check.
func TestHTTPCaptivePortal(t *testing.T) {
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/generate_204" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, "http://portal.test/login", http.StatusFound)
	}))
	t.Cleanup(probe.Close)
	captive := func(c *HTTP) {
		c.Captive, c.FollowRedirects, c.Status, c.Timeout = true, false, []string{"204"}, dur(500*time.Millisecond)
	}
	silentPort := listen(t, silent)
	tests := []struct {
		name   string
		url    string
		target diag.Target
		status diag.Status
		stage  any
		msg    string
	}{
		{"no portal", probe.URL + "/generate_204", diag.NewLocal(), diag.Pass, nil, "204 No Content"},
		{"portal redirects", probe.URL + "/other", diag.NewLocal(), diag.Warn, nil, "redirected to http://portal.test/login (302 Found) instead of the expected 204; the portal is at portal.test"},
		{"refused", "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/generate_204", diag.NewLocal(), diag.Error, "connect", "nothing answered the login-page probe: 127.0.0.1"},
		{"no name", "http://missing.test/generate_204", newResolvingTarget(startDNS(t)), diag.Error, "resolve", "nothing answered the login-page probe: cannot resolve missing.test"},
		{"no response", "http://127.0.0.1:" + strconv.Itoa(silentPort) + "/generate_204", diag.NewLocal(), diag.Error, "response", "nothing answered the login-page probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, httpCheck(t, tt.url, captive), tt.target)
			expect(t, r, tt.status, tt.msg)
			if r.Observed["stage"] != tt.stage {
				t.Errorf("stage %v, want %v", r.Observed["stage"], tt.stage)
			}
			if r.Status == diag.Error && strings.Contains(r.Hint, "log in") {
				t.Errorf("a probe nothing answered suggests logging in: %q", r.Hint)
			}
			if r.Status == diag.Warn && (!strings.Contains(r.Hint, "log") || r.Observed["captive"] != true) {
				t.Errorf("a wrong answer does not point at a login page: %q", r.Hint)
			}
		})
	}
}

// slowLoopbackDNS serves, over UDP on loopback, names that all point at 127.0.0.1
// (A records; AAAA questions get no records), each answer after delay.
func slowLoopbackDNS(t *testing.T, delay time.Duration) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		time.Sleep(delay)
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true
		if q.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 127.0.0.1")
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestHTTPLatencyLeavesOutNameLookup: max_latency judges the web server
// and the path to it, from the start of connecting; a slow DNS server is
// the dns checks' finding, reported apart (dns_ms, and in the message when
// large), not the website's.
func TestHTTPLatencyLeavesOutNameLookup(t *testing.T) {
	const delay = 600 * time.Millisecond
	target := newResolvingTarget(slowLoopbackDNS(t, delay))
	mux := webMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		io.WriteString(w, "late")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	at := func(name, path string) string { return fmt.Sprintf("http://%s:%d%s", name, port, path) }
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, at("other.test.", "/ok"), http.StatusFound)
	})
	check := func(url string) *HTTP {
		return httpCheck(t, url, func(c *HTTP) { c.Proxy, c.MaxLatency = "none", dur(300*time.Millisecond) })
	}
	lookup := func(r diag.Result, atLeast time.Duration) {
		t.Helper()
		ms, _ := r.Observed["dns_ms"].(float64)
		latency, _ := r.Observed["latency_ms"].(float64)
		if ms < float64(atLeast.Milliseconds()) {
			t.Errorf("dns_ms %v, want at least %v", r.Observed["dns_ms"], atLeast)
		}
		if latency >= float64(delay.Milliseconds()) {
			t.Errorf("latency_ms %v includes the name lookup", latency)
		}
	}

	// The lookup's time is in the message as measured, which a loaded
	// machine stretches: its form is checked here, its size in dns_ms.
	said := regexp.MustCompile(`\(after a [0-9.]+(ms|s) name lookup\)`)
	r := run(t, check(at("www.test.", "/ok")), target)
	expect(t, r, diag.Pass, "answered 200 OK in ")
	if !said.MatchString(r.Message) {
		t.Errorf("message %q does not give the name lookup's time", r.Message)
	}
	lookup(r, delay)

	// Redirects included: two names, two lookups, both left out.
	r = run(t, check(at("www.test.", "/elsewhere")), target)
	expect(t, r, diag.Pass, "after 1 redirect")
	if !said.MatchString(r.Message) {
		t.Errorf("message %q does not give the name lookups' time", r.Message)
	}
	lookup(r, 2*delay)

	// A slow server is still slow.
	r = run(t, check(at("www.test.", "/slow")), target)
	expect(t, r, diag.Warn, "slower than max_latency (300ms)", "name lookup)")
	if latency, _ := r.Observed["latency_ms"].(float64); latency < 400 || latency >= 1000 {
		t.Errorf("latency_ms %v, want the server's 400ms without the lookup", latency)
	}

	// A quick lookup is not mentioned.
	r = run(t, check(at("127.0.0.1", "/ok")), target)
	expect(t, r, diag.Pass)
	if strings.Contains(r.Message, "name lookup") || r.Observed["dns_ms"] != nil {
		t.Errorf("no name was looked up, yet: %q, %v", r.Message, r.Observed)
	}
}

// TestCaptivePortalExplainsHTTPS: behind a login page, a secure site
// presents the portal's certificate; run with the login-page probe, which
// found the portal, the HTTPS failure is put down to it. Without a portal
// found, the same failure stays the check's own.
func TestCaptivePortalExplainsHTTPS(t *testing.T) {
	ca := newTestCA(t, "Test Root CA")
	portalCert := ca.validFor(t, 90, "portal.test")
	https := webServer(t, &portalCert).URL + "/ok"
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://portal.test/login", http.StatusFound)
	}))
	t.Cleanup(portal.Close)
	noPortal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(noPortal.Close)
	caFile := ca.file(t)
	for _, tt := range []struct {
		probe     string
		blockedBy string
	}{{portal.URL + "/generate_204", "captive"}, {noPortal.URL + "/generate_204", ""}} {
		checks := []diag.Check{
			{ID: "https", Kind: "http", Title: "Secure websites", Checker: httpCheck(t, https, func(c *HTTP) { c.CAFile = caFile }), Group: "p"},
			{ID: "captive", Kind: "http", Title: "Wi-Fi login page", Checker: httpCheck(t, tt.probe, func(c *HTTP) {
				c.Captive, c.FollowRedirects, c.Status = true, false, []string{"204"}
			}), Group: "p"},
		}
		results := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), checks)
		web := results[0]
		t.Logf("probe: %s %s; https: %s %s", results[1].Status, results[1].Message, web.Status, web.Message)
		if tt.blockedBy == "" {
			if web.Status != diag.Fail || web.BlockedBy != "" {
				t.Errorf("no portal: https %s blocked by %q, want its own failure", web.Status, web.BlockedBy)
			}
			continue
		}
		if results[1].Status != diag.Warn {
			t.Errorf("probe %s, want warn", results[1].Status)
		}
		if web.Status != diag.Skip || web.BlockedBy != "captive" || !strings.Contains(web.Message, "a consequence of Wi-Fi login page") {
			t.Errorf("https %s blocked by %q: %q; want a consequence of the login page", web.Status, web.BlockedBy, web.Message)
		}
	}
}

// TestClockExplainsExpiredCertificate: a certificate that looks expired
// because this machine's clock is ahead is put down to the clock check of
// the same run, which found the clock off.
func TestClockExplainsExpiredCertificate(t *testing.T) {
	ca := newTestCA(t, "Test Root CA")
	expired := ca.issue(t, []string{"127.0.0.1"}, time.Now().Add(-90*24*time.Hour), time.Now().Add(-time.Hour))
	https := webServer(t, &expired).URL + "/ok"
	// The "network" says it is two hours earlier than this machine.
	dated := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(-2*time.Hour).UTC().Format(http.TimeFormat))
	}))
	t.Cleanup(dated.Close)
	clock := newKind[*Time](t, "time")
	clock.URL = dated.URL
	checks := []diag.Check{
		{ID: "https", Kind: "http", Title: "Secure websites", Checker: httpCheck(t, https, func(c *HTTP) { c.CAFile = ca.file(t) }), Group: "p"},
		{ID: "clock", Kind: "time", Title: "Clock", Checker: clock, Group: "p"},
	}
	results := (&diag.Runner{}).Run(context.Background(), diag.NewLocal(), checks)
	t.Logf("clock: %s %s; https: %s %s", results[1].Status, results[1].Message, results[0].Status, results[0].Message)
	if results[1].Status != diag.Fail {
		t.Fatalf("clock %s, want fail", results[1].Status)
	}
	if web := results[0]; web.Status != diag.Skip || web.BlockedBy != "clock" || !strings.Contains(web.Message, "expired") {
		t.Errorf("https %s blocked by %q: %q; want a consequence of the clock", web.Status, web.BlockedBy, web.Message)
	}
}

// TestHTTPSInterception: a certificate for the site signed by a CA this
// machine does not trust, whose name is a security product's, is named as
// interception, with the issuer.
func TestHTTPSInterception(t *testing.T) {
	trusted := newTestCA(t, "Test Root CA")
	inspector := newTestCA(t, "Acme SSL Inspection CA")
	cert := inspector.validFor(t, 30, "127.0.0.1")
	r := run(t, httpCheck(t, webServer(t, &cert).URL+"/ok", func(c *HTTP) { c.CAFile = trusted.file(t) }), diag.NewLocal())
	expect(t, r, diag.Fail, "signed by 'Acme SSL Inspection CA', which this machine does not trust: a security product or proxy is intercepting HTTPS")
	if !strings.Contains(r.Hint, "Acme SSL Inspection CA") {
		t.Errorf("hint %q does not name the issuer", r.Hint)
	}
	other := newTestCA(t, "Someone Else's CA").validFor(t, 30, "127.0.0.1")
	r = run(t, httpCheck(t, webServer(t, &other).URL+"/ok", func(c *HTTP) { c.CAFile = trusted.file(t) }), diag.NewLocal())
	expect(t, r, diag.Fail, "'Someone Else's CA', which this machine does not trust", "may be intercepting")
}

// TestCaptivePortalPage: a portal that answers the probe with its own page
// (no redirect) is named by the address that answered, and its title.
func TestCaptivePortalPage(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head><title>Hotel Guest WiFi - Sign in</title></head><body>Accept</body></html>"))
	}))
	t.Cleanup(page.Close)
	r := run(t, httpCheck(t, page.URL+"/generate_204", func(c *HTTP) {
		c.Captive, c.FollowRedirects, c.Status = true, false, []string{"204"}
	}), diag.NewLocal())
	expect(t, r, diag.Warn, "200 OK with a page titled \"Hotel Guest WiFi - Sign in\" from 127.0.0.1", "the portal is at 127.0.0.1")
	if r.Observed["portal_host"] != "127.0.0.1" || r.Observed["captive"] != true {
		t.Errorf("observed %v", r.Observed)
	}
}
