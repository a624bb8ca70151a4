package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// roundTrip saves and reads a report, as diff and merge see them.
func roundTrip(t *testing.T, r *Report) *Report {
	t.Helper()
	var buf bytes.Buffer
	if err := renderJSON(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	out, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDiff(t *testing.T) {
	old := singleHost()
	old.Hosts[0].Results = append(old.Hosts[0].Results,
		Result{ID: "openssl", Kind: "package", Title: "OpenSSL current", Status: diag.Pass, Message: "openssl 3.0.11 installed",
			Observed: map[string]any{"name": "openssl", "version": "3.0.11", "installed": true}},
		Result{ID: "gone", Kind: "file", Title: "Old check", Status: diag.Pass, Message: "there"})
	cur := singleHost()
	cur.Started = cur.Started.Add(24 * time.Hour)
	res := cur.Hosts[0].Results
	res[0].Status, res[0].Message = diag.Fail, "/ is 99% full" // pass -> fail: worse
	res[0].Observed["used_percent"] = 99.0                     // a measurement: not a changed value
	res[1].Status = diag.Pass                                  // fail -> pass: better
	res[2].Observed = map[string]any{"free_bytes": 1}          // warn -> warn, only a measurement changed
	cur.Hosts[0].Results = append(res,
		Result{ID: "openssl", Kind: "package", Title: "OpenSSL current", Status: diag.Pass, Message: "openssl 3.0.13 installed",
			Observed: map[string]any{"name": "openssl", "version": "3.0.13", "installed": true}},
		Result{ID: "new-fail", Kind: "file", Title: "New check", Status: diag.Fail, Message: "broken"},
		Result{ID: "new-pass", Kind: "file", Title: "New passing check", Status: diag.Pass, Message: "fine"})
	cur.Hosts[0].Target = "alice@10.2.3.4:22" // one host each: compared whatever the target
	cur.Finish(cur.Started.Add(time.Second))

	d := Diff(roundTrip(t, old), roundTrip(t, cur))
	ids := func(list []Change) string {
		var out []string
		for _, c := range list {
			out = append(out, c.Check)
		}
		return strings.Join(out, ",")
	}
	if got := ids(d.Worse); got != "disk-root,new-fail" {
		t.Errorf("worse = %s", got)
	}
	if got := ids(d.Better); got != "vpn-port" {
		t.Errorf("better = %s", got)
	}
	if got := ids(d.Changed); got != "openssl" {
		t.Errorf("changed = %s", got)
	}
	if got := ids(d.Added); got != "new-pass" {
		t.Errorf("added = %s", got)
	}
	if got := ids(d.Removed); got != "gone" {
		t.Errorf("removed = %s", got)
	}
	if !d.GotWorse {
		t.Error("GotWorse is false")
	}
	if v := d.Changed[0].Values; len(v) != 1 || v[0].Key != "version" || string(v[0].From) != `"3.0.11"` || string(v[0].To) != `"3.0.13"` {
		t.Errorf("openssl's changed values: %+v", v)
	}
	var text bytes.Buffer
	if err := d.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"new problems (2):", "disk-root  pass → fail", "version: \"3.0.11\" → \"3.0.13\"", "verdict: worse, 2 new problems"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text diff lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := d.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["schema"] != DiffSchema || back["got_worse"] != true {
		t.Errorf("JSON diff: %v %v", err, back)
	}
}

func TestDiffNothingWorse(t *testing.T) {
	d := Diff(roundTrip(t, sweep()), roundTrip(t, sweep()))
	if d.GotWorse || len(d.Better)+len(d.Changed)+len(d.Added)+len(d.Removed) != 0 {
		t.Errorf("a report compared with itself: %+v", d)
	}
	var text bytes.Buffer
	d.WriteText(&text)
	if !strings.Contains(text.String(), "verdict: no change") {
		t.Errorf("text: %s", text.String())
	}
	var js bytes.Buffer
	d.WriteJSON(&js)
	if !strings.Contains(js.String(), `"worse": []`) {
		t.Errorf("an empty list is not [] in JSON: %s", js.String())
	}
}

func TestDiffHosts(t *testing.T) {
	old, cur := sweep(), sweep()
	// bob becomes unreachable: worse, once, for the host.
	cur.Hosts[1] = Host{Target: "bob@10.2.3.5:22", Error: "connection refused"}
	// carol can be checked again: better.
	cur.Hosts[2] = Host{Target: "carol@10.2.3.6:22", Results: []Result{{ID: "disk-root", Status: diag.Pass}}}
	// dave is new and failing: worse.
	cur.Hosts = append(cur.Hosts, Host{Target: "dave@10.2.3.7:22", Results: []Result{{ID: "x", Status: diag.Fail}}})
	cur.Finish(cur.Finished)
	d := Diff(roundTrip(t, old), roundTrip(t, cur))
	if len(d.Worse) != 2 || d.Worse[0].Host != "bob@10.2.3.5:22" || d.Worse[0].Check != "" || d.Worse[1].Host != "dave@10.2.3.7:22" {
		t.Errorf("worse: %+v", d.Worse)
	}
	if len(d.Better) != 1 || d.Better[0].Host != "carol@10.2.3.6:22" || d.Better[0].From != diag.Error {
		t.Errorf("better: %+v", d.Better)
	}
}

func TestMerge(t *testing.T) {
	a, b := sweep(), sweep()
	a.Hosts = a.Hosts[:2]
	b.Hosts = b.Hosts[2:]
	b.Started = b.Started.Add(-time.Minute)
	b.Finished = b.Finished.Add(time.Hour)
	b.Redactions = map[string]int{"password": 2}
	a.Redactions = map[string]int{"password": 1, "jwt": 1}
	m, err := Merge([]*Report{roundTrip(t, a), roundTrip(t, b)})
	if err != nil {
		t.Fatal(err)
	}
	whole := sweep()
	if m.Summary != whole.Summary {
		t.Errorf("merged summary %+v, want %+v", m.Summary, whole.Summary)
	}
	if len(m.Hosts) != 3 || m.Hosts[2].Target != "carol@10.2.3.6:22" {
		t.Errorf("hosts: %v", m.Hosts)
	}
	if !m.Started.Equal(b.Started) || !m.Finished.Equal(b.Finished) {
		t.Errorf("merged span %v..%v", m.Started, m.Finished)
	}
	if m.Redactions["password"] != 3 || m.Redactions["jwt"] != 1 {
		t.Errorf("redactions %v", m.Redactions)
	}

	other := sweep()
	other.Playbooks[0].SHA256 = "0000"
	anon := sweep()
	anon.Anonymized = map[string]int{"ip": 1}
	ticket := sweep()
	ticket.Hosts = ticket.Hosts[2:]
	ticket.Ticket = "INC-9"
	a.Ticket = "INC-1"
	for name, list := range map[string][]*Report{
		"other playbook": {a, other}, "same host": {a, a}, "anonymized": {anon}, "tickets": {a, ticket}, "none": nil,
	} {
		if _, err := Merge(list); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: %v, want ErrMismatch", name, err)
		}
	}
}

func TestReadRejectsTrailingData(t *testing.T) {
	var buf bytes.Buffer
	renderJSON(&buf, singleHost(), Options{})
	two := buf.String() + buf.String()
	if _, err := Read(strings.NewReader(two)); !errors.Is(err, ErrInvalid) {
		t.Errorf("two reports in one file: %v", err)
	}
	if _, err := Read(strings.NewReader(buf.String() + "\n\n")); err != nil {
		t.Errorf("trailing whitespace: %v", err)
	}
}
