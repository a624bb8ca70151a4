//go:build !windows

package reports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHTMLInBrowser opens HTML reports in a real headless Chromium and
// drives it over the DevTools protocol (--remote-debugging-pipe): the page
// must load with no console message, no error logged and no request other
// than the file itself; the "problems only" filter must hide exactly the
// passing and skipped rows; and it must produce a screenshot and a PDF.
// CI installs Debian's chromium and sets TRIAGE_REQUIRE_BROWSER=1, so
// there a missing browser is a failure, not a skip.
func TestHTMLInBrowser(t *testing.T) {
	browser := requireBrowser(t)
	for name, r := range map[string]*Report{"single": singleHost(), "sweep": sweep(), "hostile": hostile()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			page := filepath.Join(dir, "report.html")
			if err := WriteFile(page, r, Options{}); err != nil {
				t.Fatal(err)
			}
			res := openInBrowser(t, browser, page, dir)
			for _, e := range res.problems {
				t.Errorf("browser: %s", e)
			}
			if want := countStatus(r, false); res.filter.Rows != want {
				t.Errorf("%d passing or skipped rows in the page, want %d", res.filter.Rows, want)
			}
			if res.filter.VisibleBefore != res.filter.Rows {
				t.Errorf("before filtering, %d of %d passing rows are visible", res.filter.VisibleBefore, res.filter.Rows)
			}
			if res.filter.VisibleAfter != 0 {
				t.Errorf("with \"problems only\", %d passing rows are still visible", res.filter.VisibleAfter)
			}
			if want := countStatus(r, true); res.filter.Problems != want {
				t.Errorf("with \"problems only\", %d problem rows are visible, want %d", res.filter.Problems, want)
			}
			if !bytes.HasPrefix(res.png, []byte("\x89PNG\r\n\x1a\n")) || len(res.png) < 1000 {
				t.Errorf("the screenshot is not a PNG (%d bytes)", len(res.png))
			}
			if !bytes.HasPrefix(res.pdf, []byte("%PDF-")) {
				t.Errorf("printing did not give a PDF (%d bytes)", len(res.pdf))
			}
			shot := filepath.Join(dir, "report.png")
			if err := os.WriteFile(shot, res.png, 0o644); err != nil {
				t.Fatal(err)
			}
			if out := os.Getenv("TRIAGE_SCREENSHOT_DIR"); out != "" {
				os.WriteFile(filepath.Join(out, "report-"+name+".png"), res.png, 0o644)
			}
		})
	}
}

// countStatus counts the check rows a report shows: problems, or the rest.
func countStatus(r *Report, problems bool) int {
	n := 0
	for _, h := range r.Hosts {
		for _, res := range h.Results {
			// Checks for another platform are not on the page.
			if !shown(res, Options{}) {
				continue
			}
			if isProblem(res.Status) == problems {
				n++
			}
		}
	}
	return n
}

// requireBrowser finds headless Chromium, or skips the test; with
// TRIAGE_REQUIRE_BROWSER=1 (CI), a missing browser fails it instead.
func requireBrowser(t *testing.T) string {
	t.Helper()
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("TRIAGE_REQUIRE_BROWSER") == "1" {
			t.Fatal("TRIAGE_REQUIRE_BROWSER=1 but no chromium was found (install Debian's chromium, or set TRIAGE_CHROMIUM)")
		}
		t.Skip("no chromium: install it (Debian: apt-get install chromium) to check HTML reports in a browser")
	}
	return browser
}

func findBrowser() string {
	if b := os.Getenv("TRIAGE_CHROMIUM"); b != "" {
		return b
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

type filterResult struct {
	Rows          int `json:"rows"`
	VisibleBefore int `json:"before"`
	VisibleAfter  int `json:"after"`
	Problems      int `json:"problems"`
}

type browserResult struct {
	problems []string
	filter   filterResult
	png, pdf []byte
}

// filterJS clicks the "problems only" label as a person would and counts
// what is visible before and after. It runs through DevTools, not in the
// page: the page itself has no scripts and its CSP forbids them.
const filterJS = `(() => {
  const visible = el => el.getClientRects().length > 0;
  const ok = [...document.querySelectorAll('table.checks tr.ok')];
  const bad = [...document.querySelectorAll('table.checks tbody tr:not(.ok)')];
  const before = ok.filter(visible).length;
  document.querySelector('label[for=problems-only]').click();
  const r = {rows: ok.length, before, after: ok.filter(visible).length, problems: bad.filter(visible).length};
  document.querySelector('label[for=problems-only]').click();
  return JSON.stringify(r);
})()`

func openInBrowser(t *testing.T, browser, page, dir string) browserResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		// Nothing resolves, so nothing but loopback could ever be reached.
		"--host-resolver-rules=MAP * ~NOTFOUND",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1280,900",
		"--remote-debugging-pipe", "about:blank")
	// The protocol runs over fds 3 (to the browser) and 4 (from it).
	toBrowser, toBrowserW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromBrowserR, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	defer func() {
		toBrowserW.Close()
		cancel()
		cmd.Wait()
		fromBrowserR.Close()
	}()
	c := newCDP(toBrowserW, fromBrowserR)
	fail := func(format string, a ...any) browserResult {
		t.Helper()
		t.Fatalf("%s\nbrowser stderr:\n%s", fmt.Sprintf(format, a...), lastLines(stderr.String(), 30))
		return browserResult{}
	}

	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return fail("Target.createTarget: %v", err)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return fail("Target.attachToTarget: %v", err)
	}
	s := attached.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := c.call(ctx, s, m, nil, nil); err != nil {
			return fail("%s: %v", m, err)
		}
	}
	url := "file://" + filepath.ToSlash(page)
	loaded := c.waitEvent(s, "Page.loadEventFired")
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := c.call(ctx, s, "Page.navigate", map[string]any{"url": url}, &nav); err != nil || nav.ErrorText != "" {
		return fail("Page.navigate: %v %s", err, nav.ErrorText)
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return fail("the page did not finish loading")
	}

	var res browserResult
	var eval struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": filterJS, "returnByValue": true}, &eval); err != nil || eval.ExceptionDetails != nil {
		return fail("evaluating the filter check: %v %s", err, eval.ExceptionDetails)
	}
	if err := json.Unmarshal([]byte(eval.Result.Value), &res.filter); err != nil {
		return fail("filter check result %q: %v", eval.Result.Value, err)
	}
	var shot struct {
		Data string `json:"data"`
	}
	if err := c.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &shot); err != nil {
		return fail("Page.captureScreenshot: %v", err)
	}
	res.png, _ = base64.StdEncoding.DecodeString(shot.Data)
	if err := c.call(ctx, s, "Page.printToPDF", map[string]any{"printBackground": true}, &shot); err != nil {
		return fail("Page.printToPDF: %v", err)
	}
	res.pdf, _ = base64.StdEncoding.DecodeString(shot.Data)

	// Every event of the page's session, from navigation to now.
	for _, ev := range c.events(s) {
		switch ev.Method {
		case "Network.requestWillBeSent":
			var p struct {
				Request struct {
					URL string `json:"url"`
				} `json:"request"`
			}
			json.Unmarshal(ev.Params, &p)
			if p.Request.URL != url && !strings.HasPrefix(p.Request.URL, "data:") {
				res.problems = append(res.problems, "request for "+p.Request.URL)
			}
		case "Runtime.consoleAPICalled", "Runtime.exceptionThrown":
			res.problems = append(res.problems, ev.Method+": "+string(ev.Params))
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level, Text, URL string
				} `json:"entry"`
			}
			json.Unmarshal(ev.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				res.problems = append(res.problems, fmt.Sprintf("console %s: %s %s", p.Entry.Level, p.Entry.Text, p.Entry.URL))
			}
		}
	}
	c.call(ctx, "", "Browser.close", nil, nil)
	return res
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cdp is a minimal DevTools protocol client over Chromium's pipe: messages
// are JSON objects ended by a NUL byte.
type cdp struct {
	w       *os.File
	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	log     []cdpMessage
	waiters map[string][]chan struct{}
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func newCDP(w, r *os.File) *cdp {
	c := &cdp{w: w, pending: map[int]chan cdpMessage{}, waiters: map[string][]chan struct{}{}}
	go func() {
		br := bufio.NewReader(r)
		for {
			raw, err := br.ReadBytes(0)
			if err != nil {
				return
			}
			var m cdpMessage
			if json.Unmarshal(bytes.TrimSuffix(raw, []byte{0}), &m) != nil {
				continue
			}
			c.mu.Lock()
			if m.ID != 0 {
				if ch, ok := c.pending[m.ID]; ok {
					ch <- m
					delete(c.pending, m.ID)
				}
			} else {
				c.log = append(c.log, m)
				key := m.SessionID + " " + m.Method
				for _, ch := range c.waiters[key] {
					close(ch)
				}
				delete(c.waiters, key)
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *cdp) call(ctx context.Context, session, method string, params any, out any) error {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s", m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

// waitEvent returns a channel closed when the event next arrives.
func (c *cdp) waitEvent(session, method string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	key := session + " " + method
	c.waiters[key] = append(c.waiters[key], ch)
	return ch
}

func (c *cdp) events(session string) []cdpMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cdpMessage
	for _, m := range c.log {
		if m.SessionID == session {
			out = append(out, m)
		}
	}
	return out
}
