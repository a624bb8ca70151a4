package syscheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/triage-dev/triage/diag"
)

// serviceState is a service as launchd or the Windows service control
// manager describes it, in the terms the service check judges.
type serviceState struct {
	name        string // as the system calls it: system/com.openssh.sshd, Spooler
	exists      bool
	active      bool
	stateText   string // the system's own word: running, not running, stopped...
	enabled     bool
	enabledText string // "" when the system does not say
}

// serviceHints are the commands a platform's hints suggest.
type serviceHints struct {
	start, stop, enable, disable, find string
}

// judgeState judges a launchd or Windows service against the check.
func (s *Service) judgeState(st serviceState, ev string, h serviceHints) diag.Result {
	r := diag.Result{Evidence: ev}.With("name", s.Name).With("unit", st.name).
		With("active", st.active).With("active_state", st.stateText)
	if st.enabledText != "" {
		r = r.With("enabled", st.enabled).With("unit_file_state", st.enabledText)
	}
	wantEnabled, parseErr := strconv.ParseBool(s.Enabled)
	checkEnabled := s.Enabled != "" && parseErr == nil
	if !st.exists {
		if !s.Active && !(checkEnabled && wantEnabled) {
			r.Status, r.Message = diag.Pass, fmt.Sprintf("%s is not installed, so it does not run, as expected", s.Name)
			return r
		}
		r.Status, r.Message = diag.Fail, fmt.Sprintf("%s is not installed: there is no such service", s.Name)
		r.Hint = "install the program that provides it, or check the name: " + h.find
		return r
	}
	var problems []string
	hint := ""
	if s.Active && !st.active {
		if st.stateText == "not running" {
			problems = append(problems, "is not running")
		} else {
			problems = append(problems, "is "+st.stateText+", not running")
		}
		hint = h.start
	}
	if !s.Active && st.active {
		problems = append(problems, "is running but should not be")
		hint = h.stop
	}
	if checkEnabled && st.enabledText != "" && wantEnabled != st.enabled {
		if wantEnabled {
			problems = append(problems, fmt.Sprintf("does not start by itself (%s)", st.enabledText))
			if hint == "" {
				hint = h.enable
			}
		} else {
			problems = append(problems, fmt.Sprintf("starts by itself (%s) but should not", st.enabledText))
			if hint == "" {
				hint = h.disable
			}
		}
	}
	if len(problems) > 0 {
		r.Status, r.Message, r.Hint = diag.Fail, st.name+" "+strings.Join(problems, " and "), hint
		return r
	}
	r.Status = diag.Pass
	r.Message = fmt.Sprintf("%s is %s", st.name, st.stateText)
	if st.enabledText != "" {
		r.Message += ", " + st.enabledText
	}
	return r
}

// runLaunchd checks a launchd job on macOS: a system daemon, or else an
// agent of the user triage runs as. launchctl print shows any job to any
// user; launchctl list shows only the caller's own.
func (s *Service) runLaunchd(ctx context.Context, t diag.Target) diag.Result {
	domains := []string{"system"}
	if res, err := t.Run(ctx, diag.Command{Argv: []string{"id", "-u"}, MaxOutput: 64}); err == nil && res.ExitCode == 0 {
		if uid := strings.TrimSpace(string(res.Stdout)); uid != "" {
			domains = append(domains, "gui/"+uid)
		}
	}
	h := serviceHints{
		find: "launchctl list | grep -i " + s.Name + " shows the jobs whose names are close",
	}
	var ev []string
	for _, domain := range domains {
		target := domain + "/" + s.Name
		res, err := t.Run(ctx, diag.Command{Argv: []string{"launchctl", "print", target}, MaxOutput: 1 << 20})
		if err != nil {
			return diag.Resultf(diag.Error, "could not run launchctl: %v", err).With("name", s.Name).
				WithHint("launchctl is part of macOS; check that the target is a Mac and that PATH includes /bin")
		}
		ev = append(ev, "$ launchctl print "+target+"\n"+evidence(res))
		if res.ExitCode != 0 {
			if launchdNotFound(res) {
				continue
			}
			return diag.Result{Status: diag.Error, Evidence: strings.Join(ev, "\n"),
				Message: fmt.Sprintf("launchctl print %s exited %d: %s", target, res.ExitCode, firstLine(strings.TrimSpace(string(res.Stderr)+string(res.Stdout))))}.
				With("name", s.Name).WithHint("launchd did not answer; the evidence has its message")
		}
		st := parseLaunchctlPrint(res.Stdout)
		st.name = target
		if dis, err := t.Run(ctx, diag.Command{Argv: []string{"launchctl", "print-disabled", domain}, MaxOutput: 1 << 20}); err == nil && dis.ExitCode == 0 {
			disabled, listed := parseLaunchctlDisabled(dis.Stdout)[s.Name]
			st.enabled = !(listed && disabled)
			st.enabledText = "enabled"
			if !st.enabled {
				st.enabledText = "disabled"
			}
		}
		sudo := ""
		if domain == "system" {
			sudo = "sudo "
		}
		h.start = fmt.Sprintf("start it with %slaunchctl kickstart %s; its log is in Console.app", sudo, target)
		h.stop = fmt.Sprintf("stop it with %slaunchctl bootout %s", sudo, target)
		h.enable = fmt.Sprintf("enable it with %slaunchctl enable %s", sudo, target)
		h.disable = fmt.Sprintf("disable it with %slaunchctl disable %s", sudo, target)
		return s.judgeState(st, strings.Join(ev, "\n"), h)
	}
	return s.judgeState(serviceState{name: s.Name}, strings.Join(ev, "\n"), h)
}

// launchdNotFound recognises launchctl's answer for a job that does not
// exist in a domain: exit 113, "Could not find service".
func launchdNotFound(res diag.CommandResult) bool {
	out := string(res.Stdout) + string(res.Stderr)
	return res.ExitCode == 113 || strings.Contains(out, "Could not find service")
}

// parseLaunchctlPrint reads the top level of `launchctl print DOMAIN/LABEL`:
// "state = running", "pid = 412". Nested blocks (arguments, endpoints...)
// are skipped.
func parseLaunchctlPrint(data []byte) serviceState {
	st := serviceState{exists: true}
	props := map[string]string{}
	depth := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		opens := strings.HasSuffix(line, "{")
		if line == "}" {
			depth--
			continue
		}
		if depth == 1 {
			if k, v, ok := strings.Cut(line, " = "); ok && !opens {
				props[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		if opens {
			depth++
		}
	}
	st.stateText = props["state"]
	if st.stateText == "" {
		st.stateText = "in an unknown state"
	}
	st.active = props["state"] == "running"
	return st
}

// parseLaunchctlDisabled reads `launchctl print-disabled DOMAIN`: lines
// such as `"com.openssh.sshd" => disabled` (or, before macOS 13 Ventura,
// `=> true` for disabled and `=> false` for enabled: Monterey still
// printed true, usnistgov/macos_security#167), keyed by label.
func parseLaunchctlDisabled(data []byte) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=>")
		if !ok {
			continue
		}
		label := strings.Trim(strings.TrimSpace(k), `"`)
		switch strings.TrimSpace(v) {
		case "disabled", "true":
			out[label] = true
		case "enabled", "false":
			out[label] = false
		}
	}
	return out
}

// winService is a service as the Windows service control manager
// describes it: SERVICE_STATUS.dwCurrentState and the configured start
// type, as plain numbers.
type winService struct {
	exists      bool
	state       uint32
	startType   uint32
	delayed     bool
	displayName string
}

// Windows service states (SERVICE_STATUS.dwCurrentState) and start types
// (QUERY_SERVICE_CONFIG.dwStartType).
var (
	winStates = map[uint32]string{
		1: "stopped", 2: "starting", 3: "stopping", 4: "running",
		5: "resuming", 6: "pausing", 7: "paused",
	}
	winStartTypes = map[uint32]string{
		0: "started by the boot loader", 1: "started with the kernel", 2: "automatic",
		3: "manual", 4: "disabled",
	}
)

// stateOfWindowsService puts a Windows service in the check's terms: it is
// active while running (or about to be), and enabled when it starts by
// itself at boot.
func stateOfWindowsService(name string, ws winService) serviceState {
	if !ws.exists {
		return serviceState{name: name}
	}
	st := serviceState{name: name, exists: true}
	st.stateText = winStates[ws.state]
	if st.stateText == "" {
		st.stateText = fmt.Sprintf("in state %d", ws.state)
	}
	st.active = ws.state == 4 || ws.state == 2 || ws.state == 5
	st.enabledText = winStartTypes[ws.startType]
	if st.enabledText == "" {
		st.enabledText = fmt.Sprintf("start type %d", ws.startType)
	}
	if ws.startType == 2 && ws.delayed {
		st.enabledText = "automatic (delayed start)"
	}
	st.enabled = ws.startType <= 2
	if ws.displayName != "" && ws.displayName != name {
		st.name = fmt.Sprintf("%s (%s)", name, ws.displayName)
	}
	return st
}

// runWindows checks a service through this machine's service control
// manager, asking only for what a user without administrator rights may
// read.
func (s *Service) runWindows(ctx context.Context, t diag.Target) diag.Result {
	if _, local := t.(*diag.Local); !local {
		return diag.Resultf(diag.Skip, "triage reads the services of a Windows machine only on that machine itself").With("name", s.Name).
			WithHint("run triage on that machine for this check")
	}
	ws, err := queryWindowsService(s.Name)
	if err != nil {
		r := diag.Resultf(diag.Error, "cannot ask the service control manager about %s: %v", s.Name, err).With("name", s.Name)
		if errors.Is(err, diag.ErrUnsupported) {
			return r.WithHint("the service control manager exists only on Windows")
		}
		return r.WithHint("Windows would not describe the service; the message says why")
	}
	st := stateOfWindowsService(s.Name, ws)
	h := serviceHints{
		start:   fmt.Sprintf("start it in Services (services.msc), or with sc start %s in a command prompt run as administrator", s.Name),
		stop:    fmt.Sprintf("stop it in Services (services.msc), or with sc stop %s as administrator", s.Name),
		enable:  fmt.Sprintf("set its startup type to Automatic in Services (services.msc), or run sc config %s start= auto as administrator", s.Name),
		disable: fmt.Sprintf("set its startup type to Disabled in Services (services.msc), or run sc config %s start= disabled as administrator", s.Name),
		find:    "sc query state= all lists the service names (the name, not the display name, is what the check takes)",
	}
	return s.judgeState(st, "", h)
}
