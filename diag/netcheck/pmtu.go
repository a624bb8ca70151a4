package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triage-dev/triage/diag"
)

// prereqPathMTU is what a check relies on when large packets must cross
// the path whole: a TLS handshake, a download. The pmtu kind examines it.
const prereqPathMTU = "path-mtu"

func init() {
	diag.Register(diag.Kind{
		Name:    "pmtu",
		Summary: "Finds the largest packet that crosses the path to the router and to a host beyond it whole, with don't-fragment pings of decreasing size, and fails on a path-MTU black hole: small packets pass, large ones vanish without the ICMP message that would say they are too big.",
		New:     func() diag.Checker { return &PathMTU{Timeout: diag.Duration(3 * time.Second)} },
		Examines: func(r diag.Result) []diag.Prerequisite {
			if r.Status == diag.Error || r.Status == diag.Skip {
				return nil
			}
			return []diag.Prerequisite{{What: prereqPathMTU}}
		},
	})
}

// PathMTU looks for a path-MTU black hole: a link with a smaller MTU (a
// VPN, PPPoE, a tunnel) on a path where the ICMP "fragmentation needed"
// message is filtered, so that a TCP connection opens, and then stalls as
// soon as a full-size packet is sent.
type PathMTU struct {
	Host    string        `yaml:"host" required:"true" doc:"a host beyond the router that answers pings, such as the public name the other checks use"`
	Gateway string        `yaml:"gateway" doc:"the router's address; by default the target's IPv4 default gateway (the ${host.gateway} fact); the router is probed too, to tell the local link from the path beyond it"`
	Timeout diag.Duration `yaml:"timeout" doc:"how long the probes may take together (default 3s); they run at the same time, large sizes first, smaller ones only where the large were lost"`
}

func (c *PathMTU) Validate() error {
	var errs []error
	if err := checkHost("host", c.Host); err != nil {
		errs = append(errs, err)
	}
	if c.Gateway != "" {
		if err := checkHost("gateway", c.Gateway); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Timeout > 0 && c.Timeout.D() < 2*time.Second {
		errs = append(errs, diag.FieldErrorf("timeout", "%s is too short for two rounds of probes; give at least 2s", c.Timeout.D()))
	}
	return errors.Join(errs...)
}

// Packet sizes, in bytes of IPv4 packet (ICMP payload + 28). smallProbe
// proves that the host answers at all; fullProbe is Ethernet's MTU; the
// rest are what links with a smaller MTU commonly have (PPPoE, tunnels,
// VPNs, IPv6's minimum) and a floor.
const (
	smallProbe  = 84
	fullProbe   = 1500
	ipICMPHead  = 28
	probeCount  = 2
	probeWait   = time.Second
	maxProbeRun = 1500 * time.Millisecond
)

var smallerProbes = []int{1492, 1450, 1400, 1280, 1000, 576}

// mtuProbe is what one size of probe to one host saw.
type mtuProbe struct {
	size     int
	sent     int
	received int
	// tooBig: the machine or a router said the packet is too big (ICMP
	// "fragmentation needed", or the kernel's "message too long" from a
	// path MTU it learned): path-MTU discovery works, nothing vanished.
	tooBig bool
	mtu    int // the MTU that message named, when it did
	err    error
	out    string
}

func (p mtuProbe) answered() bool { return p.err == nil && p.received > 0 }
func (p mtuProbe) lost() bool     { return p.err == nil && p.received == 0 && !p.tooBig && p.sent > 0 }

var (
	tooBigRE   = diag.LazyRegexp(`(?i)(message too long|frag(?:mentation)? needed|needs to be fragmented|packet too big)`)
	mtuValueRE = diag.LazyRegexp(`(?i)mtu ?= ?(\d+)`)
	noDFRE     = diag.LazyRegexp(`(?i)(invalid option|unrecognized option|illegal option|usage:|invalid argument)`)
)

// mtuArgv is the ping command line of one don't-fragment probe.
func mtuArgv(goos, host string, size int) []string {
	payload := strconv.Itoa(size - ipICMPHead)
	switch goos {
	case "windows":
		return []string{"ping", "-f", "-l", payload, "-n", strconv.Itoa(probeCount), "-w", strconv.Itoa(int(probeWait.Milliseconds())), host}
	case "darwin", "freebsd", "dragonfly", "openbsd", "netbsd":
		return []string{"ping", "-D", "-s", payload, "-c", strconv.Itoa(probeCount), "-t", "2", host}
	}
	argv := []string{"ping"}
	if _, err := netip.ParseAddr(host); err != nil {
		// The IPv4 path: which address family works is the ipv6 check's.
		argv = append(argv, "-4")
	}
	return append(argv, "-M", "do", "-s", payload, "-c", strconv.Itoa(probeCount), "-i", "0.2", "-W", "1", host)
}

// probeMTU sends probeCount don't-fragment pings of size bytes to host.
func probeMTU(ctx context.Context, t diag.Target, goos, host string, size int) mtuProbe {
	p := mtuProbe{size: size}
	argv := mtuArgv(goos, host, size)
	cctx, cancel := context.WithTimeout(ctx, maxProbeRun+time.Second)
	defer cancel()
	res, err := t.Run(cctx, diag.Command{Argv: argv, MaxOutput: 16 << 10})
	if err == nil && commandNotFound(res) {
		err = fmt.Errorf("%s: %w", argv[0], diag.ErrCommandNotFound)
	}
	if err != nil {
		p.err = err
		return p
	}
	out := string(res.Stdout) + string(res.Stderr)
	p.out = "$ " + strings.Join(argv, " ") + "\n" + strings.TrimSpace(out)
	if tooBigRE().MatchString(out) {
		p.tooBig = true
		if m := mtuValueRE().FindStringSubmatch(out); m != nil {
			p.mtu, _ = strconv.Atoi(m[1])
		}
	}
	rep, perr := parsePingOutput(out)
	switch {
	case perr == nil:
		p.sent, p.received = rep.Sent, rep.Received
	case p.tooBig:
		p.sent = probeCount
	case res.ExitCode != 0 && noDFRE().MatchString(out):
		p.err = errors.New("this ping command cannot set don't-fragment")
	default:
		p.err = perr
	}
	return p
}

// mtuPath is what the probes to one host found.
type mtuPath struct {
	host   string
	probes map[int]mtuProbe
}

func (m mtuPath) answers() bool { return m.probes[smallProbe].answered() }

// verdict reads a host's probes: the largest size answered, the smallest
// lost above it, and whether they make the clean step of a black hole
// (every probe up to a size answered, every one above it lost) rather
// than loss that strikes packets of any size.
func (m mtuPath) verdict() (largest, smallestLost, announced int, step bool) {
	sizes := make([]int, 0, len(m.probes))
	for s := range m.probes {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	step = true
	for _, s := range sizes {
		p := m.probes[s]
		switch {
		case p.tooBig:
			if p.mtu > 0 && (announced == 0 || p.mtu < announced) {
				announced = p.mtu
			}
		case p.answered():
			if smallestLost > 0 || p.received < p.sent {
				step = false
			}
			largest = s
		case p.lost():
			if smallestLost == 0 {
				smallestLost = s
			}
		}
	}
	return largest, smallestLost, announced, step
}

func (c *PathMTU) Run(parent context.Context, t diag.Target) diag.Result {
	host := bareHost(c.Host)
	// The name first, on the check's whole time: the timeout is for the
	// probes.
	addr, err := resolveOnce(parent, t, host)
	if err != nil {
		if parent.Err() != nil {
			return cancelled(parent)
		}
		return unresolved(t, host, err)
	}
	ctx, cancel, _ := withTimeout(parent, c.Timeout, 3*time.Second)
	defer cancel()
	facts, _ := t.Facts(ctx)
	gw := bareHost(c.Gateway)
	if gw == "" {
		gw = facts.Gateway
	}
	hosts := []string{host}
	if gw != "" && gw != host {
		hosts = append(hosts, gw)
	}
	addrOf := map[string]string{gw: gw, host: addr}
	paths := map[string]*mtuPath{}
	for _, h := range hosts {
		paths[h] = &mtuPath{host: h, probes: map[int]mtuProbe{}}
	}
	var mu sync.Mutex
	probeAll := func(jobs map[string][]int) {
		var wg sync.WaitGroup
		for h, sizes := range jobs {
			for _, s := range sizes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := probeMTU(ctx, t, facts.OS, addrOf[h], s)
					mu.Lock()
					paths[h].probes[s] = p
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
	}
	first := map[string][]int{}
	for _, h := range hosts {
		first[h] = []int{smallProbe, fullProbe}
	}
	probeAll(first)
	if parent.Err() != nil {
		return cancelled(parent)
	}
	// A full-size probe that vanished: find where the path stops
	// carrying packets whole, in one round of smaller sizes.
	second := map[string][]int{}
	for _, h := range hosts {
		m := paths[h]
		full := m.probes[fullProbe]
		if !m.answers() || !(full.lost() || (full.tooBig && full.mtu > 0)) {
			continue
		}
		limit := fullProbe
		if full.tooBig {
			limit = full.mtu
		}
		for _, s := range smallerProbes {
			if s <= limit {
				second[h] = append(second[h], s)
			}
		}
	}
	if len(second) > 0 {
		probeAll(second)
		if parent.Err() != nil {
			return cancelled(parent)
		}
	}
	return c.judge(t, host, gw, paths)
}

func (c *PathMTU) judge(t diag.Target, host, gw string, paths map[string]*mtuPath) diag.Result {
	var evidence []string
	for _, h := range []string{gw, host} {
		m := paths[h]
		if m == nil {
			continue
		}
		sizes := make([]int, 0, len(m.probes))
		for s := range m.probes {
			sizes = append(sizes, s)
		}
		slices.Sort(sizes)
		for _, s := range sizes {
			p := m.probes[s]
			line := fmt.Sprintf("%s, %d bytes: ", h, s)
			switch {
			case p.err != nil:
				line += "could not probe: " + p.err.Error()
			case p.tooBig && p.mtu > 0:
				line += fmt.Sprintf("too big, the path MTU is %d", p.mtu)
			case p.tooBig:
				line += "too big"
			default:
				line += fmt.Sprintf("%d of %d answered", p.received, p.sent)
			}
			evidence = append(evidence, line)
		}
	}
	for _, h := range []string{gw, host} {
		if m := paths[h]; m != nil {
			for _, s := range []int{smallProbe, fullProbe} {
				if p := m.probes[s]; p.out != "" {
					evidence = append(evidence, p.out)
				}
			}
		}
	}
	r := diag.Result{}.With("host", host)
	if gw != "" {
		r = r.With("gateway", gw)
	}
	r.Evidence = strings.Join(evidence, "\n")

	hp := paths[host]
	small := hp.probes[smallProbe]
	if small.err != nil {
		if errors.Is(small.err, diag.ErrCommandNotFound) {
			r.Status = diag.Skip
			r.Message = fmt.Sprintf("cannot send don't-fragment probes: %s has no ping command", where(t))
			r.Hint = "install a ping command (iputils-ping) to measure the path MTU"
			return r
		}
		r.Status = diag.Error
		r.Message = fmt.Sprintf("cannot send don't-fragment probes to %s: %v", host, small.err)
		r.Hint = "the ping command could not send the probes; the evidence says why"
		if _, err := netip.ParseAddr(host); err != nil && (errors.Is(small.err, context.DeadlineExceeded) || classify(small.err) == problemTimeout) {
			// ping resolves the name first: slow DNS servers hold it up.
			r.Message = fmt.Sprintf("the probes to %s did not finish in time: looking up the name is slow", host)
			r.Upstream = &diag.Prerequisite{What: diag.PrereqDNSServer}
		}
		return r
	}
	// The router first: a black hole on the local link (a VPN, a Wi-Fi
	// bridge) loses large packets to everything.
	if gp := paths[gw]; gp != nil && gp.answers() {
		if largest, lost, _, step := gp.verdict(); lost > 0 && step && largest > 0 {
			return blackHole(r, gw, largest, lost, "between this machine and the router "+gw, "the local link (a VPN, a tunnel, a Wi-Fi bridge or a misconfigured interface MTU)")
		}
	}
	if !hp.answers() {
		r.Status = diag.Skip
		r.Message = fmt.Sprintf("%s does not answer pings, so the path MTU beyond the router cannot be measured", host)
		r.Hint = "many hosts drop ping; name a host that answers it (host:) to measure the path"
		return r
	}
	largest, lost, announced, step := hp.verdict()
	beyond := "beyond the router"
	if gw == "" {
		beyond = "on the way to " + host
	}
	switch {
	case lost > 0 && step && largest > 0:
		return blackHole(r, host, largest, lost, beyond, "the network beyond the router (the provider's link, a tunnel or a VPN on the way)")
	case lost > 0:
		r.Status = diag.Skip
		r.Message = fmt.Sprintf("packets of every size to %s are lost now and then, so the packet size is not what loses them: that is loss, not a path-MTU problem", host)
		r.Hint = "a check of loss to the router and beyond it says where the packets go missing"
		return r
	}
	mtu := largest
	if announced > 0 && announced < fullProbe {
		mtu = announced
	}
	r = r.With("path_mtu", mtu)
	r.Status = diag.Pass
	if announced > 0 && announced < fullProbe {
		r.Message = fmt.Sprintf("the path MTU to %s is %d bytes: larger packets are refused with a message that says so, and programs adapt (path-MTU discovery works)", host, announced)
		return r
	}
	r.Message = fmt.Sprintf("packets of up to %d bytes reach %s whole", mtu, host)
	if gw != "" && paths[gw] != nil && paths[gw].answers() {
		r.Message = fmt.Sprintf("packets of up to %d bytes reach the router %s and %s whole", mtu, gw, host)
	}
	return r
}

func blackHole(r diag.Result, host string, largest, lost int, where, what string) diag.Result {
	r = r.With("path_mtu", largest).With("lost_from", lost).With("black_hole", where)
	r.Status = diag.Fail
	r.Message = fmt.Sprintf("packets over %d bytes are lost %s (%d-byte packets to %s vanish without a \"too big\" message, %d-byte ones arrive): a path-MTU black hole; HTTPS handshakes and large downloads stall", largest, where, lost, host, largest)
	r.Hint = fmt.Sprintf("small packets pass and large ones vanish, so connections open and then hang: %s has a smaller MTU and the ICMP \"fragmentation needed\" message is filtered. Ask the network team or the provider to let that ICMP message through or to clamp the TCP MSS; meanwhile an interface MTU of %d on this machine works around it (Linux: ip link set dev IFACE mtu %d; Windows: netsh interface ipv4 set subinterface \"NAME\" mtu=%d)", what, largest, largest, largest)
	return r
}
