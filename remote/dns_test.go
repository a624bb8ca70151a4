package remote

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/netcheck"
	"github.com/triage-dev/triage/remote/sshtest"
)

// TestDNSServerOverSSH asks a named DNS server from the target: UDP cannot
// travel through SSH, so the query goes over TCP through the tunnel.
func TestDNSServerOverSSH(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 192.0.2.7")
		m.Answer = append(m.Answer, rr)
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()

	e := newEnv(t)
	s := e.server(sshtest.Options{})
	tg := e.mustDial(s)
	k, _ := diag.LookupKind("dns")
	check := k.New().(*netcheck.DNS)
	check.Name, check.Server = "vpn.corp.test", ln.Addr().String()
	res := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{{ID: "dns", Kind: "dns", Checker: check}})[0]
	if res.Status != diag.Pass || !strings.Contains(res.Message, "192.0.2.7") {
		t.Errorf("dns through SSH: %s %q\n%s", res.Status, res.Message, res.Evidence)
	}
	if fw := s.DirectTCPIP(); len(fw) == 0 || fw[0] != ln.Addr().String() {
		t.Errorf("the query did not go through the target: forwards %v", fw)
	}
}
