package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
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
