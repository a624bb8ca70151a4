package remote

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/netcheck"
	"github.com/triage-dev/triage/remote/sshtest"
)

// TestProxySettingsOverSSH: the target's proxy settings (its session
// environment, then /etc/environment) are what the proxy check reports
// and tries, and what the target's HTTP checks go through.
func TestProxySettingsOverSSH(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.RequestURI)
		mu.Unlock()
		io.WriteString(w, "via proxy")
	}))
	defer proxy.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()

	e := newEnv(t)
	s := e.server(sshtest.Options{SFTPInMemory: true,
		Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
			if cmd == "env" {
				io.WriteString(stdout, "PATH=/usr/bin\nhttp_proxy="+proxy.URL+"\nSECRET=x\n")
				return 0
			}
			if strings.HasPrefix(cmd, "getent ") {
				return 2 // no lookup leaves the machine, should the check go direct
			}
			return sshtest.ShellExec(ctx, cmd, stdin, stdout, stderr)
		}})
	tg := e.mustDial(s)
	putFiles(t, tg, map[string]string{
		"/etc/environment": "# set by the desktop\nhttp_proxy=\"http://" + dead + "\"\nexport HTTPS_PROXY='http://" + dead + "'\nno_proxy=localhost,.corp.test\nauto_proxy=http://" + dead + "/wpad.dat\n",
	})
	ctx := context.Background()
	ps, err := tg.ProxySettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range ps.Proxies {
		got[p.Scheme] = p.URL + " from " + p.Source
	}
	if got["http"] != proxy.URL+" from http_proxy" || got["https"] != "http://"+dead+" from /etc/environment HTTPS_PROXY" || strings.Join(ps.Bypass, ",") != "localhost,.corp.test" {
		t.Errorf("proxy settings %+v", ps)
	}
	if ps.AutoConfigURL != "http://"+dead+"/wpad.dat" || ps.AutoConfigSource != "/etc/environment auto_proxy" {
		t.Errorf("auto-configuration %q from %q, want /etc/environment's auto_proxy", ps.AutoConfigURL, ps.AutoConfigSource)
	}

	run := func(id, kind string, c diag.Checker) diag.Result {
		return (&diag.Runner{}).Run(ctx, tg, []diag.Check{{ID: id, Kind: kind, Checker: c}})[0]
	}
	pk, _ := diag.LookupKind("proxy")
	r := run("proxy", "proxy", pk.New())
	if r.Status != diag.Fail || !strings.Contains(r.Message, dead) || !strings.Contains(r.Hint, tg.Name()) {
		t.Errorf("proxy check: %s %q (hint %q)", r.Status, r.Message, r.Hint)
	}

	hk, _ := diag.LookupKind("http")
	h := hk.New().(*netcheck.HTTP)
	h.URL, h.BodyContains = "http://www.example.test/page", "via proxy"
	r = run("web", "http", h)
	mu.Lock()
	defer mu.Unlock()
	if r.Status != diag.Pass || len(seen) != 1 || seen[0] != "GET http://www.example.test/page" {
		t.Errorf("http check through the target's proxy: %s %q; proxy saw %q", r.Status, r.Message, seen)
	}
}
