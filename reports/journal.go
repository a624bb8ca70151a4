package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/triage-dev/triage/diag"
)

// A watch journal (triage watch) is JSON Lines, one object per line, each
// with a "type":
//
//	header  first line: schema triage.journal/v1, tool, target, playbooks, interval
//	checks  the checks the rounds below report on, in order, with the facts;
//	        written again only when the plan changes (a reconnect to a host
//	        that changed)
//	round   one round: per check, positionally, its status, key value and,
//	        for problems, its message
//	same    rounds that changed no status, folded: how many, until when,
//	        and the lowest and highest value of each check over them
//	event   something about the watch itself: the connection lost or made
//	        again, the watch stopped
//
// Every line is written whole and synced before the next round starts, so
// a crash or a power cut loses at most the round in flight. A "same" line
// is rewritten in place while rounds keep changing nothing: it is padded
// with spaces to a reserved width, so the rewrite never moves what follows,
// and when it outgrows the width a new one starts. That keeps a week of a
// quiet machine to a few lines. The reader skips, with a note, a line cut
// short at the end and any line that does not decode.

// JournalSchema names the version of the journal format.
const JournalSchema = "triage.journal/v1"

// maxJournalLine bounds one line the reader accepts; a longer one is
// skipped with a note rather than read into memory.
const maxJournalLine = 4 << 20

// JournalHeader is the first line of a journal.
type JournalHeader struct {
	Type      string        `json:"type"`
	Schema    string        `json:"schema"`
	Tool      Tool          `json:"tool"`
	Started   time.Time     `json:"started"`
	Target    string        `json:"target"`
	Ticket    string        `json:"ticket,omitempty"`
	Playbooks []PlaybookRef `json:"playbooks"`
	// EveryMS is the interval between the starts of two rounds.
	EveryMS int64 `json:"every_ms"`
}

// Every is the header's interval as a duration.
func (h JournalHeader) Every() time.Duration { return time.Duration(h.EveryMS) * time.Millisecond }

// JournalCheck is one check the rounds report on.
type JournalCheck struct {
	ID       string        `json:"id"`
	Kind     string        `json:"kind"`
	Title    string        `json:"title"`
	Playbook string        `json:"playbook,omitempty"`
	Severity diag.Severity `json:"severity,omitempty"`
	Hint     string        `json:"hint,omitempty"`
	Needs    []string      `json:"needs,omitempty"`
	// Value names the observed value the rounds record for the check
	// (latency_ms, loss_percent...), if any.
	Value string `json:"value,omitempty"`
}

func (c JournalCheck) key() string { return c.Playbook + "\x00" + c.ID }

// journalChecks is a "checks" line.
type journalChecks struct {
	Type   string         `json:"type"`
	Time   time.Time      `json:"t"`
	Facts  diag.Facts     `json:"facts"`
	Checks []JournalCheck `json:"checks"`
}

// RoundResult is one check in one round.
type RoundResult struct {
	Status diag.Status `json:"s"`
	Value  *float64    `json:"v,omitempty"`
	// Message is kept for problems only: what was observed.
	Message string `json:"m,omitempty"`
	// BlockedBy is the id of the check whose problem kept this one from
	// running.
	BlockedBy string `json:"b,omitempty"`
}

// journalRound is a "round" line.
type journalRound struct {
	Type       string        `json:"type"`
	N          int           `json:"n"`
	Time       time.Time     `json:"t"`
	DurationMS float64       `json:"ms"`
	Results    []RoundResult `json:"r"`
}

// journalSame is a "same" line: Rounds rounds after the previous line with
// the same statuses, the last at Until.
type journalSame struct {
	Type   string     `json:"type"`
	Rounds int        `json:"n"`
	Until  time.Time  `json:"until"`
	Min    []*float64 `json:"min,omitempty"`
	Max    []*float64 `json:"max,omitempty"`
}

// JournalEvent is something that happened to the watch rather than to a
// check.
type JournalEvent struct {
	Type  string    `json:"type"`
	Time  time.Time `json:"t"`
	Event string    `json:"event"`
	Error string    `json:"error,omitempty"`
}

// The events a watch records.
const (
	EventDisconnected = "disconnected" // the SSH connection was lost or could not be made
	EventConnected    = "connected"    // it was made again
	EventStopped      = "stopped"      // the watch ended: its time was up, or Ctrl-C
)

// Span is a stretch of rounds with the same statuses: one round, or a
// round and the rounds folded after it.
type Span struct {
	// First and Last are when the first and the last of the rounds started.
	First, Last time.Time
	Rounds      int
	// DurationMS is how long the first round took.
	DurationMS float64
	// Checks is the catalogue the results are positioned by.
	Checks  []JournalCheck
	Results []RoundResult
	// Min and Max are each check's lowest and highest value over the
	// span (nil where there was none).
	Min, Max []*float64
}

// Journal is a journal as read back.
type Journal struct {
	Header JournalHeader
	Facts  diag.Facts
	Checks []JournalCheck // the last catalogue
	Spans  []Span
	Events []JournalEvent
	// Notes say what was skipped while reading: a cut last line,
	// lines that did not decode.
	Notes []string
}

// Rounds counts the rounds in the journal, folded ones included.
func (j *Journal) Rounds() int {
	n := 0
	for _, s := range j.Spans {
		n += s.Rounds
	}
	return n
}

// ErrNotJournal marks a file that is not a triage watch journal.
var ErrNotJournal = errors.New("not a triage watch journal")

// IsJournal reports whether data (the start of a file) looks like a
// journal rather than a JSON report.
func IsJournal(start []byte) bool {
	line, _, _ := bytes.Cut(start, []byte("\n"))
	return bytes.Contains(line, []byte(`"type":"header"`)) && bytes.Contains(line, []byte(JournalSchema))
}

// ReadJournal reads a journal. What cannot be read is skipped with a note;
// only a missing or wrong header is an error.
func ReadJournal(rd io.Reader) (*Journal, error) {
	j := &Journal{}
	br := bufio.NewReaderSize(rd, 64<<10)
	skipped := 0
	note := func(format string, a ...any) {
		skipped++
		if len(j.Notes) < 10 {
			j.Notes = append(j.Notes, fmt.Sprintf(format, a...))
		}
	}
	haveHeader := false
	for lineNo := 1; ; lineNo++ {
		line, complete, tooLong, err := readJournalLine(br)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(line) == 0 && err == io.EOF && !tooLong {
			break
		}
		line = bytes.TrimSpace(line)
		switch {
		case tooLong:
			note("line %d: longer than %d MiB, skipped", lineNo, maxJournalLine>>20)
		case len(line) == 0:
		default:
			if lerr := j.decodeLine(line, haveHeader); lerr != nil {
				if !haveHeader {
					return nil, fmt.Errorf("%w: line 1: %v", ErrNotJournal, lerr)
				}
				if !complete && lerr.Error() == "not JSON" {
					note("line %d: cut short (the watch was stopped while writing it), ignored", lineNo)
				} else {
					note("line %d: %v, skipped", lineNo, lerr)
				}
			}
			haveHeader = true
		}
		if err == io.EOF {
			break
		}
	}
	if !haveHeader {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotJournal)
	}
	if skipped > len(j.Notes) {
		j.Notes = append(j.Notes, fmt.Sprintf("and %d more lines skipped", skipped-len(j.Notes)))
	}
	return j, nil
}

// readJournalLine reads one line of at most maxJournalLine bytes; complete
// is false for a last line with no newline, tooLong for a line over the
// limit (consumed and dropped).
func readJournalLine(br *bufio.Reader) (line []byte, complete, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > maxJournalLine {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(line, []byte("\n")), true, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return line, false, tooLong, err
		}
	}
}

func (j *Journal) decodeLine(line []byte, haveHeader bool) error {
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		return errors.New("not JSON")
	}
	if !haveHeader {
		if probe.Type != "header" {
			return errors.New("no header line")
		}
		if err := json.Unmarshal(line, &j.Header); err != nil {
			return err
		}
		if j.Header.Schema != JournalSchema {
			return fmt.Errorf("schema %q, this triage reads %q", j.Header.Schema, JournalSchema)
		}
		return nil
	}
	switch probe.Type {
	case "checks":
		var c journalChecks
		if err := json.Unmarshal(line, &c); err != nil {
			return err
		}
		j.Facts, j.Checks = c.Facts, c.Checks
	case "round":
		var r journalRound
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if j.Checks == nil {
			return errors.New("a round before any checks line")
		}
		if len(r.Results) != len(j.Checks) {
			return fmt.Errorf("a round of %d results for %d checks", len(r.Results), len(j.Checks))
		}
		for _, res := range r.Results {
			if !res.Status.Valid() {
				return errors.New("a result with no status")
			}
			if res.Value != nil && (math.IsNaN(*res.Value) || math.IsInf(*res.Value, 0)) {
				return errors.New("a value that is not a number")
			}
		}
		values := make([]*float64, len(r.Results))
		for i, res := range r.Results {
			values[i] = res.Value
		}
		j.Spans = append(j.Spans, Span{First: r.Time, Last: r.Time, Rounds: 1, DurationMS: r.DurationMS,
			Checks: j.Checks, Results: r.Results, Min: values, Max: values})
	case "same":
		var s journalSame
		if err := json.Unmarshal(line, &s); err != nil {
			return err
		}
		if len(j.Spans) == 0 {
			return errors.New("folded rounds with no round before them")
		}
		if s.Rounds < 1 {
			return errors.New("folded rounds with no count")
		}
		prev := j.Spans[len(j.Spans)-1]
		if s.Until.Before(prev.Last) {
			return errors.New("folded rounds that end before they start")
		}
		first := prev.Last.Add(j.Header.Every())
		if first.After(s.Until) || j.Header.EveryMS <= 0 {
			first = s.Until
		}
		sp := Span{First: first, Last: s.Until, Rounds: s.Rounds, DurationMS: prev.DurationMS,
			Checks: prev.Checks, Results: prev.Results, Min: prev.Min, Max: prev.Max}
		// The first folded round's start is not kept: it is taken to be
		// one interval after the round it repeats.
		if len(s.Min) == len(prev.Checks) && len(s.Max) == len(prev.Checks) {
			sp.Min, sp.Max = s.Min, s.Max
		}
		j.Spans = append(j.Spans, sp)
	case "event":
		var e JournalEvent
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		j.Events = append(j.Events, e)
	case "header":
		return errors.New("a second header")
	default:
		return fmt.Errorf("unknown line type %q", probe.Type)
	}
	return nil
}

// JournalWriter appends rounds to a journal file, folding the rounds that
// change nothing, and syncs after every line.
type JournalWriter struct {
	f      *os.File
	end    int64 // where the next line goes
	checks []JournalCheck
	facts  diag.Facts
	// last is the statuses of the last round written; nil after an
	// event, so that the next round is written in full.
	last []RoundResult
	fold *foldState
	n    int
}

type foldState struct {
	off      int64 // where its line starts
	reserved int   // its width, newline excluded
	rec      journalSame
}

// CreateJournal creates a new journal at path and writes its header. An
// existing file is not overwritten.
func CreateJournal(path string, h JournalHeader) (*JournalWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	w := &JournalWriter{f: f}
	h.Type, h.Schema = "header", JournalSchema
	if err := w.appendLine(h); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Path is the journal's file name.
func (w *JournalWriter) Path() string { return w.f.Name() }

// Round records one round's results. A round whose statuses are those of
// the round before is folded into a "same" line.
func (w *JournalWriter) Round(t time.Time, d time.Duration, h Host, facts diag.Facts) error {
	checks := JournalChecksOf(h, w.checks)
	if !sameChecks(checks, w.checks) || facts != w.facts {
		w.checks, w.facts = checks, facts
		if err := w.appendLine(journalChecks{Type: "checks", Time: t, Facts: facts, Checks: checks}); err != nil {
			return err
		}
		w.last, w.fold = nil, nil
	}
	results := RoundResultsOf(h, w.checks)
	w.n++
	if w.last != nil && sameStatuses(w.last, results) {
		return w.foldRound(t, results)
	}
	w.last, w.fold = results, nil
	return w.appendLine(journalRound{Type: "round", N: w.n, Time: t, DurationMS: math.Round(float64(d.Microseconds())/100) / 10, Results: results})
}

func (w *JournalWriter) foldRound(t time.Time, results []RoundResult) error {
	if w.fold == nil {
		w.fold = &foldState{off: w.end, rec: journalSame{Type: "same", Min: make([]*float64, len(results)), Max: make([]*float64, len(results))}}
		for i, r := range w.last {
			w.fold.rec.Min[i], w.fold.rec.Max[i] = r.Value, r.Value
		}
	}
	rec := &w.fold.rec
	rec.Rounds++
	rec.Until = t
	for i, r := range results {
		if r.Value == nil {
			continue
		}
		if rec.Min[i] == nil || *r.Value < *rec.Min[i] {
			rec.Min[i] = r.Value
		}
		if rec.Max[i] == nil || *r.Value > *rec.Max[i] {
			rec.Max[i] = r.Value
		}
	}
	out := *rec
	if allNil(out.Min) && allNil(out.Max) {
		out.Min, out.Max = nil, nil
	}
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}
	switch {
	case w.fold.reserved == 0:
		// Room to grow: counts and times get longer, values change.
		w.fold.reserved = len(data) + 48 + 8*len(results)
	case len(data) > w.fold.reserved:
		// Outgrown: close this line as it stands and start another
		// from this round.
		w.fold = nil
		return w.foldRound(t, results)
	}
	if w.fold.off != w.end && w.fold.off+int64(w.fold.reserved)+1 != w.end {
		return errors.New("journal: a folded line out of place")
	}
	line := append(data, bytes.Repeat([]byte(" "), w.fold.reserved-len(data))...)
	line = append(line, '\n')
	if _, err := w.f.WriteAt(line, w.fold.off); err != nil {
		return err
	}
	w.end = w.fold.off + int64(len(line))
	return w.f.Sync()
}

// Event records something that happened to the watch; the next round is
// then written in full.
func (w *JournalWriter) Event(e JournalEvent) error {
	e.Type = "event"
	w.last, w.fold = nil, nil
	return w.appendLine(e)
}

// Close closes the file.
func (w *JournalWriter) Close() error { return w.f.Close() }

func (w *JournalWriter) appendLine(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if _, err := w.f.WriteAt(data, w.end); err != nil {
		return err
	}
	w.end += int64(len(data))
	return w.f.Sync()
}

// JournalChecksOf is the catalogue of a host's results; prev, the
// catalogue so far, keeps each check's choice of value once made.
func JournalChecksOf(h Host, prev []JournalCheck) []JournalCheck {
	known := map[string]string{}
	for _, c := range prev {
		known[c.key()] = c.Value
	}
	out := make([]JournalCheck, len(h.Results))
	for i, r := range h.Results {
		c := JournalCheck{ID: r.ID, Kind: r.Kind, Title: r.Title, Playbook: r.Playbook, Severity: r.Severity, Hint: r.Hint, Needs: r.Needs}
		if v, ok := known[c.key()]; ok && v != "" {
			c.Value = v
		} else {
			c.Value, _, _ = KeyValue(r.Observed)
		}
		out[i] = c
	}
	return out
}

// RoundResultsOf is a host's results as one round of a journal.
func RoundResultsOf(h Host, checks []JournalCheck) []RoundResult {
	out := make([]RoundResult, len(h.Results))
	for i, r := range h.Results {
		rr := RoundResult{Status: r.Status, BlockedBy: r.BlockedBy}
		if i < len(checks) && checks[i].Value != "" {
			if v, ok := diag.Number(r.Observed[checks[i].Value]); ok {
				rr.Value = &v
			}
		}
		if isProblem(r.Status) && r.BlockedBy == "" {
			rr.Message = r.Message
		}
		out[i] = rr
	}
	return out
}

func sameChecks(a, b []JournalCheck) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].key() != b[i].key() || a[i].Value != b[i].Value || a[i].Title != b[i].Title {
			return false
		}
	}
	return true
}

func sameStatuses(a, b []RoundResult) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Status != b[i].Status || a[i].BlockedBy != b[i].BlockedBy {
			return false
		}
	}
	return true
}

// valueKeys are the observed values a watch follows, most telling first:
// for a ping the loss rather than the round trip, for a disk how full.
var valueKeys = []string{"loss_percent", "latency_ms", "rtt_avg_ms", "rtt_ms", "offset_ms", "used_percent",
	"available_percent", "swap_used_percent", "load_per_cpu", "tls_days_left", "inodes_used_percent"}

// lowerIsWorse names the values that are worse when smaller.
var lowerIsWorse = map[string]bool{"available_percent": true, "tls_days_left": true}

// KeyValue picks the value a watch follows for a check from what it
// observed.
func KeyValue(observed map[string]any) (key string, v float64, ok bool) {
	for _, k := range valueKeys {
		if v, ok := diag.Number(observed[k]); ok {
			return k, v, true
		}
	}
	return "", 0, false
}

func allNil(vs []*float64) bool {
	for _, v := range vs {
		if v != nil {
			return false
		}
	}
	return true
}
