package sshtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// shellWaitDelay is how long a command may outlive the signal that should
// end it before it is killed.
const shellWaitDelay = 2 * time.Second

// signalNumbers maps the RFC 4254 signal names to the signal numbers POSIX
// fixes for them (the same on Linux, macOS and the BSDs).
var signalNumbers = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "ABRT": 6, "FPE": 8,
	"KILL": 9, "SEGV": 11, "PIPE": 13, "ALRM": 14, "TERM": 15,
}

func signalName(n int) (string, bool) {
	for name, num := range signalNumbers {
		if num == n {
			return name, true
		}
	}
	return "", false
}

// requestedSignal is the signal number a cancelled exec context asks for:
// the client's "signal" request, or KILL.
func requestedSignal(ctx context.Context) int {
	var sr *SignalReceived
	if errors.As(context.Cause(ctx), &sr) {
		if n, ok := signalNumbers[sr.Name]; ok {
			return n
		}
	}
	return signalNumbers["KILL"]
}

// ShellExec is the default Options.Exec: it runs command on this machine
// with /bin/sh -c (cmd.exe /C on Windows), in a process group of its own,
// and returns the exit status, or minus the signal number if the shell died
// of a signal. When ctx is done the process group gets the signal the client
// asked for, or KILL; a command still running two seconds (shellWaitDelay)
// later is killed. ShellExec returns once the command has exited and its
// output has been copied — or, if a background process keeps the output
// open, once ctx is done.
//
// A test's own ExecFunc can call ShellExec for the commands it does not
// script itself. If stdin is an io.Closer, ShellExec closes it when the
// command has exited (the server passes one that may be closed); otherwise a
// goroutine may go on reading stdin until it returns EOF or an error.
func ShellExec(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) int {
	if ctx.Err() != nil {
		// The client hung up or signalled before the command started.
		return -requestedSignal(ctx)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "sshtest: %v\n", err)
		return 255
	}
	defer inW.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		fmt.Fprintf(stderr, "sshtest: %v\n", err)
		return 255
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		outR.Close()
		outW.Close()
		fmt.Fprintf(stderr, "sshtest: %v\n", err)
		return 255
	}

	cmd := shellCommand(ctx, command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.WaitDelay = shellWaitDelay
	err = cmd.Start()
	// The child has its own copies; the parent's must go so that EOF
	// arrives when the child's last writer exits.
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if ctx.Err() != nil {
			return -requestedSignal(ctx)
		}
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 127
	}

	stdinDone := make(chan struct{})
	go func() {
		defer close(stdinDone)
		io.Copy(inW, stdin)
		inW.Close()
	}()
	var output sync.WaitGroup
	output.Go(func() { copyAll(stdout, outR) })
	output.Go(func() { copyAll(stderr, errR) })

	waitErr := cmd.Wait()

	// Output is copied until its last writer exits. If a background process
	// holds it open, stop waiting — and stop the process group — when ctx is
	// done. The group still exists then (one of its members holds the pipe),
	// so its id cannot have been reused.
	afterDone := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(afterDone)
		killGroup(cmd, signalNumbers["KILL"])
		outR.Close()
		errR.Close()
	})
	output.Wait()
	if !stop() {
		<-afterDone
	}
	outR.Close()
	errR.Close()

	if c, ok := stdin.(io.Closer); ok {
		c.Close()
		inW.Close()
		<-stdinDone
	} else {
		inW.Close()
	}
	if waitErr != nil && cmd.ProcessState == nil {
		fmt.Fprintf(stderr, "sh: %v\n", waitErr)
	}
	return exitCode(cmd)
}

// copyAll copies src to dst and, if dst fails, goes on draining src so that
// the writer is never blocked on a full pipe.
func copyAll(dst io.Writer, src io.Reader) {
	if _, err := io.Copy(dst, src); err != nil {
		io.Copy(io.Discard, src)
	}
}

func exitCode(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return 255
	}
	if n, ok := killedBy(cmd.ProcessState); ok {
		return -n
	}
	if code := cmd.ProcessState.ExitCode(); code >= 0 {
		return code
	}
	return 255
}
