package send

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a minimal SMTP server on loopback (RFC 5321 with the
// STARTTLS extension of RFC 3207 and AUTH PLAIN of RFC 4616): enough to
// receive what triage sends, over TLS, and keep it.
type smtpServer struct {
	addr     string
	tls      *tls.Config
	noTLS    bool   // do not offer STARTTLS
	password string // AUTH PLAIN password for user "triage"
	size     int    // SIZE to advertise; 0 for none

	mu    sync.Mutex
	mails [][]byte
	plain []string // commands seen before STARTTLS
}

func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func startSMTP(t *testing.T, s *smtpServer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r, secure := bufio.NewReader(c), false
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	say("220 127.0.0.1 ESMTP test")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		if !secure {
			s.mu.Lock()
			s.plain = append(s.plain, line)
			s.mu.Unlock()
		}
		switch verb {
		case "EHLO":
			say("250-127.0.0.1")
			if !s.noTLS && !secure {
				say("250-STARTTLS")
			}
			if s.size > 0 {
				say("250-SIZE " + strconv.Itoa(s.size))
			}
			say("250 AUTH PLAIN")
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, s.tls)
			if tc.Handshake() != nil {
				return
			}
			c, r, secure = tc, bufio.NewReader(tc), true
		case "AUTH":
			f := strings.Fields(line)
			raw, _ := base64.StdEncoding.DecodeString(f[len(f)-1])
			parts := strings.Split(string(raw), "\x00")
			if len(parts) == 3 && parts[1] == "triage" && parts[2] == s.password {
				say("235 ok")
			} else {
				say("535 5.7.8 authentication failed")
			}
		case "MAIL", "RCPT", "RSET", "NOOP":
			say("250 ok")
		case "DATA":
			say("354 go on")
			var msg bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(strings.TrimPrefix(l, "."))
			}
			s.mu.Lock()
			s.mails = append(s.mails, msg.Bytes())
			s.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func TestSendSMTP(t *testing.T) {
	srvTLS, pool := testCert(t)
	srv := &smtpServer{tls: srvTLS, password: "pw-" + planted}
	startSMTP(t, srv)
	env := map[string]string{"SMTP_LOGIN": "triage:" + srv.password}
	d := &Destination{Name: "mail", Type: "smtp", URL: "smtp://" + srv.addr, Credential: Credential{"env:SMTP_LOGIN"},
		From: "triage@example.com", To: []string{"helpdesk@example.com"},
		Getenv: func(k string) string { return env[k] }, TLS: &tls.Config{RootCAs: pool}}
	s, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	m := composed(t, "1234")
	rc, err := Deliver(context.Background(), d, s, m)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Ticket != "1234" || rc.Created {
		t.Errorf("receipt %+v", rc)
	}
	if len(srv.mails) != 1 {
		t.Fatalf("%d mails received", len(srv.mails))
	}
	for _, cmd := range srv.plain {
		if strings.HasPrefix(strings.ToUpper(cmd), "AUTH") || strings.HasPrefix(strings.ToUpper(cmd), "MAIL") {
			t.Errorf("%q was sent before STARTTLS", cmd)
		}
	}
	raw := srv.mails[0]
	assertNoSecret(t, "the email", raw, planted, srv.password)

	// The MIME parts parse back to the reports.
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "[#1234] "+m.Subject {
		t.Errorf("subject %q", subject)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var files []Attachment
	body := ""
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		if p.FileName() == "" {
			body = strings.ReplaceAll(string(data), "\r\n", "\n") // quoted-printable, decoded by the reader
			continue
		}
		dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(data), "\r\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, Attachment{Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: dec})
	}
	if body != m.Body {
		t.Errorf("body differs:\n%q\nwant\n%q", body, m.Body)
	}
	if len(files) != len(m.Attachments) {
		t.Fatalf("%d attachments, sent %d", len(files), len(m.Attachments))
	}
	for i, f := range files {
		if f.Name != m.Attachments[i].Name || !bytes.Equal(f.Data, m.Attachments[i].Data) {
			t.Errorf("attachment %d: %s (%d bytes), sent %s (%d bytes)", i, f.Name, len(f.Data), m.Attachments[i].Name, len(m.Attachments[i].Data))
		}
	}

	// A wrong password: ErrAuth, and the password is not in the error.
	env["SMTP_LOGIN"] = "triage:wrong-" + planted
	bad, _ := New(d)
	_, err = Deliver(context.Background(), d, bad, m)
	if !errors.Is(err, ErrAuth) {
		t.Errorf("wrong password: %v", err)
	}
	assertNoSecret(t, "the error", []byte(err.Error()), planted)

	// Too large for the server's SIZE.
	srv.size = 1000
	_, err = Deliver(context.Background(), d, s, m)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("SIZE: %v", err)
	}
}

func TestSendSMTPRefusesPlainText(t *testing.T) {
	srvTLS, _ := testCert(t)
	srv := &smtpServer{tls: srvTLS, noTLS: true}
	startSMTP(t, srv)
	d := &Destination{Name: "mail", Type: "smtp", URL: "smtp://" + srv.addr, From: "triage@example.com", To: []string{"helpdesk@example.com"}}
	s, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Deliver(context.Background(), d, s, composed(t, ""))
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("got %v", err)
	}
	if len(srv.mails) != 0 {
		t.Error("a mail was sent without TLS")
	}
}
