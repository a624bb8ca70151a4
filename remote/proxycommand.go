package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrProxyCommand is the kind of a connect that failed because the
// ssh_config ProxyCommand could not be started, exited, or carried no SSH
// handshake.
const ErrProxyCommand ErrorKind = "proxy-command"

// proxyStderrMax caps what is kept of a ProxyCommand's stderr: the end,
// where the reason it failed is.
const proxyStderrMax = 4 << 10

// proxyCloseGrace is how long a ProxyCommand has to exit after SIGHUP
// (what OpenSSH sends it) before its process group is killed.
var proxyCloseGrace = time.Second

// proxyCommandTokens keeps the tokens OpenSSH expands in ProxyCommand
// (ssh_config(5): %%, %h, %n, %p and %r) from those of the host.
func proxyCommandTokens(all map[byte]string) map[byte]string {
	out := map[byte]string{}
	for _, k := range []byte("hnpr%") {
		out[k] = all[k]
	}
	return out
}

// expandProxyCommand applies the % tokens to a ProxyCommand. As in
// OpenSSH, an unknown token is an error, and so is a host or user name
// that a shell would read as more than a word (OpenSSH refuses such names
// since 9.6, CVE-2023-51385): the command runs through a shell, and names
// may come from an inventory rather than from the user.
func expandProxyCommand(s string, tokens map[byte]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("a % at the end (write %% for a percent sign)")
		}
		i++
		v, ok := tokens[s[i]]
		if !ok {
			return "", fmt.Errorf("unknown token %%%c (ProxyCommand accepts %%%%, %%h, %%n, %%p and %%r)", s[i])
		}
		if s[i] != '%' && !shellSafeName(v) {
			return "", fmt.Errorf("%%%c is %q, which a shell would not read as one word; refusing to run it", s[i], v)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// shellSafeName is OpenSSH's valid_hostname: no leading '-', no quotes,
// shell metacharacters, spaces or control characters.
func shellSafeName(s string) bool {
	if strings.HasPrefix(s, "-") {
		return false
	}
	for _, r := range s {
		if strings.ContainsRune("'`\"$\\;&<>|(){}", r) || r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// proxyExitGrace is how long a failed connect waits for its ProxyCommand
// to exit on its own, so as to report its exit and what it said.
var proxyExitGrace = time.Second

// proxyConn is a connection through a ProxyCommand: the command's stdout
// is what the server says, its stdin what we say. Deadlines work (the
// pipes are pollable). Close ends the command and its process group.
type proxyConn struct {
	command string
	proc    *os.Process
	r       *os.File // the command's stdout
	w       *os.File // the command's stdin
	errR    *os.File // the command's stderr, copied into stderr
	stderr  *tailBuffer

	done       chan struct{} // closed once the command has exited (and was reaped)
	stderrDone chan struct{} // closed once its stderr is all read, or closed
	state      *os.ProcessState

	closeOnce   sync.Once
	closed      atomic.Bool
	exitedFirst atomic.Bool // it had exited by itself when Close began
	sawEOF      atomic.Bool // its stdout ended or stdin broke: it has exited, or is about to
	stopCtx     func() bool // stops the context watch
}

var _ net.Conn = (*proxyConn)(nil)

func (pc *proxyConn) Read(b []byte) (int, error) {
	n, err := pc.r.Read(b)
	if err == io.EOF {
		pc.sawEOF.Store(true)
	}
	return n, err
}

func (pc *proxyConn) Write(b []byte) (int, error) {
	n, err := pc.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		pc.sawEOF.Store(true)
	}
	return n, err
}

// LocalAddr and RemoteAddr are unspecified TCP addresses: the host-key
// check wants a TCP address and checks the host's name, never this one.
func (pc *proxyConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4zero} }
func (pc *proxyConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }

func (pc *proxyConn) SetDeadline(t time.Time) error {
	return errors.Join(pc.r.SetReadDeadline(t), pc.w.SetWriteDeadline(t))
}
func (pc *proxyConn) SetReadDeadline(t time.Time) error  { return pc.r.SetReadDeadline(t) }
func (pc *proxyConn) SetWriteDeadline(t time.Time) error { return pc.w.SetWriteDeadline(t) }

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Close ends the command as OpenSSH does (SIGHUP, and EOF on its stdin),
// kills its process group after proxyCloseGrace at the latest, and waits
// for it.
func (pc *proxyConn) Close() error {
	pc.closeOnce.Do(func() {
		if pc.sawEOF.Load() {
			// Its stdout ended (or its stdin broke), so it is most likely exiting by itself
			// (x/crypto closes the connection when the handshake ends
			// that way): let it, so that its exit status is its own.
			t := time.NewTimer(proxyExitGrace)
			select {
			case <-pc.done:
			case <-t.C:
			}
			t.Stop()
		}
		pc.exitedFirst.Store(isClosed(pc.done))
		pc.closed.Store(true)
		if pc.stopCtx != nil {
			pc.stopCtx()
		}
		if !isClosed(pc.done) {
			pc.signalGroup(sigHangup)
		}
		pc.w.Close()
		t := time.NewTimer(proxyCloseGrace)
		select {
		case <-pc.done:
		case <-t.C:
		}
		t.Stop()
		// Whatever the command left running in its group goes too.
		pc.signalGroup(sigKill)
		<-pc.done
		pc.r.Close()
		// Something outside the group may hold its stderr open.
		t = time.NewTimer(200 * time.Millisecond)
		select {
		case <-pc.stderrDone:
		case <-t.C:
		}
		t.Stop()
		pc.errR.Close()
		<-pc.stderrDone
	})
	return nil
}

// ProxyCommandError is a connect that failed on a ProxyCommand: it says
// what the command printed on stderr.
type ProxyCommandError struct {
	Command string
	Exited  string // "exited with status 1", or "" if it was still running
	Stderr  string // its last lines, joined with "; "
	Err     error  // what the SSH side saw
}

func (e *ProxyCommandError) Unwrap() error { return e.Err }

func (e *ProxyCommandError) Error() string {
	var msg string
	if e.Exited != "" {
		msg = fmt.Sprintf("ProxyCommand %q %s before the SSH connection was set up (%s)", e.Command, e.Exited, strings.TrimPrefix(e.Err.Error(), "ssh: "))
	} else {
		msg = fmt.Sprintf("through ProxyCommand %q: %s", e.Command, strings.TrimPrefix(e.Err.Error(), "ssh: "))
	}
	if e.Stderr != "" {
		return msg + "; it said: " + e.Stderr
	}
	if e.Exited != "" {
		return msg + " (it printed nothing on stderr)"
	}
	return msg
}

// proxyFailure explains a failed connect on conn: for a ProxyCommand, it
// names the command and adds its stderr; the kind becomes ErrProxyCommand
// when the command exited by itself or passed no handshake in time.
// Host-key, authentication and cancellation errors keep their kind and
// message. Call it before conn.Close, so that an exit caused by Close is
// not taken for the cause. Other connections pass unchanged.
func proxyFailure(conn net.Conn, kind ErrorKind, err error) (ErrorKind, error) {
	pc, ok := conn.(*proxyConn)
	if !ok {
		return kind, err
	}
	switch kind {
	case ErrHostUnknown, ErrHostChanged, ErrAuth, ErrCancelled:
		return kind, err
	}
	byItself := false
	if pc.closed.Load() {
		byItself = pc.exitedFirst.Load()
	} else if kind != ErrHandshakeTimeout {
		// A command that fails usually ends the handshake by exiting:
		// give it a moment to be reaped.
		t := time.NewTimer(proxyExitGrace)
		select {
		case <-pc.done:
			byItself = true
		case <-t.C:
		}
		t.Stop()
	}
	if byItself {
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-pc.stderrDone:
		case <-t.C:
		}
		t.Stop()
	}
	e := &ProxyCommandError{Command: pc.command, Stderr: pc.stderr.lastLines(3), Err: err}
	if byItself {
		e.Exited = describeExit(pc.state)
		return ErrProxyCommand, e
	}
	if kind == ErrHandshakeTimeout {
		return ErrProxyCommand, e
	}
	return kind, e
}

func describeExit(st *os.ProcessState) string {
	if st.Exited() {
		return fmt.Sprintf("exited with status %d", st.ExitCode())
	}
	return "ended: " + st.String()
}

// tailBuffer keeps the last max bytes written to it. It is safe for one
// writer and concurrent readers.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// lastLines returns the last n non-empty lines, joined with "; ".
func (b *tailBuffer) lastLines(n int) string {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(b.String(), "\r", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
