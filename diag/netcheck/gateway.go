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

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "gateway",
		Summary: "Checks that the default gateway (the router) is known and answers, by ping or, where ping is blocked, by a TCP connection attempt; measures loss with pings, or with TCP connection attempts where there is no ping command.",
		New: func() diag.Checker {
			return &Gateway{Count: 10, Timeout: diag.Duration(3 * time.Second), WarnLoss: 10, MaxLoss: 30}
		},
		Examines: func(diag.Result) []diag.Prerequisite {
			return []diag.Prerequisite{{What: diag.PrereqGateway}}
		},
	})
}

// gatewayPorts are tried when the router does not answer pings: home and
// office routers serve DNS or a web page, and even a refused connection
// proves that the router is there.
var gatewayPorts = []int{53, 80, 443}

// Gateway checks the first hop to everything beyond the local network.
type Gateway struct {
	Host     string        `yaml:"host" doc:"the router's address; by default the target's IPv4 default gateway (the ${host.gateway} fact)"`
	Count    int           `yaml:"count" doc:"how many pings to send, 200ms apart, so that loss can be measured (default 10; fewer when they do not fit in two thirds of timeout)"`
	Timeout  diag.Duration `yaml:"timeout" doc:"how long the pings and the connection attempts that follow them may take together (default 3s)"`
	WarnLoss diag.Percent  `yaml:"warn_loss" doc:"warn when more than this share of the pings to the router is lost (default 10%): on the first hop even that much loss makes calls, video and downloads stall; where the target has no ping command, ten TCP connection attempts to a port the router answers on are judged instead"`
	MaxLoss  diag.Percent  `yaml:"max_loss" doc:"fail when more than this share is lost (default 30%): the link is too poor to use"`
}

func (c *Gateway) Validate() error {
	var errs []error
	if c.Host != "" {
		if err := checkHost("host", c.Host); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Count < 1 || c.Count > 20 {
		errs = append(errs, diag.FieldErrorf("count", "%d is out of range (want 1 to 20)", c.Count))
	}
	if c.WarnLoss > c.MaxLoss {
		errs = append(errs, diag.FieldErrorf("warn_loss", "%s is above max_loss (%s): warn_loss must be the lower threshold", percent(c.WarnLoss), percent(c.MaxLoss)))
	}
	if c.Timeout > 0 && c.Timeout.D() < time.Second {
		errs = append(errs, diag.FieldErrorf("timeout", "%s is too short to ping and then try connections; give at least 1s", c.Timeout.D()))
	}
	return errors.Join(errs...)
}

func (c *Gateway) Run(parent context.Context, t diag.Target) diag.Result {
	timeout := c.Timeout.D()
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	// The ping command may take pingGrace past its own timeout to print
	// its figures; the connection attempts get what is left after it.
	ctx, cancel := context.WithTimeout(parent, timeout+pingGrace)
	defer cancel()
	// What is not the ping command's grace is the check's own time.
	ownDeadline := time.Now().Add(timeout)
	host := bareHost(c.Host)
	from := "the default gateway"
	if host == "" {
		facts, err := t.Facts(ctx)
		if err != nil {
			return diag.Resultf(diag.Error, "cannot learn the default gateway of %s: %v", where(t), err).
				WithHint("the target did not report its platform facts; check that it is reachable")
		}
		host = facts.Gateway
	} else {
		from = "the router"
	}
	if host == "" {
		return diag.Resultf(diag.Fail, "%s has no default gateway: no route leads beyond the local network", where(t)).
			With("gateway", "").With("reachable", false).
			WithHint("the machine is not connected to a network, or the network did not give it a router (DHCP); reconnect to the network or restart the router")
	}
	base := diag.Result{}.With("gateway", host)

	count := c.Count
	if count <= 0 {
		count = 10
	}
	pingTimeout := max(timeout*2/3, time.Second)
	ping := &Ping{Host: host, Count: count, Interval: diag.Duration(minPingInterval), Timeout: diag.Duration(pingTimeout), MaxLoss: 100, WarnLoss: 100}
	if need := time.Duration(count-1) * minPingInterval; need >= pingTimeout {
		ping.Count = max(1, int(pingTimeout/minPingInterval)-1)
	}
	pr, noPing := ping.run(ctx, t)
	if parent.Err() != nil {
		return cancelled(parent)
	}
	received, _ := pr.Observed["received"].(int)
	if pr.Status == diag.Pass && received > 0 {
		return c.judgeLoss(withObserved(pr, base).With("reachable", true), from, host, "pings")
	}

	// No answer to ping: many routers and firewalls drop it. A TCP
	// connection attempt that is accepted or refused still proves the
	// router is there.
	left := time.Second
	if d, ok := ctx.Deadline(); ok {
		left = max(time.Until(d)-pingGrace, 500*time.Millisecond)
	}
	port, probeErr := probeTCP(ctx, t, host, gatewayPorts, left)
	evidence := strings.TrimSpace(pr.Evidence + "\nping: " + pr.Message)
	noReply := "no reply to ping"
	if noPing {
		noReply = "ping is not installed on " + where(t)
	}
	if port > 0 {
		if noPing {
			// Whether the router answers says nothing of loss: measure
			// it with connection attempts, as the pings would have.
			// Within the check's own timeout when it leaves room for a
			// few attempts, else within its grace.
			until := ownDeadline
			if least := time.Now().Add(tcpLossMinWait + 3*tcpLossSpacing); least.After(until) {
				until = least
			}
			lctx, lcancel := context.WithDeadline(ctx, until)
			r, ok := c.tcpLoss(lctx, t, base, from, host, port)
			lcancel()
			if parent.Err() != nil {
				return cancelled(parent)
			}
			if ok {
				r.Message += fmt.Sprintf(" (%s, so the loss was measured with TCP connection attempts)", noReply)
				r.Evidence = strings.TrimSpace(evidence + "\n" + r.Evidence)
				return r
			}
		}
		msg := fmt.Sprintf("%s %s does not answer pings, but answered a connection attempt on TCP port %d", from, host, port)
		if noPing {
			msg = fmt.Sprintf("%s %s answered a connection attempt on TCP port %d; %s, and there was no time left to measure loss", from, host, port, noReply)
		}
		r := withObserved(diag.Resultf(diag.Pass, "%s", msg), base).
			With("reachable", true).With("method", "tcp").With("port", port)
		r.Evidence = evidence
		return r
	}
	if parent.Err() != nil {
		return cancelled(parent)
	}
	r := withObserved(diag.Resultf(diag.Fail, "%s %s does not answer: %s, and no answer on TCP ports %s", from, host, noReply, joinPorts(gatewayPorts)), base).
		With("reachable", false)
	r.Evidence = strings.TrimSpace(evidence + "\n" + probeErr)
	return r.WithHint("the router cannot be reached: check the cable or the Wi-Fi connection, then restart the router; if other devices on the same network work, restart this machine's network connection")
}

// judgeLoss judges the pings the router answered by the share that was
// lost: on the first hop, a few percent is already felt (calls break up,
// pages stall), and a third makes the link unusable. A loss figure is
// never shown under a pass without the limit it is within.
func (c *Gateway) judgeLoss(r diag.Result, from, host, what string) diag.Result {
	sent, _ := r.Observed["sent"].(int)
	received, _ := r.Observed["received"].(int)
	loss, _ := r.Observed["loss_percent"].(float64)
	avg := ""
	if ms, ok := r.Observed["rtt_avg_ms"].(float64); ok {
		avg = fmt.Sprintf(", average %s", roundDuration(time.Duration(ms*float64(time.Millisecond))))
	}
	r = r.WithThreshold("loss_percent", diag.Threshold{Warn: fmtPct(float64(c.WarnLoss)), Crit: fmtPct(float64(c.MaxLoss))})
	lost := fmt.Sprintf("%d of %d %s lost (%s%%)", sent-received, sent, what, fmtPct(loss))
	hint := "the link to the router loses packets: weak or crowded Wi-Fi, a faulty cable or port, or an overloaded router; move closer to the access point or use a cable, and restart the router if it persists"
	switch {
	case loss > float64(c.MaxLoss):
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s %s answers, but %s, above the %s limit: the link is too poor to use", from, host, lost, percent(c.MaxLoss))
		r.Hint = hint
	case loss > float64(c.WarnLoss):
		r.Status = diag.Warn
		r.Message = fmt.Sprintf("%s %s answers, but %s, above the %s warning limit", from, host, lost, percent(c.WarnLoss))
		r.Hint = hint
	case loss > 0:
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s %s answered %d of %d %s%s; %s, within the %s warning limit", from, host, received, sent, what, avg, lost, percent(c.WarnLoss))
	default:
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s %s answered %d of %d %s, none lost%s", from, host, received, sent, what, avg)
	}
	return r
}

// TCP loss probes: how many connection attempts, how far apart they
// start, and how long each may wait for an answer at most (a lost SYN is
// sent again by the kernel only after a second).
const (
	tcpLossAttempts = 10
	tcpLossSpacing  = 100 * time.Millisecond
	tcpLossWait     = time.Second
	tcpLossMinWait  = 200 * time.Millisecond
)

// tcpLoss measures loss to the router where ping cannot: short connection
// attempts to a port that answered, started tcpLossSpacing apart, each
// bounded; an attempt accepted or refused is answered, one that gets
// nothing in time is lost. ok is false when too little time is left to
// measure anything worth judging.
func (c *Gateway) tcpLoss(ctx context.Context, t diag.Target, base diag.Result, from, host string, port int) (diag.Result, bool) {
	attempts, wait := tcpLossAttempts, tcpLossWait
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d) - 100*time.Millisecond
		wait = min(wait, left-time.Duration(attempts-1)*tcpLossSpacing)
		if wait < tcpLossMinWait {
			wait = tcpLossMinWait
			attempts = int((left-wait)/tcpLossSpacing) + 1
		}
	}
	if attempts < 3 {
		return diag.Result{}, false
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	type outcome struct {
		err error
		rtt time.Duration
	}
	outcomes := make([]outcome, attempts)
	var wg sync.WaitGroup
	tick := time.NewTicker(tcpLossSpacing)
	defer tick.Stop()
	for i := range attempts {
		if i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			actx, cancel := context.WithTimeout(ctx, wait)
			defer cancel()
			start := time.Now()
			conn, err := dialTarget(actx, t, "tcp", addr)
			if err == nil {
				conn.Close()
			}
			outcomes[i] = outcome{err, time.Since(start)}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return diag.Result{}, false
	}
	received := 0
	var sum, lo, hi time.Duration
	var notes []string
	for i, o := range outcomes {
		if o.err == nil || classify(o.err) == problemRefused {
			received++
			sum += o.rtt
			if received == 1 || o.rtt < lo {
				lo = o.rtt
			}
			hi = max(hi, o.rtt)
			notes = append(notes, fmt.Sprintf("tcp/%d attempt %d: answered in %s", port, i+1, roundDuration(o.rtt)))
			continue
		}
		why := rootCause(o.err)
		if classify(o.err) == problemTimeout || errors.Is(o.err, context.DeadlineExceeded) {
			why = fmt.Sprintf("no answer within %s", roundDuration(wait))
		}
		notes = append(notes, fmt.Sprintf("tcp/%d attempt %d: lost (%s)", port, i+1, why))
	}
	r := withObserved(diag.Result{}, base).With("reachable", true).With("method", "tcp").With("port", port).
		With("sent", attempts).With("received", received).
		With("loss_percent", round1(100*float64(attempts-received)/float64(attempts)))
	if received > 0 {
		r = r.With("rtt_min_ms", diag.Milliseconds(lo)).With("rtt_avg_ms", diag.Milliseconds(sum/time.Duration(received))).With("rtt_max_ms", diag.Milliseconds(hi))
	}
	r = c.judgeLoss(r, from, host, fmt.Sprintf("TCP connection attempts to port %d", port))
	r.Evidence = fmt.Sprintf("%d connection attempts to %s, %s apart, each waiting up to %s:\n%s", attempts, addr, tcpLossSpacing, roundDuration(wait), strings.Join(notes, "\n"))
	return r, true
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// probeTCP tries the ports at once and returns the first that was
// answered, by accepting the connection or by refusing it; 0 when none
// was, with what happened to each.
func probeTCP(parent context.Context, t diag.Target, host string, ports []int, timeout time.Duration) (int, string) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	type outcome struct {
		port int
		err  error
	}
	results := make(chan outcome, len(ports))
	var wg sync.WaitGroup
	for _, p := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dialTarget(ctx, t, "tcp", net.JoinHostPort(host, strconv.Itoa(p)))
			if err == nil {
				conn.Close()
			}
			results <- outcome{p, err}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	var notes []string
	for o := range results {
		if o.err == nil || classify(o.err) == problemRefused {
			cancel()
			return o.port, ""
		}
		notes = append(notes, fmt.Sprintf("tcp/%d: %s", o.port, rootCause(o.err)))
	}
	return 0, strings.Join(notes, "\n")
}
