package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/reports"
)

// Redaction and support bundles, shared by the commands that write
// reports (run, and report render/merge for saved ones).

func addRedactFlags(f *pflag.FlagSet, redact *[]string, anonymize *bool) {
	f.StringArrayVar(redact, "redact", nil, "also redact what this `REGEX` (RE2) matches, or its first group; repeatable")
	f.BoolVar(anonymize, "anonymize", false, "replace host names, IP and MAC addresses and user names with tokens (host-1, ip-1...), the same token for the same name")
}

const redactHint = "write --redact as an RE2 regular expression, such as 'ACME-[0-9a-f]{32}' or 'ticket_key=(\\S+)'"

// checkRedactFlags rejects a bad --redact before anything runs.
func checkRedactFlags(exprs []string) error {
	for _, e := range exprs {
		if _, err := reports.CustomRule(e); err != nil {
			return usageErrorf(redactHint, "--redact: %v", err)
		}
	}
	return nil
}

// newRedactor builds the redaction of a run: the built-in rules, --redact
// and the redact: lists of the playbooks.
func newRedactor(flags []string, pbs []*playbooks.Playbook, anonymize bool) (*reports.Redactor, error) {
	exprs := slices.Clone(flags)
	for _, pb := range pbs {
		for _, e := range pb.Redact {
			if !slices.Contains(exprs, e) {
				exprs = append(exprs, e)
			}
		}
	}
	rd, err := reports.NewRedactor(exprs...)
	if err != nil {
		return nil, usageErrorf(redactHint, "--redact: %v", err)
	}
	rd.Anonymize = anonymize
	return rd, nil
}

// checkBundlePath rejects a bundle name that does not say what it is.
func checkBundlePath(path string) error {
	if path == "" {
		return nil
	}
	lower := strings.ToLower(path)
	if !strings.HasSuffix(lower, ".tar.gz") && !strings.HasSuffix(lower, ".tgz") {
		return usageErrorf("name it after the ticket, such as INC-1234.tar.gz", "--bundle %s: a support bundle is a .tar.gz file", path)
	}
	return nil
}

// writeBundle writes the support bundle, if one was asked for. Without
// one, files that collect checks gathered would be lost: say so.
func writeBundle(io *streams, path string, rep *reports.Report) error {
	if path == "" {
		if n := collectedFiles(rep); n > 0 {
			verb := "are"
			if n == 1 {
				verb = "is"
			}
			io.warnf("%d %s gathered by collect checks %s kept only in a support bundle", n, pluralize(n, "file"), verb)
			fmt.Fprintf(io.Err, "hint: add --bundle FILE.tar.gz to keep them\n")
		}
		return nil
	}
	if err := reports.WriteBundle(path, rep, reports.BundleOptions{}); err != nil {
		io.warnf("cannot write the support bundle to %s: %v", path, err)
		return &exitCodeError{code: exitError, hint: "check that the folder exists and can be written to, and that the disk has room"}
	}
	if io.ErrIsTTY {
		io.warnf("support bundle written to %s", path)
	}
	return nil
}

func collectedFiles(rep *reports.Report) int {
	n := 0
	for _, h := range rep.Hosts {
		for _, res := range h.Results {
			n += len(res.Files)
		}
	}
	return n
}
