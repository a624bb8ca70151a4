package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/triage-dev/triage/diag"
)

// Options adjust how a report is rendered.
type Options struct {
	// Color allows ANSI colour. The caller decides (a TTY, and no NO_COLOR);
	// renderers never look at the environment themselves.
	Color bool
	// Verbose shows what is left out by default: checks skipped because
	// they are for another platform.
	Verbose bool
}

// Renderer turns a report into one format.
type Renderer struct {
	Name string
	// Extensions are the file name endings that select this format for
	// --report, with the dot: ".json".
	Extensions []string
	Render     func(w io.Writer, r *Report, opts Options) error
}

var (
	renderersMu sync.RWMutex
	renderers   = map[string]Renderer{}
)

// Register adds a renderer; renderers register themselves in init.
func Register(r Renderer) {
	renderersMu.Lock()
	defer renderersMu.Unlock()
	if _, dup := renderers[r.Name]; dup {
		panic("reports: renderer registered twice: " + r.Name)
	}
	renderers[r.Name] = r
}

// Lookup returns the renderer for a format name.
func Lookup(name string) (Renderer, bool) {
	renderersMu.RLock()
	defer renderersMu.RUnlock()
	r, ok := renderers[name]
	return r, ok
}

// Formats returns the names of every format, sorted.
func Formats() []string {
	renderersMu.RLock()
	defer renderersMu.RUnlock()
	names := make([]string, 0, len(renderers))
	for n := range renderers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Extensions returns every file extension --report understands, sorted.
func Extensions() []string {
	renderersMu.RLock()
	defer renderersMu.RUnlock()
	var exts []string
	for _, r := range renderers {
		exts = append(exts, r.Extensions...)
	}
	sort.Strings(exts)
	return exts
}

// ForFile picks the renderer for a file from its extension.
func ForFile(path string) (Renderer, error) {
	ext := strings.ToLower(filepath.Ext(path))
	renderersMu.RLock()
	defer renderersMu.RUnlock()
	var known []string
	for _, r := range renderers {
		for _, e := range r.Extensions {
			if e == ext {
				return r, nil
			}
			known = append(known, e)
		}
	}
	sort.Strings(known)
	if ext == "" {
		return Renderer{}, fmt.Errorf("%s has no extension to choose a format by; use one of %s", path, strings.Join(known, " "))
	}
	return Renderer{}, fmt.Errorf("%s: no report format for %q; use one of %s", path, ext, strings.Join(known, " "))
}

// The helpers below are shared by the renderers for tickets and machines
// (markdown, html, junit, prometheus), so they agree on names and numbers.

// statusOrder is the order renderers list statuses in.
var statusOrder = []diag.Status{diag.Pass, diag.Warn, diag.Fail, diag.Error, diag.Skip}

// StatusCode is a status as the Nagios-style exit code of DESIGN §5:
// 0 pass (and skip), 1 warn, 2 fail, 3 error.
func StatusCode(s diag.Status) int {
	switch s {
	case diag.Warn:
		return 1
	case diag.Fail:
		return 2
	case diag.Error:
		return 3
	}
	return 0
}

// isProblem reports a result a reader of a ticket must look at.
func isProblem(s diag.Status) bool {
	return s == diag.Warn || s == diag.Fail || s == diag.Error
}

// playbookOf names the playbook a result came from. A run of one playbook
// leaves it out of each result; the report's header says which it was.
func playbookOf(r *Report, res Result) string {
	if res.Playbook != "" {
		return res.Playbook
	}
	if len(r.Playbooks) == 1 {
		return r.Playbooks[0].Name
	}
	return ""
}

// hostCounts counts a host's results per status.
func hostCounts(h Host) map[diag.Status]int {
	c := map[diag.Status]int{}
	for _, res := range h.Results {
		c[res.Status]++
	}
	return c
}

// countsPhrase reads "5 checks: 1 pass, 1 warn, 2 fail", leaving out zeros.
func countsPhrase(s Summary) string {
	total := s.Pass + s.Warn + s.Fail + s.Error + s.Skip + s.Blocked
	var parts []string
	for _, c := range []struct {
		n  int
		st diag.Status
	}{{s.Pass, diag.Pass}, {s.Warn, diag.Warn}, {s.Fail, diag.Fail}, {s.Error, diag.Error}, {s.Skip, diag.Skip}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.st))
		}
	}
	if s.Blocked > 0 {
		parts = append(parts, fmt.Sprintf("%d blocked", s.Blocked))
	}
	out := fmt.Sprintf("%d %s", total, plural(total, "check"))
	if len(parts) > 0 {
		out += ": " + strings.Join(parts, ", ")
	}
	return out
}

// formatWhen writes a report's start time and how long it took:
// "2026-11-23 09:30:00 UTC, took 1.5s".
func formatWhen(r *Report) string {
	t := r.Started
	zone := t.Format("-07:00")
	if _, off := t.Zone(); off == 0 {
		zone = "UTC"
	}
	out := t.Format("2006-01-02 15:04:05") + " " + zone
	if d := r.Finished.Sub(r.Started); d > 0 {
		out += ", took " + roundDuration(d).String()
	}
	return out
}

// playbooksPhrase lists the playbooks run: "vpn (vpn.yaml), disk (builtin:disk)".
func playbooksPhrase(r *Report) string {
	var parts []string
	for _, p := range r.Playbooks {
		parts = append(parts, p.Name+" ("+p.Source+")")
	}
	return strings.Join(parts, ", ")
}

// redactionPhrase says what redaction removed: "3 secrets (jwt 1, password 2)".
func redactionPhrase(r *Report) string {
	if len(r.Redactions) == 0 {
		return ""
	}
	total := 0
	var parts []string
	for _, name := range sortedKeys(r.Redactions) {
		total += r.Redactions[name]
		parts = append(parts, fmt.Sprintf("%s %d", name, r.Redactions[name]))
	}
	return fmt.Sprintf("%d %s (%s)", total, plural(total, "secret"), strings.Join(parts, ", "))
}

// anonymizedPhrase says what --anonymize replaced: "hostname 3, ip 2".
func anonymizedPhrase(r *Report) string {
	var parts []string
	for _, name := range sortedKeys(r.Anonymized) {
		parts = append(parts, fmt.Sprintf("%s %d", name, r.Anonymized[name]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// observedPairs writes observed values as "key=value" pairs in key order,
// values in their JSON spelling so lists and maps stay readable.
func observedPairs(m map[string]any) [][2]string {
	var out [][2]string
	for _, k := range sortedKeys(m) {
		out = append(out, [2]string{k, observedString(m[k])})
	}
	return out
}

func observedString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// shown reports whether a person reading the report should see res:
// checks for another platform are left out unless asked for, and counted.
func shown(res Result, opts Options) bool {
	return opts.Verbose || !res.OtherPlatform
}

// hiddenCount counts a host's results that shown leaves out.
func hiddenCount(h Host, opts Options) int {
	n := 0
	for _, res := range h.Results {
		if !shown(res, opts) {
			n++
		}
	}
	return n
}

// hiddenPhrase says what was left out: "1 check for another platform not
// shown (-v shows it)".
func hiddenPhrase(n int) string {
	if n == 1 {
		return "1 check for another platform not shown; -v shows it"
	}
	return fmt.Sprintf("%d checks for another platform not shown; -v shows them", n)
}
