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
		Summary: "Checks that the default gateway (the router) is known and answers, by ping or, where ping is blocked, by a TCP connection attempt.",
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
	WarnLoss diag.Percent  `yaml:"warn_loss" doc:"warn when more than this share of the pings to the router is lost (default 10%): on the first hop even that much loss makes calls, video and downloads stall"`
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
	pr := ping.Run(ctx, t)
	if parent.Err() != nil {
		return cancelled(parent)
	}
	received, _ := pr.Observed["received"].(int)
	if pr.Status == diag.Pass && received > 0 {
		return c.judgeLoss(withObserved(pr, base).With("reachable", true), from, host)
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
	if port > 0 {
		r := withObserved(diag.Resultf(diag.Pass, "%s %s does not answer pings, but answered a connection attempt on TCP port %d", from, host, port), base).
			With("reachable", true).With("method", "tcp").With("port", port)
		r.Evidence = evidence
		return r
	}
	if parent.Err() != nil {
		return cancelled(parent)
	}
	r := withObserved(diag.Resultf(diag.Fail, "%s %s does not answer: no reply to ping, and no answer on TCP ports %s", from, host, joinPorts(gatewayPorts)), base).
		With("reachable", false)
	r.Evidence = strings.TrimSpace(evidence + "\n" + probeErr)
	return r.WithHint("the router cannot be reached: check the cable or the Wi-Fi connection, then restart the router; if other devices on the same network work, restart this machine's network connection")
}

// judgeLoss judges the pings the router answered by the share that was
// lost: on the first hop, a few percent is already felt (calls break up,
// pages stall), and a third makes the link unusable. A loss figure is
// never shown under a pass without the limit it is within.
func (c *Gateway) judgeLoss(r diag.Result, from, host string) diag.Result {
	sent, _ := r.Observed["sent"].(int)
	received, _ := r.Observed["received"].(int)
	loss, _ := r.Observed["loss_percent"].(float64)
	avg := ""
	if ms, ok := r.Observed["rtt_avg_ms"].(float64); ok {
		avg = fmt.Sprintf(", average %s", roundDuration(time.Duration(ms*float64(time.Millisecond))))
	}
	r = r.WithThreshold("loss_percent", diag.Threshold{Warn: fmtPct(float64(c.WarnLoss)), Crit: fmtPct(float64(c.MaxLoss))})
	lost := fmt.Sprintf("%d of %d pings lost (%s%%)", sent-received, sent, fmtPct(loss))
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
		r.Message = fmt.Sprintf("%s %s answered %d of %d pings%s; %s, within the %s warning limit", from, host, received, sent, avg, lost, percent(c.WarnLoss))
	default:
		r.Status = diag.Pass
		r.Message = fmt.Sprintf("%s %s answered %d of %d pings, none lost%s", from, host, received, sent, avg)
	}
	return r
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
