package syscheck

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

func TestParseUptime(t *testing.T) {
	for _, tc := range []struct {
		file string
		want time.Duration
	}{
		{"uptime/45-days.txt", 3888000*time.Second + 120*time.Millisecond},
		{"uptime/3-minutes.txt", 185*time.Second + 440*time.Millisecond},
	} {
		got, err := parseUptime([]byte(readTestdata(t, tc.file)))
		if err != nil || (got-tc.want).Abs() > time.Millisecond {
			t.Errorf("%s: %v, %v; want %v", tc.file, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "x 1", "-5 1", "NaN", "1e30 1"} {
		if _, err := parseUptime([]byte(bad)); err == nil {
			t.Errorf("parseUptime(%q) succeeded", bad)
		}
	}
}

func FuzzParseUptime(f *testing.F) {
	f.Add([]byte("620.30 1061.37\n"))
	f.Add([]byte("1e9"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if d, err := parseUptime(data); err == nil && d < 0 {
			t.Fatalf("negative uptime %v", d)
		}
	})
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                 "0 seconds",
		40 * time.Second:                  "40 seconds",
		61 * time.Second:                  "1 minute 1 second",
		3*time.Hour + 30*time.Minute:      "3 hours 30 minutes",
		45 * 24 * time.Hour:               "45 days",
		45*24*time.Hour + 2*time.Hour + 1: "45 days 2 hours",
		24*time.Hour + 5*time.Minute:      "1 day",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := formatDuration(diag.Duration(720 * time.Hour)); got != "720h" {
		t.Errorf("formatDuration(720h) = %q", got)
	}
	if got := formatDuration(diag.Duration(90 * time.Second)); got != "1m30s" {
		t.Errorf("formatDuration(90s) = %q", got)
	}
}

func TestUptimeValidate(t *testing.T) {
	h := func(n int) diag.Duration { return diag.Duration(time.Duration(n) * time.Hour) }
	for _, tc := range []struct {
		name string
		u    Uptime
		want []string
	}{
		{"none", Uptime{}, nil},
		{"all four", Uptime{WarnAbove: h(720), FailAbove: h(2160), WarnBelow: h(1), FailBelow: diag.Duration(10 * time.Minute)}, nil},
		{"warn above fail", Uptime{WarnAbove: h(100), FailAbove: h(50)}, []string{"warn_above"}},
		{"fail below warn", Uptime{WarnBelow: h(1), FailBelow: h(2)}, []string{"fail_below"}},
		{"ranges overlap", Uptime{WarnBelow: h(48), FailAbove: h(24)}, []string{"warn_below"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(tc.u.Validate()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fields = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUptimeKind(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	long := newFake().withFile(t, "/proc/uptime", "uptime/45-days.txt")
	short := newFake().withFile(t, "/proc/uptime", "uptime/3-minutes.txt")
	h := func(n int) diag.Duration { return diag.Duration(time.Duration(n) * time.Hour) }

	r := (&Uptime{now: clock}).Run(context.Background(), long)
	checkResult(t, r, diag.Pass)
	if r.Message != "up 45 days, since 2024-04-17 12:00 UTC" || r.Observed["uptime_seconds"] != int64(3888000) ||
		r.Observed["boot_time"] != "2024-04-17T12:00:00Z" {
		t.Errorf("message %q, observed %v", r.Message, r.Observed)
	}
	r = (&Uptime{WarnAbove: h(720), now: clock}).Run(context.Background(), long)
	checkResult(t, r, diag.Warn)
	if !strings.Contains(r.Message, "longer than the 720h warning") || !strings.Contains(r.Hint, "reboot") {
		t.Errorf("message %q, hint %q", r.Message, r.Hint)
	}
	checkResult(t, (&Uptime{WarnAbove: h(24), FailAbove: h(720), now: clock}).Run(context.Background(), long), diag.Fail)
	checkResult(t, (&Uptime{WarnAbove: h(24 * 90), now: clock}).Run(context.Background(), long), diag.Pass)

	r = (&Uptime{WarnBelow: h(1), now: clock}).Run(context.Background(), short)
	checkResult(t, r, diag.Warn)
	if !strings.Contains(r.Message, "rebooted recently") || !strings.Contains(r.Hint, "journalctl -b -1") {
		t.Errorf("message %q, hint %q", r.Message, r.Hint)
	}
	checkResult(t, (&Uptime{WarnBelow: h(1), FailBelow: diag.Duration(5 * time.Minute), now: clock}).Run(context.Background(), short), diag.Fail)
	checkResult(t, (&Uptime{WarnBelow: diag.Duration(time.Minute), now: clock}).Run(context.Background(), short), diag.Pass)

	checkResult(t, (&Uptime{}).Run(context.Background(), newFake()), diag.Error)
	mac := newFake()
	mac.facts.OS = "darwin"
	checkResult(t, (&Uptime{}).Run(context.Background(), mac), diag.Skip)
}
