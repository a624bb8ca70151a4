package diag

import (
	"context"
	"strings"
	"testing"
)

// The examples of the Monitoring Plugins development guidelines, "Threshold
// and ranges": which values generate an alert.
func TestRangeGuidelineExamples(t *testing.T) {
	cases := []struct {
		spec    string
		alert   []float64
		noAlert []float64
	}{
		{"10", []float64{-1, 10.5, 11}, []float64{0, 5, 10}},
		{"10:", []float64{-1, 9.9}, []float64{10, 11, 1e9}},
		{"~:10", []float64{10.1, 11}, []float64{-1e9, 0, 10}},
		{"10:20", []float64{9, 21}, []float64{10, 15, 20}},
		{"@10:20", []float64{10, 15, 20}, []float64{9, 21}},
		{"-5:5", []float64{-6, 6}, []float64{-5, 0, 5}},
		{"0.5:1.5", []float64{0.4, 1.6}, []float64{0.5, 1.5}},
	}
	for _, c := range cases {
		r, err := ParseRange(c.spec)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", c.spec, err)
			continue
		}
		for _, v := range c.alert {
			if !r.Alert(v) {
				t.Errorf("%s: %v should alert", c.spec, v)
			}
		}
		for _, v := range c.noAlert {
			if r.Alert(v) {
				t.Errorf("%s: %v should not alert", c.spec, v)
			}
		}
		if r.String() != c.spec {
			t.Errorf("String() = %q, want %q", r.String(), c.spec)
		}
	}
	for _, bad := range []string{"", "@", ":", "abc", "10:x", "20:10", "~", "1:2:3", "NaN", "@~:inf"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10", "10:", "~:10", "10:20", "@10:20", "-1.5:2e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err == nil && r.Start > r.End {
			t.Errorf("%q: start above end accepted", s)
		}
	})
}

type observe map[string]any

func (o observe) Run(context.Context, Target) Result {
	return Result{Status: Pass, Message: "measured", Observed: o}
}

func TestLimitsInRunner(t *testing.T) {
	crit, _ := ParseRange("90")
	warn, _ := ParseRange("80")
	below, _ := ParseRange("1000:")
	limits := map[string]Limits{"used_percent": {Warn: &warn, Crit: &crit}}
	run := func(o observe, l map[string]Limits) Result {
		return (&Runner{}).Run(context.Background(), NewLocal(), []Check{{ID: "c", Checker: o, Limits: l}})[0]
	}
	if r := run(observe{"used_percent": 50.0}, limits); r.Status != Pass || r.Thresholds["used_percent"] != (Threshold{"80", "90"}) {
		t.Errorf("within limits: %s %v", r.Status, r.Thresholds)
	}
	if r := run(observe{"used_percent": 85}, limits); r.Status != Warn || !strings.Contains(r.Message, "warning range 80") {
		t.Errorf("warning: %s %q", r.Status, r.Message)
	}
	if r := run(observe{"used_percent": uint64(95)}, limits); r.Status != Fail || !strings.Contains(r.Message, "critical range 90") {
		t.Errorf("critical: %s %q", r.Status, r.Message)
	}
	if r := run(observe{"free_bytes": uint64(10)}, map[string]Limits{"free_bytes": {Crit: &below}}); r.Status != Fail {
		t.Errorf("below a lower bound: %s %q", r.Status, r.Message)
	}
	if r := run(observe{"used_percent": 1.0}, map[string]Limits{"usedpercent": {Crit: &crit}}); r.Status != Error || !strings.Contains(r.Message, "observes no number \"usedpercent\" (it observes used_percent)") {
		t.Errorf("unknown value: %s %q", r.Status, r.Message)
	}
}
