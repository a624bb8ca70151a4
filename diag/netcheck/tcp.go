package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "tcp",
		Summary: "Opens a TCP connection to a host and port, optionally with a TLS handshake and an expected banner.",
		New: func() diag.Checker {
			return &TCP{Timeout: diag.Duration(5 * time.Second), TLSMinDays: defaultTLSMinDays}
		},
	})
}

// maxBanner caps how much of a greeting is read while looking for banner.
const maxBanner = 4 << 10

// TCP checks that a port accepts connections from the target.
type TCP struct {
	Host        string        `yaml:"host" required:"true" doc:"the host name or IP address to connect to"`
	Port        int           `yaml:"port" required:"true" doc:"the TCP port, 1 to 65535"`
	Timeout     diag.Duration `yaml:"timeout" doc:"how long connecting, the TLS handshake and reading the banner may take together (default 5s)"`
	TLS         bool          `yaml:"tls" doc:"do a TLS handshake and verify the certificate chain and name"`
	ServerName  string        `yaml:"server_name" doc:"the name to send (SNI) and to verify the certificate against, when it is not host"`
	CAFile      string        `yaml:"ca_file" doc:"a PEM file on the target with the CA certificates to trust instead of the system's"`
	TLSMinDays  int           `yaml:"tls_min_days" doc:"warn when a certificate expires in fewer days than this (default 14; 0 turns the warning off)"`
	TLSFailDays int           `yaml:"tls_fail_days" doc:"fail when a certificate expires in fewer days than this (default 0: fail only once expired)"`
	Banner      string        `yaml:"banner" doc:"text the server must send first, such as SSH- or 220 (read after the TLS handshake when tls is set)"`
}

func (c *TCP) Validate() error {
	var errs []error
	if err := checkHost("host", c.Host); err != nil {
		errs = append(errs, err)
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, diag.FieldErrorf("port", "%d is not a TCP port (want 1 to 65535)", c.Port))
	}
	errs = append(errs, checkTLSDays(c.TLSMinDays, c.TLSFailDays)...)
	if !c.TLS {
		// The TLS settings do nothing without tls: true, and a playbook
		// that sets them almost certainly meant to check the certificate.
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"server_name", c.ServerName != ""},
			{"ca_file", c.CAFile != ""},
			{"tls_fail_days", c.TLSFailDays != 0},
			{"tls_min_days", c.TLSMinDays != defaultTLSMinDays},
		} {
			if f.set {
				errs = append(errs, diag.FieldErrorf(f.name, "applies only with tls: true"))
			}
		}
	}
	if c.ServerName != "" {
		if err := checkHost("server_name", c.ServerName); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *TCP) Run(parent context.Context, t diag.Target) diag.Result {
	ctx, cancel, timeout := withTimeout(parent, c.Timeout, 5*time.Second)
	defer cancel()
	host := bareHost(c.Host)
	addr := net.JoinHostPort(host, strconv.Itoa(c.Port))
	base := diag.Result{}.With("address", addr).With("connected", false)

	var pool *x509.CertPool
	if c.TLS && c.CAFile != "" {
		p, err := loadCAFile(ctx, t, c.CAFile)
		if err != nil {
			if parent.Err() != nil {
				return cancelled(parent)
			}
			return withObserved(caFileError(c.CAFile, err), base)
		}
		pool = p
	}

	start := time.Now()
	conn, err := dialTarget(ctx, t, "tcp", addr)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return withObserved(connectFailure(t, host, c.Port, addr, timeout, err), base)
	}
	defer conn.Close()
	latency := time.Since(start)
	r := base.With("connected", true).With("latency_ms", diag.Milliseconds(latency))
	if ra := conn.RemoteAddr(); ra != nil && ra.String() != addr {
		r = r.With("remote_addr", ra.String())
	}
	summary := fmt.Sprintf("connected to %s in %s", addr, roundDuration(latency))

	var rw io.Reader = conn
	if c.TLS {
		name := host
		if c.ServerName != "" {
			name = c.ServerName
		}
		cfg := &tls.Config{ServerName: name, RootCAs: pool}
		tc := tls.Client(conn, cfg)
		now := time.Now()
		if err := tc.HandshakeContext(ctx); err != nil {
			if parent.Err() != nil {
				return cancelled(parent)
			}
			return withObserved(handshakeFailure(err, addr, name, timeout, now), r)
		}
		st := tc.ConnectionState()
		r = withTLSObserved(r, st, now)
		r.Evidence = chainEvidence(st.PeerCertificates)
		summary += fmt.Sprintf("; %s, certificate for %s valid for %s more",
			tls.VersionName(st.Version), certName(st.PeerCertificates[0]), plural(daysLeft(soonestExpiry(st.PeerCertificates).NotAfter, now), "day"))
		r.Status, r.Message = diag.Pass, summary
		r = judgeExpiry(r, st.PeerCertificates, c.TLSMinDays, c.TLSFailDays, now)
		if r.Status == diag.Fail {
			return r
		}
		rw = tc
	}

	if c.Banner != "" {
		got, found, err := readBanner(rw, c.Banner)
		if len(got) > 0 {
			r = r.With("banner", printable(got, 200))
		}
		if parent.Err() != nil {
			return cancelled(parent)
		}
		if !found {
			return bannerFailure(r, addr, c.Banner, got, err, timeout)
		}
		summary += fmt.Sprintf("; the server greeted with %q", firstLine(got))
	}
	if r.Status == diag.Warn {
		return r
	}
	r.Status, r.Message = diag.Pass, summary
	return r
}

// readBanner reads what the server sends first until want appears, the
// server stops (EOF), the deadline passes or maxBanner bytes have come.
func readBanner(r io.Reader, want string) (got []byte, found bool, err error) {
	buf := make([]byte, 1024)
	for len(got) < maxBanner {
		n, rerr := r.Read(buf)
		got = append(got, buf[:n]...)
		if strings.Contains(string(got), want) {
			return got, true, nil
		}
		if rerr != nil {
			return got, false, rerr
		}
	}
	return got, false, nil
}

func bannerFailure(r diag.Result, addr, want string, got []byte, err error, timeout time.Duration) diag.Result {
	r.Status = diag.Fail
	timedOut := err != nil && classify(err) == problemTimeout
	switch {
	case len(got) == 0 && timedOut:
		r.Message = fmt.Sprintf("%s accepted the connection but sent nothing within %s (expected %q)", addr, timeout, want)
		r.Hint = "the service on this port waits for the client to speak first, so it is not the service expected, or it is hung: check which program listens there (ss -ltnp on Linux, netstat -ano on Windows) and its logs"
	case len(got) == 0:
		r.Message = fmt.Sprintf("%s accepted the connection and closed it without sending anything (expected %q)", addr, want)
		r.Hint = "the service turned this client away (tcp_wrappers, an allow list, a connection limit) or is crashing: look at its logs"
	default:
		r.Message = fmt.Sprintf("%s sent \"%s\", which does not contain %q", addr, printable(got, 80), want)
		r.Hint = "another service than the expected one listens on this port, or it answers with an error: read the greeting in the evidence"
		r.Evidence = strings.TrimSpace(r.Evidence + "\nreceived: " + printable(got, 2000))
	}
	return r
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return printable([]byte(strings.TrimRight(s, "\r")), 80)
}

// connectFailure explains why a TCP connection could not be opened.
func connectFailure(t diag.Target, host string, port int, addr string, timeout time.Duration, err error) diag.Result {
	switch classify(err) {
	case problemDNS:
		return dnsFailure(t, host, err)
	case problemRefused:
		return diag.Resultf(diag.Fail, "%s refused the connection", addr).
			WithHint("the host is up but nothing accepts connections on port %d: the service is stopped, listens on another port or address (only 127.0.0.1?), or a firewall rejects the connection; on the server, ss -ltnp (Linux) or netstat -ano (Windows) shows what listens", port)
	case problemTimeout:
		return diag.Resultf(diag.Fail, "no answer from %s within %s", addr, timeout).
			WithHint("connection attempts are being dropped: a firewall (on the host, the network or a cloud security group) filters port %d, or %s is down or unreachable; compare with a ping check and a check of another port", port, host)
	case problemUnreachable:
		return diag.Resultf(diag.Fail, "cannot reach %s: %s", addr, rootCause(err)).
			WithHint("there is no route to %s from %s: check the VPN connection, the default gateway and the routing table", host, where(t)).
			WithUpstream(unreachable(err))
	case problemReset:
		return diag.Resultf(diag.Fail, "%s reset the connection", addr).
			WithHint("something on the path closed the connection at once: a firewall, an intrusion prevention system, or the service itself refusing this client")
	}
	return diag.Resultf(diag.Error, "could not open a connection to %s from %s: %v", addr, where(t), err).
		WithHint("the target could not even attempt the connection; the message says why (on SSH targets, the server may forbid TCP forwarding)")
}

// handshakeFailure explains a TLS handshake that did not complete.
func handshakeFailure(err error, addr, name string, timeout time.Duration, now time.Time) diag.Result {
	if r, ok := tlsFailure(err, addr, name, now); ok {
		return r
	}
	if classify(err) == problemTimeout {
		return diag.Resultf(diag.Fail, "%s accepted the connection but the TLS handshake did not finish within %s", addr, timeout).
			WithHint("the port may serve a protocol that waits for the client in plain text, or the server is overloaded; check that this is the TLS port")
	}
	return diag.Resultf(diag.Fail, "the TLS handshake with %s failed: %v", addr, err).
		WithHint("check that the port serves TLS and look at the server's TLS logs")
}

// withObserved adds base's observed values to r where r lacks them.
func withObserved(r, base diag.Result) diag.Result {
	for k, v := range base.Observed {
		if _, ok := r.Observed[k]; !ok {
			r = r.With(k, v)
		}
	}
	return r
}

// rootCause drops the "dial tcp 1.2.3.4:80: connect:" prefixes of a
// network error, keeping what a person needs to read.
func rootCause(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// roundDuration keeps durations in messages readable: 12ms, 1.2s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}
