package send

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Zendesk Support, through the Ticketing API
// (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/,
// https://developer.zendesk.com/api-reference/ticketing/tickets/ticket-attachments/):
//
//   - an existing ticket is looked up first: GET /api/v2/tickets/ID.json,
//     404 {"error": "RecordNotFound", "description": "Not found"} when it
//     does not exist (so nothing is uploaded for a wrong --ticket);
//   - each file: POST /api/v2/uploads.json?filename=NAME with the file as
//     the raw body and its Content-Type; answer 201 {"upload": {"token",
//     "attachment", ...}};
//   - a comment that carries them: PUT /api/v2/tickets/ID.json
//     {"ticket": {"comment": {"body", "uploads": [TOKEN...], "public":
//     false}}}: an internal note, which the requester does not see;
//   - a new ticket: POST /api/v2/tickets.json {"ticket": {"subject",
//     "comment": {...}}}; answer 201 {"ticket": {"id", ...}}.
//
// The credential is EMAIL/token:API_TOKEN (auth: basic, the default; see
// https://developer.zendesk.com/api-reference/introduction/security-and-auth/)
// or an OAuth access token (auth: bearer). The URL is
// https://SUBDOMAIN.zendesk.com; a ticket's page is /agent/tickets/ID.

func init() { register("zendesk", newZendesk) }

type zendeskSender struct {
	api *api
}

func newZendesk(d *Destination, secret string) (Sender, error) {
	a, err := newAPI(d, secret)
	if err != nil {
		return nil, err
	}
	return &zendeskSender{api: a}, nil
}

type zendeskComment struct {
	Body    string   `json:"body"`
	Uploads []string `json:"uploads,omitempty"`
	Public  bool     `json:"public"`
}

func (s *zendeskSender) Send(ctx context.Context, m Message) (Receipt, error) {
	id := ""
	if m.Ticket != "" {
		id = strings.TrimLeft(strings.TrimSpace(m.Ticket), "#")
		if id == "" || strings.Trim(id, "0123456789") != "" {
			return Receipt{}, fmt.Errorf("%w: %q is not a Zendesk ticket number", ErrNotFound, m.Ticket)
		}
		if _, err := s.api.do(ctx, request{method: http.MethodGet, path: "/api/v2/tickets/" + id + ".json", what: "looking up ticket " + id}); err != nil {
			return Receipt{}, err
		}
	}
	comment := zendeskComment{Body: m.Body, Public: false}
	for _, a := range m.Attachments {
		ans, err := s.api.do(ctx, request{method: http.MethodPost, path: "/api/v2/uploads.json", query: url.Values{"filename": {a.Name}},
			contentType: a.ContentType, body: a.Data, what: "uploading " + a.Name})
		if err != nil {
			return Receipt{}, err
		}
		var up struct {
			Upload struct {
				Token string `json:"token"`
			} `json:"upload"`
		}
		if err := ans.decode(&up); err != nil {
			return Receipt{}, err
		}
		if up.Upload.Token == "" {
			return Receipt{}, fmt.Errorf("%w: uploading %s: Zendesk answered without an upload token", ErrRejected, a.Name)
		}
		comment.Uploads = append(comment.Uploads, up.Upload.Token)
	}
	if id != "" {
		var body struct {
			Ticket struct {
				Comment zendeskComment `json:"comment"`
			} `json:"ticket"`
		}
		body.Ticket.Comment = comment
		req, err := jsonRequest(http.MethodPut, "/api/v2/tickets/"+id+".json", "commenting on ticket "+id, body)
		if err != nil {
			return Receipt{}, err
		}
		if _, err := s.api.do(ctx, req); err != nil {
			return Receipt{}, err
		}
		return Receipt{Ticket: id, URL: s.api.endpoint("/agent/tickets/"+id, nil)}, nil
	}
	var body struct {
		Ticket struct {
			Subject string         `json:"subject"`
			Comment zendeskComment `json:"comment"`
		} `json:"ticket"`
	}
	body.Ticket.Subject = m.Subject
	body.Ticket.Comment = comment
	req, err := jsonRequest(http.MethodPost, "/api/v2/tickets.json", "creating a ticket", body)
	if err != nil {
		return Receipt{}, err
	}
	ans, err := s.api.do(ctx, req)
	if err != nil {
		return Receipt{}, err
	}
	var created struct {
		Ticket struct {
			ID json.Number `json:"id"`
		} `json:"ticket"`
	}
	if err := ans.decode(&created); err != nil {
		return Receipt{}, err
	}
	if created.Ticket.ID == "" {
		return Receipt{}, fmt.Errorf("%w: creating a ticket: Zendesk answered without a ticket id", ErrRejected)
	}
	id = created.Ticket.ID.String()
	return Receipt{Ticket: id, URL: s.api.endpoint("/agent/tickets/"+id, nil), Created: true}, nil
}
