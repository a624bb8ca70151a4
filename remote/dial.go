package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	// DefaultConnectTimeout bounds the TCP connect and the SSH handshake
	// of each hop when neither the flags nor ssh_config set ConnectTimeout.
	DefaultConnectTimeout = 10 * time.Second
)

// Keepalives: a connection whose server stops answering is closed after
// keepaliveMax unanswered probes, so a host that hangs mid-run cannot hold
// a sweep. Variables so that tests can make them short.
var (
	keepaliveInterval = 15 * time.Second
	keepaliveMax      = 3
)

// Options configure how hosts are reached. The zero value reads
// ~/.ssh/config and known_hosts like OpenSSH and refuses unknown hosts.
type Options struct {
	ConfigFile      string        // -F: an ssh_config file read instead of ~/.ssh/config and /etc/ssh/ssh_config
	User            string        // -l: login user when the host does not name one
	Port            int           // -p: port when the host does not name one
	IdentityFiles   []string      // -i: identity files tried before those of ssh_config
	ProxyJump       string        // -J: jump hosts, overriding ssh_config's ProxyJump
	HostKeyPolicy   HostKeyPolicy // "" means StrictHostKeyChecking from ssh_config, else strict
	KnownHostsFiles []string      // instead of UserKnownHostsFile and GlobalKnownHostsFile
	ConnectTimeout  time.Duration // per hop; 0 means ssh_config's ConnectTimeout, else DefaultConnectTimeout
	Prompter        Prompter      // asks for passwords and passphrases; nil means never ask
	Home            string        // the local home folder; "" means the user's
}

// Dialer connects to hosts. One Dialer serves a whole run: it reads
// ssh_config once, asks for a key's passphrase once, and records new host
// keys one at a time.
type Dialer struct {
	opts      Options
	home      string
	localUser string
	sshConfig *sshConfigs
	keys      *keyring
	hostKeys  *hostKeys
}

// NewDialer reads the SSH configuration.
func NewDialer(opts Options) (*Dialer, error) {
	home := opts.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	cfg, err := loadSSHConfigs(opts.ConfigFile, home)
	if err != nil {
		return nil, err
	}
	return &Dialer{
		opts:      opts,
		home:      home,
		localUser: currentUser(),
		sshConfig: cfg,
		keys:      newKeyring(opts.Prompter),
		hostKeys:  &hostKeys{},
	}, nil
}

// Resolve returns the configuration a host spec resolves to, as Dial
// would use it.
func (d *Dialer) Resolve(spec string) (HostConfig, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return HostConfig{}, err
	}
	return d.resolve(sp)
}

// Dial connects to a host given as [user@]host[:port] and returns it as a
// diag.Target. Errors are *ConnectError, saying precisely why.
func (d *Dialer) Dial(ctx context.Context, spec string) (*Target, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, &ConnectError{Host: spec, Kind: ErrConfig, Err: err}
	}
	hc, err := d.resolve(sp)
	if err != nil {
		return nil, &ConnectError{Host: spec, Kind: ErrConfig, Err: err}
	}
	name := hc.User + "@" + joinHostPort(hc.Alias, hc.Port)

	// Reach the jump hosts first, each through the one before.
	var via *ssh.Client
	var jumps []*ssh.Client
	closeJumps := func() {
		for i := len(jumps) - 1; i >= 0; i-- {
			jumps[i].Close()
		}
	}
	for i, j := range hc.ProxyJump {
		jsp, err := ParseSpec(j)
		if err != nil {
			closeJumps()
			return nil, &ConnectError{Host: name, Kind: ErrConfig, Err: fmt.Errorf("ProxyJump %q: %v", j, err)}
		}
		jhc, err := d.resolve(jsp)
		if err != nil {
			closeJumps()
			return nil, &ConnectError{Host: name, Kind: ErrConfig, Err: fmt.Errorf("ProxyJump %q: %v", j, err)}
		}
		jhc.ProxyJump = nil // the chain is the target's, not each hop's
		c, err := d.connect(ctx, via, jhc)
		if err != nil {
			closeJumps()
			var ce *ConnectError
			if errors.As(err, &ce) {
				ce.Via = fmt.Sprintf("jump host %d of %d (%s)", i+1, len(hc.ProxyJump), j)
			}
			return nil, err
		}
		jumps = append(jumps, c)
		via = c
	}
	client, err := d.connect(ctx, via, hc)
	if err != nil {
		closeJumps()
		return nil, err
	}
	t := newTarget(name, hc, client, jumps)
	return t, nil
}

// connect makes one SSH connection, directly or through via.
func (d *Dialer) connect(ctx context.Context, via *ssh.Client, hc HostConfig) (*ssh.Client, error) {
	addr := hc.Addr()
	fail := func(kind ErrorKind, err error) error {
		return &ConnectError{Host: hc.User + "@" + joinHostPort(hc.Alias, hc.Port), Addr: addr, Kind: kind, Err: err, Timeout: hc.ConnectTimeout}
	}
	policy := d.policyFor(hc)
	cb, algos, err := d.hostKeys.callback(hc, policy)
	if err != nil {
		return nil, fail(ErrConfig, err)
	}
	cfg := &ssh.ClientConfig{
		User:              hc.User,
		Auth:              d.keys.authMethods(hc),
		HostKeyCallback:   cb,
		HostKeyAlgorithms: algos,
		Timeout:           hc.ConnectTimeout,
	}

	dctx, cancel := context.WithTimeout(ctx, hc.ConnectTimeout)
	defer cancel()
	var conn net.Conn
	if via == nil && hc.ProxyCommand != "" {
		// ssh_config's ProxyCommand: its stdin and stdout are the
		// connection, and it lives as long as ctx (not dctx).
		if conn, err = startProxyCommand(ctx, hc.ProxyCommand); err != nil {
			return nil, fail(ErrProxyCommand, err)
		}
	} else if via == nil {
		var nd net.Dialer
		conn, err = nd.DialContext(dctx, hc.network(), addr)
	} else {
		conn, err = via.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		kind := classifyDial(err, dctx)
		ferr := fail(kind, err)
		if kind == ErrTimeout && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			ferr.(*ConnectError).Deadline, ferr.(*ConnectError).Timeout = true, 0
		}
		return nil, ferr
	}

	// ClientConfig.Timeout covers only the TCP connect: bound the
	// handshake ourselves, by closing the connection if it runs late.
	// (A deadline on the conn would do for TCP, but not for a connection
	// through a jump host, which has no deadlines.)
	type result struct {
		c     ssh.Conn
		chans <-chan ssh.NewChannel
		reqs  <-chan *ssh.Request
		err   error
	}
	done := make(chan result, 1)
	go func() {
		c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
		done <- result{c, chans, reqs, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-dctx.Done():
		conn.Close()
		<-done
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The caller's deadline (triage's --host-timeout) passed
			// during the handshake: a handshake timeout still, not a
			// cancellation by the user.
			err := fail(ErrHandshakeTimeout, fmt.Errorf("no SSH handshake before the deadline: %w", ctx.Err()))
			err.(*ConnectError).Deadline, err.(*ConnectError).Timeout = true, 0
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, fail(ErrCancelled, ctx.Err())
		}
		return nil, fail(proxyFailure(conn, ErrHandshakeTimeout, fmt.Errorf("no SSH handshake within %s", hc.ConnectTimeout)))
	}
	if r.err != nil {
		kind, err := proxyFailure(conn, classifyHandshake(r.err), r.err)
		conn.Close()
		return nil, fail(kind, err)
	}
	client := ssh.NewClient(r.c, r.chans, r.reqs)
	go keepalive(client)
	return client, nil
}

// keepalive probes the server so that a connection to a host that stopped
// answering is closed, which ends every wait on it.
func keepalive(c *ssh.Client) {
	closed := make(chan struct{})
	go func() { c.Wait(); close(closed) }()
	t := time.NewTicker(keepaliveInterval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-closed:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				c.Close()
				return
			}
			missed = 0
		case <-time.After(keepaliveInterval):
			if missed++; missed >= keepaliveMax {
				c.Close()
				return
			}
		case <-closed:
			return
		}
	}
}

// ErrorKind is why a host could not be reached.
type ErrorKind string

const (
	ErrConfig           ErrorKind = "config"
	ErrDNS              ErrorKind = "dns"
	ErrRefused          ErrorKind = "refused"
	ErrTimeout          ErrorKind = "timeout"
	ErrHandshakeTimeout ErrorKind = "handshake-timeout"
	ErrNetwork          ErrorKind = "network"
	ErrHandshake        ErrorKind = "handshake"
	ErrAuth             ErrorKind = "auth"
	ErrHostUnknown      ErrorKind = "host-key-unknown"
	ErrHostChanged      ErrorKind = "host-key-changed"
	ErrCancelled        ErrorKind = "cancelled"
)

// ConnectError says precisely why a host could not be reached.
type ConnectError struct {
	Host    string // user@host:port
	Addr    string // the address dialled
	Via     string // the jump host at fault, if any
	Kind    ErrorKind
	Err     error
	Timeout time.Duration
	// Deadline says that the caller's deadline (the host timeout), not
	// Timeout, ended the attempt.
	Deadline bool
}

func (e *ConnectError) Unwrap() error { return e.Err }

func (e *ConnectError) Error() string {
	where := e.Host
	if e.Via != "" {
		where = e.Via
	}
	var msg string
	switch e.Kind {
	case ErrDNS:
		var de *net.DNSError
		name := e.Addr
		if errors.As(e.Err, &de) {
			name = de.Name
		}
		msg = fmt.Sprintf("cannot resolve %s: no such host", name)
	case ErrRefused:
		msg = fmt.Sprintf("connection refused by %s: nothing listens on that port", e.Addr)
	case ErrTimeout:
		msg = fmt.Sprintf("no answer from %s within %s", e.Addr, e.Timeout)
		if e.Deadline {
			msg = fmt.Sprintf("the host timeout%s was reached while connecting: no answer from %s", timeoutWords(e.Timeout), e.Addr)
		}
	case ErrHandshakeTimeout:
		msg = fmt.Sprintf("%s accepted the connection but did not complete the SSH handshake within %s", e.Addr, e.Timeout)
		if e.Deadline {
			msg = fmt.Sprintf("the host timeout%s was reached during the SSH handshake: %s accepted the connection but did not complete the handshake", timeoutWords(e.Timeout), e.Addr)
		}
	case ErrAuth:
		msg = "authentication failed: " + authDetail(e.Err)
	case ErrHostUnknown, ErrHostChanged:
		msg = e.Err.Error()
	case ErrCancelled:
		msg = "cancelled while connecting"
	default:
		msg = strings.TrimPrefix(e.Err.Error(), "ssh: ")
	}
	return where + ": " + msg
}

// timeoutWords is " (5s)" for a known timeout, "" for an unknown one.
func timeoutWords(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%s)", d)
}

// Hint says what to try next.
func (e *ConnectError) Hint() string {
	var hk *HostKeyError
	if errors.As(e.Err, &hk) {
		return hk.Hint()
	}
	switch e.Kind {
	case ErrDNS:
		return "check the host name for typos, or use its IP address; 'triage run dns' checks this machine's resolver"
	case ErrRefused:
		return "the host is up but no SSH server listens on that port: check the port (-p), or that sshd runs"
	case ErrTimeout:
		return "the host is down, or a firewall drops the connection: check the address and the network path"
	case ErrHandshakeTimeout:
		return "something answers on that port but is not a working SSH server (an overloaded sshd, or another service)"
	case ErrHandshake:
		return "the server broke off the SSH handshake: it may be refusing connections for now (sshd's MaxStartups), blocking this client, or not be an SSH server; its logs say which"
	case ErrAuth:
		return "check the user (-l or user@host) and the key (-i, ssh-agent, IdentityFile); 'ssh -v' shows which keys are offered"
	case ErrConfig:
		return "check the host as written and your ssh config (-F)"
	case ErrProxyCommand:
		return "run the ProxyCommand of your ssh config by hand (ssh -v HOST runs it too): what it says on stderr is above"
	}
	return ""
}

func authDetail(err error) string {
	s := err.Error()
	if i := strings.Index(s, "attempted methods"); i >= 0 {
		return "the server accepted none of the " + strings.TrimSuffix(s[i+len("attempted "):], ", no supported methods remain") + " offered"
	}
	return strings.TrimPrefix(s, "ssh: handshake failed: ssh: ")
}

func classifyDial(err error, ctx context.Context) ErrorKind {
	var de *net.DNSError
	switch {
	case errors.As(err, &de):
		return ErrDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, context.Canceled):
		return ErrCancelled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), ctx.Err() != nil:
		return ErrTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrTimeout
	}
	// Through a jump host, a refused forward is an ssh.OpenChannelError.
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) && oce.Reason == ssh.ConnectionFailed {
		return ErrRefused
	}
	return ErrNetwork
}

func classifyHandshake(err error) ErrorKind {
	var hk *HostKeyError
	if errors.As(err, &hk) {
		if hk.Changed {
			return ErrHostChanged
		}
		return ErrHostUnknown
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		return ErrAuth
	}
	return ErrHandshake
}

// Close releases what the Dialer holds open across hosts: the connection
// to the SSH agent. Targets are closed on their own.
func (d *Dialer) Close() error {
	return d.keys.close()
}
