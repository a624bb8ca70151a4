package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// connectedMarker is printed by the connecting script once the target
// has opened the connection, so that a refused connection is an error
// from Dial, as with direct-tcpip, not an empty stream.
const connectedMarker = "TRIAGE-CONNECTED"

// dialScript opens a TCP connection with bash's /dev/tcp and relays it to
// the session's standard streams. The host and port arrive as $1 and $2,
// never as part of the script.
const dialScript = `exec 3<>"/dev/tcp/$1/$2" || exit 1; printf '%s\n' "` + connectedMarker + `"; cat <&3 & exec cat >&3`

// dialByCommand makes a TCP connection start on the target when the server
// refuses direct-tcpip: a bash on the target connects, and the session's
// stdin and stdout carry the bytes.
func (t *Target) dialByCommand(ctx context.Context, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if t.windows.Load() {
		return nil, fmt.Errorf("no bash on a Windows target: %w", diag.ErrUnsupported)
	}
	if err := t.acquire(ctx); err != nil {
		return nil, err
	}
	sess, err := t.client.NewSession()
	if err != nil {
		t.release()
		return nil, err
	}
	fail := func(err error) (net.Conn, error) {
		sess.Close()
		t.release()
		return nil, err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fail(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	stderr := diag.NewCappedBuffer(4 << 10)
	sess.Stderr = stderr
	if err := sess.Start(shellQuote([]string{"bash", "-c", dialScript, "triage-dial", host, port})); err != nil {
		return fail(err)
	}

	// Wait for the marker, or for the script to give up.
	br := bufio.NewReader(stdout)
	line := make(chan error, 1)
	go func() {
		l, err := br.ReadString('\n')
		if err == nil && strings.TrimSpace(l) != connectedMarker {
			err = fmt.Errorf("unexpected output %q", l)
		}
		line <- err
	}()
	select {
	case err := <-line:
		if err != nil {
			sess.Wait()
			msg := strings.TrimSpace(string(stderr.Bytes()))
			if msg == "" {
				msg = err.Error()
			}
			if strings.Contains(msg, "not found") {
				return fail(fmt.Errorf("bash is not installed on %s to connect from there: %w", t.name, diag.ErrUnsupported))
			}
			return fail(fmt.Errorf("connecting from %s to %s: %s", t.name, address, lastLine(msg)))
		}
	case <-ctx.Done():
		return fail(ctx.Err())
	}

	// A pipe gives the caller a net.Conn with working deadlines; two
	// goroutines relay between it and the session.
	ours, theirs := net.Pipe()
	go func() {
		io.Copy(theirs, br)
		theirs.Close()
	}()
	go func() {
		io.Copy(stdin, theirs)
		stdin.Close()
		sess.Close()
		t.release()
	}()
	return ours, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	// bash: /dev/tcp/127.0.0.1/1: Connection refused -> Connection refused
	if i := strings.LastIndex(l, ": "); i >= 0 {
		return l[i+2:]
	}
	return l
}

// errForwardingRefused marks a server that refuses direct-tcpip.
var errForwardingRefused = errors.New("TCP forwarding refused")
