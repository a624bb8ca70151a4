package remote

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/syscheck"
	"github.com/triage-dev/triage/remote/sshtest"
)

// runDiskHome runs a disk check of "~" on tg.
func runDiskHome(t *testing.T, tg diag.Target) diag.Result {
	t.Helper()
	k, _ := diag.LookupKind("disk")
	c := k.New().(*syscheck.Disk)
	c.Path, c.WarnUsed, c.FailUsed, c.MaxInodesUsed = "~", 100, 100, 100
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return (&diag.Runner{}).Run(ctx, tg, []diag.Check{{ID: "home", Kind: "disk", Checker: c}})[0]
}

// TestHomeFolderOverSFTP: "~" of the disk check is the remote login's
// home, where its SFTP server starts.
func TestHomeFolderOverSFTP(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	tg := e.mustDial(e.server(sshtest.Options{SFTPWorkDir: dir}))
	home, err := tg.HomeDir(context.Background())
	if err != nil || home != dir {
		t.Fatalf("HomeDir = %q, %v; want %q", home, err, dir)
	}
	r := runDiskHome(t, tg)
	if r.Status == diag.Error || r.Observed["path"] != dir {
		t.Errorf("disk ~: %s %q (path %v)", r.Status, r.Message, r.Observed["path"])
	}
}

// TestHomeFolderWithoutSFTP: with no SFTP, $HOME of the login.
func TestHomeFolderWithoutSFTP(t *testing.T) {
	want := os.Getenv("HOME")
	if want == "" {
		t.Skip("HOME is not set for the test's shell")
	}
	e := newEnv(t)
	tg := e.mustDial(e.server(sshtest.Options{NoSFTP: true}))
	home, err := tg.HomeDir(context.Background())
	if err != nil || home != want {
		t.Fatalf("HomeDir = %q, %v; want %q", home, err, want)
	}
}

// TestHomeFolderOpenSSH: against a real sshd, the login's home from the
// password database.
func TestHomeFolderOpenSSH(t *testing.T) {
	o := sshtest.StartOpenSSH(t, sshtest.OpenSSHOptions{})
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	d, err := NewDialer(Options{ConfigFile: o.SSHConfigPath, Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := d.Dial(ctx, sshtest.OpenSSHHostAlias)
	if err != nil {
		t.Fatalf("%v\nsshd log:\n%s", err, o.Log())
	}
	defer tg.Close()
	home, err := tg.HomeDir(ctx)
	if err != nil || home != u.HomeDir {
		t.Fatalf("HomeDir = %q, %v; want %q", home, err, u.HomeDir)
	}
	if r := runDiskHome(t, tg); r.Status == diag.Error {
		t.Errorf("disk ~ over OpenSSH: %s %q", r.Status, r.Message)
	}
}
