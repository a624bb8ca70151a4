package send

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Request Tracker 4.4 and 5, through REST 2
// (https://docs.bestpractical.com/rt/5.0.3/RT/REST2.html):
//
//   - a new ticket: POST /REST/2.0/ticket with JSON {Queue, Subject,
//     Content, ContentType, Attachments: [{FileName, FileType,
//     FileContent (base64)}]}; answer 201 {"id": "N", ...};
//   - a comment: POST /REST/2.0/ticket/N/comment as multipart/form-data,
//     a "JSON" part {Content, ContentType} and one "Attachments" part per
//     file; answer 201. RT answers 400 "Message could not be recorded"
//     for a ticket that does not exist, so the ticket is looked up first
//     (GET /REST/2.0/ticket/N, 404 when it does not exist).
//
// The credential is an auth token (auth: token, the default: the header
// "Authorization: token TOKEN", RT 5's built-in RT::Authen::Token) or
// USER:PASSWORD (auth: basic).

func init() { register("rt", newRT) }

type rtSender struct {
	api   *api
	queue string
}

func newRT(d *Destination, secret string) (Sender, error) {
	a, err := newAPI(d, secret)
	if err != nil {
		return nil, err
	}
	q := d.Queue
	if q == "" {
		q = "General"
	}
	return &rtSender{api: a, queue: q}, nil
}

type rtAttachment struct {
	FileName    string
	FileType    string
	FileContent string
}

func (s *rtSender) Send(ctx context.Context, m Message) (Receipt, error) {
	if m.Ticket != "" {
		return s.comment(ctx, m)
	}
	body := struct {
		Queue       string
		Subject     string
		Content     string
		ContentType string
		Attachments []rtAttachment `json:",omitempty"`
	}{s.queue, m.Subject, m.Body, "text/plain", nil}
	for _, a := range m.Attachments {
		body.Attachments = append(body.Attachments, rtAttachment{a.Name, a.ContentType, base64.StdEncoding.EncodeToString(a.Data)})
	}
	req, err := jsonRequest(http.MethodPost, "/REST/2.0/ticket", "creating a ticket in queue "+s.queue, body)
	if err != nil {
		return Receipt{}, err
	}
	ans, err := s.api.do(ctx, req)
	if err != nil {
		return Receipt{}, err
	}
	var created struct {
		ID json.Number `json:"id"`
	}
	if err := ans.decode(&created); err != nil {
		return Receipt{}, err
	}
	if created.ID == "" {
		return Receipt{}, fmt.Errorf("%w: creating a ticket: RT answered without a ticket number", ErrRejected)
	}
	return Receipt{Ticket: created.ID.String(), URL: s.displayURL(created.ID.String()), Created: true}, nil
}

func (s *rtSender) comment(ctx context.Context, m Message) (Receipt, error) {
	id := strings.TrimLeft(strings.TrimPrefix(strings.ToLower(m.Ticket), "rt"), "#")
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return Receipt{}, fmt.Errorf("%w: %q is not an RT ticket number", ErrNotFound, m.Ticket)
	}
	if _, err := s.api.do(ctx, request{method: http.MethodGet, path: "/REST/2.0/ticket/" + id, what: "looking up ticket " + id}); err != nil {
		return Receipt{}, err
	}
	meta, _ := json.Marshal(struct{ Content, ContentType string }{m.Body, "text/plain"})
	parts := []formPart{{field: "JSON", contentType: "application/json", data: meta}}
	for _, a := range m.Attachments {
		parts = append(parts, formPart{field: "Attachments", filename: a.Name, contentType: a.ContentType, data: a.Data})
	}
	body, ctype, err := multipartBody(parts)
	if err != nil {
		return Receipt{}, err
	}
	req := request{method: http.MethodPost, path: "/REST/2.0/ticket/" + id + "/comment", contentType: ctype, body: body, what: "commenting on ticket " + id}
	if _, err := s.api.do(ctx, req); err != nil {
		return Receipt{}, err
	}
	return Receipt{Ticket: id, URL: s.displayURL(id)}, nil
}

func (s *rtSender) displayURL(id string) string {
	return s.api.endpoint("/Ticket/Display.html", url.Values{"id": {id}})
}
