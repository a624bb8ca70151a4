package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

// hostile is a report whose texts try to break out of the HTML: markup,
// scripts, links, CSS imports, in every field a target can fill.
func hostile() *Report {
	r := sweep()
	attack := `<script>alert(1)</script><img src="https://evil.example/x.png" onerror="alert(2)"><link rel="stylesheet" href="http://evil.example/s.css"><style>@import url(http://evil.example/i.css);</style>"'&`
	h := &r.Hosts[0]
	h.Facts.PrettyName = attack
	h.Results[1].Message = "GET https://vpn.example.com/health: " + attack
	h.Results[1].Evidence = "HTTP/1.1 502\n" + attack + "\nsee http://intranet.example/status"
	h.Results[1].Hint = attack
	h.Results[1].Title = attack
	h.Results[1].Observed["url"] = "https://vpn.example.com/health"
	r.Hosts[2].Error = attack
	r.Ticket = attack
	return r
}

var (
	htmlTagRe = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)((?:\s[^>]*)?)>`)
	// Attribute values are always double-quoted and escaped, so a value
	// never holds a raw quote.
	htmlAttrRe = regexp.MustCompile(`\s([a-zA-Z-]+)(?:="([^"]*)")?`)
	htmlAttrs  = map[string]bool{"lang": true, "charset": true, "name": true, "content": true, "http-equiv": true,
		"type": true, "id": true, "class": true, "for": true, "scope": true, "title": true, "href": true,
		"colspan": true, "open": true}
)

// TestHTMLSelfContained checks the bytes: nothing in the file may make a
// browser or a ticket system's preview fetch anything.
func TestHTMLSelfContained(t *testing.T) {
	for name, r := range map[string]*Report{"single": singleHost(), "sweep": sweep(), "hostile": hostile()} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := renderHTML(&buf, r, Options{}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			lower := strings.ToLower(out)
			// Not even as text: a preview may turn a URL into a link.
			for _, bad := range []string{"http://", "https://"} {
				if i := strings.Index(lower, bad); i >= 0 {
					t.Errorf("the HTML contains %q: ...%s...", bad, out[max(0, i-60):min(len(out), i+60)])
				}
			}
			// Every tag is one of ours: no element that loads anything, no
			// attribute that points anywhere but inside the page.
			allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
				"input": true, "header": true, "h1": true, "h2": true, "span": true, "dl": true, "dt": true, "dd": true, "ol": true, "li": true,
				"label": true, "main": true, "p": true, "section": true, "div": true, "table": true, "thead": true,
				"tbody": true, "tr": true, "th": true, "td": true, "a": true, "code": true, "b": true, "details": true,
				"summary": true, "pre": true, "footer": true}
			for _, m := range htmlTagRe.FindAllStringSubmatch(out, -1) {
				tag, attrs := strings.ToLower(m[1]), strings.ToLower(m[2])
				if !allowed[tag] {
					t.Errorf("unexpected element <%s>", tag)
				}
				for _, a := range htmlAttrRe.FindAllStringSubmatch(attrs, -1) {
					if !htmlAttrs[a[1]] {
						t.Errorf("<%s> has attribute %q: %s", tag, a[1], m[0])
					}
					if a[1] == "href" && !strings.HasPrefix(a[2], "#") {
						t.Errorf("<%s> links outside the page: %s", tag, m[0])
					}
				}
			}
			if n := strings.Count(lower, "<style"); n != 1 {
				t.Errorf("%d style elements, want only ours", n)
			}
			css := out[strings.Index(out, "<style>"):strings.Index(out, "</style>")]
			for _, bad := range []string{"@import", "url(", "@font-face"} {
				if strings.Contains(css, bad) {
					t.Errorf("the CSS contains %q", bad)
				}
			}
			if !strings.Contains(out, `Content-Security-Policy" content="default-src 'none'`) {
				t.Error("the HTML has no Content-Security-Policy forbidding loads")
			}
			// Status is never colour alone: each badge has a symbol and a word.
			for _, st := range []diag.Status{diag.Pass, diag.Fail, diag.Error} {
				if !strings.Contains(out, ">"+htmlSymbol[st]+"<") {
					t.Errorf("no %q badge", htmlSymbol[st])
				}
			}
		})
	}
}

func TestHTMLProblemsFilter(t *testing.T) {
	var buf bytes.Buffer
	if err := renderHTML(&buf, singleHost(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Passing and skipped rows carry the class the filter hides; problems do not.
	rows := regexp.MustCompile(`<tr id="host-1-check-(\d)"( class="ok")?>\s*<td><span class="badge st-(\w+)"`).FindAllStringSubmatch(out, -1)
	if len(rows) != 5 {
		t.Fatalf("found %d check rows, want 5", len(rows))
	}
	for _, m := range rows {
		ok := m[2] != ""
		if want := m[3] == "pass" || m[3] == "skip"; ok != want {
			t.Errorf("row %s (%s): hidden by the filter = %v, want %v", m[1], m[3], ok, want)
		}
	}
	if !strings.Contains(out, "#problems-only:checked~main .ok{display:none}") {
		t.Error("the CSS filter rule is missing")
	}
}

func TestHTMLSweepMatrix(t *testing.T) {
	var buf bytes.Buffer
	if err := renderHTML(&buf, sweep(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `<table class="matrix">`) {
		t.Fatal("a sweep report has no host × check matrix")
	}
	// bob ran one check of five: one badge and four "not run" cells.
	bob := out[strings.Index(out, ">bob@10.2.3.5:22<"):]
	bob = bob[:strings.Index(bob, "</tr>")]
	if n := strings.Count(bob, `class="cell"`); n != 5 {
		t.Errorf("bob's row has %d cells, want 5 (one per check)", n)
	}
	if n := strings.Count(bob, `title="not run on this host"`); n != 4 {
		t.Errorf("bob's row has %d not-run cells, want 4", n)
	}
	if !strings.Contains(out, "not checked: connection timed out after 10s") {
		t.Error("the unreachable host is not in the matrix")
	}
	var single bytes.Buffer
	renderHTML(&single, singleHost(), Options{})
	if strings.Contains(single.String(), `<table class="matrix">`) {
		t.Error("a single-host report has a matrix")
	}
}
