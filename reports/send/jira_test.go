package send

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSendJira follows Jira's REST API v2 documentation (cited in
// jira.go): the create-issue body, the comment body, and the attachments
// upload with "X-Atlassian-Token: no-check" and multipart field "file".
// Written from the documentation, not run against a Jira.
func TestSendJira(t *testing.T) {
	var calls []string
	files := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.Method+" "+r.URL.Path)
		if u, p, ok := r.BasicAuth(); !ok || u != "me@example.com" || p != "api-"+planted {
			w.WriteHeader(401)
			io.WriteString(w, `{"errorMessages":["You are not authenticated. Authentication required to perform this operation."],"errors":{}}`)
			return
		}
		switch r.URL.Path {
		case "/rest/api/2/issue":
			var body struct {
				Fields struct {
					Project   struct{ Key string }
					Summary   string
					IssueType struct{ Name string } `json:"issuetype"`
				}
			}
			json.NewDecoder(r.Body).Decode(&body)
			if body.Fields.Project.Key != "OPS" || body.Fields.Summary == "" || body.Fields.IssueType.Name != "Task" {
				w.WriteHeader(400)
				io.WriteString(w, `{"errorMessages":[],"errors":{"project":"valid project is required"}}`)
				return
			}
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"10000","key":"OPS-24","self":"`+"http://"+r.Host+`/rest/api/2/issue/10000"}`)
		case "/rest/api/2/issue/OPS-24/attachments":
			if r.Header.Get("X-Atlassian-Token") != "no-check" {
				w.WriteHeader(403)
				io.WriteString(w, `XSRF check failed`)
				return
			}
			r.ParseMultipartForm(32 << 20)
			for _, fh := range r.MultipartForm.File["file"] {
				files[fh.Filename] = int(fh.Size)
			}
			io.WriteString(w, `[]`)
		case "/rest/api/2/issue/OPS-24/comment":
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"10010"}`)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`)
		}
	}))
	defer srv.Close()
	env := map[string]string{"JIRA": "me@example.com:api-" + planted}
	d := &Destination{Name: "jira", Type: "jira", URL: srv.URL, Project: "OPS", Credential: Credential{"env:JIRA"}, Getenv: func(k string) string { return env[k] }}
	s, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	m := composed(t, "")
	rc, err := Deliver(context.Background(), d, s, m)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Ticket != "OPS-24" || rc.URL != srv.URL+"/browse/OPS-24" || !rc.Created {
		t.Errorf("receipt %+v", rc)
	}
	for _, a := range m.Attachments {
		if files[a.Name] != len(a.Data) {
			t.Errorf("attachment %s: %d bytes, sent %d", a.Name, files[a.Name], len(a.Data))
		}
	}
	if _, err := Deliver(context.Background(), d, s, composed(t, "ops-24")); err != nil {
		t.Errorf("comment: %v", err)
	}
	_, err = Deliver(context.Background(), d, s, composed(t, "OPS-99"))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing issue: %v", err)
	}
	env["JIRA"] = "me@example.com:wrong"
	bad, _ := New(d)
	if _, err = Deliver(context.Background(), d, bad, m); !errors.Is(err, ErrAuth) {
		t.Errorf("bad token: %v", err)
	}
}
