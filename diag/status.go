package diag

import (
	"fmt"
)

// Status is the verdict of one check.
//
// Error means "could not check" (the probe itself failed: a command was
// missing, the check timed out, it was cancelled) and is never the same as
// Fail, which means "checked, and it is broken".
type Status string

const (
	Pass  Status = "pass"
	Warn  Status = "warn"
	Fail  Status = "fail"
	Error Status = "error"
	Skip  Status = "skip"
)

// Statuses lists every status, from best to worst.
var Statuses = []Status{Pass, Skip, Warn, Fail, Error}

// Rank orders statuses for "worst of": the ranks match the Nagios-style
// exit codes of DESIGN §5 (pass and skip 0, warn 1, fail 2, error 3), so the
// worst status of a run is also the one that decides its exit code.
func (s Status) Rank() int {
	switch s {
	case Warn:
		return 1
	case Fail:
		return 2
	case Error:
		return 3
	}
	return 0
}

// Worst returns the worse of a and b. Between pass and skip, pass wins, so
// that a host with passes and skips reads as pass; callers that summarise
// a host or a run turn a lone skip into pass themselves.
func Worst(a, b Status) Status {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	if b.Rank() > a.Rank() || (a == Skip && b == Pass) {
		return b
	}
	return a
}

// Valid reports whether s is one of the five statuses.
func (s Status) Valid() bool {
	switch s {
	case Pass, Warn, Fail, Error, Skip:
		return true
	}
	return false
}

// UnmarshalText rejects unknown statuses so a damaged report is caught when read.
func (s *Status) UnmarshalText(b []byte) error {
	v := Status(b)
	if !v.Valid() {
		return fmt.Errorf("unknown status %q (want pass, warn, fail, error or skip)", b)
	}
	*s = v
	return nil
}

// Severity says how much a failing check matters. It caps the status a
// failure reports: a failed "warning" check reports warn, a failed or
// warning "info" check reports pass (its message still says what was seen).
// Error is never capped: "could not check" is always shown as such.
type Severity string

const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Cap lowers s to what severity allows.
func (sev Severity) Cap(s Status) Status {
	switch sev {
	case Warning:
		if s == Fail {
			return Warn
		}
	case Info:
		if s == Fail || s == Warn {
			return Pass
		}
	}
	return s
}

// ParseSeverity accepts the three severities of a playbook.
func ParseSeverity(s string) (Severity, error) {
	switch v := Severity(s); v {
	case Critical, Warning, Info:
		return v, nil
	}
	return "", fmt.Errorf("unknown severity %q (want critical, warning or info)", s)
}
