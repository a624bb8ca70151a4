package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile renders r into path in the format its extension names. The
// file is written atomically: readers see the old file or the new one,
// never a half-written report, and a failed write leaves nothing behind.
func WriteFile(path string, r *Report, opts Options) error {
	rd, err := ForFile(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rd.Render(&buf, r, opts); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it
// and renames it over path.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic streams what write produces into a temporary file beside
// path, syncs it and renames it over path; on any error the temporary
// file is removed and path is left as it was.
func writeAtomic(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
