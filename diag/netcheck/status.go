package netcheck

import (
	"fmt"
	"strconv"
	"strings"
)

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

// defaultStatus is what a page that works answers, redirects included, the
// way a browser user would judge it.
var defaultStatus = []statusRange{{200, 399}}

// parseStatusSpec reads the status parameter: each item is a code (200),
// a class (2xx) or a range (200-399). Items are strings so that a list may
// mix them; YAML numbers arrive as their text.
func parseStatusSpec(items []string) ([]statusRange, error) {
	if len(items) == 0 {
		return defaultStatus, nil
	}
	out := make([]statusRange, 0, len(items))
	for i, item := range items {
		r, err := parseStatusItem(strings.TrimSpace(item))
		if err != nil {
			if len(items) == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("item %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseStatusItem(s string) (statusRange, error) {
	bad := fmt.Errorf("%q is not a status code (such as 200), class (2xx) or range (200-399)", s)
	code := func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || len(v) != 3 {
			return 0, bad
		}
		if n < 100 || n > 599 {
			return 0, fmt.Errorf("%d is outside the HTTP status codes (100 to 599)", n)
		}
		return n, nil
	}
	switch {
	case len(s) == 3 && strings.EqualFold(s[1:], "xx"):
		d := s[0]
		if d < '1' || d > '5' {
			return statusRange{}, fmt.Errorf("%q is not a status class (1xx to 5xx)", s)
		}
		lo := int(d-'0') * 100
		return statusRange{lo, lo + 99}, nil
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		lo, err := code(strings.TrimSpace(a))
		if err != nil {
			return statusRange{}, err
		}
		hi, err := code(strings.TrimSpace(b))
		if err != nil {
			return statusRange{}, err
		}
		if lo > hi {
			return statusRange{}, fmt.Errorf("range %q runs backwards (write the lower code first)", s)
		}
		return statusRange{lo, hi}, nil
	}
	n, err := code(s)
	if err != nil {
		return statusRange{}, err
	}
	return statusRange{n, n}, nil
}

func statusAllowed(spec []statusRange, code int) bool {
	for _, r := range spec {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// describeStatusSpec writes spec back the way an author would, for messages.
func describeStatusSpec(spec []statusRange) string {
	parts := make([]string, len(spec))
	for i, r := range spec {
		switch {
		case r.lo == r.hi:
			parts[i] = strconv.Itoa(r.lo)
		case r.lo%100 == 0 && r.hi == r.lo+99:
			parts[i] = strconv.Itoa(r.lo/100) + "xx"
		default:
			parts[i] = fmt.Sprintf("%d-%d", r.lo, r.hi)
		}
	}
	return strings.Join(parts, ", ")
}
