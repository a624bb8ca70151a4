package diag

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	probing "github.com/prometheus-community/pro-bing"
)

// ErrPingNotPermitted is returned by Local.Ping when this process may open
// neither a raw ICMP socket (root, CAP_NET_RAW, Administrator) nor an
// unprivileged ICMP datagram socket (Linux with net.ipv4.ping_group_range
// covering the user's group; macOS). The ping check then falls back to the
// system's ping command, which usually holds that privilege itself.
var ErrPingNotPermitted = errors.New("not permitted to open an ICMP socket")

// Ping sends ICMP echo requests from this machine with pro-bing.
func (*Local) Ping(ctx context.Context, req PingRequest) (PingStats, error) {
	// pro-bing's defaults are to ping forever and never time out.
	if req.Count <= 0 || req.Timeout <= 0 {
		return PingStats{}, errors.New("ping needs a positive count and timeout")
	}
	ip, err := resolvePingHost(ctx, req.Host)
	if err != nil {
		return PingStats{}, err
	}
	var refusals []string
	for _, privileged := range pingModes() {
		stats, opened, err := pingWith(ctx, ip, req, privileged)
		if opened || err == nil || ctx.Err() != nil {
			return stats, err
		}
		mode := "unprivileged ICMP socket"
		if privileged {
			mode = "raw ICMP socket"
		}
		refusals = append(refusals, fmt.Sprintf("%s: %v", mode, err))
	}
	return PingStats{Addr: ip.String()}, fmt.Errorf("%w (%s)", ErrPingNotPermitted, strings.Join(refusals, "; "))
}

// pingModes lists the socket kinds to try, most likely to work first.
// A non-root user may still hold CAP_NET_RAW, and root inside a container
// may lack it, so both are tried everywhere but Windows, where pro-bing
// only works with raw sockets.
func pingModes() []bool {
	switch {
	case runtime.GOOS == "windows":
		return []bool{true}
	case os.Geteuid() == 0:
		return []bool{true, false}
	}
	return []bool{false, true}
}

// resolvePingHost resolves host under ctx: pro-bing's own lookup ignores
// the context and could outlive the check. IPv4 is preferred, as the ping
// command does on most systems.
func resolvePingHost(ctx context.Context, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap(), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(ips) == 0 {
		return netip.Addr{}, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return ip.Unmap(), nil
		}
	}
	return ips[0], nil
}

// pingWith runs one pro-bing pinger. opened reports whether its socket
// could be set up, which tells "not allowed to ping" from a ping that ran.
func pingWith(ctx context.Context, ip netip.Addr, req PingRequest, privileged bool) (stats PingStats, opened bool, err error) {
	p := probing.New(ip.String())
	p.SetIPAddr(&net.IPAddr{IP: net.IP(ip.AsSlice()), Zone: ip.Zone()})
	p.SetPrivileged(privileged)
	p.SetLogger(probing.NoopLogger{})
	p.Count = req.Count
	p.Timeout = req.Timeout
	if req.Interval > 0 {
		p.Interval = req.Interval
	}
	var setup atomic.Bool
	p.OnSetup = func() { setup.Store(true) }

	done := make(chan error, 1)
	go func() { done <- p.RunWithContext(ctx) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// pro-bing watches ctx, but a send stuck in its retry loop would
		// not notice: do not wait for it.
		p.Stop()
		err = ctx.Err()
	}
	s := p.Statistics()
	stats = PingStats{
		Addr:     ip.String(),
		Sent:     s.PacketsSent,
		Received: s.PacketsRecv,
		MinRTT:   s.MinRtt,
		AvgRTT:   s.AvgRtt,
		MaxRTT:   s.MaxRtt,
	}
	return stats, setup.Load(), err
}
