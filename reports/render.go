package reports

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Options adjust how a report is rendered.
type Options struct {
	// Color allows ANSI colour. The caller decides (a TTY, and no NO_COLOR);
	// renderers never look at the environment themselves.
	Color bool
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
