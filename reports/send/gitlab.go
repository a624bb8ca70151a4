package send

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// GitLab issues, through REST API v4
// (https://docs.gitlab.com/ee/api/issues.html,
// https://docs.gitlab.com/ee/api/notes.html#create-new-issue-note,
// https://docs.gitlab.com/ee/api/projects.html#upload-a-file):
//
//   - an existing issue is read first: GET /api/v4/projects/ID/issues/IID,
//     404 {"message": "404 Not found"} when there is none (so nothing is
//     uploaded for a wrong --ticket);
//   - each file: POST /api/v4/projects/ID/uploads, multipart field
//     "file"; answer 201 {"alt", "url", "full_path", "markdown":
//     "[name](/uploads/…/name)"}: the markdown is embedded in the text,
//     which is what attaches the file to the issue;
//   - a note: POST /api/v4/projects/ID/issues/IID/notes {"body"}; answer
//     201 {"id", ...}; the receipt links it as WEB_URL#note_ID;
//   - a new issue: POST /api/v4/projects/ID/issues {"title",
//     "description"}; answer 201 {"iid", "web_url", ...}.
//
// ID is the project's number or its path (group/app), which is sent
// URL-encoded (group%2Fapp) as the API asks. The credential is a personal,
// project or group access token sent as "PRIVATE-TOKEN" (auth: token, the
// default) or an OAuth token (auth: bearer,
// https://docs.gitlab.com/ee/api/rest/authentication.html). A note or a
// description holds at most 1,000,000 characters; a longer report is cut,
// with a note saying so (the files hold all of it).

func init() { register("gitlab", newGitLab) }

const gitlabMaxBody = 1000000

type gitlabSender struct {
	api     *api
	project string
}

func newGitLab(d *Destination, secret string) (Sender, error) {
	a, err := newAPI(d, secret)
	if err != nil {
		return nil, err
	}
	if d.auth() == "token" {
		a.authorize = func(r *http.Request) { r.Header.Set("PRIVATE-TOKEN", secret) }
	}
	return &gitlabSender{api: a, project: d.Project}, nil
}

type gitlabIssue struct {
	IID    json.Number `json:"iid"`
	WebURL string      `json:"web_url"`
}

func (s *gitlabSender) Send(ctx context.Context, m Message) (Receipt, error) {
	projPath := "/api/v4/projects/" + url.PathEscape(s.project)
	var issue gitlabIssue
	if m.Ticket != "" {
		n, ok := githubNumber(m.Ticket)
		if !ok {
			return Receipt{}, fmt.Errorf("%w: %q is not an issue number such as 42 or #42", ErrNotFound, m.Ticket)
		}
		ans, err := s.api.do(ctx, request{method: http.MethodGet, path: projPath + "/issues/" + n, what: "looking up issue #" + n + " of " + s.project})
		if err != nil {
			return Receipt{}, err
		}
		if err := ans.decode(&issue); err != nil {
			return Receipt{}, err
		}
		if issue.IID == "" {
			issue.IID = json.Number(n)
		}
	}
	var links []string
	for _, a := range m.Attachments {
		body, ctype, err := multipartBody([]formPart{{field: "file", filename: a.Name, contentType: a.ContentType, data: a.Data}})
		if err != nil {
			return Receipt{}, err
		}
		ans, err := s.api.do(ctx, request{method: http.MethodPost, path: projPath + "/uploads", contentType: ctype, body: body,
			what: "uploading " + a.Name + " to " + s.project})
		if err != nil {
			return Receipt{}, err
		}
		var up struct {
			Markdown string `json:"markdown"`
		}
		if err := ans.decode(&up); err != nil {
			return Receipt{}, err
		}
		if up.Markdown == "" {
			return Receipt{}, fmt.Errorf("%w: uploading %s: GitLab answered without the file's markdown", ErrRejected, a.Name)
		}
		links = append(links, up.Markdown)
	}
	text := gitlabBody(m.Body, links)
	if issue.IID != "" {
		iid := issue.IID.String()
		req, err := jsonRequest(http.MethodPost, projPath+"/issues/"+iid+"/notes", "commenting on issue #"+iid+" of "+s.project, map[string]string{"body": text})
		if err != nil {
			return Receipt{}, err
		}
		ans, err := s.api.do(ctx, req)
		if err != nil {
			return Receipt{}, err
		}
		rc := Receipt{Ticket: "#" + iid, URL: issue.WebURL}
		var note struct {
			ID json.Number `json:"id"`
		}
		if ans.decode(&note) == nil && note.ID != "" && rc.URL != "" {
			rc.URL += "#note_" + note.ID.String()
		}
		return rc, nil
	}
	req, err := jsonRequest(http.MethodPost, projPath+"/issues", "creating an issue in "+s.project,
		map[string]string{"title": cut(m.Subject, 250), "description": text})
	if err != nil {
		return Receipt{}, err
	}
	ans, err := s.api.do(ctx, req)
	if err != nil {
		return Receipt{}, err
	}
	if err := ans.decode(&issue); err != nil {
		return Receipt{}, err
	}
	if issue.IID == "" {
		return Receipt{}, fmt.Errorf("%w: creating an issue in %s: GitLab answered without an issue number", ErrRejected, s.project)
	}
	return Receipt{Ticket: "#" + issue.IID.String(), URL: issue.WebURL, Created: true}, nil
}

// gitlabBody is the report followed by the uploaded files' links, cut to
// what a note holds.
func gitlabBody(report string, links []string) string {
	var tail strings.Builder
	if len(links) > 0 {
		tail.WriteString("\n\n---\n**Attached:**\n\n")
		for _, l := range links {
			tail.WriteString("- " + l + "\n")
		}
	}
	if utf16Len(report)+utf16Len(tail.String()) <= gitlabMaxBody {
		return report + tail.String()
	}
	note := "\n\n**[The report was cut here at GitLab's 1,000,000-character limit; the attached files hold all of it.]**"
	return cutMarkdown(report, gitlabMaxBody-utf16Len(tail.String())-utf16Len(note)) + note + tail.String()
}
