//go:build !windows

package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTimelineInBrowser opens a watch's HTML report, timeline and all, in
// headless Chromium: no console message, no request, and it screenshots
// and prints.
func TestTimelineInBrowser(t *testing.T) {
	browser := requireBrowser(t)
	j := writeSynth(t, rounds("pffppffpppfffp", "ppfpppfppppfpp"), nil)
	j.Events = append(j.Events,
		JournalEvent{Time: at(8).Add(time.Second), Event: EventDisconnected, Error: "EOF <script>"},
		JournalEvent{Time: at(9).Add(-time.Second), Event: EventConnected})
	rep := j.WatchReport(nil)
	dir := t.TempDir()
	page := filepath.Join(dir, "watch.html")
	if err := WriteFile(page, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	res := openInBrowser(t, browser, page, dir)
	for _, e := range res.problems {
		t.Errorf("browser: %s", e)
	}
	if !bytes.HasPrefix(res.png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Error("no screenshot")
	}
	if !bytes.HasPrefix(res.pdf, []byte("%PDF-")) {
		t.Error("printing did not give a PDF")
	}
	if out := os.Getenv("TRIAGE_SCREENSHOT_DIR"); out != "" {
		os.WriteFile(filepath.Join(out, "report-watch.png"), res.png, 0o644)
	}
}
