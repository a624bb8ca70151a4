package syscheck

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// fakeTarget is a Target made of recorded files and command outputs, so a
// kind can be run against the state of machines other than this one.
// Anything not recorded does not exist.
type fakeTarget struct {
	facts    diag.Facts
	factsErr error
	files    map[string]string
	fileErrs map[string]error
	stats    map[string]diag.FileInfo
	cmds     map[string]diag.CommandResult // by argv joined with spaces
	cmdErrs  map[string]error
	disks    map[string]diag.DiskUsage
	diskErrs map[string]error

	mu  sync.Mutex
	ran []string
}

func newFake() *fakeTarget {
	return &fakeTarget{
		facts:    diag.Facts{OS: "linux", Arch: "amd64", Hostname: "fake", Kernel: "6.1.0-18-amd64", Distro: "debian", DistroVersion: "12"},
		files:    map[string]string{},
		fileErrs: map[string]error{},
		stats:    map[string]diag.FileInfo{},
		cmds:     map[string]diag.CommandResult{},
		cmdErrs:  map[string]error{},
		disks:    map[string]diag.DiskUsage{},
		diskErrs: map[string]error{},
	}
}

// withFile records a file from testdata under a path of the target.
func (f *fakeTarget) withFile(t testing.TB, path, testdata string) *fakeTarget {
	t.Helper()
	f.files[path] = readTestdata(t, testdata)
	return f
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fakeTarget) Name() string { return "fake" }

func (f *fakeTarget) Facts(context.Context) (diag.Facts, error) { return f.facts, f.factsErr }

func (f *fakeTarget) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	key := strings.Join(c.Argv, " ")
	f.mu.Lock()
	f.ran = append(f.ran, key)
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return diag.CommandResult{}, err
	}
	if err, ok := f.cmdErrs[key]; ok {
		return diag.CommandResult{}, err
	}
	res, ok := f.cmds[key]
	if !ok {
		return diag.CommandResult{}, commandNotFound(c.Argv[0])
	}
	return res, nil
}

func (f *fakeTarget) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if err, ok := f.fileErrs[path]; ok {
		return nil, false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	s, ok := f.files[path]
	if !ok {
		return nil, false, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	if int64(len(s)) > limit {
		return []byte(s[:limit]), true, nil
	}
	return []byte(s), false, nil
}

func (f *fakeTarget) Stat(ctx context.Context, path string) (diag.FileInfo, error) {
	if fi, ok := f.stats[path]; ok {
		return fi, nil
	}
	if s, ok := f.files[path]; ok {
		return diag.FileInfo{Path: path, Size: int64(len(s)), Mode: 0o644, UID: 0, GID: 0}, nil
	}
	return diag.FileInfo{}, &fs.PathError{Op: "stat", Path: path, Err: fs.ErrNotExist}
}

func (f *fakeTarget) DiskUsage(ctx context.Context, path string) (diag.DiskUsage, error) {
	if err, ok := f.diskErrs[path]; ok {
		return diag.DiskUsage{}, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	u, ok := f.disks[path]
	if !ok {
		return diag.DiskUsage{}, &fs.PathError{Op: "statfs", Path: path, Err: fs.ErrNotExist}
	}
	u.Path = path
	return u, nil
}

func (f *fakeTarget) Dial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("the fake target has no network")
}

// commandNotFound is how the fake reports a missing program: as Local does,
// wrapping diag.ErrCommandNotFound.
func commandNotFound(name string) error {
	return &fs.PathError{Op: "exec", Path: name, Err: diag.ErrCommandNotFound}
}

// validate runs a parameter struct's Validate, as the loader does.
func validate(c diag.Checker) error {
	if v, ok := c.(diag.Validator); ok {
		return v.Validate()
	}
	return nil
}

// fieldOf returns the field of the first FieldError in err, or "".
func fieldOf(err error) string {
	var fe *diag.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return "-"
}

// fieldsOf lists the fields of every FieldError in a joined error.
func fieldsOf(err error) []string {
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	var out []string
	for _, e := range list {
		out = append(out, fieldOf(e))
	}
	return out
}

// checkResult asserts the parts of a result every kind must get right:
// the status, a message, and a hint whenever the check did not pass.
func checkResult(t *testing.T, r diag.Result, want diag.Status) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status = %s, want %s; message: %s; hint: %s", r.Status, want, r.Message, r.Hint)
	}
	if r.Message == "" {
		t.Errorf("result has no message")
	}
	if r.Status != diag.Pass && r.Hint == "" {
		t.Errorf("%s result has no hint: %s", r.Status, r.Message)
	}
	if strings.HasSuffix(r.Message, ".") {
		t.Errorf("message ends with a period: %q", r.Message)
	}
}

// TestKindsShareTheirParameters runs each kind's one parameter struct from
// many goroutines at once, as a sweep does; with -race this catches a Run
// that writes to its receiver.
func TestKindsShareTheirParameters(t *testing.T) {
	ft := desktopTarget(t).
		withFile(t, "/proc/meminfo", "meminfo/server-low.txt").
		withFile(t, "/proc/loadavg", "loadavg/busy-4cpu.txt").
		withFile(t, "/sys/devices/system/cpu/online", "cpu/online-4cpu.txt").
		withFile(t, "/proc/uptime", "uptime/45-days.txt").
		withFile(t, "/etc/os-release", "etc/os-release-ubuntu").
		withFile(t, "/etc/passwd", "etc/passwd")
	ft.cmds[strings.Join(psNames, " ")] = diag.CommandResult{Stdout: []byte(readTestdata(t, "ps/debian12-comm.txt"))}
	ft.cmds[strings.Join(psArgs, " ")] = diag.CommandResult{Stdout: []byte(readTestdata(t, "ps/debian12-args.txt"))}
	checkers := []diag.Checker{
		newDisk(func(d *Disk) { d.All = true }),
		newFile(func(f *File) { f.Path, f.Owner = "/etc/passwd", "root" }),
		newMemory(nil), newLoad(nil), &Uptime{WarnAbove: diag.Duration(1)}, &OS{Distro: []string{"ubuntu"}},
		&Service{Name: "ssh", Active: true}, &Process{Name: "nginx", Running: true, Min: 1},
	}
	var wg sync.WaitGroup
	for _, c := range checkers {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := c.Run(context.Background(), ft); !r.Status.Valid() {
					t.Errorf("%T: no verdict", c)
				}
			}()
		}
	}
	wg.Wait()
}
