package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestMarkdownStructure(t *testing.T) {
	var buf bytes.Buffer
	if err := renderMarkdown(&buf, singleHost(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Summary first, then problems (fail, error, warn) with hints, then
	// the passing checks folded away.
	order := []string{"- **Host:**", "- **Verdict:**", "## Problems", "### ❌ fail · VPN port reachable",
		"**Hint:** Nothing listens", "### ❓ error · VPN client answers", "### ⚠️ warn · Temporary folder",
		"## Passed and skipped", "<details>", "✅ pass | System disk has free space", "</details>"}
	at := 0
	for _, want := range order {
		i := strings.Index(out[at:], want)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", want, out)
		}
		at += i + len(want)
	}
	passing := out[strings.Index(out, "## Passed and skipped"):]
	if strings.Contains(passing, "VPN port reachable (`vpn-port`)") {
		t.Error("a failure is listed among the passing checks")
	}
}

func TestMarkdownEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := renderMarkdown(&buf, hostile(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Outside code fences nothing a target wrote becomes markup.
	var prose strings.Builder
	inFence := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if !inFence {
			prose.WriteString(line + "\n")
		}
	}
	for _, bad := range []string{"<script", "<img", "<link", "<style"} {
		if strings.Contains(prose.String(), bad) {
			t.Errorf("raw %s outside a code block", bad)
		}
	}
	// A table row stays one row whatever the message holds.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| ✅") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 5 {
			t.Errorf("a table row is broken: %s", line)
		}
	}
	if got := mdFence("a ``` b"); !strings.HasPrefix(got, "````text\n") {
		t.Errorf("a fence around text holding ``` is %q", got)
	}
}
