package sshtest

import (
	"fmt"
	"strings"
	"testing"
)

// recordingTB notes Skipf and Fatalf instead of ending the test.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recordingTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestSSHDUnavailable(t *testing.T) {
	t.Setenv(RequireSSHDEnv, "")
	r := &recordingTB{TB: t}
	sshdUnavailable(r, "/usr/sbin/sshd not found")
	if r.failed != "" || !strings.Contains(r.skipped, "/usr/sbin/sshd not found") {
		t.Errorf("without %s: skipped %q, failed %q; want a skip", RequireSSHDEnv, r.skipped, r.failed)
	}

	t.Setenv(RequireSSHDEnv, "1")
	r = &recordingTB{TB: t}
	sshdUnavailable(r, "/usr/sbin/sshd not found")
	if r.skipped != "" || !strings.Contains(r.failed, "CI requires OpenSSH: apt-get install -y openssh-server") {
		t.Errorf("with %s=1: skipped %q, failed %q; want a failure", RequireSSHDEnv, r.skipped, r.failed)
	}
}

func TestRenderSSHDConfig(t *testing.T) {
	lines := []sshdConfigLine{
		{"ListenAddress", "127.0.0.1:2222"},
		{"MaxSessions", "10"},
		{"AllowTcpForwarding", "yes"},
		{"LogLevel", "VERBOSE"},
	}
	got := renderSSHDConfig(lines, []string{
		"# a comment",
		"maxsessions 3",
		"LogLevel DEBUG3",
		"Match User nobody",
		"\tAllowTcpForwarding no",
	})
	for _, want := range []string{"ListenAddress 127.0.0.1:2222\n", "AllowTcpForwarding yes\n", "maxsessions 3\n", "LogLevel DEBUG3\n", "Match User nobody\n\tAllowTcpForwarding no\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"MaxSessions 10", "LogLevel VERBOSE"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("config keeps the overridden %q:\n%s", unwanted, got)
		}
	}
	if strings.Index(got, "AllowTcpForwarding yes") > strings.Index(got, "Match") {
		t.Errorf("generated lines must come before Match blocks:\n%s", got)
	}
}

func TestConfigWord(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/dir/key":     "/tmp/dir/key",
		"/tmp/my dir/key":  `"/tmp/my dir/key"`,
		`/tmp/a"b c/key`:   `"/tmp/a\"b c/key"`,
		"internal-sftp":    "internal-sftp",
		"/tmp/with#hash/k": `"/tmp/with#hash/k"`,
	} {
		if got := configWord(in); got != want {
			t.Errorf("configWord(%q) = %q, want %q", in, got, want)
		}
	}
}
