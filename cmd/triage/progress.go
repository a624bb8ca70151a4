package main

import (
	"fmt"

	"github.com/triage-dev/triage/diag"
)

// progress shows a one-line count of finished checks on a terminal's
// stderr, and nothing at all when stderr is a file or a pipe.
type progress struct {
	io    *streams
	total int
	n     int
}

func newProgress(io *streams, total int) *progress {
	return &progress{io: io, total: total}
}

func (p *progress) done(r diag.Result) {
	if !p.io.ErrIsTTY {
		return
	}
	p.n++
	if p.total > 0 {
		fmt.Fprintf(p.io.Err, "\r\x1b[Ktriage: %d/%d checks done (%s)", p.n, p.total, r.ID)
		return
	}
	fmt.Fprintf(p.io.Err, "\r\x1b[Ktriage: %d checks done (%s)", p.n, r.ID)
}

func (p *progress) finish() {
	if p.io.ErrIsTTY && p.n > 0 {
		fmt.Fprint(p.io.Err, "\r\x1b[K")
	}
}
