//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/triage-dev/triage/diag/faultlab"
)

// The fault lab (DESIGN.md §12, docs/diagnosis.md): real network faults in
// namespaces, and the check triage must name first in its diagnosis. Each
// scenario runs triage doctor and "run connectivity" on the user's machine,
// and "run selfcheck" and "run connectivity" over SSH from an analyst's
// machine, one after another. Adding a scenario is one row below plus its
// fault (a few lines against the faultlab.Lab API).
//
// Runs only as root with ip and nft where namespaces can be made;
// TRIAGE_REQUIRE_NETNS=1 turns the skip into a failure.
// TRIAGE_FAULTLAB_SCORECARD=FILE also writes the scorecard (Markdown) there;
// TRIAGE_FAULTLAB_SHOW=1 logs what doctor printed in each scenario.

// faultScenario is one row: a fault and the cause triage must find.
type faultScenario struct {
	name  string
	fault func(l *faultlab.Lab) error // nil: the healthy lab
	// self is the check that must come first in the diagnosis of doctor
	// (the selfcheck playbook), conn that of "run connectivity"; "" means
	// no check of the lab's sets may be a cause.
	self, conn string
	// alsoSelf and alsoConn are checks the fault really breaks besides the
	// cause, on their own account (the organisation's website sits on the
	// same internet, behind the same port 443): they may follow the cause
	// in the diagnosis, never come before it.
	alsoSelf, alsoConn []string
	// explainsSelf and explainsConn are checks the fault breaks only
	// through the cause: they must be reported blocked by it.
	explainsSelf, explainsConn []string
	// unsteady are checks whose verdict depends on which packets a lossy
	// link happens to drop (a don't-fragment probe that meets the drop
	// looks like a size that does not pass): their local and remote
	// statuses are not compared.
	unsteady []string
}

var faultScenarios = []faultScenario{
	{name: "healthy", self: "", conn: ""},
	{name: "interface down", self: "network", conn: "link", fault: func(l *faultlab.Lab) error {
		return l.IP(l.User, "link", "set", faultlab.UserIface, "down")
	}},
	{name: "no address", self: "network", conn: "link", fault: func(l *faultlab.Lab) error {
		// DHCP failed: only a link-local address is left.
		return errors.Join(
			l.IP(l.User, "addr", "del", faultlab.UserAddr+"/24", "dev", faultlab.UserIface),
			l.IP(l.User, "addr", "add", "169.254.7.7/16", "dev", faultlab.UserIface))
	}},
	{name: "no default route", self: "router", conn: "gateway", fault: func(l *faultlab.Lab) error {
		return l.IP(l.User, "route", "del", "default")
	}},
	{name: "gateway dead", self: "router", conn: "gateway", fault: func(l *faultlab.Lab) error {
		return l.Nft(nftRules(
			[]string{`iifname "` + faultlab.RouterUserIface + `" drop`},
			[]string{`iifname "` + faultlab.RouterUserIface + `" drop`}))
	}},
	{name: "DNS server unreachable", self: "dns-servers", conn: "dns-servers", fault: func(l *faultlab.Lab) error {
		return l.Nft(nftRules([]string{"udp dport 53 drop", "tcp dport 53 drop"}, nil))
	}},
	{name: "DNS server refusing", self: "dns-servers", conn: "dns-servers", fault: func(l *faultlab.Lab) error {
		l.SetDNS(faultlab.DNSBehaviour{Refuse: true})
		return nil
	}},
	{name: "first DNS server dead", self: "dns-servers", conn: "dns-servers", fault: func(l *faultlab.Lab) error {
		// Two servers configured, the first gone (beyond the router,
		// which drops what is sent to it): every lookup waits for it to
		// time out before the second answers.
		return errors.Join(
			l.SetNameservers("203.0.113.53", faultlab.RouterAddr),
			l.Nft(nftRules(nil, []string{"ip daddr 203.0.113.53 drop"})))
	}},
	{name: "DNS server slow", self: "dns-servers", conn: "dns-servers", fault: func(l *faultlab.Lab) error {
		l.SetDNS(faultlab.DNSBehaviour{Delay: 2500 * time.Millisecond})
		return nil
	}},
	{name: "internet down", self: "internet", conn: "internet", alsoSelf: []string{"org-website"}, fault: func(l *faultlab.Lab) error {
		return l.Nft(nftRules(nil, []string{`iifname "` + faultlab.RouterUserIface + `" oifname "` + faultlab.RouterInetIface + `" drop`}))
	}},
	{name: "HTTPS blocked", self: "https", conn: "tcp-public", alsoSelf: []string{"org-website"}, fault: func(l *faultlab.Lab) error {
		return l.Nft(nftRules(nil, []string{"tcp dport 443 drop"}))
	}},
	{name: "proxy dead", self: "proxy", conn: "proxy", fault: func(l *faultlab.Lab) error {
		return l.SetProxy(faultlab.DeadProxyURL)
	}},
	{name: "home full", self: "disk-home", conn: "", fault: func(l *faultlab.Lab) error {
		return l.FillHome(2 << 20)
	}},
	{name: "clock off", self: "clock", conn: "clock", fault: func(l *faultlab.Lab) error {
		l.SetClockOffset(3 * time.Hour)
		return nil
	}},
	{name: "clock behind, certificate too new", self: "clock", conn: "clock",
		explainsSelf: []string{"https", "org-website"}, explainsConn: []string{"https-public"}, fault: func(l *faultlab.Lab) error {
			// The user's clock is three hours behind, and the sites renewed
			// their certificates ten minutes ago: to this machine they are
			// not yet valid, which is the clock's doing.
			l.SetClockOffset(3 * time.Hour)
			return l.ServeFreshCertificate()
		}},
	{name: "packet loss", self: "router", conn: "gateway", fault: func(l *faultlab.Lab) error {
		// No netem in this kernel: the router drops three packets in five
		// of what the user sends it. A counter, not numgen random, so that
		// five pings lose two or three rather than, one run in a dozen,
		// none.
		return l.Nft(nftRules([]string{`iifname "` + faultlab.RouterUserIface + `" numgen inc mod 5 { 0, 2, 4 } drop`}, nil))
	}},
	{name: "stale hosts entry", self: "org-names", conn: "", fault: func(l *faultlab.Lab) error {
		return l.AddHosts("198.51.100.99\tintranet.example.org\n")
	}},
	{name: "org name missing", self: "org-names", conn: "", fault: func(l *faultlab.Lab) error {
		l.SetDNS(faultlab.DNSBehaviour{NXDomain: "intranet.example.org"})
		return nil
	}},
	{name: "DNS filters a name", self: "org-names", conn: "", fault: func(l *faultlab.Lab) error {
		// A DNS filter (parental control, security product) configured
		// first says the organisation's name does not exist; the router's
		// server, second, answers it.
		filter, err := l.StartSecondDNS(faultlab.DNSBehaviour{NXDomain: "intranet.example.org"})
		if err != nil {
			return err
		}
		return l.SetNameservers(filter, faultlab.RouterAddr)
	}},
	{name: "DNS rewrites NXDOMAIN", self: "dns-rewrite", conn: "dns-rewrite", fault: func(l *faultlab.Lab) error {
		// A provider's "search helper": names that do not exist lead to
		// its own page.
		l.SetDNS(faultlab.DNSBehaviour{RewriteNXDomain: "203.0.113.66"})
		return nil
	}},
	{name: "captive portal", self: "captive-portal", conn: "captive-portal", explainsSelf: []string{"https", "org-website"}, fault: func(l *faultlab.Lab) error {
		// Guest Wi-Fi: web requests get a redirect to the login page,
		// HTTPS meets the portal's certificate.
		return l.SetCaptivePortal()
	}},
	{name: "HTTPS intercepted", self: "https", conn: "https-public", alsoSelf: []string{"org-website"}, fault: func(l *faultlab.Lab) error {
		// A security product signs every site with a CA this machine
		// does not trust.
		return l.InterceptHTTPS()
	}},
	{name: "certificate expired", self: "https", conn: "https-public", alsoSelf: []string{"org-website"}, fault: func(l *faultlab.Lab) error {
		return l.ServeExpiredCertificate()
	}},
	{name: "path MTU black hole", self: "path-mtu", conn: "path-mtu", explainsSelf: []string{"https", "org-website"}, fault: func(l *faultlab.Lab) error {
		// A link beyond the router with a smaller MTU, and the ICMP
		// "fragmentation needed" that would say so filtered: packets over
		// 1280 bytes vanish, smaller ones pass.
		return l.Nft(nftRules(nil, []string{"meta length > 1280 drop"}))
	}},
	{name: "loss beyond the router", self: "internet-loss", conn: "internet-loss", unsteady: []string{"path-mtu"}, fault: func(l *faultlab.Lab) error {
		// The provider's network loses three packets in five; the link
		// to the router loses none. Counted, as in "packet loss".
		return l.Nft(nftRules(nil, []string{`iifname "` + faultlab.RouterUserIface + `" numgen inc mod 5 { 0, 2, 4 } drop`}))
	}},
	{name: "proxy asks for a password", self: "proxy", conn: "proxy", fault: func(l *faultlab.Lab) error {
		// The office proxy is up, but answers 407 to a request without
		// a user name and password.
		u, err := l.StartProxy(faultlab.ProxyBehaviour{RequireAuth: true})
		if err != nil {
			return err
		}
		return l.SetProxy(u)
	}},
	{name: "nsswitch leaves out DNS", self: "internet-names", conn: "dns-public", alsoSelf: []string{"org-names"},
		explainsSelf: []string{"internet", "https"}, explainsConn: []string{"internet", "https-public"}, fault: func(l *faultlab.Lab) error {
			// A hardening script rewrote the hosts line of nsswitch.conf to
			// "files": the DNS server answers, programs never ask it.
			return l.SetNsswitchHosts("files")
		}},
	{name: "search domain shadows a name", self: "internet-names", conn: "dns-public",
		explainsSelf: []string{"internet", "https"}, explainsConn: []string{"internet", "https-public"}, fault: func(l *faultlab.Lab) error {
			// The company's search domain has a wildcard record, and ndots:2
			// makes the resolver try example.com.corp.example before
			// example.com: programs reach the intranet server instead.
			l.SetDNS(faultlab.DNSBehaviour{Wildcards: map[string]string{"corp.example": faultlab.IntranetAddr}})
			return l.SetSearch(2, "corp.example")
		}},
	{name: "PAC file missing", self: "proxy", conn: "proxy", fault: func(l *faultlab.Lab) error {
		// The proxy auto-configuration script the settings name is gone
		// from the server (404).
		return l.SetPAC("http://intranet.example.org/wpad.dat")
	}},
	{name: "IPv6 working", self: "", conn: "", fault: func(l *faultlab.Lab) error {
		// Not a fault: IPv6 handed out and working end to end, which the
		// ipv6 check must pass, over SSH too.
		return l.EnableIPv6()
	}},
	{name: "IPv6 broken", self: "ipv6", conn: "ipv6", fault: func(l *faultlab.Lab) error {
		// The provider hands out IPv6 and example.com has an AAAA record,
		// but the router drops IPv6 on the way: IPv4 connects, IPv6 goes
		// nowhere.
		return errors.Join(
			l.EnableIPv6(),
			l.Nft(nftRules(nil, []string{"meta nfproto ipv6 drop"})))
	}},
}

// nftRules is a ruleset for the router: rules in its input and forward
// chains.
func nftRules(input, forward []string) string {
	var b strings.Builder
	b.WriteString("table inet faultlab {\n")
	for _, c := range []struct {
		name  string
		rules []string
	}{{"input", input}, {"forward", forward}} {
		if len(c.rules) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\tchain %s {\n\t\ttype filter hook %s priority 0;\n", c.name, c.name)
		for _, r := range c.rules {
			b.WriteString("\t\t" + r + "\n")
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// The checks the lab can break, per playbook. Only these count as causes;
// checks about the real machine (memory, uptime, pending-restart,
// disk-system, os) are ignored.
var (
	labSelfcheckChecks    = []string{"network", "router", "dns-servers", "internet-names", "dns-rewrite", "org-names", "internet-loss", "path-mtu", "proxy", "internet", "ipv6", "https", "org-website", "captive-portal", "clock", "disk-home"}
	labConnectivityChecks = []string{"link", "gateway", "dns-servers", "dns-public", "dns-rewrite", "internet-loss", "path-mtu", "proxy", "internet", "ipv6", "tcp-public", "https-public", "captive-portal", "clock"}
)

// labVars are the organisation's names, served by the lab.
var labVars = []string{"--var", "org_name=intranet.example.org", "--var", "org_url=https://intranet.example.org/"}

// flReport is the part of a triage.report/v1 report the lab reads.
type flReport struct {
	Schema string   `json:"schema"`
	Hosts  []flHost `json:"hosts"`
}

type flHost struct {
	Target    string     `json:"target"`
	Status    string     `json:"status"`
	Error     string     `json:"error"`
	Results   []flResult `json:"results"`
	Diagnosis *[]flCause `json:"diagnosis"`
}

type flResult struct {
	ID        string   `json:"id"`
	Status    string   `json:"status"`
	Message   string   `json:"message"`
	BlockedBy string   `json:"blocked_by"`
	Needs     []string `json:"needs"`
	Evidence  string   `json:"evidence"`
}

type flCause struct {
	Check    string   `json:"check"`
	Title    string   `json:"title"`
	Status   string   `json:"status"`
	Summary  string   `json:"summary"`
	Explains []string `json:"explains"`
	Hint     string   `json:"hint"`
}

// flRun is one triage run in a scenario.
type flRun struct {
	label    string // "doctor", "connectivity", "remote selfcheck", ...
	remote   bool
	labSet   []string
	want     string
	also     []string // broken too by the fault: may follow want
	explains []string // must be blocked by want
	argv     []string
	outDir   string // doctor: where it saves the reports
	stdout   string
	stderr   string
	code     int
	err      error
	seconds  float64
	host     *flHost
	problems []string
	cause    string // the first cause among the lab's checks, or "-"
}

func TestFaultLab(t *testing.T) {
	faultlab.Require(t)
	if testing.Short() {
		t.Skip("the fault lab takes minutes; not in -short mode")
	}
	remote := faultlab.SSHDAvailable() == nil
	if !remote && os.Getenv("TRIAGE_REQUIRE_SSHD") == "1" {
		t.Fatalf("faultlab: %v (TRIAGE_REQUIRE_SSHD=1)", faultlab.SSHDAvailable())
	}
	started := time.Now()
	bin := buildTriage(t)
	// Scenarios run side by side, each on a lab of its own taken from a
	// pool: most of a scenario is waiting for timeouts, and labs share
	// nothing (namespaces, servers, /etc/netns files are per lab). Within
	// a scenario the runs go one after another (see below).
	const labCount = 6
	pool := make(chan *faultlab.Lab, labCount)
	for range labCount {
		lab := faultlab.New(t)
		pool <- lab
	}
	t.Logf("%d labs built in %.1fs (binary included)", labCount, time.Since(started).Seconds())

	rows := make([]scoreRow, len(faultScenarios))
	// The scorecard is written once every scenario has finished: parallel
	// subtests end after this function returns, and before its cleanups.
	t.Cleanup(func() {
		card := scorecard(rows, remote, time.Since(started))
		t.Log("fault lab scorecard:\n" + card)
		if path := os.Getenv("TRIAGE_FAULTLAB_SCORECARD"); path != "" {
			if err := os.WriteFile(path, []byte(card), 0o644); err != nil {
				t.Errorf("write the scorecard: %v", err)
			}
		}
	})
	for i, sc := range faultScenarios {
		row := scoreRow{scenario: sc.name, wantSelf: orNone(sc.self), wantConn: orNone(sc.conn), unsteady: sc.unsteady}
		t.Run(strings.ReplaceAll(sc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			lab := <-pool
			defer func() { pool <- lab }()
			defer func() { rows[i] = row }()
			if err := lab.Reset(); err != nil {
				t.Fatalf("reset the lab: %v", err)
			}
			if sc.fault != nil {
				if err := sc.fault(lab); err != nil {
					t.Fatalf("apply the fault: %v", err)
				}
			}
			runs := []*flRun{
				{label: "doctor", labSet: labSelfcheckChecks, want: sc.self, also: sc.alsoSelf, explains: sc.explainsSelf, outDir: t.TempDir()},
				{label: "connectivity", labSet: labConnectivityChecks, want: sc.conn, also: sc.alsoConn, explains: sc.explainsConn,
					argv: append([]string{"run", "connectivity", "-o", "json"}, labVars...)},
			}
			runs[0].argv = append([]string{"doctor", "--out", runs[0].outDir}, labVars...)
			if remote {
				if err := lab.StartSSHD(); err != nil {
					t.Fatalf("start sshd on the user's machine: %v", err)
				}
				ssh := []string{"-H", "root@" + lab.RelayAddr, "--host-key-policy", "accept-new", "-F", lab.SSHConfig}
				runs = append(runs,
					&flRun{label: "remote selfcheck", remote: true, labSet: labSelfcheckChecks, want: sc.self, also: sc.alsoSelf, explains: sc.explainsSelf,
						argv: slices.Concat([]string{"run", "selfcheck", "-o", "json"}, ssh, labVars)},
					&flRun{label: "remote connectivity", remote: true, labSet: labConnectivityChecks, want: sc.conn, also: sc.alsoConn, explains: sc.explainsConn,
						argv: slices.Concat([]string{"run", "connectivity", "-o", "json"}, ssh, labVars)})
			}
			// One after another, as a person would run them: two triage
			// processes pinging the router at once count each other's
			// replies (a lossy link then looked clean to one of them).
			for _, r := range runs {
				runTriage(lab, bin, r)
			}

			for _, r := range runs {
				judgeRun(r)
				t.Logf("%s: %s (exit %d, %.1fs)", r.label, r.summary(), r.code, r.seconds)
				if os.Getenv("TRIAGE_FAULTLAB_SHOW") == "1" && r.outDir != "" {
					// What the person at the keyboard reads.
					t.Logf("%s", r.transcript())
				}
				if len(r.problems) > 0 {
					t.Errorf("%s: %s\n%s", r.label, strings.Join(r.problems, "\n"), r.transcript())
					if r.remote && (r.host == nil || r.host.Error != "") {
						t.Logf("sshd log:\n%s", lab.SSHDLog())
					}
				}
			}
			row.fill(runs)
			// Over SSH, the same verdicts as at the keyboard (issue 22):
			// every check of the lab's sets, status by status.
			for _, d := range row.diffDetails {
				t.Errorf("local and remote differ: %s", d)
			}
		})
	}
}

// buildTriage builds the command once for the lab.
func buildTriage(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "triage")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/triage")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/triage: %v\n%s", err, out)
	}
	return bin
}

// runTriage runs one triage command in the lab and decodes its report.
func runTriage(lab *faultlab.Lab, bin string, r *flRun) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append([]string{bin}, r.argv...)
	var cmd *exec.Cmd
	if r.remote {
		cmd = lab.AnalystCommand(ctx, argv...)
	} else {
		cmd = lab.UserCommand(ctx, argv...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r.seconds = time.Since(start).Seconds()
	r.stdout, r.stderr = stdout.String(), stderr.String()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		r.err = err
		return
	}
	if r.code < 0 || r.code > 3 {
		r.err = fmt.Errorf("exit code %d (want a verdict, 0-3)", r.code)
		return
	}
	data := []byte(r.stdout)
	if r.outDir != "" {
		files, _ := filepath.Glob(filepath.Join(r.outDir, "*.json"))
		if len(files) != 1 {
			r.err = fmt.Errorf("doctor saved %d JSON reports in --out, want 1: %v", len(files), files)
			return
		}
		if data, err = os.ReadFile(files[0]); err != nil {
			r.err = err
			return
		}
	}
	var rep flReport
	if err := json.Unmarshal(data, &rep); err != nil {
		r.err = fmt.Errorf("decode the JSON report: %v", err)
		return
	}
	if len(rep.Hosts) != 1 {
		r.err = fmt.Errorf("the report has %d hosts, want 1", len(rep.Hosts))
		return
	}
	r.host = &rep.Hosts[0]
}

// judgeRun checks the diagnosis of one run against the scenario.
func judgeRun(r *flRun) {
	r.cause = "?"
	if r.err != nil {
		r.problems = append(r.problems, r.err.Error())
		return
	}
	h := r.host
	if h.Error != "" {
		r.problems = append(r.problems, "the host could not be checked: "+h.Error)
		return
	}
	// The lab's sshd forwards TCP, to IPv4 and IPv6 alike: a check that
	// fell back to a shell on the target to connect did not run the way
	// it runs against such a server.
	for _, res := range h.Results {
		if r.remote && strings.Contains(res.Evidence, "made by bash on the target") {
			r.problems = append(r.problems, fmt.Sprintf("%s: connected through bash on the target, not through sshd", res.ID))
		}
	}
	if h.Diagnosis == nil {
		if r.want == "" {
			r.cause = "-" // healthy, and nothing claims otherwise
			return
		}
		r.cause = "no diagnosis"
		r.problems = append(r.problems, fmt.Sprintf("no diagnosis in the report (want %s first)", r.want))
		r.problems = append(r.problems, r.resultLines()...)
		return
	}
	var causes []string
	for _, c := range *h.Diagnosis {
		if slices.Contains(r.labSet, c.Check) {
			causes = append(causes, c.Check)
		}
	}
	r.cause = "-"
	if len(causes) > 0 {
		r.cause = causes[0]
	}
	switch {
	case r.want != "" && len(causes) == 0:
		r.problems = append(r.problems, fmt.Sprintf("the diagnosis names none of the lab's checks; want %s first", r.want))
	case r.want != "" && causes[0] != r.want:
		r.problems = append(r.problems, fmt.Sprintf("the diagnosis names %s first; want %s", causes[0], r.want))
	}
	for _, c := range causes {
		if c != r.want && !slices.Contains(r.also, c) {
			r.problems = append(r.problems, fmt.Sprintf("%s is named as a cause; only %s should be", c, orNone(r.want)))
		}
	}
	for _, id := range r.explains {
		i := slices.IndexFunc(h.Results, func(res flResult) bool { return res.ID == id })
		if i < 0 || h.Results[i].BlockedBy != r.want {
			got := "absent"
			if i >= 0 {
				got = fmt.Sprintf("%s, blocked by %q", h.Results[i].Status, h.Results[i].BlockedBy)
			}
			r.problems = append(r.problems, fmt.Sprintf("%s is not put down to %s (%s)", id, r.want, got))
		}
	}
	if len(r.problems) > 0 {
		r.problems = append(r.problems, r.diagnosisLines()...)
		r.problems = append(r.problems, r.resultLines()...)
	}
}

// summary is the first cause and its sentence, for the log.
func (r *flRun) summary() string {
	if r.host == nil || r.host.Diagnosis == nil || len(*r.host.Diagnosis) == 0 {
		return "no cause named"
	}
	c := (*r.host.Diagnosis)[0]
	return fmt.Sprintf("%s [%s] %s", c.Check, c.Status, c.Summary)
}

// diagnosisLines are the report's causes, one a line.
func (r *flRun) diagnosisLines() []string {
	lines := []string{"diagnosis:"}
	for i, c := range *r.host.Diagnosis {
		lines = append(lines, fmt.Sprintf("  %d. %s [%s] %s (explains %s)", i+1, c.Check, c.Status, c.Summary, strings.Join(c.Explains, ",")))
	}
	return lines
}

// resultLines are the lab's checks with their status and message.
func (r *flRun) resultLines() []string {
	lines := []string{"results:"}
	for _, res := range r.host.Results {
		if !slices.Contains(r.labSet, res.ID) {
			continue
		}
		blocked := ""
		if res.BlockedBy != "" {
			blocked = " (blocked by " + res.BlockedBy + ")"
		}
		lines = append(lines, fmt.Sprintf("  %-15s %-5s %s%s", res.ID, res.Status, res.Message, blocked))
	}
	return lines
}

// transcript is what triage printed, for a failure message.
func (r *flRun) transcript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- triage %s (exit %d, %.1fs)\n", strings.Join(r.argv, " "), r.code, r.seconds)
	if r.host == nil || r.outDir != "" {
		fmt.Fprintf(&b, "stdout:\n%s\n", r.stdout)
	}
	fmt.Fprintf(&b, "stderr:\n%s", r.stderr)
	return b.String()
}

func (r *flRun) statuses() map[string]string {
	m := map[string]string{}
	if r.host != nil {
		for _, res := range r.host.Results {
			if slices.Contains(r.labSet, res.ID) {
				m[res.ID] = res.Status
			}
		}
	}
	return m
}

// message is what a check said, for a failure message.
func (r *flRun) message(id string) string {
	if r.host != nil {
		for _, res := range r.host.Results {
			if res.ID == id {
				return res.Message
			}
		}
	}
	return ""
}

func (r *flRun) blocked() []string {
	var ids []string
	if r.host != nil {
		for _, res := range r.host.Results {
			if res.BlockedBy != "" {
				ids = append(ids, res.ID)
			}
		}
	}
	return ids
}

// scoreRow is a scenario's line of the scorecard.
type scoreRow struct {
	scenario, wantSelf, wantConn string
	local, remote                string // "selfcheck cause / connectivity cause"
	ok                           bool
	blocked                      string
	secLocal, secRemote          float64
	diffs                        []string
	diffDetails                  []string // diffs with each side's message
	unsteady                     []string
}

func (row *scoreRow) fill(runs []*flRun) {
	mark := func(r *flRun) string {
		if len(r.problems) == 0 {
			return r.cause + " ✓"
		}
		return r.cause + " ✗"
	}
	row.ok = true
	for _, r := range runs {
		row.ok = row.ok && len(r.problems) == 0
	}
	row.local = mark(runs[0]) + " / " + mark(runs[1])
	row.secLocal = runs[0].seconds + runs[1].seconds
	row.blocked = strings.Join(runs[0].blocked(), ",")
	if row.blocked == "" {
		row.blocked = "-"
	}
	if len(runs) < 4 {
		row.remote = "n/a"
		return
	}
	row.remote = mark(runs[2]) + " / " + mark(runs[3])
	row.secRemote = runs[2].seconds + runs[3].seconds
	for _, pair := range [][2]*flRun{{runs[0], runs[2]}, {runs[1], runs[3]}} {
		local, remote := pair[0].statuses(), pair[1].statuses()
		var ids []string
		for id := range local {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if local[id] != remote[id] && !slices.Contains(row.unsteady, id) {
				what := strings.TrimPrefix(pair[1].label, "remote ")
				row.diffs = append(row.diffs, fmt.Sprintf("%s %s: %s here, %s remote", what, id, local[id], orNone(remote[id])))
				row.diffDetails = append(row.diffDetails, fmt.Sprintf("%s %s: %s here (%s), %s remote (%s)", what, id,
					local[id], pair[0].message(id), orNone(remote[id]), pair[1].message(id)))
			}
		}
	}
}

func scorecard(rows []scoreRow, remote bool, took time.Duration) string {
	var b strings.Builder
	b.WriteString("| scenario | expected cause (selfcheck / connectivity) | named locally (doctor / connectivity) | named remotely (selfcheck / connectivity) | blocked (doctor) | s local | s remote | local ≠ remote |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --: | --: | --- |\n")
	passed := 0
	for _, r := range rows {
		if r.ok {
			passed++
		}
		diffs := "-"
		if len(r.diffs) > 0 {
			short := make([]string, 0, len(r.diffs))
			for _, d := range r.diffs {
				short = append(short, strings.NewReplacer(" here, ", "→", " remote", "").Replace(d))
			}
			diffs = fmt.Sprintf("%d: %s", len(r.diffs), strings.Join(short, "; "))
		}
		remoteSec := "-"
		if remote {
			remoteSec = fmt.Sprintf("%.1f", r.secRemote)
		}
		fmt.Fprintf(&b, "| %s | %s / %s | %s | %s | %s | %.1f | %s | %s |\n",
			r.scenario, r.wantSelf, r.wantConn, r.local, r.remote, r.blocked, r.secLocal, remoteSec, diffs)
	}
	fmt.Fprintf(&b, "\n%d of %d scenarios pass; the lab took %.0fs.\n", passed, len(rows), took.Seconds())
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
