package send

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The GitHub fake answers as GitHub's REST API documentation says; it was
// written from the documentation, not recorded from github.com:
//
//   - https://docs.github.com/en/rest/issues/issues#create-an-issue
//     (POST /repos/{owner}/{repo}/issues {"title", "body"}, 201 with
//     "number" and "html_url");
//   - https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
//     (POST /repos/{owner}/{repo}/issues/{issue_number}/comments {"body"},
//     201 with "html_url" ".../issues/1347#issuecomment-1");
//   - headers, https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api
//     (Accept: application/vnd.github+json, X-GitHub-Api-Version: 2022-11-28,
//     Authorization: Bearer);
//   - errors, https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
//     ({"message": "Bad credentials", "documentation_url": ..., "status": "401"},
//     {"message": "Not Found"}, 422 "Validation Failed" with a body over
//     65536 characters), and rate limits,
//     https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
//     (403 or 429 with x-ratelimit-remaining: 0 and x-ratelimit-reset, or
//     retry-after). The 413 in TestSendGitHubFailures is illustrative.
type fakeGitHub struct {
	mu       sync.Mutex
	token    string
	issues   map[int]string // number → title
	comments map[int][]string
	calls    []string
}

func newFakeGitHub(token string) *fakeGitHub {
	return &fakeGitHub{token: token, issues: map[int]string{1347: "Found a bug"}, comments: map[int][]string{}}
}

func ghError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest","status":"%d"}`, msg, status)
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		ghError(w, 401, "Bad credentials")
		return
	}
	if r.Header.Get("Accept") != "application/vnd.github+json" || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
		ghError(w, 400, "Unsupported API version or media type")
		return
	}
	var body struct{ Title, Body string }
	if r.Method != "POST" || json.NewDecoder(r.Body).Decode(&body) != nil {
		ghError(w, 400, "Problems parsing JSON")
		return
	}
	if len([]rune(body.Body)) > githubMaxBody {
		w.WriteHeader(422)
		io.WriteString(w, `{"message":"Validation Failed","errors":[{"resource":"Issue","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}],"documentation_url":"https://docs.github.com/rest/issues/issues#create-an-issue","status":"422"}`)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/repos/octocat/Hello-World/issues")
	if !ok {
		ghError(w, 404, "Not Found")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if rest == "" {
		if body.Title == "" {
			w.WriteHeader(422)
			io.WriteString(w, `{"message":"Validation Failed","errors":[{"resource":"Issue","code":"missing_field","field":"title"}],"status":"422"}`)
			return
		}
		n := 1348
		f.issues[n], f.comments[n] = body.Title, []string{body.Body}
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":1,"number":%d,"html_url":"https://github.com/octocat/Hello-World/issues/%d","title":%q,"state":"open"}`, n, n, body.Title)
		return
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/comments"))
	if _, ok := f.issues[n]; !ok || !strings.HasSuffix(rest, "/comments") {
		ghError(w, 404, "Not Found")
		return
	}
	f.comments[n] = append(f.comments[n], body.Body)
	w.WriteHeader(201)
	fmt.Fprintf(w, `{"id":1,"html_url":"https://github.com/octocat/Hello-World/issues/%d#issuecomment-1","body":"..."}`, n)
}

func TestSendGitHub(t *testing.T) {
	token := "github_pat_" + planted
	f := newFakeGitHub(token)
	d := &Destination{Name: "gh", Type: "github", Project: "octocat/Hello-World", Credential: Credential{"env:GH"},
		Getenv: func(string) string { return token }}
	s, _ := serve(t, f, d)
	ctx := context.Background()

	m := composed(t, "")
	rc := deliver(t, d, s, m)
	if rc.Ticket != "#1348" || !rc.Created || rc.URL != "https://github.com/octocat/Hello-World/issues/1348" {
		t.Errorf("receipt %+v", rc)
	}
	if !strings.Contains(rc.Note, "triage-report.html") || f.issues[1348] != m.Subject {
		t.Errorf("note %q, title %q", rc.Note, f.issues[1348])
	}
	got := f.comments[1348][0]
	if !strings.HasPrefix(got, m.Body) {
		t.Error("the issue's body does not start with the report")
	}
	for _, a := range m.Attachments {
		if !strings.Contains(got, "`"+a.Name+"`") {
			t.Errorf("the body does not name %s:\n%s", a.Name, got[len(m.Body):])
		}
	}

	for _, ticket := range []string{"1347", "#1347", "octocat/Hello-World#1347", "https://github.com/octocat/Hello-World/issues/1347"} {
		rc, err := Deliver(ctx, d, s, composed(t, ticket))
		if err != nil {
			t.Fatalf("%s: %v", ticket, err)
		}
		if rc.Ticket != "#1347" || rc.Created || rc.URL != "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1" {
			t.Errorf("%s: receipt %+v", ticket, rc)
		}
	}

	// A report over the limit: cut, with a note, the file list kept, and
	// GitHub takes it.
	long := composed(t, "1347")
	long.Body = "# Report\n\n```\n" + strings.Repeat("line of evidence 😀\n", 6000) + "```\n"
	if _, err := Deliver(ctx, d, s, long); err != nil {
		t.Fatal(err)
	}
	c := f.comments[1347][len(f.comments[1347])-1]
	if utf16Len(c) > githubMaxBody || !strings.Contains(c, "cut here at GitHub's 65,536-character limit") || !strings.Contains(c, "`triage-report.json`") {
		t.Errorf("cut body: %d UTF-16 units, ends %q", utf16Len(c), c[len(c)-400:])
	}
	if strings.Count(c, "```")%2 != 0 {
		t.Error("the cut left a code block open")
	}

	// An issue that does not exist, or a repository the token may not see.
	_, err := Deliver(ctx, d, s, composed(t, "9999"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "#9999 of octocat/Hello-World") {
		t.Errorf("missing issue: %v", err)
	}
	if _, err := Deliver(ctx, d, s, composed(t, "OPS-1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("not an issue number: %v", err)
	}
}

func TestSendGitHubFailures(t *testing.T) {
	token := "ghp_" + planted
	reset := strconv.FormatInt(time.Now().Add(2*time.Second).Unix(), 10)
	later := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	checkVendorFailures(t, func() http.Handler { return newFakeGitHub(token) },
		func(url string) *Destination {
			return &Destination{Name: "gh", Type: "github", URL: url, Project: "octocat/Hello-World", Credential: Credential{"env:GH"}, Getenv: func(string) string { return token }}
		}, "1347", []vendorFailure{
			{name: "401", at: "POST /repos/", status: 401, want: ErrAuth, body: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`, says: "Bad credentials"},
			{name: "403", at: "POST /repos/", status: 403, want: ErrAuth,
				body: `{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment","status":"403"}`, says: "Resource not accessible"},
			{name: "404", at: "POST /repos/", status: 404, want: ErrNotFound, body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment","status":"404"}`, says: "may not see octocat/Hello-World"},
			{name: "413", at: "POST /repos/", status: 413, want: ErrTooLarge, body: `{"message":"Payload Too Large"}`, says: "Payload Too Large"},
			{name: "422", at: "POST /repos/", status: 422, want: ErrRejected,
				body: `{"message":"Validation Failed","errors":[{"resource":"Issue","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}],"status":"422"}`, says: "body is too long"},
			{name: "429 then ok", at: "POST /repos/", status: 429, retryAfter: "1", times: 1, body: `{"message":"You have exceeded a secondary rate limit."}`},
			{name: "403 primary rate limit then ok", at: "POST /repos/", status: 403, times: 1,
				header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
				body:   `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`},
			{name: "403 primary rate limit too long", at: "POST /repos/", status: 403,
				header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": later},
				body:   `{"message":"API rate limit exceeded for user ID 1."}`, want: ErrUnavailable, says: "API rate limit exceeded"},
			{name: "403 secondary rate limit", at: "POST /repos/", status: 403,
				body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`, want: ErrUnavailable, says: "asked to wait 1m0s"},
		}, token)
}
