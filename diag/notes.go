package diag

import (
	"context"
	"sync"
)

// Notes let a Target say how it did something unusual — "SFTP is not
// offered, the file was read with cat" — without every kind having to ask.
// The runner gives each check a note list and appends what was noted to
// the result's evidence.

type notesKey struct{}

type notes struct {
	mu   sync.Mutex
	list []string
}

func withNotes(ctx context.Context) (context.Context, *notes) {
	n := &notes{}
	return context.WithValue(ctx, notesKey{}, n), n
}

// Note records msg for the check running under ctx. Outside a check it
// does nothing.
func Note(ctx context.Context, msg string) {
	n, ok := ctx.Value(notesKey{}).(*notes)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.list {
		if m == msg {
			return
		}
	}
	n.list = append(n.list, msg)
}

func (n *notes) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.list...)
}
