package syscheck

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "command",
		Summary: "Runs a program (argv, no shell) and checks its exit code and output.",
		New:     func() diag.Checker { return &Command{} },
	})
}

// Command runs a program on the target and checks what it did.
type Command struct {
	Argv           []string `yaml:"argv" required:"true" list:"strict" doc:"the program and its arguments, as a list; no shell is involved"`
	ExitCode       int      `yaml:"exit_code" doc:"the exit code that counts as a pass"`
	StdoutContains string   `yaml:"stdout_contains" doc:"text that standard output must contain"`
	StdoutMatches  string   `yaml:"stdout_matches" doc:"a regular expression (RE2) that standard output must match"`
	StderrContains string   `yaml:"stderr_contains" doc:"text that standard error must contain"`
	StderrMatches  string   `yaml:"stderr_matches" doc:"a regular expression (RE2) that standard error must match"`
}

func (c *Command) Validate() error {
	var errs []error
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		errs = append(errs, diag.FieldErrorf("argv", "needs at least the program to run, such as [uname, -a]"))
	}
	for field, re := range map[string]string{"stdout_matches": c.StdoutMatches, "stderr_matches": c.StderrMatches} {
		if _, err := regexp.Compile(re); err != nil {
			errs = append(errs, diag.FieldErrorf(field, "invalid regular expression: %v", err))
		}
	}
	return errors.Join(errs...)
}

func (c *Command) Run(ctx context.Context, t diag.Target) diag.Result {
	res, err := t.Run(ctx, diag.Command{Argv: c.Argv})
	if err != nil {
		r := diag.Resultf(diag.Error, "could not run %s: %v", c.Argv[0], err).With("argv", c.Argv)
		if errors.Is(err, diag.ErrCommandNotFound) {
			return r.WithHint("%s is not installed on %s or not on its PATH; install it or give its full path in argv", c.Argv[0], t.Name())
		}
		return r.WithHint("the program exists but could not be started; check its permissions")
	}
	r := diag.Result{Evidence: evidence(res)}.With("argv", c.Argv).With("exit_code", res.ExitCode)
	stdout, stderr := string(res.Stdout), string(res.Stderr)
	var problems []string
	if res.ExitCode != c.ExitCode {
		problems = append(problems, fmt.Sprintf("exited %d, expected %d", res.ExitCode, c.ExitCode))
	}
	problems = append(problems, outputProblems("standard output", stdout, c.StdoutContains, c.StdoutMatches)...)
	problems = append(problems, outputProblems("standard error", stderr, c.StderrContains, c.StderrMatches)...)
	if len(problems) > 0 {
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s %s", c.Argv[0], strings.Join(problems, "; "))
		r.Hint = "look at the command's output in the evidence"
		return r
	}
	r.Status = diag.Pass
	r.Message = fmt.Sprintf("%s exited %d as expected", c.Argv[0], res.ExitCode)
	return r
}

func outputProblems(stream, out, contains, matches string) []string {
	var p []string
	if contains != "" && !strings.Contains(out, contains) {
		p = append(p, fmt.Sprintf("%s does not contain %q", stream, contains))
	}
	if matches != "" {
		if re, err := regexp.Compile(matches); err == nil && !re.MatchString(out) {
			p = append(p, fmt.Sprintf("%s does not match /%s/", stream, matches))
		}
	}
	return p
}

// evidence joins a command's output for the report, saying when it was cut.
func evidence(res diag.CommandResult) string {
	var b strings.Builder
	b.Write(res.Stdout)
	if len(res.Stderr) > 0 {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		b.WriteString("[stderr]\n")
		b.Write(res.Stderr)
	}
	if res.Truncated {
		b.WriteString("\n[output truncated]")
	}
	return b.String()
}
