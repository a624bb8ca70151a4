package reports

import (
	"encoding/json"
	"io"
)

func init() {
	Register(Renderer{Name: "json", Extensions: []string{".json"}, Render: renderJSON})
}

func renderJSON(w io.Writer, r *Report, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Evidence often holds <, > and &: keep it readable.
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
