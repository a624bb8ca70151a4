//go:build linux

package faultlab

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The servers that stand in for the internet's when the router diverts
// the user's web traffic to them (DNAT): a captive portal, a
// TLS-intercepting security product, a site whose certificate expired.
// They listen on the router's address towards the user, on ports of their
// own; without the diversion nothing reaches them.
const (
	PortalHTTPPort   = 8080 // the portal: its login page at PortalURL, a 302 to it for every other request
	PortalHTTPSPort  = 8443 // the portal's HTTPS: a certificate for PortalName from the lab's CA
	InterceptorPort  = 8444 // HTTPS with a certificate for every name, from InterceptorCA
	ExpiredHTTPSPort = 8445 // the lab's sites with a certificate that expired yesterday
	FreshHTTPSPort   = 8446 // the lab's sites with a certificate issued minutes ago by the internet's clock
	// PortalName and PortalURL are where the portal sends every request.
	PortalName = "portal.lab"
	PortalURL  = "http://portal.lab/login"
	// InterceptorCA is the name of the CA the interceptor signs with; the
	// user's machine does not trust it.
	InterceptorCA = "Acme SSL Inspection CA"
)

// startDiverted starts the portal, interceptor and expired-site servers in
// the router's namespace and adds their shutdown to the lab's closers.
func (l *Lab) startDiverted() error {
	now := time.Now()
	leaf := func(names []string, notBefore, notAfter time.Time, ca *x509.Certificate, key *ecdsa.PrivateKey) (tls.Certificate, error) {
		return issueCert(names, notBefore, notAfter, ca, key)
	}
	portalCert, err := leaf([]string{PortalName}, now.Add(-time.Hour), now.AddDate(1, 0, 0), l.web.ca, l.web.caKey)
	if err != nil {
		return err
	}
	expiredCert, err := leaf(WebNames, now.AddDate(-1, 0, 0), now.Add(-24*time.Hour), l.web.ca, l.web.caKey)
	if err != nil {
		return err
	}
	interceptor, err := newInterceptor()
	if err != nil {
		return err
	}
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/generate_204" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "fault lab web server: %s\n", r.Host)
	})
	portal := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Host, PortalName) && r.URL.Path == "/login" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<html><head><title>Lab Guest Wi-Fi - Log in</title></head><body>Accept the terms to continue.</body></html>\n")
			return
		}
		http.Redirect(w, r, PortalURL, http.StatusFound)
	})
	// The fresh certificate is made when ServeFreshCertificate is
	// called, from the internet's clock of that moment.
	fresh := func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c := l.freshCert.Load(); c != nil {
			return c, nil
		}
		return nil, errors.New("faultlab: no fresh certificate: call ServeFreshCertificate")
	}
	servers := []struct {
		port    int
		handler http.Handler
		tls     *tls.Config
	}{
		{PortalHTTPPort, portal, nil},
		{PortalHTTPSPort, portal, &tls.Config{Certificates: []tls.Certificate{portalCert}}},
		{InterceptorPort, site, &tls.Config{GetCertificate: interceptor.certificate}},
		{ExpiredHTTPSPort, site, &tls.Config{Certificates: []tls.Certificate{expiredCert}}},
		{FreshHTTPSPort, site, &tls.Config{GetCertificate: fresh}},
	}
	var srvs []*http.Server
	var wg sync.WaitGroup
	for _, s := range servers {
		ln, err := listenIn(l.Router, fmt.Sprintf("%s:%d", RouterAddr, s.port))
		if err != nil {
			for _, srv := range srvs {
				srv.Close()
			}
			return err
		}
		if s.tls != nil {
			ln = tls.NewListener(ln, s.tls)
		}
		srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		srvs = append(srvs, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.Serve(ln)
		}()
	}
	l.closers = append(l.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range srvs {
			if srv.Shutdown(ctx) != nil {
				srv.Close()
			}
		}
		wg.Wait()
	})
	return nil
}

// divert has the router send the user's TCP connections to ports (80,
// 443) to the router's own port instead, as a portal or an intercepting
// firewall does.
func (l *Lab) divert(ports map[int]int) error {
	rules := ""
	for from, to := range ports {
		rules += fmt.Sprintf("\t\tiifname %q tcp dport %d dnat ip to %s:%d\n", RouterUserIface, from, RouterAddr, to)
	}
	return l.Nft("table ip faultlab_divert {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat;\n" + rules + "\t}\n}\n")
}

// SetCaptivePortal puts a login page in the way, as hotel and guest Wi-Fi
// do: every web request from the user (port 80) is answered with a
// redirect to PortalURL, and every HTTPS connection (port 443) meets the
// portal's certificate, for PortalName. Reset removes it.
func (l *Lab) SetCaptivePortal() error {
	return l.divert(map[int]int{80: PortalHTTPPort, 443: PortalHTTPSPort})
}

// InterceptHTTPS has a security product on the router answer every HTTPS
// connection (port 443) with a certificate for the name asked, signed by
// InterceptorCA, which the user's machine does not trust. Reset removes it.
func (l *Lab) InterceptHTTPS() error {
	return l.divert(map[int]int{443: InterceptorPort})
}

// ServeExpiredCertificate has every HTTPS connection (port 443) meet the
// lab's sites with a certificate, from the trusted CA, that expired a day
// ago. Reset removes it.
func (l *Lab) ServeExpiredCertificate() error {
	return l.divert(map[int]int{443: ExpiredHTTPSPort})
}

// ServeFreshCertificate has every HTTPS connection (port 443) meet the
// lab's sites with a certificate, from the trusted CA, issued ten minutes
// ago by the internet's clock (SetClockOffset): a user's clock that is
// behind by more sees it as not yet valid, as a site that renewed its
// certificate this morning looks to a laptop whose clock is a day behind.
// Reset removes it.
func (l *Lab) ServeFreshCertificate() error {
	issued := time.Now().Add(time.Duration(l.clockOffset.Load())).Add(-10 * time.Minute)
	c, err := issueCert(WebNames, issued, issued.AddDate(0, 3, 0), l.web.ca, l.web.caKey)
	if err != nil {
		return err
	}
	l.freshCert.Store(&c)
	return l.divert(map[int]int{443: FreshHTTPSPort})
}

// interceptor makes a certificate for whatever name a client asks for,
// as TLS-inspecting products do.
type interceptor struct {
	ca    *x509.Certificate
	key   *ecdsa.PrivateKey
	mu    sync.Mutex
	certs map[string]*tls.Certificate
}

func newInterceptor() (*interceptor, error) {
	ca, key, err := newCA(pkix.Name{CommonName: InterceptorCA, Organization: []string{"Acme Security"}}, 100)
	if err != nil {
		return nil, err
	}
	return &interceptor{ca: ca, key: key, certs: map[string]*tls.Certificate{}}, nil
}

func (i *interceptor) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		if a, ok := hello.Conn.LocalAddr().(*net.TCPAddr); ok {
			name = a.IP.String()
		}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if c, ok := i.certs[name]; ok {
		return c, nil
	}
	now := time.Now()
	c, err := issueCert([]string{name}, now.Add(-time.Hour), now.AddDate(0, 3, 0), i.ca, i.key)
	if err != nil {
		return nil, err
	}
	i.certs[name] = &c
	return &c, nil
}

var certSerial struct {
	sync.Mutex
	n int64
}

// issueCert makes a server certificate for names (DNS names or IP
// addresses), signed by ca, with the ca's certificate sent along.
func issueCert(names []string, notBefore, notAfter time.Time, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	certSerial.Lock()
	certSerial.n++
	serial := 1000 + certSerial.n
	certSerial.Unlock()
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
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: key}, nil
}
