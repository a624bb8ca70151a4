package remote

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/triage-dev/triage/diag"
)

var _ diag.HomeDirer = (*Target)(nil)

// HomeDir returns the home folder of the user logged in on the target:
// where the SFTP server starts (its real path of "."), which is the
// login's home, or $HOME from a command when the server offers no SFTP.
func (t *Target) HomeDir(ctx context.Context) (string, error) {
	t.homeMu.Lock()
	home := t.home
	t.homeMu.Unlock()
	if home != "" {
		return home, nil
	}
	sc, err := t.sftpClient(ctx)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err == nil {
		done := make(chan struct{})
		var p string
		var perr error
		go func() {
			defer close(done)
			p, perr = sc.RealPath(".")
		}()
		select {
		case <-done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if perr == nil && strings.HasPrefix(p, "/") {
			home = p
		}
	}
	if home == "" {
		if home, err = t.homeByCommand(ctx); err != nil {
			return "", err
		}
	}
	t.homeMu.Lock()
	t.home = home
	t.homeMu.Unlock()
	return home, nil
}

func (t *Target) homeByCommand(ctx context.Context) (string, error) {
	res, err := t.Run(ctx, diag.Command{Argv: []string{"printenv", "HOME"}, MaxOutput: 4096})
	if err != nil {
		return "", fmt.Errorf("asking %s for its home folder: %w", t.name, err)
	}
	home := strings.TrimSpace(string(res.Stdout))
	if res.ExitCode != 0 || home == "" {
		return "", errors.New("the target's login has no HOME set and its SFTP server did not say where it starts")
	}
	return home, nil
}
