package syscheck

import (
	"context"
	"errors"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestParsePS(t *testing.T) {
	rows := parsePS([]byte(readTestdata(t, "ps/debian12-comm.txt")))
	if len(rows) != 16 {
		t.Fatalf("parsed %d rows, want 16", len(rows))
	}
	if rows[11] != (psRow{PID: 800, Text: "tmux: server"}) {
		t.Errorf("a name with a space: %+v", rows[11])
	}
	got := parsePS([]byte("  PID COMMAND\n    7 a  b \n\n  x y\n-3 neg\n42\n"))
	want := []psRow{{7, "a  b"}, {42, ""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func FuzzParsePS(f *testing.F) {
	f.Add([]byte("    1 systemd\n  800 tmux: server\n"))
	f.Add([]byte("1\n 2 \n\t3\tx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := parsePS(data)
		for _, r := range rows {
			if r.PID < 0 || strings.ContainsAny(r.Text, "\n") {
				t.Fatalf("bad row %+v", r)
			}
		}
		joinPS(rows, rows)
	})
}

func psTarget(t *testing.T, prefix string) *fakeTarget {
	ft := newFake()
	ft.cmds[strings.Join(psNames, " ")] = diag.CommandResult{Stdout: []byte(readTestdata(t, "ps/"+prefix+"-comm.txt"))}
	ft.cmds[strings.Join(psArgs, " ")] = diag.CommandResult{Stdout: []byte(readTestdata(t, "ps/"+prefix+"-args.txt"))}
	return ft
}

func TestJoinPS(t *testing.T) {
	ft := psTarget(t, "debian12")
	procs := joinPS(parsePS([]byte(ft.cmds[strings.Join(psNames, " ")].Stdout)), parsePS([]byte(ft.cmds[strings.Join(psArgs, " ")].Stdout)))
	if len(procs) != 15 {
		t.Fatalf("joined %d processes, want 15 (the two ps runs drop out)", len(procs))
	}
	for _, p := range procs {
		if p.Comm == "ps" {
			t.Errorf("ps itself is in the list: %+v", p)
		}
	}
}

func TestProcessValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Process
		want []string
	}{
		{"name", Process{Name: "nginx", Running: true, Min: 1}, nil},
		{"pattern", Process{Pattern: "nginx: master", Running: true, Min: 1, Max: 1}, nil},
		{"nothing to look for", Process{Running: true, Min: 1}, []string{""}},
		{"bad pattern", Process{Pattern: "(", Running: true, Min: 1}, []string{"pattern"}},
		{"path as name", Process{Name: "/usr/sbin/nginx", Running: true, Min: 1}, []string{"name"}},
		{"negative min", Process{Name: "x", Running: true, Min: -1}, []string{"min"}},
		{"zero min", Process{Name: "x", Running: true, Min: 0}, []string{"min"}},
		{"negative max", Process{Name: "x", Running: true, Min: 1, Max: -2}, []string{"max"}},
		{"max below min", Process{Name: "x", Running: true, Min: 3, Max: 2}, []string{"max"}},
		{"max when none may run", Process{Name: "x", Running: false, Min: 1, Max: 2}, []string{"max"}},
		{"none may run", Process{Name: "x", Running: false, Min: 1}, nil},
		{"min when none may run", Process{Name: "x", Running: false, Min: 2}, []string{"min"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(tc.p.Validate()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestProcessKind(t *testing.T) {
	ft := psTarget(t, "debian12")
	for _, tc := range []struct {
		name  string
		p     Process
		want  diag.Status
		count int
		msg   string
	}{
		{"by name", Process{Name: "nginx", Running: true, Min: 1}, diag.Pass, 3, "3 processes named nginx running (pids 601, 602, 603)"},
		{"min met", Process{Name: "nginx", Running: true, Min: 3, Max: 3}, diag.Pass, 3, ""},
		{"too few", Process{Name: "nginx", Running: true, Min: 4}, diag.Fail, 3, "only 3 processes named nginx running (pids 601, 602, 603), expected at least 4"},
		{"too many", Process{Name: "nginx", Running: true, Min: 1, Max: 2}, diag.Fail, 3, "3 processes named nginx running (pids 601, 602, 603), more than the 2 allowed"},
		{"not running", Process{Name: "mysqld", Running: true, Min: 1}, diag.Fail, 0, "no process named mysqld is running"},
		{"absent as wanted", Process{Name: "mysqld", Running: false, Min: 1}, diag.Pass, 0, "no process named mysqld is running, as expected"},
		{"present but forbidden", Process{Name: "sleep", Running: false, Min: 1}, diag.Fail, 1, "1 process named sleep running (pid 900) but none should be"},
		// Linux cuts the process name to 15 characters; argv[0] has it whole.
		{"long name", Process{Name: "systemd-journald", Running: true, Min: 1}, diag.Pass, 1, ""},
		{"name with a space", Process{Name: "tmux: server", Running: true, Min: 1}, diag.Pass, 1, ""},
		{"login shell", Process{Name: "bash", Running: true, Min: 1}, diag.Pass, 1, ""},
		{"pattern", Process{Pattern: `^nginx: master`, Running: true, Min: 1, Max: 1}, diag.Pass, 1, "1 process matching /^nginx: master/ running (pid 601)"},
		{"name and pattern", Process{Name: "java", Pattern: `spring\.profiles\.active=prod`, Running: true, Min: 1}, diag.Pass, 1, ""},
		{"name and pattern disagree", Process{Name: "java", Pattern: `profiles.active=dev`, Running: true, Min: 1}, diag.Fail, 0, ""},
		{"kernel thread", Process{Name: "kthreadd", Running: true, Min: 1}, diag.Pass, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.p.Run(context.Background(), ft)
			checkResult(t, r, tc.want)
			if r.Observed["count"] != tc.count {
				t.Errorf("count = %v, want %d", r.Observed["count"], tc.count)
			}
			if tc.msg != "" && r.Message != tc.msg {
				t.Errorf("message %q, want %q", r.Message, tc.msg)
			}
		})
	}
}

func TestProcessOnMacOS(t *testing.T) {
	ft := psTarget(t, "macos")
	ft.facts.OS = "darwin"
	// macOS prints the full path as the name.
	checkResult(t, (&Process{Name: "Safari", Running: true, Min: 1}).Run(context.Background(), ft), diag.Pass)
	checkResult(t, (&Process{Name: "zsh", Running: true, Min: 1}).Run(context.Background(), ft), diag.Pass)
}

func TestProcessErrors(t *testing.T) {
	checkResult(t, (&Process{Name: "x", Running: true, Min: 1}).Run(context.Background(), newFake()), diag.Error)

	ft := psTarget(t, "debian12")
	ft.cmds[strings.Join(psArgs, " ")] = diag.CommandResult{ExitCode: 1, Stderr: []byte("ps: unrecognized option: A\n")}
	r := (&Process{Name: "x", Running: true, Min: 1}).Run(context.Background(), ft)
	checkResult(t, r, diag.Error)
	if !strings.Contains(r.Hint, "procps") {
		t.Errorf("hint %q", r.Hint)
	}

	ft = psTarget(t, "debian12")
	ft.cmds[strings.Join(psArgs, " ")] = diag.CommandResult{Truncated: true}
	checkResult(t, (&Process{Name: "x", Running: true, Min: 1}).Run(context.Background(), ft), diag.Error)

	win := newFake()
	win.facts.OS = "windows"
	checkResult(t, (&Process{Name: "x", Running: true, Min: 1}).Run(context.Background(), win), diag.Skip)
}

// TestProcessOnThisMachine starts a process with a command line no other
// process has, and looks for it by name and by pattern.
func TestProcessOnThisMachine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ps on Windows")
	}
	if _, err := exec.LookPath("ps"); err != nil {
		t.Skip("ps is not installed")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("sleep is not installed")
	}
	cmd := exec.Command(sleep, "317.25")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	local := diag.NewLocal()
	r := (&Process{Pattern: `^\S*sleep 317\.25$`, Running: true, Min: 1, Max: 1}).Run(context.Background(), local)
	checkResult(t, r, diag.Pass)
	if pids := r.Observed["pids"].([]int); len(pids) != 1 || pids[0] != cmd.Process.Pid {
		t.Errorf("pids = %v, want [%d]", pids, cmd.Process.Pid)
	}
	r = (&Process{Name: "sleep", Pattern: `317\.25`, Running: true, Min: 1}).Run(context.Background(), local)
	checkResult(t, r, diag.Pass)

	cmd.Process.Kill()
	cmd.Wait()
	r = (&Process{Pattern: `^\S*sleep 317\.25$`, Running: false, Min: 1}).Run(context.Background(), local)
	checkResult(t, r, diag.Pass)
}

// winProcs is a Windows machine whose process list comes from its own
// interface (the Toolhelp snapshot of the local target).
type winProcs struct {
	*fakeTarget
	procs []diag.ProcessEntry
	err   error
}

func (w *winProcs) Processes(context.Context) ([]diag.ProcessEntry, error) { return w.procs, w.err }

func TestProcessOnWindows(t *testing.T) {
	ft := newFake()
	ft.facts.OS = "windows"
	win := &winProcs{fakeTarget: ft, procs: []diag.ProcessEntry{
		{PID: 0, Name: "[System Process]"}, {PID: 4, Name: "System"}, {PID: 2210, Name: "sshd.exe"},
		{PID: 640, Name: "svchost.exe"}, {PID: 1804, Name: "SSHD.EXE"}, {PID: 3100, Name: "sshd-session.exe"},
	}}
	ctx := context.Background()
	for _, tt := range []struct {
		p       Process
		want    diag.Status
		message string
		hint    string
	}{
		{Process{Name: "sshd", Running: true, Min: 1}, diag.Pass, "2 processes named sshd running (pids 1804, 2210)", ""},
		{Process{Name: "sshd.exe", Running: true, Min: 1, Max: 1}, diag.Fail, "2 processes named sshd.exe running", "Get-Process"},
		{Process{Name: "System", Running: true, Min: 1}, diag.Pass, "1 process named System running (pid 4)", ""},
		{Process{Name: "ssh", Running: true, Min: 1}, diag.Fail, "no process named ssh is running", "Event Viewer"},
		{Process{Name: "svchost", Running: false, Min: 1}, diag.Fail, "but none should be", "taskkill"},
		{Process{Name: "notepad", Running: false, Min: 1}, diag.Pass, "no process named notepad is running, as expected", ""},
		{Process{Pattern: "sshd -D", Running: true, Min: 1}, diag.Skip, "command lines", "by name"},
	} {
		r := tt.p.Run(ctx, win)
		if r.Status != tt.want || !strings.Contains(r.Message, tt.message) || !strings.Contains(r.Hint, tt.hint) {
			t.Errorf("%+v: %s %q (hint %q), want %s %q (hint with %q)", tt.p, r.Status, r.Message, r.Hint, tt.want, tt.message, tt.hint)
		}
	}

	win.err = errors.New("Access is denied.")
	checkResult(t, (&Process{Name: "sshd", Running: true, Min: 1}).Run(ctx, win), diag.Error)
	// A remote Windows host has no process list triage can ask for yet.
	checkResult(t, (&Process{Name: "sshd", Running: true, Min: 1}).Run(ctx, ft), diag.Skip)
}
