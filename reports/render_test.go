package reports

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The fixed clock of every fixture: renderers are tested on exact output.
var t0 = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func singleHost() *Report {
	r := &Report{
		Schema:    Schema,
		Tool:      Tool{Name: "triage", Version: "1.2.3"},
		Started:   t0,
		Ticket:    "INC-1234",
		Playbooks: []PlaybookRef{{Name: "vpn", Source: "vpn.yaml", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		Hosts: []Host{{
			Target: "local",
			Facts:  diag.Facts{Hostname: "alice-laptop", OS: "linux", Arch: "amd64", Distro: "debian", PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-18-amd64"},
			Results: []Result{
				{ID: "disk-root", Kind: "disk", Title: "System disk has free space", Status: diag.Pass, Severity: diag.Critical,
					Message:  "/ is 42.1% full, 20.3GiB free of 50GiB",
					Observed: map[string]any{"path": "/", "used_percent": 42.1, "free_bytes": 21797715148, "total_bytes": 53687091200}, DurationMS: 0.4},
				{ID: "vpn-port", Kind: "tcp", Title: "VPN port reachable", Status: diag.Fail, Severity: diag.Critical,
					Message: "connection refused by 10.0.0.1:443", Hint: "Nothing listens on the VPN port: the VPN service may be down.",
					CheckHint: "the host answers but nothing listens on port 443: start the service, or check the port (ss -ltnp on the server)",
					Observed:  map[string]any{"address": "10.0.0.1:443", "connected": false}, DurationMS: 3.2},
				{ID: "vpn-login", Kind: "http", Title: "VPN login page answers", Status: diag.Skip, Severity: diag.Critical,
					Needs: []string{"vpn-port"}, BlockedBy: "vpn-port",
					Message: "not checked: VPN port reachable failed", Hint: "fix the problem found by VPN port reachable first; this check depends on it"},
				{ID: "disk-tmp", Kind: "disk", Title: "Temporary folder has free space", Status: diag.Warn, Severity: diag.Warning,
					Message: "/tmp is 91.0% full, 1GiB free of 10GiB: at or above the 90% warning", Hint: "free space in /tmp",
					DurationMS: 0.3},
				{ID: "client", Kind: "command", Title: "VPN client answers", Status: diag.Error, Severity: diag.Critical,
					Message: "could not run openvpn: command not found", Hint: "openvpn is not installed on local or not on its PATH",
					Evidence: "sh: openvpn: not found", DurationMS: 1.1},
				{ID: "mac-only", Kind: "file", Title: "Keychain profile present", Status: diag.Skip, Severity: diag.Critical,
					Message: "runs only on darwin; this is linux", OtherPlatform: true},
			},
		}},
	}
	r.Finish(t0.Add(1500 * time.Millisecond))
	return r
}

func sweep() *Report {
	r := singleHost()
	r.Ticket = ""
	r.Hosts[0].Target = "alice@10.2.3.4:22"
	r.Hosts = append(r.Hosts,
		Host{Target: "bob@10.2.3.5:22", Facts: diag.Facts{Hostname: "bob-desktop", OS: "linux", Arch: "arm64"},
			Results: []Result{{ID: "disk-root", Kind: "disk", Title: "System disk has free space", Status: diag.Pass, Message: "/ is 10.0% full, 90GiB free of 100GiB"}}},
		Host{Target: "carol@10.2.3.6:22", Error: "connection timed out after 10s"},
	)
	r.Finish(t0.Add(12 * time.Second))
	return r
}

// twoPlaybooks is a run of two playbooks: the text groups checks by playbook.
func twoPlaybooks() *Report {
	r := singleHost()
	r.Playbooks = append(r.Playbooks, PlaybookRef{Name: "disk", Source: "builtin:disk", SHA256: "0b5e"})
	for i := range r.Hosts[0].Results {
		r.Hosts[0].Results[i].Playbook = "vpn"
		if r.Hosts[0].Results[i].Kind == "disk" {
			r.Hosts[0].Results[i].Playbook = "disk"
		}
	}
	return r
}

type goldenCase struct {
	name   string
	report *Report
	format string
	opts   Options
}

func TestRenderGolden(t *testing.T) {
	cases := []goldenCase{
		{"single", singleHost(), "text", Options{}},
		{"single_color", singleHost(), "text", Options{Color: true}},
		{"single", singleHost(), "json", Options{}},
		{"sweep", sweep(), "text", Options{}},
		{"two_playbooks", twoPlaybooks(), "text", Options{}},
		{"sweep", sweep(), "json", Options{}},
	}
	// The formats for tickets and machines, on a single host and a sweep.
	for _, format := range []string{"markdown", "html", "junit", "prometheus"} {
		cases = append(cases, goldenCase{"single", singleHost(), format, Options{}}, goldenCase{"sweep", sweep(), format, Options{}})
	}
	for _, c := range cases {
		t.Run(c.name+"."+c.format, func(t *testing.T) {
			rd, ok := Lookup(c.format)
			if !ok {
				t.Fatalf("no renderer %q", c.format)
			}
			var buf bytes.Buffer
			if err := rd.Render(&buf, c.report, c.opts); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "out_"+c.name+"."+c.format)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./reports -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("%s differs from the golden file (go test ./reports -update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestTextHasNoColorUnlessAsked(t *testing.T) {
	var buf bytes.Buffer
	if err := renderText(&buf, singleHost(), Options{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("plain text output contains ANSI escapes")
	}
	// Status must be readable without colour: a symbol and a word.
	for _, want := range []string{"✓ pass", "! warn", "✗ fail", "? error", "- skip", "⊘ blocked"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text output lacks %q", want)
		}
	}
}

func TestFinish(t *testing.T) {
	r := sweep()
	want := Summary{Hosts: 3, Pass: 2, Warn: 1, Fail: 1, Error: 1, Skip: 1, Blocked: 1, Status: diag.Error}
	if r.Summary != want {
		t.Errorf("summary = %+v, want %+v", r.Summary, want)
	}
	for i, st := range []diag.Status{diag.Error, diag.Pass, diag.Error} {
		if r.Hosts[i].Status != st {
			t.Errorf("host %d status = %s, want %s", i, r.Hosts[i].Status, st)
		}
	}
	empty := &Report{Hosts: []Host{{Target: "local", Results: []Result{{Status: diag.Skip}}}}}
	empty.Finish(t0)
	if empty.Summary.Status != diag.Pass || empty.Hosts[0].Status != diag.Pass {
		t.Errorf("only skipped checks: status %s / host %s, want pass", empty.Summary.Status, empty.Hosts[0].Status)
	}
}

func TestReadRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := renderJSON(&buf, sweep(), Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := renderJSON(&again, got, Options{}); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	renderJSON(&first, sweep(), Options{})
	if again.String() != first.String() {
		t.Errorf("a report read back renders differently:\n%s\nvs\n%s", again.String(), first.String())
	}
}

func TestReadRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"not json":    "hello",
		"truncated":   `{"schema": "triage.report/v1", "hosts": [`,
		"no schema":   `{"hosts": []}`,
		"other":       `{"schema": "other/v9"}`,
		"bad status":  `{"schema": "triage.report/v1", "hosts": [{"target": "x", "status": "great"}]}`,
		"wrong types": `{"schema": "triage.report/v1", "hosts": "many"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(strings.NewReader(in))
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Read(%q) = %v, want ErrInvalid", in, err)
			}
		})
	}
}

func TestForFile(t *testing.T) {
	for path, want := range map[string]string{
		"a.json": "json", "dir/report.TXT": "text", "t.md": "markdown", "t.html": "html",
		"t.htm": "html", "t.xml": "junit", "node.prom": "prometheus",
	} {
		r, err := ForFile(path)
		if err != nil || r.Name != want {
			t.Errorf("ForFile(%q) = %q, %v; want %q", path, r.Name, err, want)
		}
	}
	for _, path := range []string{"noext", "a.docx"} {
		if _, err := ForFile(path); err == nil {
			t.Errorf("ForFile(%q) succeeded", path)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := WriteFile(path, singleHost(), Options{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Read(f); err != nil {
		t.Errorf("written report does not read back: %v", err)
	}
	// A write into a folder that does not exist fails and leaves nothing.
	if err := WriteFile(filepath.Join(dir, "nope", "r.json"), singleHost(), Options{}); err == nil {
		t.Error("write into a missing folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only r.json", len(entries))
	}
}
