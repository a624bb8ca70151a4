package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/reports"
)

// offlineTarget is this machine as it is with no network: only loopback is
// up, there is no default gateway and no proxy, and the DNS servers it is
// configured with do not answer. It is also the guard that keeps these
// tests on loopback: any attempt to reach another address is refused and
// recorded, and the test fails on it.
type offlineTarget struct {
	*diag.Local
	nameservers []string

	mu      sync.Mutex
	outside []string
}

func newOfflineTarget(nameservers ...string) *offlineTarget {
	return &offlineTarget{Local: diag.NewLocal(), nameservers: nameservers}
}

func (o *offlineTarget) escaped(what string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outside = append(o.outside, what)
	return fmt.Errorf("the test target reaches loopback only, not %s", what)
}

func loopbackHost(host string) bool {
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

func (o *offlineTarget) Facts(ctx context.Context) (diag.Facts, error) {
	f, err := o.Local.Facts(ctx)
	f.Gateway = ""
	return f, err
}

func (o *offlineTarget) Interfaces(context.Context) ([]diag.NetInterface, error) {
	return []diag.NetInterface{{Name: "lo", Up: true, Running: true, Loopback: true,
		Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}}}, nil
}

func (o *offlineTarget) Nameservers(context.Context) (diag.DNSConfig, error) {
	return diag.DNSConfig{Servers: o.nameservers, Source: "the test"}, nil
}

func (o *offlineTarget) ProxySettings(context.Context) (diag.ProxySettings, error) {
	return diag.ProxySettings{}, nil
}

func (o *offlineTarget) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil || !loopbackHost(host) {
		return nil, o.escaped(network + " " + address)
	}
	return o.Local.Dial(ctx, network, address)
}

func (o *offlineTarget) Ping(ctx context.Context, req diag.PingRequest) (diag.PingStats, error) {
	if !loopbackHost(req.Host) {
		return diag.PingStats{}, o.escaped("ping " + req.Host)
	}
	return o.Local.Ping(ctx, req)
}

func (o *offlineTarget) Resolve(ctx context.Context, qtype, name string) ([]string, error) {
	return nil, o.escaped("a lookup of " + name + " through the system resolver")
}

func (o *offlineTarget) checkStayedHome(t testing.TB) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.outside) > 0 {
		t.Errorf("a check tried to leave loopback: %q", o.outside)
	}
}

// silentUDP is a UDP port that reads and never answers, like a DNS or NTP
// server behind a firewall that drops its replies.
func silentUDP(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

// hangingTCP accepts connections and never says a word, like a web server
// whose answers a firewall drops.
func hangingTCP(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

func closedTCPPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// offlineDoctor sets up triage doctor with the built-in selfcheck on a
// machine without network: every network target of the playbook points
// at a loopback port that stays silent or refuses, so nothing is sent
// anywhere else (the target refuses that too).
func offlineDoctor(t testing.TB, out string) (*doctorOptions, *offlineTarget, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	dns, ntp := silentUDP(t), silentUDP(t)
	web := hangingTCP(t)
	target := newOfflineTarget(dns)
	var stdout, stderr bytes.Buffer
	opts := &doctorOptions{
		io:  &streams{In: strings.NewReader(""), Out: &stdout, Err: &stderr},
		Out: out,
		Vars: []string{
			"public_name=www.example.com",
			"dns_server=" + dns,
			"org_name=intranet.example.com",
			"org_url=http://" + closedTCPPort(t) + "/",
			"https_url=http://" + web + "/",
			"captive_url=http://" + web + "/generate_204",
			"ntp_server=" + ntp,
		},
		Target:         target,
		Getenv:         func(string) string { return "" },
		SystemPlaybook: filepath.Join(t.TempDir(), "no-doctor.yaml"),
	}
	return opts, target, &stdout, &stderr
}

// TestDoctorOffline runs the built-in selfcheck on a machine with no
// network. Every network check must end in a verdict with advice (not
// hang, not crash), both report files must be written, and the exit code
// must be that of the worst verdict.
func TestDoctorOffline(t *testing.T) {
	out := t.TempDir()
	opts, target, stdout, stderr := offlineDoctor(t, out)
	err := doctorRun(context.Background(), opts)
	target.checkStayedHome(t)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)

	// The report, as saved.
	jsonFiles, _ := filepath.Glob(filepath.Join(out, "triage-report-*.json"))
	if len(jsonFiles) != 1 {
		t.Fatalf("JSON reports in %s: %q", out, jsonFiles)
	}
	f, err2 := os.Open(jsonFiles[0])
	if err2 != nil {
		t.Fatal(err2)
	}
	defer f.Close()
	rep, err2 := reports.Read(f)
	if err2 != nil {
		t.Fatal(err2)
	}
	byID := map[string]reports.Result{}
	for _, r := range rep.Hosts[0].Results {
		byID[r.ID] = r
	}
	// No network: the connection is the one cause, and every check that
	// needs it says it was not checked because of it (issue 17), rather
	// than failing or erring on its own.
	for _, id := range []string{"router", "dns-servers", "internet-names", "org-names", "proxy", "internet", "https", "org-website", "captive-portal", "clock"} {
		r, ok := byID[id]
		if !ok {
			t.Errorf("%s: not in the report", id)
			continue
		}
		if r.Status != diag.Skip || r.BlockedBy != "network" {
			t.Errorf("%s: %s blocked by %q (%s), want skip blocked by network", id, r.Status, r.BlockedBy, r.Message)
		}
	}
	for id, want := range map[string]diag.Status{"network": diag.Fail, "os": diag.Pass} {
		if r := byID[id]; r.Status != want || (want != diag.Pass && r.Hint == "") {
			t.Errorf("%s: %s (%s, hint %q), want %s with a hint", id, r.Status, r.Message, r.Hint, want)
		}
	}
	blocked := 0
	for _, r := range rep.Hosts[0].Results {
		if r.BlockedBy == "network" {
			blocked++
		}
	}
	if d := rep.Hosts[0].Diagnosis; len(d) == 0 || d[0].Check != "network" || len(d[0].Explains) != blocked || blocked < 10 {
		t.Errorf("diagnosis %+v, want network first, explaining the %d network checks it blocked", d, blocked)
	}
	// Whatever the local disks, memory and uptime, those checks ran.
	for _, id := range []string{"disk-home", "memory", "uptime", "pending-restart"} {
		if r, ok := byID[id]; !ok || r.Status == "" || strings.Contains(r.Message, "timed out") {
			t.Errorf("%s: %+v", id, r)
		}
	}

	// The exit code is that of the cause, fail: what it blocked does not
	// make it "not checked".
	var ee *exitCodeError
	if !errors.As(err, &ee) || ee.code != statusExit(rep.Summary.Status) || ee.code != exitFail {
		t.Errorf("doctorRun returned %v; want exit code %d for %s", err, statusExit(rep.Summary.Status), rep.Summary.Status)
	}

	// What the person reads, with the explanations' line breaks undone.
	text := stdout.String()
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"triage doctor · ",
		"✗ Problem Network connection",
		"What this means: not connected to any network: there is no network interface besides loopback",
		"What you can try: This computer is not connected to a network.",
		"What is wrong: Network connection - not connected to any network",
		fmt.Sprintf("This also explains %d other items below.", blocked),
		"⊘ Not checked Router (because of Network connection)",
		"⊘ Not checked Clock (because of Network connection)",
		"The report for the help desk is saved in:",
		jsonFiles[0],
		"Paste this into your ticket:",
		"1 problem (Network connection)",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if _, ok := reports.Lookup("html"); ok {
		html := strings.TrimSuffix(jsonFiles[0], ".json") + ".html"
		if _, err := os.Stat(html); err != nil {
			t.Errorf("the HTML report: %v", err)
		}
		if !strings.Contains(text, "Report: "+html) {
			t.Errorf("the summary does not name the HTML report %s", html)
		}
	}
	if strings.Contains(text, "\x1b[") {
		t.Error("colour on a stream that is not a terminal")
	}
}

// BenchmarkDoctorOffline measures the wall time of triage doctor with the
// built-in selfcheck when nothing on the network answers: DNS and NTP
// queries and HTTP requests all meet silence, the worst case, where every
// network check waits for its timeout. They wait side by side, so the
// whole run takes about the longest timeout (3s), far below the 15s an
// end user is promised.
func BenchmarkDoctorOffline(b *testing.B) {
	for b.Loop() {
		opts, target, _, _ := offlineDoctor(b, b.TempDir())
		err := doctorRun(context.Background(), opts)
		var ee *exitCodeError
		if !errors.As(err, &ee) || ee.code == exitUsage || ee.code == exitInvalid {
			b.Fatalf("doctor: %v", err)
		}
		target.checkStayedHome(b)
	}
}

// TestDoctorPlaybookChoice checks where doctor takes its checks from:
// --playbook, then TRIAGE_DOCTOR_PLAYBOOK, then the system's doctor.yaml,
// then the built-in selfcheck.
func TestDoctorPlaybookChoice(t *testing.T) {
	dir := t.TempDir()
	write := func(name, title string) string {
		p := filepath.Join(dir, name)
		src := fmt.Sprintf("checks:\n  - id: c\n    title: %s\n    file: {path: %q}\n", title, dir)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flag, env, system := write("flag.yaml", "From the flag"), write("env.yaml", "From the environment"), write("doctor.yaml", "From the system")
	for _, tc := range []struct {
		name          string
		flag, env     string
		system        string
		want, wantSrc string
	}{
		{"flag first", flag, env, system, "From the flag", "(--playbook)"},
		{"then the environment", "", env, system, "From the environment", "(" + doctorEnv + ")"},
		{"then the system's file", "", "", system, "From the system", "(the system's doctor.yaml)"},
		{"a built-in by name", "", "disk", system, "System disk has free space", "(" + doctorEnv + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			opts := &doctorOptions{
				io:             &streams{In: strings.NewReader(""), Out: &stdout, Err: &bytes.Buffer{}},
				Playbook:       tc.flag,
				Out:            t.TempDir(),
				Target:         newOfflineTarget(),
				Getenv:         func(k string) string { return map[string]string{doctorEnv: tc.env}[k] },
				SystemPlaybook: tc.system,
			}
			_ = doctorRun(context.Background(), opts)
			if !strings.Contains(stdout.String(), tc.want) || !strings.Contains(stdout.String(), tc.wantSrc) {
				t.Errorf("output does not show %q from %s:\n%s", tc.want, tc.wantSrc, stdout.String())
			}
		})
	}

	// An organisation's playbook with mistakes: invalid input, and advice
	// for the person who cannot fix it.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("checks:\n  - id: c\n    flie: {path: /}\n"), 0o644)
	opts := &doctorOptions{io: &streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, Target: newOfflineTarget(),
		Getenv: func(string) string { return "" }, SystemPlaybook: bad, Out: t.TempDir()}
	err := doctorRun(context.Background(), opts)
	var ee *exitCodeError
	if !errors.As(err, &ee) || ee.code != exitInvalid || !strings.Contains(ee.err.Error(), "bad.yaml:3:5") || !strings.Contains(ee.hint, "tell your help desk") {
		t.Errorf("a bad system playbook: %v (hint %q)", err, ee.hint)
	}
}

func TestSystemDoctorPlaybook(t *testing.T) {
	env := func(vals map[string]string) func(string) string { return func(k string) string { return vals[k] } }
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", nil, "/etc/triage/doctor.yaml"},
		{"freebsd", nil, "/etc/triage/doctor.yaml"},
		{"darwin", nil, "/Library/Application Support/triage/doctor.yaml"},
		{"windows", map[string]string{"ProgramData": `D:\ProgramData`}, `D:\ProgramData\triage\doctor.yaml`},
		{"windows", nil, `C:\ProgramData\triage\doctor.yaml`},
	} {
		if got := systemDoctorPlaybook(tc.goos, env(tc.env)); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.goos, tc.env, got, tc.want)
		}
	}
}

func TestDoctorFileName(t *testing.T) {
	at := time.Date(2026, 11, 23, 16, 5, 9, 0, time.UTC)
	for host, want := range map[string]string{
		"alice-laptop":        "triage-report-alice-laptop-20261123-1605.json",
		"ALICE-PC.corp.local": "triage-report-ALICE-PC.corp.local-20261123-1605.json",
		"Alice's MacBook Air": "triage-report-Alice-s-MacBook-Air-20261123-1605.json",
		"../../etc":           "triage-report-etc-20261123-1605.json",
		"":                    "triage-report-computer-20261123-1605.json",
	} {
		if got := doctorFileName(host, at, ".json"); got != want {
			t.Errorf("%q: %q, want %q", host, got, want)
		}
	}
	// A second report in the same minute does not replace the first.
	dir := t.TempDir()
	first := uniqueReportBase(dir, "pc", at)
	os.WriteFile(first+".json", []byte("{}"), 0o644)
	if second := uniqueReportBase(dir, "pc", at); second != first+"-2" {
		t.Errorf("second report %q, want %q", second, first+"-2")
	}
}

func TestParseUserDirs(t *testing.T) {
	// ~/.config/user-dirs.dirs as xdg-user-dirs-update writes it for a
	// German desktop.
	data := []byte(`# This file is written by xdg-user-dirs-update
# If you want to change or add directories, just edit the line you're
# interested in. All local changes will be retained on the next run.
XDG_DESKTOP_DIR="$HOME/Schreibtisch"
XDG_DOWNLOAD_DIR="$HOME/Downloads"
XDG_TEMPLATES_DIR="$HOME/Vorlagen"
XDG_PUBLICSHARE_DIR="/srv/share"
XDG_MUSIC_DIR="relative/is/ignored"
`)
	got := parseUserDirs(data, "/home/anna")
	for k, want := range map[string]string{
		"XDG_DESKTOP_DIR":     "/home/anna/Schreibtisch",
		"XDG_DOWNLOAD_DIR":    "/home/anna/Downloads",
		"XDG_PUBLICSHARE_DIR": "/srv/share",
		"XDG_MUSIC_DIR":       "",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}

func TestDoctorSavesToTheDesktop(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	desktop := filepath.Join(home, "Desktop")
	if err := os.Mkdir(desktop, 0o755); err != nil {
		t.Fatal(err)
	}
	dirs := defaultReportDirs(func(string) string { return "" })
	if len(dirs) < 2 || dirs[0] != desktop || dirs[1] != home {
		t.Errorf("report folders %q, want the Desktop, then home", dirs)
	}
	os.Remove(desktop)
	if dirs := defaultReportDirs(func(string) string { return "" }); dirs[0] != home {
		t.Errorf("without a Desktop, report folders %q, want home first", dirs)
	}
}

// TestDoctorJSONIsTheReport checks that the saved JSON is a complete
// report: the playbook, the facts and every check.
func TestDoctorJSONIsTheReport(t *testing.T) {
	out := t.TempDir()
	pb := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(pb, []byte("name: tiny\nchecks:\n  - id: here\n    title: Here\n    file: {path: "+fmt.Sprintf("%q", out)+"}\n"), 0o644)
	var stdout bytes.Buffer
	opts := &doctorOptions{io: &streams{Out: &stdout, Err: &bytes.Buffer{}}, Playbook: pb, Out: out, Ticket: "INC-7",
		Target: newOfflineTarget(), Getenv: func(string) string { return "" }}
	if err := doctorRun(context.Background(), opts); err != nil {
		t.Fatalf("a passing playbook: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) != 1 {
		t.Fatalf("files %q", files)
	}
	data, _ := os.ReadFile(files[0])
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["schema"] != reports.Schema || raw["ticket"] != "INC-7" {
		t.Errorf("report %s", data)
	}
	if !strings.Contains(stdout.String(), "Result: everything looks fine (1 fine)") || !strings.Contains(stdout.String(), "no problems found") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}
