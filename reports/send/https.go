package send

import (
	"context"
	"net/http"
	"strings"
)

// An organisation's own endpoint (type https): one request, POST by
// default or PUT (method:), to the URL as written, with "Authorization:
// Bearer TOKEN" and a multipart/form-data body:
//
//	subject      the headline (text/plain)
//	ticket       the ticket to add to, when there is one
//	body         the Markdown report (text/markdown)
//	attachment   one part per file, with its filename and content type
//
// Any 2xx answer is success; a JSON answer {"ticket": "...", "url":
// "..."} names the ticket, else the Location header is its URL.

func init() { register("https", newHTTPS) }

type httpsSender struct {
	api    *api
	method string
}

func newHTTPS(d *Destination, secret string) (Sender, error) {
	a, err := newAPI(d, secret)
	if err != nil {
		return nil, err
	}
	m := strings.ToUpper(d.Method)
	if m == "" {
		m = http.MethodPost
	}
	return &httpsSender{api: a, method: m}, nil
}

func (s *httpsSender) Send(ctx context.Context, m Message) (Receipt, error) {
	parts := []formPart{{field: "subject", contentType: "text/plain; charset=utf-8", data: []byte(m.Subject)}}
	if m.Ticket != "" {
		parts = append(parts, formPart{field: "ticket", contentType: "text/plain; charset=utf-8", data: []byte(m.Ticket)})
	}
	parts = append(parts, formPart{field: "body", filename: "report.md", contentType: "text/markdown; charset=utf-8", data: []byte(m.Body)})
	for _, a := range m.Attachments {
		parts = append(parts, formPart{field: "attachment", filename: a.Name, contentType: a.ContentType, data: a.Data})
	}
	body, ctype, err := multipartBody(parts)
	if err != nil {
		return Receipt{}, err
	}
	ans, err := s.api.do(ctx, request{method: s.method, contentType: ctype, body: body, what: "sending the report"})
	if err != nil {
		return Receipt{}, err
	}
	rc := Receipt{Ticket: m.Ticket, Created: m.Ticket == "", URL: ans.header.Get("Location")}
	var named struct {
		Ticket string `json:"ticket"`
		URL    string `json:"url"`
	}
	if ans.decode(&named) == nil {
		if named.Ticket != "" {
			rc.Ticket = named.Ticket
		}
		if named.URL != "" {
			rc.URL = named.URL
		}
	}
	if rc.Ticket == "" {
		rc.Ticket = "(the endpoint named none)"
	}
	return rc, nil
}
