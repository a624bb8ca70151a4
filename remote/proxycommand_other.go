//go:build !unix

package remote

import (
	"context"
	"errors"
	"os"
)

var (
	sigHangup = os.Interrupt
	sigKill   = os.Kill
)

// startProxyCommand refuses outside Unix, with an error that says to use
// ProxyJump: there the pipes have no
// deadlines and there are no process groups to end.
func startProxyCommand(ctx context.Context, command string) (*proxyConn, error) {
	return nil, errors.New("ProxyCommand is supported on Linux, macOS and the BSDs only; use ProxyJump")
}

func (pc *proxyConn) signalGroup(sig os.Signal) {
	pc.proc.Signal(sig)
}
