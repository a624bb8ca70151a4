package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes man pages for every command, generated from the command
// tree, for the release packages. Hidden: users read them, not make them.
func newManCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write man pages for every command into DIR",
		Hidden: true,
		Args:   exactArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &exitCodeError{code: exitError, err: fmt.Errorf("cannot create %s: %v", dir, unwrapPathErr(err))}
			}
			// The generated pages need the completion command, which cobra
			// otherwise adds only when it executes.
			root.InitDefaultCompletionCmd()
			header := &doc.GenManHeader{Title: "TRIAGE", Section: "1", Source: "triage " + versionString(), Manual: "triage manual"}
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, header, dir); err != nil {
				return &exitCodeError{code: exitError, err: fmt.Errorf("writing man pages: %v", err)}
			}
			return nil
		},
	}
}
