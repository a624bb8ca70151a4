package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag"
)

// watchT0 is the fixed clock of the synthetic watches: rounds every 10 s.
var watchT0 = time.Date(2025, 3, 4, 14, 0, 0, 0, time.UTC)

const watchEvery = 10 * time.Second

// synthRound is one round of a synthetic watch: a status letter per check
// (router, dns), and the router's loss.
type synthRound struct {
	router, dns byte
	loss        float64
}

func synthHost(r synthRound) Host {
	st := func(b byte) diag.Status { return LetterStatus(b) }
	router := Result{ID: "router", Kind: "ping", Title: "Router", Status: st(r.router), Message: "lost pings",
		Observed: map[string]any{"loss_percent": r.loss}, Hint: "check the cable"}
	dns := Result{ID: "dns", Kind: "dns", Title: "Name resolution", Status: st(r.dns), Message: "timed out",
		Observed: map[string]any{"latency_ms": 3.0}, Needs: []string{"router"}}
	if r.dns == 'b' {
		dns.Status, dns.BlockedBy, dns.Message = diag.Skip, "router", "blocked"
	}
	return Host{Target: "local", Results: []Result{router, dns}}
}

// writeSynth writes rounds to a journal and reads it back.
func writeSynth(t *testing.T, rounds []synthRound, events map[int]JournalEvent) *Journal {
	t.Helper()
	path := filepath.Join(t.TempDir(), "watch.jsonl")
	w, err := CreateJournal(path, JournalHeader{Tool: Tool{Name: "triage", Version: "test"}, Started: watchT0, Target: "local",
		Playbooks: []PlaybookRef{{Name: "synthetic"}}, EveryMS: watchEvery.Milliseconds()})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rounds {
		if e, ok := events[i]; ok {
			if err := w.Event(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Round(watchT0.Add(time.Duration(i)*watchEvery), 50*time.Millisecond, synthHost(r), diag.Facts{Hostname: "vm"}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j, err := ReadJournal(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Notes) > 0 {
		t.Errorf("notes reading a whole journal: %v", j.Notes)
	}
	if got := j.Rounds(); got != len(rounds) {
		t.Errorf("read back %d rounds, wrote %d", got, len(rounds))
	}
	return j
}

// rounds parses "ppffp" (router) and "pppfp" (dns) into rounds, the loss
// 40% where the router is not passing.
func rounds(router, dns string) []synthRound {
	out := make([]synthRound, len(router))
	for i := range router {
		out[i] = synthRound{router: router[i], dns: dns[i]}
		if router[i] != 'p' {
			out[i].loss = 40 + float64(i)
		}
	}
	return out
}

func at(i int) time.Time { return watchT0.Add(time.Duration(i) * watchEvery) }

func TestEpisodes(t *testing.T) {
	type ep struct {
		check      string
		start, end int // round numbers
		rounds     int
		ongoing    bool
	}
	tests := []struct {
		name        string
		router, dns string
		want        []ep
		causes      []string // the diagnosis summaries, in order (substrings)
		explains    string   // the first cause's explained checks
	}{
		{name: "all pass", router: "ppppp", dns: "ppppp"},
		{name: "one episode", router: "pfffpp", dns: "pppppp",
			want:   []ep{{"router", 1, 4, 3, false}},
			causes: []string{"Router - lost pings once, 14:00:10–14:00:40 (30s); worst 43% loss"}},
		{name: "two episodes, the longest named", router: "pfppffffpp", dns: "pppppppppp",
			want:   []ep{{"router", 1, 2, 1, false}, {"router", 4, 8, 4, false}},
			causes: []string{"lost pings in 2 episodes, the longest 14:00:40–14:01:20 (40s); worst 47% loss"}},
		{name: "ongoing at the end", router: "ppfff", dns: "ppppp",
			want:   []ep{{"router", 2, 4, 3, true}},
			causes: []string{"still so at the end of the watch"}},
		{name: "dns only while the router", router: "pffppffp", dns: "ppfpppfp",
			want: []ep{{"router", 1, 3, 2, false}, {"router", 5, 7, 2, false},
				{"dns", 2, 3, 1, false}, {"dns", 6, 7, 1, false}},
			causes:   []string{"Router - lost pings in 2 episodes", "Name resolution had problems only while this was happening"},
			explains: "dns"},
		{name: "dns on its own too", router: "pffpppp", dns: "pffppfp",
			want:   []ep{{"router", 1, 3, 2, false}, {"dns", 1, 3, 2, false}, {"dns", 5, 6, 1, false}},
			causes: []string{"Router - lost pings once", "Name resolution - failed in 2 episodes"}},
		{name: "a warning", router: "pwwp", dns: "pppp",
			want:   []ep{{"router", 1, 3, 2, false}},
			causes: []string{"Router - warned once"}},
		{name: "blocked is no episode", router: "pffp", dns: "pbbp",
			want:   []ep{{"router", 1, 3, 2, false}},
			causes: []string{"Router - lost pings once"}},
		{name: "long and folded", router: "p" + strings.Repeat("f", 200) + strings.Repeat("p", 300), dns: strings.Repeat("p", 501),
			want:   []ep{{"router", 1, 201, 200, false}},
			causes: []string{"lost pings once, 14:00:10–14:33:30 (33m20s); worst 240% loss"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := writeSynth(t, rounds(tt.router, tt.dns), nil)
			got := j.Episodes()
			if len(got) != len(tt.want) {
				t.Fatalf("%d episodes, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Check != w.check || !g.Start.Equal(at(w.start)) || !g.End.Equal(at(w.end)) || g.Rounds != w.rounds || g.Ongoing != w.ongoing {
					t.Errorf("episode %d: %s %s–%s rounds %d ongoing %v, want %s %s–%s rounds %d ongoing %v", i,
						g.Check, g.Start.Format("15:04:05"), g.End.Format("15:04:05"), g.Rounds, g.Ongoing,
						w.check, at(w.start).Format("15:04:05"), at(w.end).Format("15:04:05"), w.rounds, w.ongoing)
				}
			}
			rep := j.WatchReport(nil)
			diagnosis := rep.Hosts[0].Diagnosis
			var summaries []string
			for _, c := range diagnosis {
				summaries = append(summaries, c.Summary)
			}
			all := strings.Join(summaries, "\n")
			for _, want := range tt.causes {
				if !strings.Contains(all, want) {
					t.Errorf("the diagnosis does not say %q:\n%s", want, all)
				}
			}
			if tt.explains != "" && (len(diagnosis) == 0 || strings.Join(diagnosis[0].Explains, ",") != tt.explains) {
				t.Errorf("the first cause explains %v, want %s", diagnosis, tt.explains)
			}
			if len(tt.want) > 0 && rep.Summary.Status == diag.Pass {
				t.Errorf("a watch with episodes reports pass")
			}
		})
	}
}

func TestEpisodesConnectionLost(t *testing.T) {
	rs := rounds("pppp", "pppp")
	events := map[int]JournalEvent{
		2: {Time: at(1).Add(2 * time.Second), Event: EventDisconnected, Error: "EOF"},
	}
	j := writeSynth(t, rs, events)
	// The reconnection is recorded after the disconnection, before round 2.
	j.Events = append(j.Events, JournalEvent{Time: at(2).Add(-time.Second), Event: EventConnected})
	eps := j.Episodes()
	if len(eps) != 1 || eps[0].Check != ConnectionCheck || eps[0].Message != "EOF" {
		t.Fatalf("episodes %+v, want the connection lost once", eps)
	}
	rep := j.WatchReport(nil)
	if c := rep.Hosts[0].Diagnosis; len(c) == 0 || !strings.Contains(c[0].Summary, "SSH connection to local - lost once") {
		t.Errorf("diagnosis %+v", c)
	}
	if tl := rep.Hosts[0].Timeline; tl == nil || len(tl.Gaps) != 1 {
		t.Errorf("timeline gaps: %+v", tl)
	}
}

func TestTimeline(t *testing.T) {
	j := writeSynth(t, rounds("ppffpp", "pppppp"), nil)
	tl := j.Timeline()
	if tl == nil || len(tl.Checks) != 2 {
		t.Fatalf("timeline %+v", tl)
	}
	if got := tl.Checks[0].Statuses; got != "ppffpp" {
		t.Errorf("router statuses %q, want ppffpp", got)
	}
	if v := tl.Checks[0].Values[2]; v == nil || *v != 42 {
		t.Errorf("router value in column 2: %v, want 42", v)
	}
	// A long watch is drawn into a bounded number of columns.
	long := writeSynth(t, rounds(strings.Repeat("pf", 400), strings.Repeat("p", 800)), nil).Timeline()
	if n := len(long.Checks[0].Statuses); n != timelineColumns {
		t.Errorf("%d columns for 800 rounds, want %d", n, timelineColumns)
	}
	if !strings.Contains(long.Checks[0].Statuses, "f") {
		t.Errorf("the failures vanished from the long timeline")
	}
}

func TestWatchReportRenders(t *testing.T) {
	j := writeSynth(t, rounds("pffppffp", "ppfpppfp"), nil)
	rep := j.WatchReport(nil)
	for _, format := range Formats() {
		r, _ := Lookup(format)
		var buf bytes.Buffer
		if err := r.Render(&buf, rep, Options{}); err != nil {
			t.Errorf("%s: %v", format, err)
		}
		if format == "text" || format == "markdown" || format == "html" {
			if !strings.Contains(buf.String(), "lost pings in 2 episodes") {
				t.Errorf("%s does not lead with the episodes:\n%s", format, buf.String())
			}
		}
	}
	// The JSON report of a watch reads back with its episodes.
	var buf bytes.Buffer
	r, _ := Lookup("json")
	r.Render(&buf, rep, Options{})
	back, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Hosts[0].Episodes) != 4 || back.Hosts[0].Timeline == nil {
		t.Errorf("read back %d episodes and timeline %v", len(back.Hosts[0].Episodes), back.Hosts[0].Timeline)
	}
}
