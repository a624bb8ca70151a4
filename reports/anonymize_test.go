package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func anonymizedSweep() *Report {
	r := sweep()
	a := &r.Hosts[0]
	a.Facts.Gateway = "10.2.3.1"
	a.Results[0].Evidence = "link/ether aa:bb:cc:dd:ee:ff brd ff:ff:ff:ff:ff:ff\ninet 10.2.3.4/24 mask 255.255.255.0\n" +
		"inet6 2001:db8::42/64 and ::1 and 127.0.0.1\nhome /home/alice/.ssh, owner root\nHWaddr AA-BB-CC-DD-EE-FF"
	a.Results[1].Message = "connection refused by 10.0.0.1:443 (vpn.corp.example.com)"
	a.Results[1].Observed["host"] = "vpn.corp.example.com"
	a.Results[3].Evidence = "mail carol@example.org; ssh alice-laptop; fe80::1: unreachable"
	a.Results[3].Files = []diag.Attachment{{Name: "alice-laptop.log", Data: []byte("alice logged in from 10.0.0.1")}}
	r.Playbooks[0].Source = "/home/alice/vpn.yaml"
	return r
}

func TestAnonymize(t *testing.T) {
	r := anonymizedSweep()
	rd, _ := NewRedactor()
	rd.Anonymize = true
	rd.Redact(r)
	var buf bytes.Buffer
	renderJSON(&buf, r, Options{})
	out := buf.String() + string(r.Hosts[0].Results[3].Files[0].Data) + r.Hosts[0].Results[3].Files[0].Name
	for _, gone := range []string{"alice", "bob", "carol", "10.2.3.4", "10.2.3.5", "10.2.3.1", "10.0.0.1", "aa:bb:cc", "AA-BB-CC",
		"2001:db8::42", "fe80::1", "vpn.corp.example.com", "example.org", "laptop", "desktop"} {
		if strings.Contains(strings.ToLower(out), strings.ToLower(gone)) {
			t.Errorf("%q is still in the anonymized report", gone)
		}
	}
	for _, kept := range []string{"255.255.255.0", "ff:ff:ff:ff:ff:ff", "::1 ", "127.0.0.1", "owner root"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q, which identifies nothing, was replaced", kept)
		}
	}
	// The same name gets the same token everywhere.
	ev := r.Hosts[0].Results[0].Evidence
	macs := regexp.MustCompile(`mac-\d+`).FindAllString(ev, -1)
	if len(macs) != 2 || macs[0] != macs[1] {
		t.Errorf("one MAC in two spellings became %v", macs)
	}
	msgIP := regexp.MustCompile(`ip-\d+`).FindString(r.Hosts[0].Results[1].Message)
	fileIP := regexp.MustCompile(`ip-\d+`).FindString(string(r.Hosts[0].Results[3].Files[0].Data))
	if msgIP == "" || msgIP != fileIP {
		t.Errorf("10.0.0.1 became %q in a message and %q in a file", msgIP, fileIP)
	}
	user := regexp.MustCompile(`^(user-\d+)@`).FindStringSubmatch(r.Hosts[0].Target)
	if user == nil || !strings.Contains(r.Playbooks[0].Source, "/home/"+user[1]+"/") {
		t.Errorf("alice became %q in the target and the playbook path is %q", r.Hosts[0].Target, r.Playbooks[0].Source)
	}
	if r.Hosts[0].Results[1].Observed["host"] != regexp.MustCompile(`host-\d+`).FindString(r.Hosts[0].Results[1].Message) {
		t.Errorf("the observed host and the message disagree: %v / %s", r.Hosts[0].Results[1].Observed["host"], r.Hosts[0].Results[1].Message)
	}
	for _, kind := range []string{"hostname", "ip", "mac", "user"} {
		if r.Anonymized[kind] == 0 {
			t.Errorf("nothing counted as anonymized %s: %v", kind, r.Anonymized)
		}
	}

	// Anonymizing is deterministic: the same report gives the same tokens.
	again := anonymizedSweep()
	rd.Redact(again)
	var buf2 bytes.Buffer
	renderJSON(&buf2, again, Options{})
	if buf.String() != buf2.String() {
		t.Error("anonymizing the same report twice gives different output")
	}
}

func TestAnonymizeOff(t *testing.T) {
	r := anonymizedSweep()
	rd, _ := NewRedactor()
	rd.Redact(r)
	if !strings.Contains(r.Hosts[0].Target, "alice@10.2.3.4") || r.Anonymized != nil {
		t.Errorf("without Anonymize, names were replaced: %s %v", r.Hosts[0].Target, r.Anonymized)
	}
}
