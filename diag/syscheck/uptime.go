package syscheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "uptime",
		Summary: "Checks how long the system has been up: too long without a restart, or restarted recently.",
		New:     func() diag.Checker { return &Uptime{} },
	})
}

// Uptime checks the time since boot. Both directions matter: a machine up
// for months runs a kernel older than the one installed, and a machine up
// for minutes may have crashed and restarted without anyone asking.
type Uptime struct {
	WarnAbove diag.Duration `yaml:"warn_above" doc:"warn when up longer than this, such as 720h (30 days): a reboot is due"`
	FailAbove diag.Duration `yaml:"fail_above" doc:"fail when up longer than this, such as 2160h (90 days)"`
	WarnBelow diag.Duration `yaml:"warn_below" doc:"warn when up for less than this, such as 1h: the machine rebooted recently"`
	FailBelow diag.Duration `yaml:"fail_below" doc:"fail when up for less than this, such as 10m"`

	now func() time.Time // the clock for boot_time; nil means time.Now
}

func (u *Uptime) Validate() error {
	var errs []error
	if u.WarnAbove > 0 && u.FailAbove > 0 && u.WarnAbove > u.FailAbove {
		errs = append(errs, diag.FieldErrorf("warn_above", "%s is above fail_above (%s): warn_above must be the shorter time", formatDuration(u.WarnAbove), formatDuration(u.FailAbove)))
	}
	if u.WarnBelow > 0 && u.FailBelow > 0 && u.FailBelow > u.WarnBelow {
		errs = append(errs, diag.FieldErrorf("fail_below", "%s is above warn_below (%s): fail_below must be the shorter time", formatDuration(u.FailBelow), formatDuration(u.WarnBelow)))
	}
	below, above := max(u.WarnBelow, u.FailBelow), u.WarnAbove
	if above == 0 || (u.FailAbove > 0 && u.FailAbove < above) {
		above = u.FailAbove
	}
	if below > 0 && above > 0 && below >= above {
		errs = append(errs, diag.FieldErrorf("warn_below", "the *_below times (up to %s) must be shorter than the *_above times (from %s), or every uptime is a problem", formatDuration(below), formatDuration(above)))
	}
	return errors.Join(errs...)
}

const uptimePath = "/proc/uptime"

func (u *Uptime) Run(ctx context.Context, t diag.Target) diag.Result {
	// macOS and Windows have no /proc/uptime: the local target asks the
	// system itself.
	if ur, ok := t.(diag.UptimeReader); ok {
		up, err := ur.Uptime(ctx)
		switch {
		case err == nil:
			return u.judgeOn(up, false)
		case !errors.Is(err, diag.ErrUnsupported):
			return diag.Resultf(diag.Error, "cannot read the uptime of %s: %v", t.Name(), err).
				WithHint("the system would not say when it started; the message says why")
		}
	}
	if r, skip := onlyOn(ctx, t, "the uptime", "it reads /proc/uptime, which only Linux has", "linux"); skip {
		return r
	}
	data, err := readTargetFile(ctx, t, uptimePath, maxProcFile)
	if err != nil {
		return readFailed(ctx, t, uptimePath, err)
	}
	up, err := parseUptime(data)
	if err != nil {
		return parseError(uptimePath, err, data)
	}
	return u.judge(up)
}

func (u *Uptime) judge(up time.Duration) diag.Result { return u.judgeOn(up, true) }

// judgeOn judges an uptime; linux says whether the Linux tools the hints
// name apply.
func (u *Uptime) judgeOn(up time.Duration, linux bool) diag.Result {
	now := time.Now
	if u.now != nil {
		now = u.now
	}
	// The boot time is worked out on this machine's clock: over SSH it is
	// as right as the two clocks agree.
	boot := now().Add(-up).UTC().Round(time.Second)
	r := diag.Result{}.
		With("uptime_seconds", int64(up.Seconds())).
		With("boot_time", boot.Format(time.RFC3339))
	summary := fmt.Sprintf("up %s, since %s", humanDuration(up), boot.Format("2006-01-02 15:04 MST"))

	type limit struct {
		d      diag.Duration
		status diag.Status
		above  bool
		word   string
	}
	for _, l := range []limit{
		{u.FailAbove, diag.Fail, true, "limit"}, {u.WarnAbove, diag.Warn, true, "warning"},
		{u.FailBelow, diag.Fail, false, "limit"}, {u.WarnBelow, diag.Warn, false, "warning"},
	} {
		if l.d <= 0 {
			continue
		}
		if l.above && up > l.d.D() {
			r.Status = l.status
			r.Message = fmt.Sprintf("%s: longer than the %s %s", summary, formatDuration(l.d), l.word)
			r.Hint = "the machine has not restarted for " + humanDuration(up) + ": kernel and library updates installed since then take effect only after a reboot; plan one (needrestart or /var/run/reboot-required tell whether one is pending)"
			if !linux {
				r.Hint = "the computer has not restarted for " + humanDuration(up) + ": updates installed since then take effect only after a restart, and a restart clears programs that have slowed down; save your work and restart it"
			}
			return r
		}
		if !l.above && up < l.d.D() {
			r.Status = l.status
			r.Message = fmt.Sprintf("%s: less than the %s %s, so it rebooted recently", summary, formatDuration(l.d), l.word)
			r.Hint = "if nobody planned this reboot, find out why: journalctl --list-boots, last -x reboot, and the end of the previous boot's log (journalctl -b -1 -e) for a crash, power loss or out-of-memory"
			if !linux {
				r.Hint = "if nobody restarted the computer on purpose, it may have crashed or lost power: tell the help desk when it happened"
			}
			return r
		}
	}
	r.Status, r.Message = diag.Pass, summary
	return r
}

// parseUptime reads /proc/uptime: seconds since boot, then the idle time
// summed over CPUs, both with two decimals ("620.30 1061.37").
func parseUptime(data []byte) (time.Duration, error) {
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, errors.New("empty")
	}
	s, err := strconv.ParseFloat(f[0], 64)
	// A century of uptime is not plausible; it also keeps the conversion
	// to a Duration from overflowing.
	if err != nil || math.IsNaN(s) || s < 0 || s > 100*365*24*3600 {
		return 0, fmt.Errorf("uptime %q is not a number of seconds", f[0])
	}
	return time.Duration(s * float64(time.Second)), nil
}
