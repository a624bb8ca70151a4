package send

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/reports"
)

// planted is a secret put into a check's evidence: it must never leave
// this machine.
const planted = "hunter2-PLANTED-7f3a9c"

// plantedReport is a report of one host whose DNS check failed, with a
// secret in its evidence and in an observed value.
func plantedReport(t testing.TB) *reports.Report {
	t.Helper()
	start := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	rep := &reports.Report{
		Schema:    reports.Schema,
		Tool:      reports.Tool{Name: "triage", Version: "test"},
		Started:   start,
		Playbooks: []reports.PlaybookRef{{Name: "vpn", Source: "builtin:vpn"}},
		Hosts: []reports.Host{{
			Target: "local",
			Facts:  diag.Facts{Hostname: "alice-laptop", OS: "linux"},
			Results: []reports.Result{
				{ID: "dns", Kind: "dns", Title: "DNS servers", Status: diag.Fail, Message: "no DNS server answered",
					Hint: "check the VPN", Evidence: "resolv.conf\npassword=" + planted + "\nAuthorization: Bearer " + planted,
					Observed: map[string]any{"server": "10.0.0.53", "dsn": "postgres://app:" + planted + "@db/app"}},
				{ID: "disk", Kind: "disk", Title: "Disk space", Status: diag.Pass, Message: "40% used"},
			},
		}},
	}
	rep.Finish(start.Add(3 * time.Second))
	return rep
}

// assertNoSecret fails if any of the texts hold one of the secrets.
func assertNoSecret(t testing.TB, where string, data []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && bytes.Contains(data, []byte(s)) {
			t.Errorf("%s holds the secret %q", where, s)
		}
	}
}

func composed(t testing.TB, ticket string) Message {
	t.Helper()
	m, err := Compose(plantedReport(t), ComposeOptions{Ticket: ticket})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, "DNS servers") {
		t.Fatalf("subject %q does not lead with the diagnosis", m.Subject)
	}
	return m
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// serve starts a vendor's fake on loopback for the test, points d at it
// and returns the sender New makes for d.
func serve(t *testing.T, h http.Handler, d *Destination) (Sender, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	s, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

// deliver sends m and fails the test if that fails.
func deliver(t *testing.T, d *Destination, s Sender, m Message) Receipt {
	t.Helper()
	rc, err := Deliver(context.Background(), d, s, m)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}
