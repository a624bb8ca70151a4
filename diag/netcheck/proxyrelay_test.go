package netcheck

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// fakeProxy is a loopback HTTP proxy that answers every request with
// status (CONNECT included) unless the request carries credentials and
// status is 407.
func fakeProxy(t *testing.T, status int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				code := status
				if code == 407 && req.Header.Get("Proxy-Authorization") != "" {
					code = 200
				}
				io.WriteString(c, "HTTP/1.1 "+itoa(code)+" "+http.StatusText(code)+"\r\nContent-Length: 0\r\n\r\n")
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func proxyRelayCheck(t *testing.T) *Proxy {
	c := newKind[*Proxy](t, "proxy")
	// The site, asked directly too, is a loopback port nothing listens
	// on: direct connections are blocked, as on an office network, and
	// nothing leaves the machine.
	c.URL = "https://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/"
	return c
}

// TestProxyAsksForPassword: a proxy that accepts connections but answers
// 407 fails, in words a person understands; with credentials in the
// setting it passes.
func TestProxyAsksForPassword(t *testing.T) {
	p := fakeProxy(t, 407)
	set := diag.ProxySettings{Proxies: []diag.Proxy{{Scheme: "https", URL: p, Source: "HTTPS_PROXY"}}}
	r := run(t, proxyRelayCheck(t), proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Fail, "the proxy asks for a user name and password (407)", "407 Proxy Authentication Required")
	if r.Hint == "" {
		t.Error("no hint")
	}

	withAuth := "http://alice:secret@" + p[len("http://"):]
	set = diag.ProxySettings{Proxies: []diag.Proxy{{Scheme: "https", URL: withAuth, Source: "HTTPS_PROXY"}}}
	r = run(t, proxyRelayCheck(t), proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Pass, "accepts connections")
}

// TestProxyRefusesToRelay: a proxy that answers CONNECT with 403 fails.
func TestProxyRefusesToRelay(t *testing.T) {
	p := fakeProxy(t, 403)
	set := diag.ProxySettings{Proxies: []diag.Proxy{{Scheme: "https", URL: p, Source: "HTTPS_PROXY"}}}
	c := proxyRelayCheck(t)
	r := run(t, c, proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Fail, "refuses to relay to "+strings.TrimSuffix(strings.TrimPrefix(c.URL, "https://"), "/"), "403")
}

// TestProxyPACMissing: an auto-configuration script that cannot be
// fetched fails where direct connections are blocked, and is a warning
// where they work; one that is served passes.
func TestProxyPACMissing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/proxy.pac" {
			io.WriteString(w, "function FindProxyForURL(url, host) { return \"DIRECT\"; }")
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	set := diag.ProxySettings{AutoConfigURL: srv.URL + "/wpad.dat", AutoConfigSource: "Windows Internet settings"}
	r := run(t, proxyRelayCheck(t), proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Fail, "the script cannot be fetched: 404")
	set.AutoConfigURL = srv.URL + "/proxy.pac"
	r = run(t, proxyRelayCheck(t), proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Pass)

	// A missing script where direct connections work: browsers go
	// directly, and the web works; a warning, not a failure that would
	// stop the web checks.
	set.AutoConfigURL = srv.URL + "/wpad.dat"
	c := proxyRelayCheck(t)
	c.URL = srv.URL + "/"
	r = run(t, c, proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Warn, "the proxy auto-configuration script cannot be fetched, so browsers go directly, and a direct connection to "+srv.Listener.Addr().String()+" works here", "404")
	if r.Observed["direct"] != "works" {
		t.Errorf("observed direct = %v, want works", r.Observed["direct"])
	}

	// The same with the script's server down.
	set.AutoConfigURL = "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/wpad.dat"
	r = run(t, c, proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Warn, "cannot be fetched, so browsers go directly")
}

// TestProxyAgainstDirect: the check's URL is asked directly too. A proxy
// that cannot fetch it (502) while the site answers directly is the
// proxy's fault; a proxy that relays while direct connections go nowhere
// is a company network working as meant: pass, with a note.
func TestProxyAgainstDirect(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer site.Close()

	bad := fakeProxy(t, http.StatusBadGateway)
	set := diag.ProxySettings{Proxies: []diag.Proxy{{Scheme: "http", URL: bad, Source: "HTTP_PROXY"}}}
	c := newKind[*Proxy](t, "proxy")
	c.URL = site.URL + "/"
	r := run(t, c, proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Fail, "the proxy fails while a direct connection to "+site.Listener.Addr().String()+" works",
		"not needed here (at home, away from the office)", "502")
	if r.Observed["direct"] != "works" {
		t.Errorf("observed direct = %v, want works", r.Observed["direct"])
	}

	// A proxy that takes the request and never answers, while the site
	// answers directly.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	set = diag.ProxySettings{Proxies: []diag.Proxy{{Scheme: "http", URL: "http://" + silent.Addr().String(), Source: "HTTP_PROXY"}}}
	c = newKind[*Proxy](t, "proxy")
	c.URL = site.URL + "/"
	c.Timeout = diag.Duration(500 * time.Millisecond)
	r = run(t, c, proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Fail, "the proxy fails while a direct connection", "did not answer the request")

	// Nothing listens where the URL points: only the proxy gets there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	good := fakeProxy(t, http.StatusOK)
	set = diag.ProxySettings{Proxies: []diag.Proxy{{Scheme: "http", URL: good, Source: "HTTP_PROXY"}}}
	c = newKind[*Proxy](t, "proxy")
	c.URL = "http://" + closed + "/"
	r = run(t, c, proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Pass, "accepts connections", "direct connections are blocked; the proxy is needed")

	// Both work: a plain pass, no note.
	c = newKind[*Proxy](t, "proxy")
	c.URL = site.URL + "/"
	r = run(t, c, proxyMachine{plainTarget{diag.NewLocal()}, set})
	expect(t, r, diag.Pass, "accepts connections")
	if strings.Contains(r.Message, "direct") {
		t.Errorf("message mentions direct connections although both work: %s", r.Message)
	}
}
