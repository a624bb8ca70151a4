package netcheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "ping",
		Summary: "Sends ICMP echo requests to a host and checks packet loss and round-trip time.",
		New: func() diag.Checker {
			return &Ping{Count: 3, Interval: diag.Duration(200 * time.Millisecond), Timeout: diag.Duration(3 * time.Second)}
		},
	})
}

const (
	maxPingCount = 1000
	// minPingInterval keeps a playbook from flooding a host: it is the
	// shortest interval the ping command allows an ordinary user.
	minPingInterval = 200 * time.Millisecond
	// pingGrace is how long past timeout the check waits for a ping
	// command to print its statistics before giving up on it.
	pingGrace = 2 * time.Second
)

// Ping checks that a host answers ICMP echo requests, and how well.
type Ping struct {
	Host     string        `yaml:"host" required:"true" doc:"the host name or IP address to ping"`
	Count    int           `yaml:"count" doc:"how many echo requests to send (default 3)"`
	Interval diag.Duration `yaml:"interval" doc:"the time between requests, at least 200ms (default 200ms)"`
	Timeout  diag.Duration `yaml:"timeout" doc:"how long to wait for all the replies, in total (default 3s)"`
	MaxLoss  diag.Percent  `yaml:"max_loss" doc:"fail when more than this share of the requests is lost (default 0%: fail on any loss)"`
	WarnLoss diag.Percent  `yaml:"warn_loss" doc:"warn when more than this share is lost, up to max_loss (default 0%)"`
	MaxRTT   diag.Duration `yaml:"max_rtt" doc:"warn when the average round-trip time is above this"`
	FailRTT  diag.Duration `yaml:"fail_rtt" doc:"fail when the average round-trip time is above this"`

	// ipv4 pings a host name over IPv4 (ping -4), for the checks that
	// measure the IPv4 path; whether IPv6 works is the ipv6 check's.
	ipv4 bool
}

func (c *Ping) Validate() error {
	var errs []error
	if err := checkHost("host", c.Host); err != nil {
		errs = append(errs, err)
	}
	if c.Count < 1 || c.Count > maxPingCount {
		errs = append(errs, diag.FieldErrorf("count", "%d is out of range (want 1 to %d)", c.Count, maxPingCount))
	}
	if c.Interval.D() < minPingInterval {
		errs = append(errs, diag.FieldErrorf("interval", "%s is shorter than %s, which only a flood ping would use", c.Interval.D(), minPingInterval))
	}
	if c.Timeout > 0 && c.Count > 1 && c.Interval > 0 {
		if need := time.Duration(c.Count-1) * c.Interval.D(); need >= c.Timeout.D() {
			errs = append(errs, diag.FieldErrorf("timeout", "%s is too short to send %d requests %s apart; raise it above %s", c.Timeout.D(), c.Count, c.Interval.D(), need))
		}
	}
	if c.WarnLoss > c.MaxLoss {
		errs = append(errs, diag.FieldErrorf("warn_loss", "%s is above max_loss (%s): warn_loss must be the lower threshold", percent(c.WarnLoss), percent(c.MaxLoss)))
	}
	if c.MaxRTT > 0 && c.FailRTT > 0 && c.MaxRTT > c.FailRTT {
		errs = append(errs, diag.FieldErrorf("max_rtt", "%s is above fail_rtt (%s): max_rtt is the warning, so it must be the lower one", c.MaxRTT.D(), c.FailRTT.D()))
	}
	return errors.Join(errs...)
}

func percent(p diag.Percent) string { b, _ := p.MarshalText(); return string(b) }

func (c *Ping) request() diag.PingRequest {
	req := diag.PingRequest{Host: bareHost(c.Host), Count: c.Count, Interval: c.Interval.D(), Timeout: c.Timeout.D()}
	if req.Count <= 0 {
		req.Count = 3
	}
	if req.Interval <= 0 {
		req.Interval = 200 * time.Millisecond
	}
	if req.Timeout <= 0 {
		req.Timeout = 3 * time.Second
	}
	return req
}

func (c *Ping) Run(parent context.Context, t diag.Target) diag.Result {
	r, _ := c.run(parent, t)
	return r
}

// run pings, and says whether no echo request could be sent because the
// target has no ping command (and triage may not ping natively there).
func (c *Ping) run(parent context.Context, t diag.Target) (r diag.Result, noCommand bool) {
	req := c.request()
	ctx, cancel := context.WithTimeout(parent, req.Timeout+pingGrace)
	defer cancel()
	base := diag.Result{}.With("host", req.Host)

	var fallback string
	if p, ok := t.(diag.Pinger); ok {
		stats, err := p.Ping(ctx, req)
		switch {
		case err == nil:
			return c.judge(base, req, pingReport{Addr: stats.Addr, Sent: stats.Sent, Received: stats.Received,
				HasRTT: stats.Received > 0, Min: stats.MinRTT, Avg: stats.AvgRTT, Max: stats.MaxRTT}, "icmp", ""), false
		case parent.Err() != nil:
			return cancelled(parent), false
		case !errors.Is(err, diag.ErrPingNotPermitted):
			return withObserved(pingFailure(t, req.Host, err), base), false
		}
		fallback = err.Error()
	}
	return c.runCommand(ctx, parent, t, base, req, fallback)
}

// runCommand pings with the target's ping program, which is setuid or
// holds the capability where triage does not, and which a remote target
// has even when it offers nothing else.
func (c *Ping) runCommand(ctx, parent context.Context, t diag.Target, base diag.Result, req diag.PingRequest, fallback string) (diag.Result, bool) {
	facts, _ := t.Facts(ctx)
	argv := pingArgv(facts.OS, req)
	if _, err := netip.ParseAddr(req.Host); c.ipv4 && err != nil && facts.OS == "linux" {
		argv = append([]string{argv[0], "-4"}, argv[1:]...)
	}
	res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: 64 << 10})
	if parent.Err() != nil {
		return cancelled(parent), false
	}
	if err == nil && commandNotFound(res) {
		// A target that runs commands through a shell without mapping
		// its "not found" to ErrCommandNotFound.
		err = fmt.Errorf("%s: %w: %s", argv[0], diag.ErrCommandNotFound, strings.TrimSpace(string(res.Stderr)+string(res.Stdout)))
	}
	var notes []string
	if fallback != "" {
		notes = append(notes, "native ping: "+fallback+"; used the ping command instead")
	}
	notes = append(notes, "$ "+strings.Join(argv, " "))
	if err != nil {
		r := withObserved(diag.Resultf(diag.Error, "cannot ping %s: %v", req.Host, err), base)
		r.Evidence = strings.Join(notes, "\n")
		if errors.Is(err, diag.ErrCommandNotFound) {
			r.Message = fmt.Sprintf("cannot ping %s: %s has no ping command", req.Host, where(t))
			if fallback != "" {
				r.Message = fmt.Sprintf("cannot ping %s: triage may not open ICMP sockets and %s has no ping command", req.Host, where(t))
			}
			return r.WithHint("%s", noPingHint(facts.OS, fallback != "")), true
		}
		if classify(err) == problemTimeout || ctx.Err() != nil {
			r.Message = fmt.Sprintf("the ping command did not finish within %s", req.Timeout+pingGrace)
			return r.WithHint("ping hung, perhaps resolving the name: check the target's DNS with a dns check"), false
		}
		return r.WithHint("the ping command could not be started; the message says why"), false
	}
	out := string(res.Stdout) + string(res.Stderr)
	notes = append(notes, strings.TrimSpace(out))
	evidence := strings.Join(notes, "\n")
	rep, perr := parsePingOutput(out)
	switch {
	case errors.Is(perr, errPingUnknownHost):
		r := withObserved(dnsFailure(t, req.Host, perr), base).With("method", "command")
		r.Evidence = evidence
		return r, false
	case errors.Is(perr, errPingNoPermission):
		r := withObserved(diag.Resultf(diag.Error, "cannot ping %s: the ping command may not send ICMP on %s", req.Host, where(t)), base)
		if fallback != "" {
			r.Message = fmt.Sprintf("cannot ping %s: neither triage nor the ping command may send ICMP on %s", req.Host, where(t))
		}
		r.Evidence = evidence
		return r.WithHint("%s", noPingHint(facts.OS, fallback != "")), false
	case errors.Is(perr, errPingNoDestination):
		r := withObserved(diag.Resultf(diag.Fail, "cannot reach %s: no route to it from %s", req.Host, where(t)), base).With("method", "command")
		r.Evidence = evidence
		return r.WithHint("there is no route to that network: check the VPN connection, the default gateway and the routing table").
			WithUpstream(unreachable(errors.New(out))), false
	case perr != nil:
		r := withObserved(diag.Resultf(diag.Error, "cannot read the output of %s (exit code %d)", argv[0], res.ExitCode), base)
		r.Evidence = evidence
		return r.WithHint("this ping prints its results in a form triage does not know; the output is in the evidence"), false
	}
	return c.judge(base, req, rep, "command", evidence), false
}

// commandNotFound reports whether a command's result is a shell's "not
// found" for the program itself (exit code 127).
func commandNotFound(res diag.CommandResult) bool {
	if res.ExitCode != 127 {
		return false
	}
	out := strings.ToLower(string(res.Stderr) + string(res.Stdout))
	return strings.Contains(out, "not found") || strings.Contains(out, "no such file")
}

// noPingHint says how to make ping possible. native is whether triage
// itself could have pinged from here, had the system allowed it.
func noPingHint(goos string, native bool) string {
	switch {
	case goos == "windows" && native:
		return "run triage as Administrator so it may send ICMP, or make sure ping.exe is on the PATH"
	case goos == "windows":
		return "make sure ping.exe is on the target's PATH and the user may run it"
	case native:
		return "let triage send ICMP: run it as root, give it the capability (setcap cap_net_raw+ep), or allow unprivileged ping with sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"; or install a ping command (iputils-ping)"
	}
	return "install a ping command on the target (iputils-ping), and check that it may send ICMP: it needs to be setuid root or hold cap_net_raw, or net.ipv4.ping_group_range must include the user's group"
}

// pingArgv builds the ping command line for the target's platform, so that
// the command stops by itself by the check's timeout and prints its
// statistics.
func pingArgv(goos string, req diag.PingRequest) []string {
	count := strconv.Itoa(req.Count)
	secs := strconv.Itoa(int(math.Ceil(req.Timeout.Seconds())))
	interval := func(minimum time.Duration) string {
		return strconv.FormatFloat(max(req.Interval, minimum).Seconds(), 'f', -1, 64)
	}
	switch goos {
	case "windows":
		// ping.exe has no interval (it sends one request a second) and
		// no overall deadline: -w is the wait for each reply. Send only
		// as many as fit in the timeout, and share it between them.
		n := min(req.Count, max(1, int(req.Timeout/time.Second)))
		perReply := max(req.Timeout/time.Duration(n), 500*time.Millisecond)
		return []string{"ping", "-n", strconv.Itoa(n), "-w", strconv.FormatInt(perReply.Milliseconds(), 10), req.Host}
	case "darwin", "freebsd", "dragonfly":
		// -t is the overall timeout here; FreeBSD lets only root go
		// below a one-second interval.
		minimum := time.Second
		if goos == "darwin" {
			minimum = minPingInterval
		}
		return []string{"ping", "-c", count, "-i", interval(minimum), "-t", secs, req.Host}
	case "openbsd", "netbsd":
		return []string{"ping", "-c", count, "-i", interval(time.Second), req.Host}
	}
	// iputils and BusyBox agree on these: -w is the overall deadline.
	return []string{"ping", "-c", count, "-i", interval(minPingInterval), "-w", secs, req.Host}
}

// pingFailure explains a native ping that could not run.
func pingFailure(t diag.Target, host string, err error) diag.Result {
	switch classify(err) {
	case problemDNS:
		return dnsFailure(t, host, err)
	case problemUnreachable:
		return diag.Resultf(diag.Fail, "cannot reach %s: %s", host, rootCause(err)).With("method", "icmp").
			WithHint("there is no route to that network: check the VPN connection, the default gateway and the routing table").
			WithUpstream(unreachable(err))
	}
	return diag.Resultf(diag.Error, "cannot ping %s: %v", host, err).
		WithHint("the echo requests could not be sent; the message says why")
}

// judge turns what a ping saw into a verdict.
func (c *Ping) judge(base diag.Result, req diag.PingRequest, rep pingReport, method, evidence string) diag.Result {
	r := base.With("sent", rep.Sent).With("received", rep.Received).With("method", method)
	r.Evidence = evidence
	if rep.Addr != "" && rep.Addr != req.Host {
		r = r.With("address", rep.Addr)
	}
	who := req.Host
	if rep.Addr != "" && rep.Addr != req.Host {
		who = fmt.Sprintf("%s (%s)", req.Host, rep.Addr)
	}
	if rep.Sent == 0 {
		r.Status = diag.Error
		r.Message = fmt.Sprintf("no echo request could be sent to %s", who)
		r.Hint = "the target could not send ICMP at all; the evidence may say why"
		return r
	}
	loss := 100 * float64(rep.Sent-rep.Received) / float64(rep.Sent)
	r = r.With("loss_percent", round1(loss))
	if rep.HasRTT {
		r = r.With("rtt_min_ms", diag.Milliseconds(rep.Min)).
			With("rtt_avg_ms", diag.Milliseconds(rep.Avg)).
			With("rtt_max_ms", diag.Milliseconds(rep.Max))
	}
	if rep.Received == 0 && rep.UnreachableBy != "" {
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s is unreachable: %s reported that it cannot deliver to it", who, rep.UnreachableBy)
		r.Hint = fmt.Sprintf("the router %s has no way to reach the host: the host is off or not on that network (it does not answer ARP), or a route is missing; check that the host is up and has the address", rep.UnreachableBy)
		return r
	}
	if rep.Received == 0 {
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s did not answer any of %d pings", who, rep.Sent)
		r.Hint = "the host is down or unreachable, or ICMP is filtered: many hosts and cloud networks drop ping while their services work, so compare with a tcp check of a port it serves"
		return r
	}
	summary := fmt.Sprintf("%s answered %d of %d pings (%s%% lost), average %s", who, rep.Received, rep.Sent, fmtPct(loss), roundDuration(rep.Avg))
	var fails, warns []string
	if loss > float64(c.MaxLoss) {
		fails = append(fails, fmt.Sprintf("loss above max_loss (%s)", percent(c.MaxLoss)))
	} else if loss > float64(c.WarnLoss) {
		warns = append(warns, fmt.Sprintf("loss above warn_loss (%s)", percent(c.WarnLoss)))
	}
	if c.FailRTT > 0 && rep.Avg > c.FailRTT.D() {
		fails = append(fails, fmt.Sprintf("round trips slower than fail_rtt (%s)", c.FailRTT.D()))
	} else if c.MaxRTT > 0 && rep.Avg > c.MaxRTT.D() {
		warns = append(warns, fmt.Sprintf("round trips slower than max_rtt (%s)", c.MaxRTT.D()))
	}
	switch {
	case len(fails) > 0:
		r.Status = diag.Fail
		r.Message = summary + ": " + strings.Join(append(fails, warns...), "; ")
	case len(warns) > 0:
		r.Status = diag.Warn
		r.Message = summary + ": " + strings.Join(warns, "; ")
	default:
		r.Status, r.Message = diag.Pass, summary
		if loss > 0 {
			// A loss figure under a pass says which limit it is within.
			limit := fmt.Sprintf("max_loss (%s)", percent(c.MaxLoss))
			if c.WarnLoss > 0 {
				limit = fmt.Sprintf("warn_loss (%s)", percent(c.WarnLoss))
			}
			r.Message += "; the loss is within " + limit
		}
		return r
	}
	if loss > float64(c.WarnLoss) {
		r.Hint = "packets are lost on the way: weak Wi-Fi, a congested or faulty link, or a rate limit on ICMP; mtr (or pathping on Windows) shows at which hop the loss starts"
	} else {
		r.Hint = "round trips are slow: a congested link, a far-away or overloaded host, or traffic taking a long detour (VPN); mtr or traceroute shows where the delay builds up"
	}
	return r
}

func fmtPct(f float64) string { return strconv.FormatFloat(round1(f), 'f', -1, 64) }
