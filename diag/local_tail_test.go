package diag_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-dev/triage/diag"
)

func TestLocalReadFileTail(t *testing.T) {
	var l diag.FileTailer = diag.NewLocal()
	path := filepath.Join(t.TempDir(), "log")
	content := strings.Repeat("0123456789", 100) // 1000 bytes
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data, truncated, err := l.ReadFileTail(ctx, path, 25)
	if err != nil || string(data) != content[975:] || !truncated {
		t.Errorf("last 25 bytes: %q, %v, %v", data, truncated, err)
	}
	data, truncated, err = l.ReadFileTail(ctx, path, 5000)
	if err != nil || string(data) != content || truncated {
		t.Errorf("a small file whole: %d bytes, %v, %v", len(data), truncated, err)
	}
	if _, _, err := l.ReadFileTail(ctx, filepath.Join(t.TempDir(), "missing"), 10); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}
