package main

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/triage-dev/triage/remote"
)

// Shell completion. Cobra's 'triage completion bash|zsh|fish|powershell'
// writes the scripts; they call back into 'triage __complete', which
// answers from the functions below: built-in playbook names (run.go),
// formats, host names from ~/.ssh/config and from the inventory given
// with -i, host key policies, and --limit's groups and hosts.

// addCompletions registers the completion of flags that several commands
// share, wherever they appear, so that a command added later gets them too.
func addCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		register := func(name string, fn cobra.CompletionFunc) {
			if c.Flags().Lookup(name) == nil {
				return
			}
			if _, exists := c.GetFlagCompletionFunc(name); exists {
				return
			}
			_ = c.RegisterFlagCompletionFunc(name, fn)
		}
		register("format", completeFormats)
		register("host", completeHosts)
		register("host-key-policy", completeHostKeyPolicy)
		register("limit", completeLimit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func completeHostKeyPolicy(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{
		string(remote.Strict) + "\trefuse hosts not in known_hosts",
		string(remote.AcceptNew) + "\trecord unknown hosts in known_hosts",
	}, cobra.ShellCompDirectiveNoFileComp
}

// completeHosts offers the Host names of the ssh_config (-F, else
// ~/.ssh/config) and, for a sweep, the inventory's hosts. It completes the
// last of comma-separated names, and keeps a user@ that was typed.
func completeHosts(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := splitLast(toComplete)
	user := ""
	if at := strings.LastIndexByte(last, '@'); at >= 0 {
		user = last[:at+1]
	}
	names := sshConfigHosts(flagValue(cmd, "ssh-config"))
	if inv := inventoryOf(cmd); inv != nil {
		for _, h := range inv.Hosts {
			names = append(names, h.Name)
		}
	}
	var out []string
	for _, n := range uniqueSorted(names) {
		out = append(out, done+user+n)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeLimit offers the inventory's groups and hosts for --limit, after
// a leading ! or & and after commas.
func completeLimit(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	inv := inventoryOf(cmd)
	if inv == nil {
		return cobra.AppendActiveHelp(nil, "give the inventory first, with -i FILE"), cobra.ShellCompDirectiveNoFileComp
	}
	done, last := splitLast(toComplete)
	if strings.HasPrefix(last, "!") || strings.HasPrefix(last, "&") {
		done += last[:1]
	}
	var names []string
	for g := range inv.Groups {
		names = append(names, g)
	}
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	var out []string
	for _, n := range uniqueSorted(names) {
		out = append(out, done+n)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// splitLast splits "a,b,c" into "a,b," and "c".
func splitLast(s string) (done, last string) {
	i := strings.LastIndexByte(s, ',')
	return s[:i+1], s[i+1:]
}

func flagValue(cmd *cobra.Command, name string) string {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// inventoryOf loads the inventory of -i, if the command has one and it
// loads; completion says nothing rather than an error.
func inventoryOf(cmd *cobra.Command) *remote.Inventory {
	path := flagValue(cmd, "inventory")
	if path == "" {
		return nil
	}
	inv, err := remote.LoadInventory(path)
	if err != nil {
		return nil
	}
	return inv
}

// sshConfigHosts returns the names of an ssh_config's Host lines, leaving
// out patterns (*, ?) and negations (!): they name no host one can type.
// Include is not followed.
func sshConfigHosts(path string) []string {
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		path = filepath.Join(home, ".ssh", "config")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, rest, _ := strings.Cut(line, " ")
		if k2, r2, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(k2, " \t") {
			key, rest = k2, r2
		}
		if t := strings.IndexByte(key, '\t'); t >= 0 {
			key, rest = key[:t], key[t+1:]+" "+rest
		}
		if !strings.EqualFold(key, "Host") {
			continue
		}
		for _, name := range strings.Fields(rest) {
			name = strings.Trim(name, `"`)
			if name == "" || strings.ContainsAny(name, "*?!") {
				continue
			}
			out = append(out, name)
		}
	}
	return out
}

func uniqueSorted(names []string) []string {
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if i == 0 || n != names[i-1] {
			out = append(out, n)
		}
	}
	return out
}
