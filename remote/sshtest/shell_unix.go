//go:build unix

package sshtest

import (
	"context"
	"os"
	"os/exec"
	"syscall"
)

func shellCommand(ctx context.Context, command string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	// A process group of its own, so that a signal reaches the commands the
	// shell started too, as it does under sshd, where each session is a
	// session leader.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.Signal(requestedSignal(ctx)))
	}
	return cmd
}

func killGroup(cmd *exec.Cmd, sig int) {
	syscall.Kill(-cmd.Process.Pid, syscall.Signal(sig))
}

func killedBy(ps *os.ProcessState) (int, bool) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return int(ws.Signal()), true
}
