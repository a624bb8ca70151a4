package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestTimelineHTML(t *testing.T) {
	rep := writeSynth(t, rounds("pffppffp", "ppfpppfp"), nil).WatchReport(nil)
	var buf bytes.Buffer
	if err := renderHTML(&buf, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, "<svg"); n != 2 {
		t.Errorf("%d SVG timelines, want one per check (2)", n)
	}
	for _, want := range []string{"Timeline: local", `class="tl-fail"`, `class="tl-value"`, "<h3>Episodes</h3>", "46% loss max"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page has no %q", want)
		}
	}
	for _, bad := range []string{"<script", "http:", "https:", "xlink:href", "<image"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has %q", bad)
		}
	}
	// A report that is no watch's has no timeline nor its styles.
	buf.Reset()
	renderHTML(&buf, singleHost(), Options{})
	if strings.Contains(buf.String(), "tl-pass") {
		t.Error("a plain report carries the timeline's styles")
	}
}
