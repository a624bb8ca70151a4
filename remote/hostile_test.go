package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/diag/syscheck"
	"github.com/triage-dev/triage/remote/sshtest"
	"github.com/triage-dev/triage/reports"
)

// Hostile and broken targets: every test gives the call under test a
// context with a deadline, and waits for it with a far longer fallback so
// that a regression fails the test instead of hanging it. Nothing here
// asserts on how long anything took. docs/reliability.md lists these tests.

// returnsWithin runs f and fails the test if it has not returned after a
// minute: the calls under test have deadlines of a few seconds.
func returnsWithin(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return", what)
	}
}

// TestHostileFlood: a command that never stops printing is stopped once it
// has printed overflowLimit past its cap; what was kept is returned,
// marked truncated, and the command on the server is ended.
func TestHostileFlood(t *testing.T) {
	e := newEnv(t)
	var written atomic.Int64
	ended := make(chan struct{})
	s := e.server(sshtest.Options{Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		defer close(ended)
		chunk := bytes.Repeat([]byte("y\n"), 16<<10)
		for ctx.Err() == nil {
			n, err := stdout.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				break
			}
		}
		return 0
	}})
	tg := e.mustDial(s)
	const limit = 64 << 10
	var res diag.CommandResult
	var err error
	returnsWithin(t, "Run of a command printing without end", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err = tg.Run(ctx, diag.Command{Argv: []string{"yes"}, MaxOutput: limit})
	})
	if !errors.Is(err, ErrOutputOverflow) {
		t.Fatalf("Run: %v, want ErrOutputOverflow", err)
	}
	if !res.Truncated || len(res.Stdout) != limit || !bytes.HasPrefix(res.Stdout, []byte("y\ny\n")) {
		t.Errorf("kept %d bytes (truncated %v), want the first %d", len(res.Stdout), res.Truncated, limit)
	}
	if !strings.Contains(err.Error(), "stopped") {
		t.Errorf("the error does not say the command was stopped: %v", err)
	}
	select {
	case <-ended:
	case <-time.After(time.Minute):
		t.Fatal("the command still runs on the server after Run returned")
	}
	if w := written.Load(); w < limit+overflowLimit {
		t.Errorf("stopped after %d bytes, before the overflow limit %d", w, limit+overflowLimit)
	}
}

// TestHostileBinaryOutput: NULs, invalid UTF-8 and terminal escapes in a
// command's output end up in a report that is valid JSON and valid
// UTF-8, and reads back.
func TestHostileBinaryOutput(t *testing.T) {
	e := newEnv(t)
	garbage := []byte("ok\x00\xff\xfe\xc3\x28\xe2\x82\x1b[31mred\x1b]0;title\x07\r\n\xed\xa0\x80\xf4\x90\x80\x80")
	s := e.server(sshtest.Options{Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		stdout.Write(garbage)
		stderr.Write(garbage)
		return 0
	}})
	tg := e.mustDial(s)
	var results []diag.Result
	returnsWithin(t, "a check of binary output", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		results = (&diag.Runner{}).Run(ctx, tg, []diag.Check{
			{ID: "garbage", Kind: "command", Checker: &syscheck.Command{Argv: []string{"cat", "/dev/urandom"}, StdoutContains: "ok"}},
		})
	})
	if results[0].Status != diag.Pass || results[0].Evidence == "" {
		t.Fatalf("check: %s %q, evidence %q", results[0].Status, results[0].Message, results[0].Evidence)
	}
	rep := &reports.Report{Schema: reports.Schema, Hosts: []reports.Host{{Target: tg.Name(), Results: []reports.Result{reports.FromDiag(results[0], "p")}}}}
	rep.Finish(time.Unix(0, 0))
	json, _ := reports.Lookup("json")
	var buf bytes.Buffer
	if err := json.Render(&buf, rep, reports.Options{}); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(buf.Bytes()) || !validJSON(buf.Bytes()) {
		t.Fatalf("the report is not valid UTF-8 JSON:\n%q", buf.Bytes())
	}
	back, err := reports.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if ev := back.Hosts[0].Results[0].Evidence; !strings.HasPrefix(ev, "ok") || !strings.Contains(ev, "red") {
		t.Errorf("evidence lost its readable parts: %q", ev)
	}
}

func validJSON(b []byte) bool {
	var v any
	return json.Unmarshal(b, &v) == nil
}

// TestHostileChannelNeverCloses: a command that ignores the signal Run
// sends and never ends its channel costs the check its deadline and no
// more; the connection stays usable.
func TestHostileChannelNeverCloses(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	s := e.server(sshtest.Options{Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
		if !strings.Contains(cmd, "hang") {
			io.WriteString(stdout, "fine\n")
			return 0
		}
		// Deaf to signals and to the client closing the channel: only
		// the end of the test lets it go (the server waits for it).
		<-release
		return 0
	}})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	tg := e.mustDial(s)
	var err error
	returnsWithin(t, "Run of a command that never ends", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = tg.Run(ctx, diag.Command{Argv: []string{"hang"}})
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v, want the deadline", err)
	}
	// Every session slot is free again: more commands than there are
	// slots run one after the other.
	for i := range maxSessions + 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := tg.Run(ctx, diag.Command{Argv: []string{"echo"}})
		cancel()
		if err != nil || string(res.Stdout) != "fine\n" {
			t.Fatalf("command %d after the hung one: %q, %v", i, res.Stdout, err)
		}
	}
}

// TestHostileSlowSFTP: an SFTP server that answers one byte a second is
// given up on at each call's deadline, and is not mistaken for a server
// without SFTP (no fallback command is run).
func TestHostileSlowSFTP(t *testing.T) {
	e := newEnv(t)
	s := e.server(sshtest.Options{SFTPThrottle: time.Second})
	tg := e.mustDial(s)
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("data\n"), 0o644)
	calls := map[string]func(ctx context.Context) error{
		"ReadFile": func(ctx context.Context) error {
			_, _, err := tg.ReadFile(ctx, path, 100)
			return err
		},
		"ReadFileTail": func(ctx context.Context) error {
			_, _, err := tg.ReadFileTail(ctx, path, 100)
			return err
		},
		"Stat": func(ctx context.Context) error {
			_, err := tg.Stat(ctx, path)
			return err
		},
		"DiskUsage": func(ctx context.Context) error {
			_, err := tg.DiskUsage(ctx, "/")
			return err
		},
	}
	for name, call := range calls {
		var err error
		returnsWithin(t, name+" over a crawling SFTP server", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err = call(ctx)
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want the deadline", name, err)
		}
	}
	if cmds := s.ExecCommands(); len(cmds) > 0 {
		t.Errorf("a slow SFTP server was taken for none: ran %q", cmds)
	}
}

// TestHostileHandshakeCut: a server that hangs up in the middle of the
// handshake, at the TCP level, is an error that says so, not a hang.
func TestHostileHandshakeCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { ln.Close() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Answer the version exchange, read the client's version
			// line, and hang up before key exchange.
			io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1\r\n")
			bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
	})
	e := newEnv(t)
	returnsWithin(t, "Dial of a server that hangs up mid-handshake", func() {
		tg, err := e.dial("u@" + ln.Addr().String())
		if err == nil {
			tg.Close()
			t.Error("connected to a server that hung up mid-handshake")
			return
		}
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Kind != ErrHandshake || ce.Hint() == "" || !strings.Contains(err.Error(), "handshake") {
			t.Errorf("got %v (%T), want a handshake ConnectError with a hint", err, err)
		}
	})

	// An SSH server that completes the handshake and then hangs up: the
	// first command fails and says why.
	s := e.server(sshtest.Options{CloseAfterHandshake: true})
	returnsWithin(t, "Dial and Run on a server that hangs up after the handshake", func() {
		tg, err := e.dial(sshtest.DefaultUser + "@" + s.Addr)
		if err != nil {
			return // the hang-up came before Dial's own first request
		}
		defer tg.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := tg.Run(ctx, diag.Command{Argv: []string{"true"}}); err == nil {
			t.Error("a command ran on a server that had hung up")
		}
	})
}

// TestHostileFileChangesWhileRead: a file rewritten while it is read gives
// the old content, the new, or a mix cut at the cap; never a panic, never
// more than the cap. Over SFTP and over cat.
func TestHostileFileChangesWhileRead(t *testing.T) {
	for _, noSFTP := range []bool{false, true} {
		name := "sftp"
		if noSFTP {
			name = "cat"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			s := e.server(sshtest.Options{NoSFTP: noSFTP})
			tg := e.mustDial(s)
			path := filepath.Join(t.TempDir(), "changing")
			os.WriteFile(path, nil, 0o644)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					// Alternately short and long, so reads catch it
					// growing, shrinking and in between.
					b := bytes.Repeat([]byte{"ab"[i%2]}, 1+(i%7)*3000)
					os.WriteFile(path, b, 0o644)
				}
			})
			defer wg.Wait()
			defer close(stop)
			const limit = 8 << 10
			for range 20 {
				var data []byte
				var truncated bool
				var err error
				returnsWithin(t, "ReadFile of a changing file", func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					data, truncated, err = tg.ReadFile(ctx, path, limit)
				})
				if err != nil {
					t.Fatalf("ReadFile: %v", err)
				}
				if len(data) > limit || (truncated && len(data) != limit) {
					t.Fatalf("read %d bytes, truncated %v, cap %d", len(data), truncated, limit)
				}
				if strings.Trim(string(data), "ab") != "" {
					t.Fatalf("read bytes that were never written: %q", data)
				}
			}
		})
	}
}
