package sshtest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// SSHDPath is where StartOpenSSH looks for the OpenSSH server. sshd refuses
// to start from a relative path.
const SSHDPath = "/usr/sbin/sshd"

// RequireSSHDEnv is the environment variable that turns "no sshd here" from
// a skip into a failure. CI sets it to 1, so that OpenSSH tests cannot pass
// there by not running.
const RequireSSHDEnv = "TRIAGE_REQUIRE_SSHD"

// OpenSSHHostAlias is the Host entry of the ssh_config file StartOpenSSH
// writes.
const OpenSSHHostAlias = "triage-e2e"

// sftpServerPaths are the places distributions put OpenSSH's sftp-server.
var sftpServerPaths = []string{
	"/usr/lib/openssh/sftp-server",     // Debian, Ubuntu
	"/usr/libexec/openssh/sftp-server", // Fedora, RHEL
	"/usr/lib/ssh/sftp-server",         // Arch
	"/usr/libexec/sftp-server",         // macOS, BSDs
	"/usr/lib/sftp-server",
}

// OpenSSHOptions configures StartOpenSSH. The zero value is a stock server:
// forwarding allowed, MaxSessions 10.
type OpenSSHOptions struct {
	// NoForwarding sets "AllowTcpForwarding no".
	NoForwarding bool

	// MaxSessions sets MaxSessions; 0 leaves OpenSSH's default, 10.
	MaxSessions int

	// AuthorizedKeys are accepted besides the generated user key.
	AuthorizedKeys []ssh.PublicKey

	// ExtraConfig are sshd_config lines added to the generated ones. A
	// keyword set here (before any Match line) replaces the generated line
	// for that keyword, since sshd keeps the first value it reads; Match
	// blocks may follow.
	ExtraConfig []string
}

// OpenSSH is a running OpenSSH sshd, started by StartOpenSSH for one test.
type OpenSSH struct {
	// Addr is "127.0.0.1:PORT"; Host and Port are its parts.
	Addr string
	Host string
	Port int

	// Dir is the temporary directory with every file below.
	Dir string

	// User is the user that may log in: the one running the tests.
	User string

	// UserKey is the generated ed25519 key authorized for User, and
	// UserKeyPath its private key file (mode 0600, OpenSSH format).
	UserKey     ssh.Signer
	UserKeyPath string

	// HostKeyPub is the server's ed25519 host key; HostKeys are all of its
	// host keys: ed25519, ecdsa-p256 and rsa-2048, in that order.
	HostKeyPub ssh.PublicKey
	HostKeys   []ssh.PublicKey

	// KnownHostsPath is a known_hosts file with one line, for HostKeyPub at
	// "[127.0.0.1]:PORT" — what the OpenSSH client records on first
	// contact. The server offers three key types, so a client that trusts
	// this file must ask for ed25519 (see DESIGN.md §11).
	KnownHostsPath string

	// SSHConfigPath is an ssh_config file with one entry, Host
	// OpenSSHHostAlias ("triage-e2e"): HostName, Port, User, IdentityFile,
	// IdentitiesOnly yes, UserKnownHostsFile and StrictHostKeyChecking yes,
	// for "ssh -F SSHConfigPath triage-e2e" and for remote's config reader.
	SSHConfigPath string

	// ConfigPath is the sshd_config the server runs with; LogPath is its
	// log (LogLevel VERBOSE).
	ConfigPath string
	LogPath    string

	// SFTPServer is the Subsystem sftp command: the machine's sftp-server,
	// or internal-sftp if none was found.
	SFTPServer string

	// Pid is sshd's process id.
	Pid int
}

// Log returns sshd's log so far.
func (o *OpenSSH) Log() string {
	b, err := os.ReadFile(o.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", o.LogPath, err)
	}
	return string(b)
}

// sshdUnavailable skips the test, or fails it when RequireSSHDEnv is set.
func sshdUnavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(RequireSSHDEnv) == "1" {
		t.Fatalf("sshtest: %s; CI requires OpenSSH: apt-get install -y openssh-server openssh-sftp-server (%s=1)", reason, RequireSSHDEnv)
		return
	}
	t.Skipf("sshtest: %s; install openssh-server to run this test", reason)
}

// findSFTPServer returns the first sftp-server binary that exists, or
// "internal-sftp", which every sshd has built in.
func findSFTPServer() string {
	for _, p := range sftpServerPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return "internal-sftp"
}

// configWord quotes a value for sshd_config or ssh_config if it needs it.
func configWord(s string) string {
	if strings.ContainsAny(s, " \t\"'#") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

// sshdConfigLine is one "Keyword value" line of a generated config.
type sshdConfigLine struct {
	keyword string
	value   string
}

// renderSSHDConfig writes the generated lines, minus those whose keyword
// extra sets before its first Match line, followed by extra.
func renderSSHDConfig(lines []sshdConfigLine, extra []string) string {
	overridden := map[string]bool{}
	for _, l := range extra {
		fields := strings.Fields(l)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		kw := strings.ToLower(fields[0])
		if kw == "match" {
			break
		}
		overridden[kw] = true
	}
	var b strings.Builder
	b.WriteString("# Written by sshtest.StartOpenSSH for one test; the system's sshd and its\n# configuration are not involved.\n")
	for _, l := range lines {
		if overridden[strings.ToLower(l.keyword)] {
			continue
		}
		fmt.Fprintf(&b, "%s %s\n", l.keyword, l.value)
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// renderSSHConfig writes the client config for the alias.
func renderSSHConfig(o *OpenSSH) string {
	return fmt.Sprintf(`# Written by sshtest.StartOpenSSH: the OpenSSH server of one test.
Host %s
	HostName %s
	Port %d
	User %s
	IdentityFile %s
	IdentitiesOnly yes
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 10
`, OpenSSHHostAlias, o.Host, o.Port, configWord(o.User), configWord(o.UserKeyPath), configWord(o.KnownHostsPath))
}

func readFileOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
