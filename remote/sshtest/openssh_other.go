//go:build !unix

package sshtest

import (
	"runtime"
	"testing"
)

// StartOpenSSH needs a unix sshd; elsewhere the test is skipped, or fails
// when TRIAGE_REQUIRE_SSHD=1.
func StartOpenSSH(t testing.TB, opts OpenSSHOptions) *OpenSSH {
	t.Helper()
	sshdUnavailable(t, "the OpenSSH launcher runs only on unix, not "+runtime.GOOS)
	return nil
}
