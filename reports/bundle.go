package reports

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// A support bundle is one .tar.gz to attach to a ticket. Everything in it
// sits under one folder named after the file (INC-1234.tar.gz holds
// INC-1234/...), so unpacking it never spills files:
//
//	report.json, report.html, report.md   the report, whole
//	evidence/HOST/CHECK.txt               each check's evidence
//	files/HOST/CHECK/NAME                 what collect checks gathered
//	manifest.json                         name, size and sha256 of each
//	                                      entry, and what the caps cut
//
// Evidence and collected files are capped per file and in total; a file
// cut to the per-file cap is listed with truncated_from, one that no
// longer fits under the total is listed under omitted. The reports are
// never cut (a bundle without its report is no use) but count towards
// the total. The bundle is written atomically and reproducibly: the same
// report gives the same bytes.

// BundleSchema names the version of the bundle layout and its manifest.
const BundleSchema = "triage.bundle/v1"

// Default caps of a bundle, uncompressed.
const (
	DefaultBundleMaxFile  = 8 << 20
	DefaultBundleMaxTotal = 64 << 20
)

// BundleOptions adjust a bundle.
type BundleOptions struct {
	// MaxFileBytes caps each evidence or collected file; 0 means
	// DefaultBundleMaxFile.
	MaxFileBytes int64
	// MaxTotalBytes caps the sum of every entry; 0 means
	// DefaultBundleMaxTotal.
	MaxTotalBytes int64
}

// Manifest lists a bundle's content. It is the bundle's last entry.
type Manifest struct {
	Schema        string          `json:"schema"`
	Created       time.Time       `json:"created"`
	Ticket        string          `json:"ticket,omitempty"`
	MaxFileBytes  int64           `json:"max_file_bytes"`
	MaxTotalBytes int64           `json:"max_total_bytes"`
	Files         []ManifestEntry `json:"files"`
	Omitted       []ManifestEntry `json:"omitted,omitempty"`
}

// ManifestEntry describes one file of a bundle.
type ManifestEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Host   string `json:"host,omitempty"`
	Check  string `json:"check,omitempty"`
	// TruncatedFrom is the size before the per-file cap cut the entry.
	TruncatedFrom int64 `json:"truncated_from,omitempty"`
	// Partial says the check itself kept only part of what it read (its
	// own max_bytes or tail_lines), before the bundle's caps.
	Partial bool `json:"partial,omitempty"`
	// Reason says why an entry was omitted.
	Reason string `json:"reason,omitempty"`
}

// ErrNotRedacted is returned for a bundle of a report that has not been
// through a Redactor: collected files must never reach a ticket raw.
var ErrNotRedacted = errors.New("the report has not been redacted")

// BundleFolder is the folder a bundle at path holds its files in.
func BundleFolder(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".tar.gz", ".tgz"} {
		if strings.HasSuffix(strings.ToLower(base), ext) {
			base = base[:len(base)-len(ext)]
			break
		}
	}
	return safeName(base)
}

// WriteBundle writes a support bundle of r to path, atomically.
func WriteBundle(path string, r *Report, opts BundleOptions) error {
	if !r.redacted {
		return ErrNotRedacted
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultBundleMaxFile
	}
	if opts.MaxTotalBytes <= 0 {
		opts.MaxTotalBytes = DefaultBundleMaxTotal
	}
	return writeAtomic(path, 0o644, func(w io.Writer) error {
		return writeBundle(w, BundleFolder(path), r, opts)
	})
}

type bundleWriter struct {
	tw       *tar.Writer
	dir      string
	mtime    time.Time
	opts     BundleOptions
	total    int64
	manifest Manifest
	names    map[string]bool
}

func writeBundle(w io.Writer, dir string, r *Report, opts BundleOptions) error {
	mtime := r.Finished.UTC().Truncate(time.Second)
	if mtime.IsZero() || mtime.Before(time.Unix(0, 0)) {
		mtime = time.Unix(0, 0).UTC()
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	gz.ModTime = mtime
	b := &bundleWriter{
		tw: tar.NewWriter(gz), dir: dir, mtime: mtime, opts: opts, names: map[string]bool{},
		manifest: Manifest{Schema: BundleSchema, Created: mtime, Ticket: r.Ticket, MaxFileBytes: opts.MaxFileBytes, MaxTotalBytes: opts.MaxTotalBytes},
	}
	for _, f := range []struct{ name, format string }{{"report.json", "json"}, {"report.html", "html"}, {"report.md", "markdown"}} {
		rd, ok := Lookup(f.format)
		if !ok {
			return fmt.Errorf("no %s renderer", f.format)
		}
		var buf bytes.Buffer
		if err := rd.Render(&buf, r, Options{}); err != nil {
			return fmt.Errorf("rendering %s: %w", f.name, err)
		}
		if err := b.add(ManifestEntry{Name: f.name}, buf.Bytes(), false); err != nil {
			return err
		}
	}
	for _, h := range r.Hosts {
		host := safeName(h.Target)
		for _, res := range h.Results {
			check := safeName(res.ID)
			if res.Playbook != "" {
				check = safeName(res.Playbook) + "." + check
			}
			if res.Evidence != "" {
				e := ManifestEntry{Name: b.unique(path.Join("evidence", host, check+".txt")), Host: h.Target, Check: res.ID}
				if err := b.add(e, []byte(res.Evidence), true); err != nil {
					return err
				}
			}
			for _, f := range res.Files {
				e := ManifestEntry{Name: b.unique(path.Join("files", host, check, safeName(f.Name))), Host: h.Target, Check: res.ID, Partial: f.Truncated}
				if err := b.add(e, f.Data, true); err != nil {
					return err
				}
			}
		}
	}
	data, err := json.MarshalIndent(b.manifest, "", "  ")
	if err != nil {
		return err
	}
	if err := b.entry("manifest.json", append(data, '\n')); err != nil {
		return err
	}
	if err := b.tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// add puts one file in the bundle under the caps and records it in the
// manifest. capped is false for the reports, which are never cut.
func (b *bundleWriter) add(e ManifestEntry, data []byte, capped bool) error {
	if capped {
		if int64(len(data)) > b.opts.MaxFileBytes {
			e.TruncatedFrom = int64(len(data))
			data = data[:b.opts.MaxFileBytes]
		}
		if b.total+int64(len(data)) > b.opts.MaxTotalBytes {
			e.Size = int64(len(data))
			if e.TruncatedFrom > 0 {
				e.Size = e.TruncatedFrom
			}
			e.TruncatedFrom = 0
			e.Reason = fmt.Sprintf("the bundle's total size cap (%d bytes) was reached", b.opts.MaxTotalBytes)
			b.manifest.Omitted = append(b.manifest.Omitted, e)
			return nil
		}
	}
	b.total += int64(len(data))
	sum := sha256.Sum256(data)
	e.Size, e.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
	b.manifest.Files = append(b.manifest.Files, e)
	return b.entry(e.Name, data)
}

func (b *bundleWriter) entry(name string, data []byte) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     b.dir + "/" + name,
		Mode:     0o644,
		Size:     int64(len(data)),
		ModTime:  b.mtime,
		Format:   tar.FormatPAX,
	}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := b.tw.Write(data)
	return err
}

// unique returns name, or name with a number added when two checks would
// share it (the same id in two runs of a playbook).
func (b *bundleWriter) unique(name string) string {
	out := name
	ext := path.Ext(name)
	for i := 2; b.names[out]; i++ {
		out = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), i, ext)
	}
	b.names[out] = true
	return out
}

// safeName makes a host, check id or file name safe as one path segment
// on every system: letters, digits and ._@+- are kept, the rest become _.
func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("._@+-", c):
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "_"
	}
	return out
}
