package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/triage-dev/triage/diag"
)

// maxSessions caps the session channels (exec and the SFTP subsystem)
// open at once on a connection: OpenSSH refuses more than MaxSessions,
// 10 by default, and a check must not fail because its neighbours were busy.
// direct-tcpip channels do not count against MaxSessions.
const maxSessions = 8

// Target is a host reached over SSH. It implements diag.Target.
type Target struct {
	name   string
	hc     HostConfig
	client *ssh.Client
	jumps  []*ssh.Client

	sessions chan struct{} // semaphore of session channels

	sftpOnce  sync.Once
	sftpReady chan struct{} // closed when sftp and sftpErr are set
	sftpMu    sync.Mutex
	sftp      *sftp.Client
	sftpErr   error

	closeOnce sync.Once
	closed    chan struct{} // closed by Close

	factsOnce sync.Once
	facts     diag.Facts
	factsErr  error
	windows   atomic.Bool // set by the facts: commands are not POSIX there

	homeMu sync.Mutex
	home   string // the login's home folder, once known

	lookupMu sync.Mutex
	lookups  map[string]*lookupEntry // names resolved on the target, by lookupHost

	proxyMu sync.Mutex
	proxy   *diag.ProxySettings // the target's proxy settings, once read
}

var _ diag.Target = (*Target)(nil)

func newTarget(name string, hc HostConfig, c *ssh.Client, jumps []*ssh.Client) *Target {
	return &Target{name: name, hc: hc, client: c, jumps: jumps, sessions: make(chan struct{}, maxSessions),
		sftpReady: make(chan struct{}), closed: make(chan struct{})}
}

// Name is user@host:port, with the host as it was typed.
func (t *Target) Name() string { return t.name }

// Close ends the connection and those to the jump hosts.
func (t *Target) Close() error {
	t.closeOnce.Do(func() { close(t.closed) })
	t.sftpMu.Lock()
	if t.sftp != nil {
		t.sftp.Close()
	}
	t.sftpMu.Unlock()
	err := t.client.Close()
	for i := len(t.jumps) - 1; i >= 0; i-- {
		t.jumps[i].Close()
	}
	return err
}

// acquire takes a session slot, or gives up when ctx ends.
func (t *Target) acquire(ctx context.Context) error {
	select {
	case t.sessions <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *Target) release() { <-t.sessions }

// overflowLimit is how much a command may print beyond its output cap
// before it is stopped. Up to there the excess is read and dropped, as the
// local target does, so that a command that prints a little too much still
// gets to finish and report its exit status; past it the command is
// presumed runaway (yes, cat of a device) and reading on would only burn
// the check's time and the network.
var overflowLimit int64 = 16 << 20

// ErrOutputOverflow is returned by Run, with what was kept of the output,
// when a command printed more than overflowLimit beyond its cap and was
// stopped.
var ErrOutputOverflow = errors.New("printed far more than its output limit and was stopped")

// Run runs argv in an exec channel, quoted for the target's shell.
func (t *Target) Run(ctx context.Context, c diag.Command) (diag.CommandResult, error) {
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return diag.CommandResult{}, errors.New("empty command")
	}
	// Not t.Facts: finding the facts runs commands itself.
	if t.windows.Load() {
		return diag.CommandResult{}, fmt.Errorf("running commands on a Windows target: %w", diag.ErrUnsupported)
	}
	max := c.MaxOutput
	if max <= 0 {
		max = diag.DefaultMaxOutput
	}
	if err := t.acquire(ctx); err != nil {
		return diag.CommandResult{}, err
	}
	defer t.release()
	sess, err := t.client.NewSession()
	if err != nil {
		return diag.CommandResult{}, fmt.Errorf("opening a session on %s: %w", t.name, err)
	}
	defer sess.Close()
	overflow := make(chan struct{})
	var once sync.Once
	stopAt := max + overflowLimit
	stdout := &overflowBuffer{buf: diag.NewCappedBuffer(max), stopAt: stopAt, overflow: overflow, once: &once}
	stderr := &overflowBuffer{buf: diag.NewCappedBuffer(max), stopAt: stopAt, overflow: overflow, once: &once}
	sess.Stdout, sess.Stderr = stdout, stderr
	if err := sess.Start(shellQuote(c.Argv)); err != nil {
		return diag.CommandResult{}, fmt.Errorf("starting %s on %s: %w", c.Argv[0], t.name, err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Ask the remote side to stop the command; closing the channel
		// ends our side whether or not the server honours signals.
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		return diag.CommandResult{}, ctx.Err()
	case <-overflow:
		// The copies into the buffers may still be running: what they
		// hold is taken under their locks.
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		res := diag.CommandResult{Stdout: stdout.snapshot(), Stderr: stderr.snapshot(), Truncated: true, ExitCode: -1}
		return res, fmt.Errorf("%s on %s %w (%d bytes kept of each stream)", c.Argv[0], t.name, ErrOutputOverflow, max)
	}
	res := diag.CommandResult{Stdout: stdout.snapshot(), Stderr: stderr.snapshot(), Truncated: stdout.dropped() || stderr.dropped()}
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitStatus()
		// The shell says 127 for a program it cannot find.
		if res.ExitCode == 127 && bytes.Contains(bytes.ToLower(res.Stderr), []byte("not found")) {
			return res, fmt.Errorf("%s on %s: %w", c.Argv[0], t.name, diag.ErrCommandNotFound)
		}
		if exit.Signal() != "" && exit.ExitStatus() == -1 {
			res.ExitCode = 128 + signalNumber(exit.Signal())
		}
		return res, nil
	case errors.As(err, &missing):
		return res, fmt.Errorf("%s on %s ended without an exit status: the connection may have dropped", c.Argv[0], t.name)
	}
	return res, fmt.Errorf("running %s on %s: %w", c.Argv[0], t.name, err)
}

// overflowBuffer is a diag.CappedBuffer that counts everything written to
// it and signals overflow once the total passes stopAt. It is locked
// because Run may take its contents while the session still writes.
type overflowBuffer struct {
	mu       sync.Mutex
	buf      *diag.CappedBuffer
	total    int64
	stopAt   int64
	overflow chan struct{}
	once     *sync.Once // shared by stdout and stderr
}

func (b *overflowBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total += int64(len(p))
	if b.total > b.stopAt {
		b.once.Do(func() { close(b.overflow) })
	}
	return b.buf.Write(p)
}

func (b *overflowBuffer) snapshot() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *overflowBuffer) dropped() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Dropped()
}

func signalNumber(sig string) int {
	switch sig {
	case "HUP":
		return 1
	case "INT":
		return 2
	case "KILL":
		return 9
	case "SEGV":
		return 11
	case "PIPE":
		return 13
	case "TERM":
		return 15
	}
	return 0
}

// sftpClient opens the SFTP subsystem once. Its error is kept: a server
// without SFTP is not asked again on every read. The opening runs on its
// own, since sftp.NewClient takes no context and a server can take as long
// as it likes to answer: each caller waits for it only until its ctx ends.
// Callers tell "no SFTP" from "gave up waiting" with sftpUnavailable.
func (t *Target) sftpClient(ctx context.Context) (*sftp.Client, error) {
	t.sftpOnce.Do(func() { go t.openSFTP() })
	select {
	case <-t.sftpReady:
		t.sftpMu.Lock()
		defer t.sftpMu.Unlock()
		return t.sftp, t.sftpErr
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (t *Target) openSFTP() {
	defer close(t.sftpReady)
	var sc *sftp.Client
	var err error
	select {
	case t.sessions <- struct{}{}:
		// The SFTP session holds its slot for the life of the connection.
		sc, err = sftp.NewClient(t.client)
		if err != nil {
			t.release()
		}
	case <-t.closed:
		err = errors.New("the connection is closed")
	}
	t.sftpMu.Lock()
	defer t.sftpMu.Unlock()
	t.sftp, t.sftpErr = sc, err
	select {
	case <-t.closed:
		// Close came while the client was being opened.
		if sc != nil {
			sc.Close()
		}
	default:
	}
}

// sftpUnavailable reports whether err from sftpClient means the server
// offers no SFTP (so a command should do instead), rather than that ctx
// ended while waiting.
func sftpUnavailable(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil
}

// ReadFile reads over SFTP, or with cat when the server offers no SFTP.
func (t *Target) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	if limit <= 0 {
		limit = diag.DefaultMaxOutput
	}
	sc, err := t.sftpClient(ctx)
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if sftpUnavailable(ctx, err) {
		diag.Note(ctx, "the server offers no SFTP; files were read with cat")
		return t.catFile(ctx, path, limit)
	}
	return sftpRead(ctx, sc, path, limit, -1)
}

// sftpRead reads a file over SFTP, at most limit bytes, giving up when ctx
// ends. It never falls back to a command: callers that may use one (ReadFile)
// decide that themselves. A sizeHint of -1 asks the server for the file's
// size; callers that read small files (or those of /proc, whose size is
// unknown) pass a guess instead, and spare the server the request.
func sftpRead(ctx context.Context, sc *sftp.Client, path string, limit, sizeHint int64) ([]byte, bool, error) {
	type result struct {
		data      []byte
		truncated bool
		err       error
	}
	done := make(chan result, 1)
	go func() {
		// The size, asked for alongside the open (no extra round trip),
		// lets a file be read into one buffer of the right size rather
		// than a growing one: a package database (apk's) may be read
		// per host.
		size := make(chan int64, 1)
		if sizeHint >= 0 {
			size <- sizeHint
		} else {
			go func() {
				var n int64
				if fi, err := sc.Stat(path); err == nil && fi.Mode().IsRegular() {
					n = fi.Size()
				}
				size <- n
			}()
		}
		f, err := sc.Open(path)
		sizeHint := <-size
		if err != nil {
			done <- result{err: &fs.PathError{Op: "open", Path: path, Err: err}}
			return
		}
		defer f.Close()
		data, err := readUpTo(f, sizeHint, limit+1)
		r := result{data: data, err: err}
		if int64(len(data)) > limit {
			r.data, r.truncated = data[:limit], true
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.data, r.truncated, r.err
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// readUpTo reads r to its end or to max bytes. sizeHint, the file's size
// when known (or a guess at it), sizes the buffer, so that a file that does not change as it
// is read takes one allocation; it grows only for a file that does (or
// for one whose size is unknown, such as those of /proc).
func readUpTo(r io.Reader, sizeHint, max int64) ([]byte, error) {
	n := int64(512)
	if sizeHint > 0 {
		n = sizeHint + 1 // and one more, to see the end of the file
	}
	buf := make([]byte, 0, min(n, max))
	for int64(len(buf)) < max {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(cap(buf)), max-int64(len(buf)))))
		}
		m, err := r.Read(buf[len(buf):min(int64(cap(buf)), max)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func (t *Target) catFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	// The cap applies to stderr too: leave room for cat's complaint.
	res, err := t.Run(ctx, diag.Command{Argv: []string{"cat", "--", path}, MaxOutput: max(limit+1, 4096)})
	if err != nil {
		return nil, false, err
	}
	if res.ExitCode != 0 {
		return nil, false, &fs.PathError{Op: "read", Path: path, Err: stderrError(res.Stderr)}
	}
	if int64(len(res.Stdout)) > limit {
		return res.Stdout[:limit], true, nil
	}
	return res.Stdout, res.Truncated, nil
}

// stderrError turns the usual complaints of cat, stat and df into the
// errors fs callers test for.
func stderrError(stderr []byte) error {
	s := strings.TrimSpace(string(stderr))
	switch {
	case strings.Contains(s, "No such file"):
		return fs.ErrNotExist
	case strings.Contains(s, "Permission denied"):
		return fs.ErrPermission
	case s == "":
		return errors.New("failed")
	}
	return errors.New(s)
}

// Stat describes a file over SFTP, following symbolic links.
func (t *Target) Stat(ctx context.Context, path string) (diag.FileInfo, error) {
	sc, err := t.sftpClient(ctx)
	if ctx.Err() != nil {
		return diag.FileInfo{}, ctx.Err()
	}
	if sftpUnavailable(ctx, err) {
		diag.Note(ctx, "the server offers no SFTP; files were examined with stat")
		return t.statCommand(ctx, path)
	}
	type result struct {
		fi  fs.FileInfo
		err error
	}
	done := make(chan result, 1)
	go func() {
		fi, err := sc.Stat(path)
		done <- result{fi, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return diag.FileInfo{}, ctx.Err()
	}
	if r.err != nil {
		return diag.FileInfo{}, &fs.PathError{Op: "stat", Path: path, Err: r.err}
	}
	info := diag.FileInfo{Path: path, Size: r.fi.Size(), Mode: r.fi.Mode(), ModTime: r.fi.ModTime(), UID: -1, GID: -1}
	if st, ok := r.fi.Sys().(*sftp.FileStat); ok {
		info.UID, info.GID = int(st.UID), int(st.GID)
	}
	return info, nil
}

// statCommand uses GNU stat: size, raw mode in hex, mtime, uid, gid.
func (t *Target) statCommand(ctx context.Context, path string) (diag.FileInfo, error) {
	res, err := t.Run(ctx, diag.Command{Argv: []string{"stat", "-L", "-c", "%s %f %Y %u %g", "--", path}})
	if err != nil {
		return diag.FileInfo{}, err
	}
	if res.ExitCode != 0 {
		return diag.FileInfo{}, &fs.PathError{Op: "stat", Path: path, Err: stderrError(res.Stderr)}
	}
	return parseGNUStat(path, res.Stdout)
}

func parseGNUStat(path string, out []byte) (diag.FileInfo, error) {
	f := strings.Fields(string(out))
	if len(f) != 5 {
		return diag.FileInfo{}, fmt.Errorf("stat %s: unexpected output %q", path, out)
	}
	size, err1 := strconv.ParseInt(f[0], 10, 64)
	raw, err2 := strconv.ParseUint(f[1], 16, 32)
	mtime, err3 := strconv.ParseInt(f[2], 10, 64)
	uid, err4 := strconv.Atoi(f[3])
	gid, err5 := strconv.Atoi(f[4])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return diag.FileInfo{}, fmt.Errorf("stat %s: unexpected output %q", path, out)
	}
	return diag.FileInfo{Path: path, Size: size, Mode: unixMode(uint32(raw)), ModTime: time.Unix(mtime, 0), UID: uid, GID: gid}, nil
}

// unixMode converts st_mode bits to an fs.FileMode.
func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & 0o170000 {
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o140000:
		mode |= fs.ModeSocket
	}
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// DiskUsage asks the SFTP server for statvfs@openssh.com, or runs df -Pk.
func (t *Target) DiskUsage(ctx context.Context, path string) (diag.DiskUsage, error) {
	sc, err := t.sftpClient(ctx)
	if ctx.Err() != nil {
		return diag.DiskUsage{}, ctx.Err()
	}
	if err == nil {
		type result struct {
			st  *sftp.StatVFS
			err error
		}
		done := make(chan result, 1)
		go func() {
			st, err := sc.StatVFS(path)
			done <- result{st, err}
		}()
		select {
		case r := <-done:
			if r.err == nil {
				st := r.st
				return diag.DiskUsage{
					Path:  path,
					Total: st.Frsize * st.Blocks, Free: st.Frsize * st.Bfree, Avail: st.Frsize * st.Bavail,
					Files: st.Files, FilesFree: st.Ffree,
				}, nil
			}
			if errors.Is(r.err, fs.ErrNotExist) || errors.Is(r.err, fs.ErrPermission) {
				return diag.DiskUsage{}, &fs.PathError{Op: "statvfs", Path: path, Err: r.err}
			}
			diag.Note(ctx, "the SFTP server does not offer statvfs@openssh.com; disk usage came from df")
		case <-ctx.Done():
			return diag.DiskUsage{}, ctx.Err()
		}
	} else {
		diag.Note(ctx, "the server offers no SFTP; disk usage came from df")
	}
	res, err := t.Run(ctx, diag.Command{Argv: []string{"df", "-Pk", "--", path}})
	if err != nil {
		return diag.DiskUsage{}, err
	}
	if res.ExitCode != 0 {
		return diag.DiskUsage{}, &fs.PathError{Op: "df", Path: path, Err: stderrError(res.Stderr)}
	}
	return ParseDFP(path, res.Stdout)
}

// ParseDFP reads the output of df -Pk for one path (POSIX format: a
// header, then one line of 1024-byte blocks). df gives no inode counts.
func ParseDFP(path string, out []byte) (diag.DiskUsage, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	var lines []string
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		return diag.DiskUsage{}, fmt.Errorf("df %s: unexpected output %q", path, out)
	}
	// The filesystem name may contain spaces; the five numbers and the
	// mount point are counted from the right... except the mount point may
	// too. Find the "NN%" capacity column and read the numbers before it.
	f := strings.Fields(strings.Join(lines[1:], " "))
	capIdx := -1
	for i := 3; i < len(f); i++ {
		if strings.HasSuffix(f[i], "%") {
			capIdx = i
			break
		}
	}
	if capIdx < 0 {
		return diag.DiskUsage{}, fmt.Errorf("df %s: no capacity column in %q", path, out)
	}
	var n [3]uint64
	for i := range n {
		v, err := strconv.ParseUint(f[capIdx-3+i], 10, 64)
		if err != nil {
			return diag.DiskUsage{}, fmt.Errorf("df %s: unexpected number %q", path, f[capIdx-3+i])
		}
		n[i] = v * 1024
	}
	total, used, avail := n[0], n[1], n[2]
	free := total - min(used, total)
	return diag.DiskUsage{Path: path, Total: total, Free: free, Avail: avail}, nil
}

// Dial opens a TCP connection that starts on the target, through a
// direct-tcpip channel. A host name is resolved on the target first (see
// lookupHost) and the channel opened to its addresses in turn.
func (t *Target) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("%s connections cannot start on an SSH target, only TCP: %w", network, diag.ErrUnsupported)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, perr := netip.ParseAddr(host); perr == nil {
		return t.dialAddr(ctx, address)
	}
	addrs, err := t.lookupHost(ctx, host)
	if errors.Is(err, errNoGetent) {
		return t.dialAddr(ctx, address)
	}
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	// IPv4 first: this machine's dialer races IPv6 against IPv4 (Happy
	// Eyeballs) and so never stalls on a broken IPv6 path, and a tunnel
	// opened address by address must not either; whether IPv6 works is
	// the ipv6 check's finding, not every connection's.
	addrs = slices.Clone(addrs) // the lookup's answer is shared
	slices.SortStableFunc(addrs, func(a, b netip.Addr) int {
		switch {
		case a.Is4() && !b.Is4():
			return -1
		case !a.Is4() && b.Is4():
			return 1
		}
		return 0
	})
	var first error
	tried := 0
	for _, a := range addrs {
		if (network == "tcp4" && !a.Is4()) || (network == "tcp6" && !a.Is6()) {
			continue
		}
		tried++
		c, err := t.dialAddr(ctx, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil || IsForwardingRefused(err) {
			break
		}
	}
	if tried == 0 {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}}
	}
	return nil, first
}

// dialAddr opens a channel to address, an IP address and port (a name only
// where the target cannot resolve for us), with deadlines that hold.
func (t *Target) dialAddr(ctx context.Context, address string) (net.Conn, error) {
	conn, err := t.client.DialContext(ctx, "tcp", address)
	if err != nil {
		var oce *ssh.OpenChannelError
		if errors.As(err, &oce) && oce.Reason == ssh.Prohibited {
			// The server forbids forwarding: connect from a shell on the
			// target instead, and say so in the evidence.
			c, cerr := t.dialByCommand(ctx, address)
			if cerr == nil {
				diag.Note(ctx, "the server does not allow TCP forwarding; the connection was made by bash on the target")
				return c, nil
			}
			if errors.Is(cerr, diag.ErrUnsupported) {
				return nil, fmt.Errorf("%s does not allow TCP forwarding (AllowTcpForwarding no), and connecting from a shell there failed too (%v): %w", t.name, cerr, errForwardingRefused)
			}
			return nil, cerr
		}
		return nil, openError(err, address)
	}
	return newTunnelConn(conn, address), nil
}

// IsForwardingRefused reports whether err is the server refusing TCP
// forwarding.
func IsForwardingRefused(err error) bool {
	var oce *ssh.OpenChannelError
	return errors.Is(err, errForwardingRefused) || (errors.As(err, &oce) && oce.Reason == ssh.Prohibited)
}
