package send

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Jira Software and Service Management, Cloud and Data Center, through
// REST API v2 (plain-text bodies; v3 wants Atlassian Document Format):
//
//   - a new issue: POST /rest/api/2/issue {"fields": {"project": {"key"},
//     "summary", "description", "issuetype": {"name"}}}; answer 201
//     {"id", "key", "self"}
//     (https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post);
//   - a comment: POST /rest/api/2/issue/KEY/comment {"body"}; answer 201
//     (…/api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-post);
//   - attachments: POST /rest/api/2/issue/KEY/attachments, multipart
//     field "file", with the header "X-Atlassian-Token: no-check" without
//     which Jira refuses the upload (XSRF check)
//     (…/api-group-issue-attachments/#api-rest-api-2-issue-issueidorkey-attachments-post).
//
// The credential is EMAIL:API_TOKEN on Cloud (auth: basic, the default)
// or a personal access token on Data Center (auth: bearer). The page of
// an issue is /browse/KEY.

func init() { register("jira", newJira) }

type jiraSender struct {
	api       *api
	project   string
	issueType string
}

func newJira(d *Destination, secret string) (Sender, error) {
	a, err := newAPI(d, secret)
	if err != nil {
		return nil, err
	}
	it := d.IssueType
	if it == "" {
		it = "Task"
	}
	return &jiraSender{api: a, project: d.Project, issueType: it}, nil
}

func (s *jiraSender) Send(ctx context.Context, m Message) (Receipt, error) {
	key := strings.ToUpper(strings.TrimSpace(m.Ticket))
	created := key == ""
	if created {
		var fields struct {
			Fields struct {
				Project struct {
					Key string `json:"key"`
				} `json:"project"`
				Summary     string `json:"summary"`
				Description string `json:"description"`
				IssueType   struct {
					Name string `json:"name"`
				} `json:"issuetype"`
			} `json:"fields"`
		}
		fields.Fields.Project.Key = s.project
		fields.Fields.Summary = cut(m.Subject, 250) // Jira's summary holds 255 characters
		fields.Fields.Description = m.Body
		fields.Fields.IssueType.Name = s.issueType
		req, err := jsonRequest(http.MethodPost, "/rest/api/2/issue", "creating an issue in project "+s.project, fields)
		if err != nil {
			return Receipt{}, err
		}
		ans, err := s.api.do(ctx, req)
		if err != nil {
			return Receipt{}, err
		}
		var issue struct{ Key string }
		if err := ans.decode(&issue); err != nil {
			return Receipt{}, err
		}
		key = issue.Key
	} else {
		req, err := jsonRequest(http.MethodPost, "/rest/api/2/issue/"+url.PathEscape(key)+"/comment", "commenting on "+key, map[string]string{"body": m.Body})
		if err != nil {
			return Receipt{}, err
		}
		if _, err := s.api.do(ctx, req); err != nil {
			return Receipt{}, err
		}
	}
	rc := Receipt{Ticket: key, URL: s.api.endpoint("/browse/"+url.PathEscape(key), nil), Created: created}
	if len(m.Attachments) == 0 {
		return rc, nil
	}
	var parts []formPart
	for _, a := range m.Attachments {
		parts = append(parts, formPart{field: "file", filename: a.Name, contentType: a.ContentType, data: a.Data})
	}
	body, ctype, err := multipartBody(parts)
	if err != nil {
		return rc, err
	}
	req := request{method: http.MethodPost, path: "/rest/api/2/issue/" + url.PathEscape(key) + "/attachments", contentType: ctype, body: body,
		header: http.Header{"X-Atlassian-Token": {"no-check"}}, what: "attaching the reports to " + key}
	if _, err := s.api.do(ctx, req); err != nil {
		return rc, err
	}
	return rc, nil
}
