package remote

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

var _ diag.Clock = (*Target)(nil)

// ClockOffset reads the target's clock with date and compares it with
// this machine's, at the middle of the round trip.
func (t *Target) ClockOffset(ctx context.Context) (time.Duration, time.Duration, error) {
	sent := time.Now()
	res, err := t.Run(ctx, diag.Command{Argv: []string{"date", "-u", "+%s.%N"}, MaxOutput: 256})
	received := sent.Add(time.Since(sent))
	if err != nil {
		return 0, 0, err
	}
	if res.ExitCode != 0 {
		return 0, 0, fmt.Errorf("date exited %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	remote, precision, err := parseEpoch(strings.TrimSpace(string(res.Stdout)))
	if err != nil {
		return 0, 0, err
	}
	rtt := received.Sub(sent)
	mid := sent.Add(rtt / 2)
	return remote.Sub(mid), rtt/2 + precision, nil
}

// parseEpoch reads "seconds.nanoseconds" from GNU date; BSD and BusyBox
// date print "%N" literally or nothing, leaving whole seconds.
func parseEpoch(s string) (time.Time, time.Duration, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("date printed %q, not seconds since 1970", s)
	}
	if ns, err := strconv.ParseInt(frac, 10, 64); err == nil && len(frac) == 9 {
		return time.Unix(secs, ns), 0, nil
	}
	return time.Unix(secs, 0), time.Second, nil
}
