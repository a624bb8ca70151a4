package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/triage-dev/triage/playbooks"
)

// schemaFile is the name 'playbook init' gives the schema it writes next
// to the playbook: there is no hosted copy to point editors at.
const schemaFile = "playbook.schema.json"

func newPlaybookSchemaCmd(io *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of playbooks, for editors",
		Long: `Print the JSON Schema (draft-07) of playbooks. It is generated from the check
kinds built into this triage, so it always matches what 'triage playbook
validate' accepts. Editors with yaml-language-server (VS Code's YAML
extension, Neovim, Helix...) use it for completion and checking when a
playbook starts with a modeline:

  # yaml-language-server: $schema=playbook.schema.json`,
		Example: `  triage playbook schema > playbook.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.Out.Write(playbooks.SchemaJSON())
			return err
		},
	}
}

func newPlaybookDocsCmd(io *streams) *cobra.Command {
	return &cobra.Command{
		Use:    "docs",
		Short:  "Print the reference of every check kind (docs/kinds.md)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.Out.Write(playbooks.Reference())
			return err
		},
	}
}

func newPlaybookInitCmd(io *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "init [NAME]",
		Short: "Write a starter playbook, with the schema for editors",
		Long: `Write NAME.yaml (default playbook.yaml), a starter playbook to edit, and
refuse to overwrite an existing one. Next to it goes ` + schemaFile + `, the
JSON Schema of playbooks, which the playbook's first line points editors at
(yaml-language-server reads the "# yaml-language-server: $schema=" modeline);
it is rewritten each time, so it matches this version of triage. NAME may
include a folder.`,
		Example: `  triage playbook init vpn     # writes vpn.yaml and playbook.schema.json
  triage run ./vpn.yaml`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "playbook"
			if len(args) == 1 {
				name = args[0]
			}
			return playbookInit(io, name)
		},
	}
}

func playbookInit(io *streams, name string) error {
	path := name
	if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
		path += ".yaml"
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if base == "" || base == "." {
		return usageErrorf("", "playbook init: %q is not a file name", name)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return usageErrorf("choose another name, or remove the file first", "%s already exists: not overwriting it", path)
	}
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("cannot write %s: %v", path, unwrapPathErr(err))}
	}
	_, err = f.Write(starterPlaybook(base))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(filepath.Dir(path), schemaFile), playbooks.SchemaJSON(), 0o644)
	}
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("cannot write the playbook: %v", err)}
	}
	fmt.Fprintf(io.Err, "triage: wrote %s and %s\nhint: edit it, then: triage playbook validate %s && triage run %s\n",
		path, filepath.Join(filepath.Dir(path), schemaFile), path, runArg(path))
	return nil
}

// runArg writes a file in the current folder as ./FILE in a hint, so it
// reads as a path and not as the name of a built-in playbook.
func runArg(path string) string {
	if filepath.IsAbs(path) || strings.ContainsRune(path, filepath.Separator) || strings.Contains(path, "/") {
		return path
	}
	return "./" + path
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// starterPlaybook is what init writes: valid as it is, and showing
// variables, a few kinds, when, severity, tags and hints.
func starterPlaybook(name string) []byte {
	return []byte(`# yaml-language-server: $schema=` + schemaFile + `
# A triage playbook. Each check has an id, a title and one check kind;
# docs/kinds.md (or 'triage playbook schema') lists every kind and parameter.
# Check it with 'triage playbook validate', run it with 'triage run FILE'.
name: ` + name + `
description: What this playbook checks, in one sentence.
vars:
  # Override with --var site=... or in an inventory.
  site: example.com
checks:
  - id: site-dns
    title: ${site} resolves
    dns: {name: '${site}', type: A, max_latency: 500ms}
    hint: The name does not resolve; check the DNS settings or ask the network team.
    tags: [network]

  - id: site-https
    title: ${site} answers over HTTPS
    http: {url: 'https://${site}/', status: 200-399, timeout: 10s}
    hint: A proxy or a firewall may be in the way.
    tags: [network]

  - id: disk-root
    title: The system disk has free space
    disk: {path: /, warn_used: 85%, fail_used: 95%, min_free: 1GiB}
    when: {os: [linux, macos]}
    severity: warning
`)
}
