package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/triage-dev/triage/reports"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"triage": main})
}

// TestScripts runs the end-to-end scripts in testdata/script: the real
// binary, real files, real exit codes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			return nil
		},
		// [html] holds when the HTML renderer is registered: doctor.txtar
		// asserts on the HTML report only then, since the renderer is
		// being written at the same time as doctor.
		Condition: func(cond string) (bool, error) {
			if cond == "html" {
				_, ok := reports.Lookup("html")
				return ok, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// waitfile FILE waits (up to a minute) until FILE exists, to
			// synchronise with a background triage without sleeping blindly.
			"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: waitfile FILE")
				}
				path := ts.MkAbs(args[0])
				for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if _, err := os.Stat(path); err == nil {
						return
					}
				}
				ts.Fatalf("%s did not appear within a minute", args[0])
			},
			// untar BUNDLE DIR unpacks a .tar.gz (a support bundle) into DIR.
			"untar": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: untar BUNDLE DIR")
				}
				ts.Check(untar(ts.MkAbs(args[0]), ts.MkAbs(args[1])))
			},
			// nofiles GLOB fails if any file matches GLOB (temporary files left behind).
			"nofiles": func(ts *testscript.TestScript, neg bool, args []string) {
				for _, g := range args {
					m, err := filepath.Glob(ts.MkAbs(g))
					ts.Check(err)
					if len(m) > 0 {
						ts.Fatalf("left behind: %v", m)
					}
				}
			},
		},
	})
}

// untar unpacks the regular files of a .tar.gz into dir, refusing names
// that would land outside it.
func untar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s: entry %s is not a regular file", path, hdr.Name)
		}
		if !filepath.IsLocal(hdr.Name) {
			return fmt.Errorf("%s: entry %s leaves the folder", path, hdr.Name)
		}
		out := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return err
		}
	}
}
