//go:build !unix

package sshtest

import (
	"context"
	"os"
	"os/exec"
	"runtime"
)

func shellCommand(ctx context.Context, command string) *exec.Cmd {
	if runtime.GOOS == "windows" {
		// The default shell of Windows' OpenSSH server.
		return exec.CommandContext(ctx, "cmd.exe", "/C", command)
	}
	return exec.CommandContext(ctx, "/bin/sh", "-c", command)
}

// killGroup kills the shell itself: outside unix there are no process groups
// to signal.
func killGroup(cmd *exec.Cmd, _ int) {
	cmd.Process.Kill()
}

// killedBy reports nothing: outside unix an exit status does not say
// whether a signal ended the process.
func killedBy(*os.ProcessState) (int, bool) {
	return 0, false
}
