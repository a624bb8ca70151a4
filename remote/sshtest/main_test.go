package sshtest

import (
	"testing"

	"go.uber.org/goleak"
)

// Every server, agent and sshd must be gone, with all its goroutines, when
// the tests end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
