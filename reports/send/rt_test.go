package send

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/reports/send/rttest"
)

// TestSendRT is the test of record for senders (DESIGN §13): a real
// Request Tracker 5 on a loopback port, a new ticket and a comment on it,
// read back through RT's own REST 2 API.
func TestSendRT(t *testing.T) {
	rt := rttest.Start(t)
	env := map[string]string{"RT_TOKEN": rt.Token}
	dest := &Destination{Name: "helpdesk", Type: "rt", URL: rt.URL, Credential: Credential{"env:RT_TOKEN"}, Queue: "General",
		Getenv: func(k string) string { return env[k] }}
	s, err := New(dest)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// A new ticket.
	m := composed(t, "")
	rc, err := Deliver(ctx, dest, s, m)
	if err != nil {
		t.Fatal(err)
	}
	if !rc.Created || rc.Ticket == "" || rc.URL != rt.URL+"/Ticket/Display.html?id="+rc.Ticket {
		t.Fatalf("receipt %+v", rc)
	}
	var tk struct {
		Subject string
		Queue   struct {
			ID string `json:"id"`
		}
	}
	rt.Get(t, "/ticket/"+rc.Ticket, &tk)
	if tk.Subject != m.Subject {
		t.Errorf("subject %q, sent %q", tk.Subject, m.Subject)
	}
	atts := rt.Attachments(t, rc.Ticket)
	checkRTTransaction(t, atts, m, rt.Token)

	// A comment on it, with a binary attachment.
	bundle := append([]byte{0x1f, 0x8b, 0, 0xff, 0xfe}, bytes.Repeat([]byte{0, 1, 2, 0x80}, 5000)...)
	c := composed(t, "#"+rc.Ticket)
	c.Body = "Second run, after the VPN was restarted.\n\n" + c.Body
	c.Attachments = append(c.Attachments, Attachment{Name: "INC-1.tar.gz", ContentType: "application/gzip", Data: bundle})
	rc2, err := Deliver(ctx, dest, s, c)
	if err != nil {
		t.Fatal(err)
	}
	if rc2.Created || rc2.Ticket != rc.Ticket {
		t.Fatalf("comment receipt %+v", rc2)
	}
	var later []rttest.Attachment
	for _, a := range rt.Attachments(t, rc.Ticket) {
		if a.Transaction != atts[0].Transaction {
			later = append(later, a)
		}
	}
	checkRTTransaction(t, later, c, rt.Token)
	var txn struct{ Type string }
	rt.Get(t, "/transaction/"+later[0].Transaction, &txn)
	if txn.Type != "Comment" {
		t.Errorf("the second transaction is a %q, want Comment", txn.Type)
	}

	// Failures, each typed.
	_, err = Deliver(ctx, dest, s, composed(t, "999999"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "999999") {
		t.Errorf("missing ticket: %v", err)
	}
	env["RT_TOKEN"] = "1-14-" + strings.Repeat("0", 32)
	bad, err := New(dest)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Deliver(ctx, dest, bad, composed(t, ""))
	if !errors.Is(err, ErrAuth) {
		t.Errorf("bad token: %v", err)
	}
	assertNoSecret(t, "the error", []byte(err.Error()), env["RT_TOKEN"], rt.Token)
	basic := *dest
	basic.Auth, basic.Credential = "basic", Credential{"env:RT_LOGIN"}
	env["RT_LOGIN"] = "root:" + rt.Password
	bs, err := New(&basic)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Deliver(ctx, &basic, bs, composed(t, rc.Ticket)); err != nil {
		t.Errorf("basic auth: %v", err)
	}

	// Down: a port nothing listens on, retried until the time is up.
	down := *dest
	down.URL, down.Timeout = "http://127.0.0.1:1", 1500*time.Millisecond
	env["RT_TOKEN"] = rt.Token
	ds, _ := New(&down)
	start := time.Now()
	_, err = Deliver(ctx, &down, ds, composed(t, ""))
	if !errors.Is(err, ErrUnavailable) || time.Since(start) > 10*time.Second {
		t.Errorf("down: %v after %s", err, time.Since(start))
	}
}

// checkRTTransaction checks that one transaction's attachments as RT
// keeps them are the message: the body, then each file, bytes equal, and
// no secret anywhere.
func checkRTTransaction(t *testing.T, got []rttest.Attachment, m Message, token string) {
	t.Helper()
	var body *rttest.Attachment
	files := map[string]rttest.Attachment{}
	for i, a := range got {
		assertNoSecret(t, "RT attachment "+a.Filename, a.Content, planted, token)
		switch {
		case a.Filename != "":
			files[a.Filename] = a
		case strings.HasPrefix(a.ContentType, "text/plain") && body == nil:
			body = &got[i]
		}
	}
	if body == nil {
		t.Fatalf("no text body among %d attachments", len(got))
	}
	if strings.TrimRight(string(body.Content), "\n") != strings.TrimRight(m.Body, "\n") {
		t.Errorf("body as RT keeps it differs from what was sent:\n%q\nsent:\n%q", body.Content, m.Body)
	}
	if len(files) != len(m.Attachments) {
		t.Errorf("RT has %d files, sent %d", len(files), len(m.Attachments))
	}
	for _, a := range m.Attachments {
		f, ok := files[a.Name]
		switch {
		case !ok:
			t.Errorf("attachment %s is missing", a.Name)
		case len(f.Content) != len(a.Data) || !bytes.Equal(f.Content, a.Data):
			t.Errorf("attachment %s: %d bytes in RT, %d sent, equal %v", a.Name, len(f.Content), len(a.Data), bytes.Equal(f.Content, a.Data))
		}
	}
	assertNoSecret(t, "the body", []byte(m.Body), planted)
}
