package diag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// Local is the Target for the machine triage runs on. It uses the OS
// directly: syscalls, files, the network stack, exec without a shell.
type Local struct {
	factsOnce sync.Once
	facts     Facts
	factsErr  error
}

// NewLocal returns the local Target.
func NewLocal() *Local { return &Local{} }

func (*Local) Name() string { return "local" }

// Facts gathers the platform facts once and caches them.
func (l *Local) Facts(ctx context.Context) (Facts, error) {
	l.factsOnce.Do(func() { l.facts, l.factsErr = localFacts(ctx) })
	return l.facts, l.factsErr
}

func localFacts(ctx context.Context) (Facts, error) {
	f := Facts{OS: runtime.GOOS, Arch: runtime.GOARCH}
	f.Hostname, _ = os.Hostname()
	platformFacts(ctx, &f)
	return f, nil
}

func (*Local) Run(ctx context.Context, c Command) (CommandResult, error) {
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return CommandResult{}, errors.New("empty command")
	}
	max := c.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	stdout, stderr := NewCappedBuffer(max), NewCappedBuffer(max)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A child that keeps our pipes open after being killed must not hold
	// the check past its context.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	res := CommandResult{
		Stdout:    stdout.Bytes(),
		Stderr:    stderr.Bytes(),
		Truncated: stdout.Dropped() || stderr.Dropped(),
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success():
		// The program finished well but left a child holding its output
		// open: what it printed is all there is.
		return res, nil
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		res.ExitCode = exitErr.ExitCode()
		return res, nil
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		return res, fmt.Errorf("%s: %w", c.Argv[0], ErrCommandNotFound)
	case ctx.Err() != nil:
		return res, ctx.Err()
	}
	return res, err
}

func (*Local) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	return readCapped(f, limit)
}

// OpenFile opens a file of this machine.
func (*Local) OpenFile(ctx context.Context, path string) (File, error) {
	return os.Open(path)
}

// ReadFileTail reads the last limit bytes of a file, seeking past the rest.
func (*Local) ReadFileTail(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() || fi.Size() <= limit {
		// Pipes and special files cannot seek: keep their last bytes as
		// they stream past.
		return readTail(f, limit)
	}
	if _, err := f.Seek(fi.Size()-limit, io.SeekStart); err != nil {
		return nil, false, err
	}
	// The file may have grown since Stat: keep to limit all the same.
	data, _, err := readCapped(f, limit)
	return data, true, err
}

// readTail keeps the last limit bytes of r.
func readTail(r io.Reader, limit int64) ([]byte, bool, error) {
	var keep []byte
	buf := make([]byte, 32<<10)
	dropped := false
	for {
		n, err := r.Read(buf)
		keep = append(keep, buf[:n]...)
		if int64(len(keep)) > limit {
			keep = append(keep[:0], keep[int64(len(keep))-limit:]...)
			dropped = true
		}
		if err == io.EOF {
			return keep, dropped, nil
		}
		if err != nil {
			return keep, dropped, err
		}
	}
}

// readCapped reads at most limit bytes of r and says whether there was more.
func readCapped(r io.Reader, limit int64) ([]byte, bool, error) {
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	n := limit
	if n < math.MaxInt64 {
		n++ // one byte more tells whether there was more
	}
	data, err := io.ReadAll(io.LimitReader(r, n))
	if int64(len(data)) > limit {
		return data[:limit], true, err
	}
	return data, false, err
}

func (*Local) Stat(ctx context.Context, path string) (FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return FileInfo{}, err
	}
	info := FileInfo{Path: path, Size: fi.Size(), Mode: fi.Mode(), ModTime: fi.ModTime(), UID: -1, GID: -1}
	fileOwner(fi, &info)
	return info, nil
}

func (*Local) DiskUsage(ctx context.Context, path string) (DiskUsage, error) {
	return diskUsage(path)
}

func (*Local) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// CappedBuffer keeps the first max bytes written to it and drops the
// rest, so a command that prints gigabytes costs no more than max of
// memory. Writes never fail, so the writer is never blocked.
type CappedBuffer struct {
	buf     bytes.Buffer
	max     int64
	dropped bool
}

// NewCappedBuffer returns a buffer that keeps at most max bytes.
func NewCappedBuffer(max int64) *CappedBuffer { return &CappedBuffer{max: max} }

// Bytes returns what was kept.
func (b *CappedBuffer) Bytes() []byte { return b.buf.Bytes() }

// Dropped reports whether anything was dropped.
func (b *CappedBuffer) Dropped() bool { return b.dropped }

func (b *CappedBuffer) Write(p []byte) (int, error) {
	room := b.max - int64(b.buf.Len())
	if room < int64(len(p)) {
		b.dropped = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}
