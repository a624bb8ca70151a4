package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/triage-dev/triage/playbooks"
	"github.com/triage-dev/triage/remote"
	"github.com/triage-dev/triage/reports"
)

// maxParallelHosts bounds how many hosts 'run -H' checks at once; sweeps
// have their own, larger setting.
const maxParallelHosts = 16

func addSSHFlags(f *pflag.FlagSet, opts *runOptions) {
	f.StringArrayVarP(&opts.Hosts, "host", "H", nil, "run on `[user@]host[:port]` over SSH instead of here; repeatable or comma-separated")
	f.StringVarP(&opts.SSH.ConfigFile, "ssh-config", "F", "", "read this ssh_config `FILE` instead of ~/.ssh/config")
	f.StringVarP(&opts.SSH.User, "login", "l", "", "log in as `USER` on hosts that do not name one")
	f.IntVarP(&opts.SSH.Port, "port", "p", 0, "connect to `PORT` on hosts that do not name one (default 22 or ssh_config)")
	f.StringArrayVarP(&opts.SSH.IdentityFiles, "identity", "i", nil, "try this private key `FILE` first; repeatable")
	f.StringVarP(&opts.SSH.ProxyJump, "jump", "J", "", "reach the hosts through these jump `HOSTS` (comma-separated, like ssh -J)")
	f.StringVar(&opts.HostKeyPolicy, "host-key-policy", "", "unknown host keys: strict (refuse) or accept-new (record them); changed keys are always refused (default: ssh_config StrictHostKeyChecking, else strict)")
	f.DurationVar(&opts.SSH.ConnectTimeout, "connect-timeout", 0, "time limit to connect to each host and each jump host (default 10s or ssh_config ConnectTimeout)")
	f.DurationVar(&opts.HostTimeout, "host-timeout", 5*time.Minute, "time limit for everything on one host: connecting and every check")
}

// runRemote checks each host over SSH, several at once, and returns their
// reports in the order the hosts were given.
func runRemote(ctx context.Context, opts *runOptions, hosts []string, pbs []*playbooks.Playbook, sel playbooks.Selection, now func() time.Time) ([]reports.Host, error) {
	if opts.HostKeyPolicy != "" {
		p, err := remote.ParseHostKeyPolicy(opts.HostKeyPolicy)
		if err != nil {
			return nil, usageErrorf("", "--host-key-policy: %v", err)
		}
		opts.SSH.HostKeyPolicy = p
	}
	for _, h := range hosts {
		if _, err := remote.ParseSpec(h); err != nil {
			return nil, usageErrorf("write hosts as [user@]host[:port]", "-H %v", err)
		}
	}
	if opts.HostTimeout <= 0 {
		return nil, usageErrorf("", "--host-timeout must be positive")
	}
	if opts.SSH.Prompter == nil && term.IsTerminal(int(os.Stdin.Fd())) {
		opts.SSH.Prompter = ttyPrompter{io: opts.io}
	}
	dialer, err := remote.NewDialer(opts.SSH)
	if err != nil {
		return nil, invalidInput(err, "fix the file, or choose another with -F")
	}
	defer dialer.Close()

	hr := &hostRunner{
		sel: sel, checkParallel: opts.Parallel, checkTimeout: opts.Timeout, hostTimeout: opts.HostTimeout,
		now: now, dialer: dialer,
	}
	jobs := make([]hostJob, len(hosts))
	for i, h := range hosts {
		jobs[i] = hostJob{Spec: h, Playbooks: pbs}
	}
	return hr.runAll(ctx, jobs, maxParallelHosts), nil
}

// trimHost drops the "host: " prefix of a message already shown under the host.
func trimHost(msg, host string) string {
	if len(msg) > len(host)+2 && msg[:len(host)+2] == host+": " {
		return msg[len(host)+2:]
	}
	return msg
}

// ttyPrompter asks on the terminal, with echo off, for passwords and
// passphrases.
type ttyPrompter struct{ io *streams }

func (p ttyPrompter) Secret(prompt string) (string, error) {
	fmt.Fprint(p.io.Err, prompt)
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(p.io.Err)
	return string(b), err
}
