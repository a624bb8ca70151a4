//go:build !unix

package rttest

import "os/exec"

// Request Tracker runs on Unix only; elsewhere these keep the package
// compiling, and Start skips for want of rt-server.

func ownProcessGroup(*exec.Cmd) {}

func endProcessGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
