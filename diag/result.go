package diag

import (
	"context"
	"fmt"
	"time"
)

// Result is the verdict of one check. A Checker fills Status, Message,
// Observed, Hint and Evidence; the runner adds the rest.
type Result struct {
	ID    string
	Kind  string
	Title string

	Status Status
	// Message is one sentence saying what was observed.
	Message string
	// Observed holds the measured values, under the stable snake_case
	// names of DESIGN §6 (address, latency_ms, used_percent...).
	Observed map[string]any
	// Hint says what to try next; empty on pass.
	Hint string
	// CheckHint is the kind's own hint when the playbook's hint took its
	// place: the playbook speaks to its reader (an end user, in doctor),
	// the kind to whoever fixes the cause ("add dns to the hosts line of
	// /etc/nsswitch.conf"), and the report keeps both.
	CheckHint string
	// Evidence is raw output that supports the verdict, capped in size.
	Evidence string
	// Files are what a check collected for a support bundle (a log's tail,
	// a configuration file, a command's output). Reports never show them;
	// the bundle holds them, after redaction.
	Files []Attachment
	// Thresholds are the limits an observed value was judged against,
	// by observed key, for monitoring systems that graph them.
	Thresholds map[string]Threshold

	Severity Severity
	Duration time.Duration

	// Needs are the ids of the checks this one depends on (the playbook's
	// needs:), as planned.
	Needs []string
	// BlockedBy is the id of the check at the root of the problem that
	// kept this one from running, or that its own trouble is put down to
	// (see Attribute). Status is then Skip.
	BlockedBy string
	// Upstream, set by a kind, names what the check relied on when it
	// could not check: a name that did not resolve, a proxy that did not
	// answer. Attribute links it to the check that examines that thing.
	Upstream *Prerequisite
	// OtherPlatform marks a skip because the check is for another
	// operating system or distribution (its when: does not match).
	OtherPlatform bool
}

// Attachment is one file a check collected.
type Attachment struct {
	// Name is a file name without folders, unique within the check.
	Name string
	Data []byte
	// Truncated says that Data is only part of what there was (the cap
	// was reached), so a reader does not take it for the whole file.
	Truncated bool
}

// Resultf returns a result with the given status and a formatted message.
func Resultf(s Status, format string, a ...any) Result {
	return Result{Status: s, Message: fmt.Sprintf(format, a...)}
}

// WithHint returns r with its hint set.
func (r Result) WithHint(format string, a ...any) Result {
	r.Hint = fmt.Sprintf(format, a...)
	return r
}

// With returns r with observed[key] set.
func (r Result) With(key string, value any) Result {
	if r.Observed == nil {
		r.Observed = map[string]any{}
	}
	r.Observed[key] = value
	return r
}

// Fixed returns a Checker that reports r without looking at the target:
// a skipped check, or one whose parameters could not be bound.
func Fixed(r Result) Checker { return fixed(r) }

type fixed Result

func (f fixed) Run(context.Context, Target) Result { return Result(f) }

// Milliseconds turns a duration into the float milliseconds used in
// observed values, rounded to microseconds so reports stay readable.
func Milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// Threshold is a warning and a critical limit in the range notation of
// the Monitoring Plugins guidelines: "85" alerts above 85, "10:" below 10,
// "" means no limit.
type Threshold struct {
	Warn string `json:"warn,omitempty"`
	Crit string `json:"crit,omitempty"`
}

// WithThreshold returns r with the limits of an observed value recorded.
func (r Result) WithThreshold(key string, t Threshold) Result {
	if t.Warn == "" && t.Crit == "" {
		return r
	}
	if r.Thresholds == nil {
		r.Thresholds = map[string]Threshold{}
	}
	r.Thresholds[key] = t
	return r
}
