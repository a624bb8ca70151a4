package netcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

func pingCheck(t *testing.T, host string, edit func(*Ping)) *Ping {
	c := newKind[*Ping](t, "ping")
	c.Host = host
	if edit != nil {
		edit(c)
	}
	return c
}

func TestPingNative(t *testing.T) {
	local := diag.NewLocal()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := local.Ping(ctx, diag.PingRequest{Host: "127.0.0.1", Count: 1, Interval: 200 * time.Millisecond, Timeout: 2 * time.Second})
	if errors.Is(err, diag.ErrPingNotPermitted) {
		t.Skipf("this system lets the test open neither a raw ICMP socket nor an unprivileged one, so there is nothing to test natively: %v", err)
	}
	if err != nil || stats.Received != 1 {
		t.Fatalf("ping 127.0.0.1: %+v, %v", stats, err)
	}

	r := run(t, pingCheck(t, "127.0.0.1", nil), local)
	expect(t, r, diag.Pass, "127.0.0.1 answered 3 of 3 pings (0% lost), average")
	want := map[string]any{"host": "127.0.0.1", "sent": 3, "received": 3, "loss_percent": 0.0, "method": "icmp"}
	for k, v := range want {
		if r.Observed[k] != v {
			t.Errorf("observed[%s] = %#v, want %#v", k, r.Observed[k], v)
		}
	}
	for _, k := range []string{"rtt_min_ms", "rtt_avg_ms", "rtt_max_ms"} {
		if _, ok := r.Observed[k].(float64); !ok {
			t.Errorf("observed[%s] missing: %v", k, r.Observed)
		}
	}

	r = run(t, pingCheck(t, "::1", nil), local)
	if r.Status != diag.Pass {
		t.Logf("IPv6 loopback not pingable here: %s", r.Message)
	}
}

// recordedPing puts a stand-in ping program first on the PATH that
// replays a recorded output and exit code, and writes the arguments it
// was given where the test can read them.
func recordedPing(t *testing.T, output string, exitCode int) (argsFile string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in ping is a shell script")
	}
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	outFile := filepath.Join(dir, "output")
	if err := os.WriteFile(outFile, []byte(output), 0o644); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\necho \"$@\" > '%s'\ncat '%s'\nexit %d\n", argsFile, outFile, exitCode)
	if err := os.WriteFile(filepath.Join(dir, "ping"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func recording(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "ping", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestPingCommand(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the stand-in ping")
	}
	// Without the Pinger capability the check must use the ping program,
	// as it will on a remote target.
	target := plainTarget{diag.NewLocal()}
	tests := []struct {
		name     string
		output   string
		exit     int
		check    *Ping
		status   diag.Status
		msg      []string
		hint     string
		observed map[string]any
	}{
		{"all answered", "iputils_ok.txt", 0, pingCheck(t, "127.0.0.1", nil), diag.Pass,
			[]string{"127.0.0.1 answered 3 of 3 pings (0% lost), average 50µs"}, "",
			map[string]any{"sent": 3, "received": 3, "loss_percent": 0.0, "rtt_avg_ms": 0.053, "method": "command"}},
		{"loss above max_loss", "iputils_partial_loss.txt", 1, pingCheck(t, "gw.example.net", nil), diag.Fail,
			[]string{"gw.example.net (192.0.2.1) answered 3 of 4 pings (25% lost)", "loss above max_loss (0%)"}, "mtr",
			map[string]any{"loss_percent": 25.0, "address": "192.0.2.1"}},
		{"loss within max_loss warns", "iputils_partial_loss.txt", 1, pingCheck(t, "gw.example.net", func(c *Ping) { c.MaxLoss = 30 }), diag.Warn,
			[]string{"loss above warn_loss (0%)"}, "mtr", nil},
		{"loss tolerated", "iputils_partial_loss.txt", 1, pingCheck(t, "gw.example.net", func(c *Ping) { c.MaxLoss, c.WarnLoss = 30, 30 }), diag.Pass,
			[]string{"answered 3 of 4 pings (25% lost)", "; the loss is within warn_loss (30%)"}, "", nil},
		{"slow round trips warn", "iputils_partial_loss.txt", 1, pingCheck(t, "gw.example.net", func(c *Ping) { c.MaxLoss, c.WarnLoss, c.MaxRTT = 50, 50, dur(10*time.Millisecond) }), diag.Warn,
			[]string{"average 13ms", "slower than max_rtt (10ms)"}, "traceroute", nil},
		{"slow round trips fail", "macos_partial_loss.txt", 2, pingCheck(t, "router.example.net", func(c *Ping) { c.MaxLoss, c.WarnLoss, c.FailRTT = 50, 50, dur(time.Millisecond) }), diag.Fail,
			[]string{"slower than fail_rtt (1ms)"}, "", nil},
		{"no answer", "iputils_total_loss.txt", 1, pingCheck(t, "192.0.2.77", nil), diag.Fail,
			[]string{"192.0.2.77 did not answer any of 3 pings"}, "tcp check", map[string]any{"loss_percent": 100.0, "received": 0}},
		{"unreachable", "iputils_unreachable.txt", 1, pingCheck(t, "192.0.2.200", nil), diag.Fail,
			[]string{"192.0.2.200 is unreachable: 192.0.2.1 reported"}, "ARP", nil},
		{"windows output", "windows_partial_loss.txt", 0, pingCheck(t, "www.example.com", func(c *Ping) { c.MaxLoss = 50 }), diag.Warn,
			[]string{"www.example.com (192.0.2.80) answered 3 of 4 pings (25% lost), average 27ms"}, "", nil},
		{"unknown host", "iputils_unknown_host.txt", 2, pingCheck(t, "nosuchhost.invalid", nil), diag.Error,
			[]string{"cannot resolve nosuchhost.invalid"}, "dns", nil},
		{"no permission", "busybox_no_permission.txt", 1, pingCheck(t, "127.0.0.1", nil), diag.Error,
			[]string{"the ping command may not send ICMP on this machine"}, "ping_group_range", nil},
		{"no route", "iputils_no_network.txt", 2, pingCheck(t, "192.0.2.1", nil), diag.Fail,
			[]string{"no route to it"}, "gateway", nil},
		{"unknown output", "", 0, pingCheck(t, "127.0.0.1", nil), diag.Error,
			[]string{"cannot read the output of ping"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := "nothing useful\n"
			if tt.output != "" {
				out = recording(t, tt.output)
			}
			argsFile := recordedPing(t, out, tt.exit)
			r := run(t, tt.check, target)
			expect(t, r, tt.status, tt.msg...)
			if tt.hint != "" && !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", r.Hint, tt.hint)
			}
			for k, v := range tt.observed {
				if r.Observed[k] != v {
					t.Errorf("observed[%s] = %#v, want %#v", k, r.Observed[k], v)
				}
			}
			args, err := os.ReadFile(argsFile)
			if err != nil {
				t.Fatalf("the ping command was not run: %v", err)
			}
			if want := "-c 3 -i 0.2 -w 3 " + tt.check.Host + "\n"; string(args) != want {
				t.Errorf("ping was run with %q, want %q", args, want)
			}
			if !strings.Contains(r.Evidence, "$ ping -c 3") {
				t.Errorf("evidence lacks the command line: %s", r.Evidence)
			}
		})
	}
}

func TestPingWithoutAnyWay(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("PATH handling differs on Windows")
	}
	t.Setenv("PATH", t.TempDir())
	r := run(t, pingCheck(t, "127.0.0.1", nil), plainTarget{diag.NewLocal()})
	expect(t, r, diag.Error, "this machine has no ping command")
	if !strings.Contains(r.Hint, "net.ipv4.ping_group_range") {
		t.Errorf("hint %q does not say how to allow ping", r.Hint)
	}
}

func TestPingArgv(t *testing.T) {
	req := diag.PingRequest{Host: "192.0.2.1", Count: 5, Interval: 100 * time.Millisecond, Timeout: 2500 * time.Millisecond}
	tests := map[string]string{
		"linux":   "ping -c 5 -i 0.2 -w 3 192.0.2.1",
		"":        "ping -c 5 -i 0.2 -w 3 192.0.2.1",
		"darwin":  "ping -c 5 -i 0.2 -t 3 192.0.2.1",
		"freebsd": "ping -c 5 -i 1 -t 3 192.0.2.1",
		"openbsd": "ping -c 5 -i 1 192.0.2.1",
		"windows": "ping -n 2 -w 1250 192.0.2.1", // one a second: only two fit in 2.5s
	}
	for goos, want := range tests {
		if got := strings.Join(pingArgv(goos, req), " "); got != want {
			t.Errorf("%s: %s, want %s", goos, got, want)
		}
	}
	req.Interval = 1500 * time.Millisecond
	if got := strings.Join(pingArgv("linux", req), " "); got != "ping -c 5 -i 1.5 -w 3 192.0.2.1" {
		t.Errorf("fractional interval: %s", got)
	}
}

func TestPingValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Ping)
		field string
	}{
		{"empty host", func(c *Ping) { c.Host = "" }, "host"},
		{"host with port", func(c *Ping) { c.Host = "example.com:80" }, "host"},
		{"zero count", func(c *Ping) { c.Count = 0 }, "count"},
		{"negative count", func(c *Ping) { c.Count = -3 }, "count"},
		{"huge count", func(c *Ping) { c.Count = 100000 }, "count"},
		{"flood interval", func(c *Ping) { c.Interval = dur(time.Millisecond) }, "interval"},
		{"timeout too short for count", func(c *Ping) { c.Count, c.Interval = 10, dur(time.Second) }, "timeout"},
		{"warn_loss above max_loss", func(c *Ping) { c.WarnLoss, c.MaxLoss = 20, 10 }, "warn_loss"},
		{"max_rtt above fail_rtt", func(c *Ping) { c.MaxRTT, c.FailRTT = dur(time.Second), dur(time.Millisecond) }, "max_rtt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFieldError(t, pingCheck(t, "192.0.2.1", tt.edit).Validate(), tt.field)
		})
	}
}

// TestPingShellNotFound: a target whose shell answers exit 127 "not
// found" for ping has no ping command, as one that says
// ErrCommandNotFound.
func TestPingShellNotFound(t *testing.T) {
	target := &lossyRouter{machine: newMachine("linux"), shell127: true}
	r := run(t, pingCheck(t, "192.0.2.1", nil), target)
	expect(t, r, diag.Error, "cannot ping 192.0.2.1: this machine has no ping command")
	if !strings.Contains(r.Hint, "install a ping command") {
		t.Errorf("hint %q", r.Hint)
	}
}
