package syscheck

import (
	"context"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestParseLaunchctlPrint(t *testing.T) {
	for file, want := range map[string]struct {
		active bool
		state  string
	}{
		// The socket block of sshd says "state = running" one level down:
		// that is the listening socket, not the job.
		"launchctl/print-sshd-not-running.txt":      {false, "not running"},
		"launchctl/print-mdnsresponder-running.txt": {true, "running"},
		"launchctl/print-gui-agent-running.txt":     {true, "running"},
	} {
		st := parseLaunchctlPrint([]byte(readTestdata(t, file)))
		if st.active != want.active || st.stateText != want.state || !st.exists {
			t.Errorf("%s: %+v, want active=%v state %q", file, st, want.active, want.state)
		}
	}
}

func TestParseLaunchctlDisabled(t *testing.T) {
	got := parseLaunchctlDisabled([]byte(readTestdata(t, "launchctl/print-disabled-system.txt")))
	for label, disabled := range map[string]bool{"com.openssh.sshd": true, "com.apple.mDNSResponder": false, "org.apache.httpd": true} {
		if d, ok := got[label]; !ok || d != disabled {
			t.Errorf("%s: disabled=%v listed=%v, want disabled=%v", label, d, ok, disabled)
		}
	}
	// Before macOS 13 Ventura, true meant disabled (the file was recorded
	// from 10.13).
	old := parseLaunchctlDisabled([]byte(readTestdata(t, "launchctl/print-disabled-10.13.txt")))
	if !old["com.openssh.sshd"] || old["com.apple.screensharing"] {
		t.Errorf("10.13 form read as %v", old)
	}
}

// macTarget is a Mac as launchctl describes it: user 501, sshd installed
// but not running and disabled, mDNSResponder running, and a backup agent
// in the user's session.
func macTarget(t *testing.T) *fakeTarget {
	ft := newFake()
	ft.facts = diag.Facts{OS: "darwin", Arch: "arm64", Hostname: "mac", Distro: "macos", DistroVersion: "14.4.1"}
	notFound := diag.CommandResult{ExitCode: 113, Stderr: []byte(readTestdata(t, "launchctl/print-not-found.txt"))}
	ft.cmds["id -u"] = diag.CommandResult{Stdout: []byte("501\n")}
	ft.cmds["launchctl print system/com.openssh.sshd"] = diag.CommandResult{Stdout: []byte(readTestdata(t, "launchctl/print-sshd-not-running.txt"))}
	ft.cmds["launchctl print system/com.apple.mDNSResponder"] = diag.CommandResult{Stdout: []byte(readTestdata(t, "launchctl/print-mdnsresponder-running.txt"))}
	ft.cmds["launchctl print system/com.example.backup-agent"] = notFound
	ft.cmds["launchctl print gui/501/com.example.backup-agent"] = diag.CommandResult{Stdout: []byte(readTestdata(t, "launchctl/print-gui-agent-running.txt"))}
	ft.cmds["launchctl print system/com.example.nothere"] = notFound
	ft.cmds["launchctl print gui/501/com.example.nothere"] = notFound
	ft.cmds["launchctl print-disabled system"] = diag.CommandResult{Stdout: []byte(readTestdata(t, "launchctl/print-disabled-system.txt"))}
	ft.cmds["launchctl print-disabled gui/501"] = diag.CommandResult{Stdout: []byte("disabled services = {\n}\n")}
	return ft
}

func TestServiceLaunchd(t *testing.T) {
	mac := macTarget(t)
	ctx := context.Background()
	for _, tc := range []struct {
		svc      Service
		status   diag.Status
		fragment string
	}{
		{Service{Name: "com.apple.mDNSResponder", Active: true, Enabled: "true"}, diag.Pass, "system/com.apple.mDNSResponder is running, enabled"},
		{Service{Name: "com.openssh.sshd", Active: true}, diag.Fail, "system/com.openssh.sshd is not running"},
		{Service{Name: "com.openssh.sshd", Active: false, Enabled: "true"}, diag.Fail, "does not start by itself (disabled)"},
		{Service{Name: "com.openssh.sshd", Active: false, Enabled: "false"}, diag.Pass, "is not running, disabled"},
		// Not a system daemon: found among the user's agents.
		{Service{Name: "com.example.backup-agent", Active: true}, diag.Pass, "gui/501/com.example.backup-agent is running"},
		{Service{Name: "com.example.nothere", Active: true}, diag.Fail, "com.example.nothere is not installed"},
		{Service{Name: "com.example.nothere", Active: false}, diag.Pass, "not installed, so it does not run"},
	} {
		r := tc.svc.Run(ctx, mac)
		checkResult(t, r, tc.status)
		if !strings.Contains(r.Message, tc.fragment) {
			t.Errorf("%s: message %q lacks %q", tc.svc.Name, r.Message, tc.fragment)
		}
		if r.Status == diag.Fail && tc.svc.Name == "com.openssh.sshd" && !strings.Contains(r.Hint, "sudo launchctl") {
			t.Errorf("hint for a system daemon: %q", r.Hint)
		}
	}

	// launchctl failing otherwise is an error, never "not installed".
	mac.cmds["launchctl print system/com.apple.mDNSResponder"] = diag.CommandResult{ExitCode: 1, Stderr: []byte("Could not connect to launchd: Operation not permitted\n")}
	checkResult(t, (&Service{Name: "com.apple.mDNSResponder", Active: true}).Run(ctx, mac), diag.Error)
}

func TestStateOfWindowsService(t *testing.T) {
	// Values as the service control manager reports them, the way
	// sc queryex and sc qc show them.
	for _, tc := range []struct {
		ws                 winService
		active, enabled    bool
		state, enabledText string
		name               string
	}{
		{winService{exists: true, state: 4, startType: 2, displayName: "Print Spooler"}, true, true, "running", "automatic", "Spooler (Print Spooler)"},
		{winService{exists: true, state: 4, startType: 2, delayed: true, displayName: "Windows Update"}, true, true, "running", "automatic (delayed start)", "Spooler (Windows Update)"},
		{winService{exists: true, state: 1, startType: 3}, false, false, "stopped", "manual", "Spooler"},
		{winService{exists: true, state: 1, startType: 4, displayName: "Spooler"}, false, false, "stopped", "disabled", "Spooler"},
		{winService{exists: true, state: 2, startType: 2}, true, true, "starting", "automatic", "Spooler"},
		{winService{exists: true, state: 7, startType: 2}, false, true, "paused", "automatic", "Spooler"},
	} {
		st := stateOfWindowsService("Spooler", tc.ws)
		if st.active != tc.active || st.enabled != tc.enabled || st.stateText != tc.state || st.enabledText != tc.enabledText || st.name != tc.name {
			t.Errorf("%+v: got %+v", tc.ws, st)
		}
	}
	if st := stateOfWindowsService("NoSuchSvc", winService{}); st.exists {
		t.Errorf("a missing service reads as existing: %+v", st)
	}

	s := &Service{Name: "Spooler", Active: true, Enabled: "true"}
	r := s.judgeState(stateOfWindowsService("Spooler", winService{exists: true, state: 1, startType: 4}), "", serviceHints{start: "start it", enable: "enable it"})
	checkResult(t, r, diag.Fail)
	if r.Message != "Spooler is stopped, not running and does not start by itself (disabled)" {
		t.Errorf("message %q", r.Message)
	}
}

func TestServiceWindowsOnlyHere(t *testing.T) {
	win := newFake()
	win.facts = diag.Facts{OS: "windows", Hostname: "pc"}
	r := (&Service{Name: "Spooler", Active: true}).Run(context.Background(), win)
	checkResult(t, r, diag.Skip)
}

func FuzzParseLaunchctl(f *testing.F) {
	f.Add([]byte(readTestdata(f, "launchctl/print-sshd-not-running.txt")))
	f.Add([]byte(readTestdata(f, "launchctl/print-disabled-system.txt")))
	f.Add([]byte("}\n}\n{\nstate = running\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := parseLaunchctlPrint(data)
		if st.active != (st.stateText == "running") {
			t.Fatalf("active %v with state %q", st.active, st.stateText)
		}
		parseLaunchctlDisabled(data)
	})
}
