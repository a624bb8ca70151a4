//go:build linux

package faultlab

import (
	"context"
	"fmt"
	"time"
)

// Faults that come and go (triage watch): a schedule switches a fault on
// and off and records when it did, for a test to compare with the
// episodes triage found.

// Schedule is a fault switched on Offset after the start and every Period
// after that, and off again Down later, Cycles times.
type Schedule struct {
	Offset, Period, Down time.Duration
	Cycles               int
}

// Switch is one change a schedule made: At is when the switch had taken
// effect (the call that made it returned).
type Switch struct {
	On bool
	At time.Time
}

// Stretch is one bad stretch of a schedule: from the fault's switch on to
// its switch off.
type Stretch struct{ On, Off time.Time }

// Stretches pairs a schedule's switches.
func Stretches(sw []Switch) []Stretch {
	var out []Stretch
	for i, s := range sw {
		if s.On && i+1 < len(sw) && !sw[i+1].On {
			out = append(out, Stretch{On: s.At, Off: sw[i+1].At})
		}
	}
	return out
}

// Run switches the fault with on and off as the schedule says, counting
// from start, until its cycles are done or ctx ends (the fault is then
// switched off if it was on). It returns the switches it made.
func (s Schedule) Run(ctx context.Context, start time.Time, on, off func() error) ([]Switch, error) {
	var sw []Switch
	wait := func(until time.Time) bool {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for k := 0; k < s.Cycles; k++ {
		at := start.Add(s.Offset + time.Duration(k)*s.Period)
		if !wait(at) {
			break
		}
		if err := on(); err != nil {
			return sw, fmt.Errorf("switch the fault on: %w", err)
		}
		sw = append(sw, Switch{On: true, At: time.Now()})
		ok := wait(at.Add(s.Down))
		if err := off(); err != nil {
			return sw, fmt.Errorf("switch the fault off: %w", err)
		}
		sw = append(sw, Switch{On: false, At: time.Now()})
		if !ok {
			break
		}
	}
	return sw, ctx.Err()
}

// DropFromUser makes the router drop everything the user's machine sends
// it or through it: the gateway is dead, the lab's internet and DNS out of
// reach. The SSH relay does not cross the router, so a connection to the
// user's sshd survives it.
func (l *Lab) DropFromUser() error {
	return l.Nft(`table inet faultlab {
	chain input {
		type filter hook input priority 0;
		iifname "` + RouterUserIface + `" drop
	}
	chain forward {
		type filter hook forward priority 0;
		iifname "` + RouterUserIface + `" drop
	}
}
`)
}

// ClearRouter removes every nftables rule from the router.
func (l *Lab) ClearRouter() error {
	return runIn(l.Router, "", "nft", "flush", "ruleset")
}

// CutSSH closes every connection through the SSH relay at the TCP level,
// as a network that drops the session would; the relay keeps accepting
// new ones. Stop sshd first (StopSSHD) to keep them from succeeding.
func (l *Lab) CutSSH() {
	r := l.relay
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
}
