package remote

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/pkgcheck"
	"github.com/triage-dev/triage/remote/sshtest"
)

func TestOpenFileStreams(t *testing.T) {
	e := newEnv(t)
	tg := e.mustDial(e.server(sshtest.Options{}))
	path := filepath.Join(t.TempDir(), "db")
	want := make([]byte, 300<<10)
	for i := range want {
		want[i] = byte('a' + i%26)
	}
	os.WriteFile(path, want, 0o644)
	rc, err := tg.OpenFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != string(want) {
		t.Errorf("streamed %d bytes (%v), want %d", len(got), err, len(want))
	}
	if _, err := tg.OpenFile(context.Background(), path+".missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	noSFTP := e.mustDial(e.server(sshtest.Options{NoSFTP: true}))
	if _, err := noSFTP.OpenFile(context.Background(), path); !errors.Is(err, diag.ErrUnsupported) {
		t.Errorf("without SFTP: %v, want ErrUnsupported", err)
	}
}

// The package check streams dpkg's database over SFTP and reads it whole
// with cat without SFTP: both give what the local check gives.
func TestPackageOverSSHMatchesLocal(t *testing.T) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("no dpkg database on this machine")
	}
	k, _ := diag.LookupKind("package")
	check := k.New().(*pkgcheck.Package)
	check.Name = "bash"
	run := func(tg diag.Target) diag.Result {
		return (&diag.Runner{}).Run(context.Background(), tg, []diag.Check{{ID: "p", Kind: "package", Checker: check}})[0]
	}
	local := run(diag.NewLocal())
	e := newEnv(t)
	for name, opts := range map[string]sshtest.Options{"sftp": {}, "no sftp": {NoSFTP: true}} {
		r := run(e.mustDial(e.server(opts)))
		if r.Status != local.Status || r.Observed["version"] != local.Observed["version"] {
			t.Errorf("%s: %s %v, local %s %v", name, r.Status, r.Observed["version"], local.Status, local.Observed["version"])
		}
	}
}
