package main

// Output rules, for every command:
//   - data (the report) goes to stdout; progress and messages go to stderr;
//   - messages start with "triage: ", are lowercase and have no trailing period;
//   - what to do next goes on a following "hint: " line;
//   - colour only on a terminal, and never when NO_COLOR is set.
// Errors become exit codes in exactly one place: Main.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/triage-dev/triage/diag"
	_ "github.com/triage-dev/triage/diag/kinds"
)

// Exit codes, DESIGN §5. The first four follow the Nagios plugin
// convention, so monitoring and cron can read them.
const (
	exitPass    = 0
	exitWarn    = 1
	exitFail    = 2
	exitError   = 3
	exitUsage   = 64 // bad flags or arguments
	exitInvalid = 65 // invalid input: playbook, inventory, report file
)

// statusExit maps the worst status of a run to its exit code.
func statusExit(s diag.Status) int {
	switch s {
	case diag.Warn:
		return exitWarn
	case diag.Fail:
		return exitFail
	case diag.Error:
		return exitError
	}
	return exitPass
}

// exitCodeError carries an exit code out of a command. A nil err means the
// command has already said what it had to say.
type exitCodeError struct {
	code int
	err  error
	hint string
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCodeError) Unwrap() error { return e.err }

func usageErrorf(hint, format string, a ...any) error {
	return &exitCodeError{code: exitUsage, err: fmt.Errorf(format, a...), hint: hint}
}

func invalidInput(err error, hint string) error {
	return &exitCodeError{code: exitInvalid, err: err, hint: hint}
}

// streams are a command's input and outputs, and what they are connected to.
type streams struct {
	In       io.Reader
	Out      io.Writer
	Err      io.Writer
	OutIsTTY bool
	ErrIsTTY bool
	// NoColor is set from NO_COLOR (https://no-color.org).
	NoColor bool
}

func newStreams() *streams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutIsTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrIsTTY: term.IsTerminal(int(os.Stderr.Fd())),
		NoColor:  noColor,
	}
}

// color reports whether stdout may carry colour.
func (s *streams) color() bool { return s.OutIsTTY && !s.NoColor }

func (s *streams) warnf(format string, a ...any) {
	fmt.Fprintf(s.Err, "triage: "+format+"\n", a...)
}

// Main runs triage with args and returns its exit code.
func Main(args []string, io *streams) int {
	ctx, stop := interruptContext(io)
	defer stop()

	root := newRootCmd(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitPass
	}
	var ee *exitCodeError
	if !errors.As(err, &ee) {
		// Everything our commands return is typed; what is left comes from
		// cobra itself: an unknown command or flag, a wrong argument count.
		ee = &exitCodeError{code: exitUsage, err: err, hint: "run 'triage --help' for usage"}
		if strings.HasPrefix(err.Error(), "unknown command") {
			ee.hint = "run 'triage --help' to see the commands"
		}
	}
	if ee.err != nil {
		for _, line := range strings.Split(ee.err.Error(), "\n") {
			fmt.Fprintf(io.Err, "triage: %s\n", line)
		}
	}
	if ee.hint != "" {
		fmt.Fprintf(io.Err, "hint: %s\n", ee.hint)
	}
	return ee.code
}

// interruptContext is cancelled by the first SIGINT or SIGTERM, so that a
// run can mark its unfinished checks and still write its report. A second
// signal gets the default behaviour and ends the process at once.
func interruptContext(io *streams) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			signal.Stop(sigs)
			fmt.Fprintf(io.Err, "triage: %s: stopping the checks and writing what was found (again to quit at once)\n", sig)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		signal.Stop(sigs)
		cancel()
	}
}

func newRootCmd(io *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "triage",
		Short: "Run diagnostic playbooks here or over SSH and write reports for a support ticket",
		Long: `triage runs diagnostic playbooks — YAML files of checks for connectivity, DNS,
disks, installed software and system state — on this machine, and writes
a report that can be attached to a support ticket.

Exit codes: 0 all passed, 1 worst was a warning, 2 a check failed,
3 something could not be checked, 64 bad usage, 65 invalid input.`,
		Example: `  triage run                      # the built-in "standard" playbook, here
  triage run disk -o json         # another built-in, as JSON
  triage run ./vpn.yaml --report ticket-1234.json
  triage playbook list            # the built-in playbooks`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Defaults from the config file and TRIAGE_* variables (config.go).
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyDefaults(cmd)
		},
	}
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetIn(io.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("run '"+c.CommandPath()+" --help' for its flags", "%v", err)
	})
	root.AddCommand(newRunCmd(io, nil), newPlaybookCmd(io), newVersionCmd(io))
	root.AddCommand(newDoctorCmd(io))
	root.AddCommand(newReportCmd(io))
	root.AddCommand(newSweepCmd(io, nil))
	root.AddCommand(newWatchCmd(io))
	root.AddCommand(newSendCmd(io))
	root.AddCommand(newManCmd(root))
	addCompletions(root)
	return root
}
