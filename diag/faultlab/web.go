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
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// WebNames are the names in the HTTPS servers' certificate.
var WebNames = []string{"example.com", "intranet.example.org", "connectivitycheck.gstatic.com"}

// webServer is "the internet": HTTP on port 80 and HTTPS on 443 of every
// address of the internet namespace. "/generate_204" answers 204 (as
// Google's connectivity check does), everything else 200.
type webServer struct {
	srvs []*http.Server
	wg   sync.WaitGroup
	// ca and caKey are the lab's trusted test CA, for the servers that
	// stand in for the internet's (a captive portal, an expired site).
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
}

// startWeb makes a test CA and a certificate for WebNames, writes the CA
// to dir/ca.pem and starts the servers in ns. now is the servers' clock,
// for their Date header: "the clock is off" is the lab's internet telling
// another time than the user's machine, over NTP and HTTP alike.
func startWeb(ns, dir string, now func() time.Time) (string, *webServer, error) {
	caFile := filepath.Join(dir, "ca.pem")
	cert, caPEM, ca, caKey, err := makeCerts()
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		return "", nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", now().UTC().Format(http.TimeFormat))
		switch r.URL.Path {
		case "/generate_204":
			w.WriteHeader(http.StatusNoContent)
			return
		case "/proxy.pac":
			// A proxy auto-configuration script that sends everything
			// directly.
			w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
			fmt.Fprintln(w, `function FindProxyForURL(url, host) { return "DIRECT"; }`)
			return
		case "/wpad.dat":
			// The script an old setting names, gone since.
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "fault lab web server: %s\n", r.Host)
	})
	ws := &webServer{ca: ca, caKey: caKey}
	plain, err := listenIn(ns, "0.0.0.0:80")
	if err != nil {
		return "", nil, err
	}
	secure, err := listenIn(ns, "0.0.0.0:443")
	if err != nil {
		plain.Close()
		return "", nil, err
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	listeners := []net.Listener{plain, tls.NewListener(secure, tlsConfig)}
	// And on IPv6, for EnableIPv6 (WebAddr6): IPv6-only sockets beside the
	// IPv4 ones. A kernel without IPv6 has none; the IPv6 scenarios then
	// fail at EnableIPv6 and say why.
	if plain6, err := listenNetIn(ns, "tcp6", "[::]:80"); err == nil {
		listeners = append(listeners, plain6)
		if secure6, err := listenNetIn(ns, "tcp6", "[::]:443"); err == nil {
			listeners = append(listeners, tls.NewListener(secure6, tlsConfig))
		}
	}
	for _, ln := range listeners {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		ws.srvs = append(ws.srvs, srv)
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			_ = srv.Serve(ln)
		}()
	}
	return caFile, ws, nil
}

func (ws *webServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range ws.srvs {
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	}
	ws.wg.Wait()
}

// makeCerts returns a server certificate for WebNames and the lab's
// addresses, and the PEM of the CA that signed it.
func makeCerts() (tls.Certificate, []byte, *x509.Certificate, *ecdsa.PrivateKey, error) {
	ca, caKey, err := newCA(pkix.Name{CommonName: "triage fault lab test CA"}, 1)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, err
	}
	now := time.Now()
	cert, err := issueCert(append(slices.Clone(WebNames), WebAddr, IntranetAddr), now.Add(-time.Hour), now.AddDate(1, 0, 0), ca, caKey)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	return cert, caPEM, ca, caKey, nil
}

// newCA makes a self-signed certificate authority valid from an hour ago
// for two years: the lab's own, and the interceptor's.
func newCA(subject pkix.Name, serial int64) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               subject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}
