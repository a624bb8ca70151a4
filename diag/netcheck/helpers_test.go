package netcheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// Every test in this package talks only to servers it starts itself on
// 127.0.0.1 or ::1.

// testCA is a certificate authority made up for a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial int64 = 1

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"triage tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a server certificate for names (DNS names or IP addresses)
// valid from notBefore to notAfter.
func (ca *testCA) issue(t *testing.T, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// validFor issues a certificate for names that expires in days days (and a
// few hours, so that whole days count as expected).
func (ca *testCA) validFor(t *testing.T, days int, names ...string) tls.Certificate {
	return ca.issue(t, names, time.Now().Add(-24*time.Hour), time.Now().Add(time.Duration(days)*24*time.Hour+3*time.Hour))
}

// file writes the CA certificate where a check's ca_file can name it.
func (ca *testCA) file(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs a checker against a target the way the runner does, under a
// deadline, and fails the test if the result breaks the Result contract.
func run(t *testing.T, c diag.Checker, target diag.Target) diag.Result {
	t.Helper()
	if v, ok := c.(diag.Validator); ok {
		if err := v.Validate(); err != nil {
			t.Fatalf("parameters do not validate: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := c.Run(ctx, target)
	t.Logf("%s: %s\n\thint: %s\n\tobserved: %v", r.Status, r.Message, r.Hint, r.Observed)
	if !r.Status.Valid() {
		t.Fatalf("invalid status %q: %+v", r.Status, r)
	}
	if r.Message == "" {
		t.Errorf("empty message: %+v", r)
	}
	if r.Status != diag.Pass && r.Hint == "" {
		t.Errorf("%s without a hint: %s", r.Status, r.Message)
	}
	return r
}

// expect checks a result's status and that its message contains each of
// the fragments.
func expect(t *testing.T, r diag.Result, status diag.Status, fragments ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %s, want %s; message %q, hint %q", r.Status, status, r.Message, r.Hint)
	}
	for _, f := range fragments {
		if !strings.Contains(r.Message, f) {
			t.Errorf("message %q does not contain %q", r.Message, f)
		}
	}
}

// tcpOnly is a target that, like an SSH target, can open TCP connections
// but not UDP ones. Embedding the interface hides Local's optional
// capabilities (SystemResolver, Pinger), as a remote target lacks them.
type tcpOnly struct{ diag.Target }

func (t tcpOnly) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if strings.HasPrefix(network, "udp") {
		return nil, errors.New("ssh: direct-tcpip channels carry TCP only")
	}
	return t.Target.Dial(ctx, network, address)
}

// plainTarget is the local machine without its optional capabilities.
type plainTarget struct{ diag.Target }

// redirected is a target whose connections to some addresses are sent to
// test servers instead, as a NAT would, and whose files can be replaced:
// it lets a check that insists on port 53 or /etc/resolv.conf meet a
// server on a random loopback port.
type redirected struct {
	diag.Target
	addrs map[string]string // asked address -> actual address
	files map[string]string // path -> replacement path
}

func (t redirected) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if to, ok := t.addrs[address]; ok {
		address = to
	}
	return t.Target.Dial(ctx, network, address)
}

func (t redirected) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if to, ok := t.files[path]; ok {
		path = to
	}
	return t.Target.ReadFile(ctx, path, limit)
}

// resolvingTarget resolves names through a test DNS server, so that a
// check meets real resolver errors without any query leaving the machine.
type resolvingTarget struct {
	diag.Target
	resolver *net.Resolver
}

func newResolvingTarget(dnsAddr string) resolvingTarget {
	return resolvingTarget{Target: diag.NewLocal(), resolver: loopbackResolver(dnsAddr)}
}

func (t resolvingTarget) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	d := net.Dialer{Resolver: t.resolver}
	return d.DialContext(ctx, network, address)
}

// Resolve makes resolvingTarget a SystemResolver, answering as Local does
// but from the test server.
func (t resolvingTarget) Resolve(ctx context.Context, qtype, name string) ([]string, error) {
	switch qtype {
	case "A":
		ips, err := t.resolver.LookupNetIP(ctx, "ip4", name)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, ip := range ips {
			out = append(out, ip.String())
		}
		return out, nil
	case "PTR":
		names, err := t.resolver.LookupAddr(ctx, name)
		for i := range names {
			names[i] = strings.TrimSuffix(names[i], ".")
		}
		return names, err
	}
	return nil, diag.ErrUnsupported
}

func loopbackResolver(dnsAddr string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, dnsAddr)
		},
	}
}

func dur(d time.Duration) diag.Duration { return diag.Duration(d) }

// newKind returns kind's parameter struct with its defaults, as the
// loader starts from.
func newKind[T diag.Checker](t *testing.T, kind string) T {
	t.Helper()
	k, ok := diag.LookupKind(kind)
	if !ok {
		t.Fatalf("kind %s is not registered", kind)
	}
	return k.New().(T)
}

// assertFieldError checks that err names field among its problems.
func assertFieldError(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Validate accepted the parameters; want an error on %s", field)
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var fields []string
	for _, e := range list {
		var fe *diag.FieldError
		if errors.As(e, &fe) {
			if fe.Field == field {
				return
			}
			fields = append(fields, fe.Field)
		}
	}
	t.Errorf("errors %v are on %v, want one on %s", err, fields, field)
}
