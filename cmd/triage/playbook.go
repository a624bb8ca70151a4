package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/triage-dev/triage/playbooks"
)

func newPlaybookCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "playbook",
		Short: "List, show and validate playbooks",
	}
	cmd.AddCommand(newPlaybookSchemaCmd(io), newPlaybookInitCmd(io), newPlaybookDocsCmd(io))
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the built-in playbooks",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				tw := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
				for _, b := range playbooks.Builtins() {
					fmt.Fprintf(tw, "%s\t%s\n", b.Name, b.Description)
				}
				return tw.Flush()
			},
		},
		&cobra.Command{
			Use:   "show PLAYBOOK",
			Short: "Print a playbook's YAML (a built-in name or a file)",
			Long: `Print a playbook's YAML. Use it to read what a built-in playbook checks, or
as the start of your own: triage playbook show standard > mine.yaml`,
			Args:              exactArgs(1, "PLAYBOOK"),
			ValidArgsFunction: completePlaybooks,
			RunE: func(cmd *cobra.Command, args []string) error {
				return playbookShow(io, args[0])
			},
		},
		&cobra.Command{
			Use:   "validate FILE...",
			Short: "Check playbooks for mistakes without running them",
			Long: `Check playbooks for mistakes without running them: unknown keys and kinds,
bad values, duplicate ids, undefined variables. Every mistake is reported,
one per line, as file:line:col: message. Exit code 65 when any is found.`,
			Args:              cobra.MinimumNArgs(1),
			ValidArgsFunction: completePlaybooks,
			RunE: func(cmd *cobra.Command, args []string) error {
				return playbookValidate(io, args)
			},
		},
	)
	return cmd
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("usage: "+cmd.UseLine(), "%s takes %d %s argument, got %d", cmd.CommandPath(), n, what, len(args))
		}
		return nil
	}
}

func playbookShow(io *streams, arg string) error {
	if _, err := os.Stat(arg); err != nil {
		if data, ok := playbooks.BuiltinSource(arg); ok {
			_, err := io.Out.Write(data)
			return err
		}
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return usageErrorf("'triage playbook list' shows the built-in playbooks", "%v", &playbooks.NotFoundError{Arg: arg})
		}
		return invalidInput(fmt.Errorf("cannot read %s: %v", arg, err), "")
	}
	_, err = io.Out.Write(data)
	return err
}

func playbookValidate(io *streams, args []string) error {
	var problems []string
	for _, arg := range args {
		pb, err := playbooks.Open(arg, playbooks.Options{})
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		fmt.Fprintf(io.Out, "%s: ok, %d %s\n", arg, len(pb.Checks), pluralize(len(pb.Checks), "check"))
	}
	if len(problems) > 0 {
		return invalidInput(errors.New(strings.Join(problems, "\n")), "")
	}
	return nil
}

func pluralize(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
