package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The man pages are written here rather than with cobra/doc: that package
// pulls in go-md2man and blackfriday, whose package init alone costs every
// start of triage a few milliseconds. The pages are laid out as cobra/doc
// and go-md2man laid them out, so they read the same as before.

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
			root.DisableAutoGenTag = true
			date, err := manDate()
			if err != nil {
				return &exitCodeError{code: exitError, err: fmt.Errorf("writing man pages: %v", err)}
			}
			h := manHeader{Title: "TRIAGE", Section: "1", Date: date, Source: "triage " + versionString(), Manual: "triage manual"}
			if err := writeManTree(root, h, dir); err != nil {
				return &exitCodeError{code: exitError, err: fmt.Errorf("writing man pages: %v", err)}
			}
			return nil
		},
	}
}

// manHeader holds the fields of a page's .TH line.
type manHeader struct {
	Title, Section, Date, Source, Manual string
}

// manDate is the month the pages are dated with: now, or the time in
// SOURCE_DATE_EPOCH so that release builds are reproducible.
func manDate() (string, error) {
	now := time.Now()
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		sec, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return "", fmt.Errorf("invalid SOURCE_DATE_EPOCH: %v", err)
		}
		now = time.Unix(sec, 0).UTC()
	}
	return now.Format("Jan 2006"), nil
}

// writeManTree writes the page of cmd and of every command below it that
// help lists, into dir, named like cobra/doc named them: triage-run.1.
func writeManTree(cmd *cobra.Command, h manHeader, dir string) error {
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-") + "." + h.Section
	if err := os.WriteFile(filepath.Join(dir, name), []byte(manPage(cmd, h)), 0o644); err != nil {
		return err
	}
	for _, c := range manChildren(cmd) {
		if err := writeManTree(c, h, dir); err != nil {
			return err
		}
	}
	return nil
}

// manChildren are the subcommands that get pages, by name: not hidden, not
// deprecated, not help, and not mere help topics (what cobra/doc skips).
func manChildren(cmd *cobra.Command) []*cobra.Command {
	var children []*cobra.Command
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand() {
			children = append(children, c)
		}
	}
	slices.SortFunc(children, func(a, b *cobra.Command) int { return strings.Compare(a.Name(), b.Name()) })
	return children
}

// manPage is the roff source of cmd's page.
func manPage(cmd *cobra.Command, h manHeader) string {
	// Every page lists -h, --help, which cobra adds only when a command runs.
	cmd.InitDefaultHelpFlag()
	dashed := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	p := &roffPage{}
	p.b.WriteString(".nh\n.TH " + strings.Join([]string{roffArg(h.Title), roffArg(h.Section), roffArg(h.Date), roffArg(h.Source), roffArg(h.Manual)}, " ") + "\n")

	p.section("NAME")
	p.para(roffEscape(dashed + " - " + cmd.Short))
	p.section("SYNOPSIS")
	p.para(`\fB` + roffEscape(cmd.UseLine()) + `\fP`)
	p.section("DESCRIPTION")
	description := cmd.Long
	if description == "" {
		description = cmd.Short
	}
	p.text(description)
	p.flags("OPTIONS", cmd.NonInheritedFlags())
	p.flags("OPTIONS INHERITED FROM PARENT COMMANDS", cmd.InheritedFlags())
	if cmd.Example != "" {
		p.section("EXAMPLE")
		p.code(strings.Split(strings.TrimRight(cmd.Example, "\n"), "\n"))
	}

	var seeAlso []string
	if cmd.HasParent() {
		seeAlso = append(seeAlso, manRef(cmd.Parent(), h.Section))
	}
	for _, c := range manChildren(cmd) {
		seeAlso = append(seeAlso, manRef(c, h.Section))
	}
	if len(seeAlso) > 0 {
		p.section("SEE ALSO")
		p.para(strings.Join(seeAlso, ", "))
	}
	return p.b.String()
}

// manRef is a reference to cmd's page, as in \fBtriage-run(1)\fP.
func manRef(cmd *cobra.Command, section string) string {
	return `\fB` + roffEscape(strings.ReplaceAll(cmd.CommandPath(), " ", "-")) + "(" + section + `)\fP`
}

// roffPage lays a page out as go-md2man did, so the pages stay as they
// were: sections after two blank lines, the blocks of a section separated
// by one, and every paragraph but a section's first opened with .PP.
type roffPage struct {
	b        strings.Builder
	sections int
	fresh    bool // just after a heading: the next block follows it directly
}

func (p *roffPage) section(title string) {
	if p.sections > 0 {
		p.b.WriteString("\n")
	}
	p.sections++
	p.heading(".SH " + title)
}

func (p *roffPage) heading(line string) {
	p.b.WriteString("\n" + line + "\n")
	p.fresh = true
}

// block starts a block: after a blank line unless it opens its section.
func (p *roffPage) block(request string) {
	if !p.fresh {
		p.b.WriteString("\n" + request)
	}
	p.fresh = false
}

// para writes a paragraph of filled text, already escaped.
func (p *roffPage) para(text string) {
	p.block(".PP\n")
	p.b.WriteString(text + "\n")
}

// code writes lines as they are, unfilled, in a fixed-width font.
func (p *roffPage) code(lines []string) {
	p.block("")
	p.b.WriteString(".EX\n" + roffEscape(strings.Join(lines, "\n")) + "\n.EE\n")
}

// text writes a command's long description. Paragraphs are separated by
// blank lines and keep their line breaks. The little markdown that cobra's
// own completion commands use in theirs is honoured, as go-md2man did: a
// paragraph indented by a tab or four spaces is a code block, and a
// "#### Title" line a subheading.
func (p *roffPage) text(s string) {
	var paras [][]string
	var cur []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			if cur != nil {
				paras = append(paras, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	if cur != nil {
		paras = append(paras, cur)
	}

	for _, para := range paras {
		switch {
		case len(para) == 1 && strings.HasPrefix(para[0], "#"):
			p.heading(".SS " + roffEscape(strings.TrimSpace(strings.TrimLeft(para[0], "#"))))
		case !slices.ContainsFunc(para, func(l string) bool { return unindent(l) == l }):
			lines := make([]string, len(para))
			for i, l := range para {
				lines[i] = unindent(l)
			}
			p.code(lines)
		default:
			p.para(roffEscape(strings.Join(para, "\n")))
		}
	}
}

// unindent strips the tab or four spaces that mark a line of a code block.
func unindent(line string) string {
	if s, ok := strings.CutPrefix(line, "\t"); ok {
		return s
	}
	if s, ok := strings.CutPrefix(line, "    "); ok {
		return s
	}
	return line
}

// flags writes a section listing the visible flags of fs, if there are any.
func (p *roffPage) flags(title string, fs *pflag.FlagSet) {
	var entries []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" {
			return
		}
		entries = append(entries, manFlag(f))
	})
	if len(entries) == 0 {
		return
	}
	p.section(title)
	for _, e := range entries {
		p.para(e)
	}
}

// manFlag describes a flag as cobra/doc did: its names, its default (in
// brackets when the flag takes no value), and its usage on the next line.
func manFlag(f *pflag.Flag) string {
	names := `\fB--` + roffEscape(f.Name) + `\fP`
	if f.Shorthand != "" && f.ShorthandDeprecated == "" {
		names = `\fB-` + roffEscape(f.Shorthand) + `\fP, ` + names
	}
	def := f.DefValue
	if f.Value.Type() == "string" {
		def = strconv.Quote(def)
	}
	def = "=" + def
	if f.NoOptDefVal != "" {
		def = "[" + def + "]"
	}
	return names + roffEscape(def) + "\n" + boldQuoted(roffEscape("\t"+f.Usage))
}

// boldQuoted sets the `NAME`s of a flag's usage in bold; pflag strips the
// backquotes for --help, and a page has bold instead.
func boldQuoted(s string) string {
	var b strings.Builder
	for {
		before, rest, ok := strings.Cut(s, "`")
		if !ok {
			break
		}
		word, after, ok := strings.Cut(rest, "`")
		if !ok {
			break
		}
		b.WriteString(before + `\fB` + word + `\fR`)
		s = after
	}
	b.WriteString(s)
	return b.String()
}

// roffEscape makes text print as it is: a backslash is roff's escape
// character, and a line starting with a period or an apostrophe would be
// taken for a request.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// roffArg quotes an argument of a request such as .TH.
func roffArg(s string) string {
	return `"` + strings.ReplaceAll(roffEscape(s), `"`, `\(dq`) + `"`
}
