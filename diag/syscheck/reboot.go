package syscheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "reboot",
		Summary: "Checks whether the system waits for a restart to finish installing updates (Linux, Windows).",
		New:     func() diag.Checker { return &Reboot{} },
	})
}

// Reboot checks for a pending restart: updates installed whose files or
// kernel take effect only once the machine restarts. It warns, since the
// machine works meanwhile; a playbook may lower that to info.
//
// Linux has no single record of it: Debian and Ubuntu write
// /var/run/reboot-required, Red Hat's needs-restarting -r works it out, and
// any distribution has replaced the running kernel when its modules
// folder is gone. Windows keeps it in the registry, which is read on this
// machine only. macOS keeps no record triage can read, so there the check
// is skipped.
type Reboot struct{}

const (
	rebootRequiredPath = "/var/run/reboot-required"
	rebootPkgsPath     = "/var/run/reboot-required.pkgs"
	modulesDir         = "/lib/modules"
)

func (c *Reboot) Run(ctx context.Context, t diag.Target) diag.Result {
	facts, err := t.Facts(ctx)
	if err != nil {
		return diag.Resultf(diag.Error, "cannot learn the platform of %s: %v", t.Name(), err).
			WithHint("the target did not answer basic questions; check that it is reachable")
	}
	switch facts.OS {
	case "linux":
		return c.runLinux(ctx, t, facts)
	case "windows":
		if _, local := t.(*diag.Local); !local {
			return diag.Resultf(diag.Skip, "triage reads whether a Windows machine waits for a restart only on that machine itself").
				WithHint("run triage on that machine for this check")
		}
		reasons, err := windowsRebootPending()
		if err != nil {
			return diag.Resultf(diag.Error, "cannot read the pending restart flags from the registry: %v", err).
				WithHint("the registry would not answer; the message says why")
		}
		return judgeReboot(reasons, "the registry's pending-restart flags")
	case "darwin":
		return diag.Resultf(diag.Skip, "macOS keeps no record of a pending restart that triage can read").
			WithHint("System Settings > General > Software Update says whether an update waits for a restart")
	}
	return diag.Resultf(diag.Skip, "triage cannot tell whether %s waits for a restart", orUnknownOS(facts.OS)).
		WithHint("use the platform's own tools to see whether updates wait for a restart")
}

func orUnknownOS(os string) string {
	if os == "" {
		return "this system"
	}
	return os
}

func (c *Reboot) runLinux(ctx context.Context, t diag.Target, facts diag.Facts) diag.Result {
	var reasons, looked []string
	// Debian and Ubuntu (update-notifier-common, unattended-upgrades).
	switch _, err := t.Stat(ctx, rebootRequiredPath); {
	case err == nil:
		why := "updates asked for a restart (" + rebootRequiredPath + ")"
		if data, _, err := t.ReadFile(ctx, rebootPkgsPath, 64<<10); err == nil {
			if pkgs := strings.Fields(string(data)); len(pkgs) > 0 {
				why = fmt.Sprintf("updates of %s asked for a restart (%s)", listFew(uniq(pkgs), 4), rebootRequiredPath)
			}
		}
		reasons = append(reasons, why)
	case errors.Is(err, fs.ErrNotExist):
		if _, err := t.Stat(ctx, "/var/lib/dpkg/status"); err == nil {
			looked = append(looked, rebootRequiredPath+" is absent")
		}
	}
	// Red Hat, Fedora and derivatives with dnf-utils or yum-utils:
	// exit 1 means a restart is needed.
	if res, err := t.Run(ctx, diag.Command{Argv: []string{"needs-restarting", "-r"}, MaxOutput: 64 << 10}); err == nil {
		switch res.ExitCode {
		case 0:
			looked = append(looked, "needs-restarting -r says none is needed")
		case 1:
			reasons = append(reasons, "updated core packages need a restart (needs-restarting -r)")
		}
	}
	// Any distribution: a kernel update that replaced the running kernel
	// removed its modules.
	if facts.Kernel != "" {
		if _, err := t.Stat(ctx, modulesDir); err == nil {
			switch _, err := t.Stat(ctx, modulesDir+"/"+facts.Kernel); {
			case err == nil:
				looked = append(looked, "the running kernel is still installed")
			case errors.Is(err, fs.ErrNotExist):
				reasons = append(reasons, fmt.Sprintf("the running kernel %s has been replaced by an update (%s/%s is gone)", facts.Kernel, modulesDir, facts.Kernel))
			}
		}
	}
	if len(reasons) == 0 && len(looked) == 0 {
		return diag.Resultf(diag.Skip, "this system keeps no record of a pending restart that triage knows").
			WithHint("use the distribution's own tools to see whether updates wait for a restart")
	}
	return judgeReboot(reasons, strings.Join(looked, "; "))
}

func judgeReboot(reasons []string, looked string) diag.Result {
	r := diag.Result{}.With("pending", len(reasons) > 0)
	if len(reasons) == 0 {
		r.Status, r.Message = diag.Pass, "no restart is pending"
		if looked != "" {
			r.Message += " (" + looked + ")"
		}
		return r.With("reasons", []string{})
	}
	r = r.With("reasons", reasons)
	r.Status = diag.Warn
	r.Message = "a restart is pending: " + strings.Join(reasons, "; ")
	r.Hint = "updates are installed but not yet in effect: save your work and restart the computer"
	return r
}

// windowsRebootReasons says why Windows waits for a restart, from the
// registry: the Component Based Servicing RebootPending key, Windows
// Update's RebootRequired key, and the Session Manager's
// PendingFileRenameOperations value, a list of (source, destination)
// pairs of files to move or, with an empty destination, delete.
func windowsRebootReasons(servicing, windowsUpdate bool, renames []string) []string {
	var reasons []string
	if windowsUpdate {
		reasons = append(reasons, "Windows Update installed updates that need a restart")
	}
	if servicing {
		reasons = append(reasons, "Windows components were updated and need a restart")
	}
	files := 0
	for i := 0; i < len(renames); i += 2 {
		if strings.TrimSpace(renames[i]) != "" {
			files++
		}
	}
	if files > 0 {
		reasons = append(reasons, fmt.Sprintf("%d %s to be replaced at the next restart", files, pluralize(files, "file is", "files are")))
	}
	return reasons
}

func uniq(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func listFew(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:n], ", "), len(list)-n)
}
