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
// The offset measured is that of the clock of the machine triage runs on:
// the query goes out through the target's network, but the timestamps it
// is compared with are taken here. For the local target that is the
// target's clock. A remote target will have to report its own time for
// its clock to be judged; until then the result says whose clock it is.
type Time struct {
	Server     string        `yaml:"server" doc:"an NTP server, as host or host:port (port 123 by default); the default when url is not given is pool.ntp.org"`
	URL        string        `yaml:"url" doc:"compare with the Date header of this http:// or https:// URL instead, where NTP is blocked (precise to about a second)"`
	WarnOffset diag.Duration `yaml:"warn_offset" doc:"warn when the clock is off by more than this (default 1s)"`
	FailOffset diag.Duration `yaml:"fail_offset" doc:"fail when the clock is off by more than this (default 30s, past which one-time codes and single sign-on start to fail)"`
	Timeout    diag.Duration `yaml:"timeout" doc:"how long the query may take (default 5s)"`
}

func (c *Time) Validate() error {
	var errs []error
	if c.Server != "" && c.URL != "" {
		errs = append(errs, diag.FieldErrorf("url", "give either server (NTP) or url (HTTP Date), not both"))
	}
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

func (c *Time) Run(parent context.Context, t diag.Target) diag.Result {
	ctx, cancel, timeout := withTimeout(parent, c.Timeout, 5*time.Second)
	defer cancel()
	var (
		rd  clockReading
		r   diag.Result
		err error
	)
	// A target with a clock of its own (a remote machine) is compared with
	// this machine, and the reference is read from here: the offset of a
	// clock does not depend on where the reference is asked from, and
	// NTP's UDP cannot always travel through the target.
	clock, remote := t.(diag.Clock)
	if remote {
		t = diag.NewLocal()
	}
	if c.URL != "" {
		r = diag.Result{}.With("url", redactedURL(c.URL)).With("method", "http")
		rd, err = httpDateReading(ctx, t, c.URL)
	} else {
		server := c.Server
		if server == "" {
			server = defaultNTPServer
		}
		host, port, serr := splitServer(server, 123)
		if serr != nil {
			return diag.Resultf(diag.Error, "server: %v", serr).WithHint("fix server in the playbook")
		}
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		r = diag.Result{}.With("server", addr).With("method", "ntp")
		rd, err = sntpQuery(ctx, t, addr)
	}
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return withObserved(c.referenceFailure(t, err, timeout), r)
	}
	if remote {
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
	}
	return c.judge(r, rd)
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
// was not compared, so this is never a failure of the clock.
func (c *Time) referenceFailure(t diag.Target, err error, timeout time.Duration) diag.Result {
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
	var ue *url.Error
	if errors.As(err, &ue) || c.URL != "" {
		host := ""
		if u, perr := url.Parse(c.URL); perr == nil {
			host = u.Hostname()
		}
		if classify(err) == problemDNS {
			return dnsFailure(t, host, err)
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
		return dnsFailure(t, host, err)
	case problemTimeout:
		return diag.Resultf(diag.Error, "no answer from the NTP server within %s", timeout).
			WithHint("NTP (UDP port 123) is blocked on the way or the server is down; where only web traffic gets through, compare with a web server instead: url: https://...")
	case problemRefused:
		return diag.Resultf(diag.Error, "the NTP server refused the query: nothing listens on its UDP port 123").
			WithHint("check the server address, or ask another NTP server")
	}
	return diag.Resultf(diag.Error, "cannot query the NTP server: %v", err).
		WithHint("the query could not be sent from %s (SSH targets cannot send UDP yet); compare with a web server instead: url: https://...", where(t))
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
func httpDateReading(ctx context.Context, t diag.Target, rawURL string) (clockReading, error) {
	client, tr := httpClient(t, nil, environmentProxy(ctx, t), true, nil)
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
