package remote

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
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

// TestDNSFromHostsFileOverSSH: on a host whose nsswitch.conf reads the
// hosts file first, a name found there is answered from the file, read over
// SFTP, without starting getent; a name not there still goes to getent.
func TestDNSFromHostsFileOverSSH(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{SFTPInMemory: true, Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		if cmd == "getent ahostsv4 www.test" {
			io.WriteString(stdout, "192.0.2.10      STREAM www.test\n192.0.2.10      DGRAM  \n")
			return 0
		}
		fmt.Fprintf(stderr, "sh: unexpected command %s\n", cmd)
		return 127
	}})
	tg := e.mustDial(s)
	putFiles(t, tg, map[string]string{
		"/etc/nsswitch.conf": "passwd: files\nhosts: files dns\n",
		"/etc/hosts":         "127.0.0.1 localhost\n::1 localhost ip6-localhost\n",
	})
	k, _ := diag.LookupKind("dns")
	for _, tc := range []struct {
		name, want string
		execs      []string
	}{
		{"localhost", "localhost A is 127.0.0.1 (from /etc/hosts line 1", nil},
		{"www.test", "www.test A is 192.0.2.10 (through the system resolver", []string{"getent ahostsv4 www.test"}},
	} {
		before := len(s.ExecCommands())
		check := k.New().(*netcheck.DNS)
		check.Name, check.Type = tc.name, "A"
		res := (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{{ID: "dns", Kind: "dns", Checker: check}})[0]
		if res.Status != diag.Pass || !strings.Contains(res.Message, tc.want) {
			t.Errorf("%s: %s %q, want pass %q\n%s", tc.name, res.Status, res.Message, tc.want, res.Evidence)
		}
		// (uname may run too: the in-memory host has no /proc for the facts)
		var getent []string
		for _, c := range s.ExecCommands()[before:] {
			if strings.HasPrefix(c, "getent") {
				getent = append(getent, c)
			}
		}
		if !slices.Equal(getent, tc.execs) {
			t.Errorf("%s: getent run as %q, want %q", tc.name, getent, tc.execs)
		}
	}
}
