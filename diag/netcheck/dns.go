package netcheck

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "dns",
		Summary: "Resolves a name, through the system's resolver or a given DNS server, and checks the answers.",
		New: func() diag.Checker {
			return &DNS{Type: "A", ExpectMode: "contains", Timeout: diag.Duration(5 * time.Second)}
		},
		Examines: func(r diag.Result) []diag.Prerequisite {
			name, _ := r.Observed["name"].(string)
			if name == "" {
				return nil
			}
			return []diag.Prerequisite{{What: diag.PrereqName, Subject: name}}
		},
	})
}

// dnsTypes are the record types the dns check asks for.
var dnsTypes = map[string]uint16{
	"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CNAME": dns.TypeCNAME, "MX": dns.TypeMX,
	"TXT": dns.TypeTXT, "NS": dns.TypeNS, "SRV": dns.TypeSRV, "PTR": dns.TypePTR,
}

// resolvConfPath is where a Unix target keeps its resolver configuration.
const resolvConfPath = "/etc/resolv.conf"

// DNS checks that a name resolves, and to what.
type DNS struct {
	Name       string        `yaml:"name" required:"true" doc:"the name to look up; for type PTR, an IP address (or its in-addr.arpa name)"`
	Type       string        `yaml:"type" doc:"the record type: A, AAAA, CNAME, MX, TXT, NS, SRV or PTR (default A)"`
	Server     string        `yaml:"server" doc:"a DNS server to ask directly, as host or host:port (port 53 by default); by default the target's own resolver is used, and an answer from its hosts file is reported with the line it came from, and compared with what its DNS servers say (a warning when they give other addresses: the entry may be stale); a name the resolver does not find, or finds under a search domain, is compared with them too, and the result names nsswitch.conf, systemd-resolved or the search domain"`
	Expect     []string      `yaml:"expect" doc:"values the answers must include, written as reported: 192.0.2.1, mail.example.com, \"10 mail.example.com\"..."`
	ExpectMode string        `yaml:"expect_mode" doc:"how expect is compared: contains (every expected value is among the answers, the default), equals (the answers are exactly the expected ones) or any (at least one expected value is among the answers)"`
	MaxLatency diag.Duration `yaml:"max_latency" doc:"warn when the answer takes longer than this"`
	// NXDomainProbe turns the check into the "does DNS answer honestly"
	// probe (see runProbe).
	NXDomainProbe bool          `yaml:"nxdomain_probe" doc:"instead of looking name up, ask for a random name under it that cannot exist (triage-XXXXXXXXXX.NAME), from each configured DNS server (or server:) directly: the honest answer is NXDOMAIN; an address means the server rewrites \"no such name\" answers (an internet provider's search helper, a filter's block page): warn, naming the address it points to. Give a name without wildcard records, such as example.com"`
	Timeout       diag.Duration `yaml:"timeout" doc:"how long the lookup may take, retries and every server included (default 5s)"`
}

func (c *DNS) qtype() string {
	if c.Type == "" {
		return "A"
	}
	return strings.ToUpper(strings.TrimSpace(c.Type))
}

func (c *DNS) Validate() error {
	var errs []error
	qtype := c.qtype()
	if _, ok := dnsTypes[qtype]; !ok {
		errs = append(errs, diag.FieldErrorf("type", "%q is not a record type this check asks for (want A, AAAA, CNAME, MX, TXT, NS, SRV or PTR)", c.Type))
	}
	if err := checkDNSName(c.Name, qtype); err != nil {
		errs = append(errs, err)
	}
	if c.NXDomainProbe && (qtype != "A" || len(c.Expect) > 0) {
		errs = append(errs, diag.FieldErrorf("nxdomain_probe", "asks for a name that cannot exist, so it takes neither expect nor a type other than A"))
	}
	if c.Server != "" {
		if _, _, err := splitServer(c.Server, 53); err != nil {
			errs = append(errs, diag.FieldErrorf("server", "%v", err))
		}
	}
	switch c.ExpectMode {
	case "", "contains":
	case "equals", "any":
		if len(c.Expect) == 0 {
			errs = append(errs, diag.FieldErrorf("expect_mode", "applies only with expect: give the values to compare"))
		}
	default:
		errs = append(errs, diag.FieldErrorf("expect_mode", "%q is not a mode (want contains, equals or any)", c.ExpectMode))
	}
	for i, e := range c.Expect {
		if err := checkExpected(qtype, e); err != nil {
			errs = append(errs, diag.FieldErrorf("expect", "item %d: %v", i+1, err))
		}
	}
	return errors.Join(errs...)
}

func checkDNSName(name, qtype string) error {
	n := strings.TrimSpace(name)
	if n == "" {
		return diag.FieldErrorf("name", "is empty")
	}
	if strings.Contains(n, "://") || strings.ContainsAny(n, " /@") {
		return diag.FieldErrorf("name", "%q is not a domain name; give only the name, such as www.example.com", name)
	}
	_, isIP := netip.ParseAddr(n)
	if qtype == "PTR" {
		if isIP == nil || isReverseName(n) {
			return nil
		}
		return diag.FieldErrorf("name", "%q is not an IP address; a PTR lookup maps an address back to its name", name)
	}
	if isIP == nil {
		return diag.FieldErrorf("name", "%q is an IP address; use type: PTR to find its name", name)
	}
	if _, ok := dns.IsDomainName(n); !ok {
		return diag.FieldErrorf("name", "%q is not a valid domain name", name)
	}
	return nil
}

func isReverseName(n string) bool {
	n = strings.ToLower(strings.TrimSuffix(n, "."))
	return strings.HasSuffix(n, ".in-addr.arpa") || strings.HasSuffix(n, ".ip6.arpa")
}

func checkExpected(qtype, v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("is empty")
	}
	switch qtype {
	case "A":
		if ip, err := netip.ParseAddr(v); err != nil || !ip.Is4() {
			return fmt.Errorf("%q is not an IPv4 address, which is what A records hold", v)
		}
	case "AAAA":
		if ip, err := netip.ParseAddr(v); err != nil || !ip.Is6() || ip.Is4In6() {
			return fmt.Errorf("%q is not an IPv6 address, which is what AAAA records hold", v)
		}
	}
	return nil
}

// lookup is the outcome of asking for a name, whichever way it was asked.
type lookup struct {
	server   string   // who answered: host:port, or "system"
	source   string   // where the system resolver found it, when known ("/etc/hosts line 3")
	proto    string   // udp or tcp; "" through the system resolver
	answers  []string // values of the records of the type asked
	cnames   []string // the alias chain followed to get there
	rcode    string   // NOERROR, NXDOMAIN...; "" when unknown
	ttl      int      // the smallest TTL among the answers, -1 when unknown
	rtt      time.Duration
	evidence []string
}

func (c *DNS) Run(parent context.Context, t diag.Target) diag.Result {
	ctx, cancel, timeout := withTimeout(parent, c.Timeout, 5*time.Second)
	defer cancel()
	qtype := c.qtype()
	code, ok := dnsTypes[qtype]
	if !ok {
		return diag.Resultf(diag.Error, "record type %q is not supported", c.Type).WithHint("fix type in the playbook")
	}
	name := strings.TrimSpace(c.Name)
	base := diag.Result{}.With("name", name).With("type", qtype)

	qname := name
	if qtype == "PTR" {
		if ip, err := netip.ParseAddr(name); err == nil {
			qname, _ = dns.ReverseAddr(ip.String())
		}
	}

	if c.NXDomainProbe {
		return c.runProbe(ctx, parent, t, base, name, timeout)
	}
	r := c.resolve(ctx, parent, t, base, name, qname, qtype, code, timeout)
	notFound := r.Observed["rcode"] == "NXDOMAIN" ||
		(r.Observed["server"] == "system" && strings.Contains(r.Message, "does not resolve to any"))
	if r.Status == diag.Fail && notFound && qtype != "PTR" && parent.Err() == nil {
		r = c.compareForFiltering(ctx, t, r, name, code)
	}
	return r
}

// resolve looks the name up the way the check is set to.
func (c *DNS) resolve(ctx, parent context.Context, t diag.Target, base diag.Result, name, qname, qtype string, code uint16, timeout time.Duration) diag.Result {
	switch sr, isSystem := t.(diag.SystemResolver); {
	case c.Server != "":
		host, port, err := splitServer(c.Server, 53)
		if err != nil {
			return diag.Resultf(diag.Error, "server: %v", err).WithHint("fix server in the playbook")
		}
		server := net.JoinHostPort(host, strconv.Itoa(port))
		base = base.With("server", server)
		start := time.Now()
		a, err := exchange(ctx, t, server, qname, code)
		if err != nil {
			if parent.Err() != nil {
				return cancelled(parent)
			}
			return withObserved(c.queryFailed(t, err, timeout, time.Since(start)), base)
		}
		return c.judge(withObserved(diag.Result{}, base), name, qtype, fromMsg(a, code))
	case isSystem:
		return c.runSystem(ctx, parent, t, sr, base, name, qname, qtype, code, timeout)
	default:
		return c.runResolvConf(ctx, parent, t, base, name, qname, qtype, code, timeout)
	}
}

// runSystem asks the target's own resolver, which sees the hosts file,
// nsswitch and split DNS the way the target's programs do.
func (c *DNS) runSystem(ctx, parent context.Context, t diag.Target, sr diag.SystemResolver, base diag.Result, name, qname, qtype string, code uint16, timeout time.Duration) diag.Result {
	plain := base
	base = base.With("server", "system")
	// The hosts file is read alongside resolv.conf: an entry there that
	// the C library would take as final answers without running a
	// program on the target.
	type fromHosts struct {
		answer hostsAnswer
		ok     bool
		rtt    time.Duration
	}
	hostsDone := make(chan fromHosts, 1)
	go func() {
		start := time.Now()
		a, ok := hostsFileAnswer(ctx, t, qtype, name)
		hostsDone <- fromHosts{a, ok, time.Since(start)}
	}()
	var nameservers []string
	if cfg, err := targetNameservers(ctx, t); err == nil {
		nameservers = cfg.Servers
		base = base.With("nameservers", nameservers)
	}
	if h := <-hostsDone; h.ok {
		source := fmt.Sprintf("%s line %d", hostsFilePath, h.answer.line)
		r := c.judge(withObserved(diag.Result{}, base.With("source", source)), name, qtype,
			lookup{server: "system", source: source, answers: []string{h.answer.addr}, rcode: "NOERROR", ttl: -1, rtt: h.rtt, evidence: []string{h.answer.evidence}})
		if r.Status == diag.Pass && len(c.Expect) == 0 && len(nameservers) > 0 && hostsEntryWorthComparing(name, h.answer.addr) {
			r = c.compareWithDNS(ctx, t, r, name, qtype, code, source, h.answer, nameservers)
		}
		return r
	}
	lookupName := name
	if qtype == "PTR" && isReverseName(name) {
		if ip, ok := reverseToIP(name); ok {
			lookupName = ip.String()
		}
	}
	start := time.Now()
	vals, err := sr.Resolve(ctx, qtype, lookupName)
	rtt := time.Since(start)
	if errors.Is(err, diag.ErrUnsupported) {
		// This target's resolver can look up only some types (getent
		// knows addresses, not MX): ask its DNS servers instead.
		return c.runResolvConf(ctx, parent, t, plain, name, qname, qtype, code, timeout)
	}
	if err == nil {
		var note string
		if c.MaxLatency > 0 && rtt > c.MaxLatency.D() && t.Name() != "local" && len(nameservers) > 0 {
			// Over SSH the time includes starting getent there; ask the
			// DNS server itself how long it takes before calling it slow.
			if server, l, ok := askFirstAnswering(ctx, t, nameservers, name, code, 2*c.MaxLatency.D()); ok && l.rtt <= c.MaxLatency.D() {
				note = fmt.Sprintf(";; the lookup through the system resolver took %s, starting a program on %s included; asked directly, %s answered in %s", roundDuration(rtt), where(t), server, roundDuration(l.rtt))
				rtt = l.rtt
			}
		}
		l := lookup{server: "system", answers: vals, rcode: "NOERROR", ttl: -1, rtt: rtt}
		if note != "" {
			l.evidence = append(slices.Clone(vals), note)
		}
		r := c.judge(withObserved(diag.Result{}, base), name, qtype, l)
		if r.Status == diag.Pass && len(c.Expect) == 0 {
			r = c.searchShadows(ctx, t, r, name, qtype, code, vals, nameservers)
		}
		return r
	}
	if parent.Err() != nil {
		return cancelled(parent)
	}
	direct := "server: <your DNS server>"
	if len(nameservers) > 0 {
		direct = "server: " + nameservers[0]
	}
	r := withObserved(diag.Result{Evidence: err.Error()}, base).With("latency_ms", diag.Milliseconds(rtt)).With("answers", []string{})
	var dnsErr *net.DNSError
	isDNS := errors.As(err, &dnsErr)
	switch {
	case isDNS && dnsErr.IsNotFound:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s does not resolve to any %s record through the system resolver", name, qtype)
		r.Hint = fmt.Sprintf("check the spelling; the name does not exist or has no %s records for this machine (a hosts file, VPN or split DNS can change what it sees): add %s to see the DNS server's exact answer", qtype, direct)
		if len(nameservers) > 0 && (qtype == "A" || qtype == "AAAA") {
			r = c.systemMissesDNS(ctx, t, r, name, qtype, code, nameservers)
		}
	case (isDNS && dnsErr.IsTimeout) || ctx.Err() != nil:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("the system resolver got no answer for %s within %s", name, timeout)
		r.Hint = "the configured DNS servers do not answer: check the network connection and VPN, and that nothing blocks DNS (UDP and TCP port 53) to them"
		if len(nameservers) > 0 {
			r.Hint = fmt.Sprintf("the configured DNS servers (%s) do not answer: check the network connection and VPN, and that nothing blocks DNS (UDP and TCP port 53) to them", strings.Join(nameservers, ", "))
		}
		r.Upstream = &diag.Prerequisite{What: diag.PrereqDNSServer}
		if len(nameservers) > 0 {
			r = c.askDirectly(parent, t, r, nameservers, name, qname, code, timeout)
		}
	case isDNS && strings.Contains(dnsErr.Err, "misbehaving"):
		// Go's resolver words both SERVFAIL and REFUSED this way.
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("the system's DNS server could not answer for %s (%s)", name, dnsErr.Err)
		r.Hint = fmt.Sprintf("the server answered with a failure (SERVFAIL or REFUSED): add %s to see which, and compare with another server", direct)
	case isDNS && dnsErr.IsTemporary:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("the system resolver could not reach its DNS servers for %s (%s)", name, dnsErr.Err)
		r.Hint = "the configured DNS servers cannot be reached: check the network connection and VPN, and that the DNS servers in the system's settings are right"
	default:
		r.Status = diag.Error
		r.Message = fmt.Sprintf("the system resolver could not look up %s: %v", name, err)
		r.Hint = fmt.Sprintf("the lookup could not be made on %s; give server: to ask a DNS server directly", where(t))
	}
	return r
}

// hostsCompareBound is how long an answer from the hosts file waits for
// the DNS servers it is compared with.
const hostsCompareBound = time.Second

// hostsEntryWorthComparing reports whether an address the hosts file gives
// name should be compared with what DNS says: a name of a domain (with a
// dot) that DNS may know too, not localhost or the machine's own names on
// a loopback address, nor a name blocked by pointing it at 0.0.0.0. Those
// are in the hosts file on purpose, and DNS has its own idea of them.
func hostsEntryWorthComparing(name, addr string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if !strings.Contains(n, ".") || n == "localhost" || strings.HasSuffix(n, ".localhost") ||
		strings.HasPrefix(n, "localhost.") || strings.HasPrefix(n, "ip6-") {
		return false
	}
	ip, err := netip.ParseAddr(addr)
	return err == nil && !ip.IsLoopback() && !ip.IsUnspecified() && !ip.IsMulticast()
}

// compareWithDNS asks the configured DNS servers directly, within a short
// bound, for a name the hosts file answered: an entry left behind by a
// migration or a test keeps an old address while DNS has moved on, and
// every program on the machine then connects to the wrong place. When DNS
// gives other addresses, r (a pass) becomes a warning; when it agrees,
// says the name does not exist (a name only in the hosts file is
// deliberate) or does not answer, r stands, with a note in the evidence.
func (c *DNS) compareWithDNS(ctx context.Context, t diag.Target, r diag.Result, name, qtype string, code uint16, source string, h hostsAnswer, servers []string) diag.Result {
	server, l, ok := askFirstAnswering(ctx, t, servers, name, code, hostsCompareBound)
	if !ok {
		if ctx.Err() == nil {
			r.Evidence = strings.TrimSpace(r.Evidence + fmt.Sprintf("\n;; compared with DNS: no answer from %s within %s", strings.Join(servers, ", "), roundDuration(hostsCompareBound)))
		}
		return r
	}
	agrees := slices.ContainsFunc(l.answers, func(a string) bool { return valueMatches(qtype, h.addr, a) })
	switch {
	case l.rcode != "NOERROR" || len(l.answers) == 0:
		r.Evidence = strings.TrimSpace(r.Evidence + fmt.Sprintf("\n;; compared with DNS: %s has no %s record for %s (%s); the name is only in the hosts file", server, qtype, name, l.rcode))
		return r
	case agrees:
		r.Evidence = strings.TrimSpace(r.Evidence + fmt.Sprintf("\n;; compared with DNS: %s agrees (%s)", server, listValues(l.answers, 5)))
		return r
	}
	r = r.With("dns_server", server).With("dns_answers", l.answers)
	r.Status = diag.Warn
	r.Message = fmt.Sprintf("%s is %s from %s, but the DNS server %s says %s: the hosts entry may be stale", name, h.addr, source, server, listValues(l.answers, 5))
	r.Hint = fmt.Sprintf("this machine reads %s before DNS, so every program on it goes to %s, not where DNS points: if the entry is a leftover (of a migration, a test, a VPN client), remove or correct line %d of %s; keep it only if pinning the address is deliberate", hostsFilePath, h.addr, h.line, hostsFilePath)
	r.Evidence = strings.TrimSpace(r.Evidence + "\n;; compared with DNS:\n" + strings.Join(l.evidence, "\n"))
	return r
}

// askDirectly tells, after the system resolver ran out of time, whether
// the configured servers answer when asked one by one: when the first is
// dead and a later one answers, names do resolve, only late (the resolver
// waits for the first before asking the next); when they all answer, the
// resolver itself is stuck.
func (c *DNS) askDirectly(parent context.Context, t diag.Target, r diag.Result, servers []string, name, qname string, code uint16, timeout time.Duration) diag.Result {
	if len(servers) > maxNameserversAsked {
		servers = servers[:maxNameserversAsked]
	}
	outcomes := askServers(parent, t, servers, qname, code, timeout, 2*time.Second)
	if parent.Err() != nil {
		return r
	}
	var answered *serverOutcome
	var notes []string
	for i, o := range outcomes {
		if o.ok {
			notes = append(notes, fmt.Sprintf("asked directly, %s answered %s in %s", o.server, o.rcode, roundDuration(o.rtt)))
			if answered == nil {
				answered = &outcomes[i]
			}
		} else {
			notes = append(notes, fmt.Sprintf("asked directly, %s: %s", o.server, o.problem))
		}
	}
	r.Evidence = strings.TrimSpace(r.Evidence + "\n" + strings.Join(notes, "\n"))
	switch {
	case answered == nil:
		return r
	case !outcomes[0].ok:
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("names resolve, but only after the first server times out: the system resolver got no answer for %s within %s; the first DNS server, %s, does not answer (%s), while %s answers when asked directly (in %s)",
			name, timeout, outcomes[0].server, outcomes[0].problem, answered.server, roundDuration(answered.rtt))
		r.Hint = fmt.Sprintf("the system asks %s first and waits for it to time out (often 5s) before asking the next server, so every lookup is late and programs that give up sooner fail: remove %s from the network settings or put a working server first, or ask the network team to fix it", outcomes[0].server, outcomes[0].server)
	default:
		r.Message = fmt.Sprintf("the system resolver got no answer for %s within %s, although its DNS server %s answers when asked directly (in %s)", name, timeout, answered.server, roundDuration(answered.rtt))
		r.Hint = "the DNS servers work, so the machine's own resolver is stuck or misconfigured: restart the local resolver service (systemd-resolved, nscd, dnsmasq; on Windows the DNS Client service), or reconnect to the network"
		r.Upstream = nil
	}
	return r.With("answered_directly_by", answered.server)
}

// runResolvConf stands in for the resolver of a target that cannot
// resolve for us: it reads the target's resolv.conf and asks its
// nameservers over connections the target opens, as its stub resolver
// would.
func (c *DNS) runResolvConf(ctx, parent context.Context, t diag.Target, base diag.Result, name, qname, qtype string, code uint16, timeout time.Duration) diag.Result {
	data, _, err := t.ReadFile(ctx, resolvConfPath, 64<<10)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return withObserved(diag.Resultf(diag.Error, "cannot find the DNS servers of %s: reading %s: %v", where(t), resolvConfPath, err), base).
			WithHint("give server: to ask a DNS server directly")
	}
	rc := parseResolvConf(data)
	servers := rc.Nameservers
	var notes []string
	if len(servers) == 0 {
		// What glibc and musl do with no nameserver line.
		servers = []string{"127.0.0.1"}
		notes = append(notes, resolvConfPath+" lists no nameserver; asking 127.0.0.1, as the system resolver does")
	}
	base = base.With("nameservers", rc.Nameservers)
	names := []string{qname}
	if qtype != "PTR" {
		names = rc.candidates(name)
	}

	start := time.Now()
	var first *lookup
	var firstErr error
	for _, n := range names {
		l, err := askInTurn(ctx, t, servers, n, code, rc.Timeout, &notes)
		if parent.Err() != nil {
			return cancelled(parent)
		}
		if err == nil && l.rcode == "NOERROR" && len(l.answers) > 0 {
			l.rtt = time.Since(start)
			l.evidence = append(notes, l.evidence...)
			return c.judge(withObserved(diag.Result{}, base), name, qtype, *l)
		}
		if first == nil && firstErr == nil {
			first, firstErr = l, err
		}
	}
	if firstErr != nil {
		r := c.queryFailed(t, firstErr, timeout, time.Since(start))
		r.Evidence = strings.Join(append(notes, r.Evidence), "\n")
		return withObserved(r, base)
	}
	first.rtt = time.Since(start)
	first.evidence = append(notes, first.evidence...)
	return c.judge(withObserved(diag.Result{}, base), name, qtype, *first)
}

// askInTurn asks each server until one gives a usable answer (NOERROR or
// NXDOMAIN), moving on after silence, SERVFAIL or REFUSED as stub
// resolvers do. It returns the first server's outcome when none does,
// since that is the server the system relies on.
func askInTurn(ctx context.Context, t diag.Target, servers []string, name string, code uint16, perServer time.Duration, notes *[]string) (*lookup, error) {
	var first *lookup
	var firstErr error
	for i, s := range servers {
		addr := net.JoinHostPort(s, "53")
		budget := perServer
		if d, ok := ctx.Deadline(); ok {
			budget = min(budget, time.Until(d)/time.Duration(len(servers)-i))
		}
		sctx, cancel := context.WithTimeout(ctx, budget)
		a, err := exchange(sctx, t, addr, name, code)
		cancel()
		if err != nil {
			*notes = append(*notes, fmt.Sprintf("%s: no answer for %s (%v)", addr, name, err))
			if first == nil && firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		l := fromMsg(a, code)
		if l.rcode == "NOERROR" || l.rcode == "NXDOMAIN" {
			return &l, nil
		}
		*notes = append(*notes, fmt.Sprintf("%s: %s for %s", addr, l.rcode, name))
		if first == nil && firstErr == nil {
			first = &l
		}
	}
	return first, firstErr
}

// fromMsg reads what a DNS answer says about the type asked.
func fromMsg(a *dnsAnswer, code uint16) lookup {
	l := lookup{server: a.server, proto: a.proto, rcode: dns.RcodeToString[a.msg.Rcode], ttl: -1, rtt: a.rtt}
	if l.rcode == "" {
		l.rcode = "RCODE" + strconv.Itoa(a.msg.Rcode)
	}
	l.answers = []string{}
	for _, rr := range a.msg.Answer {
		h := rr.Header()
		switch {
		case h.Rrtype == code:
			l.answers = append(l.answers, rrValue(rr))
			if l.ttl < 0 || int(h.Ttl) < l.ttl {
				l.ttl = int(h.Ttl)
			}
		case h.Rrtype == dns.TypeCNAME:
			l.cnames = append(l.cnames, rrValue(rr))
		}
	}
	l.evidence = append(append([]string{}, a.notes...),
		fmt.Sprintf(";; answer from %s over %s in %s", a.server, a.proto, roundDuration(a.rtt)), a.msg.String())
	return l
}

func rrValue(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.A:
		return v.A.String()
	case *dns.AAAA:
		return v.AAAA.String()
	case *dns.CNAME:
		return trimDot(v.Target)
	case *dns.MX:
		return fmt.Sprintf("%d %s", v.Preference, trimDot(v.Mx))
	case *dns.TXT:
		return strings.Join(v.Txt, "")
	case *dns.NS:
		return trimDot(v.Ns)
	case *dns.SRV:
		return fmt.Sprintf("%d %d %d %s", v.Priority, v.Weight, v.Port, trimDot(v.Target))
	case *dns.PTR:
		return trimDot(v.Ptr)
	}
	return rr.String()
}

func trimDot(s string) string {
	if s == "." {
		return s
	}
	return strings.TrimSuffix(s, ".")
}

// judge turns a lookup into a verdict.
func (c *DNS) judge(r diag.Result, name, qtype string, l lookup) diag.Result {
	r = r.With("server", l.server).
		With("answers", l.answers).
		With("latency_ms", diag.Milliseconds(l.rtt))
	if l.rcode != "" {
		r = r.With("rcode", l.rcode)
	}
	if l.proto != "" {
		r = r.With("protocol", l.proto)
	}
	if len(l.cnames) > 0 {
		r = r.With("cnames", l.cnames)
	}
	if l.ttl >= 0 {
		r = r.With("ttl", l.ttl)
	}
	r.Evidence = strings.Join(l.evidence, "\n")
	if r.Evidence == "" && len(l.answers) > 0 {
		r.Evidence = strings.Join(l.answers, "\n")
	}
	from := "from " + l.server
	if l.server == "system" {
		from = "through the system resolver"
	}
	if l.source != "" {
		from = "from " + l.source
	}
	switch l.rcode {
	case "NOERROR", "":
	case "NXDOMAIN":
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s does not exist (NXDOMAIN %s)", name, from)
		r.Hint = "check the spelling; if the name should exist, the zone lacks it, or this server sees another view of it (split DNS): compare with the DNS server of a network where it works, or connect the VPN that serves it"
		return r
	case "SERVFAIL":
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s could not answer for %s (SERVFAIL)", l.server, name)
		r.Hint = "the server failed to get an answer: the zone's authoritative servers are unreachable or broken, DNSSEC validation failed, or the server lost its upstream; ask another server (server: ...) to tell which"
		return r
	case "REFUSED":
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s refused to answer for %s (REFUSED)", l.server, name)
		r.Hint = "the server does not serve this client: it is not a resolver for this network, or allows recursion only to listed addresses; use the DNS server the network assigns, or connect the VPN that grants access"
		return r
	default:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s answered %s for %s", l.server, l.rcode, name)
		r.Hint = "the server rejected the query; try another server"
		return r
	}
	if len(l.answers) == 0 {
		r.Status = diag.Fail
		if len(l.cnames) > 0 {
			r.Message = fmt.Sprintf("%s is an alias of %s, which has no %s records (answer %s)", name, l.cnames[len(l.cnames)-1], qtype, from)
			r.Hint = "the alias points at a name without this type of record: fix the CNAME target, or add the records there"
		} else {
			r.Message = fmt.Sprintf("%s exists but has no %s records (answer %s)", name, qtype, from)
			r.Hint = fmt.Sprintf("the name has other record types but not %s: add the record to the zone, or check that type is what the service needs", qtype)
		}
		return r
	}

	shown := listValues(l.answers, 5)
	if len(c.Expect) > 0 {
		if problem := c.compare(qtype, l.answers); problem != "" {
			r.Status = diag.Fail
			r.Message = fmt.Sprintf("%s %s is %s, but %s", name, qtype, shown, problem)
			r.Hint = "the record differs from what the playbook expects: it was changed, this server has a stale or different view, or the expectation is out of date; compare with the zone's authoritative server"
			if l.ttl > 0 {
				r.Hint += fmt.Sprintf(" (cached answers expire within %ds)", l.ttl)
			}
			if l.source != "" {
				r.Hint = fmt.Sprintf("the address comes from %s, which this machine reads before DNS: correct or remove that line if it is stale (a leftover of a migration or a test often is)", l.source)
			}
			return r
		}
	}
	r.Status = diag.Pass
	if l.source != "" {
		// A file was read, no server asked: its time says nothing about
		// name resolution, and max_latency does not apply.
		r.Message = fmt.Sprintf("%s %s is %s (%s)", name, qtype, shown, from)
		return r
	}
	r.Message = fmt.Sprintf("%s %s is %s (%s in %s)", name, qtype, shown, from, roundDuration(l.rtt))
	if c.MaxLatency > 0 && l.rtt > c.MaxLatency.D() {
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("%s %s resolved %s in %s, slower than max_latency (%s)", name, qtype, from, roundDuration(l.rtt), c.MaxLatency.D())
		r.Hint = "the DNS server is slow or far away, or the first server did not answer and a later one did: look at the evidence, and at the resolver's load and upstreams"
		// A slow answer is the DNS servers' doing: when the run's check
		// of them finds them slow or partly dead, this is its consequence.
		r.Upstream = &diag.Prerequisite{What: diag.PrereqDNSServer}
	}
	return r
}

func listValues(vals []string, max int) string {
	if len(vals) <= max {
		return strings.Join(vals, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(vals[:max], ", "), len(vals)-max)
}

// compare checks the answers against expect and says what is wrong, or ""
// when they agree.
func (c *DNS) compare(qtype string, answers []string) string {
	matched := make([]bool, len(answers))
	var missing []string
	for _, want := range c.Expect {
		found := false
		for i, got := range answers {
			if valueMatches(qtype, want, got) {
				found, matched[i] = true, true
			}
		}
		if !found {
			missing = append(missing, strings.TrimSpace(want))
		}
	}
	switch c.ExpectMode {
	case "any":
		if len(missing) == len(c.Expect) {
			return fmt.Sprintf("none of the expected %s", strings.Join(missing, ", "))
		}
	case "equals":
		var extra []string
		for i, ok := range matched {
			if !ok {
				extra = append(extra, answers[i])
			}
		}
		var p []string
		if len(missing) > 0 {
			p = append(p, "lacks the expected "+strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			p = append(p, "also has the unexpected "+strings.Join(extra, ", "))
		}
		return strings.Join(p, " and ")
	default:
		if len(missing) > 0 {
			return "lacks the expected " + strings.Join(missing, ", ")
		}
	}
	return ""
}

// valueMatches compares an expected value with an answer the way a person
// reads them: addresses by value, names without case or trailing dot, and
// an MX or SRV target alone matching the whole record.
func valueMatches(qtype, want, got string) bool {
	want = strings.TrimSpace(want)
	switch qtype {
	case "A", "AAAA":
		w, err1 := netip.ParseAddr(want)
		g, err2 := netip.ParseAddr(got)
		return err1 == nil && err2 == nil && w.Unmap() == g.Unmap()
	case "TXT":
		return want == got
	}
	norm := func(s string) string { return strings.ToLower(trimDot(strings.Join(strings.Fields(s), " "))) }
	if norm(want) == norm(got) {
		return true
	}
	if qtype == "MX" || qtype == "SRV" {
		f := strings.Fields(got)
		return len(f) > 0 && norm(want) == norm(f[len(f)-1])
	}
	return false
}

// queryFailed explains a server that gave no answer.
func (c *DNS) queryFailed(t diag.Target, err error, timeout, elapsed time.Duration) diag.Result {
	var qe *queryError
	if !errors.As(err, &qe) {
		return diag.Resultf(diag.Error, "could not query: %v", err).WithHint("the query could not be sent; the message says why")
	}
	r := diag.Result{Evidence: strings.Join(append(append([]string{}, qe.notes...), qe.Error()), "\n")}.
		With("answers", []string{}).With("latency_ms", diag.Milliseconds(elapsed))
	switch qe.kind {
	case queryTimeout:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("no answer from %s within %s", qe.server, timeout)
		r.Hint = "the DNS server is down, or a firewall drops DNS (UDP and TCP port 53) on the way to it: ask another server, or check the network path and VPN"
	case queryRefused:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s refused the query: nothing listens for DNS on that port", qe.server)
		r.Hint = "no DNS service runs at this address: check the server address and port, and that the DNS service (named, unbound, dnsmasq, systemd-resolved) is running"
	case queryServerName:
		host, _, _ := net.SplitHostPort(qe.server)
		return dnsFailure(t, host, qe.err).With("answers", []string{})
	default:
		r.Status = diag.Error
		r.Message = fmt.Sprintf("could not send a DNS query to %s: %v", qe.server, qe.err)
		r.Hint = fmt.Sprintf("the query could not leave %s: a local socket problem, described in the message", where(t))
	}
	return r
}

// reverseToIP turns an in-addr.arpa or ip6.arpa name back into the address
// it stands for.
func reverseToIP(name string) (netip.Addr, bool) {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	switch {
	case strings.HasSuffix(n, ".in-addr.arpa"):
		labels := strings.Split(strings.TrimSuffix(n, ".in-addr.arpa"), ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		slices.Reverse(labels)
		ip, err := netip.ParseAddr(strings.Join(labels, "."))
		return ip, err == nil
	case strings.HasSuffix(n, ".ip6.arpa"):
		nibbles := strings.Split(strings.TrimSuffix(n, ".ip6.arpa"), ".")
		if len(nibbles) != 32 {
			return netip.Addr{}, false
		}
		slices.Reverse(nibbles)
		var b strings.Builder
		for i, x := range nibbles {
			if len(x) != 1 {
				return netip.Addr{}, false
			}
			if i > 0 && i%4 == 0 {
				b.WriteByte(':')
			}
			b.WriteString(x)
		}
		ip, err := netip.ParseAddr(b.String())
		return ip, err == nil
	}
	return netip.Addr{}, false
}

// probeLabel makes the first label of a name that cannot exist.
func probeLabel() string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprintf("triage-%010x", time.Now().UnixNano()&0xffffffffff)
	}
	return "triage-" + hex.EncodeToString(b)
}

// probeOutcome is what one DNS server said about the name that cannot
// exist.
type probeOutcome struct {
	server  string
	problem string // why there is no usable answer ("" when there is one)
	rcode   string
	answers []string
	rtt     time.Duration
	ev      []string
}

// runProbe asks each configured DNS server (or server:) for a random name
// under name that cannot exist. The honest answer is NXDOMAIN (or, from a
// zone with a wildcard, which the probe's name should not have, an
// address). A server that gives an address instead rewrites "no such
// name" into its own page: an internet provider's "search helper", a
// security filter's block page or a hotel's portal. Programs that rely on
// NXDOMAIN (search domains, VPN split DNS, mail servers) then go astray
// and mistyped names open the rewriter's page.
func (c *DNS) runProbe(ctx, parent context.Context, t diag.Target, base diag.Result, name string, timeout time.Duration) diag.Result {
	probe := probeLabel() + "." + strings.TrimSuffix(name, ".")
	base = base.With("probe_name", probe)
	var servers []string
	if c.Server != "" {
		servers = []string{c.Server}
	} else {
		cfg, err := targetNameservers(ctx, t)
		if err != nil {
			if parent.Err() != nil {
				return cancelled(parent)
			}
			return withObserved(diag.Resultf(diag.Error, "cannot find the DNS servers of %s to ask for a name that cannot exist: %v", where(t), err), base).
				WithHint("give server: to ask a DNS server directly")
		}
		servers = cfg.Servers
	}
	if len(servers) == 0 {
		return withObserved(diag.Resultf(diag.Error, "no DNS server is configured to ask for a name that cannot exist"), base).
			WithHint("the nameservers check says why no DNS server is configured; give server: to ask one directly")
	}
	if len(servers) > maxNameserversAsked {
		servers = servers[:maxNameserversAsked]
	}
	outcomes := make([]probeOutcome, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = probeServer(ctx, t, s, probe, timeout)
		}()
	}
	wg.Wait()
	if parent.Err() != nil {
		return cancelled(parent)
	}
	return c.judgeProbe(base, name, probe, outcomes)
}

func probeServer(ctx context.Context, t diag.Target, server, probe string, timeout time.Duration) probeOutcome {
	out := probeOutcome{server: server}
	host, port, err := splitServer(server, 53)
	if err != nil {
		out.problem = err.Error()
		return out
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if port == 53 {
		out.server = host
	}
	start := time.Now()
	a, err := exchange(ctx, t, addr, probe, dns.TypeA)
	out.rtt = time.Since(start)
	if err != nil {
		var qe *queryError
		switch {
		case errors.As(err, &qe) && qe.kind == queryTimeout:
			out.problem = fmt.Sprintf("no answer within %s (timeout)", timeout)
		case errors.As(err, &qe) && qe.kind == queryRefused:
			out.problem = "nothing listens for DNS there (connection refused)"
		default:
			out.problem = rootCause(err)
		}
		out.ev = []string{fmt.Sprintf(";; %s: %s", addr, out.problem)}
		return out
	}
	l := fromMsg(a, dns.TypeA)
	out.rcode, out.answers, out.ev = l.rcode, l.answers, l.evidence
	switch l.rcode {
	case "NOERROR", "NXDOMAIN":
	case "REFUSED":
		out.problem = "refuses to answer this machine (REFUSED)"
	case "SERVFAIL":
		out.problem = "answers, but cannot look names up (SERVFAIL)"
	default:
		out.problem = "answers " + l.rcode
	}
	return out
}

// judgeProbe judges what the servers said about the name that cannot
// exist.
func (c *DNS) judgeProbe(base diag.Result, name, probe string, outcomes []probeOutcome) diag.Result {
	var honest, rewriting, broken, ev []string
	var rewrittenTo []string
	var slowest time.Duration
	for _, o := range outcomes {
		ev = append(ev, o.ev...)
		switch {
		case o.problem != "":
			broken = append(broken, fmt.Sprintf("%s %s", o.server, o.problem))
		case o.rcode == "NOERROR" && len(o.answers) > 0:
			rewriting = append(rewriting, o.server)
			for _, a := range o.answers {
				if !slices.Contains(rewrittenTo, a) {
					rewrittenTo = append(rewrittenTo, a)
				}
			}
		default:
			honest = append(honest, fmt.Sprintf("%s (%s in %s)", o.server, o.rcode, roundDuration(o.rtt)))
			slowest = max(slowest, o.rtt)
		}
	}
	r := withObserved(diag.Result{Evidence: strings.TrimSpace(strings.Join(ev, "\n"))}, base)
	switch {
	case len(rewriting) > 0:
		r = r.With("rewritten_to", rewrittenTo).With("rewriting_servers", rewriting)
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("the DNS server %s answers %s, a name that cannot exist, with %s instead of \"no such name\" (NXDOMAIN): it rewrites missing names to an address of its own",
			strings.Join(rewriting, ", "), probe, listValues(rewrittenTo, 3))
		r.Hint = fmt.Sprintf("mistyped and missing names lead to %s (an internet provider's \"search helper\", a filter's block page or a portal) instead of failing, which confuses browsers, VPN split DNS, search domains and mail servers: turn off the provider's DNS error redirection or \"search assist\", or use another DNS server", listValues(rewrittenTo, 3))
		return r
	case len(honest) == 0:
		r.Status = diag.Error
		r.Message = fmt.Sprintf("no DNS server answered the question for a name that cannot exist: %s", strings.Join(broken, "; "))
		r.Hint = "without an answer this says nothing about rewriting; the DNS servers check says why they do not answer"
		r.Upstream = &diag.Prerequisite{What: diag.PrereqDNSServer}
		return r
	}
	r.Status = diag.Pass
	r.Message = fmt.Sprintf("%s, a name that cannot exist, is reported as such by %s", probe, strings.Join(honest, ", "))
	if len(broken) > 0 {
		r.Message += "; " + strings.Join(broken, "; ")
	}
	r = r.With("latency_ms", diag.Milliseconds(slowest))
	if c.MaxLatency > 0 && slowest > c.MaxLatency.D() {
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("DNS answers honestly but slowly: %s, slower than max_latency (%s)", strings.Join(honest, ", "), c.MaxLatency.D())
		r.Hint = "every lookup that is not cached waits this long: the DNS server is overloaded, far away (over a VPN), or its own upstream servers are slow; compare with another server, or ask the network team"
	}
	return r
}

// compareForFiltering asks every configured DNS server directly, within a
// short bound, for a name that came back as not existing: when one says
// NXDOMAIN while another gives addresses, the name exists and the first
// filters (blocks) it, as DNS filters, parental controls and some VPNs'
// servers do. Otherwise r stands, with the answers in the evidence.
func (c *DNS) compareForFiltering(ctx context.Context, t diag.Target, r diag.Result, name string, code uint16) diag.Result {
	cfg, err := targetNameservers(ctx, t)
	if err != nil {
		return r
	}
	servers := cfg.Servers
	if c.Server != "" {
		host, port, err := splitServer(c.Server, 53)
		if err == nil {
			asked := host
			if port != 53 {
				asked = net.JoinHostPort(host, strconv.Itoa(port))
			}
			servers = append([]string{asked}, slices.DeleteFunc(slices.Clone(servers), func(s string) bool { return s == asked })...)
		}
	}
	if len(servers) < 2 {
		return r
	}
	if len(servers) > maxNameserversAsked {
		servers = servers[:maxNameserversAsked]
	}
	bound := hostsCompareBound
	if d, ok := ctx.Deadline(); ok {
		bound = min(bound, time.Until(d)-50*time.Millisecond)
	}
	if bound < 100*time.Millisecond {
		return r
	}
	qctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	outcomes := make([]probeOutcome, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := probeServer(qctx, t, s, name, bound)
			if code != dns.TypeA && o.problem == "" {
				// probeServer asks for A; the type asked matters here.
				if host, port, err := splitServer(s, 53); err == nil {
					if a, err := exchange(qctx, t, net.JoinHostPort(host, strconv.Itoa(port)), name, code); err == nil {
						l := fromMsg(a, code)
						o.rcode, o.answers = l.rcode, l.answers
					}
				}
			}
			outcomes[i] = o
		}()
	}
	wg.Wait()
	var filtering, answering []string
	var answers []string
	var notes []string
	for _, o := range outcomes {
		switch {
		case o.problem != "":
			notes = append(notes, fmt.Sprintf(";; asked directly, %s %s", o.server, o.problem))
		case o.rcode == "NXDOMAIN":
			filtering = append(filtering, o.server)
			notes = append(notes, fmt.Sprintf(";; asked directly, %s: NXDOMAIN", o.server))
		case len(o.answers) > 0:
			answering = append(answering, o.server)
			if answers == nil {
				answers = o.answers
			}
			notes = append(notes, fmt.Sprintf(";; asked directly, %s: %s", o.server, listValues(o.answers, 5)))
		default:
			notes = append(notes, fmt.Sprintf(";; asked directly, %s: %s with no records", o.server, o.rcode))
		}
	}
	r.Evidence = strings.TrimSpace(r.Evidence + "\n" + strings.Join(notes, "\n"))
	if len(filtering) == 0 || len(answering) == 0 {
		return r
	}
	r = r.With("filtered_by", filtering).With("answered_by", answering).With("answers", answers)
	r.Message = fmt.Sprintf("the DNS server %s says %s does not exist (NXDOMAIN), while %s answers %s: %s filters (blocks) this name",
		strings.Join(filtering, ", "), name, strings.Join(answering, ", "), listValues(answers, 3), strings.Join(filtering, ", "))
	r.Hint = fmt.Sprintf("the name exists, but %s hides it: a DNS filter, parental control, security product or a VPN's DNS server blocks it; if the name should be reachable, ask whoever runs %s to allow it, or use %s", strings.Join(filtering, ", "), strings.Join(filtering, ", "), strings.Join(answering, ", "))
	return r
}
