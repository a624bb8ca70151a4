package send

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// GitHub issues, through the REST API
// (https://docs.github.com/en/rest/issues/issues#create-an-issue,
// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment):
//
//   - a comment: POST /repos/OWNER/REPO/issues/N/comments {"body"};
//     answer 201 {"id", "html_url", ...}; 404 when the issue does not
//     exist, and also when the token may not see the repository;
//   - a new issue: POST /repos/OWNER/REPO/issues {"title", "body"};
//     answer 201 {"number", "html_url", ...};
//   - every request with "Authorization: Bearer TOKEN", "Accept:
//     application/vnd.github+json" and "X-GitHub-Api-Version: 2022-11-28"
//     (https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api).
//
// The REST API takes no attachments (the web page's uploads are not part
// of it), so the HTML and JSON reports or the bundle stay where triage
// saved them: the comment names each file with its size and SHA-256, and
// the receipt's note says they were not sent. A body holds at most 65,536
// characters; a longer report is cut, with a note saying so.
//
// GitHub answers an exhausted rate limit with 403 (or 429) and
// "x-ratelimit-remaining: 0", naming the reset time in
// x-ratelimit-reset, and a secondary rate limit with 403 or 429 and
// Retry-After or the message "secondary rate limit"
// (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit):
// those are retried like any 429, not reported as a refused credential.
//
// The URL is https://api.github.com, or https://HOST/api/v3 for GitHub
// Enterprise Server; project: is OWNER/REPO; the credential a fine-grained
// or classic personal access token (or an app's installation token) that
// may write issues.

func init() { register("github", newGitHub) }

// githubMaxBody is the most characters an issue's or a comment's body
// holds.
const githubMaxBody = 65536

type githubSender struct {
	api         *api
	owner, repo string
}

func newGitHub(d *Destination, secret string) (Sender, error) {
	a, err := newAPI(d, secret)
	if err != nil {
		return nil, err
	}
	a.client.Transport = githubRateLimit{a.client.Transport}
	owner, repo, _ := strings.Cut(d.Project, "/")
	return &githubSender{api: a, owner: owner, repo: repo}, nil
}

var githubHeader = http.Header{
	"Accept":               {"application/vnd.github+json"},
	"X-Github-Api-Version": {"2022-11-28"},
}

func (s *githubSender) Send(ctx context.Context, m Message) (Receipt, error) {
	repoPath := "/repos/" + url.PathEscape(s.owner) + "/" + url.PathEscape(s.repo)
	full := s.owner + "/" + s.repo
	body := githubBody(m.Body, m.Attachments, githubMaxBody)
	var rc Receipt
	if len(m.Attachments) > 0 {
		names := make([]string, len(m.Attachments))
		for i, a := range m.Attachments {
			names[i] = a.Name
		}
		rc.Note = "GitHub's API takes no attachments: " + strings.Join(names, ", ") + " stayed on this machine; the comment names them"
	}
	var req request
	var err error
	if m.Ticket == "" {
		req, err = jsonRequest(http.MethodPost, repoPath+"/issues", "creating an issue in "+full,
			map[string]string{"title": cut(m.Subject, 250), "body": body})
		rc.Created = true
	} else {
		n, ok := githubNumber(m.Ticket)
		if !ok {
			return Receipt{}, fmt.Errorf("%w: %q is not an issue number such as 17 or #17", ErrNotFound, m.Ticket)
		}
		rc.Ticket = "#" + n
		req, err = jsonRequest(http.MethodPost, repoPath+"/issues/"+n+"/comments", "commenting on issue #"+n+" of "+full,
			map[string]string{"body": body})
	}
	if err != nil {
		return Receipt{}, err
	}
	req.header = githubHeader
	ans, err := s.api.do(ctx, req)
	if errors.Is(err, ErrNotFound) {
		return Receipt{}, fmt.Errorf("%w (GitHub also answers 404 when the token may not see %s)", err, full)
	}
	if err != nil {
		return Receipt{}, err
	}
	var out struct {
		Number  json.Number `json:"number"`
		HTMLURL string      `json:"html_url"`
	}
	if err := ans.decode(&out); err != nil {
		return Receipt{}, err
	}
	if rc.Created {
		if out.Number == "" {
			return Receipt{}, fmt.Errorf("%w: creating an issue in %s: GitHub answered without an issue number", ErrRejected, full)
		}
		rc.Ticket = "#" + out.Number.String()
	}
	rc.URL = out.HTMLURL
	return rc, nil
}

// githubNumber reads an issue number: 17, #17, OWNER/REPO#17 or the
// issue's URL.
func githubNumber(t string) (string, bool) {
	t = strings.TrimRight(strings.TrimSpace(t), "/")
	if i := strings.LastIndexAny(t, "#/"); i >= 0 {
		t = t[i+1:]
	}
	return t, t != "" && strings.Trim(t, "0123456789") == "" && strings.Trim(t, "0") != ""
}

// githubBody is the report with a list of the files that could not be
// sent, cut to limit characters (UTF-16 code units, which is what the
// limit counts at worst) with a note saying where the rest is.
func githubBody(report string, atts []Attachment, limit int) string {
	var tail strings.Builder
	if len(atts) > 0 {
		tail.WriteString("\n\n---\n**Files not attached** (GitHub's API takes no attachments); they were saved where triage ran:\n\n")
		for _, a := range atts {
			sum := sha256.Sum256(a.Data)
			fmt.Fprintf(&tail, "- `%s` (%s, SHA-256 `%s`)\n", strings.ReplaceAll(a.Name, "`", "'"), humanBytes(int64(len(a.Data))), hex.EncodeToString(sum[:]))
		}
		tail.WriteString("\nDrag them into a comment, or link the bundle where your organisation keeps it.\n")
	}
	if utf16Len(report)+utf16Len(tail.String()) <= limit {
		return report + tail.String()
	}
	note := "\n\n**[The report was cut here at GitHub's 65,536-character limit; the full report is in the HTML and JSON files.]**"
	return cutMarkdown(report, limit-utf16Len(tail.String())-utf16Len(note)) + note + tail.String()
}

// cutMarkdown shortens Markdown to at most room UTF-16 code units, at the
// end of a line, closing a code block the cut left open.
func cutMarkdown(md string, room int) string {
	kept := cutUTF16(md, room-len("\n```"))
	if i := strings.LastIndexByte(kept, '\n'); i > len(kept)/2 {
		kept = kept[:i] // end on a whole line
	}
	if strings.Count("\n"+kept, "\n```")%2 == 1 {
		kept += "\n```" // close a code block the cut left open
	}
	return kept
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutUTF16 keeps the longest prefix of s of at most n UTF-16 code units.
func cutUTF16(s string, n int) string {
	used := 0
	for i, r := range s {
		used += utf16.RuneLen(r)
		if used > n {
			return s[:i]
		}
	}
	return s
}

// githubRateLimit turns GitHub's rate-limit answers, which may come as
// 403, into a 429 with the Retry-After they mean, so that they are
// waited for and retried rather than reported as a refused credential.
type githubRateLimit struct{ next http.RoundTripper }

func (t githubRateLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests) {
		return resp, err
	}
	var wait string
	switch {
	case resp.Header.Get("Retry-After") != "":
		wait = resp.Header.Get("Retry-After")
	case resp.Header.Get("X-Ratelimit-Remaining") == "0":
		reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64)
		if err != nil {
			wait = "60"
		} else {
			wait = strconv.FormatInt(max(time.Until(time.Unix(reset, 0)).Milliseconds()/1000+1, 1), 10)
		}
	default:
		// A secondary rate limit without a Retry-After: GitHub asks to wait
		// at least a minute.
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
		if !bytes.Contains(bytes.ToLower(data), []byte("secondary rate limit")) {
			return resp, nil
		}
		wait = "60"
	}
	resp.Header.Set("Retry-After", wait)
	if resp.StatusCode == http.StatusForbidden {
		resp.Status = "403 Forbidden (rate limit)"
	}
	resp.StatusCode = http.StatusTooManyRequests
	return resp, nil
}
