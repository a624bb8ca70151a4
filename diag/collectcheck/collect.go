package collectcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "collect",
		Summary: "Collects a file, the tail of a log or a command's output into the support bundle.",
		New:     func() diag.Checker { return &Collect{} },
	})
}

// Size caps of what one collect check keeps.
const (
	DefaultMaxBytes = 1 << 20
	MaxMaxBytes     = 16 << 20
)

// Collect gathers one file or one command's output for the bundle.
type Collect struct {
	Path      string    `yaml:"path" doc:"a file to collect (read over SFTP on a remote host); give path or argv"`
	Argv      []string  `yaml:"argv" list:"strict" doc:"a program whose output to collect, as a list; no shell is involved; give path or argv"`
	TailLines int       `yaml:"tail_lines" doc:"keep only the last N lines, for logs; the end of a large file is read without reading all of it"`
	MaxBytes  diag.Size `yaml:"max_bytes" doc:"the most to keep, such as 256KiB (default 1MiB, at most 16MiB); what is cut is noted in the bundle's manifest"`
	Name      string    `yaml:"name" doc:"the file's name in the bundle (default: the file's own name, or the program's name with .txt)"`
}

func (c *Collect) Validate() error {
	var errs []error
	switch {
	case c.Path == "" && len(c.Argv) == 0:
		errs = append(errs, diag.FieldErrorf("", "needs path (a file) or argv (a program whose output to collect)"))
	case c.Path != "" && len(c.Argv) > 0:
		errs = append(errs, diag.FieldErrorf("argv", "give path or argv, not both: use two collect checks"))
	case len(c.Argv) > 0 && c.Argv[0] == "":
		errs = append(errs, diag.FieldErrorf("argv", "needs at least the program to run, such as [journalctl, -b]"))
	}
	if c.TailLines < 0 {
		errs = append(errs, diag.FieldErrorf("tail_lines", "must not be negative, got %d", c.TailLines))
	}
	if c.MaxBytes > MaxMaxBytes {
		errs = append(errs, diag.FieldErrorf("max_bytes", "%s is above the %s limit", diag.FormatBytes(uint64(c.MaxBytes)), diag.FormatBytes(MaxMaxBytes)))
	}
	if c.Name != "" && (strings.ContainsAny(c.Name, `/\`) || c.Name == "." || c.Name == "..") {
		errs = append(errs, diag.FieldErrorf("name", "%q must be a plain file name, without folders", c.Name))
	}
	return errors.Join(errs...)
}

func (c *Collect) maxBytes() int64 {
	if c.MaxBytes == 0 {
		return DefaultMaxBytes
	}
	return int64(c.MaxBytes)
}

func (c *Collect) Run(ctx context.Context, t diag.Target) diag.Result {
	if c.Path != "" {
		return c.collectFile(ctx, t)
	}
	return c.collectOutput(ctx, t)
}

func (c *Collect) collectFile(ctx context.Context, t diag.Target) diag.Result {
	max := c.maxBytes()
	info, err := t.Stat(ctx, c.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return diag.Resultf(diag.Error, "cannot collect %s: it does not exist", c.Path).With("path", c.Path).
			WithHint("check the path; a log may be elsewhere on this system (journalctl instead of /var/log)")
	case err != nil:
		return readError(c.Path, err)
	case info.Mode.IsDir():
		return diag.Resultf(diag.Error, "cannot collect %s: it is a directory", c.Path).With("path", c.Path).
			WithHint("collect its files one by one, or its listing with argv: [ls, -la, %s]", c.Path)
	}
	var data []byte
	var cut bool
	if c.TailLines > 0 {
		data, cut, err = readTail(ctx, t, c.Path, max, info.Size)
	} else {
		data, cut, err = t.ReadFile(ctx, c.Path, max)
	}
	if err != nil {
		return readError(c.Path, err)
	}
	what := c.Path
	if c.TailLines > 0 {
		data, cut = lastLines(data, c.TailLines, cut)
		what = fmt.Sprintf("the last %d %s of %s", c.TailLines, plural(c.TailLines, "line"), c.Path)
	}
	r := c.result(data, cut, baseName(c.Path), what, info.Size)
	return r.With("path", c.Path)
}

func (c *Collect) collectOutput(ctx context.Context, t diag.Target) diag.Result {
	max := c.maxBytes()
	res, err := t.Run(ctx, diag.Command{Argv: c.Argv, MaxOutput: max})
	if err != nil {
		r := diag.Resultf(diag.Error, "cannot collect the output of %s: %v", c.Argv[0], err).With("argv", c.Argv)
		if errors.Is(err, diag.ErrCommandNotFound) {
			return r.WithHint("%s is not installed on %s or not on its PATH", c.Argv[0], t.Name())
		}
		return r.WithHint("the program exists but could not be started; check its permissions")
	}
	data := res.Stdout
	if len(res.Stderr) > 0 {
		var b bytes.Buffer
		b.Write(res.Stdout)
		if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
			b.WriteByte('\n')
		}
		b.WriteString("[stderr]\n")
		b.Write(res.Stderr)
		data = b.Bytes()
	}
	cut := res.Truncated
	if int64(len(data)) > max {
		data, cut = data[:max], true
	}
	what := "the output of " + c.Argv[0]
	if c.TailLines > 0 {
		data, cut = lastLines(data, c.TailLines, cut)
		what = fmt.Sprintf("the last %d %s of the output of %s", c.TailLines, plural(c.TailLines, "line"), c.Argv[0])
	}
	r := c.result(data, cut, baseName(c.Argv[0])+".txt", what, -1)
	if res.ExitCode != 0 {
		r.Message += fmt.Sprintf("; it exited %d", res.ExitCode)
	}
	return r.With("argv", c.Argv).With("exit_code", res.ExitCode)
}

// result reports what was collected. whole is the size of the source when
// known, -1 otherwise.
func (c *Collect) result(data []byte, cut bool, defName, what string, whole int64) diag.Result {
	name := c.Name
	if name == "" {
		name = defName
	}
	size := diag.FormatBytes(uint64(len(data)))
	detail := size
	if cut {
		detail = size + ", cut at the " + diag.FormatBytes(uint64(c.maxBytes())) + " cap"
		if whole > int64(len(data)) {
			detail += " of " + diag.FormatBytes(uint64(whole))
		}
	}
	as := ""
	if c.Name != "" {
		as = " as " + c.Name
	}
	r := diag.Resultf(diag.Pass, "collected %s%s (%s)", what, as, detail)
	r.Files = []diag.Attachment{{Name: name, Data: data, Truncated: cut}}
	return r.With("name", name).With("size_bytes", len(data)).With("lines", countLines(data)).With("truncated", cut)
}

// readTail reads the end of a file: with the target's own capability when
// it has one, whole when it is small, and with tail -c otherwise.
func readTail(ctx context.Context, t diag.Target, path string, max, size int64) ([]byte, bool, error) {
	if ft, ok := t.(diag.FileTailer); ok {
		data, truncated, err := ft.ReadFileTail(ctx, path, max)
		if !errors.Is(err, diag.ErrUnsupported) {
			return data, truncated, err
		}
		// The target can seek in some places only (a server without
		// SFTP): read the end another way.
	}
	if size <= max {
		return t.ReadFile(ctx, path, max)
	}
	res, err := t.Run(ctx, diag.Command{Argv: []string{"tail", "-c", strconv.FormatInt(max, 10), "--", path}, MaxOutput: max})
	if errors.Is(err, diag.ErrCommandNotFound) {
		return nil, false, fmt.Errorf("the file is larger than max_bytes and the target has no tail command to read its end")
	}
	if err != nil {
		return nil, false, err
	}
	if res.ExitCode != 0 {
		return nil, false, fmt.Errorf("tail exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	diag.Note(ctx, "the end of "+path+" was read with tail: the target cannot seek in files")
	return res.Stdout, true, nil
}

// lastLines keeps the last n lines of data. windowCut says data starts
// somewhere inside the source, so its first line may be partial: it is
// dropped, and the result is cut only when fewer than n lines remain.
func lastLines(data []byte, n int, windowCut bool) ([]byte, bool) {
	body := bytes.TrimSuffix(data, []byte("\n"))
	start := len(body)
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(body[:start], '\n')
		if j < 0 {
			if windowCut {
				// The first line in the window is only the end of a line.
				if nl := bytes.IndexByte(data, '\n'); nl >= 0 && nl+1 <= len(data) {
					return data[nl+1:], true
				}
				return data, true
			}
			return data, false
		}
		start = j
	}
	return data[start+1:], false
}

func countLines(data []byte) int {
	if len(data) == 0 {
		return 0
	}
	n := bytes.Count(data, []byte("\n"))
	if data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// baseName is the last element of a path in either separator, since a
// Windows target's paths reach here too.
func baseName(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	if p == "" || p == "." || p == ".." {
		return "collected"
	}
	return p
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func readError(path string, err error) diag.Result {
	r := diag.Resultf(diag.Error, "cannot collect %s: %v", path, err).With("path", path)
	if errors.Is(err, fs.ErrPermission) {
		return r.WithHint("triage runs as a user who may not read %s; run it as a user who can", path)
	}
	return r.WithHint("the target could not read %s; see the message for why", path)
}
