package syscheck

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestParseSystemctlShow(t *testing.T) {
	got := parseSystemctlShow([]byte(readTestdata(t, "systemctl/not-found.txt")))
	want := map[string]string{"Id": "nosuch.service", "LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead", "UnitFileState": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got = parseSystemctlShow([]byte("Environment=A=1 B=2\nnot a property\n=empty key\nX=1\nX=2\n"))
	want = map[string]string{"Environment": "A=1 B=2", "X": "1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func FuzzParseSystemctlShow(f *testing.F) {
	f.Add([]byte("Id=ssh.service\nLoadState=loaded\nActiveState=active\n"))
	f.Add([]byte("=\n==\nA=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k := range parseSystemctlShow(data) {
			if k == "" || strings.Contains(k, "\n") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}

// systemdTarget answers systemctl show for name with a recorded output.
func systemdTarget(t *testing.T, name, testdata string) *fakeTarget {
	ft := newFake()
	ft.stats["/run/systemd/system"] = diag.FileInfo{Path: "/run/systemd/system", Mode: 0o755 | 1<<31}
	argv := "systemctl show --no-pager --property=Id,LoadState,ActiveState,SubState,UnitFileState -- " + name
	ft.cmds[argv] = diag.CommandResult{Stdout: []byte(readTestdata(t, testdata))}
	return ft
}

func TestServiceValidate(t *testing.T) {
	for _, tc := range []struct {
		s    Service
		want []string
	}{
		{Service{Name: "nginx", Active: true}, nil},
		{Service{Name: "getty@tty1.service", Enabled: "true"}, nil},
		{Service{Name: "-H"}, []string{"name"}},
		{Service{Name: "nginx; reboot"}, []string{"name"}},
		{Service{Name: ""}, []string{"name"}},
		{Service{Name: "nginx", Enabled: "maybe"}, []string{"enabled"}},
	} {
		if got := fieldsOf(tc.s.Validate()); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: fields = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestServiceKind(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		s          Service
		want       diag.Status
		msg, hint  string
	}{
		{"running", "systemctl/active-enabled.txt", Service{Name: "ssh", Active: true, Enabled: "true"}, diag.Pass,
			"ssh.service is active (running), enabled", ""},
		{"failed", "systemctl/failed.txt", Service{Name: "nginx", Active: true}, diag.Fail,
			"nginx.service is failed, not running", "journalctl -u nginx.service"},
		{"restart loop", "systemctl/auto-restart.txt", Service{Name: "worker", Active: true}, diag.Fail,
			"worker.service is activating (auto-restart), not running", "systemctl status worker.service"},
		{"not installed", "systemctl/not-found.txt", Service{Name: "nosuch", Active: true}, diag.Fail,
			"nosuch.service is not installed", "list-unit-files 'nosuch*'"},
		{"not installed, not wanted", "systemctl/not-found.txt", Service{Name: "nosuch", Active: false}, diag.Pass,
			"nosuch.service is not installed, so it does not run, as expected", ""},
		{"masked", "systemctl/masked.txt", Service{Name: "apache2", Active: true}, diag.Fail,
			"apache2.service is masked", "systemctl unmask apache2.service"},
		{"masked, not wanted", "systemctl/masked.txt", Service{Name: "apache2", Active: false, Enabled: "false"}, diag.Pass,
			"apache2.service is inactive (dead), masked", ""},
		{"stopped as wanted", "systemctl/inactive-disabled.txt", Service{Name: "postgresql", Active: false}, diag.Pass,
			"postgresql.service is inactive (dead), disabled", ""},
		{"not enabled", "systemctl/inactive-disabled.txt", Service{Name: "postgresql", Active: false, Enabled: "true"}, diag.Fail,
			"postgresql.service does not start at boot (disabled)", "systemctl enable postgresql.service"},
		{"running but should not", "systemctl/active-enabled.txt", Service{Name: "ssh", Active: false, Enabled: "false"}, diag.Fail,
			"ssh.service is active (running) but should not be running and starts at boot (enabled) but should not", "systemctl stop ssh.service"},
		{"static counts as enabled", "systemctl/static-active.txt", Service{Name: "systemd-journald", Active: true, Enabled: "true"}, diag.Pass,
			"systemd-journald.service is active (running), static", ""},
		{"broken unit file", "systemctl/bad-setting.txt", Service{Name: "broken", Active: true}, diag.Fail,
			"broken.service cannot be loaded by systemd (load state bad-setting)", "daemon-reload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.s.Run(context.Background(), systemdTarget(t, tc.s.Name, tc.file))
			checkResult(t, r, tc.want)
			if !strings.HasPrefix(r.Message, tc.msg) {
				t.Errorf("message %q, want it to start with %q", r.Message, tc.msg)
			}
			if !strings.Contains(r.Hint, tc.hint) {
				t.Errorf("hint %q does not contain %q", r.Hint, tc.hint)
			}
			for _, k := range []string{"name", "active", "sub_state", "enabled"} {
				if _, ok := r.Observed[k]; !ok {
					t.Errorf("observed has no %s", k)
				}
			}
		})
	}
}

func TestServiceWithoutSystemd(t *testing.T) {
	// systemctl installed, but PID 1 is not systemd (a container).
	ft := systemdTarget(t, "ssh", "systemctl/active-enabled.txt")
	delete(ft.stats, "/run/systemd/system")
	r := (&Service{Name: "ssh", Active: true}).Run(context.Background(), ft)
	checkResult(t, r, diag.Skip)
	if !strings.Contains(r.Message, "not booted with systemd") {
		t.Errorf("message %q", r.Message)
	}
	if len(ft.ran) != 0 {
		t.Errorf("ran %v without systemd", ft.ran)
	}

	// The same, found out from systemctl's own answer.
	ft = newFake()
	ft.stats["/run/systemd/system"] = diag.FileInfo{}
	argv := "systemctl show --no-pager --property=Id,LoadState,ActiveState,SubState,UnitFileState -- ssh"
	ft.cmds[argv] = diag.CommandResult{ExitCode: 1, Stderr: []byte("System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n")}
	checkResult(t, (&Service{Name: "ssh", Active: true}).Run(context.Background(), ft), diag.Skip)

	// Another failure of systemctl is an error: the state is unknown.
	ft.cmds[argv] = diag.CommandResult{ExitCode: 1, Stderr: []byte("Failed to connect to bus: Permission denied\n")}
	r = (&Service{Name: "ssh", Active: true}).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Message, "Permission denied") {
		t.Errorf("message %q", r.Message)
	}

	// No systemctl at all.
	delete(ft.cmds, argv)
	checkResult(t, (&Service{Name: "ssh", Active: true}).Run(context.Background(), ft), diag.Skip)

	// Unparseable output.
	ft.cmds[argv] = diag.CommandResult{Stdout: []byte("garbage\n")}
	checkResult(t, (&Service{Name: "ssh", Active: true}).Run(context.Background(), ft), diag.Error)

	// A Mac is asked through launchctl (service_platforms_test.go); one
	// without it cannot be asked at all.
	mac := newFake()
	mac.facts.OS = "darwin"
	checkResult(t, (&Service{Name: "ssh", Active: true}).Run(context.Background(), mac), diag.Error)
}

// TestServiceOnThisMachine runs the kind against the real systemctl where
// there is one; it needs no particular unit, only an honest answer.
func TestServiceOnThisMachine(t *testing.T) {
	r := (&Service{Name: "triage-no-such-unit-7f3a", Active: true}).Run(context.Background(), diag.NewLocal())
	switch r.Status {
	case diag.Skip:
		t.Logf("no systemd here: %s", r.Message)
	case diag.Fail:
		if !strings.Contains(r.Message, "not installed") {
			t.Errorf("a made-up unit: %s", r.Message)
		}
	default:
		t.Errorf("a made-up unit: %s: %s", r.Status, r.Message)
	}
}
