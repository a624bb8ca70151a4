package remote

import (
	"context"
	"fmt"
)

var _ interface {
	Unsupported(context.Context, string) string
} = (*Target)(nil)

// windowsKinds are the kinds that work on a Windows target over SSH:
// they need only SFTP and forwarded connections, not a POSIX shell.
var windowsKinds = map[string]bool{"tcp": true, "http": true, "dns": true, "file": true, "time": true}

// Unsupported tells the runner which checks cannot run here: on a Windows
// target, those that need POSIX commands.
func (t *Target) Unsupported(ctx context.Context, kind string) string {
	f, err := t.Facts(ctx)
	if err != nil || f.OS != "windows" || windowsKinds[kind] {
		return ""
	}
	return fmt.Sprintf("%s checks need a POSIX shell, and %s runs Windows; run triage on that machine itself for this check", kind, t.name)
}
