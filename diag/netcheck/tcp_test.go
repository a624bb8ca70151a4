package netcheck

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// listen starts a TCP server on 127.0.0.1 that hands each connection to
// serve, and returns its port.
func listen(t *testing.T, serve func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				// No handler may outlive the test.
				stop := context.AfterFunc(ctxFromChan(done), func() { c.Close() })
				defer stop()
				serve(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func ctxFromChan(done <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-done; cancel() }()
	return ctx
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func greeter(greeting string) func(net.Conn) {
	return func(c net.Conn) {
		io.WriteString(c, greeting)
		io.Copy(io.Discard, c)
	}
}

func silent(c net.Conn) { io.Copy(io.Discard, c) }

func hangUp(net.Conn) {}

// tlsServer serves TLS with cert, then greets with greeting.
func tlsServer(cert tls.Certificate, greeting string) func(net.Conn) {
	return func(c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		if tc.Handshake() != nil {
			return
		}
		io.WriteString(tc, greeting)
		io.Copy(io.Discard, tc)
	}
}

func tcpCheck(t *testing.T, port int, edit func(*TCP)) *TCP {
	c := newKind[*TCP](t, "tcp")
	c.Host, c.Port = "127.0.0.1", port
	if edit != nil {
		edit(c)
	}
	return c
}

func TestTCPConnect(t *testing.T) {
	local := diag.NewLocal()
	open := listen(t, silent)
	ssh := listen(t, greeter("SSH-2.0-OpenSSH_9.6\r\n"))
	smtp := listen(t, greeter("554 no service for you\r\n"))
	mute := listen(t, silent)
	rude := listen(t, hangUp)
	refused := closedPort(t)

	tests := []struct {
		name     string
		check    *TCP
		status   diag.Status
		msg      []string
		observed map[string]any
	}{
		{"open port", tcpCheck(t, open, nil), diag.Pass, []string{"connected to 127.0.0.1:" + strconv.Itoa(open)},
			map[string]any{"connected": true, "address": "127.0.0.1:" + strconv.Itoa(open)}},
		{"refused", tcpCheck(t, refused, nil), diag.Fail, []string{"refused the connection"},
			map[string]any{"connected": false}},
		{"banner found", tcpCheck(t, ssh, func(c *TCP) { c.Banner = "SSH-2.0" }), diag.Pass, []string{`greeted with "SSH-2.0-OpenSSH_9.6"`},
			map[string]any{"banner": `SSH-2.0-OpenSSH_9.6\r\n`}},
		{"wrong banner", tcpCheck(t, smtp, func(c *TCP) { c.Banner = "220 "; c.Timeout = dur(300 * time.Millisecond) }), diag.Fail,
			[]string{`sent "554 no service for you\r\n", which does not contain "220 "`}, nil},
		{"silent server", tcpCheck(t, mute, func(c *TCP) { c.Banner = "220 "; c.Timeout = dur(200 * time.Millisecond) }), diag.Fail,
			[]string{"sent nothing within 200ms"}, map[string]any{"connected": true}},
		{"server hangs up", tcpCheck(t, rude, func(c *TCP) { c.Banner = "220 " }), diag.Fail,
			[]string{"closed it without sending anything"}, nil},
		{"IPv6 literal in brackets", tcpCheck(t, refused, func(c *TCP) { c.Host = "[127.0.0.1]" }), diag.Fail,
			[]string{"refused"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.check, local)
			expect(t, r, tt.status, tt.msg...)
			for k, want := range tt.observed {
				if got := r.Observed[k]; got != want {
					t.Errorf("observed[%s] = %#v, want %#v", k, got, want)
				}
			}
			if r.Status == diag.Pass {
				if _, ok := r.Observed["latency_ms"].(float64); !ok {
					t.Errorf("no latency_ms in %v", r.Observed)
				}
			}
		})
	}
}

func TestTCPIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c := tcpCheck(t, ln.Addr().(*net.TCPAddr).Port, func(c *TCP) { c.Host = "::1" })
	r := run(t, c, diag.NewLocal())
	expect(t, r, diag.Pass, "[::1]:")
}

func TestTCPNameDoesNotResolve(t *testing.T) {
	dnsAddr := startDNS(t)
	target := newResolvingTarget(dnsAddr)
	c := tcpCheck(t, 443, func(c *TCP) { c.Host = "missing.test" })
	r := run(t, c, target)
	expect(t, r, diag.Error, "cannot resolve missing.test", "no such host")
	if !strings.Contains(r.Hint, "dns: {name: missing.test}") {
		t.Errorf("hint does not point at a dns check: %s", r.Hint)
	}
}

func TestTCPCancelled(t *testing.T) {
	port := listen(t, silent)
	c := tcpCheck(t, port, func(c *TCP) { c.Banner = "never" })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	r := c.Run(ctx, diag.NewLocal())
	if r.Status != diag.Error {
		t.Fatalf("cancelled check reported %s: %s", r.Status, r.Message)
	}
}

func TestTCPTLS(t *testing.T) {
	local := diag.NewLocal()
	ca := newTestCA(t, "Test Root CA")
	other := newTestCA(t, "Someone Else's CA")
	caFile := ca.file(t)

	good := listen(t, tlsServer(ca.validFor(t, 90, "127.0.0.1", "svc.test"), "+OK ready\r\n"))
	soon := listen(t, tlsServer(ca.validFor(t, 5, "127.0.0.1"), ""))
	expired := listen(t, tlsServer(ca.issue(t, []string{"127.0.0.1"}, time.Now().Add(-60*24*time.Hour), time.Now().Add(-3*24*time.Hour+3*time.Hour)), ""))
	future := listen(t, tlsServer(ca.issue(t, []string{"127.0.0.1"}, time.Now().Add(48*time.Hour), time.Now().Add(90*24*time.Hour)), ""))
	wrongName := listen(t, tlsServer(ca.validFor(t, 90, "other.example"), ""))
	unknown := listen(t, tlsServer(other.validFor(t, 90, "127.0.0.1"), ""))
	plain := listen(t, greeter("220 smtp.test ESMTP\r\n"))

	withCA := func(edit func(*TCP)) func(*TCP) {
		return func(c *TCP) {
			c.TLS, c.CAFile = true, caFile
			if edit != nil {
				edit(c)
			}
		}
	}
	tests := []struct {
		name   string
		check  *TCP
		status diag.Status
		msg    []string
		hint   string
	}{
		{"valid chain", tcpCheck(t, good, withCA(nil)), diag.Pass, []string{"TLS 1.3", "valid for 90 days more"}, ""},
		{"banner after handshake", tcpCheck(t, good, withCA(func(c *TCP) { c.Banner = "+OK" })), diag.Pass, []string{`greeted with "+OK ready"`}, ""},
		{"server_name", tcpCheck(t, good, withCA(func(c *TCP) { c.ServerName = "svc.test" })), diag.Pass, []string{"certificate for svc.test"}, ""},
		{"expires soon: warn", tcpCheck(t, soon, withCA(nil)), diag.Warn, []string{"expires in 5 days", "tls_min_days (14)"}, "renew"},
		{"expires soon: fail", tcpCheck(t, soon, withCA(func(c *TCP) { c.TLSFailDays = 7 })), diag.Fail, []string{"expires in 5 days", "tls_fail_days (7)"}, "renew"},
		{"expires soon: warning off", tcpCheck(t, soon, withCA(func(c *TCP) { c.TLSMinDays = 0 })), diag.Pass, []string{"valid for 5 days more"}, ""},
		{"expired", tcpCheck(t, expired, withCA(nil)), diag.Fail, []string{"expired on", "3 days ago"}, "renew"},
		{"not yet valid", tcpCheck(t, future, withCA(nil)), diag.Fail, []string{"is not valid until"}, "clock"},
		{"wrong name", tcpCheck(t, wrongName, withCA(nil)), diag.Fail, []string{"is for other.example, not 127.0.0.1"}, "server_name"},
		{"unknown authority", tcpCheck(t, unknown, withCA(nil)), diag.Fail, []string{"signed by an unknown authority", "Someone Else's CA"}, "ca_file"},
		{"system roots do not know the test CA", tcpCheck(t, good, func(c *TCP) { c.TLS = true }), diag.Fail, []string{"unknown authority"}, "ca_file"},
		{"plain text port", tcpCheck(t, plain, withCA(nil)), diag.Fail, []string{"does not speak TLS"}, "tls: false"},
		{"missing ca_file", tcpCheck(t, good, func(c *TCP) { c.TLS, c.CAFile = true, "/nonexistent/ca.pem" }), diag.Error, []string{"cannot use ca_file"}, "PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.check, local)
			expect(t, r, tt.status, tt.msg...)
			if tt.hint != "" && !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", r.Hint, tt.hint)
			}
		})
	}

	t.Run("observed", func(t *testing.T) {
		r := run(t, tcpCheck(t, soon, withCA(nil)), local)
		if r.Observed["tls_days_left"] != 5 || r.Observed["tls_version"] != "TLS 1.3" || r.Observed["tls_subject"] != "127.0.0.1" {
			t.Errorf("observed %v", r.Observed)
		}
		if !strings.Contains(r.Evidence, "issuer: CN=Test Root CA") {
			t.Errorf("evidence lacks the chain: %s", r.Evidence)
		}
		r = run(t, tcpCheck(t, expired, withCA(nil)), local)
		if r.Observed["tls_days_left"] != -3 {
			t.Errorf("expired certificate: tls_days_left = %v", r.Observed["tls_days_left"])
		}
	})
}

func TestTCPValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*TCP)
		field string
	}{
		{"port 0", func(c *TCP) { c.Port = 0 }, "port"},
		{"port too high", func(c *TCP) { c.Port = 65536 }, "port"},
		{"negative port", func(c *TCP) { c.Port = -1 }, "port"},
		{"empty host", func(c *TCP) { c.Host = "" }, "host"},
		{"host with port", func(c *TCP) { c.Host = "example.com:443" }, "host"},
		{"host is a URL", func(c *TCP) { c.Host = "https://example.com" }, "host"},
		{"ca_file without tls", func(c *TCP) { c.CAFile = "/etc/ca.pem" }, "ca_file"},
		{"server_name without tls", func(c *TCP) { c.ServerName = "a.example" }, "server_name"},
		{"tls_min_days without tls", func(c *TCP) { c.TLSMinDays = 30 }, "tls_min_days"},
		{"negative tls_min_days", func(c *TCP) { c.TLS, c.TLSMinDays = true, -1 }, "tls_min_days"},
		{"negative tls_fail_days", func(c *TCP) { c.TLS, c.TLSFailDays = true, -1 }, "tls_fail_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tcpCheck(t, 443, tt.edit)
			assertFieldError(t, c.Validate(), tt.field)
		})
	}
	if err := tcpCheck(t, 443, func(c *TCP) { c.Host = "2001:db8::1" }).Validate(); err != nil {
		t.Errorf("bare IPv6 host rejected: %v", err)
	}
}
