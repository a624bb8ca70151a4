//go:build unix

package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

const (
	sigHangup = syscall.SIGHUP
	sigKill   = syscall.SIGKILL
)

// startProxyCommand runs an expanded ProxyCommand as OpenSSH does
// ($SHELL -c "exec COMMAND", /bin/sh without $SHELL) and returns its
// stdin and stdout as a connection. The command gets its own session and
// so its own process group, killed when the connection is closed or ctx
// ends; having no terminal, it cannot stop the run with a prompt (it
// fails instead, and says so on stderr).
func startProxyCommand(ctx context.Context, command string) (*proxyConn, error) {
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	var files []*os.File // all pipe ends, closed on failure
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	inR, inW, err := pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	errR, errW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	// Files only: exec starts no copying goroutines, and the process is
	// waited for directly, so its exit is seen the moment it happens.
	cmd := exec.Command(shell, "-c", "exec "+command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, fmt.Errorf("cannot start ProxyCommand %q with %s: %w", command, shell, err)
	}
	inR.Close()
	outW.Close()
	errW.Close()
	pc := &proxyConn{command: command, proc: cmd.Process, r: outR, w: inW, errR: errR,
		stderr: newTailBuffer(proxyStderrMax), done: make(chan struct{}), stderrDone: make(chan struct{})}
	go func() {
		pc.state, _ = pc.proc.Wait()
		close(pc.done)
	}()
	go func() {
		io.Copy(pc.stderr, errR)
		close(pc.stderrDone)
	}()
	pc.stopCtx = context.AfterFunc(ctx, func() { pc.Close() })
	return pc, nil
}

// signalGroup signals the command's process group (its session: the
// command and whatever it started).
func (pc *proxyConn) signalGroup(sig syscall.Signal) {
	syscall.Kill(-pc.proc.Pid, sig)
}
