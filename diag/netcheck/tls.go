package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

// defaultTLSMinDays is how close to expiry a certificate starts to warn:
// two weeks leaves time to renew through an ordinary change process.
const defaultTLSMinDays = 14

// maxCAFile caps how much of a ca_file is read.
const maxCAFile = 1 << 20

// loadCAFile reads a PEM bundle from the target. The file is the target's
// because a playbook names paths on the machine it checks; the handshake
// itself runs where triage runs, over a connection the target opened.
func loadCAFile(ctx context.Context, t diag.Target, path string) (*x509.CertPool, error) {
	data, truncated, err := t.ReadFile(ctx, path, maxCAFile)
	if err != nil {
		return nil, err
	}
	if truncated {
		return nil, fmt.Errorf("%s is larger than %s", path, diag.FormatBytes(maxCAFile))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificates", path)
	}
	return pool, nil
}

func caFileError(path string, err error) diag.Result {
	return diag.Resultf(diag.Error, "cannot use ca_file %s: %v", path, err).
		WithHint("ca_file must be a PEM file of CA certificates (-----BEGIN CERTIFICATE-----) readable on the target")
}

// daysLeft counts whole days until notAfter, negative once it has passed.
func daysLeft(notAfter, now time.Time) int {
	return int(math.Floor(notAfter.Sub(now).Hours() / 24))
}

// soonestExpiry returns the certificate the server sent that expires
// first: an intermediate that lapses breaks the chain as surely as the
// leaf, and renewing the leaf alone will not fix it.
func soonestExpiry(certs []*x509.Certificate) *x509.Certificate {
	var first *x509.Certificate
	for _, c := range certs {
		if first == nil || c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	return first
}

// withTLSObserved adds what a handshake showed to r.
func withTLSObserved(r diag.Result, st tls.ConnectionState, now time.Time) diag.Result {
	r = r.With("tls_version", tls.VersionName(st.Version))
	if len(st.PeerCertificates) == 0 {
		return r
	}
	leaf := st.PeerCertificates[0]
	soonest := soonestExpiry(st.PeerCertificates)
	return r.With("tls_days_left", daysLeft(soonest.NotAfter, now)).
		With("tls_not_after", soonest.NotAfter.UTC().Format(time.RFC3339)).
		With("tls_subject", certName(leaf)).
		With("tls_issuer", leaf.Issuer.String())
}

// certName is how a person recognises a certificate: its first DNS name,
// else its subject.
func certName(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

// judgeExpiry applies tls_min_days and tls_fail_days to a verified chain.
// It returns r unchanged when the certificates are far from expiry.
func judgeExpiry(r diag.Result, certs []*x509.Certificate, minDays, failDays int, now time.Time) diag.Result {
	c := soonestExpiry(certs)
	if c == nil {
		return r
	}
	days := daysLeft(c.NotAfter, now)
	which := "the certificate for " + certName(c)
	if c != certs[0] {
		which = "the intermediate certificate " + certName(c)
	}
	when := fmt.Sprintf("%s expires in %s (%s)", which, plural(days, "day"), c.NotAfter.UTC().Format("2006-01-02"))
	switch {
	case failDays > 0 && days < failDays:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s, less than tls_fail_days (%d)", when, failDays)
	case minDays > 0 && days < minDays:
		r.Status = diag.Worst(r.Status, diag.Warn)
		r.Message = fmt.Sprintf("%s, less than tls_min_days (%d)", when, minDays)
	default:
		return r
	}
	return r.WithHint("renew %s now and install it on the server (with its intermediates); if it is managed by ACME (certbot, cert-manager), find out why the automatic renewal has not run", which)
}

// chainEvidence lists the certificates a server sent, for the report.
func chainEvidence(certs []*x509.Certificate) string {
	var b strings.Builder
	for i, c := range certs {
		fmt.Fprintf(&b, "certificate %d: subject %s\n", i, c.Subject)
		if len(c.DNSNames) > 0 || len(c.IPAddresses) > 0 {
			names := append([]string(nil), c.DNSNames...)
			for _, ip := range c.IPAddresses {
				names = append(names, ip.String())
			}
			fmt.Fprintf(&b, "  names: %s\n", strings.Join(names, ", "))
		}
		fmt.Fprintf(&b, "  issuer: %s\n  valid: %s to %s\n", c.Issuer,
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// tlsFailure turns a failed handshake into a verdict. ok is false when err
// is not about TLS at all (a dropped connection before the handshake, say).
// endpoint is what the reader knows the server as; name is the name the
// certificate was checked against.
func tlsFailure(err error, endpoint, name string, now time.Time) (r diag.Result, ok bool) {
	var (
		verr    *tls.CertificateVerificationError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		unknown x509.UnknownAuthorityError
		header  tls.RecordHeaderError
		opErr   *net.OpError
	)
	var certs []*x509.Certificate
	if errors.As(err, &verr) {
		certs = verr.UnverifiedCertificates
	}
	r = diag.Result{Status: diag.Fail}
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		c := invalid.Cert
		if now.Before(c.NotBefore) {
			r.Message = fmt.Sprintf("the certificate for %s is not valid until %s", certName(c), c.NotBefore.UTC().Format(time.RFC3339))
			r.Hint = "either the certificate was issued for the future or this machine's clock is behind: check the clock (a time check) before anything else"
		} else {
			r.Message = fmt.Sprintf("the certificate for %s expired on %s, %s ago", certName(c), c.NotAfter.UTC().Format("2006-01-02"), plural(-daysLeft(c.NotAfter, now), "day"))
			r.Hint = "renew the certificate and install it on the server; if the server's certificate looks current, this machine's clock may be ahead: check it with a time check"
		}
	case errors.As(err, &host):
		r.Message = fmt.Sprintf("the certificate %s presents is for %s, not %s", endpoint, certNames(host.Certificate), host.Host)
		r.Hint = "connect with a name the certificate lists, or set server_name if the service is meant to be reached under another name; otherwise the server presents the wrong certificate (a default vhost or SNI not configured), or a login page (captive portal) answers in the site's place"
		// A portal that intercepts port 443 presents its own name.
		r.Upstream = &diag.Prerequisite{What: PrereqCaptive}
	case errors.As(err, &unknown):
		c := unknown.Cert
		if c != nil && len(certs) > 1 && !c.Equal(certs[0]) && c.Subject.String() == c.Issuer.String() {
			// The server sent its root along: the authority this
			// machine does not know is that root, the leaf's issuer.
			c = certs[0]
		}
		switch {
		case c != nil && c.Subject.String() == c.Issuer.String():
			r.Message = fmt.Sprintf("the certificate %s presents is self-signed (%s)", endpoint, certName(c))
			r.Hint = "if the service uses a private CA or a self-signed certificate, give it in ca_file; a login page (captive portal) or a device on the network answering in the site's place also causes this"
		case c != nil && interceptorName(c.Issuer):
			r.Message = fmt.Sprintf("the certificate %s presents is signed by '%s', which this machine does not trust: a security product or proxy is intercepting HTTPS", endpoint, issuerName(c))
			r.Hint = fmt.Sprintf("a security product (antivirus, a firewall, a filtering proxy) decrypts HTTPS on the way and signs the sites' certificates itself; programs that do not trust its CA ('%s') fail: if the interception is your organisation's, install its CA certificate on this machine (or give it in ca_file); if nobody should be intercepting, tell the help desk, as someone may be reading this traffic", issuerName(c))
		case c != nil:
			r.Message = fmt.Sprintf("the certificate %s presents is signed by an unknown authority, '%s', which this machine does not trust: a security product or proxy may be intercepting HTTPS, or the server does not send its intermediate certificate", endpoint, issuerName(c))
			r.Hint = fmt.Sprintf("compare with the issuer a browser on another network shows for this site: if it differs, something on this network (a security product, a proxy, a login page) answers in the site's place, and its CA ('%s') must be trusted or the interception stopped; if it is the same, the server must send its intermediate certificates, or the service uses a private CA to give in ca_file", issuerName(c))
		default:
			r.Message = fmt.Sprintf("the certificate %s presents is signed by an unknown authority", endpoint)
			r.Hint = "if the service uses a private CA, give its certificate in ca_file; if it should be public, the server may be missing its intermediate certificates; a TLS-inspecting proxy or antivirus also causes this"
		}
		r.Upstream = &diag.Prerequisite{What: PrereqCaptive}
	case errors.As(err, &invalid):
		r.Message = fmt.Sprintf("the certificate chain of %s is invalid: %s", endpoint, invalid.Error())
		r.Hint = "the server's certificate cannot be used for this connection: reissue it with the right key usage and chain"
	case verr != nil:
		r.Message = fmt.Sprintf("the certificate of %s failed verification: %v", endpoint, verr.Err)
		r.Hint = "look at the certificate chain in the evidence"
	case errors.As(err, &header):
		r.Message = fmt.Sprintf("%s does not speak TLS", endpoint)
		r.Hint = "this port answers in plain text: set tls: false (or use http://), or use the service's TLS port"
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		r.Message = fmt.Sprintf("%s rejected the TLS handshake: %v", endpoint, opErr.Err)
		switch s := opErr.Err.Error(); {
		case strings.Contains(s, "protocol version"):
			r.Hint = "the server offers only TLS versions older than 1.2, which are obsolete; upgrade its TLS configuration"
		case strings.Contains(s, "certificate required"), strings.Contains(s, "bad certificate"):
			r.Hint = "the server wants a client certificate (mutual TLS), which this check does not send"
		case strings.Contains(s, "unrecognized name"):
			r.Hint = fmt.Sprintf("the server has no site for the name %s: check server_name or the server's virtual hosts", name)
		default:
			r.Hint = "the server and triage share no TLS version or cipher, or the server refuses this client: look at the server's TLS settings and logs"
		}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || classify(err) == problemReset:
		r.Message = fmt.Sprintf("%s closed the connection during the TLS handshake", endpoint)
		r.Hint = fmt.Sprintf("the port may not serve TLS, the server may not know the name %s (SNI), or a firewall or proxy cut the connection", name)
	default:
		return diag.Result{}, false
	}
	if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
		// Not yet valid, or expired: either may be this machine's clock.
		r.Upstream = &diag.Prerequisite{What: diag.PrereqClock}
	}
	if len(certs) > 0 {
		soonest := soonestExpiry(certs)
		r = r.With("tls_days_left", daysLeft(soonest.NotAfter, now)).
			With("tls_not_after", soonest.NotAfter.UTC().Format(time.RFC3339)).
			With("tls_subject", certName(certs[0])).
			With("tls_issuer", certs[0].Issuer.String())
		r.Evidence = chainEvidence(certs)
	}
	return r, true
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another name"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		if c.Subject.CommonName != "" {
			return c.Subject.CommonName + " (common name only, which is no longer accepted)"
		}
		return "no name at all"
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return strings.Join(names, ", ")
}

// checkTLSDays validates tls_min_days and tls_fail_days.
func checkTLSDays(minDays, failDays int) []error {
	var errs []error
	if minDays < 0 {
		errs = append(errs, diag.FieldErrorf("tls_min_days", "must not be negative (0 turns the early warning off)"))
	}
	if failDays < 0 {
		errs = append(errs, diag.FieldErrorf("tls_fail_days", "must not be negative (0 fails only once the certificate has expired)"))
	}
	return errs
}

// plural writes a count with its noun: 1 day, 5 days.
func plural(n int, noun string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// issuerName is how a person recognises a certificate's issuer: its
// common name, else its organisation, else the whole name.
func issuerName(c *x509.Certificate) string {
	switch {
	case c.Issuer.CommonName != "":
		return c.Issuer.CommonName
	case len(c.Issuer.Organization) > 0:
		return c.Issuer.Organization[0]
	}
	return c.Issuer.String()
}

// interceptorWords are found in the names of the CAs that security
// products and filtering proxies sign intercepted sites with.
var interceptorWords = []string{
	"inspection", "intercept", "proxy", "firewall", "filter", "mitm", "decrypt",
	"fortinet", "fortigate", "zscaler", "sophos", "kaspersky", "avast", "avg ", "eset",
	"bitdefender", "norton", "mcafee", "palo alto", "netskope", "blue coat", "bluecoat",
	"umbrella", "check point", "checkpoint", "forcepoint", "websense", "barracuda",
	"untangle", "cisco", "watchguard", "sonicwall", "trend micro", "symantec web",
	"securly", "lightspeed", "smoothwall", "contentkeeper", "iboss", "menlo",
}

// interceptorName reports whether an issuer looks like a TLS-inspecting
// product's CA.
func interceptorName(n pkix.Name) bool {
	s := strings.ToLower(n.String())
	for _, w := range interceptorWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
