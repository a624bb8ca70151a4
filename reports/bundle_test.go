package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func bundleReport() *Report {
	r := sweep()
	r.Hosts[0].Results[0].Files = []diag.Attachment{
		{Name: "syslog", Data: []byte("Nov 23 09:29:59 alice-laptop kernel: eth0 up\n"), Truncated: true},
		{Name: "big.bin", Data: bytes.Repeat([]byte("x"), 3000)},
	}
	r.Hosts[1].Results[0].Evidence = "df output"
	rd, _ := NewRedactor()
	rd.Redact(r)
	return r
}

func TestBundleLayout(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "INC-1234.tar.gz")
	if err := WriteBundle(path, bundleReport(), BundleOptions{}); err != nil {
		t.Fatal(err)
	}
	entries := readBundle(t, path)
	for _, name := range []string{"report.json", "report.html", "report.md", "manifest.json",
		"evidence/alice@10.2.3.4_22/client.txt", "evidence/bob@10.2.3.5_22/disk-root.txt",
		"files/alice@10.2.3.4_22/disk-root/syslog", "files/alice@10.2.3.4_22/disk-root/big.bin"} {
		if _, ok := entries[name]; !ok {
			t.Errorf("the bundle has no %s; it has %v", name, keysOf(entries))
		}
	}
	if _, err := Read(bytes.NewReader(entries["report.json"])); err != nil {
		t.Errorf("report.json does not read back: %v", err)
	}
	var m Manifest
	if err := json.Unmarshal(entries["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Schema != BundleSchema || len(m.Files) != len(entries)-1 || len(m.Omitted) != 0 {
		t.Errorf("manifest: schema %q, %d files for %d entries, %d omitted", m.Schema, len(m.Files), len(entries)-1, len(m.Omitted))
	}
	for _, e := range m.Files {
		data := entries[e.Name]
		sum := sha256.Sum256(data)
		if e.Size != int64(len(data)) || e.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest entry %s: size %d sha256 %s, the file has %d bytes", e.Name, e.Size, e.SHA256, len(data))
		}
		if e.Name == "files/alice@10.2.3.4_22/disk-root/syslog" && (!e.Partial || e.Check != "disk-root" || e.Host != "alice@10.2.3.4:22") {
			t.Errorf("the collected syslog's entry: %+v", e)
		}
	}
	// Everything is under one folder named after the file.
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw[:10], []byte{0x1f, 0x8b}) {
		t.Error("not gzip")
	}
}

func TestBundleCaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.tgz")
	r := bundleReport()
	// Reports are never cut; the 3000-byte file is cut to 1000, and what
	// follows no longer fits under the total.
	var reportsSize int64
	for _, f := range []string{"json", "html", "markdown"} {
		rn, _ := Lookup(f)
		var buf bytes.Buffer
		rn.Render(&buf, r, Options{})
		reportsSize += int64(buf.Len())
	}
	opts := BundleOptions{MaxFileBytes: 1000, MaxTotalBytes: reportsSize + 1050}
	if err := WriteBundle(path, r, opts); err != nil {
		t.Fatal(err)
	}
	entries := readBundle(t, path)
	var m Manifest
	json.Unmarshal(entries["manifest.json"], &m)
	byName := map[string]ManifestEntry{}
	for _, e := range m.Files {
		byName[e.Name] = e
	}
	big := byName["files/alice@10.2.3.4_22/disk-root/big.bin"]
	if big.TruncatedFrom != 3000 || big.Size != 1000 || len(entries["files/alice@10.2.3.4_22/disk-root/big.bin"]) != 1000 {
		t.Errorf("the big file: %+v, %d bytes in the bundle", big, len(entries["files/alice@10.2.3.4_22/disk-root/big.bin"]))
	}
	if len(m.Omitted) == 0 {
		t.Fatalf("nothing omitted under a total cap of %d", opts.MaxTotalBytes)
	}
	for _, e := range m.Omitted {
		if _, in := entries[e.Name]; in || !strings.Contains(e.Reason, "total size cap") {
			t.Errorf("omitted entry %+v is in the bundle or has no reason", e)
		}
	}
	for _, name := range []string{"report.json", "report.html", "report.md"} {
		if _, ok := entries[name]; !ok {
			t.Errorf("%s was dropped by the caps", name)
		}
	}
}

func TestBundleRefusesUnredacted(t *testing.T) {
	dir := t.TempDir()
	err := WriteBundle(filepath.Join(dir, "b.tar.gz"), sweep(), BundleOptions{})
	if !errors.Is(err, ErrNotRedacted) {
		t.Errorf("a bundle of an unredacted report: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestBundleReproducibleAndAtomic(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.tar.gz"), filepath.Join(dir, "b.tar.gz")
	WriteBundle(a, bundleReport(), BundleOptions{})
	WriteBundle(b, bundleReport(), BundleOptions{})
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	// The folder inside is named after the file, so only sizes compare.
	if len(da) == 0 || len(da) != len(db) {
		t.Errorf("two bundles of one report differ in size: %d and %d", len(da), len(db))
	}
	again := filepath.Join(dir, "a2")
	os.Mkdir(again, 0o755)
	WriteBundle(filepath.Join(again, "a.tar.gz"), bundleReport(), BundleOptions{})
	da2, _ := os.ReadFile(filepath.Join(again, "a.tar.gz"))
	if !bytes.Equal(da, da2) {
		t.Error("the same report gives different bundle bytes")
	}
	// A bundle into a missing folder fails and leaves no temporary file.
	if err := WriteBundle(filepath.Join(dir, "missing", "c.tar.gz"), bundleReport(), BundleOptions{}); err == nil {
		t.Error("a bundle into a missing folder succeeded")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

func TestBundleFolder(t *testing.T) {
	for in, want := range map[string]string{
		"INC-1234.tar.gz": "INC-1234", "/tmp/x/Case 7.TGZ": "Case_7", "weird/..tar.gz": "_", "b.tar.gz": "b",
	} {
		if got := BundleFolder(in); got != want {
			t.Errorf("BundleFolder(%q) = %q, want %q", in, got, want)
		}
	}
}
