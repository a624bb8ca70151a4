package diag_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestWorstAllPairs(t *testing.T) {
	P, S, W, F, E := diag.Pass, diag.Skip, diag.Warn, diag.Fail, diag.Error
	statuses := []diag.Status{P, S, W, F, E}
	// want[i][j] is Worst(statuses[i], statuses[j]).
	want := [][]diag.Status{
		{P, P, W, F, E}, // pass
		{P, S, W, F, E}, // skip
		{W, W, W, F, E}, // warn
		{F, F, F, F, E}, // fail
		{E, E, E, E, E}, // error
	}
	for i, a := range statuses {
		for j, b := range statuses {
			if got := diag.Worst(a, b); got != want[i][j] {
				t.Errorf("Worst(%s, %s) = %s, want %s", a, b, got, want[i][j])
			}
		}
		// "" is the start of a fold: no status yet.
		if got := diag.Worst("", a); got != a {
			t.Errorf(`Worst("", %s) = %s`, a, got)
		}
		if got := diag.Worst(a, ""); got != a {
			t.Errorf(`Worst(%s, "") = %s`, a, got)
		}
	}
	if got := diag.Worst("", ""); got != "" {
		t.Errorf(`Worst("", "") = %q`, got)
	}
}

// TestWorstFoldOrder checks that the worst of a run does not depend on
// the order its results arrive in.
func TestWorstFoldOrder(t *testing.T) {
	all := diag.Statuses
	for _, a := range all {
		for _, b := range all {
			for _, c := range all {
				left := diag.Worst(diag.Worst(a, b), c)
				right := diag.Worst(a, diag.Worst(b, c))
				rev := diag.Worst(diag.Worst(c, b), a)
				if left != right || left != rev {
					t.Errorf("%s %s %s: folds give %s, %s, %s", a, b, c, left, right, rev)
				}
			}
		}
	}
}

func TestRank(t *testing.T) {
	tests := []struct {
		s    diag.Status
		want int
	}{
		{diag.Pass, 0}, {diag.Skip, 0}, {diag.Warn, 1}, {diag.Fail, 2}, {diag.Error, 3},
		{"", 0}, {"bogus", 0},
	}
	for _, tc := range tests {
		if got := tc.s.Rank(); got != tc.want {
			t.Errorf("%q.Rank() = %d, want %d", tc.s, got, tc.want)
		}
	}
	// Statuses runs from best to worst: ranks never go down along it.
	for i := 1; i < len(diag.Statuses); i++ {
		if diag.Statuses[i].Rank() < diag.Statuses[i-1].Rank() {
			t.Errorf("Statuses: %s ranks below %s", diag.Statuses[i], diag.Statuses[i-1])
		}
	}
	if len(diag.Statuses) != 5 {
		t.Errorf("Statuses = %v, want the five statuses", diag.Statuses)
	}
}

func TestSeverityCap(t *testing.T) {
	P, S, W, F, E := diag.Pass, diag.Skip, diag.Warn, diag.Fail, diag.Error
	in := []diag.Status{P, S, W, F, E}
	tests := []struct {
		sev  diag.Severity
		want []diag.Status // Cap of each of in
	}{
		{diag.Critical, []diag.Status{P, S, W, F, E}},
		{"", []diag.Status{P, S, W, F, E}},
		{diag.Warning, []diag.Status{P, S, W, W, E}},
		{diag.Info, []diag.Status{P, S, P, P, E}},
	}
	for _, tc := range tests {
		for i, s := range in {
			if got := tc.sev.Cap(s); got != tc.want[i] {
				t.Errorf("Severity(%q).Cap(%s) = %s, want %s", tc.sev, s, got, tc.want[i])
			}
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for _, s := range []string{"critical", "warning", "info"} {
		if got, err := diag.ParseSeverity(s); err != nil || string(got) != s {
			t.Errorf("ParseSeverity(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Critical", "warn", "fatal", " info"} {
		got, err := diag.ParseSeverity(s)
		if err == nil || got != "" {
			t.Errorf("ParseSeverity(%q) = %q, %v; want an error", s, got, err)
			continue
		}
		if want := "unknown severity " + strconv.Quote(s) + " (want critical, warning or info)"; err.Error() != want {
			t.Errorf("ParseSeverity(%q) error %q, want %q", s, err, want)
		}
	}
}

func TestStatusUnmarshalText(t *testing.T) {
	for _, s := range diag.Statuses {
		var got diag.Status
		if err := got.UnmarshalText([]byte(s)); err != nil || got != s {
			t.Errorf("UnmarshalText(%q) = %q, %v", s, got, err)
		}
		if !s.Valid() {
			t.Errorf("%s.Valid() = false", s)
		}
	}
	for _, s := range []string{"", "PASS", "ok", "passed", "pass "} {
		got := diag.Warn
		err := got.UnmarshalText([]byte(s))
		if err == nil {
			t.Errorf("UnmarshalText(%q) accepted it as %q", s, got)
			continue
		}
		if got != diag.Warn {
			t.Errorf("UnmarshalText(%q) changed the status to %q on error", s, got)
		}
		if !strings.Contains(err.Error(), "unknown status") || !strings.Contains(err.Error(), "want pass, warn, fail, error or skip") {
			t.Errorf("UnmarshalText(%q) error = %v", s, err)
		}
		if diag.Status(s).Valid() {
			t.Errorf("%q.Valid() = true", s)
		}
	}

	// Reports are read back through encoding/json, which uses UnmarshalText.
	var r struct{ Status diag.Status }
	if err := json.Unmarshal([]byte(`{"Status":"fail"}`), &r); err != nil || r.Status != diag.Fail {
		t.Errorf("json: %q, %v", r.Status, err)
	}
	if err := json.Unmarshal([]byte(`{"Status":"broken"}`), &r); err == nil {
		t.Error("json accepted an unknown status")
	}
}
