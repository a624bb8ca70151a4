package remote

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pkg/sftp"

	"github.com/triage-dev/triage/diag"
)

var _ diag.FileStreamer = (*Target)(nil)

// OpenFile opens a file over SFTP for reading as a stream or at offsets.
// Without SFTP it answers ErrUnsupported, and callers read the file whole
// with cat.
func (t *Target) OpenFile(ctx context.Context, path string) (diag.File, error) {
	sc, err := t.sftpClient(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if sftpUnavailable(ctx, err) {
		return nil, fmt.Errorf("streaming a file needs SFTP: %w", diag.ErrUnsupported)
	}
	type result struct {
		f   *sftp.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := sc.Open(path)
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: r.err}
		}
		return &ctxFile{File: r.f, ctx: ctx}, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.f != nil {
				r.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// ctxFile stops reading once the check's context has ended; a read
// blocked on a silent server ends when keepalives close the connection.
type ctxFile struct {
	*sftp.File
	ctx context.Context
}

func (f *ctxFile) Read(p []byte) (int, error) {
	if err := f.ctx.Err(); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *ctxFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.ctx.Err(); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}
