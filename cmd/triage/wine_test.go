//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/reports"
)

// TestWine runs the Windows build of triage under Wine and checks that
// every Windows API path it takes gives the figures of the Linux machine
// Wine maps it onto: GetDiskFreeSpaceEx, GlobalMemoryStatusEx,
// GetTickCount64, GetAdaptersAddresses (gateway and DNS servers), the
// registry (version, Uninstall keys, pending restarts, proxy settings),
// the service control manager, raw ICMP and the Desktop known folder.
//
// .ci/wine sets it up and runs it; by hand it needs:
//
//	TRIAGE_WINE_EXE      the windows/amd64 triage.exe
//	TRIAGE_WINE          the wine loader (/usr/lib/wine/wine64 on Debian)
//	WINEPREFIX           a prefix of its own, made in that namespace
//	TRIAGE_WINE_NETNS    a network namespace for Wine to run in (ip netns)
//	TRIAGE_WINE_ADDR     its address there, such as 198.51.100.2/24
//	TRIAGE_WINE_GATEWAY  its default gateway, also its only DNS server
//	TRIAGE_WINE_HOME     the HOME the prefix was made with (optional)
//
// The namespace is what keeps doctor at home: its gateway, DNS server and
// public names are this machine's otherwise. In it, the gateway is a test
// host of the script's own and nothing else is reachable.
func TestWine(t *testing.T) {
	w := newWineRun(t)

	t.Run("version", func(t *testing.T) {
		out, code := w.triage(t, "version")
		if code != 0 || !strings.HasPrefix(out, "triage ") || !strings.Contains(out, "windows/amd64") {
			t.Errorf("triage version: exit %d, %q", code, out)
		}
	})

	t.Run("playbook list", func(t *testing.T) {
		out, code := w.triage(t, "playbook", "list")
		if code != 0 || !strings.Contains(out, "selfcheck") || !strings.Contains(out, "standard") {
			t.Errorf("triage playbook list: exit %d, %q", code, out)
		}
	})

	t.Run("run disk", func(t *testing.T) {
		rep, code := w.runJSON(t, "disk")
		r := w.result(t, rep, "system-drive")
		if code != 0 || r.Status != diag.Pass {
			t.Fatalf("exit %d; system-drive: %s %s", code, r.Status, r.Message)
		}
		// C: is a folder of the prefix: Wine measures the filesystem that
		// holds it, as statfs does here.
		var st syscall.Statfs_t
		if err := syscall.Statfs(filepath.Join(w.prefix, "drive_c"), &st); err != nil {
			t.Fatal(err)
		}
		total, avail := st.Blocks*uint64(st.Bsize), st.Bavail*uint64(st.Bsize)
		if got := number(t, r, "total_bytes"); got != float64(total) {
			t.Errorf("C:\\ total %.0f bytes, statfs says %d", got, total)
		}
		// Free space moves while other programs write; 1GiB is room enough.
		if got := number(t, r, "free_bytes"); math.Abs(got-float64(avail)) > 1<<30 {
			t.Errorf("C:\\ free %.0f bytes, statfs says %d available", got, avail)
		}
	})

	t.Run("run standard", func(t *testing.T) {
		rep, code := w.runJSON(t)
		if code != 0 {
			t.Errorf("exit %d (%s)", code, rep.Summary.Status)
		}
		f := rep.Hosts[0].Facts
		host, _ := os.Hostname()
		if f.OS != "windows" || f.Distro != "windows" || f.Hostname != host ||
			!strings.Contains(f.PrettyName, "Windows") || !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(f.Kernel) {
			t.Errorf("facts %+v", f)
		}
		if f.Gateway != w.gateway.String() {
			t.Errorf("gateway fact %q, want %s", f.Gateway, w.gateway)
		}

		mem := w.result(t, rep, "memory")
		meminfo := readMeminfo(t)
		total := number(t, mem, "total_bytes")
		if mem.Status != diag.Pass || math.Abs(total-meminfo["MemTotal"]) > meminfo["MemTotal"]/100 {
			t.Errorf("memory %s %s; /proc/meminfo MemTotal %.0f", mem.Status, mem.Message, meminfo["MemTotal"])
		}
		if a := number(t, mem, "available_bytes"); a <= 0 || a > total {
			t.Errorf("memory available %.0f of %.0f", a, total)
		}
		// GlobalMemoryStatusEx has no swap figure: it is read off the
		// commit limit, which is not to invent one where there is none.
		swap := number(t, mem, "swap_total_bytes")
		if (meminfo["SwapTotal"] == 0) != (swap == 0) {
			t.Errorf("swap %.0f bytes; /proc/meminfo SwapTotal %.0f", swap, meminfo["SwapTotal"])
		}

		up := w.result(t, rep, "uptime")
		if d := number(t, up, "uptime_seconds") - procUptime(t); up.Status != diag.Pass || math.Abs(d) > 120 {
			t.Errorf("uptime %s %s: %.0fs off /proc/uptime", up.Status, up.Message, d)
		}
		if r := w.result(t, rep, "dns-localhost"); r.Status != diag.Pass {
			t.Errorf("dns-localhost %s %s", r.Status, r.Message)
		}
	})

	t.Run("run software", func(t *testing.T) {
		rep, code := w.runJSON(t, "software")
		if code != 0 {
			t.Errorf("exit %d (%s)", code, rep.Summary.Status)
		}
		for _, r := range rep.Hosts[0].Results {
			if want := map[bool]diag.Status{true: diag.Pass, false: diag.Skip}[r.ID == "os"]; r.Status != want {
				t.Errorf("%s: %s %s, want %s", r.ID, r.Status, r.Message, want)
			}
		}
	})

	// doctor before the registry is changed below, so that it sees a
	// machine with no pending restart and no proxy.
	t.Run("doctor --out", func(t *testing.T) {
		out := t.TempDir()
		stdout, code := w.triage(t, append([]string{"doctor", "--out", winPath(out)}, w.doctorVars()...)...)
		rep := w.savedReport(t, out)
		w.checkDoctor(t, rep, code, stdout)
	})

	t.Run("doctor on the Desktop", func(t *testing.T) {
		// Wine links the Desktop folder of its user to the Linux one.
		users, _ := filepath.Glob(filepath.Join(w.prefix, "drive_c", "users", "*", "Desktop"))
		users = slices.DeleteFunc(users, func(d string) bool { return strings.Contains(d, "/Public/") })
		if len(users) != 1 {
			t.Fatalf("users' Desktop folders in the prefix: %q", users)
		}
		desktop, err := filepath.EvalSymlinks(users[0])
		if err != nil {
			t.Fatal(err)
		}
		stdout, code := w.triage(t, append([]string{"doctor"}, w.doctorVars()...)...)
		rep := w.savedReport(t, desktop)
		w.checkDoctor(t, rep, code, stdout)
		name := filepath.Base(filepath.Dir(users[0]))
		if want := `C:\users\` + name + `\Desktop\triage-report-`; !strings.Contains(stdout, want) {
			t.Errorf("doctor does not say it saved to %s...:\n%s", want, stdout)
		}
	})

	t.Run("doctor with the system's doctor.yaml", func(t *testing.T) {
		// %ProgramData%\triage\doctor.yaml, as an organisation installs it.
		path := filepath.Join(w.prefix, "drive_c", "ProgramData", "triage", "doctor.yaml")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(filepath.Dir(path)) })
		const pb = "name: acme-doctor\ndescription: Acme's own checks.\nchecks:\n  - {id: acme-disk, title: Disk, disk: {path: 'C:\\'}}\n"
		if err := os.WriteFile(path, []byte(pb), 0o644); err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		stdout, code := w.triage(t, "doctor", "--out", winPath(out))
		rep := w.savedReport(t, out)
		if code != 0 || len(rep.Playbooks) != 1 || rep.Playbooks[0].Name != "acme-doctor" {
			t.Fatalf("exit %d, playbooks %+v:\n%s", code, rep.Playbooks, stdout)
		}
		if r := w.result(t, rep, "acme-disk"); r.Status != diag.Pass {
			t.Errorf("acme-disk: %s %s", r.Status, r.Message)
		}
	})

	t.Run("registry, services and network", func(t *testing.T) {
		const uninstall = `Software\Microsoft\Windows\CurrentVersion\Uninstall`
		for _, e := range []struct{ key, name, version string }{
			{`HKCU\` + uninstall + `\TriageWineTest`, "Triage Wine Test", "1.2.3"},
			{`HKLM\` + uninstall + `\{7E1C3C1A-0B44-4B8E-9D2E-3A5C1D1E2F01}`, "Triage Machine Wide", "10.0.1"},
			{`HKLM\Software\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall\Triage32`, "Triage 32-bit", "3.2 (x86)"},
			// An update of another program is not listed as a program.
			{`HKLM\` + uninstall + `\KB0000001`, "Update for Triage Wine Test", "1"},
		} {
			w.reg(t, "add", e.key, "/v", "DisplayName", "/d", e.name, "/f")
			w.reg(t, "add", e.key, "/v", "DisplayVersion", "/d", e.version, "/f")
		}
		w.reg(t, "add", `HKLM\`+uninstall+`\KB0000001`, "/v", "ParentKeyName", "/d", "TriageWineTest", "/f")
		w.reg(t, "add", `HKLM\Software\Microsoft\Windows NT\CurrentVersion`, "/v", "DisplayVersion", "/d", "22H2", "/f")
		w.reg(t, "add", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`, "/f")
		w.reg(t, "add", `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager`, "/v", "PendingFileRenameOperations",
			"/t", "REG_MULTI_SZ", "/d", `\??\C:\triage\new.dll\0!\??\C:\triage\old.dll`, "/f")
		const settings = `HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings`
		w.reg(t, "add", settings, "/v", "ProxyEnable", "/t", "REG_DWORD", "/d", "1", "/f")
		w.reg(t, "add", settings, "/v", "ProxyServer", "/d", "http=127.0.0.1:9;https=127.0.0.1:9;socks=127.0.0.1:1080", "/f")
		w.reg(t, "add", settings, "/v", "ProxyOverride", "/d", "<local>;*.example.com", "/f")
		w.reg(t, "add", settings, "/v", "AutoConfigURL", "/d", "http://127.0.0.1:9/proxy.pac", "/f")

		// What RtlGetVersion says, Wine writes in the registry too.
		const ntVersion = `HKLM\Software\Microsoft\Windows NT\CurrentVersion`
		build := w.regValue(t, ntVersion, "CurrentBuildNumber")
		kernel := w.regValue(t, ntVersion, "CurrentVersion") + "." + build

		// An automatic service that Wine may not have started yet, and a
		// manual one it leaves stopped: sc.exe is the other witness.
		w.wineExec(t, "sc", "start", "PlugPlay") // "already running" is an answer too
		if got := w.serviceState(t, "PlugPlay"); got != "RUNNING" {
			t.Fatalf("sc query PlugPlay: %s after sc start", got)
		}
		if got := w.serviceState(t, "Spooler"); got != "STOPPED" {
			t.Fatalf("sc query Spooler: %s", got)
		}

		pb := filepath.Join(t.TempDir(), "wine.yaml")
		if err := os.WriteFile(pb, []byte(winePlaybook), 0o644); err != nil {
			t.Fatal(err)
		}
		// One check at a time: Wine 8's service control manager client is
		// not safe for threads (one process's concurrent OpenService and
		// QueryServiceStatus calls fail now and then with "Invalid
		// handle"), which Windows' is.
		rep, _ := w.runJSON(t, "--parallel", "1", winPath(pb))
		for _, c := range []struct {
			id     string
			status diag.Status
			want   map[string]any // observed values, compared as JSON
			msg    string         // a part of the message
		}{
			{"pkg-hkcu", diag.Pass, map[string]any{"version": "1.2.3", "source": "registry"}, ""},
			{"pkg-hklm", diag.Pass, map[string]any{"version": "10.0.1"}, ""},
			{"pkg-wow64", diag.Pass, map[string]any{"version": "3.2 (x86)"}, ""},
			{"pkg-update", diag.Pass, map[string]any{"installed": false}, ""},
			{"pkg-missing", diag.Fail, map[string]any{"installed": false}, "not installed"},
			{"svc-running", diag.Pass, map[string]any{"active_state": "running", "unit_file_state": "automatic", "enabled": true}, "Plug and Play"},
			{"svc-stopped", diag.Pass, map[string]any{"active_state": "stopped", "unit_file_state": "manual"}, ""},
			{"svc-missing", diag.Fail, nil, "no such service"},
			{"interface", diag.Pass, nil, w.addr.Addr().String()},
			{"gateway", diag.Pass, map[string]any{"gateway": w.gateway.String(), "method": "icmp", "received": 10}, ""},
			// Nothing answers DNS on the gateway: what counts is that the
			// server came from the adapter.
			{"nameservers", diag.Fail, map[string]any{"nameservers": []string{w.gateway.String()}, "source": "the network adapters' settings"}, ""},
			{"ping-loopback", diag.Pass, map[string]any{"method": "icmp", "received": 3}, ""},
			{"reboot", diag.Warn, map[string]any{"pending": true, "reasons": []string{
				"Windows Update installed updates that need a restart", "1 file is to be replaced at the next restart"}}, ""},
			{"proxy", diag.Fail, map[string]any{
				"proxies": []map[string]string{
					{"scheme": "http", "source": "Windows proxy settings", "url": "http://127.0.0.1:9"},
					{"scheme": "https", "source": "Windows proxy settings", "url": "http://127.0.0.1:9"},
					{"scheme": "socks", "source": "Windows proxy settings", "url": "socks5://127.0.0.1:1080"},
				},
				"bypass":          []string{"<local>", "*.example.com"},
				"auto_config_url": "http://127.0.0.1:9/proxy.pac",
				"unreachable":     []string{"127.0.0.1:9", "127.0.0.1:1080"},
			}, "not reachable"},
			{"os", diag.Pass, map[string]any{"kernel": kernel}, "22H2 (build " + build + ")"},
			{"command", diag.Pass, map[string]any{"exit_code": 0}, ""},
			{"no-drive", diag.Error, nil, `Q:\`},
			// The Toolhelp snapshot: triage.exe itself, Wine's service
			// manager, and a program nobody started.
			{"proc-self", diag.Pass, map[string]any{"count": 1}, "named TRIAGE running"},
			{"proc-services", diag.Pass, nil, "named services.exe running"},
			{"proc-missing", diag.Pass, map[string]any{"running": false}, "as expected"},
		} {
			r := w.result(t, rep, c.id)
			if r.Status != c.status || !strings.Contains(r.Message, c.msg) {
				t.Errorf("%s: %s %q, want %s with %q", c.id, r.Status, r.Message, c.status, c.msg)
			}
			for k, v := range c.want {
				if got, want := asJSON(r.Observed[k]), asJSON(v); got != want {
					t.Errorf("%s: observed %s = %s, want %s", c.id, k, got, want)
				}
			}
		}
		if r := w.result(t, rep, "no-drive"); !strings.Contains(r.Hint, "does not exist") {
			t.Errorf("no-drive: hint %q", r.Hint)
		}
	})
}

// winePlaybook exercises what the built-in playbooks do not on Windows.
const winePlaybook = `name: wine
description: The Windows API paths of triage, under Wine.
checks:
  - {id: pkg-hkcu, package: {name: Triage Wine Test, version: '>= 1.2'}}
  - {id: pkg-hklm, package: {name: Triage Machine Wide, version: '= 10.0.1'}}
  - {id: pkg-wow64, package: {name: Triage 32-bit}}
  - {id: pkg-update, package: {name: Update for Triage Wine Test, state: absent}}
  - {id: pkg-missing, package: {name: No Such Program}}
  - {id: svc-running, service: {name: PlugPlay, enabled: 'true'}}
  - {id: svc-stopped, service: {name: Spooler, active: false, enabled: 'false'}}
  - {id: svc-missing, service: {name: NoSuchService}}
  - {id: interface, interface: {}}
  - {id: gateway, gateway: {timeout: 3s}}
  - {id: nameservers, nameservers: {timeout: 2s}}
  - {id: ping-loopback, ping: {host: 127.0.0.1}}
  - {id: reboot, reboot: {}}
  - {id: proxy, proxy: {timeout: 2s}}
  - {id: os, os: {}}
  - {id: command, command: {argv: [cmd, /c, ver]}}
  - {id: no-drive, disk: {path: 'Q:\'}}
  - {id: proc-self, process: {name: TRIAGE, max: 1}}
  - {id: proc-services, process: {name: services.exe}}
  - {id: proc-missing, process: {name: notepad, running: false}}
`

// wineRun is one prefix and network namespace to run triage.exe in.
type wineRun struct {
	exe, wine, prefix, netns, home string
	addr                           netip.Prefix
	gateway                        netip.Addr
}

// wineCommandTimeout bounds one triage.exe or reg run; doctor takes a few
// seconds, the first start of a prefix up to about 15.
const wineCommandTimeout = 90 * time.Second

// wineSlowCommand is how long a Wine run may take before the test log
// says so.
const wineSlowCommand = 5 * time.Second

func newWineRun(t *testing.T) *wineRun {
	w := &wineRun{
		exe:    os.Getenv("TRIAGE_WINE_EXE"),
		wine:   os.Getenv("TRIAGE_WINE"),
		prefix: os.Getenv("WINEPREFIX"),
		netns:  os.Getenv("TRIAGE_WINE_NETNS"),
		home:   os.Getenv("TRIAGE_WINE_HOME"),
	}
	if w.exe == "" {
		t.Skip("TRIAGE_WINE_EXE is not set: .ci/wine runs this test")
	}
	var err error
	if w.addr, err = netip.ParsePrefix(os.Getenv("TRIAGE_WINE_ADDR")); err != nil {
		t.Fatalf("TRIAGE_WINE_ADDR: %v", err)
	}
	if w.gateway, err = netip.ParseAddr(os.Getenv("TRIAGE_WINE_GATEWAY")); err != nil {
		t.Fatalf("TRIAGE_WINE_GATEWAY: %v", err)
	}
	if w.wine == "" || w.prefix == "" || w.netns == "" {
		t.Fatal("TRIAGE_WINE, WINEPREFIX and TRIAGE_WINE_NETNS must be set too: outside its own network namespace, doctor would reach this machine's gateway and DNS servers")
	}
	return w
}

// env is the environment of the Windows programs: this one's, less what
// would change what triage checks (proxies, a doctor playbook), with the
// prefix's HOME.
func (w *wineRun) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToLower(k), "_proxy") || strings.HasPrefix(k, "TRIAGE_") || (k == "HOME" && w.home != "") {
			continue
		}
		env = append(env, kv)
	}
	if w.home != "" {
		env = append(env, "HOME="+w.home)
	}
	return append(env, "WINEDEBUG=-all", "NO_COLOR=1")
}

// wineExec runs a Windows program in the prefix and namespace, and returns
// its standard output and exit code.
func (w *wineRun) wineExec(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wineCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", w.netns, w.wine}, args...)...)
	cmd.Env = w.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if d := time.Since(start); d > wineSlowCommand {
		t.Logf("wine %s took %s", strings.Join(args, " "), d.Round(time.Millisecond))
	}
	if ctx.Err() != nil {
		t.Fatalf("wine %s: no end after %s\nstderr: %s", strings.Join(args, " "), wineCommandTimeout, &stderr)
	}
	var ee *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("wine %s: %v", strings.Join(args, " "), err)
	}
	if stderr.Len() > 0 {
		t.Logf("wine %s: stderr:\n%s", strings.Join(args, " "), &stderr)
	}
	return stdout.String(), code
}

func (w *wineRun) triage(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return w.wineExec(t, append([]string{w.exe}, args...)...)
}

// reg runs Wine's reg.exe, which writes the registry as an installer does.
func (w *wineRun) reg(t *testing.T, args ...string) {
	t.Helper()
	if out, code := w.wineExec(t, append([]string{"reg"}, args...)...); code != 0 {
		t.Fatalf("reg %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
}

// regValue reads one value with reg query.
func (w *wineRun) regValue(t *testing.T, key, name string) string {
	t.Helper()
	out, code := w.wineExec(t, "reg", "query", key, "/v", name)
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); code == 0 && len(f) >= 3 && f[0] == name {
			return strings.Join(f[2:], " ")
		}
	}
	t.Fatalf("reg query %s /v %s: exit %d:\n%s", key, name, code, out)
	return ""
}

// serviceState is a service's STATE as sc query prints it: RUNNING,
// STOPPED...
func (w *wineRun) serviceState(t *testing.T, name string) string {
	t.Helper()
	out, code := w.wineExec(t, "sc", "query", name)
	for line := range strings.Lines(out) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "STATE" {
			if f := strings.Fields(v); len(f) == 2 {
				return f[1]
			}
		}
	}
	t.Fatalf("sc query %s: exit %d:\n%s", name, code, out)
	return ""
}

// runJSON runs triage run -o json with the given playbook (standard when
// none) and reads its report.
func (w *wineRun) runJSON(t *testing.T, playbook ...string) (*reports.Report, int) {
	t.Helper()
	out, code := w.triage(t, append([]string{"run", "-o", "json"}, playbook...)...)
	rep, err := reports.Read(strings.NewReader(out))
	if err != nil {
		t.Fatalf("triage run %s: exit %d, %v:\n%s", strings.Join(playbook, " "), code, err, out)
	}
	if len(rep.Hosts) != 1 {
		t.Fatalf("%d hosts in the report", len(rep.Hosts))
	}
	return rep, code
}

func (w *wineRun) result(t *testing.T, rep *reports.Report, id string) reports.Result {
	t.Helper()
	for _, r := range rep.Hosts[0].Results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no check %s in the report", id)
	return reports.Result{}
}

// doctorVars point every check of selfcheck that would go to the
// internet at closed loopback ports, as TestDoctorOffline does.
func (w *wineRun) doctorVars() []string {
	var out []string
	for _, v := range []string{
		"public_name=www.example.com",
		"dns_server=127.0.0.1:53",
		"https_url=http://127.0.0.1:9/",
		"captive_url=http://127.0.0.1:9/generate_204",
		"ntp_server=127.0.0.1:123",
	} {
		out = append(out, "--var", v)
	}
	return out
}

// savedReport reads the one JSON report doctor saved in dir, and checks
// the HTML report is beside it.
func (w *wineRun) savedReport(t *testing.T, dir string) *reports.Report {
	t.Helper()
	jsonFiles, _ := filepath.Glob(filepath.Join(dir, "triage-report-*.json"))
	htmlFiles, _ := filepath.Glob(filepath.Join(dir, "triage-report-*.html"))
	if len(jsonFiles) != 1 || len(htmlFiles) != 1 {
		t.Fatalf("reports in %s: %q %q", dir, jsonFiles, htmlFiles)
	}
	data, err := os.ReadFile(jsonFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reports.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkDoctor holds doctor's verdicts to what the namespace has: a
// connected adapter whose gateway answers, a DNS server that does not, a
// C: drive, and no network beyond.
func (w *wineRun) checkDoctor(t *testing.T, rep *reports.Report, code int, stdout string) {
	t.Helper()
	if code != statusExit(rep.Summary.Status) {
		t.Errorf("exit %d for a report that says %s", code, rep.Summary.Status)
	}
	for id, want := range map[string]diag.Status{
		"os":                  diag.Pass,
		"network":             diag.Pass,
		"router":              diag.Pass,
		"dns-servers":         diag.Fail,
		"proxy":               diag.Pass,
		"disk-system":         diag.Skip,
		"disk-system-windows": diag.Pass,
		"disk-home":           diag.Pass,
		"memory":              diag.Pass,
		"uptime":              diag.Pass,
		"pending-restart":     diag.Pass,
	} {
		if r := w.result(t, rep, id); r.Status != want {
			t.Errorf("doctor %s: %s %q, want %s", id, r.Status, r.Message, want)
		}
	}
	if got := asJSON(w.result(t, rep, "dns-servers").Observed["nameservers"]); got != asJSON([]string{w.gateway.String()}) {
		t.Errorf("doctor dns-servers: nameservers %s, want [%s]", got, w.gateway)
	}
	if r := w.result(t, rep, "router"); asJSON(r.Observed["gateway"]) != strconv.Quote(w.gateway.String()) {
		t.Errorf("doctor router: %s", r.Message)
	}
	// No DNS server answers: what needs names is blocked by that one
	// cause, which the diagnosis names first (the clock, which Wine 8
	// cannot check anyway for want of an ioctl, among them).
	for _, id := range []string{"internet-names", "internet", "https", "captive-portal", "clock"} {
		if r := w.result(t, rep, id); r.Status != diag.Skip || r.BlockedBy != "dns-servers" {
			t.Errorf("doctor %s: %s %q blocked by %q, want blocked by dns-servers", id, r.Status, r.Message, r.BlockedBy)
		}
	}
	if d := rep.Hosts[0].Diagnosis; len(d) == 0 || d[0].Check != "dns-servers" {
		t.Errorf("doctor's diagnosis: %+v, want dns-servers first", d)
	}
	if !strings.Contains(stdout, "The report for the help desk is saved in") {
		t.Errorf("doctor's output:\n%s", stdout)
	}
}

// winPath is a Linux path as a Windows program under Wine sees it: the
// root of the filesystem is drive Z:.
func winPath(p string) string {
	return `Z:` + strings.ReplaceAll(p, "/", `\`)
}

func number(t *testing.T, r reports.Result, key string) float64 {
	t.Helper()
	switch v := r.Observed[key].(type) {
	case float64:
		return v
	case json.Number:
		f, err := v.Float64()
		if err == nil {
			return f
		}
	}
	t.Fatalf("%s: observed %s is %#v, not a number", r.ID, key, r.Observed[key])
	return 0
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// readMeminfo returns /proc/meminfo's figures in bytes.
func readMeminfo(t *testing.T) map[string]float64 {
	t.Helper()
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, ":")
		f := strings.Fields(v)
		if !ok || len(f) == 0 {
			continue
		}
		n, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		if slices.Contains(f[1:], "kB") {
			n *= 1024
		}
		out[k] = n
	}
	return out
}

func procUptime(t *testing.T) float64 {
	t.Helper()
	data, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		t.Fatalf("/proc/uptime: %q", data)
	}
	up, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return up
}
