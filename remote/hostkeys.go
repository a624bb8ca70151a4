package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyPolicy says what to do with a host whose key is not yet known.
// A key that differs from the known one is refused under every policy.
type HostKeyPolicy string

const (
	// Strict refuses unknown hosts (OpenSSH's StrictHostKeyChecking yes).
	Strict HostKeyPolicy = "strict"
	// AcceptNew records unknown hosts in known_hosts and goes on, like
	// OpenSSH's StrictHostKeyChecking accept-new.
	AcceptNew HostKeyPolicy = "accept-new"
)

// ParseHostKeyPolicy reads a --host-key-policy value.
func ParseHostKeyPolicy(s string) (HostKeyPolicy, error) {
	switch p := HostKeyPolicy(s); p {
	case Strict, AcceptNew:
		return p, nil
	}
	return "", fmt.Errorf("unknown host key policy %q (want strict or accept-new)", s)
}

// policyFor picks the policy for a host: the flag if given, else the
// host's StrictHostKeyChecking. "no" and "off" are read as accept-new:
// triage never connects to a host whose key changed, whatever the config.
func (d *Dialer) policyFor(hc HostConfig) HostKeyPolicy {
	if d.opts.HostKeyPolicy != "" {
		return d.opts.HostKeyPolicy
	}
	switch hc.StrictHostKeys {
	case "accept-new", "no", "off":
		return AcceptNew
	}
	return Strict
}

// HostKeyError says why a host's key was not accepted.
type HostKeyError struct {
	Host    string
	Changed bool
	Offered ssh.PublicKey
	// Known lists the file:line entries for the host, when its key changed.
	Known []string
	// File is where an accepted key would be recorded.
	File string
}

func (e *HostKeyError) Error() string {
	fp := ssh.FingerprintSHA256(e.Offered)
	if e.Changed {
		return fmt.Sprintf("host key for %s has CHANGED (it now offers %s %s; known_hosts has it at %s): "+
			"someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled",
			e.Host, e.Offered.Type(), fp, strings.Join(e.Known, ", "))
	}
	return fmt.Sprintf("host key for %s is unknown (it offers %s %s) and the host key policy is strict", e.Host, e.Offered.Type(), fp)
}

// Hint says what to do about it.
func (e *HostKeyError) Hint() string {
	if e.Changed {
		return fmt.Sprintf("do not go on until you know why the key changed; if the host was reinstalled, remove the old entry with ssh-keygen -R %s (and check the new fingerprint with the host's owner)", e.Host)
	}
	return fmt.Sprintf("check the fingerprint with the host's owner, then connect once with ssh, or run again with --host-key-policy accept-new to record it in %s", e.File)
}

// hostKeys checks host keys against known_hosts files and records new
// ones under accept-new. One value serves all the hosts of a run, so that
// parallel connections record new keys one at a time.
type hostKeys struct {
	mu sync.Mutex // serialises reads and writes of known_hosts within this process

	// parsed keeps the known_hosts files as last read, by their paths: a
	// sweep's hosts share the files, and parsing them once per host made
	// a sweep's cost grow with hosts x known hosts. An entry is used only
	// while every file has the size and modification time it had when
	// read, so keys recorded since, by this process or another, are seen.
	parsed map[string]parsedKnownHosts
}

type parsedKnownHosts struct {
	stamp string
	db    *knownhosts.HostKeyDB
}

// callback returns the HostKeyCallback for one host, and the host key
// algorithms to ask for. Asking only for the algorithms of keys already
// known makes the server present the key we can check, when it has several.
func (hk *hostKeys) callback(hc HostConfig, policy HostKeyPolicy) (ssh.HostKeyCallback, []string, error) {
	db, err := hk.open(hc.KnownHostsFiles)
	if err != nil {
		return nil, nil, err
	}
	addr := hc.Addr()
	algos := db.HostKeyAlgorithms(addr)
	if len(algos) == 0 && hc.HostName != hc.Alias {
		// The key may have been recorded under the alias.
		algos = db.HostKeyAlgorithms(joinHostPort(hc.Alias, hc.Port))
	}
	check := db.HostKeyCallback()
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		if err == nil {
			return nil
		}
		var ke *xknownhosts.KeyError
		if !errors.As(err, &ke) {
			return err
		}
		if knownhosts.IsHostKeyChanged(err) {
			e := &HostKeyError{Host: knownhosts.Normalize(hostname), Changed: true, Offered: key}
			for _, k := range ke.Want {
				e.Known = append(e.Known, fmt.Sprintf("%s:%d", k.Filename, k.Line))
			}
			return e
		}
		file := writableKnownHosts(hc.KnownHostsFiles)
		if policy != AcceptNew {
			return &HostKeyError{Host: knownhosts.Normalize(hostname), Offered: key, File: file}
		}
		return hk.record(hc, file, hostname, remote, key)
	}
	return cb, algos, nil
}

// record appends a new host key to file, after checking again under the
// lock that no other connection recorded a key for the host meanwhile.
func (hk *hostKeys) record(hc HostConfig, file, hostname string, remote net.Addr, key ssh.PublicKey) error {
	hk.mu.Lock()
	defer hk.mu.Unlock()
	if file == "" {
		return errors.New("no known_hosts file to record the new host key in")
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("cannot record the host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("cannot record the host key in %s: %w", file, unwrapPath(err))
	}
	defer f.Close()
	// Another triage may be accepting hosts into the same file.
	unlock, err := lockFile(f)
	if err != nil {
		return fmt.Errorf("cannot lock %s: %w", file, err)
	}
	defer unlock()

	db, err := openKnownHosts(hc.KnownHostsFiles)
	if err != nil {
		return err
	}
	if err := db.HostKeyCallback()(hostname, remote, key); err == nil {
		return nil // recorded by someone else, with this very key
	} else if knownhosts.IsHostKeyChanged(err) {
		return &HostKeyError{Host: knownhosts.Normalize(hostname), Changed: true, Offered: key, Known: []string{file}}
	}
	// Start on a new line even if the file does not end with one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			f.Write([]byte("\n"))
		}
	}
	// Record the name as typed only: the address it resolved to may be
	// shared (a load balancer, a jump host's forward).
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if _, err := f.Write([]byte(line)); err != nil {
		return fmt.Errorf("cannot record the host key in %s: %w", file, err)
	}
	return f.Sync()
}

// open returns the known_hosts files parsed, reading them again only when
// one of them has changed since the last time.
func (hk *hostKeys) open(files []string) (*knownhosts.HostKeyDB, error) {
	hk.mu.Lock()
	defer hk.mu.Unlock()
	existing, stamp, err := statKnownHosts(files)
	if err != nil {
		return nil, err
	}
	key := strings.Join(files, "\x00")
	if p, ok := hk.parsed[key]; ok && p.stamp == stamp {
		return p.db, nil
	}
	db, err := parseKnownHosts(existing)
	if err != nil {
		return nil, err
	}
	if hk.parsed == nil {
		hk.parsed = map[string]parsedKnownHosts{}
	}
	hk.parsed[key] = parsedKnownHosts{stamp: stamp, db: db}
	return db, nil
}

// statKnownHosts returns the known_hosts files that exist, and a stamp of
// their sizes and modification times that changes when any of them does.
func statKnownHosts(files []string) (existing []string, stamp string, err error) {
	var b strings.Builder
	for _, f := range files {
		st, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			b.WriteString("-\x00")
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("cannot read known_hosts %s: %w", f, unwrapPath(err))
		}
		existing = append(existing, f)
		fmt.Fprintf(&b, "%d %d\x00", st.Size(), st.ModTime().UnixNano())
	}
	return existing, b.String(), nil
}

// openKnownHosts reads the known_hosts files that exist; missing ones are
// simply empty, as for OpenSSH.
func openKnownHosts(files []string) (*knownhosts.HostKeyDB, error) {
	existing, _, err := statKnownHosts(files)
	if err != nil {
		return nil, err
	}
	return parseKnownHosts(existing)
}

func parseKnownHosts(existing []string) (*knownhosts.HostKeyDB, error) {
	db, err := knownhosts.NewDB(existing...)
	if err != nil {
		return nil, fmt.Errorf("cannot read known_hosts: %w", err)
	}
	return db, nil
}

// writableKnownHosts is the file new keys go to: the first user file.
func writableKnownHosts(files []string) string {
	for _, f := range files {
		if !strings.HasPrefix(f, "/etc/") {
			return f
		}
	}
	return ""
}
