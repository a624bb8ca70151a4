package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/triage-dev/triage/diag"
)

// Schema names the version of the JSON report format.
const Schema = "triage.report/v1"

// Report is the result of one run: one host or many.
type Report struct {
	Schema    string        `json:"schema"`
	Tool      Tool          `json:"tool"`
	Started   time.Time     `json:"started"`
	Finished  time.Time     `json:"finished"`
	Ticket    string        `json:"ticket,omitempty"`
	Playbooks []PlaybookRef `json:"playbooks"`
	Hosts     []Host        `json:"hosts"`
	// Causes groups the hosts by their top cause, most hosts first
	// (computed by Diagnose).
	Causes  []CauseGroup `json:"causes,omitempty"`
	Summary Summary      `json:"summary"`
	// Redactions counts, per rule, the secrets replaced before the report
	// was written (see Redactor).
	Redactions map[string]int `json:"redactions,omitempty"`
	// Anonymized counts the names and addresses --anonymize replaced, per
	// kind: hostname, ip, mac, user. Present only on an anonymized report.
	Anonymized map[string]int `json:"anonymized,omitempty"`

	// redacted is set by Redactor.Redact; a bundle is written only then.
	redacted bool
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// PlaybookRef identifies a playbook exactly: a report says what it ran.
type PlaybookRef struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
}

// Host is what was found on one target.
type Host struct {
	Target string      `json:"target"`
	Status diag.Status `json:"status"`
	// Error says why the host could not be checked at all, if so.
	Error string `json:"error,omitempty"`
	// ErrorKind names the reason in one word, for machines and summaries:
	// refused, timeout, auth, host-key-changed, host-timeout...
	ErrorKind string `json:"error_kind,omitempty"`
	// Hint says what to try when the host could not be checked.
	Hint  string     `json:"hint,omitempty"`
	Facts diag.Facts `json:"facts"`
	// Diagnosis is the probable causes of what the results found, ranked:
	// the first is the one to look at first. Empty on a healthy host.
	Diagnosis []Cause  `json:"diagnosis,omitempty"`
	Results   []Result `json:"results"`
	// Episodes and Timeline are a watch's (episodes.go): each check's bad
	// stretches, and the rounds drawn to a fixed width.
	Episodes []Episode `json:"episodes,omitempty"`
	Timeline *Timeline `json:"timeline,omitempty"`
}

// Result is one check's verdict, as reported.
type Result struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	Title    string         `json:"title"`
	Playbook string         `json:"playbook,omitempty"`
	Severity diag.Severity  `json:"severity,omitempty"`
	Status   diag.Status    `json:"status"`
	Message  string         `json:"message"`
	Observed map[string]any `json:"observed,omitempty"`
	Hint     string         `json:"hint,omitempty"`
	// CheckHint is the check kind's own advice when the playbook's hint
	// took its place: the technical step for whoever fixes the cause.
	CheckHint  string  `json:"check_hint,omitempty"`
	Evidence   string  `json:"evidence,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	// Needs are the ids of the checks (of the same playbook) this one
	// depends on.
	Needs []string `json:"needs,omitempty"`
	// BlockedBy is the id of the check whose problem kept this one from
	// running, or explains its trouble; its status is then skip.
	BlockedBy string `json:"blocked_by,omitempty"`
	// OtherPlatform marks a check skipped because it is for another
	// operating system or distribution: kept in the JSON, left out of
	// what a person reads unless asked for.
	OtherPlatform bool `json:"other_platform,omitempty"`
	// Thresholds are the limits observed values were judged against.
	Thresholds map[string]diag.Threshold `json:"thresholds,omitempty"`
	// Files are what a collect check gathered. They go into a support
	// bundle only, never into a rendered report, so a saved JSON report
	// does not carry them.
	Files []diag.Attachment `json:"-"`
}

// Summary counts verdicts over every host.
type Summary struct {
	Hosts int `json:"hosts"`
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
	// Blocked counts the checks not run because a check they need found a
	// problem; they are not counted as skip.
	Blocked int         `json:"blocked,omitempty"`
	Status  diag.Status `json:"status"`
}

// FromDiag converts an engine result for the report.
func FromDiag(r diag.Result, playbook string) Result {
	return Result{
		ID:            r.ID,
		Kind:          r.Kind,
		Title:         r.Title,
		Playbook:      playbook,
		Severity:      r.Severity,
		Status:        r.Status,
		Message:       r.Message,
		Observed:      r.Observed,
		Hint:          r.Hint,
		CheckHint:     r.CheckHint,
		Evidence:      r.Evidence,
		Files:         r.Files,
		DurationMS:    math.Round(float64(r.Duration.Microseconds())/100) / 10,
		Thresholds:    r.Thresholds,
		Needs:         r.Needs,
		BlockedBy:     r.BlockedBy,
		OtherPlatform: r.OtherPlatform,
	}
}

// Finish sets each host's status from its results and computes the summary.
func (r *Report) Finish(finished time.Time) {
	r.Finished = finished
	s := Summary{Hosts: len(r.Hosts)}
	for i := range r.Hosts {
		h := &r.Hosts[i]
		h.Status = hostStatus(h)
		s.Status = diag.Worst(s.Status, h.Status)
		for _, res := range h.Results {
			if res.BlockedBy != "" {
				s.Blocked++
				continue
			}
			countInto(&s, res.Status)
		}
	}
	if s.Status == "" || s.Status == diag.Skip {
		s.Status = diag.Pass
	}
	r.Summary = s
	r.Diagnose()
}

func hostStatus(h *Host) diag.Status {
	if h.Error != "" {
		return diag.Error
	}
	st := diag.Pass
	for _, res := range h.Results {
		st = diag.Worst(st, res.Status)
	}
	if st == diag.Skip {
		st = diag.Pass
	}
	return st
}

// ErrInvalid marks a report file that is not a triage report.
var ErrInvalid = errors.New("not a valid triage report")

// Read decodes a JSON report and checks that it is one this version understands.
func Read(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: JSON syntax error at byte %d: %v", ErrInvalid, se.Offset, err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: the file is empty or cut short", ErrInvalid)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// Two reports run together, or a report with junk after it, is not
	// one report: say so rather than read the first and drop the rest.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: unexpected data after the report at byte %d", ErrInvalid, dec.InputOffset())
	}
	if r.Schema != Schema {
		if r.Schema == "" {
			return nil, fmt.Errorf("%w: it has no schema field (want %q)", ErrInvalid, Schema)
		}
		return nil, fmt.Errorf("%w: schema %q, this triage reads %q", ErrInvalid, r.Schema, Schema)
	}
	if err := r.checkStatuses(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !r.hasDiagnosis() {
		// Written before reports had a diagnosis: compute it, so that
		// every renderer can lead with it.
		r.Diagnose()
	}
	return &r, nil
}

// checkStatuses rejects a report with a status left out: decoding rejects
// unknown statuses but cannot see missing ones, and a report read without
// them would be written back as one that no longer reads.
func (r *Report) checkStatuses() error {
	if !r.Summary.Status.Valid() {
		return errors.New("the summary has no status")
	}
	for i, h := range r.Hosts {
		if !h.Status.Valid() {
			return fmt.Errorf("host %d (%q) has no status", i+1, h.Target)
		}
		for j, res := range h.Results {
			if !res.Status.Valid() {
				return fmt.Errorf("result %d (%q) of host %q has no status", j+1, res.ID, h.Target)
			}
		}
		for j, c := range h.Diagnosis {
			if !c.Status.Valid() {
				return fmt.Errorf("cause %d (%q) of host %q has no status", j+1, c.Check, h.Target)
			}
		}
	}
	for i, g := range r.Causes {
		if !g.Status.Valid() {
			return fmt.Errorf("cause group %d (%q) has no status", i+1, g.Check)
		}
	}
	return nil
}

func (r *Report) hasDiagnosis() bool {
	if len(r.Causes) > 0 {
		return true
	}
	for _, h := range r.Hosts {
		if len(h.Diagnosis) > 0 {
			return true
		}
	}
	return false
}
