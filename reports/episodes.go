package reports

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

// A watch's result is episodes, not rounds: for each check, the stretches
// during which it found a problem, with when they began and ended, how
// many rounds they lasted and the worst value seen; and which checks'
// episodes coincide. They are computed once, here, from a journal, and go
// into the report model (Host.Episodes, Host.Timeline) and its diagnosis,
// so every renderer shows them without computing anything.

// ConnectionCheck is the id episodes use for a lost SSH connection.
const ConnectionCheck = "connection"

// Episode is one bad stretch of one check.
type Episode struct {
	Check    string `json:"check"`
	Playbook string `json:"playbook,omitempty"`
	Title    string `json:"title"`
	// Start is when the first round that found the problem started; End,
	// when the first round that found it gone started (or, while Ongoing,
	// the last round that still found it).
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Ongoing bool      `json:"ongoing,omitempty"`
	Rounds  int       `json:"rounds"`
	// Status is the worst status of its rounds.
	Status diag.Status `json:"status"`
	// Value names the observed value Worst is of (loss_percent...).
	Value string   `json:"value,omitempty"`
	Worst *float64 `json:"worst,omitempty"`
	// Message is what the first round of the episode observed.
	Message string `json:"message,omitempty"`
	// During lists the other checks that had an episode at the same time
	// (within one interval).
	During []string `json:"during,omitempty"`
}

// Duration is how long the episode lasted as far as the rounds can tell.
func (e Episode) Duration() time.Duration { return e.End.Sub(e.Start) }

// Timeline is a watch drawn to a fixed number of columns: per check, the
// worst status and the highest value in each column of time.
type Timeline struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Rounds int       `json:"rounds"`
	// Every is the interval between rounds, in milliseconds.
	EveryMS int64         `json:"every_ms"`
	Checks  []TimelineRow `json:"checks"`
	// Gaps are the stretches with no rounds: the connection was lost.
	Gaps []TimelineGap `json:"gaps,omitempty"`
}

// TimelineRow is one check's line of a timeline. Statuses has a letter
// per column: p(ass) w(arn) f(ail) e(rror) s(kip), "." for no round.
type TimelineRow struct {
	Check    string     `json:"check"`
	Playbook string     `json:"playbook,omitempty"`
	Title    string     `json:"title"`
	Value    string     `json:"value,omitempty"`
	Statuses string     `json:"statuses"`
	Values   []*float64 `json:"values,omitempty"`
}

// TimelineGap is a stretch without rounds.
type TimelineGap struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason,omitempty"`
}

// timelineColumns is how many columns a timeline has at most.
const timelineColumns = 240

var statusLetter = map[diag.Status]byte{diag.Pass: 'p', diag.Warn: 'w', diag.Fail: 'f', diag.Error: 'e', diag.Skip: 's'}

// LetterStatus is the status a timeline letter stands for ("" for none).
func LetterStatus(b byte) diag.Status {
	for s, l := range statusLetter {
		if l == b {
			return s
		}
	}
	return ""
}

// worse reports whether value a is worse than b for a value named key.
func worse(key string, a, b float64) bool {
	if lowerIsWorse[key] {
		return a < b
	}
	return a > b
}

// worstOf is the worse end of a span's range for a value named key.
func worstOf(key string, min, max *float64) *float64 {
	if lowerIsWorse[key] {
		return min
	}
	return max
}

// Episodes finds every check's episodes in a journal, in the order of the
// checks, the lost connection first.
func (j *Journal) Episodes() []Episode {
	var out []Episode
	out = append(out, j.connectionEpisodes()...)
	type state struct {
		check JournalCheck
		cur   *Episode
		eps   []Episode
	}
	states := map[string]*state{}
	var order []string
	var lastTime time.Time
	for _, sp := range j.Spans {
		lastTime = sp.Last
		for i, c := range sp.Checks {
			st := states[c.key()]
			if st == nil {
				st = &state{}
				states[c.key()] = st
				order = append(order, c.key())
			}
			st.check = c
			res := sp.Results[i]
			bad := isProblem(res.Status) && res.BlockedBy == ""
			if !bad {
				if st.cur != nil {
					st.cur.End = sp.First
					st.eps = append(st.eps, *st.cur)
					st.cur = nil
				}
				continue
			}
			if st.cur == nil {
				st.cur = &Episode{Check: c.ID, Playbook: c.Playbook, Title: c.Title, Start: sp.First, Value: c.Value, Message: res.Message}
			}
			e := st.cur
			e.Rounds += sp.Rounds
			e.End = sp.Last
			e.Status = diag.Worst(e.Status, res.Status)
			if w := worstOf(c.Value, sp.Min[i], sp.Max[i]); w != nil && (e.Worst == nil || worse(c.Value, *w, *e.Worst)) {
				v := *w
				e.Worst = &v
			}
		}
	}
	for _, k := range order {
		st := states[k]
		if st.cur != nil {
			st.cur.Ongoing = true
			if st.cur.End.IsZero() {
				st.cur.End = lastTime
			}
			st.eps = append(st.eps, *st.cur)
		}
		out = append(out, st.eps...)
	}
	markCoincidences(out, j.Header.Every())
	return out
}

// connectionEpisodes are the stretches between a lost connection and the
// next one made.
func (j *Journal) connectionEpisodes() []Episode {
	var out []Episode
	var cur *Episode
	for _, e := range j.Events {
		switch e.Event {
		case EventDisconnected:
			if cur == nil {
				cur = &Episode{Check: ConnectionCheck, Title: "SSH connection to " + j.Header.Target, Start: e.Time, End: e.Time, Status: diag.Error, Message: e.Error}
			}
			cur.Rounds++
		case EventConnected, EventStopped:
			if cur != nil {
				cur.End = e.Time
				cur.Ongoing = e.Event == EventStopped
				out = append(out, *cur)
				cur = nil
			}
		}
	}
	if cur != nil {
		cur.Ongoing = true
		out = append(out, *cur)
	}
	return out
}

func episodeKey(e Episode) string { return e.Playbook + "\x00" + e.Check }

// overlaps reports whether two episodes share time, give or take one
// interval (rounds see a change up to one interval late).
func overlaps(a, b Episode, slack time.Duration) bool {
	return a.Start.Before(b.End.Add(slack)) && b.Start.Before(a.End.Add(slack)) ||
		a.Start.Equal(b.Start)
}

// markCoincidences fills each episode's During. Within one check the
// episodes are in time order and apart, so every pair of checks is one
// merge-like pass: a day of a flapping check stays cheap.
func markCoincidences(eps []Episode, every time.Duration) {
	var keys []string
	byKey := map[string][]int{}
	for i := range eps {
		eps[i].During = nil
		k := episodeKey(eps[i])
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	for _, ka := range keys {
		for _, kb := range keys {
			if ka == kb {
				continue
			}
			a, b := byKey[ka], byKey[kb]
			k := 0
			for _, ia := range a {
				ea := eps[ia]
				for k < len(b) && !overlaps(ea, eps[b[k]], every) && !eps[b[k]].End.Add(every).After(ea.Start) {
					k++
				}
				if k < len(b) && overlaps(ea, eps[b[k]], every) {
					eps[ia].During = append(eps[ia].During, eps[b[k]].Check)
				}
			}
		}
	}
}

// episodeGroup is one check's episodes.
type episodeGroup struct {
	key, check, playbook, title, value string
	status                             diag.Status
	eps                                []Episode
}

func groupEpisodes(eps []Episode) []*episodeGroup {
	var out []*episodeGroup
	index := map[string]*episodeGroup{}
	for _, e := range eps {
		g := index[episodeKey(e)]
		if g == nil {
			g = &episodeGroup{key: episodeKey(e), check: e.Check, playbook: e.Playbook, title: e.Title, value: e.Value}
			index[g.key] = g
			out = append(out, g)
		}
		g.status = diag.Worst(g.status, e.Status)
		g.eps = append(g.eps, e)
	}
	return out
}

// onlyDuring reports whether every episode of a fell within an episode
// of b, give or take one interval at either end: a's trouble came only
// while b's was there.
func onlyDuring(a, b *episodeGroup, slack time.Duration) bool {
	for _, ea := range a.eps {
		if !slices.Contains(ea.During, b.check) {
			return false
		}
		// b's episodes are in time order: the one to look at is the last
		// that started by the time ea did.
		k := sort.Search(len(b.eps), func(i int) bool { return b.eps[i].Start.After(ea.Start.Add(slack)) }) - 1
		if k < 0 || ea.End.After(b.eps[k].End.Add(slack)) {
			return false
		}
	}
	return true
}

// EpisodeCauses turns episodes into the diagnosis of a watch: one cause
// per check that had episodes, except checks whose every episode fell
// while a check earlier in the list (a lower layer, or the connection)
// had one too. Those are consequences: the earlier check's cause explains
// them, and says so in a sentence.
func EpisodeCauses(eps []Episode, every time.Duration, hints map[string]string) []Cause {
	groups := groupEpisodes(eps)
	explainedBy := map[*episodeGroup]*episodeGroup{}
	for i, a := range groups {
		for _, b := range groups[:i] {
			if explainedBy[b] == nil && onlyDuring(a, b, every) {
				explainedBy[a] = b
				break
			}
		}
	}
	var out []Cause
	for _, g := range groups {
		if explainedBy[g] != nil {
			continue
		}
		c := Cause{Check: g.check, Title: g.title, Playbook: g.playbook, Status: g.status, Hint: hints[g.key]}
		c.Summary = g.title + " - " + EpisodeSentence(g.eps)
		var also []string
		for _, a := range groups {
			if explainedBy[a] == g {
				c.Explains = append(c.Explains, a.check)
				also = append(also, a.title)
			}
		}
		if len(also) > 0 {
			c.Summary += fmt.Sprintf("; %s had problems only while this was happening", joinAnd(also))
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if (out[a].Check == ConnectionCheck) != (out[b].Check == ConnectionCheck) {
			return out[a].Check == ConnectionCheck
		}
		return causeRank(out[a].Status) < causeRank(out[b].Status)
	})
	return out
}

// EpisodeSentence says what one check's episodes were: "lost pings in 3
// episodes, the longest 14:02:10–14:09:40 (7m30s); worst 40% loss".
func EpisodeSentence(eps []Episode) string {
	if len(eps) == 0 {
		return ""
	}
	longest := eps[0]
	var worst *float64
	status := diag.Status("")
	ongoing := false
	for _, e := range eps {
		if e.Duration() > longest.Duration() {
			longest = e
		}
		if e.Worst != nil && (worst == nil || worse(e.Value, *e.Worst, *worst)) {
			worst = e.Worst
		}
		status = diag.Worst(status, e.Status)
		ongoing = ongoing || e.Ongoing
	}
	day := sameDay(eps)
	var b strings.Builder
	b.WriteString(problemPhrase(eps[0], status))
	if len(eps) == 1 {
		fmt.Fprintf(&b, " once, %s", spanPhrase(longest, day))
	} else {
		fmt.Fprintf(&b, " in %d episodes, the longest %s", len(eps), spanPhrase(longest, day))
	}
	if worst != nil {
		fmt.Fprintf(&b, "; worst %s", ValuePhrase(eps[0].Value, *worst))
	}
	if ongoing {
		b.WriteString("; still so at the end of the watch")
	}
	return b.String()
}

// problemPhrase is what a check's episodes were, in words for its kind
// where the value says it.
func problemPhrase(e Episode, s diag.Status) string {
	switch {
	case e.Check == ConnectionCheck:
		return "lost"
	case s == diag.Warn:
		return "warned"
	case s == diag.Error:
		return "could not be checked"
	case e.Value == "loss_percent":
		return "lost pings"
	case e.Value == "used_percent":
		return "ran short of space"
	}
	return "failed"
}

func spanPhrase(e Episode, sameDay bool) string {
	layout := "15:04:05"
	if !sameDay {
		layout = "Jan 2 15:04:05"
	}
	if !e.End.After(e.Start) {
		return "at " + e.Start.Format(layout)
	}
	return fmt.Sprintf("%s–%s (%s)", e.Start.Format(layout), e.End.Format(layout), e.Duration().Round(time.Second))
}

func sameDay(eps []Episode) bool {
	y, m, d := eps[0].Start.Date()
	for _, e := range eps {
		for _, t := range []time.Time{e.Start, e.End} {
			if y2, m2, d2 := t.Date(); y2 != y || m2 != m || d2 != d {
				return false
			}
		}
	}
	return true
}

// ValuePhrase writes a followed value with its unit: "40% loss", "312 ms".
func ValuePhrase(key string, v float64) string {
	num := strconv.FormatFloat(v, 'f', -1, 64)
	if v >= 10 || v <= -10 {
		num = strconv.FormatFloat(v, 'f', 0, 64)
	} else if v != float64(int64(v)) {
		num = strconv.FormatFloat(v, 'f', 1, 64)
	}
	switch {
	case key == "loss_percent":
		return num + "% loss"
	case strings.HasSuffix(key, "_percent"):
		return num + "% " + strings.ReplaceAll(strings.TrimSuffix(key, "_percent"), "_", " ")
	case strings.HasSuffix(key, "_ms"):
		return num + " ms"
	case key == "tls_days_left":
		return num + " days left"
	}
	return num + " " + strings.ReplaceAll(key, "_", " ")
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// Timeline draws the journal's rounds into at most timelineColumns columns.
func (j *Journal) Timeline() *Timeline {
	if len(j.Spans) == 0 {
		return nil
	}
	tl := &Timeline{Start: j.Spans[0].First, EveryMS: j.Header.EveryMS, Rounds: j.Rounds()}
	last := j.Spans[len(j.Spans)-1]
	tl.End = last.Last.Add(max(j.Header.Every(), time.Second))
	total := tl.End.Sub(tl.Start)
	cols := timelineColumns
	if every := j.Header.Every(); every > 0 {
		cols = min(cols, max(1, int((total+every-1)/every)))
	}
	col := func(t time.Time) int {
		c := int(float64(t.Sub(tl.Start)) / float64(total) * float64(cols))
		return min(max(c, 0), cols-1)
	}
	rows := map[string]*TimelineRow{}
	var order []string
	statuses := map[string][]byte{}
	for _, sp := range j.Spans {
		from, to := col(sp.First), col(sp.Last)
		for i, c := range sp.Checks {
			row := rows[c.key()]
			if row == nil {
				row = &TimelineRow{Check: c.ID, Playbook: c.Playbook, Title: c.Title, Value: c.Value, Values: make([]*float64, cols)}
				rows[c.key()] = row
				order = append(order, c.key())
				statuses[c.key()] = []byte(strings.Repeat(".", cols))
			}
			row.Title, row.Value = c.Title, c.Value
			res := sp.Results[i]
			st := res.Status
			if res.BlockedBy != "" {
				st = diag.Skip
			}
			letters := statuses[c.key()]
			for k := from; k <= to; k++ {
				if prev := LetterStatus(letters[k]); prev == "" || diag.Worst(prev, st) == st {
					letters[k] = statusLetter[st]
				}
				if w := worstOf(c.Value, sp.Min[i], sp.Max[i]); w != nil && (row.Values[k] == nil || worse(c.Value, *w, *row.Values[k])) {
					v := *w
					row.Values[k] = &v
				}
			}
		}
	}
	for _, k := range order {
		row := rows[k]
		row.Statuses = string(statuses[k])
		if row.Value == "" {
			row.Values = nil
		}
		tl.Checks = append(tl.Checks, *row)
	}
	for _, e := range j.connectionEpisodes() {
		tl.Gaps = append(tl.Gaps, TimelineGap{Start: e.Start, End: e.End, Reason: "connection lost: " + e.Message})
	}
	return tl
}

// WatchReport makes the report of a watch: the last round's results (last,
// when the caller has them in full; otherwise rebuilt from the journal),
// the episodes, the timeline, and a diagnosis that leads with the
// episodes. Its status is the worst of the last round and the episodes:
// a problem that came and went still counts.
func (j *Journal) WatchReport(last *Host) *Report {
	rep := &Report{Schema: Schema, Tool: j.Header.Tool, Started: j.Header.Started, Ticket: j.Header.Ticket, Playbooks: j.Header.Playbooks}
	if rep.Playbooks == nil {
		rep.Playbooks = []PlaybookRef{}
	}
	var h Host
	finished := j.Header.Started
	if n := len(j.Spans); n > 0 {
		sp := j.Spans[n-1]
		finished = sp.Last.Add(time.Duration(sp.DurationMS * float64(time.Millisecond)))
	}
	for _, e := range j.Events {
		if e.Time.After(finished) {
			finished = e.Time
		}
	}
	switch {
	case last != nil:
		h = *last
	case len(j.Spans) > 0:
		h = j.lastHost()
	default:
		h = Host{Target: j.Header.Target, Facts: j.Facts, Results: []Result{},
			Error: "no round finished before the watch stopped", ErrorKind: "no-rounds"}
	}
	rep.Hosts = []Host{h}
	rep.Finish(finished)
	host := &rep.Hosts[0]
	host.Episodes = j.Episodes()
	host.Timeline = j.Timeline()
	if len(host.Episodes) > 0 {
		hints := map[string]string{}
		for _, c := range j.Checks {
			hints[c.key()] = c.Hint
		}
		causes := EpisodeCauses(host.Episodes, j.Header.Every(), hints)
		// Problems of the last round that are not episodes (none, as a
		// rule: a problem in the last round is an ongoing episode) stay.
		have := map[string]bool{}
		for _, c := range causes {
			have[c.Playbook+"\x00"+c.Check] = true
		}
		for _, c := range host.Diagnosis {
			if !have[c.Playbook+"\x00"+c.Check] {
				causes = append(causes, c)
			}
		}
		host.Diagnosis = causes
		for _, e := range host.Episodes {
			host.Status = diag.Worst(host.Status, e.Status)
		}
		rep.Summary.Status = diag.Worst(rep.Summary.Status, host.Status)
		rep.Causes = groupCauses(rep.Hosts)
	}
	return rep
}

// lastHost rebuilds the last round's results from the journal: statuses,
// the problems' messages and the followed values.
func (j *Journal) lastHost() Host {
	sp := j.Spans[len(j.Spans)-1]
	h := Host{Target: j.Header.Target, Facts: j.Facts, Results: make([]Result, 0, len(sp.Checks))}
	for i, c := range sp.Checks {
		res := sp.Results[i]
		r := Result{ID: c.ID, Kind: c.Kind, Title: c.Title, Playbook: c.Playbook, Severity: c.Severity, Status: res.Status,
			Message: res.Message, Hint: c.Hint, Needs: c.Needs, BlockedBy: res.BlockedBy}
		if res.Value != nil {
			r.Observed = map[string]any{c.Value: *res.Value}
		}
		if r.Message == "" {
			r.Message = string(res.Status) + " (the journal keeps messages of problems only)"
			if res.Value != nil {
				r.Message = fmt.Sprintf("%s, %s (from the journal)", res.Status, ValuePhrase(c.Value, *res.Value))
			}
		}
		h.Results = append(h.Results, r)
	}
	return h
}
