package syscheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

func init() {
	diag.Register(diag.Kind{
		Name:    "service",
		Summary: "Checks that a service is running (or not), and whether it starts at boot: systemd on Linux, launchd on macOS, the service control manager on Windows.",
		New:     func() diag.Checker { return &Service{Active: true} },
	})
}

// Service checks a systemd unit through `systemctl show`, whose
// Key=Value output is meant for programs, unlike `systemctl status`; a
// launchd job on macOS and a Windows service are judged the same way (see
// service_platforms.go).
type Service struct {
	Name   string `yaml:"name" required:"true" doc:"the service: a systemd unit such as nginx or nginx.service (.service is assumed when no type is given), a launchd label such as com.openssh.sshd, or a Windows service name such as Spooler (not its display name)"`
	Active bool   `yaml:"active" doc:"whether the unit should be running (default true)"`
	// Enabled is a string, not a bool, because it has three values: a
	// bool cannot tell "enabled: false" from not written, and most
	// playbooks do not care whether a running service starts at boot.
	Enabled string `yaml:"enabled" doc:"\"true\" if the unit must start at boot, \"false\" if it must not; not checked when left out"`
}

// unitName is what systemd accepts as a unit name (systemd.unit(5)):
// letters, digits and :-_.\@, with a template instance after @.
// Windows service names may also hold $ (MSSQL$SQLEXPRESS).
var unitName = diag.LazyRegexp(`^[A-Za-z0-9:_.\\@$-]+$`)

func (s *Service) Validate() error {
	var errs []error
	switch {
	case s.Name == "":
		errs = append(errs, diag.FieldErrorf("name", "is empty; give a unit name such as nginx or ssh.service"))
	case strings.HasPrefix(s.Name, "-") || !unitName().MatchString(s.Name) || len(s.Name) > 255:
		errs = append(errs, diag.FieldErrorf("name", "%q is not a service name (letters, digits and :-_.\\@$, not starting with -)", s.Name))
	}
	if s.Enabled != "" {
		if _, err := strconv.ParseBool(s.Enabled); err != nil {
			errs = append(errs, diag.FieldErrorf("enabled", "want true or false, got %q", s.Enabled))
		}
	}
	return errors.Join(errs...)
}

// systemdBooted is the directory whose existence means "PID 1 is systemd"
// (sd_booted(3)); systemctl may be installed where systemd does not run,
// as in most containers.
const systemdBooted = "/run/systemd/system"

// serviceProps are the properties read; Id gives the full unit name
// (nginx -> nginx.service) for messages.
const serviceProps = "Id,LoadState,ActiveState,SubState,UnitFileState"

func (s *Service) Run(ctx context.Context, t diag.Target) diag.Result {
	if f, err := t.Facts(ctx); err == nil {
		switch f.OS {
		case "darwin":
			return s.runLaunchd(ctx, t)
		case "windows":
			return s.runWindows(ctx, t)
		}
	}
	if r, skip := onlyOn(ctx, t, "services", "it knows only systemd, a Linux service manager", "linux"); skip {
		return r.With("name", s.Name)
	}
	if _, err := t.Stat(ctx, systemdBooted); errors.Is(err, fs.ErrNotExist) {
		return notSystemd(s.Name, "the system was not booted with systemd ("+systemdBooted+" is missing)")
	}
	// "--" ends systemctl's options, so no unit name can be read as one.
	res, err := t.Run(ctx, diag.Command{Argv: []string{"systemctl", "show", "--no-pager", "--property=" + serviceProps, "--", s.Name}})
	if err != nil {
		if errors.Is(err, diag.ErrCommandNotFound) {
			return notSystemd(s.Name, "systemctl is not installed")
		}
		return diag.Resultf(diag.Error, "could not run systemctl: %v", err).With("name", s.Name).
			WithHint("systemctl exists but could not be started; check its permissions")
	}
	if res.ExitCode != 0 {
		stderr := strings.TrimSpace(string(res.Stderr))
		if strings.Contains(stderr, "not been booted with systemd") {
			return notSystemd(s.Name, "the system was not booted with systemd")
		}
		return diag.Result{Status: diag.Error, Evidence: evidence(res),
			Message: fmt.Sprintf("systemctl show %s exited %d: %s", s.Name, res.ExitCode, firstLine(stderr))}.
			With("name", s.Name).
			WithHint("systemd did not answer; if it says it cannot connect to the bus, the service manager is not reachable for this user")
	}
	props := parseSystemctlShow(res.Stdout)
	if props["LoadState"] == "" || props["ActiveState"] == "" {
		return diag.Result{Status: diag.Error, Evidence: evidence(res),
			Message: "systemctl show answered without LoadState or ActiveState"}.
			With("name", s.Name).WithHint("this systemd is older or newer than triage understands; please report this with the evidence")
	}
	return s.judge(props, evidence(res))
}

func notSystemd(name, why string) diag.Result {
	return diag.Resultf(diag.Skip, "cannot check %s: %s", name, why).With("name", name).
		WithHint("on systems without systemd (OpenRC, runit, containers), check the process with a process check instead")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// activeStates are the ActiveState values systemctl is-active reports as
// active (exit 0): reloading and refreshing services keep running.
var activeStates = map[string]bool{"active": true, "reloading": true, "refreshing": true}

// enabledStates are the UnitFileState values systemctl is-enabled reports
// as enabled (exit 0), per systemctl(1): static, indirect and generated
// units start when something needs them and cannot be enabled otherwise.
var enabledStates = map[string]bool{
	"enabled": true, "enabled-runtime": true, "alias": true, "static": true,
	"indirect": true, "generated": true, "transient": true,
}

func (s *Service) judge(p map[string]string, ev string) diag.Result {
	unit := p["Id"]
	if unit == "" {
		unit = s.Name
	}
	load, state, sub, file := p["LoadState"], p["ActiveState"], p["SubState"], p["UnitFileState"]
	active, enabled := activeStates[state], enabledStates[file]
	r := diag.Result{Evidence: ev}.
		With("name", s.Name).With("unit", unit).
		With("active", active).With("active_state", state).With("sub_state", sub).
		With("enabled", enabled).With("unit_file_state", file).With("load_state", load)
	wantEnabled, parseErr := strconv.ParseBool(s.Enabled)
	checkEnabled := s.Enabled != "" && parseErr == nil

	switch load {
	case "not-found":
		if !s.Active && !(checkEnabled && wantEnabled) {
			r.Status, r.Message = diag.Pass, fmt.Sprintf("%s is not installed, so it does not run, as expected", unit)
			return r
		}
		r.Status, r.Message = diag.Fail, fmt.Sprintf("%s is not installed: systemd has no such unit", unit)
		r.Hint = fmt.Sprintf("install the package that provides it, or check the name with systemctl list-unit-files '%s*'", strings.TrimSuffix(unit, ".service"))
		return r
	case "masked":
		if s.Active || (checkEnabled && wantEnabled) {
			r.Status, r.Message = diag.Fail, fmt.Sprintf("%s is masked: systemd refuses to start it", unit)
			r.Hint = fmt.Sprintf("if it was masked by mistake: systemctl unmask %s && systemctl enable --now %s", unit, unit)
			return r
		}
	case "loaded":
	default:
		// error, bad-setting, merged: the unit file exists but is broken.
		r.Status, r.Message = diag.Fail, fmt.Sprintf("%s cannot be loaded by systemd (load state %s)", unit, load)
		r.Hint = fmt.Sprintf("systemctl status %s shows what is wrong with its unit file; fix it, then systemctl daemon-reload", unit)
		return r
	}

	stateText := state
	if sub != "" && sub != state {
		stateText += " (" + sub + ")"
	}
	var problems []string
	hint := ""
	if s.Active && !active {
		problems = append(problems, "is "+stateText+", not running")
		hint = fmt.Sprintf("start it with systemctl start %s; see why it stopped with systemctl status %s and journalctl -u %s -e", unit, unit, unit)
	}
	if !s.Active && active {
		problems = append(problems, "is "+stateText+" but should not be running")
		hint = fmt.Sprintf("stop it with systemctl stop %s (and systemctl disable %s so it stays stopped after a reboot)", unit, unit)
	}
	if checkEnabled && wantEnabled != enabled {
		fileText := file
		if fileText == "" {
			fileText = "no unit file state"
		}
		if wantEnabled {
			problems = append(problems, fmt.Sprintf("does not start at boot (%s)", fileText))
			if hint == "" {
				hint = fmt.Sprintf("enable it with systemctl enable %s", unit)
			}
		} else {
			problems = append(problems, fmt.Sprintf("starts at boot (%s) but should not", fileText))
			if hint == "" {
				hint = fmt.Sprintf("disable it with systemctl disable %s", unit)
			}
		}
	}
	if len(problems) > 0 {
		r.Status, r.Message, r.Hint = diag.Fail, unit+" "+strings.Join(problems, " and "), hint
		return r
	}
	r.Status = diag.Pass
	r.Message = fmt.Sprintf("%s is %s", unit, stateText)
	if file != "" {
		r.Message += ", " + file
	}
	return r
}

// parseSystemctlShow reads `systemctl show` output: one Key=Value line per
// property. Values may contain "="; only the first one separates.
func parseSystemctlShow(data []byte) map[string]string {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxTableFile)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := props[k]; !dup {
			props[k] = v
		}
	}
	return props
}
