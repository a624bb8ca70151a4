package syscheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

// Caps on what the kinds read from a target. /proc files are small; the
// caps only stop a broken or hostile target from feeding us without end.
const (
	maxProcFile  = 256 << 10 // meminfo, loadavg, uptime, cpu lists
	maxTableFile = 4 << 20   // mount tables, passwd, group, cpuinfo on large machines
)

// onlyOn returns a skip result when the target's platform is known and is
// not one of oses: the kind reads files or runs programs that exist only
// there, and a skip that says so is more honest than an error about a
// missing /proc file. how says where the kind gets its figures. When the
// facts cannot be had, the check goes ahead and reports what actually fails.
func onlyOn(ctx context.Context, t diag.Target, what, how string, oses ...string) (diag.Result, bool) {
	f, err := t.Facts(ctx)
	if err != nil || f.OS == "" {
		return diag.Result{}, false
	}
	for _, os := range oses {
		if f.OS == os {
			return diag.Result{}, false
		}
	}
	return diag.Resultf(diag.Skip, "triage cannot check %s on %s yet: %s", what, f.OS, how).
		WithHint("use a command check with the platform's own tool instead"), true
}

// readTargetFile reads a whole file that a kind needs, reporting a
// truncated read as an error: half a mount table or meminfo is not data.
func readTargetFile(ctx context.Context, t diag.Target, path string, limit int64) ([]byte, error) {
	data, truncated, err := t.ReadFile(ctx, path, limit)
	if err != nil {
		return nil, err
	}
	if truncated {
		return nil, fmt.Errorf("%s is larger than %s", path, diag.FormatBytes(uint64(limit)))
	}
	return data, nil
}

// readFailed reports a file a kind could not read: the check could not be
// made, which is an error and never a fail.
func readFailed(ctx context.Context, t diag.Target, path string, err error) diag.Result {
	if diag.IsContextErr(err) || ctx.Err() != nil {
		return diag.Resultf(diag.Error, "stopped before %s could be read: %v", path, err).
			WithHint("the check ran out of time; raise its timeout")
	}
	r := diag.Resultf(diag.Error, "cannot read %s on %s: %v", path, t.Name(), err)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r.WithHint("the target has no %s; it may not be Linux, or /proc is not mounted (some containers)", path)
	case errors.Is(err, fs.ErrPermission):
		return r.WithHint("triage runs as a user who may not read %s; run it as a user who can", path)
	}
	return r.WithHint("the target could not read %s; see the message for why", path)
}

// parseError reports a file whose content the kind did not understand.
func parseError(path string, err error, data []byte) diag.Result {
	r := diag.Resultf(diag.Error, "cannot understand %s: %v", path, err).
		WithHint("the target's %s is not in the Linux format triage knows; please report this with the evidence", path)
	r.Evidence = string(data)
	return r
}

// humanDuration writes a duration the way uptime(1) does, at most two units:
// "3 days 4 hours", "5 minutes", "40 seconds".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	units := []struct {
		name string
		size time.Duration
	}{
		{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second},
	}
	var parts []string
	for i, u := range units {
		n := d / u.size
		if n == 0 {
			continue
		}
		parts = append(parts, plural(int64(n), u.name))
		if i+1 < len(units) {
			next := units[i+1]
			if m := (d % u.size) / next.size; m > 0 {
				parts = append(parts, plural(int64(m), next.name))
			}
		}
		break
	}
	if len(parts) == 0 {
		return "0 seconds"
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// formatDuration writes a playbook duration back in its author's style.
func formatDuration(d diag.Duration) string {
	b, _ := d.MarshalText()
	s := string(b)
	// time.Duration prints 720h0m0s; drop the zero tails an author would not write.
	for _, zero := range []string{"0s", "0m"} {
		if strings.HasSuffix(s, zero) && len(s) > len(zero) && s[len(s)-len(zero)-1] >= 'a' {
			s = strings.TrimSuffix(s, zero)
		}
	}
	return s
}
