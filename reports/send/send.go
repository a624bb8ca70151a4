// Package send hands a redacted report to a ticket system: Request
// Tracker, Jira, ServiceNow, Zendesk, GitHub and GitLab issues, an
// organisation's own HTTPS endpoint, or email over SMTP with STARTTLS.
//
// Senders sit behind one small interface, Sender, and see nothing but a
// Message: the renderings of a report that has been through a
// reports.Redactor (Compose redacts before it renders). They never see a
// report, and never a credential of the command line, the playbook or the
// report: a destination's credential comes from an environment variable
// or a file (Credential), is read when a sender is made, and is kept out
// of every error it returns.
//
// What this package must not do: print, prompt, or decide exit codes. The
// CLI does that from the typed errors below (errors.Is with ErrAuth,
// ErrNotFound, ErrTooLarge, ErrUnavailable, ErrRejected).
package send

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Message is what a sender delivers: one redacted report, rendered.
type Message struct {
	// Subject is the new ticket's subject: the diagnosis' headline.
	Subject string `json:"subject"`
	// Body is the Markdown report: the ticket's text or the comment.
	Body string `json:"body"`
	// Ticket is an existing ticket to comment on; empty makes a new one.
	Ticket string `json:"ticket,omitempty"`
	// Attachments are the HTML and JSON reports, or the support bundle.
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is one file of a message.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Size is the number of bytes the message's attachments and body hold.
func (m Message) Size() int64 {
	n := int64(len(m.Body))
	for _, a := range m.Attachments {
		n += int64(len(a.Data))
	}
	return n
}

// Receipt says where the message landed.
type Receipt struct {
	// Ticket is the ticket's reference as its system shows it: "123",
	// "OPS-42", "INC0010023", "#17".
	Ticket string `json:"ticket"`
	// URL is the page a person opens to read the ticket; empty when the
	// system has none (email).
	URL string `json:"url,omitempty"`
	// Created is true for a new ticket, false for a comment.
	Created bool `json:"created"`
	// Note says what could not be delivered as asked, such as
	// attachments a system cannot take.
	Note string `json:"note,omitempty"`
}

// Sender delivers a message to one destination.
type Sender interface {
	Send(ctx context.Context, m Message) (Receipt, error)
}

// Errors a sender returns, wrapped with what happened. Each has one
// thing a person can do about it; the CLI gives it as a hint.
var (
	// ErrAuth: the credential was refused (401, 403, SMTP 535).
	ErrAuth = errors.New("the credential was refused")
	// ErrNotFound: the ticket (or queue, project, repository) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: the message is over the destination's size limit.
	ErrTooLarge = errors.New("too large for the destination")
	// ErrUnavailable: the server could not be reached or kept failing
	// until the time for retries ran out.
	ErrUnavailable = errors.New("the destination is unavailable")
	// ErrRejected: the server refused the request for another reason.
	ErrRejected = errors.New("the destination refused the request")
)

// Types are the kinds of destination, sorted.
func Types() []string {
	names := make([]string, 0, len(constructors))
	for k := range constructors {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// constructors make a sender of each type from a checked destination and
// its credential.
var constructors = map[string]func(d *Destination, secret string) (Sender, error){}

func register(typ string, fn func(d *Destination, secret string) (Sender, error)) {
	constructors[typ] = fn
}

// New makes the sender of a destination, reading its credential. The
// error never holds the credential.
func New(d *Destination) (Sender, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	fn := constructors[d.Type]
	secret, err := d.Credential.Read(d.getenv())
	if err != nil {
		return nil, err
	}
	if secret == "" && d.needsCredential() {
		return nil, fmt.Errorf("destination %s: %w: it has no credential (add credential: env:NAME or file:PATH)", d.Name, ErrAuth)
	}
	return fn(d, secret)
}

// Deliver sends m with s and bounds the whole attempt, retries included,
// by d's timeout.
func Deliver(ctx context.Context, d *Destination, s Sender, m Message) (Receipt, error) {
	if max := d.maxBytes(); m.Size() > max {
		return Receipt{}, fmt.Errorf("%w: the message holds %s, %s accepts %s", ErrTooLarge, humanBytes(m.Size()), d.Name, humanBytes(max))
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	r, err := s.Send(ctx, m)
	if err != nil {
		return r, fmt.Errorf("%s: %w", d.Name, err)
	}
	return r, nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d kB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Defaults of a destination.
const (
	DefaultTimeout  = 2 * time.Minute
	DefaultMaxBytes = 20 << 20
)

// cut shortens s to n bytes on a rune boundary, for subjects.
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
