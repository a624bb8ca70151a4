package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "nameservers",
		Summary: "Checks that DNS servers are configured, and asks each of them at once whether it answers.",
		New:     func() diag.Checker { return &Nameservers{Timeout: diag.Duration(2 * time.Second)} },
		// DNS servers found dead or slow also explain a name that did not
		// resolve (in time), whichever check needed it: a clock's NTP
		// server, a probe's host.
		Examines: func(r diag.Result) []diag.Prerequisite {
			e := []diag.Prerequisite{{What: diag.PrereqDNSServer}}
			if r.Status == diag.Fail || r.Status == diag.Warn {
				e = append(e, diag.Prerequisite{What: diag.PrereqName})
			}
			return e
		},
	})
}

// maxNameserversAsked caps how many configured servers are asked: a
// Windows machine with several adapters can list many.
const maxNameserversAsked = 8

// Nameservers checks the DNS servers the target is configured with: that
// there are some, and that they answer. Unlike the dns check, which asks
// for a name the way the system does (and so stops at the first server
// that answers), it asks every server, so that one dead server among
// working ones is seen before it makes every lookup slow.
type Nameservers struct {
	Name    string        `yaml:"name" doc:"the name to ask each server for (default: the name servers of the root zone, which any DNS resolver can answer)"`
	Timeout diag.Duration `yaml:"timeout" doc:"the latency limit: a server that answers later than this is slow (warn, with its latency), not dead; each server is waited for up to twice this long before it counts as not answering; all are asked at the same time, so the check takes at most twice this (default 2s: slow after 2s, dead after 4s)"`
}

func (c *Nameservers) Validate() error {
	if c.Name != "" && c.Name != "." {
		return checkDNSName(c.Name, "A")
	}
	return nil
}

// Where systemd-resolved is the resolver, resolv.conf names its local stub
// and the servers it forwards to are in a file of its own.
const systemdResolvedConf = "/run/systemd/resolve/resolv.conf"

var systemdStubs = map[string]bool{"127.0.0.53": true, "127.0.0.54": true}

// targetNameservers returns the DNS servers the target is configured
// with: from the target itself where it keeps them outside resolv.conf
// (Windows, macOS), else from /etc/resolv.conf, following
// systemd-resolved's stub to the servers it forwards to.
func targetNameservers(ctx context.Context, t diag.Target) (diag.DNSConfig, error) {
	if nl, ok := t.(diag.NameserverLister); ok {
		cfg, err := nl.Nameservers(ctx)
		if err == nil || !errors.Is(err, diag.ErrUnsupported) {
			return cfg, err
		}
	}
	data, _, err := t.ReadFile(ctx, resolvConfPath, 64<<10)
	if err != nil {
		return diag.DNSConfig{}, fmt.Errorf("reading %s: %w", resolvConfPath, err)
	}
	cfg := diag.DNSConfig{Servers: parseResolvConf(data).Nameservers, Source: resolvConfPath, Evidence: string(data)}
	if len(cfg.Servers) == 1 && systemdStubs[cfg.Servers[0]] {
		if up, _, err := t.ReadFile(ctx, systemdResolvedConf, 64<<10); err == nil {
			if servers := parseResolvConf(up).Nameservers; len(servers) > 0 {
				cfg.Servers = servers
				cfg.Source = "systemd-resolved (" + systemdResolvedConf + ")"
				cfg.Evidence = fmt.Sprintf("# %s\n%s\n# %s\n%s", resolvConfPath, data, systemdResolvedConf, up)
			}
		}
	}
	return cfg, nil
}

// serverOutcome is what one server did with the query.
type serverOutcome struct {
	server  string
	ok      bool
	slow    bool   // answered, but after the latency limit
	problem string // why it is not usable, when !ok
	rcode   string
	rtt     time.Duration
}

func (c *Nameservers) Run(parent context.Context, t diag.Target) diag.Result {
	timeout := c.Timeout.D()
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	cfg, err := targetNameservers(parent, t)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return diag.Resultf(diag.Error, "cannot find the DNS servers of %s: %v", where(t), err).
			WithHint("the system did not say which DNS servers it uses; the message says why")
	}
	servers := cfg.Servers
	if servers == nil {
		servers = []string{}
	}
	base := diag.Result{Evidence: strings.TrimSpace(cfg.Evidence)}.With("nameservers", servers).With("source", cfg.Source)
	if len(servers) == 0 {
		r := withObserved(diag.Resultf(diag.Fail, "no DNS server is configured (%s lists none)", cfg.Source), base)
		r.Evidence = base.Evidence
		return r.WithHint("the network gave this machine no DNS server, so no name can be looked up: reconnect to the network, and check that DNS is set to be obtained automatically (DHCP)")
	}
	asked := servers
	if len(asked) > maxNameserversAsked {
		asked = asked[:maxNameserversAsked]
	}
	name, qtype := ".", dns.TypeNS
	if c.Name != "" && c.Name != "." {
		name, qtype = strings.TrimSpace(c.Name), dns.TypeA
	}

	outcomes := askServers(parent, t, asked, name, qtype, timeout, 2*timeout)
	if parent.Err() != nil {
		return cancelled(parent)
	}
	var wait time.Duration
	if cfg.Source == resolvConfPath {
		wait = parseResolvConf([]byte(cfg.Evidence)).Timeout
	}
	return judgeNameservers(base, outcomes, timeout, wait)
}

// askServers asks every server at once: an answer later than limit is
// slow, none by hard is no answer.
func askServers(parent context.Context, t diag.Target, servers []string, name string, qtype uint16, limit, hard time.Duration) []serverOutcome {
	outcomes := make([]serverOutcome, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = askServer(parent, t, s, name, qtype, hard)
			outcomes[i].slow = outcomes[i].ok && outcomes[i].rtt > limit
		}()
	}
	wg.Wait()
	return outcomes
}

// askServer sends one query to one configured server.
func askServer(parent context.Context, t diag.Target, server, name string, qtype uint16, timeout time.Duration) serverOutcome {
	out := serverOutcome{server: server}
	host, port, err := splitServer(server, 53)
	if err != nil {
		out.problem = err.Error()
		return out
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	start := time.Now()
	a, err := exchange(ctx, t, net.JoinHostPort(host, strconv.Itoa(port)), name, qtype)
	out.rtt = time.Since(start)
	if err != nil {
		var qe *queryError
		switch {
		case errors.As(err, &qe) && qe.kind == queryTimeout:
			out.problem = fmt.Sprintf("no answer within %s", timeout)
		case errors.As(err, &qe) && qe.kind == queryRefused:
			out.problem = "nothing listens for DNS there"
		default:
			out.problem = rootCause(err)
		}
		return out
	}
	out.rcode = dns.RcodeToString[a.msg.Rcode]
	switch a.msg.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		out.ok = true
	case dns.RcodeRefused:
		out.problem = "refuses to answer this machine (REFUSED)"
	case dns.RcodeServerFailure:
		out.problem = "answers, but cannot look names up (SERVFAIL)"
	default:
		out.problem = "answers " + out.rcode
	}
	return out
}

// judgeNameservers judges what the servers did. limit is the latency
// limit; wait is how long the system resolver waits for a server before
// asking the next (resolv.conf's timeout), 0 when not known.
func judgeNameservers(base diag.Result, outcomes []serverOutcome, limit, wait time.Duration) diag.Result {
	var good, slow, bad, detail []string
	var list []map[string]any
	for _, o := range outcomes {
		entry := map[string]any{"server": o.server, "answered": o.ok}
		if o.rcode != "" {
			entry["rcode"] = o.rcode
		}
		switch {
		case o.slow:
			entry["latency_ms"] = diag.Milliseconds(o.rtt)
			entry["slow"] = true
			slow = append(slow, fmt.Sprintf("%s (in %s)", o.server, roundDuration(o.rtt)))
			detail = append(detail, fmt.Sprintf("%s: %s in %s, over the %s limit", o.server, o.rcode, roundDuration(o.rtt), limit))
		case o.ok:
			entry["latency_ms"] = diag.Milliseconds(o.rtt)
			good = append(good, fmt.Sprintf("%s (%s)", o.server, roundDuration(o.rtt)))
			detail = append(detail, fmt.Sprintf("%s: %s in %s", o.server, o.rcode, roundDuration(o.rtt)))
		default:
			entry["problem"] = o.problem
			bad = append(bad, fmt.Sprintf("%s (%s)", o.server, o.problem))
			detail = append(detail, fmt.Sprintf("%s: %s", o.server, o.problem))
		}
		list = append(list, entry)
	}
	r := withObserved(diag.Result{}, base).With("servers", list)
	r.Evidence = strings.TrimSpace(strings.Join(detail, "\n") + "\n\n" + base.Evidence)
	answering := append(append([]string{}, good...), slow...)
	switch {
	case len(bad) == 0 && len(slow) == 0:
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s %s: %s", plural(len(good), "DNS server"), answerVerb(len(good)), strings.Join(good, ", "))
		return r
	case len(answering) == 0:
		r.Status = diag.Fail
		r.Message = "no DNS server answers: " + strings.Join(bad, ", ")
		r.Hint = "names cannot be looked up because the DNS servers do not answer: check the network connection; if it is up, restart the router, or ask the network team whether the DNS servers are down or blocked"
		return r
	}
	r.Status = diag.Warn
	var parts []string
	if len(bad) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d DNS servers %s not answer: %s", len(bad), len(outcomes), doVerb(len(bad)), strings.Join(bad, ", ")))
	}
	if len(slow) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s slowly, over the %s limit: %s", plural(len(slow), "DNS server"), answerVerb(len(slow)), limit, strings.Join(slow, ", ")))
	}
	if len(good) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s", strings.Join(good, ", "), answerVerb(len(good))))
	}
	r.Message = strings.Join(parts, "; ")
	switch {
	case !outcomes[0].ok:
		// The system asks the servers in order, and waits for the first
		// before it asks the next: every lookup is that much late.
		after := "the first server times out"
		if wait > 0 {
			after = fmt.Sprintf("the first server times out (%s)", wait)
		}
		r.Message = fmt.Sprintf("names resolve, but only after %s: %s", after, r.Message)
		r.Hint = fmt.Sprintf("the system asks %s first and waits for it to time out before asking the next server, so every lookup is late and programs that give up sooner report that names do not resolve: remove %s from the network settings or put a working server first, or ask the network team to fix it", outcomes[0].server, outcomes[0].server)
	case len(bad) > 0:
		r.Hint = "lookups still work but may be slow while the dead server is tried: remove it from the network settings, or ask the network team to fix it"
	default:
		r.Hint = "the server answers, but slowly: it is overloaded, far away (over a VPN), or its own upstream servers are slow; every lookup that is not cached waits that long: compare with another server, or ask the network team"
	}
	return r
}

func answerVerb(n int) string {
	if n == 1 {
		return "answers"
	}
	return "answer"
}

func doVerb(n int) string {
	if n == 1 {
		return "does"
	}
	return "do"
}
