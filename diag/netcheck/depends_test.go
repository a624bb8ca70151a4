package netcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// TestHTTPNameAttributedToDNS: run together, an http check whose name
// does not resolve is put down to the dns check of the same name, which
// found it broken, rather than counted as a second problem.
func TestHTTPNameAttributedToDNS(t *testing.T) {
	target := newResolvingTarget(startDNS(t))
	dnsc := newKind[*DNS](t, "dns")
	dnsc.Name = "Missing.test."
	checks := []diag.Check{
		{ID: "web", Kind: "http", Title: "The web site answers", Checker: httpCheck(t, "https://missing.test/", nil), Group: "p"},
		{ID: "name", Kind: "dns", Title: "missing.test resolves", Checker: dnsc, Group: "p"},
		{ID: "other", Kind: "http", Title: "Another site", Checker: httpCheck(t, "https://also-missing.test/", nil), Group: "p"},
	}
	results := (&diag.Runner{}).Run(context.Background(), target, checks)
	if results[1].Status != diag.Fail {
		t.Fatalf("dns check: %s %q, want fail", results[1].Status, results[1].Message)
	}
	web := results[0]
	if web.Status != diag.Skip || web.BlockedBy != "name" || !strings.Contains(web.Message, "a consequence of missing.test resolves: cannot resolve missing.test") {
		t.Errorf("http check: %s blocked by %q: %q; want a consequence of the dns check", web.Status, web.BlockedBy, web.Message)
	}
	if web.Upstream == nil || web.Upstream.What != diag.PrereqName {
		t.Errorf("http check upstream %+v", web.Upstream)
	}
	// A name no check of the run examines stays the check's own error.
	if o := results[2]; o.Status != diag.Error || o.BlockedBy != "" {
		t.Errorf("unrelated name: %s blocked by %q: %q", o.Status, o.BlockedBy, o.Message)
	}
}

// TestExamines: what the network kinds look at, for Attribute.
func TestExamines(t *testing.T) {
	for kind, want := range map[string]diag.Prerequisite{
		"dns":         {What: diag.PrereqName, Subject: "example.com"},
		"nameservers": {What: diag.PrereqDNSServer},
		"gateway":     {What: diag.PrereqGateway},
		"interface":   {What: diag.PrereqLink},
	} {
		k, _ := diag.LookupKind(kind)
		if k.Examines == nil {
			t.Errorf("%s: no Examines", kind)
			continue
		}
		got := k.Examines(diag.Result{Kind: kind, Status: diag.Fail}.With("name", "example.com"))
		if len(got) == 0 || got[0] != want {
			t.Errorf("%s examines %+v, want %+v", kind, got, want)
		}
	}
}

// TestUpstreamClock: a certificate outside its validity may be this
// machine's clock, so the check names the clock as what it relied on.
func TestUpstreamClock(t *testing.T) {
	ca := newTestCA(t, "Test Root CA")
	future := ca.issue(t, []string{"127.0.0.1"}, time.Now().Add(24*time.Hour), time.Now().Add(90*24*time.Hour))
	expired := ca.issue(t, []string{"127.0.0.1"}, time.Now().Add(-90*24*time.Hour), time.Now().Add(-24*time.Hour))
	for name, cert := range map[string]tls.Certificate{"not yet valid": future, "expired": expired} {
		r := run(t, httpCheck(t, webServer(t, &cert).URL+"/ok", func(c *HTTP) { c.CAFile = ca.file(t) }), diag.NewLocal())
		if r.Status != diag.Fail || r.Upstream == nil || r.Upstream.What != diag.PrereqClock {
			t.Errorf("%s: %s %q, upstream %+v; want fail relying on the clock", name, r.Status, r.Message, r.Upstream)
		}
	}
}

// TestUpstreamUnreachable: no route is put down to the link or gateway.
func TestUpstreamUnreachable(t *testing.T) {
	if p := unreachable(errors.New("dial tcp 192.0.2.1:80: connect: network is unreachable")); p.What != diag.PrereqLink {
		t.Errorf("network is unreachable: %+v", p)
	}
	if p := unreachable(errors.New("dial tcp 192.0.2.1:80: connect: no route to host")); p.What != diag.PrereqGateway {
		t.Errorf("no route to host: %+v", p)
	}
}

// TestUpstreamProxy: a proxy that does not answer is what the http check
// relied on.
func TestUpstreamProxy(t *testing.T) {
	r := run(t, httpCheck(t, "https://web.test/", func(c *HTTP) {
		c.Proxy = "http://127.0.0.1:" + strconv.Itoa(closedPort(t))
	}), diag.NewLocal())
	if r.Status != diag.Fail || r.Upstream == nil || r.Upstream.What != diag.PrereqProxy || r.Observed["stage"] != stageConnect {
		t.Errorf("%s %q, upstream %+v, stage %v; want fail relying on the proxy", r.Status, r.Message, r.Upstream, r.Observed["stage"])
	}
}
