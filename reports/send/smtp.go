package send

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Email (type smtp): every help desk accepts a ticket by email. The URL is
// smtp://HOST:PORT (587 by default); the connection is always upgraded
// with STARTTLS and a server that does not offer it is refused. The
// credential, when there is one, is USER:PASSWORD for AUTH PLAIN. The
// message is multipart/mixed: the Markdown report as text/plain, then
// each attachment in base64. With a ticket, the subject carries it in
// brackets ("[#1234]", "[INC-1234]"), as help desks thread replies.

func init() { register("smtp", newSMTP) }

type smtpSender struct {
	d          *Destination
	addr, host string
	user, pass string
}

func newSMTP(d *Destination, secret string) (Sender, error) {
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	s := &smtpSender{d: d, host: u.Hostname(), addr: net.JoinHostPort(u.Hostname(), port)}
	if secret != "" {
		s.user, s.pass, _ = strings.Cut(secret, ":")
	}
	for _, a := range append([]string{d.From}, d.To...) {
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("destination %s: %q is not an email address", d.Name, a)
		}
	}
	return s, nil
}

func (s *smtpSender) Send(ctx context.Context, m Message) (Receipt, error) {
	msg, id, err := s.compose(m)
	if err != nil {
		return Receipt{}, err
	}
	for attempt := 0; ; attempt++ {
		err := s.once(ctx, msg)
		if err == nil {
			t := m.Ticket
			if t == "" {
				t = id
			}
			return Receipt{Ticket: t, Created: m.Ticket == "", Note: "sent by email to " + strings.Join(s.d.To, ", ") + "; the help desk's reply names the ticket"}, nil
		}
		if !errors.Is(err, ErrUnavailable) {
			return Receipt{}, err
		}
		wait := min(backoffBase<<attempt, backoffMax)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return Receipt{}, fmt.Errorf("%w; gave up after %d %s", err, attempt+1, plural(attempt+1, "attempt"))
		}
		select {
		case <-ctx.Done():
			return Receipt{}, fmt.Errorf("%w; gave up after %d %s", err, attempt+1, plural(attempt+1, "attempt"))
		case <-time.After(wait):
		}
	}
}

// once delivers msg in one SMTP session. Connection failures and 4xx
// replies are ErrUnavailable (worth another try); 5xx are final.
func (s *smtpSender) once(ctx context.Context, msg []byte) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("%w: connecting to %s: %v", ErrUnavailable, s.addr, unwrapOp(err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return s.smtpErr("greeting", err)
	}
	defer c.Close()
	hostname, _ := os.Hostname()
	if hostname == "" || strings.ContainsAny(hostname, " \r\n") {
		hostname = "localhost"
	}
	if err := c.Hello(hostname); err != nil {
		return s.smtpErr("EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("%w: %s does not offer STARTTLS; triage does not send reports over an unencrypted connection", ErrRejected, s.addr)
	}
	tc, err := s.d.tlsConfig(s.host)
	if err != nil {
		return err
	}
	if err := c.StartTLS(tc); err != nil {
		return fmt.Errorf("%w: STARTTLS with %s: %v", ErrRejected, s.addr, err)
	}
	if ok, size := c.Extension("SIZE"); ok {
		if n, err := strconv.ParseInt(size, 10, 64); err == nil && n > 0 && int64(len(msg)) > n {
			return fmt.Errorf("%w: the email is %s, %s accepts %s", ErrTooLarge, humanBytes(int64(len(msg))), s.addr, humanBytes(n))
		}
	}
	if s.user != "" {
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return s.smtpErr("AUTH", err)
		}
	}
	if err := c.Mail(s.d.From); err != nil {
		return s.smtpErr("MAIL FROM", err)
	}
	for _, to := range s.d.To {
		if err := c.Rcpt(to); err != nil {
			return s.smtpErr("RCPT TO "+to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return s.smtpErr("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return s.smtpErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return s.smtpErr("end of DATA", err)
	}
	_ = c.Quit()
	return nil
}

func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// smtpErr types an SMTP reply by its code, keeping the password out.
func (s *smtpSender) smtpErr(step string, err error) error {
	msg := err.Error()
	if s.pass != "" {
		msg = strings.ReplaceAll(msg, s.pass, "[REDACTED]")
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		switch {
		case te.Code == 535 || te.Code == 530 || te.Code == 534:
			return fmt.Errorf("%w: %s: %s answered %s", ErrAuth, step, s.addr, msg)
		case te.Code == 552:
			return fmt.Errorf("%w: %s: %s answered %s", ErrTooLarge, step, s.addr, msg)
		case te.Code == 550 || te.Code == 551 || te.Code == 553:
			return fmt.Errorf("%w: %s: %s answered %s", ErrNotFound, step, s.addr, msg)
		case te.Code >= 400 && te.Code < 500:
			return fmt.Errorf("%w: %s: %s answered %s", ErrUnavailable, step, s.addr, msg)
		}
		return fmt.Errorf("%w: %s: %s answered %s", ErrRejected, step, s.addr, msg)
	}
	return fmt.Errorf("%w: %s with %s: %s", ErrUnavailable, step, s.addr, msg)
}

// compose writes the email: headers, the Markdown report and the files.
func (s *smtpSender) compose(m Message) ([]byte, string, error) {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	domain := "triage.invalid"
	if a, err := mail.ParseAddress(s.d.From); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	id := "<triage-" + hex.EncodeToString(rnd[:]) + "@" + domain + ">"
	subject := m.Subject
	if m.Ticket != "" {
		tag := m.Ticket
		if strings.Trim(tag, "0123456789") == "" {
			tag = "#" + tag
		}
		subject = "[" + tag + "] " + subject
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	hdr("From", s.d.From)
	hdr("To", strings.Join(s.d.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", time.Now().Format(time.RFC1123Z))
	hdr("Message-ID", id)
	hdr("MIME-Version", "1.0")
	hdr("X-Mailer", "triage")
	hdr("Content-Type", "multipart/mixed; boundary=\""+mw.Boundary()+"\"")
	buf.WriteString("\r\n")
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	qw := quotedprintable.NewWriter(pw)
	qw.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	qw.Close()
	for _, a := range m.Attachments {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", a.ContentType)
		h.Set("Content-Transfer-Encoding", "base64")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		pw, err := mw.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			pw.Write([]byte(enc[:76] + "\r\n"))
			enc = enc[76:]
		}
		pw.Write([]byte(enc + "\r\n"))
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), id, nil
}
