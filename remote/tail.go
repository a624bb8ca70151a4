package remote

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/triage-dev/triage/diag"
)

var _ diag.FileTailer = (*Target)(nil)

// ReadFileTail reads the end of a file over SFTP by seeking past the rest,
// so the tail of a large log costs no more than the tail. Without SFTP the
// collect check falls back to the tail command itself.
func (t *Target) ReadFileTail(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if limit <= 0 {
		limit = diag.DefaultMaxOutput
	}
	sc, err := t.sftpClient(ctx)
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if err != nil {
		return nil, false, fmt.Errorf("seeking in files needs SFTP: %w", diag.ErrUnsupported)
	}
	type result struct {
		data      []byte
		truncated bool
		err       error
	}
	done := make(chan result, 1)
	go func() {
		f, err := sc.Open(path)
		if err != nil {
			done <- result{err: &fs.PathError{Op: "open", Path: path, Err: err}}
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			done <- result{err: err}
			return
		}
		truncated := false
		if fi.Mode().IsRegular() && fi.Size() > limit {
			if _, err := f.Seek(fi.Size()-limit, io.SeekStart); err != nil {
				done <- result{err: err}
				return
			}
			truncated = true
		}
		data, err := io.ReadAll(io.LimitReader(f, limit))
		done <- result{data, truncated, err}
	}()
	select {
	case r := <-done:
		return r.data, r.truncated, r.err
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}
