package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func withThresholds() *Report {
	r := singleHost()
	r.Hosts[0].Results[0].Thresholds = map[string]diag.Threshold{"used_percent": {Warn: "85", Crit: "95"}, "free_bytes": {Crit: "1073741824:"}}
	r.Hosts[0].Results[1].Observed["latency_ms"] = 12.5
	r.Hosts[0].Results[1].Message = "connection refused | not | perfdata"
	r.Diagnose()
	return r
}

func TestNagiosGolden(t *testing.T) {
	for name, rep := range map[string]*Report{"single": singleHost(), "sweep": sweep(), "thresholds": withThresholds()} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderNagios(&buf, rep, Options{}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "out_"+name+".nagios")
			if *update {
				os.WriteFile(golden, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./reports -update creates it)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("%s differs:\n--- got\n%s--- want\n%s", golden, buf.String(), want)
			}
			checkPluginOutput(t, buf.String())
		})
	}
}

// perfDatum is the guidelines' grammar for one performance datum:
// 'label'=value[UOM];[warn];[crit];[min];[max], trailing fields optional.
var perfDatum = regexp.MustCompile(`^('[^'=]+'|[^'= ]+)=(-?[0-9]+(?:\.[0-9]+)?)(us|ms|s|%|B|KB|MB|TB|c)?(?:;([0-9.:~@-]*))?(?:;([0-9.:~@-]*))?(?:;(-?[0-9.]*))?(?:;(-?[0-9.]*))?$`)

// checkPluginOutput parses plugin output back: the status line, each
// performance datum against the grammar, unique labels, and no stray pipe
// in the long output.
func checkPluginOutput(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	head, perf, _ := strings.Cut(lines[0], " | ")
	if !regexp.MustCompile(`^TRIAGE (OK|WARNING|CRITICAL|UNKNOWN) - .+$`).MatchString(head) {
		t.Errorf("status line %q", head)
	}
	if i := strings.Index(head, " - "); len([]rune(head[i+3:])) > maxSummary {
		t.Errorf("summary longer than %d characters: %q", maxSummary, head)
	}
	labels := map[string]bool{}
	for _, d := range splitPerf(perf) {
		m := perfDatum.FindStringSubmatch(d)
		if m == nil {
			t.Errorf("performance datum %q does not match the grammar", d)
			continue
		}
		if labels[m[1]] {
			t.Errorf("label %s appears twice", m[1])
		}
		labels[m[1]] = true
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, "|") {
			t.Errorf("long output line has a pipe, which starts performance data: %q", l)
		}
	}
}

// splitPerf splits on spaces outside quoted labels.
func splitPerf(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func TestNagiosStates(t *testing.T) {
	for st, want := range map[diag.Status]string{diag.Pass: "OK", diag.Warn: "WARNING", diag.Fail: "CRITICAL", diag.Error: "UNKNOWN"} {
		r := &Report{Hosts: []Host{{Target: "h", Results: []Result{{ID: "c", Status: st, Message: "m"}}}}}
		r.Finish(t0)
		var buf bytes.Buffer
		renderNagios(&buf, r, Options{})
		if !strings.HasPrefix(buf.String(), "TRIAGE "+want+" - ") {
			t.Errorf("%s: %q", st, buf.String())
		}
	}
	// A long list of failures is cut for the dashboard.
	r := &Report{Hosts: []Host{{Target: "h"}}}
	for i := 0; i < 80; i++ {
		r.Hosts[0].Results = append(r.Hosts[0].Results, Result{ID: fmt.Sprintf("check-number-%d", i), Status: diag.Fail})
	}
	r.Finish(t0)
	var buf bytes.Buffer
	renderNagios(&buf, r, Options{})
	checkPluginOutput(t, buf.String())
	if !strings.Contains(strings.SplitN(buf.String(), "\n", 2)[0], "80 critical: check-number-0, ") {
		t.Errorf("summary: %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
}

func TestPerfLabel(t *testing.T) {
	for in, want := range map[string]string{"disk_used": "disk_used", "web 1/disk": "'web 1/disk'", "it's=x": "its_x"} {
		if got := perfLabel(in); got != want {
			t.Errorf("perfLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
