package reports

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
	"github.com/triage-dev/triage/playbooks"
)

// TestNagiosBuiltinPlaybooks runs every built-in playbook on this machine
// and checks that its plugin output follows the guidelines' grammar with
// unique labels. Network checks are pointed at loopback (a closed port,
// so they fail fast) or left out, so nothing leaves the machine.
func TestNagiosBuiltinPlaybooks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	loopback := map[string]string{
		"public_host": "localhost", "public_url": "http://" + closed + "/", "ntp_server": closed,
		"name": "localhost", "org_name": "localhost", "org_url": "http://" + closed + "/",
		"https_url": "http://" + closed + "/", "captive_url": "http://" + closed + "/", "public_name": "localhost",
	}
	local := diag.NewLocal()
	facts, _ := local.Facts(context.Background())
	facts.Gateway = "127.0.0.1" // ping the loopback, not the real router
	for _, name := range playbooks.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{}
			pbProbe, err := playbooks.LoadBuiltin(name, playbooks.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if name == "connectivity" {
				for k := range pbProbe.Vars {
					v, ok := loopback[k]
					if !ok {
						t.Fatalf("connectivity has variable %q that this test does not point at loopback", k)
					}
					vars[k] = v
				}
			}
			pb, err := playbooks.LoadBuiltin(name, playbooks.Options{Vars: vars})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var checks []diag.Check
			for _, c := range pb.Plan(facts, playbooks.Selection{}) {
				// Only checks whose every address this test controls: the
				// network kinds only in playbooks whose targets are all
				// variables pointed at loopback above, and no DNS query
				// that the system resolver could send to its server.
				network := c.Kind == "tcp" || c.Kind == "http" || c.Kind == "ping" || c.Kind == "time" || c.Kind == "dns"
				if network && (name != "connectivity" || c.Kind == "dns") {
					continue
				}
				checks = append(checks, c)
			}
			results := (&diag.Runner{Timeout: 5 * time.Second}).Run(ctx, local, checks)
			rep := &Report{Schema: Schema, Playbooks: []PlaybookRef{{Name: name}}, Hosts: []Host{{Target: "local", Facts: facts}}}
			for _, r := range results {
				rep.Hosts[0].Results = append(rep.Hosts[0].Results, FromDiag(r, ""))
			}
			rep.Finish(time.Now())
			var buf bytes.Buffer
			if err := renderNagios(&buf, rep, Options{}); err != nil {
				t.Fatal(err)
			}
			checkPluginOutput(t, buf.String())
		})
	}
}
