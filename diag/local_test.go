package diag_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

var _ diag.Target = (*diag.Local)(nil)

// needUnix skips tests that run Unix programs (sh, head, sleep) where
// there are none; every machine these tests are meant for has them.
func needUnix(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs a Unix shell and tools")
	}
}

func TestLocalRun(t *testing.T) {
	needUnix(t)
	tests := []struct {
		name       string
		argv       []string
		max        int64
		wantCode   int
		wantStdout string
		wantStderr string
		wantTrunc  bool
	}{
		{name: "success", argv: []string{"true"}},
		{name: "exit code 1", argv: []string{"false"}, wantCode: 1},
		{name: "exit code 3", argv: []string{"sh", "-c", "exit 3"}, wantCode: 3},
		{
			name: "stdout and stderr apart", argv: []string{"sh", "-c", "echo out; echo err >&2; exit 2"},
			wantCode: 2, wantStdout: "out\n", wantStderr: "err\n",
		},
		{
			name: "argv is not a shell string", argv: []string{"echo", "$HOME", "*", "a;b", "'q'"},
			wantStdout: "$HOME * a;b 'q'\n",
		},
		{
			name: "output exactly at the cap", argv: []string{"printf", "12345"}, max: 5,
			wantStdout: "12345",
		},
		{
			name: "output over the cap", argv: []string{"printf", "123456"}, max: 5,
			wantStdout: "12345", wantTrunc: true,
		},
		{
			name: "stderr over the cap", argv: []string{"sh", "-c", "printf 123456 >&2; printf ok"}, max: 5,
			wantStdout: "ok", wantStderr: "12345", wantTrunc: true,
		},
	}
	l := diag.NewLocal()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := l.Run(context.Background(), diag.Command{Argv: tc.argv, MaxOutput: tc.max})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != tc.wantCode || string(res.Stdout) != tc.wantStdout || string(res.Stderr) != tc.wantStderr || res.Truncated != tc.wantTrunc {
				t.Errorf("got exit %d stdout %q stderr %q truncated %v\nwant exit %d stdout %q stderr %q truncated %v",
					res.ExitCode, res.Stdout, res.Stderr, res.Truncated, tc.wantCode, tc.wantStdout, tc.wantStderr, tc.wantTrunc)
			}
		})
	}
}

func TestLocalRunCapsLargeOutput(t *testing.T) {
	needUnix(t)
	l := diag.NewLocal()
	tests := []struct {
		name  string
		argv  []string
		max   int64
		limit int
	}{
		{"3 MiB with a 1 MiB cap", []string{"head", "-c", strconv.Itoa(3 << 20), "/dev/zero"}, 1 << 20, 1 << 20},
		{"the default cap", []string{"head", "-c", strconv.Itoa(diag.DefaultMaxOutput + 1), "/dev/zero"}, 0, diag.DefaultMaxOutput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := l.Run(context.Background(), diag.Command{Argv: tc.argv, MaxOutput: tc.max})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			// The program ran to the end: the runner keeps reading, and drops.
			if res.ExitCode != 0 || len(res.Stdout) != tc.limit || !res.Truncated {
				t.Errorf("exit %d, %d bytes kept, truncated %v; want exit 0, %d bytes, truncated", res.ExitCode, len(res.Stdout), res.Truncated, tc.limit)
			}
		})
	}
}

func TestLocalRunErrors(t *testing.T) {
	needUnix(t)
	l := diag.NewLocal()
	for _, argv := range [][]string{
		{"triage-test-no-such-program"},
		{filepath.Join(t.TempDir(), "missing")},
	} {
		_, err := l.Run(context.Background(), diag.Command{Argv: argv})
		if !errors.Is(err, diag.ErrCommandNotFound) {
			t.Errorf("Run(%q) = %v, want ErrCommandNotFound", argv, err)
		}
		if err != nil && !strings.Contains(err.Error(), argv[0]) {
			t.Errorf("error %q does not name the program", err)
		}
	}
	for _, argv := range [][]string{nil, {}, {""}} {
		if _, err := l.Run(context.Background(), diag.Command{Argv: argv}); err == nil || errors.Is(err, diag.ErrCommandNotFound) {
			t.Errorf("Run(%q) = %v, want an error other than not found", argv, err)
		}
	}
	// A file that is not executable exists: it is not "not found".
	notExec := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Run(context.Background(), diag.Command{Argv: []string{notExec}}); err == nil || errors.Is(err, diag.ErrCommandNotFound) {
		t.Errorf("Run of a non-executable file = %v, want a permission error", err)
	}
}

func TestLocalRunContext(t *testing.T) {
	needUnix(t)
	l := diag.NewLocal()
	tests := []struct {
		name string
		// script writes a process id to the named pipe "$1" once it runs:
		// its own, or that of a child it leaves behind.
		script   string
		orphaned bool
	}{
		{"the program itself", `echo $$ > "$1"; exec sleep 3600`, false},
		// sh is killed, but the sleep it started keeps the output pipe
		// open: Run must not wait for it.
		{"a child holding the output open", `sleep 3600 & echo $! > "$1"; wait`, true},
	}
	for _, tc := range tests {
		t.Run("cancel in flight/"+tc.name, func(t *testing.T) {
			// The named pipe tells the test the program runs, so the
			// cancel comes while it does, without guessing at timing.
			fifo := filepath.Join(t.TempDir(), "started")
			if out, err := exec.Command("mkfifo", fifo).CombinedOutput(); err != nil {
				t.Fatalf("mkfifo: %v %s", err, out)
			}
			ctx, cancel := context.WithCancel(context.Background())
			type result struct {
				res diag.CommandResult
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := l.Run(ctx, diag.Command{Argv: []string{"sh", "-c", tc.script, "sh", fifo}})
				done <- result{res, err}
			}()
			msg, err := os.ReadFile(fifo)
			if err != nil {
				t.Fatalf("reading the start signal: %v", err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(msg)))
			if err != nil {
				t.Fatalf("start signal %q: %v", msg, err)
			}
			if tc.orphaned {
				// Nothing else ends the child this test started.
				t.Cleanup(func() {
					if p, err := os.FindProcess(pid); err == nil {
						p.Kill()
					}
				})
			}
			cancel()
			r := <-done
			if !errors.Is(r.err, context.Canceled) {
				t.Errorf("Run after cancel = %+v, %v; want context.Canceled", r.res, r.err)
			}
		})
	}
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := l.Run(ctx, diag.Command{Argv: []string{"sleep", "30"}}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run past its deadline = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := l.Run(ctx, diag.Command{Argv: []string{"true"}}); !errors.Is(err, context.Canceled) {
			t.Errorf("Run with a cancelled context = %v", err)
		}
	})
}

func TestLocalReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	content := bytes.Repeat([]byte("0123456789"), 10)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	l := diag.NewLocal()
	tests := []struct {
		limit     int64
		want      int
		truncated bool
	}{
		{10, 10, true},
		{99, 99, true},
		{100, 100, false},
		{101, 100, false},
		{0, 100, false}, // the default cap
		{-1, 100, false},
		{math.MaxInt64, 100, false},
	}
	for _, tc := range tests {
		data, truncated, err := l.ReadFile(context.Background(), path, tc.limit)
		if err != nil || len(data) != tc.want || truncated != tc.truncated || !bytes.Equal(data, content[:tc.want]) {
			t.Errorf("ReadFile(limit %d) = %d bytes, truncated %v, %v; want %d bytes, truncated %v",
				tc.limit, len(data), truncated, err, tc.want, tc.truncated)
		}
	}
	if _, _, err := l.ReadFile(context.Background(), filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, _, err := l.ReadFile(context.Background(), dir, 10); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
}

func TestLocalStat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	l := diag.NewLocal()
	check := func(name string) {
		t.Helper()
		info, err := l.Stat(context.Background(), name)
		if err != nil {
			t.Fatalf("Stat(%s): %v", name, err)
		}
		if info.Path != name || info.Size != 5 || info.Mode != 0o640 || !info.ModTime.Equal(mtime) {
			t.Errorf("Stat(%s) = %+v", name, info)
		}
		if runtime.GOOS != "windows" && (info.UID != os.Getuid() || info.GID < 0) {
			t.Errorf("Stat(%s) owner %d:%d, want uid %d", name, info.UID, info.GID, os.Getuid())
		}
	}
	check(path)
	if runtime.GOOS != "windows" {
		link := filepath.Join(dir, "link")
		if err := os.Symlink(path, link); err != nil {
			t.Fatal(err)
		}
		check(link) // links are followed
	}
	_, err := l.Stat(context.Background(), filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestLocalDiskUsage(t *testing.T) {
	df, err := exec.LookPath("df")
	if err != nil {
		t.Skip("no df to compare with")
	}
	l := diag.NewLocal()
	u, err := l.DiskUsage(context.Background(), "/")
	if err != nil {
		t.Fatalf("DiskUsage(/): %v", err)
	}
	out, err := exec.Command(df, "-B1", "--output=size,used,avail", "/").Output()
	if err != nil {
		t.Skipf("df does not take GNU options here: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Scan() // header
	sc.Scan()
	f := strings.Fields(sc.Text())
	if len(f) != 3 {
		t.Fatalf("unexpected df output %q", out)
	}
	var size, used, avail uint64
	for i, dst := range []*uint64{&size, &used, &avail} {
		if *dst, err = strconv.ParseUint(f[i], 10, 64); err != nil {
			t.Fatalf("df output %q: %v", out, err)
		}
	}
	// Other programs write to the disk between the two measures: allow 1%
	// of its size.
	near := func(what string, got, want uint64) {
		if math.Abs(float64(got)-float64(want)) > 0.01*float64(size) {
			t.Errorf("%s: DiskUsage says %d, df says %d", what, got, want)
		}
	}
	near("size", u.Total, size)
	near("used", u.Used(), used)
	near("available", u.Avail, avail)
	if u.Path != "/" || u.Free < u.Avail || u.Files == 0 || u.FilesFree > u.Files {
		t.Errorf("DiskUsage(/) = %+v", u)
	}

	_, err = l.DiskUsage(context.Background(), filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DiskUsage(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestLocalFacts(t *testing.T) {
	l := diag.NewLocal()
	f, err := l.Facts(context.Background())
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	if f.OS != runtime.GOOS || f.Arch != runtime.GOARCH {
		t.Errorf("OS/Arch = %s/%s, want %s/%s", f.OS, f.Arch, runtime.GOOS, runtime.GOARCH)
	}
	if host, _ := os.Hostname(); f.Hostname != host {
		t.Errorf("Hostname = %q, want %q", f.Hostname, host)
	}
	if again, _ := l.Facts(context.Background()); again != f {
		t.Errorf("second Facts = %+v, want the cached %+v", again, f)
	}
	if l.Name() != "local" {
		t.Errorf("Name() = %q", l.Name())
	}
	if runtime.GOOS != "linux" {
		return
	}
	if uname, err := exec.Command("uname", "-r").Output(); err == nil {
		if want := strings.TrimSpace(string(uname)); f.Kernel != want {
			t.Errorf("Kernel = %q, uname -r says %q", f.Kernel, want)
		}
	} else if f.Kernel == "" {
		t.Error("Kernel is empty")
	}
	// The distribution, read here without ParseOSRelease: "debian" on
	// the machines this project develops on.
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		data, err = os.ReadFile("/usr/lib/os-release")
	}
	if err != nil {
		t.Fatalf("a Linux machine without os-release: %v", err)
	}
	var id, version string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "ID="); ok {
			id = strings.Trim(v, `"'`)
		}
		if v, ok := strings.CutPrefix(line, "VERSION_ID="); ok {
			version = strings.Trim(v, `"'`)
		}
	}
	if id == "" || f.Distro != id || f.DistroVersion != version {
		t.Errorf("Distro %q %q, os-release says %q %q", f.Distro, f.DistroVersion, id, version)
	}
	if f.Gateway != "" && net.ParseIP(f.Gateway).To4() == nil {
		t.Errorf("Gateway %q is not an IPv4 address", f.Gateway)
	}
}

func TestLocalDialLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = c.Write([]byte("hi"))
			c.Close()
		}
		accepted <- err
	}()
	conn, err := diag.NewLocal().Dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	buf := make([]byte, 2)
	if _, err := conn.Read(buf); err != nil || string(buf) != "hi" {
		t.Errorf("read %q, %v", buf, err)
	}
	if err := <-accepted; err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := diag.NewLocal().Dial(ctx, "tcp", ln.Addr().String()); err == nil {
		t.Error("Dial with a cancelled context succeeded")
	}
}
