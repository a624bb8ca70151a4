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

// The GitLab fake answers as GitLab's REST API v4 documentation says; it
// was written from the documentation, not recorded from a GitLab:
//
//   - https://docs.gitlab.com/ee/api/issues.html (GET and POST
//     /projects/:id/issues[/:issue_iid], "title" and "description",
//     answering "iid" and "web_url");
//   - https://docs.gitlab.com/ee/api/notes.html#create-new-issue-note
//     (POST /projects/:id/issues/:issue_iid/notes {"body"});
//   - https://docs.gitlab.com/ee/api/projects.html#upload-a-file (POST
//     /projects/:id/uploads, multipart field "file", answering 201
//     {"alt": "dk", "url": "/uploads/66dbcd21ec5d24ed6ea225176098d52b/dk.png",
//     "full_path": ..., "markdown": "![dk](/uploads/66dbcd21ec5d24ed6ea225176098d52b/dk.png)"});
//   - https://docs.gitlab.com/ee/api/rest/index.html#namespaced-paths
//     (a path as id, URL-encoded: group%2Fapp) and
//     https://docs.gitlab.com/ee/api/rest/authentication.html (PRIVATE-TOKEN);
//   - errors, https://docs.gitlab.com/ee/api/rest/troubleshooting.html and
//     https://docs.gitlab.com/ee/api/rest/index.html#status-codes
//     ({"message": "401 Unauthorized"}, {"message": "404 Issue Not
//     Found"}), and rate limits, https://docs.gitlab.com/ee/security/rate_limits.html
//     (429 "Retry later" with Retry-After). The 403 and 413 wording in
//     TestSendGitLabFailures is illustrative, in that documented shape.
type fakeGitLab struct {
	mu      sync.Mutex
	token   string
	calls   []string
	uploads map[string]Attachment // url → file
	issues  map[string][]string   // iid → description, then notes
	title   string
}

func newFakeGitLab(token string) *fakeGitLab {
	return &fakeGitLab{token: token, uploads: map[string]Attachment{}, issues: map[string][]string{"42": {"An issue"}}}
}

func glError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.EscapedPath()
	f.calls = append(f.calls, r.Method+" "+path)
	if r.Header.Get("PRIVATE-TOKEN") != f.token && r.Header.Get("Authorization") != "Bearer "+f.token {
		glError(w, 401, "401 Unauthorized")
		return
	}
	rest, ok := strings.CutPrefix(path, "/api/v4/projects/group%2Fapp")
	if !ok {
		glError(w, 404, "404 Project Not Found")
		return
	}
	web := "https://gitlab.example.com/group/app/-/issues/"
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "POST" && rest == "/uploads":
		if err := r.ParseMultipartForm(32 << 20); err != nil || len(r.MultipartForm.File["file"]) != 1 {
			glError(w, 400, "400 Bad request - file is missing")
			return
		}
		fh := r.MultipartForm.File["file"][0]
		fd, _ := fh.Open()
		data, _ := io.ReadAll(fd)
		u := fmt.Sprintf("/uploads/66dbcd21ec5d24ed6ea225176098d5%02d/%s", len(f.uploads), fh.Filename)
		f.uploads[u] = Attachment{Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data}
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"id": 5, "alt": strings.TrimSuffix(fh.Filename, ".html"), "url": u,
			"full_path": "/-/project/1234" + u, "markdown": "[" + fh.Filename + "](" + u + ")"})
	case r.Method == "POST" && rest == "/issues":
		var body struct{ Title, Description string }
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Title == "" {
			glError(w, 400, "400 Bad request - title is missing")
			return
		}
		f.title, f.issues["43"] = body.Title, []string{body.Description}
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":84,"iid":43,"project_id":1234,"title":%q,"state":"opened","web_url":"%s43"}`, body.Title, web)
	default:
		iid, sub, _ := strings.Cut(strings.TrimPrefix(rest, "/issues/"), "/")
		if _, ok := f.issues[iid]; !ok || !strings.HasPrefix(rest, "/issues/") {
			glError(w, 404, "404 Issue Not Found")
			return
		}
		switch {
		case r.Method == "GET" && sub == "":
			fmt.Fprintf(w, `{"id":83,"iid":%s,"project_id":1234,"state":"opened","web_url":"%s%s"}`, iid, web, iid)
		case r.Method == "POST" && sub == "notes":
			var body struct{ Body string }
			if json.NewDecoder(r.Body).Decode(&body) != nil || body.Body == "" {
				glError(w, 400, "400 Bad request - body is missing")
				return
			}
			f.issues[iid] = append(f.issues[iid], body.Body)
			w.WriteHeader(201)
			io.WriteString(w, `{"id":302,"body":"...","noteable_type":"Issue","noteable_iid":`+iid+`}`)
		default:
			glError(w, 404, "404 Not found")
		}
	}
}

// checkLinked checks that text links each attachment, and that the link
// leads to the bytes that were sent.
func (f *fakeGitLab) checkLinked(t *testing.T, text string, m Message) {
	t.Helper()
	if !strings.HasPrefix(text, m.Body) {
		t.Error("the text does not start with the report")
	}
	for _, a := range m.Attachments {
		found := false
		for u, got := range f.uploads {
			if got.Name == a.Name && bytes.Equal(got.Data, a.Data) && got.ContentType == a.ContentType && strings.Contains(text, "["+a.Name+"]("+u+")") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is not uploaded and linked:\n%s", a.Name, text[len(m.Body):])
		}
	}
}

func TestSendGitLab(t *testing.T) {
	token := "glpat-" + planted
	f := newFakeGitLab(token)
	d := &Destination{Name: "gl", Type: "gitlab", Project: "group/app", Credential: Credential{"env:GL"},
		Getenv: func(string) string { return token }}
	s, srv := serve(t, f, d)
	ctx := context.Background()

	m := composed(t, "")
	rc := deliver(t, d, s, m)
	if rc.Ticket != "#43" || !rc.Created || rc.URL != "https://gitlab.example.com/group/app/-/issues/43" {
		t.Errorf("receipt %+v", rc)
	}
	if f.title != m.Subject {
		t.Errorf("title %q", f.title)
	}
	f.checkLinked(t, f.issues["43"][0], m)

	f.calls = nil
	c := composed(t, "#42")
	rc = deliver(t, d, s, c)
	if rc.Ticket != "#42" || rc.Created || rc.URL != "https://gitlab.example.com/group/app/-/issues/42#note_302" {
		t.Errorf("note receipt %+v", rc)
	}
	want := "GET /api/v4/projects/group%2Fapp/issues/42 POST /api/v4/projects/group%2Fapp/uploads POST /api/v4/projects/group%2Fapp/uploads POST /api/v4/projects/group%2Fapp/issues/42/notes"
	if strings.Join(f.calls, " ") != want {
		t.Errorf("calls %s\nwant  %s", strings.Join(f.calls, " "), want)
	}
	f.checkLinked(t, f.issues["42"][1], c)

	// An issue that does not exist: not found, nothing uploaded.
	f.calls = nil
	if _, err := Deliver(ctx, d, s, composed(t, "99")); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "404 Issue Not Found") {
		t.Errorf("missing issue: %v", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("calls after a missing issue: %v", f.calls)
	}

	// An OAuth token.
	ob := &Destination{Name: "gl", Type: "gitlab", URL: srv.URL, Project: "group/app", Auth: "bearer", Credential: Credential{"env:GL"},
		Getenv: func(string) string { return token }}
	so, err := New(ob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Deliver(ctx, ob, so, composed(t, "42")); err != nil {
		t.Errorf("bearer: %v", err)
	}

	// A report over a note's limit: cut with a note, the links kept.
	if got := gitlabBody(strings.Repeat("x\n", gitlabMaxBody), []string{"[a.html](/uploads/1/a.html)"}); utf16Len(got) > gitlabMaxBody ||
		!strings.Contains(got, "1,000,000-character limit") || !strings.HasSuffix(got, "- [a.html](/uploads/1/a.html)\n") {
		t.Errorf("cut body of %d characters ends %q", utf16Len(got), got[len(got)-200:])
	}
}

func TestSendGitLabFailures(t *testing.T) {
	token := "glpat-" + planted
	checkVendorFailures(t, func() http.Handler { return newFakeGitLab(token) },
		func(url string) *Destination {
			return &Destination{Name: "gl", Type: "gitlab", URL: url, Project: "group/app", Credential: Credential{"env:GL"}, Getenv: func(string) string { return token }}
		}, "42", []vendorFailure{
			{name: "401", at: "GET /api/v4/projects/", status: 401, want: ErrAuth, body: `{"message":"401 Unauthorized"}`, says: "401 Unauthorized"},
			{name: "403", at: "POST /api/v4/projects/group/app/issues/42/notes", status: 403, want: ErrAuth, body: `{"message":"403 Forbidden"}`, says: "403 Forbidden"},
			{name: "404", at: "GET /api/v4/projects/", status: 404, want: ErrNotFound, body: `{"message":"404 Project Not Found"}`, says: "404 Project Not Found"},
			{name: "413", at: "POST /api/v4/projects/group/app/uploads", status: 413, want: ErrTooLarge, body: `{"message":"413 Request Entity Too Large"}`, says: "413 Request Entity Too Large"},
			{name: "429 then ok", at: "POST /api/v4/projects/group/app/uploads", status: 429, retryAfter: "1", times: 1, body: "Retry later\n"},
			{name: "429 too long", at: "GET /api/v4/projects/", status: 429, retryAfter: "60", want: ErrUnavailable, body: "Retry later\n", says: "Retry later (it asked to wait 1m0s)"},
		}, token)
}

// TestVendorDestinations: the four types are known to the config file's
// checks, with their own mistakes named by field (the config parser
// turns the field into file:line:col).
func TestVendorDestinations(t *testing.T) {
	for _, typ := range []string{"servicenow", "zendesk", "github", "gitlab"} {
		if !strings.Contains(strings.Join(Types(), ","), typ) {
			t.Errorf("type %s is not registered", typ)
		}
	}
	for _, tc := range []struct {
		d     Destination
		field string // "" when d is right
	}{
		{Destination{Type: "servicenow", URL: "https://acme.service-now.com", Credential: Credential{"env:SN"}}, ""},
		{Destination{Type: "servicenow", URL: "https://acme.service-now.com", Table: "sc_req_item", Auth: "bearer"}, ""},
		{Destination{Type: "servicenow", URL: "https://acme.service-now.com", Table: "incident^ORactive=true"}, "table"},
		{Destination{Type: "servicenow", URL: "https://acme.service-now.com", Auth: "token"}, "auth"},
		{Destination{Type: "zendesk", URL: "https://acme.zendesk.com", Credential: Credential{"file:~/.config/triage/zendesk"}}, ""},
		{Destination{Type: "zendesk", URL: "http://acme.zendesk.com"}, "url"},
		{Destination{Type: "github", URL: "https://api.github.com", Project: "octocat/Hello-World"}, ""},
		{Destination{Type: "github", URL: "https://api.github.com", Project: "Hello-World"}, "project"},
		{Destination{Type: "github", URL: "https://api.github.com", Project: "o/r", Auth: "basic"}, "auth"},
		{Destination{Type: "gitlab", URL: "https://gitlab.example.com", Project: "group/sub/app"}, ""},
		{Destination{Type: "gitlab", URL: "https://gitlab.example.com", Project: "1234", Auth: "bearer"}, ""},
		{Destination{Type: "gitlab", URL: "https://gitlab.example.com"}, "project"},
	} {
		ps := tc.d.Problems()
		switch {
		case tc.field == "" && len(ps) > 0:
			t.Errorf("%s %+v: %v", tc.d.Type, tc.d, ps)
		case tc.field != "" && (len(ps) != 1 || ps[0].Field != tc.field):
			t.Errorf("%s %+v: %v, want one problem in %s", tc.d.Type, tc.d, ps, tc.field)
		}
	}
}
