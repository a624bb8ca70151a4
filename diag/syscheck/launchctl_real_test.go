package syscheck

import "testing"

// The files in testdata/launchctl-real were printed by launchctl on other
// people's Macs and published; testdata/launchctl-real/SOURCES.md says
// where each came from and what, if anything, was changed.

func TestParseLaunchctlPrintRealRecordings(t *testing.T) {
	// Wazuh's agent on macOS 10.14: the top line names the job without
	// its domain, the paste is indented with spaces, and it breaks off
	// inside the sockets block. The job runs as pid 1486; the blocks that
	// follow (arguments, environments, empty endpoint lists) are not the
	// job's own state.
	st := parseLaunchctlPrint([]byte(readTestdata(t, "launchctl-real/print-wazuh-agent-mojave-2206.txt")))
	if !st.exists || !st.active || st.stateText != "running" {
		t.Errorf("wazuh agent read as %+v, want running", st)
	}
}

func TestParseLaunchctlDisabledRealRecordings(t *testing.T) {
	// A user domain before macOS 13: "=> true" is disabled, "=> false"
	// enabled. The login item associations that follow map labels to
	// versions and apps, and are not enable states.
	got := parseLaunchctlDisabled([]byte(readTestdata(t, "launchctl-real/print-disabled-user-501-ninehills-85.txt")))
	if len(got) != 15 {
		t.Errorf("%d labels, want the 15 of the disabled services block: %v", len(got), got)
	}
	for label, disabled := range map[string]bool{
		"com.docker.helper":                          false,
		"com.apple.Siri.agent":                       true,
		"5A4RE8SF68.com.tencent.xinWeChat.IPCHelper": true,
		"com.apple.FolderActionsDispatcher":          false,
		"com.citrix.AuthManager_Mac":                 true,
	} {
		if d, ok := got[label]; !ok || d != disabled {
			t.Errorf("%s: disabled=%v listed=%v, want disabled=%v", label, d, ok, disabled)
		}
	}
	if _, ok := got["version.com.docker.helper"]; ok {
		t.Error("a login item association was read as a service")
	}
}
