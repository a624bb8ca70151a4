package reports

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrMismatch marks reports that cannot be merged.
var ErrMismatch = errors.New("reports do not fit together")

// Merge combines reports of the same playbooks run on different hosts —
// the shards of a sweep — into one report: the hosts in the order given,
// the earliest start and the latest finish, redaction counts added up and
// the summary computed again. Reports of different playbooks (by name and
// sha256), with different tickets, with a host in common, or anonymized
// (their tokens were numbered apart, so host-1 in one is not host-1 in
// another) are refused with ErrMismatch.
func Merge(reports []*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, fmt.Errorf("%w: nothing to merge", ErrMismatch)
	}
	first := reports[0]
	out := &Report{
		Schema:    Schema,
		Tool:      first.Tool,
		Started:   first.Started,
		Finished:  first.Finished,
		Ticket:    first.Ticket,
		Playbooks: slices.Clone(first.Playbooks),
	}
	want := playbookKey(first)
	hosts := map[string]int{}
	for i, r := range reports {
		if len(r.Anonymized) > 0 {
			return nil, fmt.Errorf("%w: report %d is anonymized; merge reports written without --anonymize, then anonymize the result", ErrMismatch, i+1)
		}
		if got := playbookKey(r); got != want {
			return nil, fmt.Errorf("%w: report %d ran %s, report 1 ran %s", ErrMismatch, i+1, got, want)
		}
		if r.Ticket != out.Ticket {
			if out.Ticket != "" && r.Ticket != "" {
				return nil, fmt.Errorf("%w: report 1 is for ticket %s, report %d for ticket %s", ErrMismatch, out.Ticket, i+1, r.Ticket)
			}
			if out.Ticket == "" {
				out.Ticket = r.Ticket
			}
		}
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if r.Finished.After(out.Finished) {
			out.Finished = r.Finished
		}
		for _, h := range r.Hosts {
			if prev, dup := hosts[h.Target]; dup {
				return nil, fmt.Errorf("%w: host %s is in report %d and report %d", ErrMismatch, h.Target, prev, i+1)
			}
			hosts[h.Target] = i + 1
			out.Hosts = append(out.Hosts, h)
		}
		for k, v := range r.Redactions {
			if out.Redactions == nil {
				out.Redactions = map[string]int{}
			}
			out.Redactions[k] += v
		}
	}
	out.Finish(out.Finished)
	return out, nil
}

// playbookKey names what a report ran, for comparing shards.
func playbookKey(r *Report) string {
	var parts []string
	for _, p := range r.Playbooks {
		sum := p.SHA256
		if len(sum) > 12 {
			sum = sum[:12]
		}
		parts = append(parts, p.Name+"@"+sum)
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		return "no playbooks"
	}
	return strings.Join(parts, ", ")
}
