package syscheck

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/triage-dev/triage/diag"
)

func TestUptimeMatchesSysinfo(t *testing.T) {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	r := (&Uptime{}).Run(context.Background(), diag.NewLocal())
	checkResult(t, r, diag.Pass)
	if got := r.Observed["uptime_seconds"].(int64); got < int64(si.Uptime)-5 || got > int64(si.Uptime)+5 {
		t.Errorf("uptime_seconds = %d, sysinfo says %d", got, si.Uptime)
	}
}
