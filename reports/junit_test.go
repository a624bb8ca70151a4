package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJUnitSchema validates the JUnit output against the common JUnit XML
// schema (testdata/junit.xsd) with xmllint. CI installs libxml2-utils and
// sets TRIAGE_REQUIRE_XMLLINT=1, so there it must run.
func TestJUnitSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("TRIAGE_REQUIRE_XMLLINT") == "1" {
			t.Fatal("TRIAGE_REQUIRE_XMLLINT=1 but xmllint is not installed (Debian: apt-get install libxml2-utils)")
		}
		t.Skip("no xmllint: install libxml2-utils to validate JUnit output against its schema")
	}
	xsd, err := filepath.Abs(filepath.Join("testdata", "junit.xsd"))
	if err != nil {
		t.Fatal(err)
	}
	ctrl := singleHost()
	ctrl.Hosts[0].Results[3].Evidence = "\x1b[31mred\x1b[0m and a NUL \x00 and ]]> in the middle"
	for name, r := range map[string]*Report{"single": singleHost(), "sweep": sweep(), "hostile": hostile(), "control-chars": ctrl} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junit.xml")
			if err := WriteFile(path, r, Options{}); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, path).CombinedOutput()
			if err != nil {
				data, _ := os.ReadFile(path)
				t.Fatalf("xmllint: %v\n%s\n--- the document:\n%s", err, out, data)
			}
		})
	}
	// The schema itself must reject what it should, or validating proves
	// nothing: a testcase without its required classname.
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(`<?xml version="1.0"?><testsuites><testsuite name="x" package="p" id="0" hostname="h" timestamp="2026-11-23T09:30:00" tests="1" failures="0" errors="0" time="0"><properties/><testcase name="a" time="0"/><system-out/><system-err/></testsuite></testsuites>`), 0o644)
	if out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, bad).CombinedOutput(); err == nil {
		t.Errorf("the schema accepts a testcase without classname:\n%s", out)
	}
}

// TestJUnitContent reads the XML back and checks the mapping of statuses.
func TestJUnitContent(t *testing.T) {
	var buf bytes.Buffer
	if err := renderJUnit(&buf, sweep(), Options{}); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 3 {
		t.Fatalf("%d testsuites, want one per host (3)", len(doc.Suites))
	}
	alice := doc.Suites[0]
	if alice.Tests != 6 || alice.Failures != 2 || alice.Errors != 1 || alice.Skipped != 2 {
		t.Errorf("alice: tests=%d failures=%d errors=%d skipped=%d, want 6 2 1 2 (a blocked check is skipped)", alice.Tests, alice.Failures, alice.Errors, alice.Skipped)
	}
	kinds := map[string]string{}
	for _, c := range alice.Cases {
		switch {
		case c.Failure != nil:
			kinds[c.Name] = "failure:" + c.Failure.Type
		case c.Error != nil:
			kinds[c.Name] = "error"
		case c.Skipped != nil:
			kinds[c.Name] = "skipped"
		default:
			kinds[c.Name] = "passed"
		}
		if !strings.HasPrefix(c.Classname, "triage.alice@10_2_3_4:22.vpn") {
			t.Errorf("classname %q does not name the host and playbook", c.Classname)
		}
	}
	want := map[string]string{
		"System disk has free space (disk-root)": "passed", "VPN port reachable (vpn-port)": "failure:fail",
		"Temporary folder has free space (disk-tmp)": "failure:warn", "VPN client answers (client)": "error",
		"Keychain profile present (mac-only)": "skipped",
	}
	for name, k := range want {
		if kinds[name] != k {
			t.Errorf("%s: %s, want %s", name, kinds[name], k)
		}
	}
	carol := doc.Suites[2]
	if carol.Errors != 1 || len(carol.Cases) != 1 || carol.Cases[0].Error == nil || carol.Cases[0].Error.Type != "unreachable" {
		t.Errorf("an unreachable host is not one errored testcase: %+v", carol)
	}
	if !strings.Contains(buf.String(), "sh: openvpn: not found") {
		t.Error("the evidence of the errored check is not in the output")
	}
}
