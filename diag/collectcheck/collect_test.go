package collectcheck

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// noTail is this machine without the FileTailer capability, as a remote
// target is: the end of a large file must then be read with tail.
type noTail struct {
	*diag.Local
	ran []string
}

// ReadFileTail hides Local's, so noTail lacks the diag.FileTailer capability.
func (n *noTail) ReadFileTail() {}

func (n *noTail) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	n.ran = append(n.ran, strings.Join(c.Argv, " "))
	return n.Local.Run(ctx, c)
}

func writeLog(t *testing.T, lines int) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&b, "line %05d of the log\n", i)
	}
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, tg diag.Target, c *Collect) diag.Result {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return c.Run(context.Background(), tg)
}

func TestCollectFile(t *testing.T) {
	path := writeLog(t, 10)
	r := run(t, diag.NewLocal(), &Collect{Path: path})
	if r.Status != diag.Pass || len(r.Files) != 1 {
		t.Fatalf("%s: %s (%d files)", r.Status, r.Message, len(r.Files))
	}
	f := r.Files[0]
	want, _ := os.ReadFile(path)
	if f.Name != "app.log" || !bytes.Equal(f.Data, want) || f.Truncated {
		t.Errorf("collected %q (%d bytes, truncated %v)", f.Name, len(f.Data), f.Truncated)
	}
	if r.Observed["lines"] != 10 || r.Observed["truncated"] != false || r.Evidence != "" {
		t.Errorf("observed %v, evidence %q", r.Observed, r.Evidence)
	}
	// Capped: the head is kept and the cut is said.
	r = run(t, diag.NewLocal(), &Collect{Path: path, MaxBytes: 50, Name: "head.txt"})
	if f := r.Files[0]; len(f.Data) != 50 || !f.Truncated || f.Name != "head.txt" || !strings.Contains(r.Message, "cut at the 50B cap") {
		t.Errorf("capped: %d bytes, truncated %v, name %q, message %q", len(f.Data), f.Truncated, f.Name, r.Message)
	}
}

func TestCollectTail(t *testing.T) {
	path := writeLog(t, 5000) // about 100KiB
	for name, tg := range map[string]diag.Target{"seek": diag.NewLocal(), "tail command": &noTail{Local: diag.NewLocal()}} {
		t.Run(name, func(t *testing.T) {
			if name == "tail command" && runtime.GOOS == "windows" {
				t.Skip("no tail command on Windows")
			}
			r := run(t, tg, &Collect{Path: path, TailLines: 3, MaxBytes: 4096})
			if r.Status != diag.Pass {
				t.Fatalf("%s: %s", r.Status, r.Message)
			}
			if got, want := string(r.Files[0].Data), "line 04998 of the log\nline 04999 of the log\nline 05000 of the log\n"; got != want {
				t.Errorf("tail = %q, want %q", got, want)
			}
			if r.Files[0].Truncated {
				t.Error("3 whole lines were asked for and given, yet marked truncated")
			}
			if nt, ok := tg.(*noTail); ok && (len(nt.ran) != 1 || !strings.HasPrefix(nt.ran[0], "tail -c 4096 -- ")) {
				t.Errorf("commands run: %v", nt.ran)
			}
			// More lines than fit: the window's partial first line is dropped.
			r = run(t, tg, &Collect{Path: path, TailLines: 1000, MaxBytes: 100})
			data := string(r.Files[0].Data)
			if !r.Files[0].Truncated || !strings.HasPrefix(data, "line ") || !strings.HasSuffix(data, "line 05000 of the log\n") {
				t.Errorf("a tail cut by max_bytes: truncated %v, %q", r.Files[0].Truncated, data)
			}
		})
	}
}

func TestCollectCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	r := run(t, diag.NewLocal(), &Collect{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	if r.Status != diag.Pass || !strings.Contains(r.Message, "exited 3") {
		t.Fatalf("%s: %s", r.Status, r.Message)
	}
	if got := string(r.Files[0].Data); got != "out\n[stderr]\nerr\n" || r.Files[0].Name != "sh.txt" {
		t.Errorf("collected %q as %q", got, r.Files[0].Name)
	}
	r = run(t, diag.NewLocal(), &Collect{Argv: []string{"no-such-program-triage"}})
	if r.Status != diag.Error || len(r.Files) != 0 || !strings.Contains(r.Hint, "not installed") {
		t.Errorf("missing program: %s %q %q", r.Status, r.Message, r.Hint)
	}
}

func TestCollectErrors(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]*Collect{
		"missing":   {Path: filepath.Join(dir, "nope")},
		"directory": {Path: dir},
	} {
		r := run(t, diag.NewLocal(), c)
		if r.Status != diag.Error || len(r.Files) != 0 || r.Hint == "" {
			t.Errorf("%s: %s %q hint %q", name, r.Status, r.Message, r.Hint)
		}
	}
}

func TestCollectValidate(t *testing.T) {
	for name, c := range map[string]*Collect{
		"nothing":   {},
		"both":      {Path: "/x", Argv: []string{"ls"}},
		"negative":  {Path: "/x", TailLines: -1},
		"too big":   {Path: "/x", MaxBytes: MaxMaxBytes + 1},
		"bad name":  {Path: "/x", Name: "../etc/passwd"},
		"empty cmd": {Argv: []string{""}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLastLines(t *testing.T) {
	for _, c := range []struct {
		in      string
		n       int
		cut     bool
		want    string
		wantCut bool
	}{
		{"a\nb\nc\n", 2, false, "b\nc\n", false},
		{"a\nb\nc", 2, false, "b\nc", false},
		{"a\nb\n", 5, false, "a\nb\n", false},
		{"rtial\nb\nc\n", 5, true, "b\nc\n", true},
		{"rtial\nb\nc\n", 2, true, "b\nc\n", false},
		{"", 3, false, "", false},
	} {
		got, cut := lastLines([]byte(c.in), c.n, c.cut)
		if string(got) != c.want || cut != c.wantCut {
			t.Errorf("lastLines(%q, %d, %v) = %q, %v; want %q, %v", c.in, c.n, c.cut, got, cut, c.want, c.wantCut)
		}
	}
}
