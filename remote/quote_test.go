package remote

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Values a playbook or an inventory might carry, hostile or merely odd.
var hostileWords = []string{
	"plain",
	"",
	"two words",
	"$(touch CANARY)",
	"`touch CANARY`",
	"; touch CANARY",
	"&& touch CANARY",
	"| touch CANARY",
	"'; touch CANARY; '",
	`"; touch CANARY; "`,
	"it's",
	`back\slash\\`,
	"line\nbreak; touch CANARY",
	"$HOME ${HOME} $$ $? $!",
	"*", "?", "[a-z]", "~", "~root",
	"#not a comment",
	"tab\there",
	"--",
	"-n",
	"%s %d",
	"ünïcödé ✓",
	"a=b",
	"> CANARY",
	"< /etc/passwd",
}

// TestShellQuoteRoundTrip runs the quoted line through real shells and
// checks that each word arrives unchanged and nothing was executed.
func TestShellQuoteRoundTrip(t *testing.T) {
	for _, shell := range []string{"/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/zsh"} {
		if _, err := os.Stat(shell); err != nil {
			continue
		}
		t.Run(filepath.Base(shell), func(t *testing.T) {
			dir := t.TempDir()
			// printf prints each argument on its own line, NUL-terminated so
			// that words with newlines survive.
			argv := append([]string{"printf", `%s\0`}, hostileWords...)
			cmd := exec.Command(shell, "-c", shellQuote(argv))
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s -c %q: %v", shell, shellQuote(argv), err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if !reflect.DeepEqual(got, hostileWords) {
				t.Errorf("words changed on the way through %s:\ngot  %q\nwant %q", shell, got, hostileWords)
			}
			if _, err := os.Stat(filepath.Join(dir, "CANARY")); err == nil {
				t.Fatalf("%s executed part of a quoted value: CANARY exists", shell)
			}
		})
	}
}

func TestShellQuoteReadable(t *testing.T) {
	for argv, want := range map[string]string{
		"uname -s -n -r -m":    "uname -s -n -r -m",
		"df -Pk -- /var/log":   "df -Pk -- /var/log",
		"stat -c %s -- /a b":   "stat -c %s -- /a b",
		"getent ahosts x.corp": "getent ahosts x.corp",
	} {
		if got := shellQuote(strings.Fields(argv)); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", argv, got, want)
		}
	}
	if got := shellQuote([]string{"echo", "a b", "", "it's"}); got != `echo 'a b' '' 'it'\''s'` {
		t.Errorf("got %s", got)
	}
}
