package send

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// The Zendesk fake answers as Zendesk's documentation says; it was written
// from the documentation, not recorded from a live account:
//
//   - Tickets, https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/
//     ("Create Ticket" POST /api/v2/tickets.json, "Update Ticket" PUT
//     /api/v2/tickets/{ticket_id}.json, "Show Ticket" GET, the bodies
//     {"ticket": {"subject", "comment": {"body", "uploads", "public"}}});
//   - Attachments, https://developer.zendesk.com/api-reference/ticketing/tickets/ticket-attachments/
//     ("Upload Files" POST /api/v2/uploads.json?filename=, the file as the
//     body, answering 201 {"upload": {"token": "6bk3gql82em5nmf", ...}});
//   - authentication as {email_address}/token:{api_token},
//     https://developer.zendesk.com/api-reference/introduction/security-and-auth/;
//   - errors, https://developer.zendesk.com/api-reference/ticketing/introduction/#response-format
//     and .../introduction/rate-limits/ (429 with Retry-After):
//     {"error": "RecordNotFound", "description": "Not found"},
//     {"error": "Couldn't authenticate you"}. The 403 and 413 wording in
//     TestSendZendeskFailures is illustrative, in that documented shape.
type fakeZendesk struct {
	mu       sync.Mutex
	user     string
	token    string
	calls    []string
	uploads  map[string]Attachment // token → file
	comments map[string][]zdComment
	subject  string
}

type zdComment struct {
	Body    string
	Uploads []string
	Public  *bool
}

func newFakeZendesk(user, token string) *fakeZendesk {
	return &fakeZendesk{user: user, token: token, uploads: map[string]Attachment{}, comments: map[string][]zdComment{"35436": nil}}
}

func zdError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeZendesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.token {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			zdError(w, 401, `{"error":"Couldn't authenticate you"}`)
			return
		}
	}
	decode := func(v any) bool {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(r.Body).Decode(v) != nil {
			zdError(w, 400, `{"error":"InvalidEndpoint","description":"Not found"}`)
			return false
		}
		return true
	}
	checkComment := func(c zdComment) bool {
		for _, tok := range c.Uploads {
			if _, ok := f.uploads[tok]; !ok {
				zdError(w, 422, `{"error":"RecordInvalid","description":"Record validation errors","details":{"base":[{"description":"Upload token not found"}]}}`)
				return false
			}
		}
		if c.Body == "" || c.Public == nil {
			zdError(w, 422, `{"error":"RecordInvalid","description":"Record validation errors"}`)
			return false
		}
		return true
	}
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v2/tickets/"), ".json")
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/v2/uploads.json":
		name := r.URL.Query().Get("filename")
		if name == "" {
			zdError(w, 400, `{"error":"InvalidValue","description":"filename is required"}`)
			return
		}
		data, _ := io.ReadAll(r.Body)
		tok := fmt.Sprintf("6bk3gql82em5nm%d", len(f.uploads))
		f.uploads[tok] = Attachment{Name: name, ContentType: r.Header.Get("Content-Type"), Data: data}
		zdError(w, 201, fmt.Sprintf(`{"upload":{"token":%q,"expires_at":"2026-03-04T09:30:00Z","attachment":{"file_name":%q,"size":%d}}}`, tok, name, len(data)))
	case r.Method == "POST" && r.URL.Path == "/api/v2/tickets.json":
		var body struct {
			Ticket struct {
				Subject string
				Comment zdComment
			}
		}
		if !decode(&body) || !checkComment(body.Ticket.Comment) {
			return
		}
		f.subject = body.Ticket.Subject
		f.comments["35437"] = []zdComment{body.Ticket.Comment}
		zdError(w, 201, `{"ticket":{"id":35437,"subject":"x","status":"new","url":"https://example.zendesk.com/api/v2/tickets/35437.json"}}`)
	case f.comments[id] == nil && id != "35436":
		zdError(w, 404, `{"error":"RecordNotFound","description":"Not found"}`)
	case r.Method == "GET":
		zdError(w, 200, `{"ticket":{"id":`+id+`,"status":"open"}}`)
	case r.Method == "PUT":
		var body struct{ Ticket struct{ Comment zdComment } }
		if !decode(&body) || !checkComment(body.Ticket.Comment) {
			return
		}
		f.comments[id] = append(f.comments[id], body.Ticket.Comment)
		zdError(w, 200, `{"ticket":{"id":`+id+`},"audit":{"events":[{"type":"Comment","public":false}]}}`)
	default:
		zdError(w, 404, `{"error":"InvalidEndpoint","description":"Not found"}`)
	}
}

func (f *fakeZendesk) checkUploads(t *testing.T, c zdComment, m Message) {
	t.Helper()
	if len(c.Uploads) != len(m.Attachments) {
		t.Fatalf("the comment carries %d uploads, want %d", len(c.Uploads), len(m.Attachments))
	}
	for i, a := range m.Attachments {
		got := f.uploads[c.Uploads[i]]
		if got.Name != a.Name || got.ContentType != a.ContentType || !bytes.Equal(got.Data, a.Data) {
			t.Errorf("upload %d: %s %q %d bytes, sent %s %q %d bytes", i, got.Name, got.ContentType, len(got.Data), a.Name, a.ContentType, len(a.Data))
		}
	}
	if c.Public == nil || *c.Public {
		t.Errorf("the comment is public (%v); want an internal note", c.Public)
	}
}

func TestSendZendesk(t *testing.T) {
	token := "zd-" + planted
	f := newFakeZendesk("agent@example.com/token", token)
	env := map[string]string{"ZD": "agent@example.com/token:" + token}
	d := &Destination{Name: "zd", Type: "zendesk", Credential: Credential{"env:ZD"}, Getenv: func(k string) string { return env[k] }}
	s, srv := serve(t, f, d)
	ctx := context.Background()

	m := composed(t, "")
	rc := deliver(t, d, s, m)
	if rc.Ticket != "35437" || !rc.Created || rc.URL != srv.URL+"/agent/tickets/35437" {
		t.Errorf("receipt %+v", rc)
	}
	if f.subject != m.Subject || f.comments["35437"][0].Body != m.Body {
		t.Errorf("new ticket: subject %q", f.subject)
	}
	f.checkUploads(t, f.comments["35437"][0], m)

	f.calls = nil
	c := composed(t, "#35436")
	rc = deliver(t, d, s, c)
	if rc.Ticket != "35436" || rc.Created || rc.URL != srv.URL+"/agent/tickets/35436" {
		t.Errorf("comment receipt %+v", rc)
	}
	want := "GET /api/v2/tickets/35436.json POST /api/v2/uploads.json POST /api/v2/uploads.json PUT /api/v2/tickets/35436.json"
	if strings.Join(f.calls, " ") != want {
		t.Errorf("calls %s\nwant %s", strings.Join(f.calls, " "), want)
	}
	if got := f.comments["35436"]; len(got) != 1 || got[0].Body != c.Body {
		t.Fatalf("comments %+v", got)
	}
	f.checkUploads(t, f.comments["35436"][0], c)

	// A ticket that does not exist: not found, nothing uploaded.
	f.calls = nil
	if _, err := Deliver(ctx, d, s, composed(t, "99999")); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "99999") {
		t.Errorf("missing ticket: %v", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("calls after a missing ticket: %v", f.calls)
	}
	if _, err := Deliver(ctx, d, s, composed(t, "ZD-1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("not a number: %v", err)
	}

	// An OAuth access token.
	ob := &Destination{Name: "zd", Type: "zendesk", URL: srv.URL, Auth: "bearer", Credential: Credential{"env:ZDO"}, Getenv: func(string) string { return token }}
	so, err := New(ob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Deliver(ctx, ob, so, composed(t, "35436")); err != nil {
		t.Errorf("bearer: %v", err)
	}
}

func TestSendZendeskFailures(t *testing.T) {
	token := "zd-" + planted
	checkVendorFailures(t, func() http.Handler { return newFakeZendesk("a@example.com/token", token) },
		func(url string) *Destination {
			return &Destination{Name: "zd", Type: "zendesk", URL: url, Credential: Credential{"env:ZD"}, Getenv: func(string) string { return "a@example.com/token:" + token }}
		}, "35436", []vendorFailure{
			{name: "401", at: "GET /api/v2/tickets/", status: 401, want: ErrAuth, body: `{"error":"Couldn't authenticate you"}`, says: "Couldn't authenticate you"},
			{name: "403", at: "PUT /api/v2/tickets/", status: 403, want: ErrAuth,
				body: `{"error":"Forbidden","description":"You do not have access to this page. Please contact the account owner of this help desk for further help."}`, says: "You do not have access"},
			{name: "404", at: "GET /api/v2/tickets/", status: 404, want: ErrNotFound, body: `{"error":"RecordNotFound","description":"Not found"}`, says: "RecordNotFound"},
			{name: "413", at: "POST /api/v2/uploads.json", status: 413, want: ErrTooLarge, body: `{"error":"RequestEntityTooLarge","description":"File size exceeds the 50 MB limit"}`, says: "50 MB"},
			{name: "429 then ok", at: "POST /api/v2/uploads.json", status: 429, retryAfter: "1", times: 1, body: `Too Many Requests`},
			{name: "429 too long", at: "PUT /api/v2/tickets/", status: 429, retryAfter: "93", want: ErrUnavailable, body: `Too Many Requests`, says: "asked to wait 1m33s"},
		}, token)
}
