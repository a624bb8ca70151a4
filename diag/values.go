package diag

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The value types below are the typed parameters of check kinds. Each
// parses itself from the text a playbook author writes, so that a bad value
// is a load-time error with a position, and formats itself back the same way.

// Duration is a Go-style duration such as "3s" or "250ms", which may also
// start with a number of days ("30d", "1d12h"): uptimes and certificate
// lives are counted in days. It must be positive.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	v, err := parseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return fmt.Errorf("duration %q has no unit: write %ss or %sms", s, s, s)
		}
		return fmt.Errorf("invalid duration %q (want a number and a unit, such as 3s, 250ms, 1m30s or 30d)", s)
	}
	if v <= 0 {
		return fmt.Errorf("duration %q must be positive", s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// parseDuration is time.ParseDuration with a leading "Nd" for days.
func parseDuration(s string) (time.Duration, error) {
	i := strings.IndexByte(s, 'd')
	if i <= 0 {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseUint(s[:i], 10, 16)
	if err != nil {
		return time.ParseDuration(s)
	}
	total := time.Duration(days) * 24 * time.Hour
	if rest := s[i+1:]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		total += r
	}
	return total, nil
}

// Percent is a share from 0 to 100, written "90%" or "90".
type Percent float64

func (p *Percent) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(v) {
		return fmt.Errorf("invalid percentage %q (want a number from 0 to 100, such as 90%% or 12.5)", s)
	}
	if v < 0 || v > 100 {
		return fmt.Errorf("percentage %q is out of range (want 0 to 100)", s)
	}
	*p = Percent(v)
	return nil
}

func (p Percent) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(p), 'f', -1, 64) + "%"), nil
}

// Size is a number of bytes, written with an optional unit: "5GiB",
// "500MB", "1.5G" (binary, as df -h counts) or a plain number of bytes.
type Size uint64

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	// Longest suffixes first, so "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"P", 1 << 50},
	{"B", 1},
}

func (sz *Size) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	num, mult := s, 1.0
	for _, u := range sizeUnits {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			// Case matters for the i of KiB only in spirit; accept "gib" too.
			num, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("invalid size %q (want a number and a unit, such as 5GiB, 500MB or 1024)", s)
	}
	if v < 0 {
		return fmt.Errorf("size %q must not be negative", s)
	}
	total := v * mult
	if total >= math.MaxUint64 {
		return fmt.Errorf("size %q is too large", s)
	}
	*sz = Size(total)
	return nil
}

func (sz Size) MarshalText() ([]byte, error) { return []byte(FormatBytes(uint64(sz))), nil }

// FormatBytes writes n in binary units, the way a person reads disk sizes:
// 0B, 512B, 1.5KiB, 20GiB.
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + "B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v >= unit-0.05 && exp < 4 {
		// 1023.96KiB would print as 1024KiB: say 1MiB.
		v /= unit
		exp++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + string("KMGTP"[exp]) + "iB"
}
