package syscheck

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

func TestParseIDFile(t *testing.T) {
	n := parseIDFile([]byte(readTestdata(t, "etc/passwd")))
	for name, id := range map[string]int{"root": 0, "toor": 0, "www-data": 33, "alice": 1000, "postgres": 112} {
		if got, ok := n.byName[name]; !ok || got != id {
			t.Errorf("byName[%s] = %d, %v; want %d", name, got, ok, id)
		}
	}
	// uid 0 has two names; the first listed is its name, as getpwuid says.
	if n.byID[0] != "root" {
		t.Errorf("byID[0] = %q, want root", n.byID[0])
	}
	for _, skipped := range []string{"+nisuser", "# a comment line, which passwd files may carry", "broken-line-without-fields"} {
		if _, ok := n.byName[skipped]; ok {
			t.Errorf("%q was read as a user", skipped)
		}
	}
	g := parseIDFile([]byte(readTestdata(t, "etc/group")))
	if g.byName["ssl-cert"] != 111 || g.byID[120] != "postgres" {
		t.Errorf("groups = %v", g)
	}
}

func FuzzParseIDFile(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\n"))
	f.Add([]byte("a:b:-1\n:x:1\nc:x:99999999999999999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := parseIDFile(data)
		for name, id := range n.byName {
			if name == "" || id < 0 {
				t.Fatalf("bad entry %q -> %d", name, id)
			}
		}
	})
}

func newFile(mod func(*File)) *File {
	k, _ := diag.LookupKind("file")
	f := k.New().(*File)
	if mod != nil {
		mod(f)
	}
	return f
}

func TestFileValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*File)
		want []string
	}{
		{"plain", func(f *File) { f.Path = "/etc/hosts" }, nil},
		{"owner by name and group by number", func(f *File) { f.Path, f.Owner, f.Group = "/x", "root", "0" }, nil},
		{"bad mode", func(f *File) { f.Path, f.Mode = "/x", "0999" }, []string{"mode"}},
		{"owner with colon", func(f *File) { f.Path, f.Owner = "/x", "root:root" }, []string{"owner"}},
		{"min above max", func(f *File) { f.Path, f.MinSize, f.MaxSize = "/x", 2048, 1024 }, []string{"min_size"}},
		{"absent with owner", func(f *File) { f.Path, f.Exists, f.Owner = "/x", false, "root" }, []string{"exists"}},
		{"absent with max_age", func(f *File) { f.Path, f.Exists, f.MaxAge = "/x", false, diag.Duration(time.Hour) }, []string{"exists"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(validate(newFile(tc.mod))); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields in error = %q, want %q (%v)", got, tc.want, validate(newFile(tc.mod)))
			}
		})
	}
}

// ownedTarget holds /srv/app.conf owned by postgres:ssl-cert, with the
// passwd and group files of testdata/etc.
func ownedTarget(t *testing.T) *fakeTarget {
	ft := newFake().withFile(t, "/etc/passwd", "etc/passwd").withFile(t, "/etc/group", "etc/group")
	ft.files["/srv/app.conf"] = "listen 8080\n"
	ft.stats["/srv/app.conf"] = diag.FileInfo{Path: "/srv/app.conf", Size: 12, Mode: 0o640, UID: 112, GID: 111,
		ModTime: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	ft.stats["/srv/uid-only"] = diag.FileInfo{Path: "/srv/uid-only", Size: 1, Mode: 0o600, UID: 4242, GID: 4242}
	ft.stats["/usr/bin/sudo"] = diag.FileInfo{Path: "/usr/bin/sudo", Size: 1 << 20, Mode: 0o755 | fs.ModeSetuid, UID: 0, GID: 0}
	return ft
}

func TestFileOwnerAndGroup(t *testing.T) {
	ft := ownedTarget(t)
	for _, tc := range []struct {
		name          string
		owner, group  string
		path          string
		want          diag.Status
		msgHas        string
		observedOwner any
	}{
		{"names match", "postgres", "ssl-cert", "/srv/app.conf", diag.Pass, "owned by postgres:ssl-cert", "postgres"},
		{"numbers match", "112", "111", "/srv/app.conf", diag.Pass, "owned by postgres:ssl-cert", "postgres"},
		{"wrong user", "www-data", "", "/srv/app.conf", diag.Fail, "is owned by user postgres (uid 112), expected www-data (uid 33)", "postgres"},
		{"wrong group by number", "", "0", "/srv/app.conf", diag.Fail, "is owned by group ssl-cert (gid 111), expected root (gid 0)", nil},
		{"user not in passwd, owner is", "ldapuser", "", "/srv/app.conf", diag.Fail, "expected ldapuser (not in /etc/passwd)", "postgres"},
		{"uid without a name matches by number", "4242", "", "/srv/uid-only", diag.Pass, "owned by 4242", "4242"},
		{"neither name known", "ldapuser", "", "/srv/uid-only", diag.Error, "neither user \"ldapuser\" nor uid 4242", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFile(func(f *File) { f.Path, f.Owner, f.Group = tc.path, tc.owner, tc.group }).Run(context.Background(), ft)
			checkResult(t, r, tc.want)
			if !strings.Contains(r.Message, tc.msgHas) {
				t.Errorf("message %q does not contain %q", r.Message, tc.msgHas)
			}
			if tc.observedOwner != nil && r.Observed["owner"] != tc.observedOwner {
				t.Errorf("observed owner = %v, want %v", r.Observed["owner"], tc.observedOwner)
			}
		})
	}
}

func TestFileOwnerPasswdUnreadable(t *testing.T) {
	ft := ownedTarget(t)
	ft.fileErrs["/etc/passwd"] = fs.ErrPermission
	r := newFile(func(f *File) { f.Path, f.Owner = "/srv/app.conf", "postgres" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Hint, "uid 112") {
		t.Errorf("hint %q does not offer the numeric uid", r.Hint)
	}
	// A number needs no lookup.
	r = newFile(func(f *File) { f.Path, f.Owner = "/srv/app.conf", "112" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
}

func TestFileOwnerOnWindows(t *testing.T) {
	ft := newFake()
	ft.facts.OS = "windows"
	ft.stats[`C:\app\app.ini`] = diag.FileInfo{Size: 10, Mode: 0o666, UID: -1, GID: -1}
	r := newFile(func(f *File) { f.Path, f.Owner = `C:\app\app.ini`, "Administrator" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Skip)
	// What can be checked still fails.
	r = newFile(func(f *File) { f.Path, f.Owner, f.MaxSize = `C:\app\app.ini`, "Administrator", 5 }).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
}

func TestFileSizeAndAge(t *testing.T) {
	ft := ownedTarget(t)
	now := time.Date(2024, 5, 1, 15, 30, 0, 0, time.UTC) // 3.5 hours after the file's mtime
	run := func(mod func(*File)) diag.Result {
		f := newFile(func(f *File) { f.Path = "/srv/app.conf"; mod(f) })
		f.now = func() time.Time { return now }
		return f.Run(context.Background(), ft)
	}
	r := run(func(f *File) { f.MinSize = 1024 })
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "is 12B, smaller than the 1KiB minimum") {
		t.Errorf("message %q", r.Message)
	}
	r = run(func(f *File) { f.MaxSize = 10 })
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Hint, "logrotate") {
		t.Errorf("hint %q", r.Hint)
	}
	checkResult(t, run(func(f *File) { f.MinSize, f.MaxSize = 1, 1024 }), diag.Pass)

	r = run(func(f *File) { f.MaxAge = diag.Duration(time.Hour) })
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "was last modified 3 hours 30 minutes ago, longer than max_age 1h") {
		t.Errorf("message %q", r.Message)
	}
	if r.Observed["age_seconds"] != int64(3.5*3600) {
		t.Errorf("age_seconds = %v", r.Observed["age_seconds"])
	}
	r = run(func(f *File) { f.MaxAge = diag.Duration(24 * time.Hour) })
	checkResult(t, r, diag.Pass)
	if !strings.Contains(r.Message, "modified 3 hours 30 minutes ago") {
		t.Errorf("message %q", r.Message)
	}
}

func TestFileModeWithSpecialBits(t *testing.T) {
	ft := ownedTarget(t)
	r := newFile(func(f *File) { f.Path, f.Mode = "/usr/bin/sudo", "4755" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Observed["mode"] != "4755" {
		t.Errorf("observed mode = %v, want 4755", r.Observed["mode"])
	}
	// Asking for permission bits only ignores the setuid bit, as before.
	checkResult(t, newFile(func(f *File) { f.Path, f.Mode = "/usr/bin/sudo", "0755" }).Run(context.Background(), ft), diag.Pass)
	r = newFile(func(f *File) { f.Path, f.Mode = "/srv/app.conf", "4755" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Fail)
	if !strings.Contains(r.Message, "has mode 0640, expected 4755") {
		t.Errorf("message %q", r.Message)
	}
}

func TestFileExistingBehaviour(t *testing.T) {
	ft := ownedTarget(t)
	checkResult(t, newFile(func(f *File) { f.Path = "/nope" }).Run(context.Background(), ft), diag.Fail)
	checkResult(t, newFile(func(f *File) { f.Path, f.Exists = "/nope", false }).Run(context.Background(), ft), diag.Pass)
	checkResult(t, newFile(func(f *File) { f.Path, f.Exists = "/srv/app.conf", false }).Run(context.Background(), ft), diag.Fail)
	checkResult(t, newFile(func(f *File) { f.Path, f.Contains = "/srv/app.conf", "listen 8080" }).Run(context.Background(), ft), diag.Pass)
	checkResult(t, newFile(func(f *File) { f.Path, f.Matches = "/srv/app.conf", `listen \d+443` }).Run(context.Background(), ft), diag.Fail)
	r := newFile(func(f *File) { f.Path = "/srv/app.conf" }).Run(context.Background(), ft)
	checkResult(t, r, diag.Pass)
	if r.Message != "/srv/app.conf exists (12B, mode 0640)" {
		t.Errorf("message %q", r.Message)
	}
}

// TestFileOnThisMachine checks a real file: its owner by number and by
// the name this machine's /etc/passwd gives it, its size and its age.
func TestFileOnThisMachine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file owners are not reported on Windows")
	}
	path := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(path, []byte("hello\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(os.Getuid())
	local := diag.NewLocal()
	r := newFile(func(f *File) {
		f.Path, f.Owner, f.Mode, f.MinSize, f.MaxSize = path, uid, "0640", 6, 6
		f.MaxAge = diag.Duration(time.Minute)
	}).Run(context.Background(), local)
	checkResult(t, r, diag.Pass)
	if r.Observed["uid"] != os.Getuid() {
		t.Errorf("observed uid = %v, want %d", r.Observed["uid"], os.Getuid())
	}
	if name, ok := r.Observed["owner"].(string); ok && name != uid {
		// The uid has a name here: the same check by name must pass too.
		checkResult(t, newFile(func(f *File) { f.Path, f.Owner = path, name }).Run(context.Background(), local), diag.Pass)
	}
	wrong := strconv.Itoa(os.Getuid() + 1)
	checkResult(t, newFile(func(f *File) { f.Path, f.Owner = path, wrong }).Run(context.Background(), local), diag.Fail)
}
