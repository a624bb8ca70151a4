package netcheck

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "interface",
		Summary: "Checks that a network interface other than loopback is connected and has an address from the network.",
		New:     func() diag.Checker { return &Interface{Ignore: defaultIgnoredInterfaces} },
		Examines: func(diag.Result) []diag.Prerequisite {
			return []diag.Prerequisite{{What: diag.PrereqLink}}
		},
	})
}

// defaultIgnoredInterfaces are interfaces that are up, often with an
// address, on a machine with no network at all, so counting them would hide
// a disconnected laptop: bridges of container and virtual-machine software,
// VPN tunnels (which ride on another interface), and macOS's own
// peer-to-peer and tunnel interfaces.
var defaultIgnoredInterfaces = []string{
	"docker*", "br-*", "veth*", "virbr*", "vboxnet*", "vmnet*", "lxcbr*", "lxdbr*", "cni*", "flannel*",
	"tun*", "wg*", "tailscale*", "zt*",
	"awdl*", "llw*", "utun*", "anpi*", "bridge*", "gif*", "stf*", "ap[0-9]*",
	"vEthernet (WSL*)", "vEthernet (Default Switch)",
}

// Interface checks that the target is connected to a network: an
// interface is up, has a link, and has an address that is not
// self-assigned.
type Interface struct {
	Name   string   `yaml:"name" doc:"the interface that must be connected, such as eth0, en0 or Wi-Fi; by default any interface but loopback and those in ignore will do"`
	Ignore []string `yaml:"ignore" doc:"interface names to leave out, as shell patterns (default: the bridges of Docker, libvirt, VirtualBox, VMware and WSL, which have addresses with no network behind them)"`
}

func (c *Interface) Validate() error {
	var errs []error
	if strings.ContainsAny(c.Name, "/\n") {
		errs = append(errs, diag.FieldErrorf("name", "%q is not an interface name", c.Name))
	}
	for i, p := range c.Ignore {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			errs = append(errs, diag.FieldErrorf("ignore", "item %d %q is not a name pattern such as docker* or vmnet?", i+1, p))
		}
	}
	return errors.Join(errs...)
}

func (c *Interface) Run(ctx context.Context, t diag.Target) diag.Result {
	ifs, evidence, r, ok := listInterfaces(ctx, t)
	if !ok {
		return r
	}
	return c.judge(ifs, evidence)
}

// listInterfaces asks the target for its interfaces: natively where it
// can list them, else with ip(8) on Linux. When it cannot, ok is false
// and r says why.
func listInterfaces(ctx context.Context, t diag.Target) (ifs []diag.NetInterface, evidence string, r diag.Result, ok bool) {
	if l, isLister := t.(diag.InterfaceLister); isLister {
		ifs, err := l.Interfaces(ctx)
		if err != nil {
			return nil, "", diag.Resultf(diag.Error, "cannot list the network interfaces of %s: %v", where(t), err).
				WithHint("the system would not list its interfaces; the message says why"), false
		}
		return ifs, "", diag.Result{}, true
	}
	facts, err := t.Facts(ctx)
	if err == nil && facts.OS != "" && facts.OS != "linux" {
		return nil, "", diag.Resultf(diag.Skip, "triage lists the interfaces of another machine only on Linux; %s runs %s", t.Name(), facts.OS).
			WithHint("run triage on that machine itself for this check"), false
	}
	var outs [2][]byte
	for i, argv := range [][]string{{"ip", "-o", "link", "show"}, {"ip", "-o", "addr", "show"}} {
		res, err := t.Run(ctx, diag.Command{Argv: argv, MaxOutput: 1 << 20})
		switch {
		case errors.Is(err, diag.ErrCommandNotFound):
			return nil, "", diag.Resultf(diag.Error, "cannot list the network interfaces of %s: it has no ip command", where(t)).
				WithHint("install iproute2 on the target, which provides ip"), false
		case err != nil:
			return nil, "", diag.Resultf(diag.Error, "cannot run %s: %v", strings.Join(argv, " "), err).
				WithHint("the ip command could not be started; the message says why"), false
		case res.ExitCode != 0:
			return nil, "", diag.Resultf(diag.Error, "%s exited %d: %s", strings.Join(argv, " "), res.ExitCode, strings.TrimSpace(string(res.Stderr))).
				WithHint("the ip command failed; its message says why"), false
		}
		outs[i] = res.Stdout
	}
	ifs = joinIP(parseIPLink(outs[0]), parseIPAddr(outs[1]))
	if len(ifs) == 0 {
		return nil, "", diag.Result{Status: diag.Error, Message: "could not read the output of ip -o link show", Evidence: string(outs[0])}.
			WithHint("this ip prints interfaces in a form triage does not know; the output is in the evidence"), false
	}
	return ifs, string(outs[0]) + string(outs[1]), diag.Result{}, true
}

// routable reports whether an address can carry traffic beyond the link:
// not loopback, not link-local (169.254.0.0/16 is what a machine gives
// itself when no DHCP server answers) and not unspecified.
func routable(a netip.Addr) bool {
	return a.IsValid() && !a.IsLoopback() && !a.IsLinkLocalUnicast() && !a.IsUnspecified() && !a.IsMulticast()
}

func (c *Interface) ignored(name string) bool {
	if c.Name != "" {
		return name != c.Name
	}
	for _, p := range c.Ignore {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func describeInterface(ni diag.NetInterface) map[string]any {
	addrs := make([]string, 0, len(ni.Addrs))
	for _, a := range ni.Addrs {
		addrs = append(addrs, a.String())
	}
	return map[string]any{"name": ni.Name, "up": ni.Up, "running": ni.Running, "addresses": addrs}
}

func (c *Interface) judge(ifs []diag.NetInterface, evidence string) diag.Result {
	listed, connected := []map[string]any{}, []string{}
	var linkLocalOnly, noAddress, down, shown []string
	// macOS keeps an interface RUNNING while its Wi-Fi is off, so "up
	// with a link" is not trusted to mean connected: only an address is.
	for _, ni := range ifs {
		if ni.Loopback || c.ignored(ni.Name) {
			continue
		}
		listed = append(listed, describeInterface(ni))
		if !ni.Up || !ni.Running {
			down = append(down, ni.Name)
			continue
		}
		var good []string
		linkLocal := false
		for _, a := range ni.Addrs {
			switch {
			case routable(a.Addr()):
				good = append(good, a.Addr().String())
			case a.Addr().Is4() && a.Addr().IsLinkLocalUnicast():
				linkLocal = true
			}
		}
		switch {
		case len(good) > 0:
			connected = append(connected, ni.Name)
			shown = append(shown, fmt.Sprintf("%s (%s)", ni.Name, listValues(good, 2)))
		case linkLocal:
			linkLocalOnly = append(linkLocalOnly, ni.Name)
		default:
			noAddress = append(noAddress, ni.Name)
		}
	}
	r := diag.Result{Evidence: evidence}.With("interfaces", listed).With("connected", connected)
	switch {
	case len(connected) > 0:
		r.Status = diag.Pass
		r.Message = "connected: " + strings.Join(shown, ", ")
		return r
	case len(linkLocalOnly) > 0:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("%s is connected but got no address from the network, only a self-assigned 169.254.x.x one", strings.Join(linkLocalOnly, " and "))
		r.Hint = "the network's DHCP server did not answer: restart the router or reconnect to the network; on a corporate network the port may need to be enabled for this machine"
	case c.Name != "" && len(listed) == 0:
		r.Status = diag.Fail
		r.Message = fmt.Sprintf("there is no interface called %s", c.Name)
		r.Hint = "check the interface name in the playbook; the interfaces this machine has are in the evidence"
	case len(down)+len(noAddress) > 0:
		var why []string
		if len(down) > 0 {
			why = append(why, fmt.Sprintf("%s %s unplugged or switched off", listValues(down, 4), pluralVerb(len(down))))
		}
		if len(noAddress) > 0 {
			verb := "has"
			if len(noAddress) > 1 {
				verb = "have"
			}
			why = append(why, fmt.Sprintf("%s %s no address", listValues(noAddress, 4), verb))
		}
		r.Status = diag.Fail
		r.Message = "not connected to any network: " + strings.Join(why, "; ")
		r.Hint = "plug in the network cable or join a Wi-Fi network, check that flight mode is off, and that the network settings get their address automatically (DHCP)"
	default:
		r.Status = diag.Fail
		r.Message = "not connected to any network: there is no network interface besides loopback"
		r.Hint = "this machine has no network adapter that is switched on: check that Wi-Fi or Ethernet is enabled and its driver installed"
	}
	return r
}

func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
