package diag

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Range is a threshold in the range notation of the Monitoring Plugins
// guidelines, which monitoring people already read and write:
//
//	10      alert outside 0..10 (below 0 or above 10)
//	10:     alert below 10
//	~:10    alert above 10
//	10:20   alert outside 10..20
//	@10:20  alert inside 10..20
type Range struct {
	Start, End float64 // -Inf and +Inf where open
	Inside     bool    // the @ form: alert inside rather than outside
	raw        string
}

// ParseRange reads a range in the guidelines' notation.
func ParseRange(s string) (Range, error) {
	raw := strings.TrimSpace(s)
	r := Range{raw: raw, Start: 0, End: math.Inf(1)}
	body := raw
	if strings.HasPrefix(body, "@") {
		r.Inside, body = true, body[1:]
	}
	bad := func() (Range, error) {
		return Range{}, fmt.Errorf("invalid range %q (want 10, 10:, ~:10, 10:20 or @10:20)", s)
	}
	if body == "" {
		return bad()
	}
	start, end, hasColon := strings.Cut(body, ":")
	if !hasColon {
		start, end = "", body
	}
	if start == "" && end == "" {
		return bad()
	}
	switch start {
	case "":
	case "~":
		r.Start = math.Inf(-1)
	default:
		v, err := strconv.ParseFloat(start, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return bad()
		}
		r.Start = v
	}
	if end != "" {
		v, err := strconv.ParseFloat(end, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return bad()
		}
		r.End = v
	} else if !hasColon {
		return bad()
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("invalid range %q: the start is above the end", s)
	}
	return r, nil
}

// Alert reports whether v should raise an alert.
func (r Range) Alert(v float64) bool {
	in := v >= r.Start && v <= r.End
	if r.Inside {
		return in
	}
	return !in
}

func (r Range) String() string { return r.raw }

// Limits are a warning and a critical range for one observed value.
type Limits struct {
	Warn, Crit *Range
}

// applyLimits judges observed values against a check's limits: a value in
// alert against the critical range fails the check, against the warning
// range warns it. A check that could not run is left as it is.
func applyLimits(res Result, limits map[string]Limits) Result {
	if len(limits) == 0 || (res.Status != Pass && res.Status != Warn && res.Status != Fail) {
		return res
	}
	keys := make([]string, 0, len(limits))
	for k := range limits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var notes []string
	for _, k := range keys {
		l := limits[k]
		th := Threshold{}
		if l.Warn != nil {
			th.Warn = l.Warn.String()
		}
		if l.Crit != nil {
			th.Crit = l.Crit.String()
		}
		res = res.WithThreshold(k, th)
		v, ok := Number(res.Observed[k])
		if !ok {
			res.Status = Error
			res.Message = fmt.Sprintf("thresholds: this check observes no number %q (it observes %s)", k, strings.Join(numericKeys(res.Observed), ", "))
			res.Hint = "fix the name under thresholds: in the playbook"
			return res
		}
		switch {
		case l.Crit != nil && l.Crit.Alert(v):
			res.Status = Worst(res.Status, Fail)
			notes = append(notes, fmt.Sprintf("%s = %s is in alert against the critical range %s", k, formatNumber(v), l.Crit))
		case l.Warn != nil && l.Warn.Alert(v):
			res.Status = Worst(res.Status, Warn)
			notes = append(notes, fmt.Sprintf("%s = %s is in alert against the warning range %s", k, formatNumber(v), l.Warn))
		}
	}
	if len(notes) > 0 {
		res.Message += "; " + strings.Join(notes, "; ")
		if res.Hint == "" {
			res.Hint = "a value is outside the thresholds the playbook sets for it"
		}
	}
	return res
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func numericKeys(m map[string]any) []string {
	var out []string
	for k, v := range m {
		if _, ok := Number(v); ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"nothing numeric"}
	}
	return out
}

// Number reads a numeric observed value of any of the types kinds use.
func Number(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case int:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint:
		f = float64(n)
	case uint32:
		f = float64(n)
	case uint64:
		f = float64(n)
	case float32:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		// As read back from a saved report or journal with UseNumber.
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}
