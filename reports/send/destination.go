package send

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Destination is one named place to send reports to, as the config file
// describes it:
//
//	destinations:
//	  helpdesk:
//	    type: rt
//	    url: https://rt.example.com
//	    credential: env:TRIAGE_RT_TOKEN   # or file:~/.config/triage/rt-token
//	    queue: Support
type Destination struct {
	Name string
	Type string
	// URL is the system's base address (https://rt.example.com,
	// https://acme.atlassian.net), the endpoint itself for type https, or
	// smtp://host:port for email.
	URL        string
	Credential Credential
	// Auth is how the credential is presented, where a system allows
	// several: "token" (RT's "Authorization: token"), "bearer", or
	// "basic" (the credential is USER:PASSWORD). Each type has a default.
	Auth string
	// Queue is RT's queue for new tickets.
	Queue string
	// Project is Jira's project key, GitHub's OWNER/REPO, GitLab's project
	// id or path.
	Project string
	// IssueType is Jira's issue type for new issues (default Task).
	IssueType string
	// Table is ServiceNow's table (default incident).
	Table string
	// Method is PUT or POST, for type https (default POST).
	Method string
	// From and To are the sender and recipients of email.
	From string
	To   []string
	// CAFile is a PEM file of certificates to trust besides the system's,
	// for a server with a private CA.
	CAFile string
	// MaxBytes caps what one message may hold (default DefaultMaxBytes).
	MaxBytes int64
	// Timeout bounds one delivery, retries included (default
	// DefaultTimeout).
	Timeout time.Duration

	// Getenv reads the environment; nil means os.Getenv. A test hook.
	Getenv func(string) string
	// TLS overrides the TLS settings (a test's server certificate).
	TLS *tls.Config
}

// Problem is one mistake in a destination, by the field it is in.
type Problem struct {
	Field string
	Msg   string
}

func (p Problem) Error() string { return p.Field + ": " + p.Msg }

// authModes lists what each type accepts for auth:, default first.
var authModes = map[string][]string{
	"rt":         {"token", "basic"},
	"jira":       {"basic", "bearer"},
	"servicenow": {"basic", "bearer"},
	"zendesk":    {"basic", "bearer"},
	"github":     {"bearer"},
	"gitlab":     {"token", "bearer"},
	"https":      {"bearer", "basic"},
	"smtp":       {"basic"},
}

// Problems lists every mistake in d, so a config file shows them all.
func (d *Destination) Problems() []Problem {
	var ps []Problem
	add := func(field, format string, a ...any) { ps = append(ps, Problem{field, fmt.Sprintf(format, a...)}) }
	if _, ok := constructors[d.Type]; !ok {
		if d.Type == "" {
			add("type", "missing; types are %s", strings.Join(Types(), ", "))
		} else {
			add("type", "unknown type %q; types are %s", d.Type, strings.Join(Types(), ", "))
		}
		return ps
	}
	u, err := url.Parse(d.URL)
	switch {
	case d.URL == "":
		add("url", "missing")
	case err != nil || u.Host == "":
		add("url", "not a URL such as https://tickets.example.com")
	case u.User != nil:
		// Never echo it: the part before @ is the secret.
		add("url", "holds a user name or password; put the credential in credential: env:NAME or file:PATH")
	case d.Type == "smtp" && u.Scheme != "smtp":
		add("url", "want smtp://HOST:PORT (STARTTLS is always used)")
	case d.Type != "smtp" && u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		add("url", "want an https URL (plain http only to this machine)")
	}
	if modes := authModes[d.Type]; d.Auth != "" && !slices.Contains(modes, d.Auth) {
		add("auth", "%s accepts %s", d.Type, strings.Join(modes, " or "))
	}
	if err := d.Credential.check(); err != nil {
		add("credential", "%v", err)
	}
	switch d.Type {
	case "jira":
		if d.Project == "" {
			add("project", "missing: the Jira project key new issues go into, such as OPS")
		}
	case "github":
		if o, r, ok := strings.Cut(d.Project, "/"); !ok || o == "" || r == "" || strings.Contains(r, "/") {
			add("project", "want the repository as OWNER/REPO")
		}
	case "gitlab":
		if d.Project == "" {
			add("project", "missing: the project's id or path, such as group/app")
		}
	case "servicenow":
		if strings.Trim(d.Table, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			add("table", "want a table's name, such as incident")
		}
	case "https":
		if m := strings.ToUpper(d.Method); m != "" && m != "POST" && m != "PUT" {
			add("method", "want POST or PUT")
		}
	case "smtp":
		if d.From == "" {
			add("from", "missing: the sender's address")
		}
		if len(d.To) == 0 {
			add("to", "missing: the help desk's address")
		}
	}
	if d.MaxBytes < 0 {
		add("max_bytes", "must not be negative")
	}
	if d.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	if d.CAFile != "" {
		if _, err := os.Stat(d.CAFile); err != nil {
			add("ca_file", "cannot read %s", d.CAFile)
		}
	}
	return ps
}

// Check returns the problems of d as one error, or nil.
func (d *Destination) Check() error {
	ps := d.Problems()
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return fmt.Errorf("destination %s: %s", d.Name, strings.Join(msgs, "; "))
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (d *Destination) getenv() func(string) string {
	if d.Getenv != nil {
		return d.Getenv
	}
	return os.Getenv
}

func (d *Destination) needsCredential() bool { return d.Type != "smtp" }

func (d *Destination) auth() string {
	if d.Auth != "" {
		return d.Auth
	}
	return authModes[d.Type][0]
}

func (d *Destination) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultMaxBytes
}

func (d *Destination) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

// tlsConfig is the TLS settings for the destination's server.
func (d *Destination) tlsConfig(serverName string) (*tls.Config, error) {
	if d.TLS != nil {
		c := d.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = serverName
		}
		return c, nil
	}
	c := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if d.CAFile != "" {
		pem, err := os.ReadFile(d.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", d.CAFile)
		}
		c.RootCAs = pool
	}
	return c, nil
}

// Credential says where a destination's secret is: "env:NAME" (an
// environment variable) or "file:PATH" (the whole file, less the final
// newline). Nothing else is accepted, so a secret cannot be written into
// the config file, a playbook or a command line.
type Credential struct {
	Source string
}

func (c Credential) check() error {
	kind, rest, ok := strings.Cut(c.Source, ":")
	switch {
	case c.Source == "":
		return nil
	case ok && kind == "env" && rest != "" && !strings.ContainsAny(rest, " =$"):
		return nil
	case ok && kind == "file" && rest != "":
		return nil
	}
	// Whatever was written may be the secret itself: never repeat it.
	return errors.New("want env:NAME or file:PATH; a secret written into the config file is refused")
}

// Read returns the secret. Its errors name where the secret should be,
// never what it is.
func (c Credential) Read(getenv func(string) string) (string, error) {
	kind, rest, _ := strings.Cut(c.Source, ":")
	switch kind {
	case "":
		return "", nil
	case "env":
		v := getenv(rest)
		if v == "" {
			return "", fmt.Errorf("%w: the environment variable %s holding the credential is not set", ErrAuth, rest)
		}
		return strings.TrimSpace(v), nil
	case "file":
		path := expandHome(rest)
		data, err := os.ReadFile(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("%w: cannot read the credential file %s: %v", ErrAuth, path, err)
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%w: the credential file %s is empty", ErrAuth, path)
		}
		return v, nil
	}
	return "", c.check()
}

func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}
