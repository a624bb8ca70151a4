package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "loss",
		Summary: "Pings the router and a host beyond it at the same time and says where packet loss and delay start: on the local link (Wi-Fi, cable, the router) or beyond the router (the provider's network).",
		New: func() diag.Checker {
			return &Loss{Count: 8, Timeout: diag.Duration(3 * time.Second), WarnLoss: 10, MaxLoss: 30, MaxRTT: diag.Duration(300 * time.Millisecond)}
		},
	})
}

// Loss locates loss and delay by comparing the first hop with the path:
// loss to the router is the local link's, loss only beyond it the
// provider's.
type Loss struct {
	Host     string        `yaml:"host" required:"true" doc:"a host beyond the router that answers pings, such as the public name the other checks use"`
	Gateway  string        `yaml:"gateway" doc:"the router's address; by default the target's IPv4 default gateway (the ${host.gateway} fact)"`
	Count    int           `yaml:"count" doc:"how many pings to send to each, 200ms apart (default 8)"`
	Timeout  diag.Duration `yaml:"timeout" doc:"how long the pings may take (default 3s)"`
	WarnLoss diag.Percent  `yaml:"warn_loss" doc:"warn when more than this share of the pings is lost (default 10%)"`
	MaxLoss  diag.Percent  `yaml:"max_loss" doc:"fail when more than this share is lost (default 30%)"`
	MaxRTT   diag.Duration `yaml:"max_rtt" doc:"warn when the average round trip to the host is above this (default 300ms); the router's round trip says whether the delay is the local link's"`
}

func (c *Loss) Validate() error {
	var errs []error
	if err := checkHost("host", c.Host); err != nil {
		errs = append(errs, err)
	}
	if c.Gateway != "" {
		if err := checkHost("gateway", c.Gateway); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Count < 2 || c.Count > 50 {
		errs = append(errs, diag.FieldErrorf("count", "%d is out of range (want 2 to 50)", c.Count))
	}
	if c.WarnLoss > c.MaxLoss {
		errs = append(errs, diag.FieldErrorf("warn_loss", "%s is above max_loss (%s): warn_loss must be the lower threshold", percent(c.WarnLoss), percent(c.MaxLoss)))
	}
	if c.Timeout > 0 && c.Count > 0 {
		if need := time.Duration(c.Count-1) * minPingInterval; need >= c.Timeout.D() {
			errs = append(errs, diag.FieldErrorf("timeout", "%s is too short to send %d pings %s apart; raise it above %s", c.Timeout.D(), c.Count, minPingInterval, need))
		}
	}
	return errors.Join(errs...)
}

// pingFigures is what one side's pings saw.
type pingFigures struct {
	r        diag.Result
	sent     int
	received int
	loss     float64
	avg      time.Duration
}

func figures(r diag.Result) pingFigures {
	f := pingFigures{r: r}
	f.sent, _ = r.Observed["sent"].(int)
	f.received, _ = r.Observed["received"].(int)
	f.loss, _ = r.Observed["loss_percent"].(float64)
	if ms, ok := r.Observed["rtt_avg_ms"].(float64); ok {
		f.avg = time.Duration(ms * float64(time.Millisecond))
	}
	return f
}

func (c *Loss) Run(parent context.Context, t diag.Target) diag.Result {
	timeout := c.Timeout.D()
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	count := c.Count
	if count <= 0 {
		count = 8
	}
	host := bareHost(c.Host)
	gw := bareHost(c.Gateway)
	if gw == "" {
		facts, _ := t.Facts(parent)
		gw = facts.Gateway
	}
	pingTimeout := max(timeout-500*time.Millisecond, time.Second)
	pinger := func(h string) *Ping {
		return &Ping{Host: h, Count: count, Interval: diag.Duration(minPingInterval), Timeout: diag.Duration(pingTimeout), MaxLoss: 100, WarnLoss: 100, ipv4: true}
	}
	addr, err := resolveOnce(parent, t, host)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return unresolved(t, host, err)
	}
	var hostRes, gwRes diag.Result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); hostRes, _ = pinger(addr).run(parent, t) }()
	if gw != "" {
		wg.Add(1)
		go func() { defer wg.Done(); gwRes, _ = pinger(gw).run(parent, t) }()
	}
	wg.Wait()
	if parent.Err() != nil {
		return cancelled(parent)
	}
	return c.judge(host, gw, figures(hostRes), figures(gwRes))
}

func (c *Loss) judge(host, gw string, h, g pingFigures) diag.Result {
	r := diag.Result{}.With("host", host).
		WithThreshold("loss_percent", diag.Threshold{Warn: fmtPct(float64(c.WarnLoss)), Crit: fmtPct(float64(c.MaxLoss))})
	r.Evidence = h.r.Evidence
	if h.r.Status == diag.Error || h.sent == 0 {
		// Could not ping at all (no ping command, a name that does not
		// resolve): say so, with what the ping check found.
		r.Status, r.Message, r.Hint, r.Upstream = h.r.Status, h.r.Message, h.r.Hint, h.r.Upstream
		if r.Status == diag.Pass || r.Status == "" {
			r.Status = diag.Error
		}
		if _, err := netip.ParseAddr(host); err != nil && r.Status == diag.Error && r.Upstream == nil && strings.Contains(r.Message, "did not finish") {
			// ping resolves the name first: slow DNS servers hold it up.
			r.Upstream = &diag.Prerequisite{What: diag.PrereqDNSServer}
		}
		return r
	}
	r = r.With("loss_percent", round1(h.loss)).With("sent", h.sent).With("received", h.received)
	if h.received > 0 {
		r = r.With("rtt_avg_ms", diag.Milliseconds(h.avg))
	}
	gwKnown := gw != "" && g.sent > 0
	if gwKnown {
		r = r.With("gateway", gw).With("gateway_loss_percent", round1(g.loss))
		if g.received > 0 {
			r = r.With("gateway_rtt_avg_ms", diag.Milliseconds(g.avg))
		}
		if g.r.Evidence != "" {
			r.Evidence = g.r.Evidence + "\n" + r.Evidence
		}
	}
	lostTo := func(f pingFigures, who string) string {
		return fmt.Sprintf("%d of %d pings to %s lost (%s%%)", f.sent-f.received, f.sent, who, fmtPct(f.loss))
	}
	if h.received == 0 {
		r.Status = diag.Skip
		r.Message = fmt.Sprintf("%s does not answer pings, so loss beyond the router cannot be measured", host)
		r.Hint = "many hosts drop ping, and a connection that is down loses everything: the internet checks say whether it is reachable at all"
		return r
	}
	level := func(loss float64) diag.Status {
		switch {
		case loss > float64(c.MaxLoss):
			return diag.Fail
		case loss > float64(c.WarnLoss):
			return diag.Warn
		}
		return diag.Pass
	}
	if gwKnown && g.received > 0 && level(g.loss) != diag.Pass {
		r.Status = level(g.loss)
		r.Message = fmt.Sprintf("the loss starts on the local link: %s, and %s", lostTo(g, "the router "+gw), lostTo(h, host))
		r.Hint = "packets are lost between this machine and the router: weak or crowded Wi-Fi, a faulty cable or port, or an overloaded router; move closer to the access point or use a cable, and restart the router"
		r = r.With("where", "local link")
		return r
	}
	if s := level(h.loss); s != diag.Pass {
		r.Status = s
		r = r.With("where", "beyond the router")
		if gwKnown {
			r.Message = fmt.Sprintf("%s, but none of %d to the router %s: the loss is beyond the router, in the provider's network", lostTo(h, host), g.sent, gw)
			if g.received < g.sent {
				r.Message = fmt.Sprintf("%s, but only %s: the loss is beyond the router, in the provider's network", lostTo(h, host), lostTo(g, "the router "+gw))
			}
		} else {
			r.Message = fmt.Sprintf("%s: the path to the internet loses packets", lostTo(h, host))
		}
		r.Hint = "the local network is fine, the connection beyond the router is not: restart the modem or router to renew its uplink; if the loss stays, report it to the internet provider with this result (calls break up and downloads stall until it is fixed)"
		return r
	}
	if c.MaxRTT > 0 && h.avg > c.MaxRTT.D() {
		r.Status = diag.Warn
		if gwKnown && g.received > 0 && g.avg > c.MaxRTT.D()/2 {
			r = r.With("where", "local link")
			r.Message = fmt.Sprintf("round trips are slow from the first hop: %s to the router %s, %s to %s", roundDuration(g.avg), gw, roundDuration(h.avg), host)
			r.Hint = "the delay starts on the local link: a crowded Wi-Fi channel, a saturated upload (a backup or a video call on another device) or an overloaded router"
			return r
		}
		r = r.With("where", "beyond the router")
		r.Message = fmt.Sprintf("round trips to %s take %s (above %s), while the router answers in %s: the delay is beyond the router", host, roundDuration(h.avg), c.MaxRTT.D(), roundDuration(g.avg))
		r.Hint = "the provider's network or the path to the host is slow: a satellite or mobile link, congestion at the provider, or traffic taking a detour through a VPN"
		return r
	}
	r.Status = diag.Pass
	r.Message = fmt.Sprintf("%s answered %d of %d pings, average %s", host, h.received, h.sent, roundDuration(h.avg))
	if gwKnown {
		r.Message += fmt.Sprintf("; the router %s %d of %d", gw, g.received, g.sent)
	}
	if h.loss > 0 || (gwKnown && g.loss > 0) {
		r.Message += fmt.Sprintf(": the loss is within the %s warning limit", percent(c.WarnLoss))
	}
	return r
}
