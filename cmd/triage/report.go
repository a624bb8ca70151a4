package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/triage-dev/triage/reports"
)

// maxReportFile caps what report commands read, so a wrong file (a disk
// image, /dev/zero) ends in an error rather than in exhausted memory.
const maxReportFile = 512 << 20

type reportOptions struct {
	io *streams

	Files     []string
	Format    string
	FormatSet bool // -o given: with --report only, render prints nothing
	Reports   []string
	Redact    []string
	Anonymize bool
	Verbose   bool
}

func newReportCmd(io *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render, compare and merge saved JSON reports",
		Long: `Work with reports saved as JSON (-o json or --report FILE.json):
render one in another format, compare two runs, or merge the reports of
a sweep's shards into one. FILE may be - for standard input.

A file that is not a triage report (cut short, not JSON, another
schema) is invalid input: exit 65.`,
	}
	cmd.AddCommand(newReportRenderCmd(io), newReportDiffCmd(io), newReportMergeCmd(io))
	return cmd
}

func formatHelp() string {
	return "report format: " + strings.Join(reports.Formats(), ", ")
}

func completeFormats(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return reports.Formats(), cobra.ShellCompDirectiveNoFileComp
}

func newReportRenderCmd(io *streams) *cobra.Command {
	opts := &reportOptions{io: io}
	cmd := &cobra.Command{
		Use:   "render FILE",
		Short: "Render a saved JSON report, or a watch's journal, in another format",
		Long: `Render a saved JSON report in another format: to stdout with -o, to
files with --report (format from the extension). With only --report,
nothing is printed. Exit code 0 once written, whatever the report says.

FILE may also be the journal of 'triage watch': it renders as the watch's
report, with its episodes (and a timeline per check in HTML), even when
the watch was killed; a last line cut short is skipped with a note.`,
		Example: `  triage report render INC-1234.json -o html > INC-1234.html
  triage report render INC-1234.json --report INC-1234.md --report INC-1234.xml
  triage report render INC-1234.json --anonymize -o markdown
  triage report render triage-watch-laptop-20250304-1400.jsonl -o html > watch.html`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			opts.FormatSet = cmd.Flags().Changed("format")
			return reportRender(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "o", "text", formatHelp())
	f.StringArrayVar(&opts.Reports, "report", nil, "write the report to `FILE`, format from its extension; repeatable")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "also show the checks skipped because they are for another platform")
	addRedactFlags(f, &opts.Redact, &opts.Anonymize)
	_ = cmd.RegisterFlagCompletionFunc("format", completeFormats)
	return cmd
}

func newReportDiffCmd(io *streams) *cobra.Command {
	opts := &reportOptions{io: io}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what changed between two runs",
		Long: `Compare two saved JSON reports: new problems (a check that got worse, or a
new check or host that is not passing), resolved ones, and observed values
that changed with the verdict unchanged, such as a package version.
Measurements that differ on every run (latencies, sizes, percentages) are
left out.

Exit code 0 when nothing got worse, 1 when something did, 65 when a file
is not a triage report.`,
		Example: `  triage report diff yesterday.json today.json
  triage report diff before.json after.json -o json | jq '.worse'`,
		Args: exactArgs(2, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			return reportDiff(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Format, "format", "o", "text", "text or json")
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func newReportMergeCmd(io *streams) *cobra.Command {
	opts := &reportOptions{io: io}
	cmd := &cobra.Command{
		Use:   "merge FILE...",
		Short: "Merge the reports of a sweep's shards into one",
		Long: `Merge saved JSON reports of the same playbooks run on different hosts (the
shards of a sweep run as several jobs) into one report, on stdout (JSON by
default) or in --report files. Reports of other playbooks or with a host
in common are refused (exit 65). Anonymize after merging, not before:
--anonymize here numbers the tokens across every shard.`,
		Example: `  triage report merge shard-*.json > sweep.json
  triage report merge a.json b.json --report sweep.html --report sweep.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			opts.FormatSet = cmd.Flags().Changed("format")
			return reportMerge(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "o", "json", formatHelp())
	f.StringArrayVar(&opts.Reports, "report", nil, "write the merged report to `FILE`, format from its extension; repeatable")
	addRedactFlags(f, &opts.Redact, &opts.Anonymize)
	_ = cmd.RegisterFlagCompletionFunc("format", completeFormats)
	return cmd
}

// checkOutputs validates -o and --report before any file is read.
func (opts *reportOptions) checkOutputs() (reports.Renderer, error) {
	renderer, ok := reports.Lookup(opts.Format)
	if !ok {
		return reports.Renderer{}, usageErrorf("formats: "+strings.Join(reports.Formats(), ", "), "unknown format %q", opts.Format)
	}
	for _, path := range opts.Reports {
		if _, err := reports.ForFile(path); err != nil {
			return reports.Renderer{}, usageErrorf("", "--report %v", err)
		}
	}
	return renderer, checkRedactFlags(opts.Redact)
}

// output redacts (when asked) and writes a report to stdout and --report.
func (opts *reportOptions) output(renderer reports.Renderer, rep *reports.Report) error {
	if len(opts.Redact) > 0 || opts.Anonymize {
		rd, err := newRedactor(opts.Redact, nil, opts.Anonymize)
		if err != nil {
			return err
		}
		rd.Redact(rep)
	}
	if opts.FormatSet || len(opts.Reports) == 0 {
		if err := renderer.Render(opts.io.Out, rep, reports.Options{Color: opts.io.color(), Verbose: opts.Verbose}); err != nil {
			return &exitCodeError{code: exitError, err: fmt.Errorf("writing the report: %w", err)}
		}
	}
	return writeReports(opts.io, opts.Reports, rep)
}

func reportRender(opts *reportOptions) error {
	renderer, err := opts.checkOutputs()
	if err != nil {
		return err
	}
	// A watch's journal renders as the watch's report (watch.go).
	rep, err := readReportOrJournal(opts.io, opts.Files[0])
	if err != nil {
		return err
	}
	return opts.output(renderer, rep)
}

func reportMerge(opts *reportOptions) error {
	renderer, err := opts.checkOutputs()
	if err != nil {
		return err
	}
	var list []*reports.Report
	for _, path := range opts.Files {
		rep, err := readReportFile(opts.io.In, path)
		if err != nil {
			return err
		}
		list = append(list, rep)
	}
	merged, err := reports.Merge(list)
	if err != nil {
		return invalidInput(err, "merge the reports of one sweep: the same playbooks, each host in one shard")
	}
	return opts.output(renderer, merged)
}

func reportDiff(opts *reportOptions) error {
	if opts.Format != "text" && opts.Format != "json" {
		return usageErrorf("use -o text or -o json", "unknown format %q for a diff", opts.Format)
	}
	old, err := readReportFile(opts.io.In, opts.Files[0])
	if err != nil {
		return err
	}
	cur, err := readReportFile(opts.io.In, opts.Files[1])
	if err != nil {
		return err
	}
	d := reports.Diff(old, cur)
	if opts.Format == "json" {
		err = d.WriteJSON(opts.io.Out)
	} else {
		err = d.WriteText(opts.io.Out)
	}
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing the diff: %w", err)}
	}
	if d.GotWorse {
		return &exitCodeError{code: exitWarn}
	}
	return nil
}

const reportFileHint = "give a JSON report written by triage: -o json, or --report FILE.json"

// readReportFile reads a saved report, or stdin for "-". Whatever is wrong
// with it is one line of invalid input, never a panic.
func readReportFile(stdin io.Reader, path string) (*reports.Report, error) {
	rd := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, invalidInput(fmt.Errorf("cannot read %s: %v", path, err), reportFileHint)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return nil, invalidInput(fmt.Errorf("%s is a folder, not a report", path), reportFileHint)
		}
		rd = f
	}
	return decodeReport(rd, path)
}

// decodeReport reads a report from rd; name says where it came from.
func decodeReport(rd io.Reader, name string) (*reports.Report, error) {
	path := name
	lr := &limitedReader{r: rd, left: maxReportFile}
	rep, err := reports.Read(lr)
	if lr.over {
		return nil, invalidInput(fmt.Errorf("%s is larger than %d MiB: not a report", path, maxReportFile>>20), reportFileHint)
	}
	if err != nil {
		return nil, invalidInput(fmt.Errorf("%s: %v", path, err), reportFileHint)
	}
	return rep, nil
}

// limitedReader reads at most left bytes and remembers that there was more.
type limitedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.over = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
