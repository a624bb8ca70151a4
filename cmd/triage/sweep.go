package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/triage-dev/triage/diag"
	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote"
	"github.com/triage-dev/triage/reports"
)

type sweepOptions struct {
	runOptions

	Inventory string
	Limit     string
	Hosts     []string
	HostsPar  int
	Out       string
	History   string
	Keep      int
	NotifyURL string
	Shard     string
}

func newSweepCmd(io *streams, runF func(context.Context, *sweepOptions) error) *cobra.Command {
	opts := &sweepOptions{runOptions: runOptions{io: io}}
	cmd := &cobra.Command{
		Use:   "sweep -i INVENTORY [PLAYBOOK...]",
		Short: "Check many hosts over SSH in parallel and summarise the fleet",
		Long: `Check every host of an inventory over SSH, many at once, each within a
deadline, and summarise: hosts by status, the checks failing on the most
hosts, the hosts that could not be checked and why.

The inventory is triage's own YAML, or an Ansible inventory (INI or YAML).
Without PLAYBOOK, each host runs the playbooks its inventory names, or
"standard". With --history, each sweep's report is kept and the summary
says what got worse and what got better since the last one.

stdout gets the summary (-o text) or the whole report in another format;
--out DIR writes sweep.json, sweep.html, sweep.xml (JUnit) and sweep.prom.
The exit code is that of the worst status, as for run.`,
		Example: `  triage sweep -i hosts.yaml
  triage sweep -i inventory.ini disk --limit 'web*,!web9' --parallel 64
  triage sweep -i hosts.yaml standard --out /var/lib/triage/last --history /var/lib/triage/history
  triage sweep -i hosts.yaml --shard 2/4 -o json > shard-2.json   # then: triage report merge shard-*.json`,
		ValidArgsFunction: completePlaybooks,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Playbooks = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return sweepRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Inventory, "inventory", "i", "", "the hosts to check: an inventory `FILE` (triage YAML, Ansible INI or YAML)")
	f.StringArrayVarP(&opts.Hosts, "host", "H", nil, "check these `[user@]host[:port]` instead of an inventory; repeatable or comma-separated")
	f.StringVar(&opts.Limit, "limit", "", "only hosts matching these `PATTERNS`: names, groups or globs, comma-separated; !x leaves out, &x requires")
	f.IntVar(&opts.HostsPar, "parallel", 32, "how many hosts are checked at once")
	f.StringVarP(&opts.Format, "format", "o", "text", "stdout: the sweep summary (text), or the whole report as "+strings.Join(reports.Formats(), ", "))
	f.StringArrayVar(&opts.Reports, "report", nil, "also write the report to `FILE`, format from its extension; repeatable")
	f.StringVar(&opts.Out, "out", "", "write sweep.json, sweep.html, sweep.xml and sweep.prom into `DIR`")
	f.StringVar(&opts.History, "history", "", "keep each sweep's report in `DIR` and say what changed since the last one")
	f.IntVar(&opts.Keep, "keep", 30, "how many reports --history keeps")
	f.StringVar(&opts.NotifyURL, "notify-url", "", "POST a JSON summary to `URL` when something got worse since the last sweep (needs --history)")
	f.StringVar(&opts.Shard, "shard", "", "check only shard `K/N` of the hosts, split the same way every time (merge with 'triage report merge')")
	f.StringArrayVar(&opts.Vars, "var", nil, "set a playbook variable for every host, as `NAME=VALUE`; repeatable")
	f.StringSliceVar(&opts.Tags, "tags", nil, "run only checks with one of these `TAGS`")
	f.StringSliceVar(&opts.Only, "only", nil, "run only the checks with these `IDS`")
	f.DurationVar(&opts.Timeout, "check-timeout", diag.DefaultCheckTimeout, "time limit for a check that sets none of its own")
	f.StringVar(&opts.Ticket, "ticket", "", "stamp the report with a ticket `ID`; with --send, add it to that ticket")
	f.StringVar(&opts.Send, "send", "", "send the report to the destination `NAME` of the config file (see 'triage send --help')")
	addRedactFlags(f, &opts.Redact, &opts.Anonymize)
	f.StringVar(&opts.Bundle, "bundle", "", "write a support bundle to `FILE.tar.gz`: reports, evidence and collected files, redacted")
	f.StringVarP(&opts.SSH.ConfigFile, "ssh-config", "F", "", "read this ssh_config `FILE` instead of ~/.ssh/config")
	f.StringVarP(&opts.SSH.User, "login", "l", "", "log in as `USER` on hosts that do not name one")
	f.IntVarP(&opts.SSH.Port, "port", "p", 0, "connect to `PORT` on hosts that do not name one")
	f.StringArrayVar(&opts.SSH.IdentityFiles, "identity", nil, "try this private key `FILE` first; repeatable")
	f.StringVarP(&opts.SSH.ProxyJump, "jump", "J", "", "reach the hosts through these jump `HOSTS`")
	f.StringVar(&opts.HostKeyPolicy, "host-key-policy", "", "unknown host keys: strict or accept-new; changed keys are always refused")
	f.DurationVar(&opts.SSH.ConnectTimeout, "connect-timeout", 0, "time limit to connect to each host (default 10s or ssh_config ConnectTimeout)")
	f.DurationVar(&opts.HostTimeout, "host-timeout", 2*time.Minute, "time limit for everything on one host; a host past it is reported and left")
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return reports.Formats(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// sweepOutputs are the files --out writes, by extension.
var sweepOutputs = []string{"sweep.json", "sweep.html", "sweep.xml", "sweep.prom"}

func sweepRun(ctx context.Context, opts *sweepOptions) error {
	if err := opts.validate(); err != nil {
		return err
	}
	hosts, err := opts.hosts()
	if err != nil {
		return err
	}
	vars, err := parseVars(opts.Vars)
	if err != nil {
		return err
	}
	jobs, pbs, err := opts.jobs(hosts, vars)
	if err != nil {
		return err
	}
	sel := playbooks.Selection{Tags: opts.Tags, Only: opts.Only}
	if err := sel.Check(pbs); err != nil {
		return usageErrorf("'triage playbook show NAME' lists a playbook's checks", "%v", err)
	}
	redactor, err := newRedactor(opts.Redact, pbs, opts.Anonymize)
	if err != nil {
		return err
	}
	var dest *sendTarget
	if opts.Send != "" {
		if dest, err = openDestination(opts.Send, os.Getenv); err != nil {
			return err
		}
	}
	if opts.HostKeyPolicy != "" {
		p, err := remote.ParseHostKeyPolicy(opts.HostKeyPolicy)
		if err != nil {
			return usageErrorf("", "--host-key-policy: %v", err)
		}
		opts.SSH.HostKeyPolicy = p
	}
	// A sweep never stops to ask for a password: there may be hundreds.
	opts.SSH.Prompter = nil
	dialer, err := remote.NewDialer(opts.SSH)
	if err != nil {
		return invalidInput(err, "fix the file, or choose another with -F")
	}
	defer dialer.Close()

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	rep := newReport(pbs, now(), opts.Ticket)
	bar := newSweepProgress(opts.io, len(jobs))
	hr := &hostRunner{
		sel: sel, checkParallel: diag.DefaultParallel, checkTimeout: opts.Timeout, hostTimeout: opts.HostTimeout,
		now: now, dialer: dialer, hostDone: bar.done,
	}
	rep.Hosts = hr.runAll(ctx, jobs, opts.HostsPar)
	bar.finish()
	rep.Finish(now())
	if ctx.Err() != nil {
		opts.io.warnf("interrupted: hosts not finished are reported as cancelled")
	}
	// Secrets never reach a report, nor the history, nor a webhook.
	redactor.Redact(rep)

	var since *reports.Delta
	if opts.History != "" {
		since, err = keepHistory(opts, rep)
		if err != nil {
			opts.io.warnf("history: %v", err)
		}
	}

	if opts.Format == "text" {
		err = reports.WriteSweepSummary(opts.io.Out, rep, since, reports.Options{Color: opts.io.color()})
	} else {
		rd, _ := reports.Lookup(opts.Format)
		err = rd.Render(opts.io.Out, rep, reports.Options{Color: opts.io.color()})
	}
	if err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing the report: %w", err)}
	}
	paths := append([]string(nil), opts.Reports...)
	if opts.Out != "" {
		if err := os.MkdirAll(opts.Out, 0o755); err != nil {
			return &exitCodeError{code: exitError, err: fmt.Errorf("--out: %w", err)}
		}
		for _, name := range sweepOutputs {
			if _, err := reports.ForFile(name); err == nil {
				paths = append(paths, filepath.Join(opts.Out, name))
			}
		}
	}
	if err := writeReports(opts.io, paths, rep); err != nil {
		return err
	}
	if err := writeBundle(opts.io, opts.Bundle, rep); err != nil {
		return err
	}
	if err := sendReport(ctx, opts.io, dest, rep, redactor, opts.Ticket, opts.Bundle); err != nil {
		return err
	}
	if since != nil && since.GotWorse && opts.NotifyURL != "" {
		if err := notify(ctx, opts.NotifyURL, rep, since); err != nil {
			opts.io.warnf("--notify-url: %v", err)
		}
	}
	if code := statusExit(rep.Summary.Status); code != exitPass {
		return &exitCodeError{code: code}
	}
	return nil
}

func (opts *sweepOptions) validate() error {
	if err := checkBundlePath(opts.Bundle); err != nil {
		return err
	}
	if err := checkRedactFlags(opts.Redact); err != nil {
		return err
	}
	if _, ok := reports.Lookup(opts.Format); !ok {
		return usageErrorf("formats: "+strings.Join(reports.Formats(), ", "), "unknown format %q", opts.Format)
	}
	for _, path := range opts.Reports {
		if _, err := reports.ForFile(path); err != nil {
			return usageErrorf("", "--report %v", err)
		}
	}
	switch {
	case opts.Inventory == "" && len(opts.Hosts) == 0:
		return usageErrorf("for example: triage sweep -i hosts.yaml, or triage sweep -H web1,web2", "sweep needs hosts: an inventory (-i FILE) or a list (-H)")
	case opts.Inventory != "" && len(opts.Hosts) > 0:
		return usageErrorf("", "give an inventory (-i) or hosts (-H), not both")
	case opts.HostsPar < 1:
		return usageErrorf("", "--parallel must be at least 1, got %d", opts.HostsPar)
	case opts.HostTimeout <= 0:
		return usageErrorf("", "--host-timeout must be positive")
	case opts.Keep < 1:
		return usageErrorf("", "--keep must be at least 1, got %d", opts.Keep)
	case opts.NotifyURL != "" && opts.History == "":
		return usageErrorf("--notify-url tells what got worse since the last sweep, which --history DIR remembers", "--notify-url needs --history")
	}
	if opts.NotifyURL != "" {
		u, err := url.Parse(opts.NotifyURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("", "--notify-url %q is not an http or https URL", opts.NotifyURL)
		}
	}
	if opts.Shard != "" {
		if _, _, err := parseShard(opts.Shard); err != nil {
			return usageErrorf("write --shard K/N, such as --shard 2/4", "--shard %q: %v", opts.Shard, err)
		}
	}
	return nil
}

func parseShard(s string) (k, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return 0, 0, errors.New("want K/N with 1 <= K <= N")
	}
	return k, n, nil
}

// inShard places a host in one of n shards by a hash of its name, so a
// host stays in its shard when others are added or removed.
func inShard(name string, k, n int) bool {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32()%uint32(n)) == k-1
}

// hosts reads the inventory (or -H) and applies --limit and --shard.
func (opts *sweepOptions) hosts() ([]*remote.InventoryHost, error) {
	var hosts []*remote.InventoryHost
	if opts.Inventory != "" {
		inv, err := remote.LoadInventory(opts.Inventory)
		if err != nil {
			var list remote.InventoryErrors
			if errors.As(err, &list) {
				return nil, invalidInput(err, "fix the mistakes above; docs/sweeps.md describes the inventory formats")
			}
			return nil, invalidInput(err, "")
		}
		if hosts, err = inv.Select(opts.Limit); err != nil {
			return nil, usageErrorf("patterns are host or group names or globs: web*,!web9", "%v", err)
		}
	} else {
		for _, spec := range remote.SplitHosts(opts.Hosts) {
			if _, err := remote.ParseSpec(spec); err != nil {
				return nil, usageErrorf("write hosts as [user@]host[:port]", "-H %v", err)
			}
			hosts = append(hosts, &remote.InventoryHost{Name: spec, Address: spec})
		}
		if opts.Limit != "" {
			inv := &remote.Inventory{Hosts: hosts}
			var err error
			if hosts, err = inv.Select(opts.Limit); err != nil {
				return nil, usageErrorf("", "%v", err)
			}
		}
	}
	if opts.Shard != "" {
		k, n, _ := parseShard(opts.Shard)
		var mine []*remote.InventoryHost
		for _, h := range hosts {
			if inShard(h.Name, k, n) {
				mine = append(mine, h)
			}
		}
		hosts = mine
	}
	if len(hosts) == 0 {
		return nil, usageErrorf("", "no host to check after --limit and --shard")
	}
	return hosts, nil
}

// jobs decides what runs on each host and loads each playbook once.
func (opts *sweepOptions) jobs(hosts []*remote.InventoryHost, vars map[string]string) ([]hostJob, []*playbooks.Playbook, error) {
	hostVars := map[string]bool{}
	for _, h := range hosts {
		for k := range h.Vars {
			hostVars[k] = true
		}
	}
	names := make([]string, 0, len(hostVars))
	for k := range hostVars {
		names = append(names, k)
	}
	sort.Strings(names)
	loadOpts := playbooks.Options{Vars: vars, HostVars: names}

	loaded := map[string]*playbooks.Playbook{}
	var order []*playbooks.Playbook
	load := func(wanted []string) ([]*playbooks.Playbook, error) {
		var missing []string
		for _, name := range wanted {
			if _, ok := loaded[name]; !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			pbs, err := loadPlaybooks(missing, loadOpts)
			if err != nil {
				return nil, err
			}
			for i, pb := range pbs {
				loaded[missing[i]] = pb
				order = append(order, pb)
			}
		}
		out := make([]*playbooks.Playbook, len(wanted))
		for i, name := range wanted {
			out[i] = loaded[name]
		}
		return out, nil
	}

	jobs := make([]hostJob, len(hosts))
	for i, h := range hosts {
		wanted := opts.Playbooks
		if len(wanted) == 0 {
			wanted = h.Playbooks
		}
		if len(wanted) == 0 {
			wanted = []string{"standard"}
		}
		pbs, err := load(wanted)
		if err != nil {
			return nil, nil, err
		}
		name := h.Name
		jobs[i] = hostJob{Name: name, Spec: h.Spec(), Vars: h.Vars, Playbooks: pbs}
	}
	return jobs, order, nil
}

// keepHistory saves this sweep's report, prunes old ones and compares
// with the one before.
func keepHistory(opts *sweepOptions, rep *reports.Report) (*reports.Delta, error) {
	if err := os.MkdirAll(opts.History, 0o755); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(opts.History, "sweep-*.json"))
	sort.Strings(files)
	var since *reports.Delta
	if len(files) > 0 {
		prev := files[len(files)-1]
		f, err := os.Open(prev)
		if err == nil {
			old, rerr := reports.Read(f)
			f.Close()
			if rerr == nil {
				since = reports.Diff(old, rep)
			} else {
				opts.io.warnf("history: %s is not a report (%v); comparing with nothing", prev, rerr)
			}
		}
	}
	name := filepath.Join(opts.History, "sweep-"+rep.Started.UTC().Format("20060102T150405.000Z")+".json")
	if err := reports.WriteFile(name, rep, reports.Options{}); err != nil {
		return since, err
	}
	files = append(files, name)
	for len(files) > opts.Keep {
		os.Remove(files[0])
		files = files[1:]
	}
	return since, nil
}

// notify tells a webhook what got worse.
func notify(ctx context.Context, target string, rep *reports.Report, d *reports.Delta) error {
	body, err := json.Marshal(struct {
		Schema  string           `json:"schema"`
		Status  diag.Status      `json:"status"`
		Summary reports.Summary  `json:"summary"`
		Worse   []reports.Change `json:"worse"`
		Better  []reports.Change `json:"better"`
	}{"triage.sweep-notify/v1", rep.Summary.Status, rep.Summary, d.Worse, d.Better})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s answered %s", redactURL(target), resp.Status)
	}
	return nil
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

// sweepProgress shows one line of counts on a terminal's stderr, and
// nothing when stderr is a file or a pipe (a cron job's log stays clean).
type sweepProgress struct {
	io       *streams
	total    int
	finished int
	counts   map[string]int
	on       bool
}

func newSweepProgress(io *streams, total int) *sweepProgress {
	return &sweepProgress{io: io, total: total, counts: map[string]int{}, on: io.ErrIsTTY}
}

func (p *sweepProgress) done(h reports.Host) {
	p.finished++
	switch {
	case h.Error != "":
		p.counts["unreachable"]++
	default:
		st := diag.Pass
		for _, r := range h.Results {
			st = diag.Worst(st, r.Status)
		}
		if st == diag.Skip {
			st = diag.Pass
		}
		p.counts[string(st)]++
	}
	if !p.on {
		return
	}
	fmt.Fprintf(p.io.Err, "\r\x1b[Ktriage: %d/%d hosts · %d pass · %d warn · %d fail · %d error · %d unreachable",
		p.finished, p.total, p.counts["pass"], p.counts["warn"], p.counts["fail"], p.counts["error"], p.counts["unreachable"])
}

func (p *sweepProgress) finish() {
	if p.on && p.finished > 0 {
		fmt.Fprint(p.io.Err, "\r\x1b[K")
	}
}
