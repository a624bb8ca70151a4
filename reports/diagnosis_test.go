package reports

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func res(id string, st diag.Status, needs ...string) Result {
	return Result{ID: id, Title: strings.ToUpper(id[:1]) + id[1:], Status: st, Message: id + " is " + string(st), Hint: "fix " + id, Needs: needs}
}

func blocked(id, by string, needs ...string) Result {
	r := res(id, diag.Skip, needs...)
	r.BlockedBy = by
	return r
}

func TestDiagnose(t *testing.T) {
	cases := []struct {
		name    string
		results []Result
		want    []Cause // only Check, Status and Explains are compared
	}{
		{"healthy", []Result{res("link", diag.Pass), res("names", diag.Pass, "link")}, nil},
		{"skips are not causes", []Result{res("win", diag.Skip)}, nil},
		{"one root and what it blocked", []Result{
			res("link", diag.Pass), res("names", diag.Fail, "link"),
			blocked("web", "names", "names"), blocked("clock", "names", "web"),
			res("memory", diag.Pass),
		}, []Cause{{Check: "names", Status: diag.Fail, Explains: []string{"web", "clock"}}}},
		{"a warning below explains a failure above", []Result{
			res("dns-servers", diag.Warn), res("names", diag.Fail, "dns-servers"), res("web", diag.Error, "names"),
		}, []Cause{{Check: "dns-servers", Status: diag.Warn, Explains: []string{"names", "web"}}}},
		{"a need that passed stops the walk", []Result{
			res("dns-servers", diag.Warn), res("internet", diag.Pass, "dns-servers"), res("https", diag.Fail, "internet"),
		}, []Cause{{Check: "https", Status: diag.Fail}, {Check: "dns-servers", Status: diag.Warn}}},
		{"ranked: fail, then error, then warn, each in playbook order", []Result{
			res("uptime", diag.Warn), res("probe", diag.Error), res("disk", diag.Fail), res("home", diag.Fail),
		}, []Cause{{Check: "disk", Status: diag.Fail}, {Check: "home", Status: diag.Fail}, {Check: "probe", Status: diag.Error}, {Check: "uptime", Status: diag.Warn}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := Host{Target: "local", Results: c.results}
			var got []Cause
			for _, g := range diagnoseHost(&h) {
				got = append(got, Cause{Check: g.Check, Status: g.Status, Explains: g.Explains})
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestDiagnoseSentence(t *testing.T) {
	h := Host{Results: []Result{{ID: "names", Title: "Internet names", Status: diag.Fail, Message: "example.com does not exist (NXDOMAIN)", Hint: "restart the router"}}}
	d := diagnoseHost(&h)
	if len(d) != 1 || d[0].Summary != "Internet names - example.com does not exist (NXDOMAIN)" || d[0].Hint != "restart the router" || d[0].Title != "Internet names" {
		t.Errorf("got %+v", d)
	}
	h.Results[0].Status = diag.Error
	if d := diagnoseHost(&h); !strings.Contains(d[0].Summary, "could not be checked") {
		t.Errorf("an error's sentence must say it could not be checked: %q", d[0].Summary)
	}
}

// TestCauseGroups: a sweep groups hosts by their top cause, most hosts
// first; hosts that could not be checked group by why.
func TestCauseGroups(t *testing.T) {
	dnsDown := func(target string) Host {
		return Host{Target: target, Results: []Result{res("router", diag.Pass), res("dns-servers", diag.Fail, "router"), blocked("names", "dns-servers", "dns-servers")}}
	}
	r := &Report{Schema: Schema, Hosts: []Host{
		{Target: "full", Results: []Result{res("disk", diag.Fail)}},
		dnsDown("a"), dnsDown("b"),
		{Target: "ok", Results: []Result{res("disk", diag.Pass)}},
		{Target: "gone", Error: "connection timed out", ErrorKind: "timeout"},
	}}
	r.Finish(t0)
	var got []string
	for _, g := range r.Causes {
		got = append(got, g.Check+g.ErrorKind+":"+strings.Join(g.Hosts, ","))
	}
	want := []string{"dns-servers:a,b", "disk:full", "timeout:gone"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cause groups = %v, want %v", got, want)
	}
	if r.Summary.Status != diag.Error || r.Summary.Blocked != 2 || r.Summary.Skip != 0 {
		t.Errorf("summary %+v: blocked checks are counted apart and raise nothing", r.Summary)
	}
}

// TestBlockedNeverRaisesTheVerdict: the doctor run of issue 17, where the
// one fault's consequences used to make the verdict error, exit 3.
func TestBlockedNeverRaisesTheVerdict(t *testing.T) {
	r := &Report{Schema: Schema, Hosts: []Host{{Target: "local", Results: []Result{
		res("network", diag.Pass), res("internet-names", diag.Fail, "network"),
		blocked("https", "internet-names", "internet-names"), blocked("clock", "internet-names", "internet-names"),
	}}}}
	r.Finish(t0)
	if r.Summary.Status != diag.Fail || r.Hosts[0].Status != diag.Fail {
		t.Errorf("verdict %s, host %s; want fail: the cause decides, not what it blocked", r.Summary.Status, r.Hosts[0].Status)
	}
	if d := r.Hosts[0].Diagnosis; len(d) != 1 || d[0].Check != "internet-names" {
		t.Errorf("diagnosis %+v, want internet-names alone", d)
	}
}

// TestReadComputesDiagnosis: a report saved before reports had a
// diagnosis gets one when read, so render leads with it.
func TestReadComputesDiagnosis(t *testing.T) {
	r := singleHost()
	for i := range r.Hosts {
		r.Hosts[i].Diagnosis = nil
	}
	r.Causes = nil
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"diagnosis"`) {
		t.Fatal("the old-style report still has a diagnosis")
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Hosts[0].Diagnosis; len(d) == 0 || d[0].Check != "vpn-port" {
		t.Errorf("diagnosis after Read = %+v, want vpn-port first", d)
	}
}
