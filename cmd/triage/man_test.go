package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestRoffEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain text, with a . and a ' inside", "plain text, with a . and a ' inside"},
		{`C:\Tickets`, `C:\eTickets`},
		{`\fB not a font`, `\efB not a font`},
		{".TH looks like a request", `\&.TH looks like a request`},
		{"'br too", `\&'br too`},
		{"first line\n.second\n'third\n fourth", "first line\n\\&.second\n\\&'third\n fourth"},
		{"-h, --help", "-h, --help"},
	} {
		if got := roffEscape(tc.in); got != tc.want {
			t.Errorf("roffEscape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBoldQuoted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"no names", "no names"},
		{"read `FILE` first", `read \fBFILE\fR first`},
		{"`A` and `B`", `\fBA\fR and \fBB\fR`},
		{"a lone ` stays", "a lone ` stays"},
	} {
		if got := boldQuoted(tc.in); got != tc.want {
			t.Errorf("boldQuoted(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestManText covers the descriptions: paragraphs, and the bits of
// markdown in cobra's completion commands.
func TestManText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"one paragraph", "Line one\nline two", "Line one\nline two\n"},
		{"paragraphs", "One.\n\n\nTwo.\n", "One.\n\n.PP\nTwo.\n"},
		{"escaped", ".start\n\\ back", "\\&.start\n\\e back\n"},
		{"indented lines stay in the paragraph", "Run:\n  triage run", "Run:\n  triage run\n"},
		{"code block", "Run:\n\n\ttriage run\n    triage sweep\n\nDone.",
			"Run:\n\n.EX\ntriage run\ntriage sweep\n.EE\n\n.PP\nDone.\n"},
		{"subheading", "Load:\n\n#### Linux:\n\n\tsource x\n\nEnd.",
			"Load:\n\n.SS Linux:\n.EX\nsource x\n.EE\n\n.PP\nEnd.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &roffPage{fresh: true}
			p.text(tc.in)
			if got := p.b.String(); got != tc.want {
				t.Errorf("text(%q) =\n%s\nwant\n%s", tc.in, got, tc.want)
			}
		})
	}
}

func TestManDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if got, err := manDate(); err != nil || got != "Nov 2023" {
		t.Errorf("manDate() = %q, %v; want Nov 2023", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := manDate(); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("manDate() with a bad SOURCE_DATE_EPOCH: err = %v", err)
	}
}

// TestManTree writes the pages of a small tree and compares them whole.
func TestManTree(t *testing.T) {
	root := &cobra.Command{Use: "demo", Short: "Demonstrate pages"}
	root.PersistentFlags().BoolP("verbose", "v", false, "say more")
	greet := &cobra.Command{
		Use:     "greet NAME",
		Short:   "Greet NAME",
		Long:    "Print a greeting to NAME,\non one line.\n\n.period first, and a \\ backslash.",
		Example: "  demo greet world\n  demo greet -g hi world",
		Run:     func(*cobra.Command, []string) {},
	}
	greet.Flags().StringP("greeting", "g", "hello", "say `WORDS` first")
	greet.Flags().Int("times", 1, "how often")
	root.AddCommand(greet, &cobra.Command{Use: "secret", Hidden: true, Run: func(*cobra.Command, []string) {}})

	dir := t.TempDir()
	h := manHeader{Title: "DEMO", Section: "1", Date: "Jan 1970", Source: "demo 1.0", Manual: "demo manual"}
	if err := writeManTree(root, h, dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"demo.1": `.nh
.TH "DEMO" "1" "Jan 1970" "demo 1.0" "demo manual"

.SH NAME
demo - Demonstrate pages


.SH SYNOPSIS
\fBdemo [flags]\fP


.SH DESCRIPTION
Demonstrate pages


.SH OPTIONS
\fB-h\fP, \fB--help\fP[=false]
	help for demo

.PP
\fB-v\fP, \fB--verbose\fP[=false]
	say more


.SH SEE ALSO
\fBdemo-greet(1)\fP
`,
		"demo-greet.1": `.nh
.TH "DEMO" "1" "Jan 1970" "demo 1.0" "demo manual"

.SH NAME
demo-greet - Greet NAME


.SH SYNOPSIS
\fBdemo greet NAME [flags]\fP


.SH DESCRIPTION
Print a greeting to NAME,
on one line.

.PP
\&.period first, and a \e backslash.


.SH OPTIONS
\fB-g\fP, \fB--greeting\fP="hello"
	say \fBWORDS\fR first

.PP
\fB-h\fP, \fB--help\fP[=false]
	help for greet

.PP
\fB--times\fP=1
	how often


.SH OPTIONS INHERITED FROM PARENT COMMANDS
\fB-v\fP, \fB--verbose\fP[=false]
	say more


.SH EXAMPLE
.EX
  demo greet world
  demo greet -g hi world
.EE


.SH SEE ALSO
\fBdemo(1)\fP
`,
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"demo-greet.1", "demo.1"}) {
		t.Errorf("pages = %v, want demo-greet.1 and demo.1 (none for the hidden command)", names)
	}
	for name, page := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if string(got) != page {
			t.Errorf("%s =\n%s\nwant\n%s", name, got, page)
		}
	}
}

// TestManPagesOfTriage runs 'triage man' and checks its pages: one for
// every command help lists, and no line that roff would take for a request
// we did not mean.
func TestManPagesOfTriage(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "0")
	dir := t.TempDir()
	var stderr bytes.Buffer
	if code := Main([]string{"man", dir}, &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &stderr}); code != exitPass {
		t.Fatalf("triage man: exit %d: %s", code, stderr.String())
	}

	root := newRootCmd(&streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	root.InitDefaultCompletionCmd()
	want := []string{"triage.1"}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, c := range cmd.Commands() {
			if c.Hidden || c.Name() == "help" {
				continue
			}
			want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
			walk(c)
		}
	}
	walk(root)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("pages:\n%v\nwant one per visible command:\n%v", got, want)
	}

	requests := []string{".nh", ".TH", ".SH", ".SS", ".PP", ".EX", ".EE", ".nf", ".fi", ".TP", ".RS", ".RE"}
	for _, name := range got {
		page, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(page, []byte(".nh\n.TH \"TRIAGE\" \"1\" \"Jan 1970\" \"triage ")) {
			t.Errorf("%s does not start with the .TH header:\n%.80s", name, page)
		}
		for i, line := range strings.Split(string(page), "\n") {
			if strings.HasPrefix(line, "'") {
				t.Errorf("%s:%d: unescaped apostrophe starts the line: %s", name, i+1, line)
			}
			if !strings.HasPrefix(line, ".") {
				continue
			}
			request, _, _ := strings.Cut(line, " ")
			if !slices.Contains(requests, request) {
				t.Errorf("%s:%d: unescaped period starts the line: %s", name, i+1, line)
			}
		}
	}
}
