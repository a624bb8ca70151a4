package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sshconfig "github.com/kevinburke/ssh_config"
)

// HostConfig is everything needed to reach one host, after the command
// line, ~/.ssh/config and the defaults have been combined.
type HostConfig struct {
	Alias           string // the host as typed
	HostName        string // what to connect to
	Port            int
	User            string
	IdentityFiles   []string
	IdentitiesOnly  bool
	ProxyJump       []string // jump hosts, first hop first, as [user@]host[:port]
	ProxyCommand    string   // ssh_config's ProxyCommand, tokens expanded; "" means none
	AddressFamily   string   // "tcp4" for AddressFamily inet, "tcp6" for inet6, "" for any
	KnownHostsFiles []string // read; the first is written by accept-new
	StrictHostKeys  string   // StrictHostKeyChecking as configured: yes, accept-new, no, ask or ""
	ConnectTimeout  time.Duration
}

// Addr is host:port for dialing.
func (hc HostConfig) Addr() string {
	return joinHostPort(hc.HostName, hc.Port)
}

// network is what to dial for the host: "tcp", or "tcp4" or "tcp6" when
// AddressFamily asks for one.
func (hc HostConfig) network() string {
	if hc.AddressFamily != "" {
		return hc.AddressFamily
	}
	return "tcp"
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// sshConfigs is the parsed ssh_config files, user file first: OpenSSH
// takes the first value found for each keyword.
type sshConfigs struct {
	files []*sshconfig.Config
	paths []string
}

func loadSSHConfigs(explicit, home string) (*sshConfigs, error) {
	var paths []string
	if explicit != "" {
		paths = []string{explicit} // like ssh -F: the system file is not read
	} else {
		paths = []string{filepath.Join(home, ".ssh", "config"), "/etc/ssh/ssh_config"}
	}
	c := &sshConfigs{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != explicit {
				continue
			}
			return nil, fmt.Errorf("cannot read ssh config %s: %w", p, unwrapPath(err))
		}
		cfg, err := decodeSSHConfig(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: %v", p, err)
		}
		c.files = append(c.files, cfg)
		c.paths = append(c.paths, p)
	}
	return c, nil
}

// decodeSSHConfig parses a config file, turning a panic of the parser on
// strange input into an error.
func decodeSSHConfig(f *os.File) (cfg *sshconfig.Config, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot parse: %v", p)
		}
	}()
	return sshconfig.Decode(f)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (c *sshConfigs) get(alias, key string) string {
	for _, f := range c.files {
		if v, err := f.Get(alias, key); err == nil && v != "" {
			return v
		}
	}
	return ""
}

func (c *sshConfigs) getAll(alias, key string) []string {
	var out []string
	for _, f := range c.files {
		if v, err := f.GetAll(alias, key); err == nil {
			out = append(out, v...)
		}
	}
	return out
}

// proxyChoice returns which of ProxyJump and ProxyCommand OpenSSH uses
// for alias, and its value ("" for neither). OpenSSH reads the config in
// order (files, then lines) and keeps the first ProxyCommand, or the first
// ProxyJump, whichever comes first, ignoring the other; "ProxyCommand
// none" counts as given, while "ProxyJump none" only stops later
// ProxyJumps (checked against OpenSSH 9.2's ssh -G and ssh).
func (c *sshConfigs) proxyChoice(alias string) (key, value string, err error) {
	jumpNone := false
	// take applies one ProxyJump or ProxyCommand line; done means decided.
	take := func(k, v string) (done bool) {
		switch {
		case v == "":
		case strings.EqualFold(k, "ProxyCommand"):
			key, value = "ProxyCommand", v
			return true
		case strings.EqualFold(v, "none"):
			jumpNone = true
		case !jumpNone:
			key, value = "ProxyJump", v
			return true
		}
		return false
	}
	for _, f := range c.files {
		for _, h := range f.Hosts {
			if !h.Matches(alias) {
				continue
			}
			for _, n := range h.Nodes {
				switch n := n.(type) {
				case *sshconfig.KV:
					if (strings.EqualFold(n.Key, "ProxyJump") || strings.EqualFold(n.Key, "ProxyCommand")) && take(n.Key, n.Value) {
						return key, value, nil
					}
				case *sshconfig.Include:
					// An Include answers one key at a time, so the order
					// of the two within it is lost: refuse to guess.
					pj, pc := n.Get(alias, "ProxyJump"), n.Get(alias, "ProxyCommand")
					if pj != "" && pc != "" {
						return "", "", fmt.Errorf("the files of %q set both ProxyJump and ProxyCommand; keep only one", strings.TrimSpace(n.String()))
					}
					if take("ProxyJump", pj) || take("ProxyCommand", pc) {
						return key, value, nil
					}
				}
			}
		}
	}
	return "", "", nil
}

// unsupportedDirective is an ssh_config keyword that changes where or how
// OpenSSH connects and that triage does not implement. A host that sets
// one (to anything but a value under which it changes nothing) is an
// error naming it: connecting some other way than ssh would, in silence,
// may reach another machine or by another path. docs/ssh.md has the full
// table of keywords, with the ones ignored as harmless.
type unsupportedDirective struct {
	key      string
	harmless []string // values (lower case) under which the keyword changes nothing
	why      string
}

var unsupportedDirectives = []unsupportedDirective{
	{"ProxyUseFdpass", []string{"no"}, "a ProxyCommand that passes a socket back is not supported; triage talks through the command's stdin and stdout"},
	{"HostKeyAlias", nil, "triage checks the host key under HostName:Port only, so it would check another known_hosts entry than ssh"},
	{"BindAddress", nil, "triage cannot connect from a chosen local address"},
	{"BindInterface", nil, "triage cannot connect from a chosen interface"},
	{"CanonicalizeHostname", []string{"no"}, "triage does not canonicalize host names, so it would reach another name than ssh"},
	{"CertificateFile", nil, "triage does not offer user certificates from files"},
	{"IdentityAgent", []string{"ssh_auth_sock", "$ssh_auth_sock"}, "triage uses the agent of SSH_AUTH_SOCK only"},
	{"PKCS11Provider", []string{"none"}, "triage cannot use PKCS#11 tokens"},
	{"KnownHostsCommand", []string{"none"}, "triage reads host keys from known_hosts files only"},
	{"RevokedHostKeys", []string{"none"}, "triage does not read revoked-key files: ignoring it could accept a revoked host key"},
}

// checkUnsupported returns an error naming the first keyword of
// unsupportedDirectives that the config sets for alias.
func (c *sshConfigs) checkUnsupported(alias string) error {
	for _, u := range unsupportedDirectives {
		v := c.get(alias, u.key)
		if v == "" {
			continue
		}
		ok := false
		for _, h := range u.harmless {
			if strings.EqualFold(v, h) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("ssh config for %s: %s %s is not supported (%s), and triage does not connect another way than ssh would", alias, u.key, v, u.why)
		}
	}
	return nil
}

// resolve combines, highest first: the spec as typed, the command-line
// options, ssh_config, and OpenSSH's defaults.
func (d *Dialer) resolve(sp Spec) (HostConfig, error) {
	hc := HostConfig{Alias: sp.Host}
	cfg := d.sshConfig
	alias := sp.Host

	hc.HostName = alias
	if v := cfg.get(alias, "HostName"); v != "" {
		hc.HostName = strings.ReplaceAll(v, "%h", alias)
	}

	switch {
	case sp.Port != 0:
		hc.Port = sp.Port
	case d.opts.Port != 0:
		hc.Port = d.opts.Port
	case cfg.get(alias, "Port") != "":
		p, err := parsePort(cfg.get(alias, "Port"))
		if err != nil {
			return hc, fmt.Errorf("ssh config for %s: Port: %v", alias, err)
		}
		hc.Port = p
	default:
		hc.Port = 22
	}

	switch {
	case sp.User != "":
		hc.User = sp.User
	case d.opts.User != "":
		hc.User = d.opts.User
	case cfg.get(alias, "User") != "":
		hc.User = cfg.get(alias, "User")
	default:
		hc.User = d.localUser
	}

	tokens := d.tokens(hc)
	for _, f := range d.opts.IdentityFiles {
		hc.IdentityFiles = append(hc.IdentityFiles, d.expand(f, tokens))
	}
	for _, f := range cfg.getAll(alias, "IdentityFile") {
		hc.IdentityFiles = append(hc.IdentityFiles, d.expand(f, tokens))
	}
	hc.IdentitiesOnly = strings.EqualFold(cfg.get(alias, "IdentitiesOnly"), "yes")
	if len(hc.IdentityFiles) == 0 {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			hc.IdentityFiles = append(hc.IdentityFiles, filepath.Join(d.home, ".ssh", name))
		}
	}

	if len(d.opts.KnownHostsFiles) > 0 {
		hc.KnownHostsFiles = d.opts.KnownHostsFiles
	} else {
		user := cfg.get(alias, "UserKnownHostsFile")
		if user == "" {
			user = "~/.ssh/known_hosts ~/.ssh/known_hosts2"
		}
		for _, f := range strings.Fields(user) {
			if f != "/dev/null" {
				hc.KnownHostsFiles = append(hc.KnownHostsFiles, d.expand(f, tokens))
			}
		}
		global := cfg.get(alias, "GlobalKnownHostsFile")
		if global == "" {
			global = "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"
		}
		for _, f := range strings.Fields(global) {
			hc.KnownHostsFiles = append(hc.KnownHostsFiles, d.expand(f, tokens))
		}
	}
	hc.StrictHostKeys = strings.ToLower(cfg.get(alias, "StrictHostKeyChecking"))

	hc.ConnectTimeout = d.opts.ConnectTimeout
	if v := cfg.get(alias, "ConnectTimeout"); v != "" && d.opts.ConnectTimeout == 0 {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 0 {
			return hc, fmt.Errorf("ssh config for %s: ConnectTimeout %q is not a number of seconds", alias, v)
		}
		hc.ConnectTimeout = time.Duration(secs) * time.Second
	}
	if hc.ConnectTimeout == 0 {
		hc.ConnectTimeout = DefaultConnectTimeout
	}

	switch af := strings.ToLower(cfg.get(alias, "AddressFamily")); af {
	case "", "any":
	case "inet":
		hc.AddressFamily = "tcp4"
	case "inet6":
		hc.AddressFamily = "tcp6"
	default:
		return hc, fmt.Errorf("ssh config for %s: AddressFamily %q is not any, inet or inet6", alias, af)
	}

	if err := cfg.checkUnsupported(alias); err != nil {
		return hc, err
	}

	// -J wins over ssh_config, as with ssh; in ssh_config, the first of
	// ProxyJump and ProxyCommand given is used and the other ignored.
	if d.opts.ProxyJump != "" {
		if !strings.EqualFold(d.opts.ProxyJump, "none") {
			hc.ProxyJump = splitJumps(d.opts.ProxyJump)
		}
		return hc, nil
	}
	key, v, err := cfg.proxyChoice(alias)
	if err != nil {
		return hc, fmt.Errorf("ssh config for %s: %v", alias, err)
	}
	if v == "" || strings.EqualFold(v, "none") {
		return hc, nil
	}
	if key == "ProxyJump" {
		hc.ProxyJump = splitJumps(d.expand(v, tokens))
		return hc, nil
	}
	pc, err := expandProxyCommand(v, proxyCommandTokens(tokens))
	if err != nil {
		return hc, fmt.Errorf("ssh config for %s: ProxyCommand: %v", alias, err)
	}
	hc.ProxyCommand = pc
	return hc, nil
}

func splitJumps(s string) []string {
	var out []string
	for _, j := range strings.Split(s, ",") {
		if j = strings.TrimSpace(j); j != "" {
			// ssh://user@host:port is accepted by OpenSSH too.
			out = append(out, strings.TrimPrefix(j, "ssh://"))
		}
	}
	return out
}

func (d *Dialer) tokens(hc HostConfig) map[byte]string {
	return map[byte]string{
		'h': hc.HostName,
		'n': hc.Alias,
		'p': strconv.Itoa(hc.Port),
		'r': hc.User,
		'u': d.localUser,
		'd': d.home,
		'%': "%",
	}
}

// expand applies ~ and the % tokens of ssh_config(5) to a path.
func (d *Dialer) expand(s string, tokens map[byte]string) string {
	if s == "~" || strings.HasPrefix(s, "~/") {
		s = d.home + s[1:]
	}
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) {
			if v, ok := tokens[s[i+1]]; ok {
				b.WriteString(v)
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		// On Windows the name is DOMAIN\user; the SSH user is the last part.
		if i := strings.LastIndex(u.Username, `\`); i >= 0 {
			return u.Username[i+1:]
		}
		return u.Username
	}
	return os.Getenv("USER")
}
