package netcheck

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "time",
		Summary: "Measures the clock's offset against an NTP server (SNTP) or the Date header of a web server.",
		// A clock that was measured and found off explains a TLS check's
		// trouble with validity dates; one that could not be measured
		// explains nothing.
		Examines: func(r diag.Result) []diag.Prerequisite {
			if r.Status == diag.Error || r.Status == diag.Skip {
				return nil
			}
			return []diag.Prerequisite{{What: diag.PrereqClock}}
		},
		New: func() diag.Checker {
			return &Time{
				WarnOffset: diag.Duration(time.Second),
				FailOffset: diag.Duration(30 * time.Second),
				Timeout:    diag.Duration(5 * time.Second),
			}
		},
	})
}

// defaultNTPServer is asked when a check names neither server nor url.
const defaultNTPServer = "pool.ntp.org"

// Time checks the clock against a reference.
//
// On this machine, the offset measured is that of its own clock. For a
// remote target the reference is asked from here first (the timestamps
// are then this machine's, and the result says so); when this machine
// cannot ask it, the target is: the reference's Date header through it,
// or its own time service (chrony, timedatectl), and the result says
// which was used.
type Time struct {
	Server     string        `yaml:"server" doc:"an NTP server, as host or host:port (port 123 by default); the default when url is not given is pool.ntp.org"`
	URL        string        `yaml:"url" doc:"compare with the Date header of this http:// or https:// URL (precise to about a second): alone, instead of NTP, where NTP is blocked; with server, as the fallback when the NTP server cannot be asked (NTP blocked, or a remote target whose UDP cannot travel through SSH)"`
	WarnOffset diag.Duration `yaml:"warn_offset" doc:"warn when the clock is off by more than this (default 1s)"`
	FailOffset diag.Duration `yaml:"fail_offset" doc:"fail when the clock is off by more than this (default 30s, past which one-time codes and single sign-on start to fail)"`
	Timeout    diag.Duration `yaml:"timeout" doc:"how long the query may take (default 5s)"`
}

func (c *Time) Validate() error {
	var errs []error
	if c.Server != "" {
		if _, _, err := splitServer(c.Server, 123); err != nil {
			errs = append(errs, diag.FieldErrorf("server", "%v", err))
		}
	}
	if c.URL != "" {
		if err := checkURL("url", c.URL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.WarnOffset > 0 && c.FailOffset > 0 && c.WarnOffset > c.FailOffset {
		errs = append(errs, diag.FieldErrorf("warn_offset", "%s is above fail_offset (%s): warn_offset must be the lower threshold", c.WarnOffset.D(), c.FailOffset.D()))
	}
	return errors.Join(errs...)
}

// clockReading is one comparison of a clock with a reference.
type clockReading struct {
	whose       string        // "target" for a remote clock; "" for the local one
	reference   string        // what was asked, for messages
	offset      time.Duration // reference minus local clock
	rtt         time.Duration
	uncertainty time.Duration // how far offset may be from the truth
	stratum     int           // NTP only
	evidence    string
}

// analystMachine is the machine triage runs on, where a remote target's
// reference is asked first; tests replace it.
var analystMachine = func() diag.Target { return diag.NewLocal() }

func (c *Time) Run(parent context.Context, t diag.Target) diag.Result {
	ctx, cancel, timeout := withTimeout(parent, c.Timeout, 5*time.Second)
	defer cancel()
	// A target with a clock of its own (a remote machine) is compared with
	// this machine, and the reference is read from here: the offset of a
	// clock does not depend on where the reference is asked from, and
	// NTP's UDP cannot always travel through the target. When this machine
	// cannot ask the reference, the target is asked instead (see
	// fromTarget): the report is about the target.
	if c.URL == "" || c.Server != "" {
		if _, err := c.serverAddr(); err != nil {
			return diag.Resultf(diag.Error, "%v", err).WithHint("fix server in the playbook")
		}
	}
	clock, remote := t.(diag.Clock)
	if !remote {
		// With a fallback URL, NTP gets half the time.
		nctx, ncancel := ctx, context.CancelFunc(func() {})
		if c.fallbackURL() {
			nctx, ncancel = context.WithTimeout(ctx, timeout/2)
		}
		r, rd, err := c.readReference(nctx, t)
		ncancel()
		if err != nil && c.fallbackURL() && parent.Err() == nil {
			why := c.why(err, "this machine")
			fr := diag.Result{}.With("url", redactedURL(c.URL)).With("method", "http")
			frd, how, ferr := c.targetDate(ctx, t)
			if ferr == nil {
				fr = c.judge(fr, frd)
				fr.Message += "; from the web server's Date header" + how + ", since " + why
				return fr
			}
		}
		if err != nil {
			if parent.Err() != nil {
				return cancelled(parent)
			}
			return withObserved(c.referenceFailure(t, "", err, timeout), r)
		}
		return c.judge(r, rd)
	}
	// This machine gets half the time, so that the target has the rest.
	lctx, lcancel := context.WithTimeout(ctx, timeout/2)
	r, rd, err := c.readReference(lctx, analystMachine())
	lcancel()
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		fr, ok := c.fromTarget(ctx, t, clock, err)
		if ok {
			return fr
		}
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return withObserved(c.referenceFailure(t, "the analyst's machine, where triage runs", err, timeout), r)
	}
	d, unc, err := clock.ClockOffset(ctx)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return withObserved(diag.Resultf(diag.Error, "cannot read the target's clock: %v", err), r).
			WithHint("the target's date command did not answer as expected; compare its clock by hand (date -u)")
	}
	rd.offset -= d
	rd.uncertainty += unc
	rd.whose = "target"
	rd.evidence += fmt.Sprintf("\nthe target's clock is %s ahead of the local clock (±%s)", d, unc)
	return c.judge(r, rd)
}

// fallbackURL reports whether the check asks NTP first and has a web
// server's Date header to fall back on.
func (c *Time) fallbackURL() bool { return c.Server != "" && c.URL != "" }

// readReference asks the check's reference for the time through t: the
// NTP server, or the URL when it is the only reference.
func (c *Time) readReference(ctx context.Context, t diag.Target) (diag.Result, clockReading, error) {
	if c.URL != "" && c.Server == "" {
		r := diag.Result{}.With("url", redactedURL(c.URL)).With("method", "http")
		rd, err := httpDateReading(ctx, t, c.URL, environmentProxy(ctx, t))
		return r, rd, err
	}
	addr, err := c.serverAddr()
	if err != nil {
		return diag.Result{}, clockReading{}, err
	}
	r := diag.Result{}.With("server", addr).With("method", "ntp")
	rd, err := sntpQuery(ctx, t, addr)
	return r, rd, err
}

// serverAddr is the NTP server as host:port.
func (c *Time) serverAddr() (string, error) {
	server := c.Server
	if server == "" {
		server = defaultNTPServer
	}
	host, port, err := splitServer(server, 123)
	if err != nil {
		return "", fmt.Errorf("server: %w", err)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// fromTarget reads the time from the target when the analyst's machine
// could not ask the reference (localErr says why): the web server's Date
// through the target when the check names a URL, else the target's own
// time service (chrony's tracking, then timedatectl's status). ok is false
// when none of them answered.
func (c *Time) fromTarget(ctx context.Context, t diag.Target, clock diag.Clock, localErr error) (diag.Result, bool) {
	why := c.localWhy(localErr)
	if c.URL != "" {
		rd, how, err := c.targetDate(ctx, t)
		if err != nil {
			return diag.Result{}, false
		}
		d, unc, err := clock.ClockOffset(ctx)
		if err != nil {
			return diag.Result{}, false
		}
		rd.offset -= d
		rd.uncertainty += unc
		rd.whose = "target"
		rd.evidence += fmt.Sprintf("\nthe target's clock is %s ahead of the local clock (±%s)", d, unc)
		r := diag.Result{}.With("url", redactedURL(c.URL)).With("method", "http").With("asked_from", "target")
		r = c.judge(r, rd)
		r.Message += "; asked through the target" + how + ", since " + why
		return r, true
	}
	res, err := t.Run(ctx, diag.Command{Argv: []string{"chronyc", "-n", "tracking"}, MaxOutput: 64 << 10})
	if err == nil && res.ExitCode == 0 {
		if tr, ok := parseChronyTracking(string(res.Stdout)); ok {
			r := diag.Result{}.With("method", "chrony").With("asked_from", "target")
			if !tr.synced {
				r.Status = diag.Warn
				r.Message = fmt.Sprintf("the target's time service (chrony) is not synchronised (leap status: %s); %s", tr.leap, why)
				r.Hint = "the target's clock is not being synchronised: check that chronyd reaches its servers (chronyc sources -v) and that NTP (UDP port 123) gets through"
				r.Evidence = strings.TrimSpace(string(res.Stdout))
				return r, true
			}
			rd := clockReading{whose: "target", reference: "its NTP source " + tr.source + " (chrony)", offset: tr.offset, uncertainty: tr.uncertainty,
				evidence: "chronyc -n tracking on the target:\n" + strings.TrimSpace(string(res.Stdout))}
			r = c.judge(r, rd)
			r.Message += "; as the target's chrony measures it, since " + why
			return r, true
		}
	}
	res, err = t.Run(ctx, diag.Command{Argv: []string{"timedatectl", "status"}, MaxOutput: 64 << 10})
	if err == nil && res.ExitCode == 0 {
		if synced, service, ok := parseTimedatectl(string(res.Stdout)); ok {
			r := diag.Result{}.With("method", "timedatectl").With("asked_from", "target").With("synchronized", synced)
			r.Evidence = "timedatectl status on the target:\n" + strings.TrimSpace(string(res.Stdout))
			if synced {
				r.Status = diag.Pass
				r.Message = "the target's time service reports its clock synchronised (timedatectl); its offset was not measured, since " + why
				return r, true
			}
			r.Status = diag.Warn
			r.Message = "the target's time service does not report its clock synchronised (timedatectl"
			if service != "" {
				r.Message += ": NTP service " + service
			}
			r.Message += "); its offset was not measured, since " + why
			r.Hint = "the target's clock is not being synchronised: turn time synchronisation on (timedatectl set-ntp true) and check that it reaches its servers; a wrong clock breaks TLS certificate checks, Kerberos and one-time codes"
			return r, true
		}
	}
	return diag.Result{}, false
}

// targetDate reads the URL's Date header through the target. A clock only
// needs some web server's word on the time, so when the target's proxy or
// HTTPS is in the way (their own checks report that), the same server is
// asked directly, then over plain HTTP. how says which way answered when
// it was not the first.
func (c *Time) targetDate(ctx context.Context, t diag.Target) (clockReading, string, error) {
	type attempt struct {
		url   string
		proxy func(*http.Request) (*url.URL, error)
		how   string
	}
	proxy := environmentProxy(ctx, t)
	attempts := []attempt{{c.URL, proxy, ""}}
	if req, err := http.NewRequest(http.MethodHead, c.URL, nil); err == nil && proxy != nil {
		if p, _ := proxy(req); p != nil {
			attempts = append(attempts, attempt{c.URL, nil, " (directly, without its proxy)"})
		}
	}
	if u, err := url.Parse(c.URL); err == nil && u.Scheme == "https" {
		u.Scheme, u.Host = "http", u.Hostname()
		attempts = append(attempts, attempt{u.String(), nil, " (over plain HTTP)"})
	}
	var first error
	for i, a := range attempts {
		// Each way gets an equal share of what is left, so that a port
		// that swallows connections cannot use up the time of the next.
		actx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			actx, cancel = context.WithTimeout(ctx, time.Until(dl)/time.Duration(len(attempts)-i))
		}
		rd, err := httpDateReading(actx, t, a.url, a.proxy)
		cancel()
		if err == nil {
			return rd, a.how, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return clockReading{}, "", first
}

// localWhy says in a few words why the analyst's machine could not ask
// the reference.
func (c *Time) localWhy(err error) string {
	return c.why(err, "the analyst's machine, where triage runs")
}

// why says in a few words why the NTP server could not be asked from
// machine.
func (c *Time) why(err error, here string) string {
	switch classify(err) {
	case problemDNS:
		var dnsErr *net.DNSError
		host := "the reference"
		if errors.As(err, &dnsErr) && dnsErr.Name != "" {
			host = dnsErr.Name
		}
		return host + " does not resolve on " + here
	case problemTimeout:
		return "the reference did not answer " + here
	}
	return here + " could not ask the reference (" + rootCause(err) + ")"
}

// chronyTracking is what chronyc tracking says of the clock.
type chronyTracking struct {
	source      string
	offset      time.Duration // reference minus system clock
	uncertainty time.Duration
	leap        string
	synced      bool
}

// parseChronyTracking reads chronyc tracking: "System time : 0.000012345
// seconds slow of NTP time" (slow: the clock is behind), the root delay
// and dispersion for the uncertainty, and the leap status ("Not
// synchronised" when chrony has no source).
func parseChronyTracking(out string) (chronyTracking, bool) {
	var tr chronyTracking
	var haveTime bool
	var rootDelay, rootDisp float64
	for _, line := range strings.Split(out, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		f := strings.Fields(val)
		switch key {
		case "Reference ID":
			if i, j := strings.Index(val, "("), strings.LastIndex(val, ")"); i >= 0 && j > i {
				tr.source = val[i+1 : j]
			}
		case "System time":
			if len(f) >= 3 {
				secs, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					d := time.Duration(secs * float64(time.Second))
					switch f[2] {
					case "slow":
						tr.offset, haveTime = d, true
					case "fast":
						tr.offset, haveTime = -d, true
					}
				}
			}
		case "Root delay":
			if len(f) > 0 {
				rootDelay, _ = strconv.ParseFloat(f[0], 64)
			}
		case "Root dispersion":
			if len(f) > 0 {
				rootDisp, _ = strconv.ParseFloat(f[0], 64)
			}
		case "Leap status":
			tr.leap = val
		}
	}
	if tr.leap == "" || !haveTime {
		return tr, false
	}
	tr.synced = !strings.EqualFold(tr.leap, "Not synchronised")
	tr.uncertainty = time.Duration((rootDelay/2 + rootDisp) * float64(time.Second))
	if tr.source == "" {
		tr.source = "(unknown)"
	}
	return tr, true
}

// parseTimedatectl reads timedatectl status: "System clock synchronized:
// yes" (older systemd: "NTP synchronized: yes") and "NTP service: active".
func parseTimedatectl(out string) (synced bool, service string, ok bool) {
	for _, line := range strings.Split(out, "\n") {
		key, val, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "System clock synchronized", "NTP synchronized":
			synced, ok = val == "yes", true
		case "NTP service":
			service = val
		}
	}
	return synced, service, ok
}

func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

func (c *Time) judge(r diag.Result, rd clockReading) diag.Result {
	r = r.With("offset_ms", diag.Milliseconds(rd.offset)).
		With("rtt_ms", diag.Milliseconds(rd.rtt)).
		With("uncertainty_ms", diag.Milliseconds(rd.uncertainty)).
		With("clock", rd.clock())
	if rd.stratum > 0 {
		r = r.With("stratum", rd.stratum)
	}
	r.Evidence = rd.evidence
	abs := rd.offset.Abs()
	direction := "ahead of"
	if rd.offset > 0 {
		direction = "behind"
	}
	summary := fmt.Sprintf("the %s clock is %s %s %s (±%s)", rd.clock(), roundDuration(abs), direction, rd.reference, roundDuration(rd.uncertainty))
	// Only the part of the offset that the measurement cannot explain
	// counts, so that a coarse reference (an HTTP Date has whole seconds)
	// never raises an alarm about a clock that is right.
	certain := max(abs-rd.uncertainty, 0)
	switch {
	case c.FailOffset > 0 && certain > c.FailOffset.D():
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s, more than fail_offset (%s)", summary, c.FailOffset.D())
	case c.WarnOffset > 0 && certain > c.WarnOffset.D():
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("%s, more than warn_offset (%s)", summary, c.WarnOffset.D())
	default:
		r.Status, r.Message = diag.Pass, summary
		return r
	}
	r.Hint = "the clock is not being synchronised: turn time synchronisation on and check that it reaches its servers (Linux: timedatectl status, chronyc tracking; Windows: w32tm /query /status, then w32tm /resync; macOS: sntp -sS time.apple.com); a wrong clock breaks TLS certificate checks, Kerberos and one-time codes"
	return r
}

// referenceFailure explains a reference that could not be read: the clock
// was not compared, so this is never a failure of the clock. vantage names
// the machine that asked when it is not the target (a remote target's
// reference is asked from the analyst's machine first); "" means the
// target itself.
func (c *Time) referenceFailure(t diag.Target, vantage string, err error, timeout time.Duration) diag.Result {
	r := c.referenceFailureWords(t, vantage, err, timeout)
	if vantage != "" {
		r.Message += " (asked from " + vantage + ")"
	}
	return r
}

func (c *Time) referenceFailureWords(t diag.Target, vantage string, err error, timeout time.Duration) diag.Result {
	machine := vantage
	if machine == "" {
		machine = where(t)
	}
	var kod *kissOfDeath
	var unsync *unsynchronised
	switch {
	case errors.As(err, &kod):
		return diag.Resultf(diag.Error, "the NTP server refused to give the time (kiss-o'-death %s)", kod.code).
			WithHint("the server is rate-limiting or denying this client: ask another server, or the organisation's own NTP server")
	case errors.As(err, &unsync):
		return diag.Resultf(diag.Error, "the NTP server's own clock is not synchronised (%s)", unsync.why).
			WithHint("this server cannot serve as a reference: ask another one")
	}
	// An error of the web server's Date, when the URL is the reference
	// (alone, or as the fallback that failed last); NTP's otherwise.
	var ue *url.Error
	if errors.As(err, &ue) || (c.URL != "" && c.Server == "") {
		host := ""
		if u, perr := url.Parse(c.URL); perr == nil {
			host = u.Hostname()
		}
		if classify(err) == problemDNS {
			return timeDNSFailure(machine, host, err)
		}
		return diag.Resultf(diag.Error, "cannot read the time from %s: %s", redactedURL(c.URL), rootCause(err)).
			WithHint("the web server could not be reached or sent no usable Date header; an http check of the same URL says why")
	}
	switch classify(err) {
	case problemDNS:
		var dnsErr *net.DNSError
		host := ""
		if errors.As(err, &dnsErr) {
			host = dnsErr.Name
		}
		return timeDNSFailure(machine, host, err)
	case problemTimeout:
		return diag.Resultf(diag.Error, "no answer from the NTP server within %s", timeout).
			WithHint("NTP (UDP port 123) is blocked on the way or the server is down; where only web traffic gets through, compare with a web server instead: url: https://...")
	case problemRefused:
		return diag.Resultf(diag.Error, "the NTP server refused the query: nothing listens on its UDP port 123").
			WithHint("check the server address, or ask another NTP server")
	}
	return diag.Resultf(diag.Error, "cannot query the NTP server: %v", err).
		WithHint("the query could not be sent from %s (SSH targets cannot send UDP); compare with a web server instead: url: https://...", machine)
}

// timeDNSFailure is a reference whose name does not resolve on machine:
// the clock could not be compared, and the name is the dns layer's
// business.
func timeDNSFailure(machine, host string, err error) diag.Result {
	reason := err.Error()
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			reason = "no such host"
		case dnsErr.IsTimeout:
			reason = "the DNS server did not answer in time"
		default:
			reason = dnsErr.Err
		}
	}
	return diag.Resultf(diag.Error, "cannot resolve %s: %s", host, reason).
		WithHint("the name does not resolve on %s, so the clock could not be compared: add a check {dns: {name: %s}} to see why, or give the reference's IP address", machine, host).
		WithUpstream(diag.NeedName(host))
}

// ntpEpoch is 1900-01-01, where NTP counts seconds from.
var ntpEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// ntpTime decodes a 64-bit NTP timestamp. Seconds below 2^31 are taken to
// be in era 1 (from 2036), as RFC 4330 suggests, so that the client keeps
// working after the era rolls over.
func ntpTime(b []byte) time.Time {
	secs := uint64(binary.BigEndian.Uint32(b[0:4]))
	frac := uint64(binary.BigEndian.Uint32(b[4:8]))
	if secs&0x80000000 == 0 {
		secs += 1 << 32
	}
	nanos := (frac * 1e9) >> 32
	return ntpEpoch.Add(time.Duration(secs) * time.Second).Add(time.Duration(nanos))
}

func putNTPTime(b []byte, t time.Time) {
	d := t.Sub(ntpEpoch)
	secs := uint64(d / time.Second)
	nanos := uint64(d % time.Second)
	binary.BigEndian.PutUint32(b[0:4], uint32(secs))
	binary.BigEndian.PutUint32(b[4:8], uint32((nanos<<32)/1e9))
}

type kissOfDeath struct{ code string }

func (k *kissOfDeath) Error() string { return "kiss-o'-death " + k.code }

type unsynchronised struct{ why string }

func (u *unsynchronised) Error() string { return "server clock not synchronised: " + u.why }

// sntpQuery asks an NTP server for the time with one SNTPv4 exchange
// (RFC 4330), resent when a try's share of the time passes in silence.
func sntpQuery(ctx context.Context, t diag.Target, addr string) (clockReading, error) {
	conn, err := dialTarget(ctx, t, "udp", addr)
	if err != nil {
		return clockReading{}, err
	}
	defer conn.Close()
	const tries = 3
	buf := make([]byte, 128)
	var lastErr error
	for try := 0; try < tries; try++ {
		if err := ctx.Err(); err != nil {
			return clockReading{}, errors.Join(err, lastErr)
		}
		req := make([]byte, 48)
		req[0] = 0<<6 | 4<<3 | 3 // no leap warning, version 4, client mode
		sent := time.Now()
		putNTPTime(req[40:48], sent)
		if _, err := conn.Write(req); err != nil {
			return clockReading{}, err
		}
		deadline := time.Now().Add(time.Second)
		if d, ok := ctx.Deadline(); ok {
			deadline = time.Now().Add(time.Until(d) / time.Duration(tries-try))
		}
		_ = conn.SetReadDeadline(deadline)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				lastErr = err
				break
			}
			// The receive time comes from the monotonic clock, so a clock
			// step during the exchange cannot distort it.
			received := sent.Add(time.Since(sent))
			if n < 48 || buf[0]&7 != 4 && buf[0]&7 != 5 || string(buf[24:32]) != string(req[40:48]) {
				// Not the answer to this request: a stray or stale packet.
				continue
			}
			return sntpReading(addr, buf[:n], sent, received)
		}
		var ne net.Error
		if !errors.As(lastErr, &ne) || !ne.Timeout() {
			return clockReading{}, lastErr
		}
	}
	return clockReading{}, lastErr
}

func sntpReading(addr string, p []byte, sent, received time.Time) (clockReading, error) {
	leap, stratum := p[0]>>6, int(p[1])
	refID := p[12:16]
	if stratum == 0 {
		return clockReading{}, &kissOfDeath{strings.TrimRight(string(refID), "\x00")}
	}
	if leap == 3 {
		return clockReading{}, &unsynchronised{"it reports its clock as unsynchronised"}
	}
	if stratum >= 16 {
		return clockReading{}, &unsynchronised{fmt.Sprintf("stratum %d", stratum)}
	}
	t2, t3 := ntpTime(p[32:40]), ntpTime(p[40:48])
	t1, t4 := sent, received
	offset := (t2.Sub(t1) + t3.Sub(t4)) / 2
	rtt := max(t4.Sub(t1)-t3.Sub(t2), 0)
	ev := fmt.Sprintf("NTP server %s: stratum %d, reference %s\nsent %s, server received %s, server sent %s, received %s (local clock)",
		addr, stratum, refIDString(stratum, refID),
		t1.UTC().Format(time.RFC3339Nano), t2.UTC().Format(time.RFC3339Nano), t3.UTC().Format(time.RFC3339Nano), t4.UTC().Format(time.RFC3339Nano))
	return clockReading{reference: addr, offset: offset, rtt: rtt, uncertainty: rtt / 2, stratum: stratum, evidence: ev}, nil
}

// refIDString shows a reference id as NTP tools do: a source name at
// stratum 1 (GPS, PPS), the upstream server's IPv4 address above.
func refIDString(stratum int, id []byte) string {
	if stratum == 1 {
		return strings.TrimRight(string(id), "\x00")
	}
	return net.IP(id).String()
}

// httpDateReading compares the clock with a web server's Date header,
// which has whole seconds: the server's time was somewhere in the second
// it names, so the middle of that second is the estimate.
func httpDateReading(ctx context.Context, t diag.Target, rawURL string, proxy func(*http.Request) (*url.URL, error)) (clockReading, error) {
	client, tr := httpClient(t, nil, proxy, true, nil)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, rawURL, nil)
	if err != nil {
		return clockReading{}, err
	}
	req.Header.Set("User-Agent", "triage")
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return clockReading{}, err
	}
	resp.Body.Close()
	received := sent.Add(time.Since(sent))
	header := resp.Header.Get("Date")
	date, err := http.ParseTime(header)
	if err != nil {
		why := errors.New("no Date header in the response")
		if header != "" {
			why = fmt.Errorf("an unreadable Date header (%q)", header)
		}
		return clockReading{}, &url.Error{Op: "Date", URL: redactedURL(rawURL), Err: why}
	}
	rtt := received.Sub(sent)
	mid := sent.Add(rtt / 2)
	offset := date.Add(500 * time.Millisecond).Sub(mid)
	uncertainty := 500*time.Millisecond + rtt/2
	ev := fmt.Sprintf("%s answered %s with Date: %s\nrequest sent %s, answer received %s (local clock)",
		redactedURL(rawURL), resp.Status, header, sent.UTC().Format(time.RFC3339Nano), received.UTC().Format(time.RFC3339Nano))
	return clockReading{reference: resp.Request.URL.Host, offset: offset, rtt: rtt, uncertainty: uncertainty, evidence: ev}, nil
}

func (rd clockReading) clock() string {
	if rd.whose != "" {
		return rd.whose
	}
	return "local"
}
